"""Scenario A vs B with common random numbers: paired differences and their uncertainty.

Both scenarios run the same replication indices with the same root seed, so replication ``i``
of A and of B see the same arrivals, scores and per-lead draws wherever the scenarios agree. The
difference B - A is then estimated from the paired differences, whose variance is far smaller
than that of two independent samples; both intervals are reported so the gain is visible.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from sla_sim.batch.breach import metric_column
from sla_sim.batch.executors import execute, jobs_for
from sla_sim.batch.limits import check_cost, leads_per_replication
from sla_sim.batch.replications import DEFAULT_SEED, ReplicationError, check_request, collect
from sla_sim.batch.results import Results
from sla_sim.metrics.docs import metric_bounds
from sla_sim.scenario.schema import Scenario
from sla_sim.stats import t_interval

HEADLINE = (
    "revenue", "revenue_target_breach", "revenue_target_breach_any_month", "wins", "mqls",
    "sqls", "acceptance_rate", "handoff_compliance", "first_touch_compliance",
    "attempts_compliance", "disposition_compliance",
    "handoff_breach_any_month", "handoff_breach", "first_touch_breach_any_month",
    "first_touch_breach", "attempts_breach_any_month", "attempts_breach",
    "disposition_breach_any_month", "disposition_breach", "mql_volume_breach_any_month",
    "mql_volume_breach", "acceptance_breach_any_month", "acceptance_breach",
    "response_hours_p50", "sdr_utilization", "ae_utilization",
)  # fmt: skip
"""The compared metrics: every clause's risk as each surface states it, P(breached in some
month) (``_any_month``, :func:`sla_sim.batch.breach.any_month`) beside P(the whole period
breached)."""
#: Cost metrics compared when both sides have them (:mod:`sla_sim.metrics.costs`).
MONEY = ("cost_total", "gross_profit", "cac", "return_on_spend", "cost_people",
         "cost_marketing")  # fmt: skip


def run_pair(a: Scenario, b: Scenario, reps: int = 50, seed: int = DEFAULT_SEED,
             workers: int = 1, dask: str | None = None, progress: bool = True
             ) -> tuple[Results, Results]:  # fmt: skip
    """Run A and B on the same seeds (common random numbers)."""
    check_request(reps, workers, seed)
    check_cost(max((a, b), key=leads_per_replication), reps, workers, scenarios=2)
    idx = tuple(range(reps))
    jobs = jobs_for([("a", a), ("b", b)], seed, idx)  # one simulation if only the SLA differs
    done, failed = collect(execute(jobs, min(workers, 2 * reps), dask), progress=progress,
                           total=2 * reps, desc="compare")  # fmt: skip
    if failed:
        raise ReplicationError(failed)
    ra = Results.from_replications(a, seed, [r for r in done if r.tag == "a"], workers=workers)
    rb = Results.from_replications(b, seed, [r for r in done if r.tag == "b"], workers=workers)
    return ra, rb


def paired_differences(ra: Results, rb: Results, metrics: tuple[str, ...] | None = None,
                       period: str = "total", level: float = 0.95) -> pd.DataFrame:  # fmt: skip
    """Per metric: means of A and B, the paired difference B - A with its CI, and the CI an
    unpaired (independent-samples, Welch) comparison would give on the same runs."""
    common = np.intersect1d(ra.replication_ids, rb.replication_ids)
    ia = np.searchsorted(ra.replication_ids, common)
    ib = np.searchsorted(rb.replication_ids, common)
    if metrics is None:
        metrics = HEADLINE + (MONEY if ra.costs is not None and rb.costs is not None else ())
    rows = []
    for m in metrics:
        xa, xb = metric_column(ra, m, period)[ia], metric_column(rb, m, period)[ib]
        ok = ~np.isnan(xa) & ~np.isnan(xb)
        xa, xb = xa[ok], xb[ok]
        d = xb - xa
        lo, hi = t_interval(d, level)
        n = len(d)
        if n >= 2:
            va, vb = xa.var(ddof=1) / n, xb.var(ddof=1) / n
            se = math.sqrt(va + vb)
            dof = (va + vb) ** 2 / ((va**2 + vb**2) / (n - 1)) if va + vb > 0 else n - 1
            hw = stats.t.ppf(0.5 + level / 2, dof) * se
        else:
            hw = math.nan
        diff = float(d.mean()) if n else math.nan
        ulo, uhi = diff - hw, diff + hw
        bounds = metric_bounds(m)
        if bounds is not None:  # a difference of two shares lies within -1 .. +1
            span = bounds[1] - bounds[0]
            lo, hi, ulo, uhi = (min(max(v, -span), span) for v in (lo, hi, ulo, uhi))
        rows.append({
            "metric": m, "period": period, "n": n,
            "mean_a": float(xa.mean()) if n else math.nan,
            "mean_b": float(xb.mean()) if n else math.nan,
            "diff": diff, "paired_low": lo, "paired_high": hi,
            "unpaired_low": ulo, "unpaired_high": uhi,
            "width_ratio": (hi - lo) / (uhi - ulo) if uhi - ulo > 0 else math.nan,
        })  # fmt: skip
    return pd.DataFrame(rows)
