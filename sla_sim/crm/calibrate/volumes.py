"""Volumes and profiles: leads (or MQLs) per month, weekday and hour weights, daily
over-dispersion, score distributions, the MQL share per channel, nurture evidence."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from sla_sim.crm.calibrate.common import (
    _NS_PER_H,
    HOURS_PER_MONTH,
    MIN_EVENTS,
    Steps,
)
from sla_sim.crm.mql_share import NURTURE_EVIDENCE, alpha_for_share, mql_counts, p_mql
from sla_sim.crm.survival import (
    Z95,
    _hessian,
    _safe_inv,
)
from sla_sim.stats import wilson_interval


class Volumes(Steps):
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
