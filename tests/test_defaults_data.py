"""Tests of sla_sim.scenario.defaults_data: shapes and invariants, plus a second, independent
derivation."""

from __future__ import annotations

import calendar
import math
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sla_sim.scenario import defaults_data as dd

DATA = Path(__file__).resolve().parents[1] / "sla_sim" / "data"
MQL = DATA / "olist" / "olist_marketing_qualified_leads_dataset.csv"
DEALS = DATA / "olist" / "olist_closed_deals_dataset.csv"
BANK = DATA / "uci_bank" / "bank-additional.csv"


def _finite(values: list[float]) -> bool:
    return all(isinstance(v, float) and math.isfinite(v) for v in values)


def _weekday_weights_by_hand() -> np.ndarray:
    """Mean MQLs per date of each weekday over Jul 2017..May 2018, normalised to mean 1."""
    dates = pd.to_datetime(pd.read_csv(MQL)["first_contact_date"])
    inside = dates[(dates >= "2017-07-01") & (dates <= "2018-05-31")]
    totals = inside.dt.day_name().value_counts()
    n_dates = pd.date_range("2017-07-01", "2018-05-31").day_name().value_counts()
    names = list(calendar.day_name)  # Monday..Sunday
    per_date = np.array([totals.get(d, 0) / n_dates[d] for d in names])
    return per_date / per_date.mean()


def _month_rates_by_hand() -> np.ndarray:
    """MQLs per covered day of each month Jan..Dec (June 2017 covers the 14th to the 30th)."""
    months = pd.to_datetime(pd.read_csv(MQL)["first_contact_date"]).dt.month.value_counts()
    year = {m: 2018 if m <= 5 else 2017 for m in range(1, 13)}
    days = {m: calendar.monthrange(year[m], m)[1] for m in range(1, 13)}
    days[6] = 30 - 14 + 1
    return np.array([months[m] / days[m] for m in range(1, 13)])


def test_weekday_weights_shape_and_mean() -> None:
    """Seven finite positive weekday weights averaging 1 within 1e-9."""
    w = dd.olist_weekday_weights()
    assert len(w) == 7
    assert _finite(w)
    assert min(w) > 0
    assert abs(sum(w) / 7 - 1.0) < 1e-9


def test_weekday_weights_second_implementation() -> None:
    """Weekday weights match a day-name-based recount of the MQL file."""
    assert dd.olist_weekday_weights() == pytest.approx(_weekday_weights_by_hand(), rel=1e-12)


def test_month_weights_shape_and_mean() -> None:
    """Twelve finite non-negative month weights averaging 1 within 1e-9."""
    w = dd.olist_month_weights()
    assert len(w) == 12
    assert _finite(w)
    assert min(w) >= 0
    assert abs(sum(w) / 12 - 1.0) < 1e-9


def test_month_weights_second_implementation() -> None:
    """Month weights match per-day monthly counts computed from calendar month lengths."""
    rates = _month_rates_by_hand()
    assert dd.olist_month_weights() == pytest.approx(rates / rates.mean(), rel=1e-12)


def test_daily_volume_cv_positive_finite() -> None:
    """The extra-Poisson CV of daily MQL volume is a finite positive float."""
    cv = dd.olist_daily_volume_cv()
    assert isinstance(cv, float)
    assert math.isfinite(cv)
    assert cv > 0


def test_daily_volume_cv_second_implementation() -> None:
    """The CV matches a loop over the days of the complete window using hand-made weights."""
    dates = pd.to_datetime(pd.read_csv(MQL)["first_contact_date"])
    per_day = dates.groupby(dates).size()
    rates = _month_rates_by_hand()
    weekday = _weekday_weights_by_hand()
    terms = []
    for day in pd.date_range("2017-07-01", "2018-05-31"):
        n = float(per_day.get(day, 0))
        m = rates[day.month - 1] * weekday[day.weekday()]
        terms.append(((n - m) ** 2 - m) / m**2)
    expected = math.sqrt(max(statistics.fmean(terms), 0.0))
    assert dd.olist_daily_volume_cv() == pytest.approx(expected, rel=1e-10)


def test_attempt_multipliers_shape() -> None:
    """Six finite positive multipliers by default, the first exactly 1; the length follows k."""
    mult = dd.uci_attempt_multipliers()
    assert len(mult) == 6
    assert _finite(mult)
    assert min(mult) > 0
    assert mult[0] == 1.0
    assert len(dd.uci_attempt_multipliers(3)) == 3


def test_attempt_multipliers_second_implementation() -> None:
    """Multipliers match a crosstab of subscription share by number of contacts."""
    bank = pd.read_csv(BANK, sep=";")
    share = pd.crosstab(bank["campaign"], bank["y"], normalize="index")["yes"]
    expected = (share / share.loc[1]).loc[1:6].to_numpy()
    assert dd.uci_attempt_multipliers(6) == pytest.approx(expected, rel=1e-12)


def test_attempt_decay_in_unit_interval() -> None:
    """The fitted geometric decay per attempt is a float strictly between 0 and 1."""
    r = dd.uci_attempt_decay_per_attempt()
    assert isinstance(r, float)
    assert 0 < r < 1


def test_attempt_decay_second_implementation() -> None:
    """The decay matches a sqrt-weighted numpy lstsq fit through the origin for k = 1..5."""
    bank = pd.read_csv(BANK, sep=";")
    bank = bank[bank["campaign"] <= 5]
    rate = (bank["y"] == "yes").groupby(bank["campaign"]).mean()
    rows = bank["campaign"].value_counts().sort_index()
    k = rate.index.to_numpy()
    sw = np.sqrt(rows.loc[k].to_numpy(dtype=float))
    a = (sw * (k - 1))[:, None]
    b = sw * np.log(rate.to_numpy() / rate.loc[1])
    (log_r,), *_ = np.linalg.lstsq(a, b, rcond=None)
    assert dd.uci_attempt_decay_per_attempt() == pytest.approx(math.exp(log_r), rel=1e-10)


def test_2018_conversion_shape() -> None:
    """The 2018 conversion summary has four cohorts and finite rates and days in range."""
    out = dd.olist_2018_conversion()
    assert out["cohort_months"] == ["2018-01", "2018-02", "2018-03", "2018-04"]
    assert 0 < out["won"] < out["mqls"]
    rates = [out["conversion_rate"], *out["monthly_conversion_rate"]]
    assert _finite(rates)
    assert all(0 < x < 1 for x in rates)
    assert len(rates) == 5
    assert isinstance(out["median_days_to_win"], float)
    assert out["median_days_to_win"] > 0


def test_2018_conversion_second_implementation() -> None:
    """Conversion and median days match a set-and-dict recount with the statistics module."""
    mql = pd.read_csv(MQL)
    deals = pd.read_csv(DEALS)
    first = dict(zip(mql["mql_id"], mql["first_contact_date"], strict=True))
    cohort = {i for i, d in first.items() if "2018-01-01" <= d <= "2018-04-30"}
    won_date = dict(zip(deals["mql_id"], deals["won_date"], strict=True))
    won = cohort & won_date.keys()
    days = [
        (pd.Timestamp(won_date[i]) - pd.Timestamp(first[i])).total_seconds() / 86400 for i in won
    ]
    out = dd.olist_2018_conversion()
    assert out["mqls"] == len(cohort)
    assert out["won"] == len(won)
    assert out["conversion_rate"] == pytest.approx(len(won) / len(cohort), rel=1e-12)
    assert out["median_days_to_win"] == pytest.approx(statistics.median(days), rel=1e-12)
