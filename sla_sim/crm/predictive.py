"""Predictive replications: a forecast's band carries three sources, not one.

1. **Simulation noise**: each replication's own random numbers (arrivals, scores, contact,
   cycle lengths, ...), as in any batch run.
2. **Parameter uncertainty**: each replication draws the calibrated parameters from their
   sampling distribution, approximated from the 95% intervals of :class:`Estimate` (normal on
   the logit scale for probabilities, on the log scale for positive quantities, centred on the
   estimate). The draws are made once, up front, from the intervals the calibration already
   computed: the calibration is never re-run per replication. Parameters are drawn
   independently (their correlations are not kept), except that one pooled fit behind several
   channels is drawn once for all of them. A forecast is about a *new* cohort: where the
   calibration measured how monthly cohorts differ beyond sampling error
   (``checks.won_cohorts``), each replication also draws one new cohort, common to all
   channels: its P(ever won) and its speed (the mean time to win).
3. **Volume trend**: a log-linear trend of the weekly counts of the last :data:`TREND_WEEKS`
   weeks before the origin (the 91 days the calibrated volume comes from under a trend), and
   its prediction interval (Student t: the fitted line's uncertainty at the test window's
   middle plus the weekly noise averaged over the window); each replication scales every
   channel's volume in the test window by one draw from it (``Draws.log_trend``; the warm-up
   keeps the calibrated volume, the level the past showed). With a trend the per-channel
   volume intervals are not drawn again (the trend's interval carries the volume uncertainty).

:func:`band_sources` splits the variance of each forecast metric across the replications into
the three sources: the share explained by the trend draw, the further share explained by the
parameter draws (adjusted R-squared of a linear regression, grouped by parameter kind), and the
rest, the simulation's own noise.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special, stats

from sla_sim.crm.calibrate import Calibration
from sla_sim.crm.calibrate.common import SQL_RATE_CAP
from sla_sim.crm.mql_share import alpha_for_share, p_mql
from sla_sim.scenario import Scenario

__all__ = ["TREND_WEEKS", "Draws", "Trend", "band_sources", "draw_scenarios", "volume_trend"]

TREND_WEEKS = 13  # weeks before the origin the volume trend is fitted on (91 days)
_Z = 1.959963984540054
_SCALAR = re.compile(r"^(channels\[[^\]]+\]\.(leads_per_month|mqls_per_month|mql_share|sql_rate"
                     r"|win_rate|cycle_days\.mean|deal_value\.mean)|follow_up\.contact\."
                     r"(p_initial|p_floor|half_life_hours)|handoff\.ops_delay_hours\.mean"
                     r"|follow_up\.disqualify_share)$")  # fmt: skip


@dataclass
class Trend:
    """Log-linear volume trend: the predicted daily rate of the test window."""

    weeks: list[int]  # counts of the weeks fitted, oldest first
    log_rate: float  # predicted log count per week over the test window
    se: float  # its prediction standard error
    df: int
    multiplier: float  # predicted rate / the calibrated scenario's rate

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        lo, hi = (self.multiplier * math.exp(q * self.se * stats.t.ppf(0.9, self.df))
                  for q in (-1, 1))  # fmt: skip
        return {"weekly_counts": self.weeks,
                "predicted_per_week": round(math.exp(self.log_rate), 1),
                "multiplier_of_calibrated_volume": round(self.multiplier, 4),
                "multiplier_p10_p90": [round(lo, 4), round(hi, 4)],
                "method": f"OLS of log weekly counts on the week (last {TREND_WEEKS} weeks"
                          " before the origin), Student-t prediction interval of the test"
                          " window's mean level"}  # fmt: skip


def volume_trend(weekly: np.ndarray, test_days: float, calibrated_per_month: float
                 ) -> Trend | None:  # fmt: skip
    """The trend of ``weekly`` (counts of the 7-day weeks before the origin, oldest first)
    predicted over the next ``test_days`` days: the fitted line's level at the window's middle,
    its standard error, plus the residual weekly noise averaged over the window's weeks.
    None with fewer than 6 weeks or nothing to scale."""
    c = np.asarray(weekly, float)[-TREND_WEEKS:]
    if len(c) < 6 or calibrated_per_month <= 0 or c.sum() <= 0:
        return None
    y = np.log(c + 0.5)
    x = np.arange(len(y), dtype=float)
    n = len(y)
    b, a = np.polyfit(x, y, 1)
    resid = y - (a + b * x)
    s2 = float(resid @ resid) / (n - 2)
    w = test_days / 7.0
    x0 = n - 0.5 + w / 2  # the middle of the test window, in weeks
    sxx = float(((x - x.mean()) ** 2).sum())
    se = math.sqrt(s2 * (1 / max(w, 1.0) + 1 / n + (x0 - x.mean()) ** 2 / sxx))
    mean = float(a + b * x0)
    per_month = math.exp(mean) / 7.0 * 365.25 / 12
    return Trend([int(v) for v in c], mean, se, n - 2, per_month / calibrated_per_month)


@dataclass
class Draws:
    """One scenario per replication and what was drawn for it."""

    scenarios: list[Scenario]
    log_trend: np.ndarray  # (reps,) log multiplier of the test window's volumes (0: no trend)
    z: dict[str, np.ndarray] = field(default_factory=dict)  # kind -> (reps,) summed normal draws
    drawn: list[str] = field(default_factory=list)  # paths drawn


def _transform(e: Any) -> tuple[str, float, float] | None:
    """(scale, centre, sd) of an estimate on its drawing scale, or None (nothing to draw)."""
    lo, hi, v = e.low, e.high, e.value
    if not all(np.isfinite([lo, hi, v])) or hi <= lo:
        return None
    if e.unit == "probability":
        if not 0 < v < 1:
            return None
        lo, hi = min(max(lo, 1e-9), v), max(min(hi, 1 - 1e-9), v)
        c = float(special.logit(v))
        return "logit", c, float((special.logit(hi) - special.logit(lo)) / (2 * _Z))
    if v <= 0:
        return None
    lo = min(max(lo, v * 1e-6), v)
    return "log", math.log(v), (math.log(max(hi, v)) - math.log(lo)) / (2 * _Z)


def draw_scenarios(cal: Calibration, reps: int, seed: int, trend: Trend | None = None,
                   parameters: bool = True) -> Draws:  # fmt: skip
    """``reps`` scenarios, each with its own draw of the calibrated parameters (when
    ``parameters``), and the volume trend's multipliers of the test window (when given);
    drawn once, up front."""
    from sla_sim.scenario.io import validate

    rng = np.random.default_rng(np.random.SeedSequence([seed, 211]))
    base = cal.scenario
    thr = base.mql_threshold_points
    beta = {c.name: c.score_beta for c in base.channels}
    plan = []
    for e in cal.estimates if parameters else []:
        if e.exact or not _SCALAR.match(e.path):
            continue
        if trend is not None and e.path.endswith(("leads_per_month", "mqls_per_month")):
            continue
        tr = _transform(e)
        if tr is not None and tr[2] > 0:
            plan.append((e, tr))
    z: dict[str, np.ndarray] = {}
    values: list[dict[str, float]] = [{} for _ in range(reps)]
    common: dict[str, np.ndarray] = {}
    for e, (scale, centre, sd) in plan:
        kind = e.path.split("].")[-1] if "]." in e.path else e.path
        # one pooled fit behind several channels: one draw, shared by them
        key = f"pooled {kind}" if "pooled" in e.method else e.path
        if key not in common:
            common[key] = rng.standard_normal(reps)
            z[kind] = z.get(kind, np.zeros(reps)) + common[key]
        x = centre + sd * common[key]
        v = special.expit(x) if scale == "logit" else np.exp(x)
        for r in range(reps):
            values[r][e.path] = float(v[r])
    if parameters:
        z.update(_cohort_shocks(cal, values, rng))
    if trend is not None:
        t = stats.t.rvs(trend.df, size=reps, random_state=rng)
        log_m = math.log(trend.multiplier) + trend.se * t
    else:
        log_m = np.zeros(reps)
    out = []
    for r in range(reps):
        data = base.model_dump(mode="python")
        by_name = {c["name"]: c for c in data["channels"]}
        for path, v in values[r].items():
            name, _, rest = path.partition("].")
            ch = by_name.get(name.removeprefix("channels[")) if path.startswith("channels[") \
                else None
            if ch is not None and rest == "mql_share":
                ch["score_alpha"] = alpha_for_share(min(max(v, 1e-6), 1 - 1e-6),
                                                    beta[ch["name"]], thr)  # fmt: skip
            elif ch is not None and rest == "mqls_per_month":
                ch["leads_per_month"] = v / p_mql(ch["score_alpha"], ch["score_beta"], thr)
            elif ch is not None and rest in ("sql_rate", "win_rate"):
                ch[rest] = min(v, 0.99 if rest == "sql_rate" else 1.0)
            elif ch is not None and rest.endswith(".mean"):
                ch[rest.split(".")[0]]["mean"] = v
            elif ch is not None:
                ch[rest] = v
            else:
                data = _set_scalar(data, path, v)
        out.append(validate(data, source=f"predictive draw {r}"))
    return Draws(out, np.asarray(log_m, float), z, [e.path for e, _ in plan])


def _cohort_shocks(cal: Calibration, values: list[dict[str, float]],
                   rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A forecast is about a new cohort: where the calibration measured how monthly cohorts
    differ beyond sampling error (``checks.won_cohorts``), each replication draws one cohort
    of that spread, common to every channel. **Conversion**: P(ever won | MQL) moves by the
    draw on its logit scale, each channel's derived rate by the same factor (``sql_rate`` up
    to its cap, the win rate the rest; exact without a score slope, else the factor applies
    at the reference score). **Speed**: the mean time to win is scaled by ``exp(draw)``
    (the cycle moves so that cycle plus the simulated MQL-to-opportunity delay does).
    Updates ``values`` (per replication, path -> value); returns the draws by name."""
    spread = cal.checks.get("won_cohorts", {})
    tau = float(spread.get("between_cohort_sd_logit", 0.0))
    tau_s = float(spread.get("between_cohort_sd_log_time", 0.0))
    reps = len(values)
    sc = cal.scenario
    by_name = {c.name: c for c in sc.channels}
    out = {}
    if tau > 0:
        u = rng.standard_normal(reps)
        out["cohort conversion"] = u
        for e in cal.estimates:
            if not (e.derived and e.path.endswith("].sql_rate")):
                continue
            name = e.path.split("]")[0].removeprefix("channels[")
            p_won = next((x.value for x in cal.estimates
                          if x.path == f"channels[{name}].p_won_given_mql"), None)  # fmt: skip
            if p_won is None or not 0 < p_won < 1:
                continue
            ratio = special.expit(special.logit(p_won) + tau * u) / p_won
            wpath = f"channels[{name}].win_rate"
            for r in range(reps):
                q = values[r].get(e.path, e.value) * ratio[r]
                w = values[r].get(wpath, by_name[name].win_rate)
                if q > SQL_RATE_CAP:
                    q, w = SQL_RATE_CAP, w * q / SQL_RATE_CAP
                values[r][e.path], values[r][wpath] = float(q), float(min(w, 1.0))
    delay = float(cal.checks.get("won_cure_model", {}).get(
        "simulated_mql_to_opportunity_days", 0.0))
    if tau_s > 0:
        v = rng.standard_normal(reps)
        out["cohort speed"] = v
        k = np.exp(tau_s * v)
        for c in sc.channels:
            path = f"channels[{c.name}].cycle_days.mean"
            for r in range(reps):
                cyc = values[r].get(path, c.cycle_days.mean)
                values[r][path] = float(max((cyc + delay) * k[r] - delay, 0.05 * cyc))
    return out


def _set_scalar(data: dict[str, Any], path: str, v: float) -> dict[str, Any]:
    """Set a dotted scalar path (``follow_up.contact.p_initial``, ``handoff.x.mean``)."""
    cur = data
    parts = path.split(".")
    for p in parts[:-1]:
        cur = cur[p]
    if parts[-1] == "p_floor":
        v = min(v, cur.get("p_initial", v))
    cur[parts[-1]] = v
    return data


def band_sources(values: np.ndarray, draws: Draws) -> dict[str, float] | None:
    """Shares of the variance of ``values`` (one per replication) explained by the trend
    draw, then by the parameter draws (adjusted R-squared, one regressor per parameter kind),
    the rest being simulation noise; None when the values do not vary."""
    y = np.asarray(values, float)
    ok = np.isfinite(y)
    y = y[ok]
    n = len(y)
    if n < 8 or y.var() <= 0:
        return None

    def r2_adj(cols: list[np.ndarray]) -> float:
        if not cols:
            return 0.0
        X = np.column_stack([np.ones(n), *cols])
        k = X.shape[1] - 1
        if n - k - 1 < 2:
            return 0.0
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        res = y - X @ beta
        r2 = 1 - float(res @ res) / float(((y - y.mean()) ** 2).sum())
        return max(1 - (1 - r2) * (n - 1) / (n - k - 1), 0.0)

    t_cols = [draws.log_trend[ok]] if np.ptp(draws.log_trend) > 0 else []
    p_cols = [v[ok] for v in draws.z.values()]
    r_t = r2_adj(t_cols)
    r_all = max(r2_adj(t_cols + p_cols), r_t)
    return {"trend": round(r_t, 3), "parameters": round(r_all - r_t, 3),
            "simulation": round(1 - r_all, 3)}
