"""The marginal value of a lever: what one more and one fewer (of SDRs, AEs, ...) changes.

For each lever (a numeric scenario field such as ``teams[sdr].reps`` or ``ae.count``) the base
scenario and the scenarios with the lever at +step and -step run the same replications with the
same root seed (common random numbers), so each change is estimated from paired differences:
revenue, cost and gross profit (with 95% t intervals) and each clause's P(met) in a month. A
step that leaves the field's valid range (one SDR fewer than one) is reported as not possible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sla_sim.batch.compare import paired_differences
from sla_sim.batch.executors import execute, jobs_for
from sla_sim.batch.limits import check_cost
from sla_sim.batch.replications import DEFAULT_SEED, ReplicationError, check_request, collect
from sla_sim.batch.results import Results
from sla_sim.errors import Issue, ScenarioError
from sla_sim.scenario.io import set_path
from sla_sim.scenario.schema import Scenario

__all__ = ["MONEY", "Marginal", "lever_value", "marginal"]

#: The money differences of a marginal table: (metric, column prefix).
MONEY = (("revenue", "revenue"), ("cost_total", "cost"), ("gross_profit", "profit"))
#: Clauses whose P(met in a month) is shown: (breach metric, label).
CLAUSES = (("mql_volume_breach", "MQL volume"), ("acceptance_breach", "acceptance"),
           ("handoff_breach", "handoff"), ("first_touch_breach", "first touch"),
           ("attempts_breach", "attempts"), ("disposition_breach", "disposition"),
           ("revenue_target_breach", "revenue target"))  # fmt: skip


@dataclass
class Marginal:
    """A marginal-value study: the tidy ``table`` (one row per lever and step), the base and
    every variant's Results (by tag ``base`` or ``<lever><+step>``)."""

    table: pd.DataFrame
    results: dict[str, Results]
    levers: list[str]


def lever_value(scenario: Scenario, path: str) -> float:
    """The current value of a numeric scenario field (``teams[sdr].reps``); ScenarioError
    naming ``--lever`` when the path is no field or not a number."""
    from sla_sim.scenario.io import _index, _split, _suggest

    node: Any = scenario.model_dump(mode="python")
    for part in _split(path):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and (i := _index(node, part)) is not None:
            node = node[i]
        else:
            near = _suggest(part, node) if isinstance(node, dict) else ""
            raise ScenarioError([Issue("--lever", "is not a scenario field" + near, path)])
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise ScenarioError([Issue("--lever", "must name a numeric field (e.g. teams[sdr].reps"
                                   " or ae.count)", path)])  # fmt: skip
    return node


def _p_met(res: Results, metric: str) -> np.ndarray:
    """Per replication: the share of measured months in which the clause is met."""
    months = [p for p in dict.fromkeys(p for p, _ in res.keys) if p != "total"]
    x = np.column_stack([res.column(metric, p) for p in months])
    with np.errstate(invalid="ignore"):
        return 1.0 - np.nanmean(x, axis=1) if x.size else np.full(res.replications, np.nan)


def marginal(scenario: Scenario, levers: list[str], step: float = 1, reps: int = 30,
             seed: int = DEFAULT_SEED, workers: int = 1, dask: str | None = None,
             progress: bool = True) -> Marginal:  # fmt: skip
    """Run the base and each lever at +/- ``step`` on common random numbers; the paired
    changes in revenue, cost, profit (95% intervals) and each clause's P(met in a month)."""
    check_request(reps, workers, seed)
    if not levers:
        raise ScenarioError([Issue("--lever", "give at least one lever (e.g. --lever"
                                   " 'teams[sdr].reps')", None)])  # fmt: skip
    if not step > 0 or not math.isfinite(step):
        raise ScenarioError([Issue("--step", "must be a finite number > 0", step)])
    variants: list[tuple[str, Scenario]] = [("base", scenario)]
    rows_meta: list[dict[str, Any]] = []
    issues: list[Issue] = []
    for lever in dict.fromkeys(levers):
        value = lever_value(scenario, lever)
        for sign in (+1, -1):
            new = value + sign * step
            new = int(new) if isinstance(value, int) and float(new).is_integer() else new
            tag = f"{lever}{'+' if sign > 0 else '-'}{step:g}"
            try:
                variants.append((tag, set_path(scenario, lever, new)))
                rows_meta.append({"lever": lever, "step": sign * step, "from": value, "to": new,
                                  "tag": tag, "note": ""})  # fmt: skip
            except ScenarioError as err:
                if sign > 0:  # one more must be possible, else the lever is no lever
                    issues += [Issue(f"--lever {lever}", i.rule, i.value) for i in err.issues]
                rows_meta.append({"lever": lever, "step": sign * step, "from": value, "to": new,
                                  "tag": None, "note": "not possible: " + "; ".join(
                                      i.rule for i in err.issues)})  # fmt: skip
    if issues:
        raise ScenarioError(issues, "marginal request")
    check_cost(scenario, reps, workers, scenarios=len(variants))
    jobs = jobs_for(variants, seed, tuple(range(reps)))
    done, failed = collect(execute(jobs, min(workers, len(variants) * reps), dask),
                           progress=progress, total=len(variants) * reps,
                           desc="marginal")  # fmt: skip
    if failed:
        raise ReplicationError(failed)
    results = {tag: Results.from_replications(sc, seed, [r for r in done if r.tag == tag],
                                              workers=workers)
               for tag, sc in variants}  # fmt: skip
    base = results["base"]
    rows = []
    for meta in rows_meta:
        row: dict[str, Any] = {k: meta[k] for k in ("lever", "step", "from", "to")}
        res = results.get(meta["tag"]) if meta["tag"] else None
        diffs = paired_differences(base, res, tuple(m for m, _ in MONEY)).set_index(
            "metric") if res is not None else None  # fmt: skip
        for metric, name in MONEY:
            d = diffs.loc[metric] if diffs is not None else None
            row.update({name: d["diff"] if d is not None else math.nan,
                        f"{name}_low": d["paired_low"] if d is not None else math.nan,
                        f"{name}_high": d["paired_high"] if d is not None else math.nan})
        # the unpaired (independent samples, Welch) 95% half-width, to show what pairing buys
        row["profit_unpaired_half_width"] = ((diffs.loc["gross_profit", "unpaired_high"]
                                              - diffs.loc["gross_profit", "unpaired_low"]) / 2
                                             if diffs is not None else math.nan)  # fmt: skip
        for metric, label in CLAUSES:
            pb = float(np.nanmean(_p_met(base, metric)))
            pv = float(np.nanmean(_p_met(res, metric))) if res is not None else math.nan
            row[f"p_met {label}"] = pv
            row[f"p_met {label} change"] = pv - pb
        row["note"] = meta["note"]
        rows.append(row)
    return Marginal(pd.DataFrame(rows), results, list(dict.fromkeys(levers)))
