"""Breach and revenue distributions across replications, under stable names.

These are the numbers the notebooks chart and the recommendation exports:

* ``breach_distributions(results)`` — one row per SLA clause x period: side (marketing,
  handoff, sales), ``p_breach`` (P(at least one breach of the clause in the period) — the mean of
  the 0/1 indicator), ``p_met`` (1 - p_breach; for period ``total``, P(clause met for the
  quarter)), and P10/P50/P90 and mean of the compliance rate and of the breach count.
* ``clause_risk(results)`` — the one risk model every surface states: per SLA clause, the
  probability that a month breaches it (each month, and the worst month), and the probability
  that at least one month of the measured window breaches it. An SLA is signed and reviewed per
  month, so a clause met over the whole window can still break in one month.
* ``revenue_distribution(results)`` — one row per period: revenue P10/P50/P90 and mean, the
  same for cumulative revenue from the first measured month, the target and cumulative target,
  and ``p_meet_target`` / ``p_meet_cumulative_target`` (P(revenue >= target)).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sla_sim.horizon import TOTAL

if TYPE_CHECKING:
    from sla_sim.batch.results import Results

SIDES = {
    "mql_volume": "marketing", "acceptance": "marketing", "handoff": "handoff",
    "first_touch": "sales", "attempts": "sales", "disposition": "sales",
    "revenue_target": "revenue",
}  # fmt: skip
PER_LEAD = ("handoff", "first_touch", "attempts", "disposition")


def _q(x: np.ndarray) -> tuple[float, float, float, float]:
    x = x[~np.isnan(x)]
    if not len(x):
        return (np.nan,) * 4
    p10, p50, p90 = np.percentile(x, [10, 50, 90])
    return float(p10), float(p50), float(p90), float(x.mean())


def periods_of(results: Results) -> list[str]:
    """Month labels in order, then ``total``."""
    seen = list(dict.fromkeys(p for p, _ in results.keys))
    return [p for p in seen if p != TOTAL] + [TOTAL]


def breach_distributions(results: Results) -> pd.DataFrame:
    """Per clause and period: P(breach), P(met) and the spread of compliance and breaches."""
    rows = []
    for period in periods_of(results):
        for clause, side in SIDES.items():
            ind = results.column(f"{clause}_breach", period)
            ok = ~np.isnan(ind)
            p_breach = float(ind[ok].mean()) if ok.any() else np.nan
            row = {"clause": clause, "side": side, "period": period, "p_breach": p_breach,
                   "p_met": 1 - p_breach, "n": int(ok.sum())}  # fmt: skip
            if clause in PER_LEAD:
                c10, c50, c90, cm = _q(results.column(f"{clause}_compliance", period))
                b10, b50, b90, bm = _q(results.column(f"{clause}_breached", period))
                row |= {"compliance_p10": c10, "compliance_p50": c50, "compliance_p90": c90,
                        "compliance_mean": cm, "breached_p10": b10, "breached_p50": b50,
                        "breached_p90": b90, "breached_mean": bm}  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows)


#: Suffix of the derived metric "breached in some month of the window" (``<clause>_breach`` +
#: it): per replication, 1 when some judged month breaches, 0 when none does.
ANY_MONTH = "_any_month"


def any_month(ind: np.ndarray) -> np.ndarray:
    """Per replication (rows of ``ind``, replications x months of 0/1 breach indicators, NaN
    where a month has nothing to judge): 1.0 if some judged month breaches, 0.0 if none does,
    NaN if no month is judged. Its mean is ``p_any_month`` on every surface."""
    ind = np.asarray(ind, dtype=np.float64)
    judged = ~np.isnan(ind)
    out = np.where(judged, ind, 0.0).max(axis=1, initial=0.0)
    return np.where(judged.any(axis=1), out, np.nan)


def metric_column(results: Results, metric: str, period: str = TOTAL) -> np.ndarray:
    """``results.column(metric, period)``, and for ``<clause>_breach_any_month`` (period
    total) the per-replication indicator of :func:`any_month` over the measured months."""
    if metric.endswith(ANY_MONTH) and period == TOTAL:
        base = metric.removesuffix(ANY_MONTH)
        months = [p for p in periods_of(results) if p != TOTAL]
        if not months:
            return np.full(results.replications, np.nan)
        return any_month(np.column_stack([results.column(base, m) for m in months]))
    return results.column(metric, period)


def clause_risk(results: Results) -> pd.DataFrame:
    """Per clause: ``p_month`` (dict month -> P(the month breaches)), ``worst_month`` and
    ``p_worst_month`` (the month most likely to breach), ``p_any_month`` (P(at least one month of
    the window breaches): the share of replications with a breach in any month) and
    ``p_window`` (P(breach) of the whole window judged as one period, labelled as such).

    A month whose clause has nothing to judge in a replication (no MQLs) counts as not
    breached in that replication; a clause with nothing to judge in any month is NaN."""
    months = [p for p in periods_of(results) if p != TOTAL]
    rows = []
    for clause, side in SIDES.items():
        ind = (np.column_stack([results.column(f"{clause}_breach", m) for m in months])
               if months else np.empty((results.replications, 0)))  # fmt: skip
        judged = ~np.isnan(ind)
        with np.errstate(invalid="ignore"):
            p_month = {m: (float(ind[judged[:, j], j].mean()) if judged[:, j].any() else np.nan)
                       for j, m in enumerate(months)}  # fmt: skip
        known = [m for m in months if not np.isnan(p_month[m])]
        worst = max(known, key=lambda m: p_month[m]) if known else None
        any_rep = judged.any(axis=1)
        p_any = float(np.nanmean(any_month(ind))) if any_rep.any() else np.nan
        whole = results.column(f"{clause}_breach", TOTAL)
        whole = whole[~np.isnan(whole)]
        rows.append({"clause": clause, "side": side, "p_month": p_month, "worst_month": worst,
                     "p_worst_month": p_month[worst] if worst else np.nan,
                     "p_any_month": p_any,
                     "p_window": float(whole.mean()) if len(whole) else np.nan,
                     "n": int(any_rep.sum())})  # fmt: skip
    return pd.DataFrame(rows)


def riskiest(risk: pd.DataFrame,
             exclude: tuple[str, ...] = ("revenue_target",)) -> pd.Series | None:
    """The clause most likely to breach in some month (then in its worst month); None when no
    clause is breached in any month of any replication."""
    df = risk[~risk["clause"].isin(exclude)].fillna({"p_any_month": 0.0, "p_worst_month": 0.0})
    if df.empty or float(df["p_any_month"].max()) <= 0:
        return None
    return df.sort_values(["p_any_month", "p_worst_month"], ascending=False).iloc[0]


def revenue_distribution(results: Results) -> pd.DataFrame:
    """Per period: revenue and cumulative revenue quantiles, targets and P(meeting them)."""
    months = [p for p in periods_of(results) if p != TOTAL]
    rev = np.column_stack([results.column("revenue", p) for p in months])
    tgt = np.column_stack([results.column("revenue_target", p) for p in months])
    cum, cum_t = np.cumsum(rev, axis=1), np.cumsum(tgt, axis=1)
    rows = []
    for j, p in enumerate([*months, TOTAL]):
        if p == TOTAL:
            r, t, c, ct = (results.column("revenue", TOTAL), results.column("revenue_target",
                           TOTAL), cum[:, -1], cum_t[:, -1])  # fmt: skip
        else:
            r, t, c, ct = rev[:, j], tgt[:, j], cum[:, j], cum_t[:, j]
        r10, r50, r90, rm = _q(r)
        c10, c50, c90, cm = _q(c)
        rows.append({
            "period": p, "revenue_p10": r10, "revenue_p50": r50, "revenue_p90": r90,
            "revenue_mean": rm, "target": _mean(t), "p_meet_target": _p_meet(r, t),
            "cumulative_p10": c10, "cumulative_p50": c50, "cumulative_p90": c90,
            "cumulative_mean": cm, "cumulative_target": _mean(ct),
            "p_meet_cumulative_target": _p_meet(c, ct),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _mean(x: np.ndarray) -> float:
    """Mean of the finite values; NaN (no warning) when there are none (not measured)."""
    x = np.asarray(x, dtype=float)
    return float(np.nanmean(x)) if np.isfinite(x).any() else float("nan")


def _p_meet(r: np.ndarray, t: np.ndarray) -> float:
    """Share of replications meeting the target; NaN when revenue or target is unmeasured
    (a measured export without amounts: blank, never a 0% chance)."""
    r, t = np.asarray(r, dtype=float), np.asarray(t, dtype=float)
    if not (np.isfinite(r).any() and np.isfinite(t).any()):
        return float("nan")
    return float(np.mean(r >= t))
