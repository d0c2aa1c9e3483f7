"""Timing: handoff delay, activity durations, the contact curve by age and attempt, MQL to
first touch."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import optimize

from sla_sim.crm.calibrate.common import (
    MIN_EVENTS,
    Steps,
    _dist,
    _h,
    _lognormal_fit,
)
from sla_sim.crm.survival import (
    Z95,
    _hessian,
    _safe_inv,
    best_censored_fit,
)
from sla_sim.scenario.distributions import LogNormal


class Timing(Steps):
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
        if "outcome" not in att.columns or not self.x.timed_touches():
            return  # a decay in hours is not identified from activities dated by the day
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
        if not self.x.timed_touches():
            return  # activities dated by the day: no delay in hours
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
