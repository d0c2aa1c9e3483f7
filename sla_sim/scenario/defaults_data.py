"""Empirical defaults for the funnel model, derived from the public datasets in :mod:`sla_sim.data`.

Every function reads the shipped CSV files (via :func:`importlib.resources.files`) when called,
never at import time (pandas and numpy are imported lazily), and returns plain Python numbers.
Each docstring says how its number is derived; data provenance, licences and quirks are in
``sla_sim/data/*/SOURCE.md``.
"""

from __future__ import annotations

import math
from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ae_commission_share",
    "ae_loaded_cost_per_month",
    "loaded_cost_per_month",
    "olist_2018_conversion",
    "olist_daily_volume_cv",
    "olist_month_weights",
    "olist_weekday_weights",
    "sdr_loaded_cost_per_month",
    "uci_attempt_decay_per_attempt",
    "uci_attempt_multipliers",
]

_MQL_FILE = ("olist", "olist_marketing_qualified_leads_dataset.csv")
_DEALS_FILE = ("olist", "olist_closed_deals_dataset.csv")
_BANK_FILE = ("uci_bank", "bank-additional.csv")

#: Window of complete Olist MQL data: the 11 whole calendar months Jul 2017 - May 2018. The file
#: starts on 2017-06-14 and June 2017 is a ramp-up (4 MQLs, 14 of its 17 days empty), so it is left
#: out wherever whole days or weeks are compared; 2017-12-10 has no MQL and counts as a zero day.
COMPLETE_START = "2017-07-01"
COMPLETE_END = "2018-05-31"


def _read_csv(folder: str, name: str, **kwargs: Any) -> pd.DataFrame:
    """Read one shipped CSV file of ``sla_sim.data``."""
    import pandas as pd

    with (files("sla_sim.data") / folder / name).open("rb") as fh:
        return pd.read_csv(fh, **kwargs)


def _daily_mql_counts() -> pd.Series:
    """MQLs per calendar day from the first to the last ``first_contact_date``, zero-filled."""
    import pandas as pd

    dates = pd.to_datetime(_read_csv(*_MQL_FILE)["first_contact_date"], format="%Y-%m-%d")
    days = pd.date_range(dates.min(), dates.max(), freq="D")
    return dates.value_counts().reindex(days, fill_value=0).sort_index()


def _month_daily_rates(counts: pd.Series) -> pd.Series:
    """Mean MQLs per covered day of each calendar month 1..12 (June 2017 covers 17 days)."""
    rates = counts.groupby(counts.index.month).mean()
    if list(rates.index) != list(range(1, 13)):
        raise ValueError(f"expected all 12 calendar months, got {list(rates.index)}")
    return rates


def olist_weekday_weights() -> list[float]:
    """Relative MQL volume by weekday, Monday..Sunday, normalised to average exactly 1.0.

    Derivation: count Olist MQLs by ``first_contact_date`` per calendar day over the complete
    window ``COMPLETE_START``..``COMPLETE_END`` (days without MQLs count as 0), take the mean
    count of each weekday (total MQLs on that weekday / number of such dates in the window), and
    divide the 7 means by their average.
    """
    counts = _daily_mql_counts().loc[COMPLETE_START:COMPLETE_END]
    per_day = counts.groupby(counts.index.day_of_week).mean().reindex(range(7))
    return [float(x) for x in per_day / per_day.mean()]


def olist_month_weights() -> list[float]:
    """Relative MQL volume by calendar month, January..December, normalised to average 1.0.

    Derivation: for each calendar month, the mean number of MQLs per covered day (MQLs with
    ``first_contact_date`` in that month / calendar days of that month covered by the sample);
    the 12 rates are divided by their average. The sample covers 2017-06-14..2018-05-31, so each
    month is seen exactly once: Jul-Dec are 2017, Jan-May are 2018, and June is 2017-06-14..30
    (17 covered days, so its rate is its count / 17, i.e. rescaled by its covered days).

    Caveat: with a single year these weights mix seasonality with the growth of the Olist
    programme (2018 months run at about 3x the 2017 level, December 2017 has a three-week slump)
    and June 2017 is the start-up of the data (4 MQLs), so its weight is near 0. They describe
    this sample's month-to-month level, not a seasonality estimated over several years.
    """
    rates = _month_daily_rates(_daily_mql_counts())
    return [float(x) for x in rates / rates.mean()]


def olist_daily_volume_cv(start: str = COMPLETE_START, end: str = COMPLETE_END) -> float:
    """Extra-Poisson coefficient of variation of the daily MQL rate (gamma-Poisson mixing).

    Model: the count on day d is Poisson with mean m_d * G, G a gamma multiplier of mean 1 and
    coefficient of variation cv, so Var(N_d) = m_d + cv^2 * m_d^2. The expected count is
    m_d = base * month_weight * weekday_weight, with base the average of the 12 monthly daily
    rates (the normaliser of :func:`olist_month_weights`, so base * month_weight is exactly
    that month's observed MQLs per day) and the weights of :func:`olist_weekday_weights` and
    :func:`olist_month_weights`. Method of moments: cv^2 = mean over days of
    ((n_d - m_d)^2 - m_d) / m_d^2; cv = sqrt(cv^2), clipped to 0.0 only if cv^2 < 0.

    Days used: every calendar day from ``start`` to ``end`` inclusive, by default the complete
    window 2017-07-01..2018-05-31 (334 days; the partial, near-empty June 2017 is left out, and
    the one day without MQLs, 2017-12-10, counts as n = 0); a window is clipped to the data span.
    Within-month level shifts (early July 2017 ramp-up, December 2017 slump) count as dispersion.
    """
    import numpy as np

    counts = _daily_mql_counts()
    window = counts.loc[start:end]
    if window.empty:
        raise ValueError(f"no data in the window {start}..{end}")
    rates = _month_daily_rates(counts)
    month_w = (rates / rates.mean()).reindex(window.index.month).to_numpy()
    weekday_w = np.asarray(olist_weekday_weights())[window.index.day_of_week]
    n = window.to_numpy(dtype=float)
    m = rates.mean() * month_w * weekday_w
    cv2 = float(np.mean(((n - m) ** 2 - m) / m**2))
    return math.sqrt(max(cv2, 0.0))


def _bank_success_by_campaign(max_attempts: int) -> pd.DataFrame:
    """Rows, successes and success rate of the UCI sample for ``campaign`` = 1..max_attempts."""
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
    bank = _read_csv(*_BANK_FILE, sep=";", usecols=["campaign", "y"])
    table = bank.assign(yes=bank["y"].eq("yes")).groupby("campaign")["yes"].agg(["size", "sum"])
    table = table.reindex(range(1, max_attempts + 1))
    if table["size"].isna().any() or (table["sum"] == 0).any():
        raise ValueError(f"the UCI sample has no rows or no successes for some k <= {max_attempts}")
    return table.assign(rate=table["sum"] / table["size"])


def uci_attempt_multipliers(max_attempts: int = 6) -> list[float]:
    """Success rate by number of contacts ``campaign`` = 1..max_attempts, relative to 1 contact.

    Derivation (UCI Bank Marketing 10% sample, ``bank-additional.csv``, separator ';'):
    multiplier_k = P(y == "yes" | campaign == k) / P(y == "yes" | campaign == 1), so the first
    is exactly 1.0. ``campaign`` counts every contact of this campaign including the last, so
    this is the success rate of prospects who received exactly k calls (not a per-attempt
    hazard). Raises ``ValueError`` if some k has no rows or no successes.
    """
    rate = _bank_success_by_campaign(max_attempts)["rate"]
    return [float(x) for x in rate / rate.iloc[0]]


def uci_attempt_decay_per_attempt() -> float:
    """Geometric decay factor r with multiplier_k ~ r**(k - 1), fitted for k = 1..5.

    Derivation: weighted least squares through the origin of log(multiplier_k) on (k - 1),
    weights = number of rows with ``campaign == k``, multipliers as in
    :func:`uci_attempt_multipliers`: log r = sum w_k (k-1) log m_k / sum w_k (k-1)^2.
    """
    table = _bank_success_by_campaign(5)
    x = [float(k - 1) for k in table.index]
    y = [math.log(r / table["rate"].iloc[0]) for r in table["rate"]]
    w = [float(s) for s in table["size"]]
    num = sum(wi * xi * yi for wi, xi, yi in zip(w, x, y, strict=True))
    den = sum(wi * xi * xi for wi, xi in zip(w, x, strict=True))
    return math.exp(num / den)


def olist_2018_conversion() -> dict[str, Any]:
    """MQL-to-won conversion and time to win of the Jan-Apr 2018 Olist MQL cohorts.

    Derivation: MQLs whose ``first_contact_date`` falls in 2018-01-01..2018-04-30; an MQL is won
    if its ``mql_id`` appears in the closed-deals file (which has won deals only, one row per
    MQL). ``conversion_rate`` = won / MQLs; ``median_days_to_win`` = median over won MQLs of
    (``won_date`` - ``first_contact_date`` at 00:00) in fractional days (one March deal is won
    1.2 days *before* first contact and is kept). 2017 cohorts are excluded because deals are
    only recorded from Dec 2017 (left-truncated), May 2018 because wins are recorded only until
    Nov 2018 (right-censored).

    Returns a dict with ``cohort_months`` (list of "YYYY-MM"), ``mqls``, ``won`` (ints),
    ``conversion_rate``, ``median_days_to_win`` (floats) and ``monthly_conversion_rate`` (list of
    floats, one per cohort month).
    """
    import pandas as pd

    mql = _read_csv(*_MQL_FILE, usecols=["mql_id", "first_contact_date"])
    deals = _read_csv(*_DEALS_FILE, usecols=["mql_id", "won_date"])
    mql["first"] = pd.to_datetime(mql["first_contact_date"], format="%Y-%m-%d")
    cohort = mql[(mql["first"] >= "2018-01-01") & (mql["first"] < "2018-05-01")].copy()
    cohort["month"] = cohort["first"].dt.strftime("%Y-%m")
    cohort["won"] = cohort["mql_id"].isin(deals["mql_id"])
    won = cohort[cohort["won"]].merge(deals, on="mql_id", how="inner", validate="one_to_one")
    won_at = pd.to_datetime(won["won_date"], format="%Y-%m-%d %H:%M:%S")
    days = (won_at - won["first"]) / pd.Timedelta(days=1)
    monthly = cohort.groupby("month")["won"].mean()
    return {
        "cohort_months": [str(x) for x in monthly.index],
        "mqls": len(cohort),
        "won": int(cohort["won"].sum()),
        "conversion_rate": float(cohort["won"].mean()),
        "median_days_to_win": float(days.median()),
        "monthly_conversion_rate": [float(x) for x in monthly],
    }


# ---------------------------------------------------------------------------------- cost benchmarks
# Published benchmarks behind the default costs of ``Scenario.costs`` (all money in USD a year
# unless the name says otherwise). No dataset is shipped for these: each figure is taken from the
# publication named beside it, recalled as published (this build had no network to re-check the
# current edition), or marked as an assumption where no citable figure exists.

#: SDR on-target earnings (base + variable), USD a year. The Bridge Group, "SDR Metrics &
#: Compensation Report" (2021): average OTE about USD 76k at a ~65/35 base/variable mix.
SDR_OTE_USD_PER_YEAR = 76_000.0
#: AE on-target earnings, USD a year, and its variable share. The Bridge Group, "SaaS AE Metrics &
#: Compensation Report" (2020): average OTE about USD 150k at a ~50/50 base/variable mix, with
#: quota about 5x OTE (so variable pay is about 10% of the quota booked).
AE_OTE_USD_PER_YEAR = 150_000.0
AE_VARIABLE_SHARE_OF_OTE = 0.5
AE_QUOTA_TO_OTE = 5.0
#: Wages and salaries as a share of total employer compensation cost, US private industry. U.S.
#: Bureau of Labor Statistics, "Employer Costs for Employee Compensation" (December 2023): 70.4%;
#: benefits (insurance, retirement, legally required) are the other 29.6%.
BLS_WAGE_SHARE_OF_COMPENSATION = 0.704
#: Software seats per rep (CRM, sales-engagement, data), USD a month. Assumption: list prices of
#: common sales-tool seats add up to a few hundred dollars a month; no survey cited.
TOOLS_USD_PER_REP_MONTH = 250.0
#: Average cost per hire, USD. SHRM, "Human Capital Benchmarking Report" (2022): about USD 4,700.
SHRM_COST_PER_HIRE_USD = 4_700.0
#: Onboarding and training cost per hire beyond the salary paid while ramping (trainer and manager
#: time, enablement programme), USD. Assumption: no survey cited.
RAMP_COST_PER_HIRE_USD = 3_000.0
#: Cost per lead by kind of channel, USD, with its source ("assumption" where none is cited).
CHANNEL_COST_PER_LEAD_USD: dict[str, tuple[float, str]] = {
    "inbound": (135.0, "HubSpot, State of Inbound Marketing (2012): average inbound lead about"
                " USD 135 (outbound about USD 346)"),
    "paid": (116.0, "WordStream, Google Ads industry benchmarks (2019): B2B average cost per"
             " action USD 116"),
    "events": (400.0, "assumption: trade-show leads are commonly quoted at several hundred"
               " dollars each; no single survey cited"),
    "outbound": (25.0, "assumption: contact data and sequencing per prospect; the SDRs' own"
                 " time is counted in their loaded cost, not here"),
    "partner": (150.0, "assumption: referral and co-marketing cost per partner lead"),
}
#: Cost per lead of a channel whose name is none of the above: the inbound figure (assumption).
OTHER_CHANNEL_COST_PER_LEAD_USD = 135.0


def loaded_cost_per_month(pay_per_year: float) -> float:
    """Loaded monthly cost of a rep paid ``pay_per_year`` (USD): pay grossed up by the BLS
    wage share (benefits and employer taxes), per month, plus the tools assumption.

    >>> round(loaded_cost_per_month(SDR_OTE_USD_PER_YEAR))
    9246
    """
    return pay_per_year / BLS_WAGE_SHARE_OF_COMPENSATION / 12.0 + TOOLS_USD_PER_REP_MONTH


def sdr_loaded_cost_per_month() -> float:
    """Default loaded cost of an SDR, USD a month: OTE grossed up, plus tools (about 9,250)."""
    return round(loaded_cost_per_month(SDR_OTE_USD_PER_YEAR), -1)


def ae_loaded_cost_per_month() -> float:
    """Default loaded cost of an AE without commission, USD a month: the base part of OTE
    grossed up, plus tools (about 9,130); commission is counted apart from booked revenue."""
    base = AE_OTE_USD_PER_YEAR * (1.0 - AE_VARIABLE_SHARE_OF_OTE)
    return round(loaded_cost_per_month(base), -1)


def ae_commission_share() -> float:
    """Default commission as a share of booked revenue: variable pay / quota (0.10)."""
    return AE_VARIABLE_SHARE_OF_OTE / AE_QUOTA_TO_OTE
