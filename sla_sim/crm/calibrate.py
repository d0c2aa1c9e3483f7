"""Calibrate a scenario from a CRM export, with right-censoring handled.

Every parameter the export identifies is fitted with a 95% interval and its provenance (the
fields and counts it rests on, the method); every other parameter keeps the base scenario's
value and is listed as such. Leads still open at ``exported_at`` are censored observations:

- conversion of opportunities to won / lost / still open is a competing-risks problem:
  Aalen-Johansen cumulative incidence (:func:`~sla_sim.crm.survival.aalen_johansen`); the win
  rate is the won share of the closed incidence at the longest follow-up;
- durations (sales cycle, handoff delay) are censored maximum-likelihood fits
  (:func:`~sla_sim.crm.survival.censored_fit`); with no lost outcomes at all (a table of won
  deals only), a mixture cure model gives P(ever won) and the time to win;
- the naive estimates (won / all SQLs, cycle of closed deals only) are computed too and shown
  beside the censored ones in ``calibration.json`` - never used.

What comes from where (scenario path: export fields):

=====================================  ===========================================
channels[*].leads_per_month            created_at, channel (exposure to exported_at)
arrivals.weekday/hour_weights          created_at (local time)
arrivals.daily_volume_cv               created_at per day and channel
channels[*].score_alpha/beta           score;  mql_threshold_points: score, mql_at
channels[*].segment_mix                segment
handoff.ops_delay_hours                mql_at, routed_at (realtime handoff)
follow_up.contact.*                    activities: time since MQL, attempt number, outcome
follow_up.attempt_minutes              activity_duration_minutes
channels[*].sql_rate, score slope      reached leads' dispositions (sql_at vs disqualified /
                                       recycled), score
follow_up.disqualify_share             disqualified_at vs recycled_at of reached leads
channels[*].win_rate                   opportunity_opened_at, closed_at, stage
channels[*].cycle_days                 opportunity_opened_at, closed_at (censored)
channels[*].deal_value                 amount of won deals
teams[*].reps, calendar hours          activity owners and times (or lead owners)
ae.count                               opportunity_owner
=====================================  ===========================================
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from sla_sim.crm.load import CrmExport
from sla_sim.crm.mql_share import NURTURE_EVIDENCE, alpha_for_share, mql_counts, p_mql
from sla_sim.crm.survival import (
    Z95,
    _hessian,
    _safe_inv,
    aalen_johansen,
    best_censored_fit,
    cohort_spread,
    cure_fit,
)
from sla_sim.events import CODE
from sla_sim.scenario import Scenario
from sla_sim.scenario.distributions import Exponential, Gamma, LogNormal
from sla_sim.stats import wilson_interval

__all__ = ["Calibration", "Estimate", "calibrate"]

HOURS_PER_MONTH = 365.25 / 12 * 24
_NS_PER_H = 3_600_000_000_000
MIN_EVENTS = 20  # fewer events than this in a channel: the channel uses the pooled estimate
SQL_RATE_CAP = 0.99  # highest sql_rate a derived split applies (beyond it: the win rate)


@dataclass
class Estimate:
    """One fitted parameter: scenario path, value, 95% interval, unit, method, data used."""

    path: str
    value: float
    low: float
    high: float
    unit: str
    method: str
    n: int
    fields: str
    exact: bool = False  # identified exactly (counts, observed hours), no sampling interval
    derived: bool = False  # not identified: solved from identified ones and kept base values

    def covers(self, truth: float) -> bool:
        """Whether ``truth`` lies inside the interval."""
        return self.low - 1e-12 <= truth <= self.high + 1e-12

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (rounded) form."""
        def r(v: float | None) -> float | None:
            return None if v is None or not np.isfinite(v) else float(f"{v:.6g}")

        return {"path": self.path, "value": r(self.value), "low": r(self.low),
                "high": r(self.high), "unit": self.unit, "method": self.method, "n": self.n,
                "fields": self.fields, "exact": self.exact,
                "derived": self.derived}  # fmt: skip


@dataclass
class Calibration:
    """The calibrated scenario and everything needed to trust it."""

    scenario: Scenario
    estimates: list[Estimate]
    not_identified: list[dict[str, str]]
    naive: dict[str, Any]
    export: dict[str, Any]
    checks: dict[str, Any] = field(default_factory=dict)

    def get(self, path: str) -> Estimate:
        """The estimate of one scenario path."""
        for e in self.estimates:
            if e.path == path:
                return e
        raise KeyError(path)

    def as_dict(self) -> dict[str, Any]:
        """``calibration.json``: aggregates only."""
        return {"scenario": self.scenario.name, "export": self.export,
                "estimates": [e.as_dict() for e in self.estimates],
                "not_identified": self.not_identified, "naive_estimates": self.naive,
                "checks": self.checks}  # fmt: skip


# ---------------------------------------------------------------------------------- helpers
def _h(a: pd.Series | np.ndarray) -> np.ndarray:
    """datetime64[ns, UTC] -> float hours since the epoch (NaN where missing)."""
    s = pd.Series(a) if not isinstance(a, pd.Series) else a
    if isinstance(s.dtype, pd.DatetimeTZDtype):  # int64 view, no conversion through objects
        i = s.astype("datetime64[ns, UTC]").array.asi8
        out = i / _NS_PER_H
        out[i == np.iinfo(np.int64).min] = np.nan
        return out
    v = s.to_numpy(dtype="datetime64[ns]")
    out = v.astype(np.int64) / _NS_PER_H
    out[np.isnat(v)] = np.nan
    return out


def _lognormal_fit(x: np.ndarray) -> tuple[float, float, tuple[float, float], tuple[float, float]]:
    """Log-normal (mean, cv) by maximum likelihood, with 95% intervals: the cv from the exact
    chi-square interval of the log variance, the mean by Cox's method (t quantile)."""
    lx = np.log(x)
    n = len(lx)
    mu, s2 = float(lx.mean()), float(lx.var())
    S2 = float(lx.var(ddof=1))
    mean = math.exp(mu + s2 / 2)
    cv = math.sqrt(math.expm1(s2))
    se = math.sqrt(S2 / n + S2 * S2 / (2 * (n - 1)))
    tq = float(stats.t.ppf(0.975, n - 1))
    centre = mu + S2 / 2
    lo2 = (n - 1) * S2 / float(stats.chi2.ppf(0.975, n - 1))
    hi2 = (n - 1) * S2 / float(stats.chi2.ppf(0.025, n - 1))
    return (mean, cv, (math.exp(centre - tq * se), math.exp(centre + tq * se)),
            (math.sqrt(math.expm1(lo2)), math.sqrt(math.expm1(hi2))))


def _dist(kind: str, mean: float, cv: float) -> Any:
    if kind == "lognormal":
        return LogNormal(mean=mean, cv=cv)
    if kind == "exponential":
        return Exponential(mean=mean)
    return Gamma(mean=mean, cv=cv)


def _fit_kind(base_dist: Any) -> str:
    kind = getattr(base_dist, "kind", "gamma")
    return kind if kind in ("gamma", "lognormal", "exponential") else "gamma"


# ---------------------------------------------------------------------------------- calibrate
def calibrate(export: CrmExport, base: Scenario, name: str | None = None) -> Calibration:
    """Fit every parameter ``export`` identifies onto a copy of ``base`` (see the module doc)."""
    cal = _Calibrator(export, base)
    cal.run()
    sc = cal.build(name or f"{base.name}_calibrated")
    if getattr(cal, "cure", None) is not None and "sql_at" not in cal.H:
        sc = cal.match_won_curve(sc, name or f"{base.name}_calibrated")
    return Calibration(sc, cal.est, cal.kept(), cal.naive, export.report(), cal.checks)


class _Calibrator:
    def __init__(self, export: CrmExport, base: Scenario) -> None:
        self.x = export
        self.base = base
        self.L = export.leads
        self.C = export.exported_at.value / _NS_PER_H  # hours since epoch
        self.tz = export.mapping.timezone
        self.est: list[Estimate] = []
        self.naive: dict[str, Any] = {}
        self.checks: dict[str, Any] = {}
        self.updates: dict[str, Any] = {}  # scenario path -> value
        self.channels = sorted(self.L["channel"].astype(str).unique())
        self.ch = pd.Categorical(self.L["channel"].astype(str), self.channels).codes
        self.H = {c: _h(self.L[c]) for c in self.L.columns if c.endswith("_at")}
        base_ch = {c.name: c for c in base.channels}
        self.base_ch = {c: base_ch.get(c, base.channels[0]) for c in self.channels}
        self.trend = self.every_row_mql = False  # set by volumes() when there are days enough

    def add(self, path: str, value: float, ci: tuple[float, float], unit: str, method: str,
            n: int, fields: str, exact: bool = False, apply: Any = None,
            derived: bool = False) -> None:  # fmt: skip
        self.est.append(Estimate(path, float(value), float(ci[0]), float(ci[1]), unit, method,
                                 int(n), fields, exact, derived))  # fmt: skip
        if isinstance(apply, (Gamma, LogNormal, Exponential)):  # the whole distribution
            self.updates[path.rsplit(".", 1)[0]] = apply
        else:
            self.updates[path] = value if apply is None else apply

    # ------------------------------------------------------------------ steps
    def run(self) -> None:
        self.volumes()
        self.scores()
        self.mql_share()
        self.handoff()
        self.contact()
        self.first_touch()
        self.qualification()
        self.sales()
        self.capacity()

    def volumes(self) -> None:
        created = self.L["created_at"].dt.tz_convert(self.tz)
        day = created.dt.tz_localize(None).dt.normalize()  # local calendar days (naive)
        first_day = day.min()
        vol_end = self.x.exported_at
        until = self.x.mapping.created_until
        if until is not None:  # a sample of the leads created before ``until``
            u = pd.Timestamp(until)
            u = (u.tz_localize(self.tz) if u.tzinfo is None else u).tz_convert("UTC")
            vol_end = min(vol_end, u)
        last_full = pd.Timestamp(vol_end).tz_convert(self.tz).tz_localize(None).normalize()
        start = first_day.tz_localize(self.tz, nonexistent="shift_forward",
                                      ambiguous=False).tz_convert("UTC")
        hours = (vol_end - start).total_seconds() / 3600
        self.vol_end_h = vol_end.value / _NS_PER_H
        self.exposure_h = hours
        days = pd.date_range(first_day, last_full, freq="D", inclusive="left")
        nd = len(days)
        self.checks["exposure_days"] = round(hours / 24, 2)
        if nd < 7:
            return
        d_idx = ((day - first_day).dt.days).to_numpy()
        full = d_idx < nd
        counts = np.zeros((len(self.channels), nd))
        np.add.at(counts, (self.ch[full], d_idx[full]), 1)
        wd = np.asarray(days.day_of_week)
        # weekday weights: mean daily count per weekday / mean of the seven; bootstrap of days
        rng = np.random.default_rng(0)
        tot = counts.sum(0)

        def wd_weights(t: np.ndarray, w: np.ndarray) -> np.ndarray:
            m = np.array([t[w == k].mean() if (w == k).any() else np.nan for k in range(7)])
            return m / np.nanmean(m)

        ww = wd_weights(tot, wd)
        # delta method for r_k = 7 M_k / sum_j M_j with independent weekday means M_j (their
        # variances from the days' own spread), t quantile for the few days per weekday
        M = np.array([tot[wd == k].mean() if (wd == k).any() else np.nan for k in range(7)])
        nk = np.array([(wd == k).sum() for k in range(7)])
        vM = np.array([tot[wd == k].var(ddof=1) / nk[k] if nk[k] > 1 else np.inf
                       for k in range(7)])  # fmt: skip
        S = np.nansum(M)
        bq = np.empty((2, 7))
        for k in range(7):
            g = -7 * M[k] / S**2 * np.ones(7)
            g[k] = 7 * (S - M[k]) / S**2
            se = math.sqrt(float(np.sum(g * g * vM)))
            tq = float(stats.t.ppf(0.975, max(nk[k] - 1, 1)))
            bq[:, k] = (ww[k] - tq * se, ww[k] + tq * se)
        if np.all(np.isfinite(ww)) and nd >= 14:
            for k in range(7):
                self.add(f"arrivals.weekday_weights[{k}]", ww[k], (bq[0, k], bq[1, k]),
                         "relative (mean 1)", "mean daily leads by weekday, delta method",
                         int(tot[wd == k].sum()), "created_at")  # fmt: skip
            self.updates["arrivals.weekday_weights"] = [float(v) for v in ww]
        # hour weights: share of leads by local hour (multinomial given the day totals)
        hr = created.dt.hour.to_numpy()
        hc = np.bincount(hr, minlength=24)
        N = int(hc.sum())
        hw = 24 * hc / N
        for h in range(24):
            lo, hi = wilson_interval(int(hc[h]), N)
            self.add(f"arrivals.hour_weights[{h}]", hw[h], (24 * lo, 24 * hi),
                     "relative (mean 1)", "share of leads by local hour, Wilson", N,
                     "created_at")  # fmt: skip
        if hc.min() > 0:
            self.updates["arrivals.hour_weights"] = [float(v) for v in hw]
        else:  # a weight of 0 stays allowed, but keep a trace of each hour
            self.updates["arrivals.hour_weights"] = [float(max(v, 1e-3)) for v in hw]
        # daily over-dispersion: x ~ Poisson(m G), G ~ Gamma(1, cv^2) per channel and day.
        # A trend (growth) would count as dispersion: if the last third of the days differs
        # from the first third by more than 4 standard errors, the expected count of a day is
        # the centred 57-day mean around it, and volumes come from the last 91 days.
        adj = tot / ww[wd] if np.all(np.isfinite(ww)) else tot
        third = max(nd // 3, 1)
        a, b = adj[:third], adj[-third:]
        se_diff = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)) if third > 1 else 0
        self.trend = bool(third > 7 and abs(b.mean() - a.mean()) > 4 * se_diff)
        wdw = ww[wd] if np.all(np.isfinite(ww)) else np.ones(nd)
        if self.trend:
            base_rate = np.array([pd.Series(counts[c] / wdw).rolling(57, center=True,
                                  min_periods=15).mean().to_numpy() for c in
                                  range(len(self.channels))])  # fmt: skip
            m = base_rate * wdw[None, :]
            self.checks["volume_trend"] = {
                "first_third_daily_mean": round(float(a.mean()), 2),
                "last_third_daily_mean": round(float(b.mean()), 2),
                "note": "dispersion measured around a centred 57-day mean; volumes from the"
                        " last 91 days"}  # fmt: skip
        else:
            rate = counts.sum(1) / nd  # per channel, per day (weekday-weighted mean)
            m = rate[:, None] * wdw[None, :]

        def cv2(c: np.ndarray, mm: np.ndarray) -> float:
            return float(np.nansum((c - mm) ** 2 - c) / np.nansum(mm**2))

        v = cv2(counts, m)
        bcv = []
        for _ in range(200):
            pick = rng.integers(0, nd, nd)
            bcv.append(cv2(counts[:, pick], m[:, pick]))
        lo2, hi2 = np.percentile(bcv, [2.5, 97.5])
        cv = math.sqrt(max(v, 0.0))
        self.add("arrivals.daily_volume_cv", cv, (math.sqrt(max(lo2, 0)), math.sqrt(max(hi2, 0))),
                 "coefficient of variation", "moments of daily counts per channel (gamma-"
                 "Poisson)" + (", around a 57-day trend" if self.trend else "")
                 + ", day bootstrap", nd, "created_at, channel")  # fmt: skip
        # volumes per channel: count / exposure; variance from the days around their means
        imm = None
        if "mql_at" in self.H:
            imm = float(np.mean(np.abs(self.H["mql_at"] - self.H["created_at"]) < 1 / 60))
        every_row_mql = "mql_at" not in self.H or (imm is not None and imm > 0.999)
        self.every_row_mql = every_row_mql
        sel_days = np.arange(nd) >= (nd - 91 if self.trend and nd > 91 else 0)
        span_h = hours if not self.trend or nd <= 91 else 91 * 24.0
        for c, name in enumerate(self.channels):
            n_c = int(counts[c, sel_days].sum()) if self.trend and nd > 91 else int(
                (self.ch == c).sum())
            lpm = n_c / span_h * HOURS_PER_MONTH
            var = max(float(((counts[c, sel_days] - m[c, sel_days]) ** 2).sum()),
                      n_c + max(v, 0.0) * float((m[c, sel_days] ** 2).sum()))
            se = math.sqrt(var) / span_h * HOURS_PER_MONTH
            how = "leads / exposure"
            if self.trend and nd > 91:
                how = "leads / exposure over the last 91 days (volume trend)"
            ci = (lpm - Z95 * se, lpm + Z95 * se)
            if every_row_mql:  # the export identifies MQLs per month, not raw leads
                self.add(f"channels[{name}].mqls_per_month", lpm, ci, "MQLs per month",
                         how.replace("leads", "MQLs", 1) + "; every row is an MQL; interval"
                         " from the daily counts", n_c, "created_at, channel")  # fmt: skip
                self.updates.pop(f"channels[{name}].mqls_per_month")
                continue
            self.add(f"channels[{name}].leads_per_month", lpm, ci, "leads per month",
                     how + "; interval from the daily counts", n_c,
                     "created_at, channel")  # fmt: skip

    def scores(self) -> None:
        if "score" not in self.L.columns:
            return
        s = self.L["score"].to_numpy(float) / 100.0
        for c, name in enumerate(self.channels):
            x = s[(self.ch == c) & np.isfinite(s)]
            x = np.clip(x, 1e-6, 1 - 1e-6)
            if len(x) < MIN_EVENTS:
                continue

            s1, s2, nx = float(np.log(x).sum()), float(np.log1p(-x).sum()), len(x)

            def nll(p: np.ndarray, s1: float = s1, s2: float = s2, nx: int = nx) -> float:
                a, b = math.exp(p[0]), math.exp(p[1])
                return float(-((a - 1) * s1 + (b - 1) * s2 - nx * special.betaln(a, b)))

            mx, vx = float(x.mean()), float(x.var())
            common = max(mx * (1 - mx) / max(vx, 1e-9) - 1, 1e-3)  # method of moments start
            res = optimize.minimize(nll, np.log([mx * common, (1 - mx) * common]),
                                    method="BFGS")
            cov = _safe_inv(_hessian(nll, res.x))
            for i, par in enumerate(("score_alpha", "score_beta")):
                v = math.exp(res.x[i])
                se = math.sqrt(cov[i, i])
                self.add(f"channels[{name}].{par}", v, (v * math.exp(-Z95 * se),
                                                        v * math.exp(Z95 * se)),
                         "Beta parameter of score/100", "maximum likelihood", len(x),
                         "score")  # fmt: skip
        if "mql_at" in self.H:
            imm = np.abs(self.H["mql_at"] - self.H["created_at"]) < 1 / 60
            sc = self.L["score"].to_numpy(float)
            ok = np.isfinite(sc)
            if (imm & ok).sum() and (~imm & ok).sum():
                lo_v = float(sc[~imm & ok & (sc < sc[imm & ok].min())].max(initial=0.0))
                hi_v = float(sc[imm & ok].min())
                self.add("mql_threshold_points", hi_v, (lo_v, hi_v), "points",
                         "lowest score of leads that were MQLs at creation (bracketed by the"
                         " highest score below it that was not)", int(ok.sum()),
                         "score, mql_at, created_at", exact=True)  # fmt: skip
                self.checks["mql_share_at_creation"] = round(float(imm.mean()), 4)
        if "segment" in self.L.columns and self.L["segment"].nunique() > 1:
            for c, name in enumerate(self.channels):
                seg = self.L.loc[self.ch == c, "segment"].astype(str)
                vc = seg.value_counts()
                mix = {str(k): float(v / vc.sum()) for k, v in vc.items()}
                self.updates[f"channels[{name}].segment_mix"] = mix

    def mql_share(self) -> None:
        """MQLs at creation per channel (see :mod:`sla_sim.crm.mql_share`); nurture
        re-qualification only where the export shows MQLs dated after creation."""
        if "mql_at" not in self.H:
            return
        thr = self.base.mql_threshold_points
        n, k, later = mql_counts(self.H["created_at"], self.H["mql_at"], self.ch,
                                 len(self.channels))  # fmt: skip
        mqls = int(k.sum()) + later
        self.checks["mqls_dated_after_creation"] = {"count": later, "of_mqls": mqls}
        if mqls and later / mqls < NURTURE_EVIDENCE:
            self.updates["nurture.engage_probability"] = 0.0
            self.checks["nurture"] = ("off: no MQL in the export came later than its creation"
                                      f" ({later} of {mqls:,}), so the model adds none")
        elif mqls:
            self.checks["nurture"] = (f"kept from {self.base.name}: {later:,} of {mqls:,} MQLs"
                                      " came after their creation (re-qualification)")
        for c, name in enumerate(self.channels):
            bc = self.base_ch[name]
            if self.every_row_mql:  # leads = MQLs / P(MQL) of the kept score distribution
                est = next((e for e in self.est
                            if e.path == f"channels[{name}].mqls_per_month"), None)
                if est is None:
                    continue
                pm = p_mql(bc.score_alpha, bc.score_beta, thr)
                self.updates[f"channels[{name}].leads_per_month"] = est.value / pm
                self.checks.setdefault("leads_from_mqls", {})[name] = round(pm, 4)
                continue
            if "score" in self.L.columns or n[c] < MIN_EVENTS or not 0 < k[c] < n[c]:
                continue
            lo, hi = wilson_interval(int(k[c]), int(n[c]))
            share = k[c] / n[c]
            self.add(f"channels[{name}].mql_share", share, (lo, hi), "probability",
                     "MQLs at creation / leads (MQL dated within a minute of creation),"
                     " Wilson; applied through score_alpha (score_beta and the threshold"
                     " kept)", int(n[c]), "created_at, mql_at, channel")  # fmt: skip
            self.updates.pop(f"channels[{name}].mql_share")
            self.updates[f"channels[{name}].score_alpha"] = alpha_for_share(
                share, bc.score_beta, thr)
        if self.every_row_mql:
            self.checks["leads_from_mqls_note"] = (
                "every row is an MQL: the scenario's leads_per_month is MQLs per month divided"
                " by P(MQL) of the kept score distribution (listed above per channel)")

    def handoff(self) -> None:
        if "routed_at" not in self.H or "mql_at" not in self.H:
            return
        if self.base.handoff.mode != "realtime":
            return
        mql, routed = self.H["mql_at"], self.H["routed_at"]
        m = np.isfinite(mql)
        obs = np.isfinite(routed[m])
        t = np.where(obs, routed[m] - mql[m], self.C - mql[m])
        if obs.sum() < MIN_EVENTS:
            return
        f = best_censored_fit(t, obs)
        kind = f.kind
        self.add("handoff.ops_delay_hours.mean", f.mean, f.mean_ci, "hours",
                 f"censored {kind} MLE of MQL to routed (unrouted MQLs censored at export)",
                 f.events, "mql_at, routed_at", apply=_dist(kind, f.mean, f.cv))  # fmt: skip
        if kind != "exponential":
            self.add("handoff.ops_delay_hours.cv", f.cv, f.cv_ci, "-", "same fit", f.events,
                     "mql_at, routed_at", apply=None)  # fmt: skip
            self.updates.pop("handoff.ops_delay_hours.cv")

    def _attempts(self) -> pd.DataFrame | None:
        """Activities on MQLs (at or after the MQL), numerically: lead, at and age (hours),
        outcome code (1 reached, 0 no answer, -1 other or unknown), owner code, duration,
        and ``k``, the attempt number per lead in time order."""
        A = self.x.activities
        if A is None or not len(A):
            return None
        mql = self.H.get("mql_at", self.H["created_at"])
        lead = A["lead"].to_numpy(np.int64)
        at = _h(A["at"])
        keep = np.isfinite(mql[lead]) & (at >= mql[lead])
        cols: dict[str, np.ndarray] = {"lead": lead[keep], "at": at[keep],
                                       "age": at[keep] - mql[lead[keep]]}  # fmt: skip
        if "outcome" in A.columns:
            reached = (A["outcome"] == "reached").fillna(False).to_numpy(bool)
            no = (A["outcome"] == "no_answer").fillna(False).to_numpy(bool)
            cols["outcome"] = np.where(reached, 1, np.where(no, 0, -1))[keep]
        if "owner" in A.columns:
            cols["owner"] = pd.factorize(A["owner"], use_na_sentinel=True)[0][keep]
        if "duration_minutes" in A.columns:
            cols["duration_minutes"] = A["duration_minutes"].to_numpy(float)[keep]
        order = np.lexsort((cols["at"], cols["lead"]))
        cols = {c: v[order] for c, v in cols.items()}
        ld = cols["lead"]
        start = np.ones(len(ld), dtype=bool)
        start[1:] = ld[1:] != ld[:-1]
        first = np.maximum.accumulate(np.where(start, np.arange(len(ld)), 0))
        cols["k"] = np.arange(len(ld)) - first
        return pd.DataFrame(cols)

    def contact(self) -> None:
        self.att = att = self._attempts()
        if att is None:
            return
        if "duration_minutes" in att.columns:
            d = att["duration_minutes"].to_numpy(float)
            d = d[np.isfinite(d) & (d > 0)]
            if len(d) >= MIN_EVENTS:
                # an activity lasts work / (1 - shrinkage) rep minutes in the model
                keep = 1.0 - self.base.teams[0].shrinkage
                mean, cv, mci, cci = _lognormal_fit(d)
                for par, v, ci in (("mean", mean, mci), ("cv", cv, cci)):
                    self.add(f"activity_minutes.{par}", v, ci, "minutes" if par == "mean"
                             else "-", "log-normal MLE of activity durations", len(d),
                             "activity_duration_minutes", apply=False)  # fmt: skip
                    self.updates.pop(f"activity_minutes.{par}")
                self.add("follow_up.attempt_minutes.mean", mean * keep,
                         (mci[0] * keep, mci[1] * keep), "minutes",
                         f"derived: activity duration x (1 - shrinkage {1 - keep:g} of"
                         f" {self.base.name}, not identified)", len(d),
                         "activity_duration_minutes", apply=LogNormal(mean=mean * keep, cv=cv),
                         derived=True)  # fmt: skip
                self.add("follow_up.attempt_minutes.cv", cv, cci, "-", "same fit", len(d),
                         "activity_duration_minutes", derived=True)  # fmt: skip
                self.updates.pop("follow_up.attempt_minutes.cv")
        if "outcome" not in att.columns:
            return
        o = att["outcome"].to_numpy()
        known = o >= 0
        y_all = (o == 1)[known].astype(float)
        age_all = np.maximum(att["age"].to_numpy(float)[known], 0.0)
        k_all = att["k"].to_numpy(np.int64)[known]
        n_obs = len(y_all)
        if n_obs < 50 or y_all.sum() < MIN_EVENTS:
            return
        # binomial cells: attempt number x age on a 0.5%-relative grid (the curve is smooth;
        # millions of attempts become a few thousand cells)
        age_bin = np.round(np.log1p(age_all / 0.01) * 200).astype(np.int64)
        cell, inv = np.unique(k_all * 1_000_000 + age_bin, return_inverse=True)
        trials = np.bincount(inv).astype(float)
        y = np.bincount(inv, weights=y_all)
        age = np.bincount(inv, weights=age_all) / trials
        k = (cell // 1_000_000).astype(float)
        spec = self.base.follow_up.contact
        shape = spec.shape

        def prob(p: np.ndarray) -> np.ndarray:
            p0, pf, hl, dec = p
            f = np.exp2(-age / hl) if shape == "exponential" else 1.0 / (1.0 + age / hl)
            return np.clip(dec**k * (pf + (p0 - pf) * f), 1e-12, 1 - 1e-12)

        def nll(p: np.ndarray) -> float:
            pr = prob(p)
            return float(-(y * np.log(pr) + (trials - y) * np.log1p(-pr)).sum())

        # a start from the data, not from the base (the maximum must not depend on it)
        p_first = float(y_all[k_all == 0].mean()) if (k_all == 0).any() else float(y_all.mean())
        p_first = min(max(p_first, 0.01), 0.99)
        x0 = np.array([p_first, 0.5 * p_first, 24.0, 0.9])
        bounds = [(1e-4, 1.0), (0.0, 1.0), (1e-3, 1e4), (1e-3, 1.0)]
        res = optimize.minimize(nll, x0, method="L-BFGS-B", bounds=bounds)
        p = res.x
        cov = _safe_inv(_hessian(nll, p, h=1e-5 * np.maximum(np.abs(p), 1e-2).min()))
        names = [("follow_up.contact.p_initial", "probability"),
                 ("follow_up.contact.p_floor", "probability"),
                 ("follow_up.contact.half_life_hours", "hours"),
                 ("follow_up.contact.attempt_decay", "factor per attempt")]  # fmt: skip
        p = p.copy()
        p[1] = min(p[1], p[0])
        for i, (path, unit) in enumerate(names):
            se = math.sqrt(cov[i, i]) if np.isfinite(cov[i, i]) else math.inf
            lo, hi = p[i] - Z95 * se, p[i] + Z95 * se
            lo, hi = max(lo, bounds[i][0] if i != 1 else 0.0), min(hi, bounds[i][1])
            self.add(path, p[i], (lo, hi), unit, f"Bernoulli MLE of attempt outcomes on age"
                     f" since MQL and attempt number ({shape} curve), Wald interval",
                     n_obs, "activity_at, activity_outcome, mql_at")  # fmt: skip

    def first_touch(self) -> None:
        """MQL -> first touch in clock hours: Kaplan-Meier (``scipy.stats.ecdf``), MQLs not
        yet touched censored at the export. An outcome of capacity and policy, not a scenario
        parameter: reported in ``checks`` as the target a calibrated run should reproduce."""
        mql = self.H.get("mql_at", self.H["created_at"])
        touch = self.H.get("first_touch_at", np.full(len(mql), np.nan)).copy()
        att = getattr(self, "att", None)
        if att is not None and len(att):
            first = att[att["k"] == 0]
            t_act = np.full(len(mql), np.nan)
            t_act[first["lead"].to_numpy(np.int64)] = first["at"].to_numpy(float)
            touch = np.fmin(touch, t_act)
        m = np.isfinite(mql)
        if not np.isfinite(touch[m]).sum() >= MIN_EVENTS:
            return
        obs = np.isfinite(touch[m])
        t = np.maximum(np.where(obs, touch[m] - mql[m], self.C - mql[m]), 0.0)
        from sla_sim.crm.survival import kaplan_meier

        km = kaplan_meier(t, obs)
        with warnings.catch_warnings():  # undefined (NaN) where the curve reaches 0: unused
            warnings.simplefilter("ignore", RuntimeWarning)
            ci = km.sf.confidence_interval(0.95)
        q, sf = km.sf.quantiles, km.sf.probabilities

        def when(p: float, surv: np.ndarray) -> float | None:
            hit = np.flatnonzero(surv <= 1 - p)
            return None if not len(hit) else round(float(q[hit[0]]), 4)

        self.checks["first_touch_delay_hours"] = {
            "method": "Kaplan-Meier of MQL to first touch (clock hours), untouched MQLs"
                      " censored at the export", "touched": int(obs.sum()),
            "censored": int((~obs).sum()),
            "median": when(0.5, sf), "median_ci": [when(0.5, ci.low.probabilities),
                                                   when(0.5, ci.high.probabilities)],
            "p90": when(0.9, sf)}  # fmt: skip

    def qualification(self) -> None:
        H = self.H
        if "sql_at" not in H:
            return
        n = len(self.L)
        sql = np.isfinite(H["sql_at"])
        disq = np.isfinite(H.get("disqualified_at", np.full(n, np.nan)))
        rec = np.isfinite(H.get("recycled_at", np.full(n, np.nan)))
        att = getattr(self, "att", None)
        reached = np.zeros(n, bool)
        if att is not None and "outcome" in att.columns:
            reached[att.loc[att["outcome"] == 1, "lead"].to_numpy(np.int64)] = True
        self.naive["sql_rate_of_all_mqls"] = round(float(sql.mean()), 6)
        if reached.sum() >= MIN_EVENTS:
            disp = reached & (sql | disq | rec)
            y = sql[disp].astype(float)
            chn = self.ch[disp]
            fu = self.base.follow_up
            if "score" in self.L.columns:
                z = (self.L["score"].to_numpy(float)[disp] - fu.reference_score_points) / 10
                z = np.nan_to_num(z)
                fit_slope = True
            else:
                z = np.zeros(int(disp.sum()))
                fit_slope = False
            used = [c for c in range(len(self.channels)) if (chn == c).sum() >= MIN_EVENTS]
            groups = np.array([used.index(c) if c in used else len(used) for c in chn])
            ng = len(used) + (1 if (groups == len(used)).any() else 0)
            X = np.zeros((len(y), ng + fit_slope))
            X[np.arange(len(y)), groups] = 1.0
            if fit_slope:
                X[:, -1] = z
            beta = np.zeros(X.shape[1])
            for _ in range(50):  # Newton-Raphson for the logistic regression
                eta = X @ beta
                pr = special.expit(eta)
                W = pr * (1 - pr)
                g = X.T @ (y - pr)
                Hm = X.T @ (X * W[:, None])
                step = np.linalg.solve(Hm + 1e-9 * np.eye(len(beta)), g)
                beta += step
                if np.abs(step).max() < 1e-10:
                    break
            cov = _safe_inv(Hm)
            for gi in range(ng):
                names = ([self.channels[used[gi]]] if gi < len(used) else
                         [self.channels[c] for c in range(len(self.channels)) if c not in used])
                se = math.sqrt(cov[gi, gi])
                v = float(special.expit(beta[gi]))
                ci = (float(special.expit(beta[gi] - Z95 * se)),
                      float(special.expit(beta[gi] + Z95 * se)))  # fmt: skip
                for nm in names:
                    self.add(f"channels[{nm}].sql_rate", v, ci, "probability",
                             "logistic regression of SQL vs disqualified/recycled among"
                             " reached MQLs (channel intercept at the reference score)"
                             + ("" if gi < len(used) else "; pooled: few events"),
                             int((groups == gi).sum()), "sql_at, disqualified_at,"
                             " recycled_at, activity outcomes, score")  # fmt: skip
            if fit_slope:
                se = math.sqrt(cov[-1, -1])
                self.add("follow_up.score_slope_per_10_points", beta[-1],
                         (beta[-1] - Z95 * se, beta[-1] + Z95 * se), "log-odds per 10 points",
                         "same logistic regression", len(y), "score")  # fmt: skip
            nd = reached & ~sql & (disq | rec)
            k_d = int((reached & disq & ~sql).sum())
            lo, hi = wilson_interval(k_d, int(nd.sum()))
            if nd.sum() >= MIN_EVENTS:
                self.add("follow_up.disqualify_share", k_d / nd.sum(), (lo, hi), "probability",
                         "disqualified / (disqualified + recycled) among reached non-SQL"
                         " MQLs, Wilson", int(nd.sum()), "disqualified_at, recycled_at")
        # competing risks from MQL (reported): SQL / disqualified / recycled / still open
        mql = H.get("mql_at", H["created_at"])
        m = np.isfinite(mql)
        if m.sum() >= MIN_EVENTS:
            end = np.fmin(np.fmin(H["sql_at"], H.get("disqualified_at", np.full(n, np.nan))),
                          H.get("recycled_at", np.full(n, np.nan)))[m]
            cause = np.where(np.isfinite(end), np.where(sql[m] & (H["sql_at"][m] == end), 1,
                                                        2), 0)  # fmt: skip
            t = np.where(np.isfinite(end), end - mql[m], self.C - mql[m]) / 24
            aj = aalen_johansen(np.maximum(t, 0), cause, 2, bin_width=1.0, draws=100)
            tau = float(np.percentile(t, 99))
            v = aj.at(tau)
            b = np.percentile(aj.boot_at(tau), [2.5, 97.5], axis=0)
            self.checks["mql_outcomes_cumulative_incidence"] = {
                "at_days": round(tau, 1), "sql": round(float(v[0]), 4),
                "sql_ci": [round(float(b[0, 0]), 4), round(float(b[1, 0]), 4)],
                "disqualified_or_recycled": round(float(v[1]), 4),
                "never_dispositioned_by_then": round(float(1 - v.sum()), 4),
                "method": "Aalen-Johansen, still-open MQLs censored at export"}

    def sales(self) -> None:
        H, L = self.H, self.L
        if "closed_at" not in H or "stage" not in L.columns:
            return
        stage = L["stage"].to_numpy(dtype=object)
        won = (stage == "won") & np.isfinite(H["closed_at"])
        lost = (stage == "lost") & np.isfinite(H["closed_at"])
        if "opportunity_opened_at" in H:
            opened = H["opportunity_opened_at"].copy()
            start_field = "opportunity_opened_at"
        elif "sql_at" in H:
            opened = H["sql_at"].copy()
            start_field = "sql_at"
        else:
            opened = H.get("mql_at", H["created_at"]).copy()
            start_field = "mql_at" if "mql_at" in H else "created_at"
        closed = H["closed_at"]
        opp = np.isfinite(opened)
        if not lost.any():
            self._cure(opened, won, closed, start_field)
            return
        if "sql_at" in H:
            sqls = np.isfinite(H["sql_at"])
            self.naive["win_rate_won_over_all_sqls"] = round(float(won[sqls].sum()
                                                                 / max(sqls.sum(), 1)), 6)
        dur = np.where(won | lost, closed - opened, self.C - opened)[opp] / 24
        cause = np.where(won, 1, np.where(lost, 2, 0))[opp]
        chn = self.ch[opp]
        closed_mask = (cause > 0)
        self.naive["cycle_days_mean_closed_only"] = round(float(dur[closed_mask].mean()), 4) \
            if closed_mask.any() else None
        self.naive["win_rate_won_over_closed"] = round(float((cause == 1).sum()
                                                             / max(closed_mask.sum(), 1)), 6)
        pooled = [c for c in range(len(self.channels)) if (chn == c).sum() == 0 or
                  (cause[chn == c] > 0).sum() < MIN_EVENTS]  # fmt: skip
        for c, name in enumerate(self.channels):
            sel = (chn == c) if c not in pooled else np.isin(chn, pooled)
            tag = "" if c not in pooled else "; pooled over channels with few closes"
            if (cause[sel] > 0).sum() < 5:
                continue
            aj = aalen_johansen(np.maximum(dur[sel], 0), cause[sel], 2, bin_width=1.0,
                                draws=200, seed=c)  # fmt: skip
            tau = float(dur[sel].max())
            v = aj.at(tau)
            bt = aj.boot_at(tau)
            ratio = v[0] / max(v.sum(), 1e-12)
            br = bt[:, 0] / np.maximum(bt.sum(1), 1e-12)
            lo, hi = np.percentile(br, [2.5, 97.5])
            self.add(f"channels[{name}].win_rate", ratio, (lo, hi), "probability",
                     "Aalen-Johansen cumulative incidence of won / (won + lost) at the longest"
                     " follow-up, open opportunities censored; Poisson bootstrap" + tag,
                     int(sel.sum()), f"{start_field}, closed_at, stage")  # fmt: skip
            try:
                f = best_censored_fit(np.maximum(dur[sel], 1e-6), cause[sel] > 0)
            except ValueError:
                continue
            kind = f.kind
            self.add(f"channels[{name}].cycle_days.mean", f.mean, f.mean_ci, "days",
                     f"censored {kind} MLE of {start_field} to close (open opportunities"
                     " censored at export)" + tag, f.events + f.censored,
                     f"{start_field}, closed_at", apply=_dist(kind, f.mean, f.cv))
            if kind != "exponential":
                self.add(f"channels[{name}].cycle_days.cv", f.cv, f.cv_ci, "-", "same fit",
                         f.events + f.censored, f"{start_field}, closed_at")  # fmt: skip
                self.updates.pop(f"channels[{name}].cycle_days.cv")
        self._deals(won)

    def _deals(self, won: np.ndarray) -> None:
        if "amount" not in self.L.columns:
            return
        amt = self.L["amount"].to_numpy(float)
        good = won & np.isfinite(amt) & (amt > 0)
        pooled = [c for c in range(len(self.channels))
                  if (good & (self.ch == c)).sum() < MIN_EVENTS]  # fmt: skip
        for c, name in enumerate(self.channels):
            sel = good & ((self.ch == c) if c not in pooled else np.isin(self.ch, pooled))
            if sel.sum() < 5:
                continue
            mean, cv, mci, cci = _lognormal_fit(amt[sel])
            tag = "" if c not in pooled else "; pooled over channels with few wins"
            self.add(f"channels[{name}].deal_value.mean", mean, mci, "currency",
                     "log-normal MLE of won amounts" + tag, int(sel.sum()), "amount, stage",
                     apply=LogNormal(mean=mean, cv=cv))  # fmt: skip
            self.add(f"channels[{name}].deal_value.cv", cv, cci, "-", "same fit",
                     int(sel.sum()), "amount, stage")  # fmt: skip
            self.updates.pop(f"channels[{name}].deal_value.cv")

    def _cure(self, opened: np.ndarray, won: np.ndarray, closed: np.ndarray,
              start_field: str) -> None:  # fmt: skip
        """Won deals only (no lost outcome): a mixture cure model of the time to win."""
        m = np.isfinite(opened)
        if getattr(self, "trend", False):  # conversion drifts with volume: recent cohorts
            recent = opened >= self.vol_end_h - 91 * 24.0
            if (won & recent).sum() >= MIN_EVENTS:
                m &= recent
                self.checks["cohorts_used_for_conversion"] = "MQLs of the last 91 days"
        t = np.where(won, closed - opened, self.C - opened)[m] / 24
        obs = won[m]
        kind = "lognormal"  # a fast early mass and a long tail
        try:
            f = cure_fit(np.maximum(t, 1e-3), obs, kind)
        except ValueError:
            return
        self.cure = f
        self.checks["won_cure_model"] = {
            "p_ever_won": round(f.pi, 5), "p_ever_won_ci": [round(f.pi_ci[0], 5),
                                                            round(f.pi_ci[1], 5)],
            "never_converts": round(1 - f.pi, 5), "time_to_win_days_mean": round(f.mean, 3),
            "time_to_win_days_cv": round(f.cv, 3), "from": start_field, "events": f.events,
            "censored": f.censored}  # fmt: skip
        ns = np.round(opened[m] * _NS_PER_H).astype(np.int64)
        month = pd.Series(pd.to_datetime(ns, utc=True)).dt.tz_convert(self.tz).dt.strftime(
            "%Y-%m").to_numpy()
        spread = cohort_spread(t, obs, month, f)
        self.checks["won_cohorts"] = {
            "p_ever_won": {c: round(v["p"], 4) for c, v in spread["cohorts"].items()},
            "between_cohort_sd_logit": round(math.sqrt(spread["tau2_logit"]), 4),
            "method": "cure fraction per monthly cohort (time to win held at the pooled fit);"
                      " DerSimonian-Laird between-cohort variance of the logits: forecasts of a"
                      " new cohort draw P(ever won) with it"}  # fmt: skip
        self.cohort_sd_logit = math.sqrt(spread["tau2_logit"])
        self.naive["won_share_of_all"] = round(float(obs.mean()), 6)
        for name in self.channels:
            self.add(f"channels[{name}].cycle_days.mean", f.mean, f.mean_ci, "days",
                     f"mixture cure model ({kind}) of {start_field} to won: no lost outcome in"
                     " the export, leads not won are censored; pooled over channels",
                     f.events + f.censored, f"{start_field}, closed_at",
                     apply=_dist(kind, f.mean, f.cv))  # fmt: skip
            self.add(f"channels[{name}].cycle_days.cv", f.cv, f.cv_ci, "-", "same fit",
                     f.events + f.censored, f"{start_field}, closed_at")  # fmt: skip
            self.updates.pop(f"channels[{name}].cycle_days.cv")
        # P(ever won | MQL) per channel: cure fraction scaled by the channel's won share
        for c, name in enumerate(self.channels):
            sel = self.ch[m] == c
            if sel.sum() < MIN_EVENTS or obs[sel].sum() < 3:
                continue
            try:
                fc = cure_fit(np.maximum(t[sel], 1e-3), obs[sel], kind)
            except ValueError:
                continue
            self.checks.setdefault("p_ever_won_by_channel", {})[name] = {
                "value": round(fc.pi, 5), "ci": [round(fc.pi_ci[0], 5), round(fc.pi_ci[1], 5)],
                "n": int(sel.sum())}  # fmt: skip

    def match_won_curve(self, sc: Scenario, name: str) -> Scenario:
        """Only won outcomes (no SQL or lost dates): P(ever won | MQL) per channel and the time
        to win come from the cure model (identified); the scenario's ``sql_rate`` (and, when
        that is not enough, ``win_rate``) and ``cycle_days`` are derived so that one simulated
        replication of the calibrated scenario reproduces them, with the contact curve and
        capacity of the base (which the export cannot separate). Derived values are listed as
        such; one at a schema bound is flagged under ``checks.at_bound``."""
        horizon = sc.horizon.model_copy(update={"measure_months": 4})
        probe = sc.model_copy(update={"horizon": horizon})
        mql, contact, opp, ch, score, channels = _probe_firsts(probe)
        fu = sc.follow_up
        z = (score - fu.reference_score_points) / 10.0
        by_name = {c.name: c for c in sc.channels}
        data = sc.model_dump(mode="python")
        pooled = self.checks.get("won_cure_model", {})
        per_ch = self.checks.get("p_ever_won_by_channel", {})
        for ci, cname in enumerate(channels):
            m = (ch == ci) & np.isfinite(mql)
            reached = m & np.isfinite(contact)
            if m.sum() < 20 or reached.sum() < 10:
                continue
            r = float(reached.sum() / m.sum())
            zc = z[reached]
            win = by_name[cname].win_rate
            src = per_ch.get(cname, {"value": pooled.get("p_ever_won"),
                                     "ci": pooled.get("p_ever_won_ci"), "n": 0})
            if src.get("value") is None:
                continue
            self.add(f"channels[{cname}].p_won_given_mql", src["value"], tuple(src["ci"]),
                     "probability", "P(ever won | MQL), mixture cure model (lognormal), MQLs"
                     " not won censored at the export" + ("" if cname in per_ch else
                                                          "; pooled over channels"),
                     int(src.get("n") or 0), "mql_at, closed_at (won)", apply=False)
            self.updates.pop(f"channels[{cname}].p_won_given_mql")

            def split(target: float, zc: np.ndarray = zc, r: float = r,
                      win: float = win) -> tuple[float, float]:  # fmt: skip
                """(sql_rate, win_rate) with reach x E[q(score)] x win = target."""
                def mean_q(b: float) -> float:
                    return float(special.expit(special.logit(b)
                                               + fu.score_slope_per_10_points * zc).mean())

                goal = target / (r * win)
                if goal <= 1e-4:
                    return 1e-4, win
                if goal < SQL_RATE_CAP:
                    return float(optimize.brentq(lambda b: mean_q(b) - goal, 1e-6,
                                                 1 - 1e-6)), win  # fmt: skip
                # the cap binds: qualification at the cap, the rest carried by the win rate
                w = target / (r * mean_q(SQL_RATE_CAP))
                return SQL_RATE_CAP, min(w, 1.0)

            q, w = split(src["value"])
            (q_lo, w_lo), (q_hi, w_hi) = split(src["ci"][0]), split(src["ci"][1])
            how = (f"derived: P(ever won | MQL)={src['value']:.4f} divided by the simulated"
                   f" reach {r:.3f} and the win rate, solved for the rate at the reference"
                   " score (the export does not separate qualification from winning)")
            self.add(f"channels[{cname}].sql_rate", q, (q_lo, q_hi), "probability", how,
                     int(src.get("n") or 0), "mql_at, closed_at (won)",
                     derived=True)  # fmt: skip
            _set(data, f"channels[{cname}].sql_rate", q)
            if w != win:
                self.add(f"channels[{cname}].win_rate", w, (w_lo, w_hi), "probability",
                         how + f"; sql_rate at its cap {SQL_RATE_CAP}, the rest carried by"
                         " the win rate", int(src.get("n") or 0), "mql_at, closed_at (won)",
                         derived=True)  # fmt: skip
                _set(data, f"channels[{cname}].win_rate", w)
            if q >= SQL_RATE_CAP:
                got = r * float(special.expit(special.logit(SQL_RATE_CAP) + fu.
                                              score_slope_per_10_points * zc).mean()) * w
                self.checks.setdefault("at_bound", []).append({
                    "parameter": f"channels[{cname}].sql_rate", "value": SQL_RATE_CAP,
                    "meaning": (f"P(ever won | MQL) {src['value']:.3f} needs more than the base"
                                f" win rate {win:g} after reach {r:.2f}: win_rate raised to"
                                f" {w:.3f}" + ("" if w < 1.0 else f" (its bound 1: the"
                                f" simulated P(won | MQL) is {got:.3f}, below the data's)"))})
        # cycle: time to win minus the simulated MQL -> opportunity delay
        f = self.cure
        for par, v, ci, unit in (("mean", f.mean, f.mean_ci, "days"), ("cv", f.cv, f.cv_ci, "-")):
            self.add(f"time_to_win_days.{par}", v, ci, unit, "mixture cure model (lognormal) of"
                     " MQL to won, MQLs not won censored at the export; pooled over channels",
                     f.events + f.censored, "mql_at, closed_at (won)", apply=False)
            self.updates.pop(f"time_to_win_days.{par}")
        ok = np.isfinite(opp) & np.isfinite(mql)
        d = (opp[ok] - mql[ok]) / 24.0
        if len(d) >= 10:
            mu = float(d.mean())
            mean, cv = cycle_for_time_to_win(d, f.mean, f.cv)
            shift = mean / f.mean
            self.checks["won_cure_model"]["simulated_mql_to_opportunity_days"] = round(mu, 3)
            for cname in channels:
                self.est = [e for e in self.est if not e.path.startswith(
                    f"channels[{cname}].cycle_days")]
                self.add(f"channels[{cname}].cycle_days.mean", mean,
                         (f.mean_ci[0] * shift, f.mean_ci[1] * shift), "days",
                         f"derived: log-normal whose sum with the simulated MQL-to-opportunity"
                         f" delay (mean {mu:.2f} d) has the quantiles of the time to win"
                         f" (mixture cure model, mean {f.mean:.2f} d); pooled",
                         f.events + f.censored, "mql_at, closed_at (won)",
                         derived=True)  # fmt: skip
                sd = cv * mean
                _set(data, f"channels[{cname}].cycle_days", _dist(f.kind, mean, sd / mean))
        data["name"] = name
        from sla_sim.scenario.io import validate

        return validate(data, source="calibrated scenario")

    def capacity(self) -> None:
        L = self.L
        att = getattr(self, "att", None)
        mql_rows = (np.isfinite(self.H["mql_at"]) if "mql_at" in self.H
                    else np.ones(len(L), bool))  # a team owns MQLs
        teams = sorted(L.loc[mql_rows, "team"].astype(str).unique()) or [
            self.x.mapping.team_default]
        self.teams = teams
        team_of = pd.Index(teams).get_indexer(L["team"].astype(str))
        team_of = np.where(mql_rows, team_of, -1)
        for ti, tname in enumerate(teams):
            owners: set[str] = set()
            src = ""
            if att is not None and "owner" in att.columns:
                sel = team_of[att["lead"].to_numpy(np.int64)] == ti
                codes = att.loc[sel, "owner"].to_numpy()
                owners = {f"code-{c}" for c in np.unique(codes[codes >= 0])}
                src = "activity_owner"
            if not owners and "owner" in L.columns:
                owners = set(pd.unique(L.loc[team_of == ti, "owner"].dropna()).tolist())
                src = "owner"
            if owners:
                self.add(f"teams[{tname}].reps", len(owners), (len(owners), len(owners)),
                         "SDRs", "distinct owners seen", len(owners), src, exact=True)
        if "opportunity_owner" in L.columns:
            ae = L["opportunity_owner"].dropna().astype(str).nunique()
            if ae:
                self.add("ae.count", ae, (ae, ae), "AEs", "distinct opportunity owners", ae,
                         "opportunity_owner", exact=True)  # fmt: skip
        if att is not None and len(att) >= 50:
            ns = np.round(att["at"].to_numpy(float) * _NS_PER_H).astype(np.int64)
            local = pd.Series(pd.to_datetime(ns, utc=True)).dt.tz_convert(self.tz)
            hour = (local.dt.hour + local.dt.minute / 60 + local.dt.second / 3600).to_numpy()
            wd = local.dt.day_of_week.to_numpy()
            share = np.bincount(wd, minlength=7) / len(wd)
            days = [d for d in range(7) if share[d] >= 0.01]
            start = float(math.floor(np.quantile(hour, 0.002)))
            end = float(min(math.ceil(np.quantile(hour, 0.998)), 24))
            if end > start:
                for tname in teams:
                    self.add(f"teams[{tname}].calendar.start_hour", start, (start, start),
                             "local hour", "earliest activity hour (0.2% quantile, floored)",
                             len(att), "activity_at", exact=True)  # fmt: skip
                    self.add(f"teams[{tname}].calendar.end_hour", end, (end, end),
                             "local hour", "latest activity hour (99.8% quantile, ceiled)",
                             len(att), "activity_at", exact=True)  # fmt: skip
                    self.updates[f"teams[{tname}].calendar.working_days"] = days
                    self.updates[f"teams[{tname}].calendar.timezone"] = self.tz

    # ------------------------------------------------------------------ the scenario
    def build(self, name: str) -> Scenario:
        base = self.base
        data = base.model_dump(mode="python")
        base_ch = {c["name"]: c for c in data["channels"]}
        channels = []
        for ch in self.channels:
            spec = dict(base_ch.get(ch, data["channels"][0]))
            spec["name"] = ch
            channels.append(spec)
        data["channels"] = channels
        base_teams = {t["name"]: t for t in data["teams"]}
        teams = []
        for t in self.teams:
            spec = dict(base_teams.get(t, data["teams"][0]))
            spec["name"], spec["channels"], spec["segments"] = t, [], []
            teams.append(spec)
        data["teams"] = teams
        if len(teams) == 1:
            data["routing"]["team_rule"] = "single"
        else:
            data["routing"]["team_rule"] = "by_channel"
            mq = (np.isfinite(self.H["mql_at"]) if "mql_at" in self.H
                  else np.ones(len(self.L), bool))
            major = (pd.DataFrame({"c": self.L.loc[mq, "channel"].astype(str),
                                   "t": self.L.loc[mq, "team"].astype(str)})
                     .groupby("c")["t"].agg(lambda s: s.value_counts().index[0]))  # fmt: skip
            for spec in teams:
                spec["channels"] = [c for c in self.channels if major.get(c) == spec["name"]]
        data["horizon"]["timezone"] = self.tz
        for path, value in self.updates.items():
            lo_hi = _BOUNDS.get(path)
            if lo_hi is not None and not lo_hi[0] <= value <= lo_hi[1]:
                inside = min(max(value, lo_hi[0]), lo_hi[1])
                self.checks.setdefault("applied_at_the_schema_bound", {})[path] = {
                    "estimate": round(float(value), 6), "applied": inside,
                    "allowed": list(lo_hi)}  # fmt: skip
                value = inside
            _set(data, path, value)
        n_est = len(self.est)
        data["name"] = name
        data["description"] = (
            f"Calibrated from the CRM export {self.x.source} ({len(self.L):,} leads to"
            f" {self.x.exported_at.date()}): {n_est} estimates with 95% intervals and their"
            f" provenance in calibration.json; parameters not identified keep the values of"
            f" {base.name}. {base.description}")  # fmt: skip
        from sla_sim.scenario.io import validate

        return validate(data, source="calibrated scenario")

    def kept(self) -> list[dict[str, str]]:
        """Parameters left at the base scenario's value, with the reason; and the ones derived
        from identified quantities together with kept values (said so, not 'kept')."""
        ident = {e.path for e in self.est if not e.derived}
        derived = {e.path for e in self.est if e.derived}

        def has(stem: str, paths: set[str]) -> bool:
            return any(stem in p for p in paths)

        reasons = {
            "channels[*].sql_rate": "needs sql_at and reached activities",
            "channels[*].win_rate": "needs closed_at with won and lost stages",
            "channels[*].cycle_days": "needs closed_at",
            "channels[*].deal_value": "needs amount of won deals",
            "channels[*].score_alpha/beta": "needs score",
            "follow_up.contact": "needs activity outcomes",
            "follow_up.attempt_minutes": "needs activity_duration_minutes",
            "follow_up.cadence_days": "a policy, not identified from outcomes",
            "handoff.ops_delay_hours": "needs routed_at and a realtime handoff",
            "nurture": "not identified (nurture touches are not exported)",
            "teams[*].shrinkage, max_active_leads": "not identified",
            "ae.max_open_opportunities": "not identified",
            "arrivals.month_weights": "needs more than a year of data; kept",
            "sla": "an agreement, not a parameter: kept",
        }  # fmt: skip
        if has("mql_share", ident):
            reasons["channels[*].score_alpha/beta"] = (
                "shape needs score; the MQL share per channel is identified (mql_share) and"
                " applied through score_alpha")
        if self.every_row_mql:
            reasons["channels[*].score_alpha/beta"] = (
                "needs score; MQLs per month are identified, leads_per_month is MQLs / P(MQL)"
                " of this score distribution")
        if "nurture.engage_probability" in self.updates:
            reasons.pop("nurture")
        out = []
        for key, why in reasons.items():
            stem = key.replace("channels[*].", "").split("/")[0]
            if has(stem, derived):
                how = next(e.method for e in self.est if e.derived and stem in e.path)
                out.append({"parameter": key, "kept_from": self.base.name, "reason": how})
                continue
            if has(stem, ident):
                continue
            if stem == "win_rate" and has("p_won_given_mql", ident):
                why = ("not separable from sql_rate in this export: their product is fitted"
                       " through P(ever won | MQL); kept unless sql_rate reaches its cap")
            out.append({"parameter": key, "kept_from": self.base.name, "reason": why})
        return out


# schema ranges of fitted scalars: an estimate outside is applied at the bound and reported
# under checks.applied_at_the_schema_bound in calibration.json (never silently)
_BOUNDS = {"follow_up.score_slope_per_10_points": (0.0, 3.0),
           "arrivals.daily_volume_cv": (0.0, 3.0)}  # fmt: skip


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``a.b[name].c`` (list items by name, or by index) in a scenario dict."""
    import re

    parts = re.findall(r"[^.\[\]]+|\[[^\]]+\]", path)
    cur: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part.startswith("["):
            key = part[1:-1]
            if key.isdigit():
                idx = int(key)
                if last:
                    cur[idx] = value
                    return
                cur = cur[idx]
            else:
                match = [x for x in cur if x.get("name") == key]
                if not match:
                    return
                cur = match[0]
            continue
        if last:
            if isinstance(value, (Gamma, LogNormal, Exponential)):
                value = value.model_dump(mode="python")
            cur[part] = value
            return
        if part not in cur:
            return
        cur = cur[part]



def cycle_for_time_to_win(delay_days: np.ndarray, mean: float, cv: float,
                          seed: int = 5) -> tuple[float, float]:  # fmt: skip
    """(mean, cv) of a log-normal cycle whose sum with ``delay_days`` (resampled) has the
    5%..95% quantiles of a log-normal time to win (``mean``, ``cv``), least relative squares."""
    rng = np.random.default_rng(seed)
    dd = rng.choice(np.asarray(delay_days, float), 4000)
    zz = rng.standard_normal(4000)
    probs = np.linspace(0.05, 0.95, 19)
    s0 = math.sqrt(math.log1p(cv * cv))
    target = np.exp(math.log(mean) - s0 * s0 / 2 + s0 * stats.norm.ppf(probs))

    def loss(p: np.ndarray) -> float:
        sim = dd + np.exp(p[0] + math.exp(p[1]) * zz)
        return float((((np.quantile(sim, probs) - target) / target) ** 2).sum())

    x0 = np.array([math.log(max(mean - dd.mean(), 0.5)) - s0 * s0 / 2, math.log(s0)])
    res = optimize.minimize(loss, x0, method="Nelder-Mead", options={"xatol": 1e-6,
                                                                     "fatol": 1e-9})
    s = math.exp(res.x[1])
    return float(math.exp(res.x[0] + s * s / 2)), float(math.sqrt(math.expm1(s * s)))


def _probe_firsts(sc: Scenario, seed: int = 97) -> tuple[np.ndarray, ...]:
    """One replication of ``sc`` (through the batch layer): per lead the first MQL, contact and
    opportunity times (inf if none), channel code and score; and the channel names."""
    from sla_sim.batch.replications import run_replication

    log = run_replication(sc, seed, 0, keep_log=True).log
    cols, rows = log.columns(sort=False), log.event_rows()
    n = len(log.leads["lead"])

    def first(code: str) -> np.ndarray:
        out = np.full(n, np.inf)
        r = rows[CODE[code]]
        r = r[cols["episode"][r] == 1]
        np.minimum.at(out, cols["lead"][r], cols["time_h"][r])
        return out

    return (first("mql"), first("contact"), first("opp_open"), log.leads["channel"],
            log.leads["score"], log.channels)


def write_calibration(cal: Calibration, out: str | Path) -> tuple[Path, Path]:
    """Write the calibrated scenario (YAML) and ``calibration.json`` beside it."""
    import json

    from sla_sim.scenario.io import save

    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    save(cal.scenario, path)
    js = path.with_name("calibration.json")
    js.write_text(json.dumps(cal.as_dict(), indent=2, default=str) + "\n")
    return path, js


def fit_won_curve(export: CrmExport, cohort_from: str, cohort_to: str,
                  kind: str = "lognormal") -> Any:
    """Mixture cure fit of MQL -> won for the MQLs of [cohort_from, cohort_to) (local dates),
    censored at ``exported_at``: P(ever won) and the time to win (days)."""
    L = export.leads
    tz = export.mapping.timezone
    mql = _h(L["mql_at"] if "mql_at" in L.columns else L["created_at"])
    lo = pd.Timestamp(cohort_from).tz_localize(tz).value / _NS_PER_H
    hi = pd.Timestamp(cohort_to).tz_localize(tz).value / _NS_PER_H
    m = (mql >= lo) & (mql < hi)
    won = (L["stage"].to_numpy(dtype=object) == "won") & np.isfinite(_h(L["closed_at"]))
    C = export.exported_at.value / _NS_PER_H
    t = np.where(won, _h(L["closed_at"]) - mql, C - mql)[m] / 24
    return cure_fit(np.maximum(t, 1e-3), won[m], kind)


def match_won_curve(sc: Scenario, p_won: float, days_mean: float, days_cv: float,
                    kind: str = "lognormal", seed: int = 97) -> tuple[Scenario, dict[str, Any]]:
    """``sc`` with every channel's ``sql_rate`` scaled (keeping their ratios) so that
    P(ever won | MQL) is ``p_won``, and ``cycle_days`` set so that MQL -> won takes
    ``days_mean`` (cv ``days_cv``) on average: one probe replication of ``sc`` gives the reach,
    the score mix of reached MQLs and the MQL -> opportunity delay (win rates kept)."""
    mql, contact, opp, ch, score, _ = _probe_firsts(sc, seed)
    fu = sc.follow_up
    z = (score - fu.reference_score_points) / 10.0
    is_mql = np.isfinite(mql)

    def p_won_at(scale: float) -> float:
        """P(ever won | MQL) with sql_rate and win_rate both multiplied by ``scale``: the
        export cannot separate qualification from winning, so the factor is shared evenly."""
        tot = 0.0
        for ci, c in enumerate(sc.channels):
            reached = is_mql & (ch == ci) & np.isfinite(contact)
            base = min(c.sql_rate * scale, 1 - 1e-9)
            q = special.expit(special.logit(base) + fu.score_slope_per_10_points * z[reached])
            tot += float(q.sum()) * min(c.win_rate * scale, 1.0)
        return tot / max(int(is_mql.sum()), 1)

    hi = 1.0 / max(max(c.sql_rate, c.win_rate) for c in sc.channels) - 1e-6
    scale = float(optimize.brentq(lambda s: p_won_at(s) - p_won, 1e-4, hi))
    ok = np.isfinite(opp) & is_mql
    d = (opp[ok] - mql[ok]) / 24.0
    mean = max(days_mean - float(d.mean()), 0.5)
    sd = math.sqrt(max((days_cv * days_mean) ** 2 - float(d.var()), (0.2 * mean) ** 2))
    data = sc.model_dump(mode="python")
    for c in data["channels"]:
        c["sql_rate"] = min(c["sql_rate"] * scale, 0.99)
        c["win_rate"] = min(c["win_rate"] * scale, 1.0)
        c["cycle_days"] = _dist(kind, mean, sd / mean).model_dump(mode="python")
    from sla_sim.scenario.io import validate

    info = {"sql_rate_scale": scale, "mql_to_opportunity_days_mean": float(d.mean()),
            "cycle_days_mean": mean, "cycle_days_cv": sd / mean,
            "reach": float((is_mql & np.isfinite(contact)).sum() / max(is_mql.sum(), 1))}
    return validate(data, source="matched scenario"), info
