"""The calibrated scenario: estimates applied onto the base, what is kept, writing it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sla_sim.crm.calibrate.common import _BOUNDS, Calibration, Steps, _set
from sla_sim.scenario import Scenario


class Build(Steps):
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
        from sla_sim.scenario.costs import keep_known_costs
        from sla_sim.scenario.io import validate

        return validate(keep_known_costs(data), source="calibrated scenario")

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
            "follow_up.contact": "needs activity outcomes with a time of day",
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
        record = self.checks.get("won_record", {})
        if record and not record["identified"]:
            for key in ("channels[*].win_rate", "channels[*].cycle_days"):
                reasons[key] = "not identified: " + record["meaning"]
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


def write_calibration(cal: Calibration, out: str | Path) -> tuple[Path, Path]:
    """Write the calibrated scenario (YAML) and ``calibration.json`` beside it."""
    import json

    from sla_sim.batch.files import atomic_write, atomic_write_text
    from sla_sim.scenario.io import save

    path = Path(out)
    atomic_write(path, lambda tmp: save(cal.scenario, tmp))  # each renamed into place whole
    js = path.with_name("calibration.json")
    atomic_write_text(js, json.dumps(cal.as_dict(), indent=2, default=str) + "\n")
    return path, js
