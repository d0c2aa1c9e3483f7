"""The naive forecast a backtest must beat, made from what was known before the origin.

- MQLs and wins per month: the mean of the three months before the origin (MQLs by MQL date,
  wins by close date; every month in the export's time zone).
- The share of a cohort's MQLs won within ``d`` days: the empirical share of the four monthly
  cohorts before the origin, counting only the MQLs with at least ``d`` days of follow-up
  before the origin (their wins before the origin are all that could be seen).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sla_sim.crm.load import CrmExport

__all__ = ["NAIVE_COHORTS", "NAIVE_MONTHS", "monthly_counts", "naive_forecast",
           "weekly_counts"]

NAIVE_MONTHS = 3  # months averaged for MQLs and wins
NAIVE_COHORTS = 4  # monthly cohorts of the won-within curve


def _local(s: pd.Series, tz: str) -> pd.Series:
    return s.dt.tz_convert(tz).dt.tz_localize(None)


def _won(export: CrmExport) -> np.ndarray:
    L = export.leads
    if "stage" not in L.columns or "closed_at" not in L.columns:
        return np.zeros(len(L), bool)
    return ((L["stage"].to_numpy(dtype=object) == "won") & L["closed_at"].notna().to_numpy())


def monthly_counts(export: CrmExport, what: str, before: pd.Timestamp) -> pd.Series:
    """Count per local month (``YYYY-MM``) of rows (``what="created"``, by creation), MQLs
    (``"mqls"``, by MQL date, else creation) or wins (``"wins"``, by close date), for the
    complete months before ``before`` (a naive local midnight); months with none are 0."""
    L, tz = export.leads, export.mapping.timezone
    if what in ("mqls", "created"):
        col = "mql_at" if what == "mqls" and "mql_at" in L.columns else "created_at"
        t = _local(L[col], tz)
        t = t[t.notna()]
    elif what == "wins":
        t = _local(L["closed_at"], tz)[_won(export)] if _won(export).any() else pd.Series(
            [], dtype="datetime64[ns]")
    else:
        raise ValueError(what)
    first = _local(L["created_at"], tz).min()
    months = pd.period_range(first.to_period("M") + (0 if first.day == 1 else 1),
                             (before - pd.Timedelta(days=1)).to_period("M"), freq="M")
    t = t[t < before]
    c = t.dt.to_period("M").value_counts().reindex(months, fill_value=0)
    return pd.Series(c.to_numpy(int), index=[str(m) for m in months])


def weekly_counts(export: CrmExport, before: pd.Timestamp, weeks: int) -> np.ndarray:
    """Rows created in each of the ``weeks`` 7-day weeks before ``before`` (a naive local
    midnight), oldest first; only weeks after the first row's day count."""
    t = _local(export.leads["created_at"], export.mapping.timezone)
    first = t.min().normalize()
    age = ((before - t[t < before]).dt.total_seconds() // (7 * 86400)).astype(int)
    c = np.bincount(age[age < weeks], minlength=weeks)[::-1]
    full = [(before - pd.Timedelta(days=7 * (weeks - i))) >= first for i in range(weeks)]
    return c[np.asarray(full)]


def naive_forecast(export: CrmExport, origin: pd.Timestamp, labels: list[str],
                   days: tuple[int, ...]) -> dict[tuple[str, str], float]:  # fmt: skip
    """``{(metric, period): value}`` of the naive forecast for the test months ``labels``
    (``YYYY-MM``) and the cohort's won-within curve (period ``cohort``); ``origin`` is a naive
    local midnight. NaN where the data before the origin cannot say."""
    out: dict[tuple[str, str], float] = {}
    for what in ("mqls", "wins"):
        c = monthly_counts(export, what, origin)
        v = float(c.iloc[-NAIVE_MONTHS:].mean()) if len(c) >= NAIVE_MONTHS else np.nan
        for p in labels:
            out[(what, p)] = v
    L, tz = export.leads, export.mapping.timezone
    mql = _local(L["mql_at"] if "mql_at" in L.columns else L["created_at"], tz)
    won = _won(export)
    closed = _local(L["closed_at"], tz) if "closed_at" in L.columns else pd.Series(
        pd.NaT, index=L.index)
    start = (origin.to_period("M") - NAIVE_COHORTS).to_timestamp()
    cohort = (mql >= start) & (mql < origin)
    for d in days:
        seen = cohort & (mql + pd.Timedelta(days=d) <= origin)
        n = int(seen.sum())
        lag = (closed - mql)[seen & won]
        w = int((lag <= pd.Timedelta(days=d)).sum())
        out[(f"won_within_{d}d", "cohort")] = w / n if n else np.nan
    return out
