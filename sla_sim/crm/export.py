"""Write an event log out as a CRM export: a lead table, an activity table and their mapping.

The inverse of :mod:`sla_sim.crm.to_log`, used to test the importer against the simulator
(simulate, export, re-import, compare), by ``sla-sim crm template`` for its example export,
and by the scale benchmark. Column names imitate a typical CRM lead export.

An export row holds one MQL episode: events of later episodes (a recycled lead that
re-qualified) are not written, and :func:`log_to_export` says how many leads had them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sla_sim.batch.files import atomic_write_parquet, atomic_write_text
from sla_sim.batch.safe_csv import write_csv
from sla_sim.events import CODE, EventLog

__all__ = ["EXPORT_COLUMNS", "ExportFrames", "log_to_export", "write_export"]

# canonical field -> column name in the written export
EXPORT_COLUMNS: dict[str, str] = {
    "lead_id": "Lead ID", "created_at": "Created Date", "channel": "Lead Source",
    "segment": "Segment", "owner": "Lead Owner", "team": "Team", "score": "Lead Score",
    "mql_at": "MQL Date", "routed_at": "Routed Date", "assigned_at": "Assigned Date",
    "sql_at": "SQL Date", "disqualified_at": "Disqualified Date",
    "recycled_at": "Recycled Date", "opportunity_opened_at": "Opportunity Created Date",
    "closed_at": "Close Date", "stage": "Stage", "amount": "Amount",
    "opportunity_owner": "Opportunity Owner",
    "activity_lead_id": "Lead ID", "activity_at": "Activity Date",
    "activity_outcome": "Result", "activity_owner": "Assigned To",
    "activity_duration_minutes": "Duration (min)",
}  # fmt: skip
STAGE_VALUES = {"open": ["Open"], "won": ["Closed Won"], "lost": ["Closed Lost"],
                "disqualified": ["Disqualified"], "expired": ["Expired"]}  # fmt: skip
OUTCOME_VALUES = {"reached": ["Reached"], "no_answer": ["No Answer"]}


@dataclass
class ExportFrames:
    """A written-out log: the two tables, the mapping that reads them, and what was left out."""

    leads: pd.DataFrame
    activities: pd.DataFrame
    mapping: dict[str, Any]
    later_episodes: int  # leads with events of a second MQL episode (not represented)


def _default_owner(team: str, rep: int) -> str:
    return f"{team} rep {rep + 1}"


def log_to_export(log: EventLog, origin: datetime, exported_at_h: float, timezone: str,
                  owner_name: Callable[[str, int], str] = _default_owner,
                  ae_name: Callable[[int], str] = lambda a: f"AE {a + 1}",
                  ) -> ExportFrames:  # fmt: skip
    """The lead and activity tables of ``log`` as a CRM would export them at
    ``exported_at_h`` (model hours; later rows are left out, stages still open there are
    ``Open``). Timestamps are written as UTC instants with nanoseconds."""
    cols = log.columns(sort=False)
    keep = (cols["time_h"] < exported_at_h) & (cols["episode"] <= 1)
    c = {k: v[keep] for k, v in cols.items()}
    n = len(log.leads["lead"])
    later = len(np.unique(cols["lead"][cols["episode"] > 1]))
    ev, lead, t = c["event"], c["lead"], c["time_h"]
    o_ns = pd.Timestamp(origin).tz_convert("UTC").value

    def ts(h: np.ndarray) -> pd.Series:
        ns = np.where(np.isnan(h), 0, np.round(h * 3.6e12)).astype(np.int64) + o_ns
        out = pd.Series(pd.to_datetime(ns, utc=True))
        return out.where(~np.isnan(h))

    def first(code: str) -> tuple[np.ndarray, np.ndarray]:
        """Earliest time per lead of an event (NaN if none), and the row positions."""
        m = np.flatnonzero(ev == CODE[code])
        out = np.full(n, np.inf)
        np.minimum.at(out, lead[m], t[m])
        out[np.isinf(out)] = np.nan
        return out, m

    created, _ = first("created")
    leads = pd.DataFrame({"lead_id": [f"L{i:08d}" for i in range(n)]})
    leads["created_at"] = ts(created)
    leads["channel"] = np.asarray(log.channels, dtype=object)[log.leads["channel"]]
    leads["segment"] = np.asarray(log.segments, dtype=object)[log.leads["segment"]]
    mql_t, mrows = first("mql")
    team = np.full(n, -1, dtype=np.int64)
    team[lead[mrows]] = c["team"][mrows]
    team_names = np.asarray([*log.teams, ""], dtype=object)
    leads["team"] = pd.Series(team_names[team]).replace("", None)
    assigned_t, arows = first("assigned")
    owner = np.full(n, None, dtype=object)
    for i in arows:
        owner[lead[i]] = owner_name(log.teams[c["team"][i]], int(c["rep"][i]))
    leads["owner"] = owner
    leads["score"] = log.leads["score"]
    leads["mql_at"] = ts(mql_t)
    leads["routed_at"] = ts(first("routed")[0])
    leads["assigned_at"] = ts(assigned_t)
    leads["sql_at"] = ts(first("sql")[0])
    leads["disqualified_at"] = ts(first("disqualified")[0])
    leads["recycled_at"] = ts(first("recycled")[0])
    opp_t, orows = first("opp_open")
    leads["opportunity_opened_at"] = ts(opp_t)
    won_t, wrows = first("won")
    lost_t, _ = first("lost")
    exp_t, _ = first("nurture_expired")
    stage = np.full(n, "open", dtype=object)
    stage[~np.isnan(won_t)] = "won"
    stage[~np.isnan(lost_t)] = "lost"
    stage[~np.isnan(exp_t)] = "expired"
    disq = ~np.isnan(first("disqualified")[0])
    stage[disq & (stage == "open")] = "disqualified"
    leads["closed_at"] = ts(np.fmin(np.fmin(won_t, lost_t), exp_t))
    leads["stage"] = [STAGE_VALUES[s][0] for s in stage]
    amount = np.full(n, np.nan)
    amount[lead[wrows]] = c["value"][wrows]
    leads["amount"] = amount
    ae = np.full(n, None, dtype=object)
    for i in orows:
        if c["rep"][i] >= 0:
            ae[lead[i]] = ae_name(int(c["rep"][i]))
    leads["opportunity_owner"] = ae

    arows = np.flatnonzero(ev == CODE["attempt"])
    crows = np.flatnonzero(ev == CODE["contact"])
    key_a = lead[arows] * 64 + c["attempt"][arows]
    key_c = set((lead[crows] * 64 + c["attempt"][crows]).tolist())
    reached = np.fromiter((k in key_c for k in key_a.tolist()), dtype=bool, count=len(key_a))
    names = {(ti, r): owner_name(log.teams[ti], r) for ti, r in
             set(zip(c["team"][arows].tolist(), c["rep"][arows].tolist(), strict=True))}
    acts = pd.DataFrame({
        "activity_lead_id": leads["lead_id"].to_numpy()[lead[arows]],
        "activity_at": ts(t[arows]).to_numpy(),
        "activity_outcome": np.where(reached, "Reached", "No Answer"),
        "activity_owner": [names[(a, b)] for a, b in zip(c["team"][arows].tolist(),
                                                          c["rep"][arows].tolist(),
                                                          strict=True)],
        "activity_duration_minutes": c["value"][arows] * 60.0,
    })  # fmt: skip
    ex = pd.Timestamp(ts(np.array([exported_at_h])).iloc[0])
    mapping = {
        "columns": {k: EXPORT_COLUMNS[k] for k in [*leads.columns, *acts.columns]},
        "values": {"stage": STAGE_VALUES, "activity_outcome": OUTCOME_VALUES},
        "timezone": timezone,
        "exported_at": ex.isoformat(),
    }
    leads = leads.rename(columns=EXPORT_COLUMNS)
    acts = acts.rename(columns=EXPORT_COLUMNS)
    return ExportFrames(leads, acts, mapping, later)


def _as_a_crm_writes(df: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Local times to the second (``2025-12-18 11:06:31``, in the mapping's zone, no offset)
    and numbers to two decimals, as a CRM writes a CSV; rounding keeps every order."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            local = s.dt.round("s").dt.tz_convert(timezone)
            out[c] = local.dt.strftime("%Y-%m-%d %H:%M:%S").where(s.notna(), "")
        elif pd.api.types.is_float_dtype(s.dtype):
            out[c] = s.round(2)
    return out


def write_export(frames: ExportFrames, folder: str | Path, fmt: str = "csv",
                 calendar: dict[str, Any] | None = None, as_crm: bool = False
                 ) -> tuple[Path, Path, Path]:  # fmt: skip
    """Write ``leads.<fmt>``, ``activities.<fmt>`` and ``mapping.yaml`` into ``folder``.

    A CSV keeps every nanosecond (an exact round trip) unless ``as_crm``: then it holds local
    times to the second and numbers to two decimals, as a CRM writes them."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    mapping = dict(frames.mapping)
    for name, df in (("leads", frames.leads), ("activities", frames.activities)):
        p = out / f"{name}.{fmt}"
        if fmt == "parquet":
            atomic_write_parquet(df, p)
        else:
            write_csv(_as_a_crm_writes(df, mapping["timezone"]) if as_crm else df, p)
        paths.append(p)
    if fmt != "parquet" and as_crm:
        ex = pd.Timestamp(mapping["exported_at"]).ceil("s").tz_convert(mapping["timezone"])
        mapping["exported_at"] = ex.strftime("%Y-%m-%d %H:%M:%S")
    mapping["activity_file"] = paths[1].name
    if calendar is not None:
        mapping["calendar"] = calendar
    mp = out / "mapping.yaml"
    atomic_write_text(mp, yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True))
    return paths[0], paths[1], mp
