"""Outcomes with censoring: qualification (logistic), won / lost / open as competing
risks, cycle and deal values, the mixture cure model of exports with wins only, and the
split of P(ever won | MQL) into the scenario's rates."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from sla_sim.crm.calibrate.common import (
    _NS_PER_H,
    MIN_EVENTS,
    SQL_RATE_CAP,
    Steps,
    _dist,
    _h,
    _lognormal_fit,
    _set,
)
from sla_sim.crm.load import CrmExport
from sla_sim.crm.survival import (
    Z95,
    _safe_inv,
    aalen_johansen,
    best_censored_fit,
    close_spread,
    cohort_spread,
    cure_fit,
    km_quantiles,
    ks_distance,
)
from sla_sim.events import CODE
from sla_sim.metrics.numbers import prob
from sla_sim.scenario import Scenario
from sla_sim.scenario.distributions import Empirical, LogNormal
from sla_sim.scenario.schema import HorizonSpec
from sla_sim.stats import wilson_interval

WARMUP_DAYS_MAX = int(next(m.le for m in HorizonSpec.model_fields["warmup_days"].metadata
                           if hasattr(m, "le")))  # the schema's bound


#: The end of ``checks.won_record.meaning`` when the record is too short to fit the win model.
_NOT_IDENTIFIED = ("; its {days:.0f} days of record are shorter than that time to close, so the"
                   " win rate and cycle are not identified from the export")

class Outcomes(Steps):
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
        ref = None  # the fit with the most closes: the shape cohorts are compared with
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
            if ref is None or f.events > ref.events:
                ref = f
            apply: Any = _dist(kind, f.mean, f.cv)
            how = f"censored {kind} MLE of {start_field} to close"
            dist, crit = ks_distance(f, dur[sel], cause[sel] > 0)
            if dist > crit:  # neither shape holds: the data's own curve, resampled
                values = km_quantiles(dur[sel], cause[sel] > 0)
                apply = Empirical(values=values)
                how = (f"Kaplan-Meier of {start_field} to close, resampled (200 quantiles):"
                       f" the best parametric shape ({kind}) is {dist:.3f} from it, beyond"
                       f" the Kolmogorov-Smirnov 5% bound {crit:.3f}; mean and interval from"
                       f" the censored {kind} MLE")  # fmt: skip
                self.checks.setdefault("empirical_cycle", {})[name] = {
                    "ks_distance": round(dist, 4), "bound_5pct": round(crit, 4),
                    "shape_rejected": kind, "p95_days": round(float(np.percentile(values,
                                                                               95)), 1)}
            self.add(f"channels[{name}].cycle_days.mean", f.mean, f.mean_ci, "days",
                     how + " (open opportunities censored at export)" + tag,
                     f.events + f.censored, f"{start_field}, closed_at", apply=apply)
            if kind != "exponential":
                self.add(f"channels[{name}].cycle_days.cv", f.cv, f.cv_ci, "-", "same fit",
                         f.events + f.censored, f"{start_field}, closed_at")  # fmt: skip
                self.updates.pop(f"channels[{name}].cycle_days.cv")
                self._warm_up_covers(apply if isinstance(apply, Empirical) else f,
                                     f"{start_field} to close")
        if ref is not None:
            self._close_cohorts(opened, dur, cause, opp, start_field, ref)
        self._deals(won)

    def _close_cohorts(self, opened: np.ndarray, dur: np.ndarray, cause: np.ndarray,
                       opp: np.ndarray, start_field: str, f: Any) -> None:  # fmt: skip
        """How monthly cohorts of opportunities differ beyond sampling error in their won
        share of closed deals and their time to close (``checks.close_cohorts``; the shape
        of ``f``, the channel fit with the most closes, held): a forecast of a new cohort
        draws both (:mod:`sla_sim.crm.predictive`)."""
        spread = close_spread(dur, cause > 0, cause == 1, self._months(opened[opp]), f)
        if len(spread["cohorts"]) < 2 and len(spread["speed"]) < 2:
            return
        self.checks["close_cohorts"] = _spread_check(
            spread, "won_share_of_closed", "time_to_close_days_mean",
            f"per monthly cohort of {start_field}: logit of won / closed (binomial"
            f" standard error) and the log mean time to close ({f.kind} shape of"
            " the censored fit of the channel with the most closes held, open deals"
            " censored);"
            " DerSimonian-Laird between-cohort variances: forecasts of a new cohort"
            " draw its win rate and its speed with them")  # fmt: skip

    def _months(self, hours: np.ndarray) -> np.ndarray:
        """Local ``YYYY-MM`` of instants in hours since the epoch."""
        ns = np.round(hours * _NS_PER_H).astype(np.int64)
        return pd.Series(pd.to_datetime(ns, utc=True)).dt.tz_convert(self.tz).dt.strftime(
            "%Y-%m").to_numpy()

    def _warm_up_covers(self, f: Any, what: str) -> None:
        """Lengthen the warm-up to the 95th percentile of a fitted duration (``f``: kind,
        mean, cv in days): a shorter one starts the measured months with an emptier pipeline
        than the export's (fewer old deals closing in them)."""
        if isinstance(f, Empirical):
            q95 = float(np.percentile(f.values, 95))
        elif f.kind == "lognormal":
            s = math.sqrt(math.log1p(f.cv**2))
            q95 = math.exp(math.log(f.mean) - s * s / 2 + 1.6448536269514722 * s)
        elif f.kind == "gamma":
            k = 1 / f.cv**2
            q95 = float(stats.gamma.ppf(0.95, k, scale=f.mean / k))
        else:
            q95 = f.mean * math.log(20)
        days = min(math.ceil(q95), WARMUP_DAYS_MAX)
        if days > max(self.updates.get("horizon.warmup_days", 0),
                      self.base.horizon.warmup_days):  # fmt: skip
            self.updates["horizon.warmup_days"] = days
            self.checks["warm_up"] = (f"{days} days: the 95th percentile of {what} (censored"
                                      f" {f.kind} fit), so the simulated pipeline holds the"
                                      " old opportunities still closing")  # fmt: skip

    def opportunity_table(self) -> None:
        """An opportunity table (every MQL opened an opportunity at its MQL time, e.g. Maven):
        the export observes the SDR step as passed at once by every MQL, so the scenario
        passes it (reach at the first attempt, ``sql_rate`` at its cap): derived, so that the
        simulated opportunities are the export's and the AE side is what is compared."""
        H = self.H
        if "opportunity_opened_at" not in H or "mql_at" not in H:
            return
        mql, opp = H["mql_at"], H["opportunity_opened_at"]
        m = np.isfinite(mql)
        if m.sum() < MIN_EVENTS or not (np.isfinite(opp[m]).all()
                                        and (np.abs(opp[m] - mql[m]) <= 1 / 60).all()):
            return
        how = ("derived: every MQL in the export opened an opportunity at its MQL time (an"
               " opportunity table): the SDR step is passed at once")
        n = int(m.sum())
        for name in self.channels:
            self.add(f"channels[{name}].sql_rate", SQL_RATE_CAP, (SQL_RATE_CAP, SQL_RATE_CAP),
                     "probability", how + f" (sql_rate at its cap {SQL_RATE_CAP})", n,
                     "mql_at, opportunity_opened_at", exact=True, derived=True)  # fmt: skip
        for par in ("p_initial", "p_floor"):
            self.add(f"follow_up.contact.{par}", 1.0, (1.0, 1.0), "probability",
                     how + " (reached at the first attempt)", n,
                     "mql_at, opportunity_opened_at", exact=True, derived=True)  # fmt: skip
        self.checks["opportunity_table"] = how

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
        self._won_record(opened, won, closed)
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
        self._record_fitted(f.events)
        self._warm_up_covers(f, f"{start_field} to won")
        self.checks["won_cure_model"] = {
            "p_ever_won": round(f.pi, 5), "p_ever_won_ci": [round(f.pi_ci[0], 5),
                                                            round(f.pi_ci[1], 5)],
            "never_converts": round(1 - f.pi, 5), "time_to_win_days_mean": round(f.mean, 3),
            "time_to_win_days_cv": round(f.cv, 3), "from": start_field, "events": f.events,
            "censored": f.censored}  # fmt: skip
        spread = cohort_spread(t, obs, self._months(opened[m]), f)
        self.checks["won_cohorts"] = _spread_check(
            spread, "p_ever_won", "time_to_win_days_mean",
            "cure fraction per monthly cohort (time to win held at the pooled fit);"
            " its mean time to win fitted jointly with the cure fraction (shape"
            " held); DerSimonian-Laird between-cohort variances of the logits and of"
            " the log mean times: forecasts of a new cohort draw P(ever won) and its"
            " speed with them")  # fmt: skip
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

    def _won_record(self, opened: np.ndarray, won: np.ndarray, closed: np.ndarray) -> None:
        """The export's record of wins starts at its first win: when at least
        :data:`MIN_EVENTS` MQLs had been followed longer than the base's time to close (its
        95th percentile, slowest channel) before the first recorded win without one, the
        wins column is read as left-truncated (deals closed before it are not in the export)
        and ``checks.won_record`` says so; when the record is shorter than that time to close,
        the win rate and cycle are not identified from the export (said in the log)."""
        if not won.any():
            return
        first = float(np.nanmin(closed[won]))
        rng = np.random.default_rng(0)
        q95 = max(float(np.percentile(c.cycle_days.sample(rng, 4000), 95))
                  for c in self.base.channels)  # fmt: skip
        old = np.isfinite(opened) & (first - opened > q95 * 24)
        if old.sum() < MIN_EVENTS:
            return
        record = (self.C - first) / 24
        day = pd.Timestamp(round(first * _NS_PER_H), tz="UTC").tz_convert(self.tz).date()
        short = record < q95
        self.checks["won_record"] = {
            "first_win": str(day), "record_days": round(record, 1),
            "base_time_to_close_days_p95": round(q95, 1), "mqls_followed_longer_without_a_win":
            int(old.sum()), "identified": not short,
            "meaning": f"the first recorded win is {day}; {int(old.sum()):,} MQLs had been"
                       f" followed longer than the base's time to close ({q95:.0f} days, 95th"
                       " percentile) before it without one: deals closed before the first"
                       " win are not in the export" + (
                           _NOT_IDENTIFIED.format(days=round(record, 1)) if short else "")}

    def _record_fitted(self, events: int) -> None:
        """A win record shorter than the base's time to close that still held enough wins for
        the cure model: the win model is fitted on them (identified), and ``won_record``
        says that conversion after the record's length is the fitted curve's extrapolation
        instead of claiming it is not identified."""
        rec = self.checks.get("won_record")
        if rec is None or rec["identified"]:
            return
        days = rec["record_days"]
        rec["identified"] = True
        rec["extrapolated_after_days"] = days
        rec["meaning"] = rec["meaning"].removesuffix(_NOT_IDENTIFIED.format(days=days)) + (
            f"; its {days:.0f} days of record are shorter than that time to close: the cure"
            f" model is fitted on the {events:,} wins they hold, and conversion after"
            f" {days:.0f} days is the fitted curve's extrapolation")  # fmt: skip

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
                   " score (the export does not separate qualification from winning)"
                   + ("" if cname in per_ch else "; pooled over channels"))
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
                    # shares as the won-model line above it prints P(ever won): 13.2 %
                    "meaning": (f"P(ever won | MQL) {prob(src['value'])} needs more than the"
                                f" base win rate {prob(win)} after reach {prob(r)}: win_rate"
                                f" raised to {prob(w)}" + ("" if w < 1.0 else " (its bound"
                                f" 100 %: the simulated P(won | MQL) is {prob(got)}, below the"
                                " data's)"))})
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
        from sla_sim.scenario.costs import keep_known_costs
        from sla_sim.scenario.io import validate

        return validate(keep_known_costs(data), source="calibrated scenario")


def _spread_check(spread: dict[str, Any], share: str, time: str, method: str
                  ) -> dict[str, Any]:  # fmt: skip
    """``checks`` entry of a between-cohort spread: per cohort its share (``share``) and mean
    time (``time``), and the two between-cohort standard deviations."""
    return {share: {c: round(v["p"], 4) for c, v in spread["cohorts"].items()},
            "between_cohort_sd_logit": round(math.sqrt(spread["tau2_logit"]), 4),
            time: {c: round(v["mean"], 2) for c, v in spread["speed"].items()},
            "between_cohort_sd_log_time": round(math.sqrt(spread["tau2_log_mean"]), 4),
            "method": method}


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
