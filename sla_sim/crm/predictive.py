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
   channels: its P(ever won) and its speed (the mean time to win; for an export with lost
   outcomes, ``checks.close_cohorts``: its win rate and time to close), each a Student t with
   ``k - 2`` degrees of freedom for a spread measured on ``k`` cohorts (the prediction
   interval of a new study in a random-effects meta-analysis).
3. **Volume trend**: the weekly counts of the last :data:`TREND_WEEKS` weeks before the
   origin (the 91 days the calibrated volume comes from under a trend) forecast by a
   log-linear trend or, where the export's earlier origins showed it did better there, by
   simple exponential smoothing, and its prediction interval (Student t: the method's own,
   widened to its errors at those earlier origins when they are larger, see
   :func:`volume_trend`); each replication scales every
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

__all__ = ["MIN_PAST_ERRORS", "TREND_WEEKS", "Draws", "Trend", "band_sources", "draw_scenarios",
           "past_errors", "volume_trend"]

TREND_WEEKS = 13  # weeks before the origin the volume trend is fitted on (91 days)
MIN_PAST_ERRORS = 3  # earlier origins needed before their errors can widen the interval
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
    past_errors: list[float] = field(default_factory=list)  # log errors at earlier origins
    model_se: float = float("nan")  # the method's own prediction standard error
    method: str = "log-linear trend"  # or "exponential smoothing", chosen by the past errors

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        lo, hi = (self.multiplier * math.exp(q * self.se * stats.t.ppf(0.9, self.df))
                  for q in (-1, 1))  # fmt: skip
        wider = self.se > self.model_se
        return {"weekly_counts": self.weeks,
                "predicted_per_week": round(math.exp(self.log_rate), 1),
                "multiplier_of_calibrated_volume": round(self.multiplier, 4),
                "multiplier_p10_p90": [round(lo, 4), round(hi, 4)],
                "forecast": self.method,
                "past_log_errors": [round(e, 3) for e in self.past_errors],
                "interval_from": "its errors at earlier origins" if wider else "its fit",
                "method": f"log weekly counts of the last {TREND_WEEKS} weeks before the"
                          " origin: OLS line (log-linear trend) or simple exponential smoothing"
                          " (local level),"
                          " whichever had the smaller root mean square error at the export's"
                          f" earlier origins (out of sample, at least {MIN_PAST_ERRORS};"
                          " otherwise the trend); Student-t prediction interval of the test"
                          " window's mean level, widened to those errors where they are"
                          " larger (as many degrees of freedom as errors)"}


def _trend_fit(c: np.ndarray, test_days: float) -> tuple[float, float, int] | None:
    """(predicted log weekly count over the next ``test_days`` days, its prediction standard
    error, degrees of freedom) of a log-linear fit of the weekly counts ``c``; None with fewer
    than 6 weeks or none counted."""
    if len(c) < 6 or c.sum() <= 0:
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
    return float(a + b * x0), se, n - 2


def _smoothing_fit(c: np.ndarray, test_days: float) -> tuple[float, float, int] | None:
    """Simple exponential smoothing of the log weekly counts ``c`` (a local level that moves
    by ``alpha`` times each week's surprise; ``alpha`` on a 0.01 grid of [0, 1] minimising
    the one-week-ahead squared errors, the level starting at the first week): (the last
    level, the prediction standard error of the mean of the next ``test_days`` days' weeks,
    degrees of freedom). None with fewer than 6 weeks or none counted."""
    if len(c) < 6 or c.sum() <= 0:
        return None
    y = np.log(c + 0.5)
    alphas = np.linspace(0.0, 1.0, 101)
    level = np.full(len(alphas), y[0])
    sse = np.zeros(len(alphas))
    for v in y[1:]:
        e = v - level
        sse += e * e
        level = level + alphas * e
    i = int(np.argmin(sse))
    n = len(y)
    s2 = float(sse[i]) / (n - 2)
    w = max(round(test_days / 7.0), 1)
    k = np.arange(1, w + 1)  # week k of the window carries its own and later surprises
    var = s2 * float(((1 + alphas[i] * (w - k)) ** 2).sum()) / w**2
    return float(level[i]), math.sqrt(var), n - 2


_FITS = {"log-linear trend": _trend_fit, "exponential smoothing": _smoothing_fit}


def past_errors(weekly: np.ndarray, test_days: float, method: str = "log-linear trend"
                ) -> list[float]:  # fmt: skip
    """Out-of-sample log errors of ``method`` (``log-linear trend`` or ``exponential
    smoothing``) at earlier origins: stepping back from the last week by windows as long as
    the test window (whole weeks), the method fitted on the :data:`TREND_WEEKS` weeks before
    each earlier origin (at least 6) against the log mean weekly count of the window that
    followed it, most recent first."""
    c = np.asarray(weekly, float)
    step = max(round(test_days / 7.0), 1)
    out = []
    end = len(c) - step
    while end >= 6:
        f = _FITS[method](c[:end][-TREND_WEEKS:], step * 7.0)
        if f is not None:
            out.append(math.log(float(c[end:end + step].mean()) + 0.5) - f[0])
        end -= step
    return out


def volume_trend(weekly: np.ndarray, test_days: float, calibrated_per_month: float
                 ) -> Trend | None:  # fmt: skip
    """The volume of the next ``test_days`` days predicted from the last :data:`TREND_WEEKS`
    of ``weekly`` (counts of the 7-day weeks before the origin, oldest first): a log-linear
    trend (the fitted line's level at the window's middle, its standard error plus the
    residual weekly noise averaged over the window's weeks) or, where the weeks before reach
    back far enough to judge, whichever of the trend and simple exponential smoothing (a local
    level that follows shifts, :func:`_smoothing_fit`) had the smaller root mean square log
    error at the export's earlier origins (:func:`past_errors`, at least
    :data:`MIN_PAST_ERRORS`). The interval is the chosen
    method's own or, when larger, its root mean square error at the earlier origins (Student t
    with as many degrees of freedom as errors): a level shift the method cannot see is as
    likely as the export showed it to be. None with fewer than 6 weeks or nothing to scale."""
    c = np.asarray(weekly, float)
    method = "log-linear trend"
    fit = _trend_fit(c[-TREND_WEEKS:], test_days)
    if fit is None or calibrated_per_month <= 0:
        return None
    errs = past_errors(c, test_days, method)
    if len(errs) >= MIN_PAST_ERRORS:
        smooth = past_errors(c, test_days, "exponential smoothing")
        if _rms(smooth) < _rms(errs):
            method, errs = "exponential smoothing", smooth
            fit = _smoothing_fit(c[-TREND_WEEKS:], test_days)
    assert fit is not None
    mean, se, df = fit
    model_se = se
    if len(errs) >= MIN_PAST_ERRORS and _rms(errs) > se:
        se, df = _rms(errs), len(errs)
    per_month = math.exp(mean) / 7.0 * 365.25 / 12
    return Trend([int(v) for v in c[-TREND_WEEKS:]], mean, se, df,
                 per_month / calibrated_per_month, errs, model_se, method)


def _rms(e: list[float]) -> float:
    return math.sqrt(float(np.mean(np.square(e)))) if e else math.inf


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
    centre = {e.path: e.value for e, _ in plan}
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
                dist = ch[rest.split(".")[0]]
                if "values" in dist:  # resampled from the data: every value scaled alike
                    k = v / centre.get(path, float(np.mean(dist["values"])))
                    dist["values"] = [x * k for x in dist["values"]]
                else:
                    dist["mean"] = v
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
        u = _new_cohort(rng, len(spread.get("p_ever_won", {})), reps)
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
    close = cal.checks.get("close_cohorts", {})
    tau_w = float(close.get("between_cohort_sd_logit", 0.0))
    if tau_w > 0:  # an opportunity table: the win rate itself moves on its logit scale
        u = _new_cohort(rng, len(close.get("won_share_of_closed", {})), reps)
        out["cohort win rate"] = u
        for e in cal.estimates:
            if e.derived or not e.path.endswith("].win_rate"):
                continue
            for r in range(reps):
                w = min(max(values[r].get(e.path, e.value), 1e-9), 1 - 1e-9)
                values[r][e.path] = float(special.expit(special.logit(w) + tau_w * u[r]))
    if tau_s <= 0:
        tau_s = float(close.get("between_cohort_sd_log_time", 0.0))
        spread = {"time_to_win_days_mean": close.get("time_to_close_days_mean", {})}
    delay = float(cal.checks.get("won_cure_model", {}).get(
        "simulated_mql_to_opportunity_days", 0.0))
    if tau_s > 0:
        v = _new_cohort(rng, len(spread.get("time_to_win_days_mean", {})), reps)
        out["cohort speed"] = v
        k = np.exp(tau_s * v)
        for c in sc.channels:
            path = f"channels[{c.name}].cycle_days.mean"
            for r in range(reps):
                cyc = values[r].get(path, c.cycle_days.mean)
                values[r][path] = float(max((cyc + delay) * k[r] - delay, 0.05 * cyc))
        cap = next((e for e in cal.estimates if e.path == "ae.max_open_opportunities"), None)
        if cap is not None and cap.value == sc.ae.max_open_opportunities:
            # the most deals one owner held open, at the export's speed: a cohort k times
            # slower holds k times more with the same flow
            for r in range(reps):
                values[r][cap.path] = float(math.ceil(cap.value * max(float(k[r]), 1.0)))
    return out


def _new_cohort(rng: np.random.Generator, k: int, reps: int) -> np.ndarray:
    """Standardised draws of a new cohort's effect when the between-cohort spread was
    estimated from ``k`` cohorts: Student t with ``max(k - 2, 1)`` degrees of freedom, the
    prediction interval of a new study in a random-effects meta-analysis (Higgins, Thompson
    and Spiegelhalter 2009, J. R. Stat. Soc. A 172:137), which carries the uncertainty of a
    spread measured on few cohorts; normal when ``k`` is not known (0)."""
    if k <= 0:
        return rng.standard_normal(reps)
    return rng.standard_t(max(k - 2, 1), reps)


def _set_scalar(data: dict[str, Any], path: str, v: float) -> dict[str, Any]:
    """Set a dotted scalar path (``follow_up.contact.p_initial``, ``handoff.x.mean``)."""
    cur = data
    parts = path.split(".")
    for p in parts[:-1]:
        cur = cur[p]
    if parts[-1] == "p_floor":
        v = min(v, cur.get("p_initial", v))
    if isinstance(cur.get(parts[-1]), int):
        v = round(v)
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
