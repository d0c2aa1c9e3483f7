"""A canonical CRM export -> the same :class:`~sla_sim.events.EventLog` the simulator writes.

Each lead row becomes the events the model would have logged for it: ``created`` (value =
score), ``nurture`` when it became an MQL later than it was created (or never), ``mql``
(episode 1, owning team), ``routed``, ``assigned`` (rep = the owner's index in the team),
one ``attempt`` per activity (value = its duration in hours) and a ``contact`` at the end of
each activity that reached the lead, then ``sql`` / ``disqualified`` / ``recycled`` (with the
model's ``nurture`` beside it), ``opp_open`` (rep = the opportunity owner's index), ``won``
(value = amount) or ``lost``, and ``nurture_expired`` for an ``expired`` stage.

Times are hours from the origin: local midnight of the first day of the month of the earliest
lead, in the mapping's time zone; the measured window runs from there to ``exported_at``.
An export holds one MQL episode per lead row. Owners reach this module only as pseudonyms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from sla_sim.crm.load import CrmExport
from sla_sim.events import CODE, COLUMNS, TERMINAL_STATES, EventLog
from sla_sim.horizon import Window, elapsed_hours, month_window

__all__ = ["MappedLog", "origin_of", "to_log"]

_NS_PER_H = 3_600_000_000_000


@dataclass
class MappedLog:
    """The event log of an export and what is needed to measure it."""

    log: EventLog
    origin: datetime
    window: Window
    teams: list[str]
    owners: list[list[str]]  # per team, the owner pseudonyms in rep-index order
    terminal: dict[str, int]
    lead_owner: np.ndarray  # rep index of each lead's owner in its team (-1: none)
    lead_team: np.ndarray
    notes: dict[str, int] = field(default_factory=dict)

    def rep_counts(self) -> list[int]:
        """Owners seen per team (at least 1)."""
        return [max(1, len(o)) for o in self.owners]


def origin_of(export: CrmExport, start: pd.Timestamp | None = None) -> datetime:
    """Local midnight of the first day of the month of ``start`` (default: earliest lead)."""
    tz = ZoneInfo(export.mapping.timezone)
    first = start if start is not None else export.leads["created_at"].min()
    local = pd.Timestamp(first).tz_convert(tz)
    return datetime(local.year, local.month, 1, tzinfo=tz)


def _hours(ts: pd.Series | np.ndarray, origin_ns: int) -> np.ndarray:
    """datetime64[ns, UTC] values -> float hours from the origin (NaN where missing)."""
    a = pd.to_datetime(ts, utc=True) if not isinstance(ts, pd.Series) else ts
    if isinstance(a, pd.Series) and isinstance(a.dtype, pd.DatetimeTZDtype):
        i = a.astype("datetime64[ns, UTC]").array.asi8
        out = (i - origin_ns) / _NS_PER_H
        out[i == np.iinfo(np.int64).min] = np.nan
        return out
    v = a.to_numpy(dtype="datetime64[ns]") if hasattr(a, "to_numpy") else np.asarray(a)
    i = v.astype("datetime64[ns]").astype(np.int64)
    out = (i - origin_ns) / _NS_PER_H
    out[np.isnat(v)] = np.nan
    return out


def _add(log: EventLog, event: str, lead: np.ndarray, episode: np.ndarray | int,
         time_h: np.ndarray, team: np.ndarray | int = -1, rep: np.ndarray | int = -1,
         attempt: np.ndarray | int = -1, value: np.ndarray | float = np.nan) -> None:  # fmt: skip
    """Append one event type's rows (every column given; the vectorised path of the log)."""
    n = len(lead)
    if n == 0:
        return
    cols = {
        "lead": np.asarray(lead, dtype=np.int64),
        "episode": np.broadcast_to(np.asarray(episode, dtype=np.int32), n),
        "time_h": np.asarray(time_h, dtype=np.float64),
        "event": np.full(n, CODE[event], dtype=np.int16),
        "team": np.broadcast_to(np.asarray(team, dtype=np.int16), n),
        "rep": np.broadcast_to(np.asarray(rep, dtype=np.int32), n),
        "attempt": np.broadcast_to(np.asarray(attempt, dtype=np.int16), n),
        "value": np.broadcast_to(np.asarray(value, dtype=np.float64), n),
    }
    assert tuple(cols) == COLUMNS
    log._bulk.append(cols)  # EventLog's vectorised store (add_many has no rep/attempt)


def to_log(export: CrmExport, channels: list[str] | None = None,
           teams: list[str] | None = None, start: pd.Timestamp | None = None
           ) -> MappedLog:  # fmt: skip
    """Map an export into an event log (see the module docstring).

    ``channels`` / ``teams`` fix the category order (e.g. a scenario's); names in the export
    not listed are appended. ``start`` sets the origin month (default: the earliest lead).
    """
    L = export.leads
    n = len(L)
    origin = origin_of(export, start)
    o_ns = pd.Timestamp(origin).tz_convert("UTC").value
    H = {c: _hours(L[c], o_ns) for c in L.columns if c.endswith("_at")}
    ch_names = _order(channels, L["channel"])
    seg_names = _order(None, L["segment"])
    # a team owns MQLs: teams come from the leads that became MQLs (the others carry the
    # mapping's default team, which is no team at all)
    mql_rows = L["mql_at"].notna() if "mql_at" in L.columns else pd.Series(True, index=L.index)
    seen_teams = set(L.loc[mql_rows, "team"].dropna().astype(str))
    team_names = _order([t for t in teams or [] if t in seen_teams] or None,
                        L.loc[mql_rows, "team"])
    ch = pd.Categorical(L["channel"], categories=ch_names).codes.astype(np.int16)
    seg = pd.Categorical(L["segment"], categories=seg_names).codes.astype(np.int16)
    team = pd.Index(team_names).get_indexer(L["team"].astype(str)).astype(np.int64)

    # owners per team: lead owners and the owners of the activities on the team's leads,
    # as integer codes (one factorize over both), rep index = rank of the name in the team
    acts = export.activities
    n_act = 0 if acts is None else len(acts)
    lead_names = (L["owner"].astype("string") if "owner" in L.columns
                  else pd.Series(pd.NA, index=range(n), dtype="string"))  # fmt: skip
    act_names = (acts["owner"].astype("string") if acts is not None and "owner" in acts.columns
                 else pd.Series(pd.NA, index=range(n_act), dtype="string"))  # fmt: skip
    codes, names = pd.factorize(pd.concat([lead_names, act_names], ignore_index=True),
                                use_na_sentinel=True)  # fmt: skip
    lead_code, act_code = codes[:n].astype(np.int64), codes[n:].astype(np.int64)
    act_team = team[acts["lead"].to_numpy(np.int64)] if acts is not None else np.empty(0, int)
    pairs = pd.DataFrame({"team": np.concatenate([team, act_team]), "code": codes})
    pairs = pairs[pairs["code"] >= 0].drop_duplicates()
    pairs["name"] = np.asarray(names, dtype=object)[pairs["code"].to_numpy()]
    pairs = pairs.sort_values(["team", "name"], kind="stable")
    pairs["rep"] = pairs.groupby("team").cumcount()
    owners = [pairs.loc[pairs["team"] == ti, "name"].astype(str).tolist()
              for ti in range(len(team_names))]  # fmt: skip
    width = len(names) + 1
    index = pd.Index(pairs["team"].to_numpy(np.int64) * width + pairs["code"].to_numpy())
    rep_values = pairs["rep"].to_numpy(np.int32)

    def rep_index(tm: np.ndarray, code: np.ndarray) -> np.ndarray:
        """Rep index of owner codes in their teams (-1: no owner)."""
        if not len(tm):
            return np.empty(0, np.int32)
        pos = index.get_indexer(np.asarray(tm, np.int64) * width + np.asarray(code, np.int64))
        return np.where((pos >= 0) & (np.asarray(code) >= 0), rep_values[np.maximum(pos, 0)]
                        if len(rep_values) else -1, -1).astype(np.int32)

    lead_rep = rep_index(team, lead_code)

    log = EventLog(ch_names, seg_names, team_names)
    created = H["created_at"]
    score = L["score"].to_numpy(float) if "score" in L.columns else np.full(n, np.nan)
    log.set_leads(ch, seg, created, score)
    ids = np.arange(n)
    _add(log, "created", ids, 0, created, value=score)
    mql = H.get("mql_at", created)
    is_mql = ~np.isnan(mql)
    if "mql_at" in H:
        nur = ~is_mql | (mql > created)
        _add(log, "nurture", ids[nur], 0, created[nur])
    _add(log, "mql", ids[is_mql], 1, mql[is_mql], team[is_mql])
    ep = np.where(is_mql, 1, 0)
    notes: dict[str, int] = {}

    def lead_event(name: str, col: str, with_rep: bool = True) -> np.ndarray:
        t = H.get(col)
        if t is None:
            return np.zeros(n, dtype=bool)
        m = ~np.isnan(t)
        _add(log, name, ids[m], ep[m], t[m], team[m], lead_rep[m] if with_rep else -1)
        return m

    lead_event("routed", "routed_at", with_rep=False)
    lead_event("assigned", "assigned_at")
    _attempts(log, export, H, o_ns, mql, team, ep, rep_index, notes, lead_code, act_code)
    lead_event("sql", "sql_at")
    lead_event("disqualified", "disqualified_at")
    rec = lead_event("recycled", "recycled_at")
    if rec.any():
        _add(log, "nurture", ids[rec], ep[rec], H["recycled_at"][rec])

    stage = L["stage"] if "stage" in L.columns else pd.Series("open", index=L.index)

    def is_stage(name: str) -> np.ndarray:
        return (stage == name).fillna(False).to_numpy(bool)

    closed = H.get("closed_at", np.full(n, np.nan))
    won = is_stage("won") & ~np.isnan(closed)
    lost = is_stage("lost") & ~np.isnan(closed)
    expired = is_stage("expired") & ~np.isnan(closed)
    opened = H.get("opportunity_opened_at", np.full(n, np.nan)).copy()
    # a closed deal needs an opening time for its cycle: SQL time, else MQL time
    fallback = (won | lost) & np.isnan(opened)
    if fallback.any():
        alt = np.where(np.isnan(H.get("sql_at", np.full(n, np.nan))), mql,
                       H.get("sql_at", np.full(n, np.nan)))  # fmt: skip
        opened[fallback] = alt[fallback]
        notes["closed deals without opportunity_opened_at (opened at sql_at or mql_at)"] = int(
            fallback.sum())
    ae_rep = np.full(n, -1, dtype=np.int32)
    if "opportunity_owner" in L.columns:
        ae_names = sorted(L["opportunity_owner"].dropna().astype(str).unique())
        ae_rep = (pd.Series(L["opportunity_owner"].to_numpy(dtype=object))
                  .map({a: i for i, a in enumerate(ae_names)}).fillna(-1).to_numpy(np.int32))
    has_opp = ~np.isnan(opened)
    _add(log, "opp_open", ids[has_opp], ep[has_opp], opened[has_opp], -1, ae_rep[has_opp])
    amount = L["amount"].to_numpy(float) if "amount" in L.columns else np.full(n, np.nan)
    _add(log, "won", ids[won], ep[won], closed[won], -1, ae_rep[won], value=amount[won])
    _add(log, "lost", ids[lost], ep[lost], closed[lost], -1, ae_rep[lost])
    _add(log, "nurture_expired", ids[expired], ep[expired], closed[expired])

    disq = is_stage("disqualified") | (~np.isnan(H.get("disqualified_at", np.full(n, np.nan)))
                                        & ~won & ~lost & ~expired)  # fmt: skip
    state = np.zeros(n, dtype=np.int64)
    state[won], state[lost], state[expired] = 1, 2, 4
    state[disq & (state == 0)] = 3
    counts = np.bincount(state, minlength=len(TERMINAL_STATES))
    terminal = {name: int(counts[i]) for i, name in enumerate(TERMINAL_STATES)}
    end_h = elapsed_hours(origin, export.exported_at.to_pydatetime())
    window = month_window(origin, 0.0, end_h)
    return MappedLog(log, origin, window, team_names, owners, terminal,
                     lead_rep.astype(np.int64), team, notes)  # fmt: skip


def _order(first: list[str] | None, values: pd.Series) -> list[str]:
    seen = list(dict.fromkeys(str(v) for v in pd.unique(values.dropna())))
    base = list(first or [])
    return base + sorted(v for v in seen if v not in base)


def _attempts(log: EventLog, export: CrmExport, H: dict[str, np.ndarray], origin_ns: int,
              mql: np.ndarray, team: np.ndarray, ep: np.ndarray, rep_index: Callable[
                  [np.ndarray, np.ndarray], np.ndarray], notes: dict[str, int],
              lead_code: np.ndarray, act_code: np.ndarray) -> None:
    """Attempt and contact rows from the activities (plus ``first_touch_at`` when it is
    earlier than a lead's first activity, or the lead has none).

    Attempts are numbered per lead in time order from 0; an activity before its lead became an
    MQL (or of a lead that never did) is not an attempt on an MQL and is counted in ``notes``.
    """
    n = len(mql)
    acts = export.activities
    lead = np.empty(0, np.int64)
    t = dur = np.empty(0)
    reach = np.empty(0, bool)
    own = np.empty(0, dtype=np.int64)
    if acts is not None and len(acts):
        lead = acts["lead"].to_numpy(np.int64)
        t = _hours(acts["at"], origin_ns)
        dur = (acts["duration_minutes"].to_numpy(float) / 60.0 if "duration_minutes" in
               acts.columns else np.full(len(acts), np.nan))  # fmt: skip
        reach = ((acts["outcome"] == "reached").fillna(False).to_numpy(bool) if "outcome" in
                 acts.columns else np.zeros(len(acts), dtype=bool))  # fmt: skip
        own = act_code
        before = np.isnan(mql[lead]) | (t < mql[lead])
        if before.any():
            notes["activities before the lead's MQL (not attempts)"] = int(before.sum())
            keep = ~before
            lead, t, dur, reach, own = lead[keep], t[keep], dur[keep], reach[keep], own[keep]
    ft = H.get("first_touch_at")
    if ft is not None:
        first_act = np.full(n, np.inf)
        np.minimum.at(first_act, lead, t)
        extra = ~np.isnan(ft) & (ft < first_act)
        own_lead = lead_code
        lead = np.concatenate([lead, np.flatnonzero(extra)])
        t = np.concatenate([t, ft[extra]])
        dur = np.concatenate([dur, np.full(int(extra.sum()), np.nan)])
        reach = np.concatenate([reach, np.zeros(int(extra.sum()), bool)])
        own = np.concatenate([own, own_lead[extra]])
    if not len(lead):
        return
    order = np.lexsort((t, lead))
    lead, t, dur, reach, own = lead[order], t[order], dur[order], reach[order], own[order]
    start = np.ones(len(lead), dtype=bool)
    start[1:] = lead[1:] != lead[:-1]
    first_pos = np.maximum.accumulate(np.where(start, np.arange(len(lead)), 0))
    number = (np.arange(len(lead)) - first_pos).astype(np.int64)
    if number.max() >= np.iinfo(np.int16).max:
        raise ValueError("more than 32766 attempts on one lead")
    tm = team[lead]
    rep = rep_index(tm, own)
    _add(log, "attempt", lead, ep[lead], t, tm, rep, number, dur)
    r = reach
    end = t[r] + np.nan_to_num(dur[r], nan=0.0)
    _add(log, "contact", lead[r], ep[lead[r]], end, tm[r], rep[r], number[r])
