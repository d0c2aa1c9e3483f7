"""Measure a CRM export: real SLA compliance with the simulator's own metrics code.

The export is mapped into an event log (:mod:`sla_sim.crm.to_log`) and measured by
:func:`sla_sim.metrics.measure` on a scenario whose teams are the export's teams (their reps
= owners seen, their calendar the mapped one), under the scenario's SLA. Leads still inside a
clause's window at ``exported_at`` are pending, counted apart, exactly as at the end of a
simulated horizon. The result is a one-"replication" :class:`~sla_sim.batch.results.Results`
marked ``kind: measured``, so it writes the same results folder and can be stored and
compared with simulated runs; a per-team and per-owner (pseudonym) breakdown comes beside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sla_sim.batch.results import Results, package_version, scenario_hash
from sla_sim.batch.safe_csv import write_csv
from sla_sim.crm.load import CrmExport
from sla_sim.crm.to_log import MappedLog, to_log
from sla_sim.errors import Issue, ScenarioError
from sla_sim.horizon import Window, elapsed_hours, month_window
from sla_sim.metrics import Measurement
from sla_sim.metrics import measure as measure_log
from sla_sim.metrics.clauses import BREACHED, CLAUSES, MET, PENDING, evaluate
from sla_sim.scenario import RoutingSpec, Scenario, TeamSpec

__all__ = ["MeasuredExport", "measure_export", "measurement_scenario"]


@dataclass
class MeasuredExport:
    """What ``measure`` found: the metrics table, the breakdown and the Results to save."""

    scenario: Scenario
    mapped: MappedLog
    measurement: Measurement
    window: Window
    table: pd.DataFrame  # (period, metric, value), as a simulated replication's
    breakdown: pd.DataFrame  # period x team x owner x clause: met, breached, pending
    results: Results
    export_report: dict[str, Any]

    def save(self, out_dir: str | Path) -> Path:
        """Write the results folder plus ``breakdown.csv`` and ``export.json`` (the report
        and charts are drawn by the report layer, e.g. ``sla-sim measure``)."""
        from sla_sim.batch.files import atomic_write_text

        out = self.results.save(out_dir)
        write_csv(self.breakdown, out / "breakdown.csv")
        atomic_write_text(out / "export.json", json.dumps(self.export_report, indent=2,
                                                          default=str) + "\n")  # fmt: skip
        return out


def measurement_scenario(base: Scenario, mapped: MappedLog, export: CrmExport) -> Scenario:
    """``base`` with the export's teams: reps = owners seen, the mapped calendar, the base
    team's other settings where a team of that name exists."""
    by_name = {t.name: t for t in base.teams}
    cal = export.mapping.team_calendar()
    teams = []
    for name, reps in zip(mapped.teams, mapped.rep_counts(), strict=True):
        old = by_name.get(name)
        upd = {"name": name, "reps": min(reps, 500), "calendar": cal, "channels": [],
               "segments": []}  # fmt: skip
        teams.append(old.model_copy(update=upd) if old else TeamSpec(**upd))
    routing = RoutingSpec(team_rule="single" if len(teams) == 1 else "by_channel",
                          rep_rule=base.routing.rep_rule)  # fmt: skip
    if len(teams) > 1:  # a valid scenario: the base channels listed under the first team
        teams[0] = teams[0].model_copy(update={"channels": base.channel_names()})
    data = base.model_dump(mode="python")
    data["teams"] = [t.model_dump(mode="python") for t in teams]
    data["routing"] = routing.model_dump(mode="python")
    data["horizon"]["timezone"] = export.mapping.timezone
    data["description"] = (f"Measured from the CRM export {export.source}: teams, reps and"
                           f" calendar from the export; SLA from {base.name}. The channel and"
                           " sales parameters are the base scenario's and are not used by"
                           " the measurement.")  # fmt: skip
    from sla_sim.scenario.costs import keep_known_costs

    return Scenario.model_validate(keep_known_costs(data))


#: Longest measured window (``--from`` to ``--to`` or ``exported_at``): the work grows with
#: its months (1900 to 2262 took 27 CPU-s and 550 MB; 1700 on, minutes).
MAX_WINDOW_DAYS = 10 * 366
#: Dates ``--from`` and ``--to`` may name (inside what a timestamp in nanoseconds holds).
DATE_RANGE = ("1900-01-01", "2200-01-01")


def measure_export(export: CrmExport, base: Scenario, start: str | None = None,
                   end: str | None = None) -> MeasuredExport:  # fmt: skip
    """Measure ``export`` under ``base``'s SLA over [start, end) (dates, default: the first
    lead's month to ``exported_at``). A window longer than ten years, or a date outside
    1900 .. 2200, is refused before anything is measured."""
    st = _when(start, export, "--from") if start else None
    if st is not None:
        until = min(export.exported_at, _when(end, export, "--to")) if end else \
            export.exported_at  # fmt: skip
        if (until - st).days > MAX_WINDOW_DAYS:
            raise ScenarioError([Issue("--from", "the measured window may span at most ten"
                                       f" years (to {until.date()})", start)])  # fmt: skip
    mapped = to_log(export, teams=base.team_names(), start=st)
    sc = measurement_scenario(base, mapped, export)
    end_h = mapped.window.end_h
    start_h = 0.0
    if st is not None:
        start_h = elapsed_hours(mapped.origin, st.to_pydatetime())
    if end:
        end_h = min(end_h, elapsed_hours(mapped.origin,
                                         _when(end, export, "--to").to_pydatetime()))
    if not end_h > start_h:
        raise ScenarioError([Issue("--from/--to", "the measured window is empty",
                                   f"{start} .. {end}")])  # fmt: skip
    window = month_window(mapped.origin, start_h, end_h)
    m = measure_log(mapped.log, sc, window)
    table = _mask_unmeasurable(m.table(sc.sla), export)
    skip = tuple(unmeasurable(export))
    breakdown = _breakdown(m, sc, mapped)
    breakdown = breakdown[~(breakdown["clause"] + "_").str.startswith(skip)].reset_index(
        drop=True) if skip else breakdown
    keys = list(zip(table["period"].astype(str), table["metric"].astype(str), strict=True))
    terminal = pd.DataFrame([{"replication": 0, **mapped.terminal}])
    rep = export.report()
    rep["notes"] = {**export.incomplete, **mapped.notes}
    meta = {
        "kind": "measured", "scenario_name": sc.name, "scenario_hash": scenario_hash(sc),
        "seed": None, "replications": 1, "sla_sim_version": package_version(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "currency": sc.currency, "export": {"leads": rep["leads"],
                                            "activities": rep["activities"],
                                            "exported_at": rep["exported_at"]},
    }  # fmt: skip
    res = Results(sc, keys, np.array([0]), table["value"].to_numpy(np.float64)[None, :],
                  terminal, meta)  # fmt: skip
    return MeasuredExport(sc, mapped, m, window, table, breakdown, res, rep)


def unmeasurable(export: CrmExport) -> list[str]:
    """Metric name prefixes the export cannot measure (they would read as 0 or as breaches)."""
    acts = export.activities is not None
    touch = export.timed_touches()
    out = []
    if not export.has("routed_at"):
        out += ["handoff_", "sdr_queue"]
    if not touch:
        out += ["first_touch_", "response_", "sdr_utilization"]
    if not acts:  # a first-touch date is one touch, not a count of attempts
        out += ["attempts_", "sdr_utilization"]
    if not export.has("sql_at"):
        out += ["sqls", "acceptance_", "disposition_"]
    if not export.has("stage"):
        out += ["wins", "losses", "revenue", "deal_closure", "sales_cycle"]
    if not export.has("amount"):
        out += ["revenue"]
    if not export.has("disqualified_at"):  # SQLs over SQLs + (unseen) disqualifications
        out += ["disqualified", "acceptance_"]
    if not export.has("recycled_at"):
        out += ["recycled"]
    if "stage" in export.leads.columns and not (export.leads["stage"] == "lost").any():
        out += ["losses", "deal_closure_rate"]
    if not export.has("mql_at"):
        out += ["lead_to_mql_rate"]
    return out


def _mask_unmeasurable(table: pd.DataFrame, export: CrmExport) -> pd.DataFrame:
    """NaN for the metrics the export cannot measure (a missing field is not a breach)."""
    prefixes = tuple(unmeasurable(export))
    if prefixes:
        table = table.copy()
        table.loc[table["metric"].str.startswith(prefixes), "value"] = np.nan
    return table


def _when(text: str, export: CrmExport, flag: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        raise ScenarioError([Issue(flag, "must be a date such as 2025-01-01", text)]) from None
    lo, hi = DATE_RANGE
    if not pd.Timestamp(lo) <= ts.tz_localize(None) <= pd.Timestamp(hi):
        raise ScenarioError([Issue(flag, f"must be a date in {lo} .. {hi}", text)])
    return (ts.tz_localize(export.mapping.timezone) if ts.tzinfo is None else ts
            ).tz_convert("UTC")  # fmt: skip


def _breakdown(m: Measurement, sc: Scenario, mapped: MappedLog) -> pd.DataFrame:
    """Per period, team and owner pseudonym: met / breached / pending per clause."""
    ep = m.episodes
    if sc.sla.attempts_required != m.attempts_required:
        ep = ep.with_attempts_required(sc.sla.attempts_required)
    oc = evaluate(ep, sc.sla, m.calendars, observed_until=m.window.end_h)
    lead = ep.lead.astype(np.int64)
    team = ep.team.astype(np.int64)
    rep = mapped.lead_owner[lead] if len(lead) else np.empty(0, np.int64)
    owner_names = [[*o, "(no owner)"] for o in mapped.owners]
    n_team = len(mapped.teams) + 1  # the last: no team
    n_rep = max((len(o) for o in owner_names), default=1) + 1  # the last: no owner
    t_idx = np.where(team >= 0, team, n_team - 1)
    r_idx = np.where(rep >= 0, rep, n_rep - 1)
    rows = []
    for name in CLAUSES:
        o = oc[name]
        for p in m.window.periods:  # one bincount per period and status
            inp = (o.start >= p.start_h) & (o.start < p.end_h)
            if not inp.any():
                continue
            key = t_idx[inp] * n_rep + r_idx[inp]
            st = o.status[inp]
            size = n_team * n_rep
            met = np.bincount(key[st == MET], minlength=size)
            br = np.bincount(key[st == BREACHED], minlength=size)
            pe = np.bincount(key[st == PENDING], minlength=size)
            for k in np.flatnonzero(met + br + pe):
                ti, ri = divmod(int(k), n_rep)
                has_team = ti < n_team - 1
                names = owner_names[ti] if has_team else []
                rows.append({
                    "period": p.label, "team": mapped.teams[ti] if has_team else "(none)",
                    "owner": names[ri] if has_team and ri < len(names) - 1 else "(no owner)",
                    "clause": name, "met": int(met[k]), "breached": int(br[k]),
                    "pending": int(pe[k]),
                    "compliance": met[k] / (met[k] + br[k]) if met[k] + br[k] else float("nan"),
                })  # fmt: skip
    out = pd.DataFrame(rows, columns=["period", "team", "owner", "clause", "met", "breached",
                                      "pending", "compliance"])  # fmt: skip
    out["period"] = pd.Categorical(out["period"], [p.label for p in m.window.periods])
    return out.sort_values(["period", "clause", "team", "owner"], ignore_index=True)


def store_measured(me: MeasuredExport, store: Any = None, out: str | Path | None = None,
                   finish: Callable[[Results, Path], Any] | None = None
                   ) -> tuple[str, Path]:  # fmt: skip
    """Save a measured export as a complete run of the run store (``kind: measured``), so
    that ``runs list`` shows it and ``runs compare`` sets it beside simulated runs;
    ``finish(results, folder)`` (the report) runs before the run is marked complete."""
    from sla_sim.batch.keep import new_entry
    from sla_sim.batch.store import RunStore

    store = store or RunStore()
    note = (f"measured from CRM export ({me.export_report['leads']} leads, exported"
            f" {me.export_report['exported_at']})")  # fmt: skip
    with new_entry(store, f"measured-{me.scenario.name}", me.scenario, None, 1, note, out=out,
                   kind="measured") as (run_id, path, _meta):  # fmt: skip
        me.results.meta["run_id"] = run_id
        me.save(path)
        if finish is not None:
            finish(me.results, path)
    return run_id, path
