"""Backtest: calibrate on the past, simulate what came next, compare with what happened.

The export is cut at ``train_until`` (leads created before it, every later timestamp erased,
so what was still open then is censored), calibrated, and the calibrated scenario simulated
from ``train_until`` for the test months (plus 90 days so the test cohort can mature). For
each metric and test month: the observed value, the simulated P10 / P50 / P90, and whether the
observation falls inside P10-P90. Metrics: MQLs, first-touch compliance, SQLs and wins per
month, and the cumulative share of the test cohort's MQLs won within 7, 14, 30, 60 and 90
days of becoming an MQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sla_sim.crm.calibrate import Calibration, calibrate
from sla_sim.crm.load import CrmExport
from sla_sim.crm.measure import measure_export
from sla_sim.crm.to_log import to_log
from sla_sim.errors import Issue, ScenarioError
from sla_sim.events import CODE, EventLog
from sla_sim.horizon import elapsed_hours
from sla_sim.scenario import Scenario

__all__ = ["COHORT_DAYS", "MONTHLY", "Backtest", "backtest", "cohort_won_within",
           "simulate_months"]  # fmt: skip

COHORT_DAYS = (7, 14, 30, 60, 90)
MONTHLY = ("mqls", "first_touch_compliance", "sqls", "wins")
FOLLOW_UP_MONTHS = 3  # simulated beyond the test window so the cohort's 90 days are seen


def cohort_won_within(log: EventLog, t0: float, t1: float,
                      days: tuple[int, ...] = COHORT_DAYS) -> dict[int, float]:  # fmt: skip
    """Share of the leads whose first MQL falls in [t0, t1) (model hours) that were won within
    ``d`` days of it, for each ``d``."""
    cols = log.columns(sort=False)
    rows = log.event_rows()
    ev_lead, t = cols["lead"], cols["time_h"]
    mql_rows = rows[CODE["mql"]]
    n = int(ev_lead.max()) + 1 if len(ev_lead) else 0
    first = np.full(n, np.inf)
    np.minimum.at(first, ev_lead[mql_rows], t[mql_rows])
    won = np.full(n, np.inf)
    wr = rows[CODE["won"]]
    np.minimum.at(won, ev_lead[wr], t[wr])
    cohort = (first >= t0) & (first < t1)
    m = int(cohort.sum())
    if m == 0:
        return {d: float("nan") for d in days}
    lag = won[cohort] - first[cohort]
    return {d: float(np.mean(lag <= d * 24.0)) for d in days}


def _local_midnight(ts: pd.Timestamp) -> pd.Timestamp:
    """Local midnight of ``ts``'s day (the first instant of the day where midnight is skipped
    by a DST change)."""
    return ts.tz_localize(None).normalize().tz_localize(ts.tz, nonexistent="shift_forward",
                                                        ambiguous=False)


def _add_months(ts: pd.Timestamp, k: int) -> pd.Timestamp:
    return (ts.tz_localize(None) + pd.DateOffset(months=k)).tz_localize(
        ts.tz, nonexistent="shift_forward", ambiguous=False)


def simulate_months(sc: Scenario, start: pd.Timestamp, months: int, reps: int, seed: int,
                    progress: bool = True, extra_months: int = FOLLOW_UP_MONTHS
                    ) -> pd.DataFrame:  # fmt: skip
    """Simulate ``sc`` from ``start`` (a local date) for ``months`` measured months (plus
    ``extra_months`` of follow-up); tidy (replication, period, metric, value) of the metrics
    of the measured months plus the cohort shares (period ``cohort``)."""
    from sla_sim.batch.worker import run_one
    from sla_sim.horizon import horizon_hours
    from sla_sim.progress import progress_bar

    horizon = sc.horizon.model_copy(update={"measure_start": start.date(),
                                            "measure_months": months + extra_months})
    sim = sc.model_copy(update={"horizon": horizon})
    origin, start_h, _ = horizon_hours(sim)
    local = pd.Timestamp(start.date()).tz_localize(sc.horizon.timezone,
                                                   nonexistent="shift_forward", ambiguous=False)
    labels = [(_add_months(local, k)).strftime("%Y-%m") for k in range(months)]
    t1 = elapsed_hours(origin, _add_months(local, months).to_pydatetime())
    out = []
    with progress_bar(total=reps, desc=f"simulate {sc.name}", unit="rep",
                      disable=not progress, leave=False) as bar:  # fmt: skip
        for r in range(reps):
            res = run_one(sim, seed, r, keep_log=True)
            tab = res.metrics
            tab = tab[tab["period"].isin(labels)]
            out.append(tab.assign(replication=r))
            for d, v in cohort_won_within(res.log, start_h, t1).items():
                out.append(pd.DataFrame({"replication": [r], "period": ["cohort"],
                                         "metric": [f"won_within_{d}d"], "value": [v]}))
            bar.update(1)
    return pd.concat(out, ignore_index=True)


@dataclass
class Backtest:
    """Observed against predicted, per metric and test month."""

    table: pd.DataFrame  # metric, period, observed, p10, p50, p90, inside
    calibration: Calibration
    meta: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """``backtest.json``: aggregates only."""
        rows = []
        for r in self.table.to_dict("records"):
            rows.append({k: (None if isinstance(v, float) and not np.isfinite(v) else
                             (round(v, 6) if isinstance(v, float) else v))
                         for k, v in r.items()})  # fmt: skip
        judged = self.table["inside"].dropna()
        return {**self.meta, "coverage_p10_p90": None if judged.empty else
                round(float(judged.astype(bool).mean()), 4), "metrics": rows}  # fmt: skip


def backtest(export: CrmExport, base: Scenario, train_until: str, test_months: int = 1,
             reps: int = 40, seed: int = 20260101, progress: bool = True) -> Backtest:  # fmt: skip
    """Calibrate on leads created before ``train_until`` (censored there), simulate the next
    ``test_months`` months and compare them with the export."""
    if test_months < 1:
        raise ScenarioError([Issue("--test-months", "must be >= 1", test_months)])
    cut = pd.Timestamp(train_until)
    cut = cut.tz_localize(export.mapping.timezone) if cut.tzinfo is None else cut
    if not export.leads["created_at"].min() < cut.tz_convert("UTC") < export.exported_at:
        raise ScenarioError([Issue("--train-until", "must fall between the first lead and"
                                   f" exported_at ({export.exported_at.date()})",
                                   train_until)])  # fmt: skip
    train = export.cut(cut)
    cal = calibrate(train, base)
    sc = cal.scenario
    start_local = _local_midnight(cut.tz_convert(export.mapping.timezone))
    end_local = _add_months(start_local, test_months)
    sims = simulate_months(sc, start_local, test_months, reps, seed, progress)
    # observed: the full export, measured over the test window under the same scenario
    me = measure_export(export, sc, start=str(start_local.date()), end=str(end_local.date()))
    obs = me.table.set_index(["period", "metric"])["value"]
    mapped = to_log(export, start=start_local)
    t0 = elapsed_hours(mapped.origin, start_local.to_pydatetime())
    t1 = elapsed_hours(mapped.origin, end_local.to_pydatetime())
    cohort = cohort_won_within(mapped.log, t0, t1)
    follow = (export.exported_at - end_local.tz_convert("UTC")).total_seconds() / 86400
    rows = []
    labels = [(_add_months(start_local, k)).strftime("%Y-%m") for k in range(test_months)]
    measurable = _measurable(export)
    for metric in MONTHLY:
        for p in labels:
            o = float(obs.get((p, metric), np.nan)) if measurable.get(metric, True) else np.nan
            rows.append(_row(metric, p, o, sims[(sims["metric"] == metric)
                                                & (sims["period"] == p)]["value"]))
    for d in COHORT_DAYS:
        o = cohort[d] if follow >= d else np.nan  # an immature cohort is not judged
        rows.append(_row(f"won_within_{d}d", "cohort", o,
                         sims[sims["metric"] == f"won_within_{d}d"]["value"]))
    meta = {"train_until": str(cut.date()), "test_months": labels, "replications": reps,
            "seed": seed, "scenario": sc.name, "train_leads": train.n_leads,
            "not_measurable": [m for m, ok in measurable.items() if not ok]}  # fmt: skip
    return Backtest(pd.DataFrame(rows), cal, meta)


def _measurable(export: CrmExport) -> dict[str, bool]:
    has_touch = export.has("first_touch_at") or export.activities is not None
    return {"first_touch_compliance": has_touch, "sqls": export.has("sql_at"),
            "wins": export.has("stage") and export.has("closed_at")}  # fmt: skip


def _row(metric: str, period: str, observed: float, sim: pd.Series) -> dict[str, Any]:
    v = sim.to_numpy(float)
    v = v[np.isfinite(v)]
    if len(v):
        p10, p50, p90 = (float(x) for x in np.percentile(v, [10, 50, 90]))
    else:
        p10 = p50 = p90 = float("nan")
    inside = (None if not (np.isfinite(observed) and len(v)) else
              bool(p10 - 1e-12 <= observed <= p90 + 1e-12))  # fmt: skip
    return {"metric": metric, "period": period, "observed": float(observed), "p10": p10,
            "p50": p50, "p90": p90, "inside": inside}  # fmt: skip
