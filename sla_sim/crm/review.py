"""The monthly review: a month of real SLA compliance placed in the simulated distribution.

The export's month is measured under the scenario's SLA (:mod:`sla_sim.crm.measure`); the
scenario is simulated for the same calendar month (same working days) many times; each clause
and KPI of each side gets its actual value, its percentile among the simulated months, and a
verdict: "within normal variation" inside the simulated P5-P95, "outside" beyond it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sla_sim.crm.backtest import (
    _add_months,
    _local_midnight,
    check_simulation_cost,
    simulate_months,
)
from sla_sim.crm.load import CrmExport
from sla_sim.crm.measure import measure_export
from sla_sim.errors import Issue, ScenarioError
from sla_sim.scenario import Scenario

__all__ = ["REVIEWED", "Review", "review"]

# (side, metric): the clauses and KPIs of the review
REVIEWED: tuple[tuple[str, str], ...] = (
    ("marketing", "mqls"), ("marketing", "acceptance_rate"),
    ("handoff", "handoff_compliance"),
    ("sales", "first_touch_compliance"), ("sales", "attempts_compliance"),
    ("sales", "disposition_compliance"), ("sales", "response_business_hours_p50"),
    ("sales", "sqls"), ("sales", "wins"), ("sales", "revenue"),
    ("sales", "deal_closure_rate"),
)  # fmt: skip


@dataclass
class Review:
    """The month's verdicts and the simulated values behind them."""

    month: str
    table: pd.DataFrame  # side, metric, actual, percentile, p5, p50, p95, verdict
    simulated: pd.DataFrame  # replication, metric, value
    meta: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """``review.json``: aggregates only."""
        def clean(v: Any) -> Any:
            if isinstance(v, dict):  # the meta's pending counts per clause, say
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, float):
                return None if not np.isfinite(v) else round(v, 6)
            return v

        return {**clean(self.meta), "month": self.month,
                "verdicts": [{k: clean(v) for k, v in r.items()}
                             for r in self.table.to_dict("records")]}  # fmt: skip


def review(export: CrmExport, scenario: Scenario, month: str, reps: int = 100,
           seed: int = 20260101, progress: bool = True) -> Review:  # fmt: skip
    """Review ``month`` (YYYY-MM) of the export against ``scenario`` simulated ``reps`` times
    (refused before anything runs when that is over the cost limits)."""
    check_simulation_cost(scenario, reps, 1)
    try:
        first = pd.Timestamp(f"{month}-01")
    except (ValueError, OverflowError):
        raise ScenarioError([Issue("--month", "must be YYYY-MM", month)]) from None
    if first is pd.NaT or not 1900 <= first.year < 2200:  # 9999-12 ended in a traceback
        raise ScenarioError([Issue("--month", "must be a month in 1900-01 .. 2199-12", month)])
    tz = export.mapping.timezone
    start = _local_midnight(first.tz_localize(tz, nonexistent="shift_forward", ambiguous=False))
    end = _add_months(start, 1)
    lo = export.leads["created_at"].min()
    if not (start.tz_convert("UTC") < export.exported_at and end.tz_convert("UTC") > lo):
        raise ScenarioError([Issue("--month", "is outside the export"
                                   f" ({lo.date()} .. {export.exported_at.date()})", month)])
    me = measure_export(export, scenario, start=str(start.date()), end=str(end.date()))
    label = start.strftime("%Y-%m")
    actual = me.table[me.table["period"] == label].set_index("metric")["value"]
    sims = simulate_months(scenario, start, 1, reps, seed, progress, extra_months=0)
    sims = sims[sims["period"] == label]
    rows = []
    for side, metric in REVIEWED:
        v = sims.loc[sims["metric"] == metric, "value"].to_numpy(float)
        v = v[np.isfinite(v)]
        a = float(actual.get(metric, np.nan))
        if len(v) and np.isfinite(a):
            pct = float(np.mean(v < a) + 0.5 * np.mean(v == a))
            p5, p50, p95 = (float(x) for x in np.percentile(v, [5, 50, 95]))
            verdict = ("within normal variation" if p5 - 1e-12 <= a <= p95 + 1e-12
                       else "outside (low)" if a < p5 else "outside (high)")  # fmt: skip
        else:
            pct = p5 = p50 = p95 = float("nan")
            verdict = "not measured" if not np.isfinite(a) else "not simulated"
        rows.append({"side": side, "metric": metric, "actual": a, "percentile": pct,
                     "p5": p5, "p50": p50, "p95": p95, "verdict": verdict})  # fmt: skip
    partial = end.tz_convert("UTC") > export.exported_at
    meta = {"scenario": scenario.name, "replications": reps, "seed": seed,
            "partial_month": bool(partial),
            "pending": {c: float(actual.get(f"{c}_pending", np.nan)) for c in
                        ("handoff", "first_touch", "attempts", "disposition")}}  # fmt: skip
    return Review(label, pd.DataFrame(rows), sims[["replication", "metric", "value"]]
                  .reset_index(drop=True), meta)
