"""Capacity: SDRs per team, AEs, working hours seen in the activities."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sla_sim.crm.calibrate.common import (
    _NS_PER_H,
    Steps,
)
from sla_sim.scenario import Scenario
from sla_sim.scenario.io import set_path


class Capacity(Steps):
    def free_selling_hours(self, sc: Scenario) -> Scenario:
        """``sc`` without AE selling time when the export counts the AEs.

        An export has no selling time, and the AEs it counts did carry the opportunity flow it
        shows: the base's ``selling_hours_per_opportunity`` would throttle the calibrated flow
        with a capacity the data never saw (at the Olist origins, the default's 6 hours with the
        export's 22 AEs held the forecast opportunities at what 22 AEs sell). The calibrated
        scenario therefore leaves AE capacity to the open-opportunity cap (``0``: no selling
        time), listed as derived; set it to plan AE capacity in hours."""
        hours = sc.ae.selling_hours_per_opportunity
        if "ae.count" not in self.updates or not hours:
            return sc
        self.add("ae.selling_hours_per_opportunity", 0.0, (0.0, 0.0), "hours",
                 f"0 (no selling time): the export has no selling time and its {sc.ae.count}"
                 f" AEs carried the flow it shows ({self.base.name}:"
                 f" {self.base.ae.selling_hours_per_opportunity:g})", sc.ae.count,
                 "opportunity_owner", derived=True)  # fmt: skip
        return set_path(sc, "ae.selling_hours_per_opportunity", 0.0)

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
            self._open_per_owner()
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

    def _open_per_owner(self) -> None:
        """The most opportunities one owner held open at once (opened, not yet closed; open
        ones until the export): a lower bound of ``ae.max_open_opportunities``, applied when
        above the base's (a lower cap would queue what the export shows being worked)."""
        if "opportunity_opened_at" not in self.H:
            return
        owner = self.L["opportunity_owner"]
        opened = self.H["opportunity_opened_at"]
        closed = self.H.get("closed_at", np.full(len(opened), np.nan))
        ok = np.isfinite(opened) & owner.notna().to_numpy()
        if ok.sum() < 20:
            return
        end = np.where(np.isfinite(closed), closed, self.C)[ok]
        codes = pd.factorize(owner[ok])[0]
        t = np.concatenate([opened[ok], end])
        step = np.concatenate([np.ones(ok.sum()), -np.ones(ok.sum())])
        who = np.concatenate([codes, codes])
        order = np.lexsort((step, t, who))  # per owner by time, a close before an open
        peak = 0
        for c in np.unique(codes):
            sel = order[who[order] == c]
            peak = max(peak, int(np.cumsum(step[sel]).max()))
        self.add("ae.max_open_opportunities", peak, (peak, peak), "opportunities",
                 "the most opportunities one owner held open at once (a lower bound of the"
                 " cap)", int(ok.sum()), "opportunity_owner, opportunity_opened_at,"
                 " closed_at", exact=True)  # fmt: skip
        if peak <= self.base.ae.max_open_opportunities:
            self.updates.pop("ae.max_open_opportunities")
