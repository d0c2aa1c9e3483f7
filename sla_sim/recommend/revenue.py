"""Revenue with confidence: lead volumes sized so that monthly revenue reaches the target in at
least the revenue confidence of months, every month, on the MQL commitment's month basis.

Monthly revenue is a compound sum over won deals, so when every channel's volume is multiplied
by ``s`` its mean grows like ``s`` and its standard deviation like ``sqrt(s)`` (independent
arrivals). With ``r`` = revenue / the month's target simulated at the current volumes (mean
``mu``, standard deviation ``sd``), the multiplier that puts the ``rc`` quantile at the target
solves ``s mu - z sqrt(s) sd = 1`` with ``z`` the standard normal quantile of ``rc``:
``sqrt(s) = (z sd + sqrt(z^2 sd^2 + 4 mu)) / (2 mu)``. At ``rc = 0.5`` it is ``1 / mu`` (mean
revenue on target). The engine applies it, simulates again and corrects once more; the final
P(revenue >= target) per month is measured, not assumed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sla_sim.metrics.numbers import prob
from sla_sim.recommend.search import STOP_LEVEL, cell_p, per_month

#: Revenue confidences of the volume menu (P(revenue >= target) in every month).
REVENUE_MENU = (0.5, 0.75, 0.9)


def revenue_matrix(ev: Any, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(replications x months) revenue and the month's target (on the commitment basis)."""
    months = ev.months()
    rev = np.column_stack([ev.column(vals, "revenue", m) for m in months])
    tgt = np.column_stack([ev.column(vals, "revenue_target", m) for m in months])
    return rev, tgt


def met_matrix(rev: np.ndarray, tgt: np.ndarray) -> np.ndarray:
    """1.0 where a month's revenue reaches its target."""
    return (rev >= tgt).astype(float)


def volume_multiplier(rev: np.ndarray, tgt: np.ndarray, rc: float,
                      mean_bound: bool = False) -> float:  # fmt: skip
    """The factor on every channel's volume that makes P(revenue >= target) reach ``rc`` in
    the worst month (normal approximation, mean ~ s, sd ~ sqrt(s); see the module docstring).
    The sample standard deviation is inflated by its own standard error, so that a short run
    does not undersize. With ``mean_bound`` the mean is its one-sided 90 % lower confidence
    bound (mean - 1.28 sd / sqrt(n)): a plan's own replications, on which it was chosen, tend
    to flatter it, and sizing on their mean left smb_inbound at 0.8 meeting the target in 66 %
    of held-out Januaries. ``inf`` when some month has no revenue at all."""
    from scipy import stats

    if not (tgt > 0).any():
        return 1.0
    z = float(stats.norm.ppf(rc))
    z_mean = float(stats.norm.ppf(0.5 + STOP_LEVEL / 2)) if mean_bound else 0.0
    n = rev.shape[0]
    worst = 0.0
    for j in range(rev.shape[1]):
        r = rev[:, j] / tgt[:, j]
        sd = float(r.std(ddof=1)) * (1 + 1 / math.sqrt(2 * max(n - 1, 1))) if n > 1 else 0.0
        mu = float(r.mean())
        if mu <= 0:
            return math.inf
        if n > 1:  # the bound, at most halving the mean (a month too noisy to bound)
            mu = max(mu - z_mean * float(r.std(ddof=1)) / math.sqrt(n), mu / 2)
        x = (z * sd + math.sqrt(max(z * z * sd * sd + 4 * mu, 0.0))) / (2 * mu)
        worst = max(worst, x * x)
    return worst


def revenue_rows(rev: np.ndarray, tgt: np.ndarray, months: list[str],
                 target: float) -> list[dict[str, Any]]:  # fmt: skip
    """Per month and pooled: P10/P50/P90, mean, the month's target and P(revenue >= target)
    with its 95% Wilson interval."""
    out = []
    for j, m in enumerate([*months, "per month (pooled)"]):
        x = rev[:, j] if j < len(months) else rev.ravel()
        t = tgt[:, j] if j < len(months) else tgt.ravel()
        p10, p50, p90 = np.percentile(x, [10, 50, 90])
        cp = cell_p(met_matrix(x, t))
        out.append({"period": m, "p10": float(p10), "p50": float(p50), "p90": float(p90),
                    "mean": float(x.mean()), "target": float(t.mean()) if j < len(months)
                    else target, "p_ge_target": cp.p, "p_ge_target_low": cp.low,
                    "p_ge_target_high": cp.high})  # fmt: skip
    return out


def worst_month(rev: np.ndarray, tgt: np.ndarray) -> Any:
    """P(revenue >= target) of the worst month (a CellP)."""
    cells = per_month(met_matrix(rev, tgt))
    return min(cells, key=lambda c: c.p)


#: How the menu's rows were found (``how`` of each row of :func:`menu`).
PLAN_ROW = "the plan: simulated at these volumes, P(revenue >= target) measured"
ESTIMATE_ROW = "estimate: the plan's simulated revenue scaled (mean ~ s, sd ~ sqrt(s))"
RELATIVE_ROW = ("estimate: the plan's volumes times the ratio of the scale factors this level"
                " and the plan's level need (mean ~ s, sd ~ sqrt(s))")


def menu(rev: np.ndarray, tgt: np.ndarray, mqls: np.ndarray, leads_per_month: float,
         levels: tuple[float, ...] = REVENUE_MENU,
         plan_level: float | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Lead and MQL volumes for each revenue confidence, scaled from the final simulation by
    :func:`volume_multiplier` (estimates).

    ``plan_level``: the revenue confidence the plan was sized to and reaches. Its row is the
    plan itself (its volumes, factor 1, ``plan`` true), added to the levels when not among
    them, and every other row is the plan's volumes times ``s(level) / s(plan_level)``: one
    scale, so that the menu grows with the confidence through the plan's own figure. Scaled
    from the simulated revenue alone, the row at the plan's level was another figure than the
    plan (the default recommendation showed 8,853 leads a month at 90 % beside a plan,
    recommended at 90 %, of 8,538), and a row above it could fall below the plan (1,844 leads at
    90 % against a plan of 1,888 at 80 %): the plan's volumes come from the sizing passes, with
    their conservative mean bound, not from this one estimate."""
    base = 1.0 if plan_level is None else volume_multiplier(rev, tgt, plan_level)
    anchored = plan_level is not None and math.isfinite(base) and base > 0
    rows = []
    for rc in sorted(set(levels) | ({plan_level} if anchored else set())):
        if anchored:
            s = 1.0 if rc == plan_level else volume_multiplier(rev, tgt, rc) / base
        else:
            s = volume_multiplier(rev, tgt, rc)
        is_plan = anchored and rc == plan_level
        rows.append({"revenue_confidence": rc, "volume_factor": s,
                     "leads_per_month": leads_per_month * s,
                     "mqls_per_month": float(mqls.mean()) * s,
                     "revenue_mean_per_month": float(rev.mean()) * s,
                     "plan": is_plan,
                     "how": PLAN_ROW if is_plan else RELATIVE_ROW if anchored
                     else ESTIMATE_ROW})  # fmt: skip
    return rows


def menu_text(rows: list[dict[str, Any]]) -> str:
    """The menu in one line, as the terminal and the planner print it: ``50 % -> 6,556
    leads/month (estimate); ...; 90 % -> 8,538 leads/month (the plan)``."""
    return "; ".join(f"{prob(r['revenue_confidence'])} -> {r['leads_per_month']:,.0f}"
                     f" leads/month ({'the plan' if r.get('plan') else 'estimate'})"
                     for r in rows)  # fmt: skip


#: A rise of revenue / target from the first to the last measured month beyond this share
#: (and beyond 3 standard errors of the paired difference) is reported as a warm-up note.
RISE_NOTE = 0.05


def warmup_note(rev: np.ndarray, tgt: np.ndarray, warmup_days: float,
                cycle_days_mean: float) -> str | None:  # fmt: skip
    """A note when revenue / the month's target rises from the first to the last measured
    month (paired over replications: mean rise > :data:`RISE_NOTE` and > 3 standard errors):
    revenue is booked on the close date, so a warm-up shorter than the pipeline takes to fill
    leaves the first months short, and the volumes, sized to the worst month, are sized to
    that transient (``smb_inbound`` before its warm-up became 150 days: 45 warm-up days
    against a mean cycle of 65, revenue / target 1.10 in January and 1.34 in March; 1.45 to
    1.49 after 180 more warm-up days)."""
    if rev.shape[1] < 2 or rev.shape[0] < 2 or not (tgt > 0).all():
        return None
    r = rev / tgt
    d = r[:, -1] - r[:, 0]
    se = float(d.std(ddof=1)) / math.sqrt(len(d))
    rise = float(d.mean())
    if rise <= RISE_NOTE * float(r[:, 0].mean()) or rise <= 3 * se:
        return None
    why = (f" The warm-up ({warmup_days:g} days) is shorter than the mean sales cycle"
           f" ({cycle_days_mean:.0f} days): revenue, booked on the close date, has not reached"
           " its steady state when the measured window opens." if cycle_days_mean > warmup_days
           else "")
    return (f"Revenue per month rises from {r[:, 0].mean():.2f} x its target in the first"
            f" measured month to {r[:, -1].mean():.2f} x in the last (paired, {len(d)}"
            f" replications, standard error {se:.2f}).{why} The volumes are sized to the worst"
            " month: unless the rise is seasonality, lengthen horizon.warmup_days and"
            " recommend again, or the plan buys more leads than a business in its steady state"
            " needs.")


__all__ = ["ESTIMATE_ROW", "PLAN_ROW", "RELATIVE_ROW", "REVENUE_MENU", "RISE_NOTE", "menu",
           "menu_text", "met_matrix", "revenue_matrix", "revenue_rows", "volume_multiplier",
           "warmup_note", "worst_month"]
