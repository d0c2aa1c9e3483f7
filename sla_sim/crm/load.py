"""Read a CRM export (lead table, optional activity table) into canonical frames.

Rows are checked against the bad-export rules; every problem becomes an
:class:`~sla_sim.errors.Issue` naming the row (1-based data row, header not counted), the
column and the value, and the first :data:`MAX_LISTED` are raised together as one
:class:`~sla_sim.errors.ScenarioError`:

- the mapping names a column the export does not have;
- a date that does not parse (or a score / amount that is not a number);
- events out of order: a timestamp before ``created_at`` (or after ``exported_at``), a
  first touch / SQL / disposition before the MQL, a close before the opportunity opened;
- a lead id seen twice;
- a stage (or activity outcome) value the mapping does not list.

Rows that are merely incomplete (no channel, a won lead without a close date, an activity of a
lead not in the lead table...) are counted in :attr:`CrmExport.incomplete` and reported, never
dropped silently. Owners are replaced by salted-hash pseudonyms here, so no owner name goes
further than this module; lead ids are replaced by row positions.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sla_sim.crm.activities import read_activities
from sla_sim.crm.checks import (
    MAX_LISTED,
    Problems,
    after_export,
    map_values,
    present,
    pseudonym,
    pseudonyms,
)
from sla_sim.crm.mapping import (
    STAGES,
    TIMESTAMPS,
    CrmMapping,
    load_mapping,  # fmt: skip
)
from sla_sim.crm.read import read_raw
from sla_sim.crm.tables import read_lead_table, resolve_path
from sla_sim.crm.values import (
    date_hint,
    date_order,
    money_issues,
    order_unconfirmed,
    parse_money,
    parse_times,
)
from sla_sim.errors import Issue, ScenarioError

__all__ = ["MAX_LISTED", "CrmExport", "load_export", "pseudonym", "read_table"]

MISSING_LABEL = "(none)"
# timestamp pairs (later, earlier): the later event may not precede the earlier one
_ORDER = [(t, "created_at") for t in TIMESTAMPS if t != "created_at"] + [
    ("first_touch_at", "mql_at"), ("sql_at", "mql_at"), ("disqualified_at", "mql_at"),
    ("recycled_at", "mql_at"), ("closed_at", "opportunity_opened_at"),
]  # fmt: skip


@dataclass
class CrmExport:
    """A CRM export in canonical form.

    ``leads``: one row per lead (position = lead id in the event log) with the canonical columns
    that were mapped: timestamps as ``datetime64[ns, UTC]``, ``channel``/``segment``/``team``
    strings, ``owner``/``opportunity_owner`` pseudonyms, ``score``/``amount`` floats and
    ``stage`` in canonical values. ``activities`` (or None): ``lead`` (position), ``at``,
    ``outcome`` (canonical or missing), ``owner`` (pseudonym), ``duration_minutes``,
    ``date_only`` (present when some activity times are a day only).
    """

    mapping: CrmMapping
    leads: pd.DataFrame
    activities: pd.DataFrame | None
    exported_at: pd.Timestamp
    incomplete: dict[str, int] = field(default_factory=dict)
    source: str = ""
    exported_from: str = "mapping"  # where exported_at came from (printed by the commands)
    messages: list[str] = field(default_factory=list)  # how the files were read
    skipped: list[str] = field(default_factory=list)  # mapped fields whose column is absent
    day_only: list[str] = field(default_factory=list)  # timestamp fields dated by the day only

    @property
    def n_leads(self) -> int:
        """Number of leads."""
        return len(self.leads)

    def timed_touches(self) -> bool:
        """Whether the export says at what hour leads were touched: a first-touch column or
        activities, not all dated by the day only (an hours clause cannot be judged on days)."""
        if self.has("first_touch_at") and "first_touch_at" not in self.day_only:
            return True
        a = self.activities
        return a is not None and not ("date_only" in a.columns and bool(a["date_only"].all()))

    def has(self, name: str) -> bool:
        """Whether the canonical lead field exists (mapped, or derived like ``stage``)."""
        return name in self.leads.columns

    def report(self) -> dict[str, Any]:
        """Aggregates only: counts, what is missing and what it costs, incomplete rows."""
        return {
            "leads": self.n_leads,
            "activities": 0 if self.activities is None else len(self.activities),
            "exported_at": self.exported_at.isoformat(),
            "first_created_at": self.leads["created_at"].min().isoformat()
            if self.n_leads else None,
            "incomplete": dict(self.incomplete),
            "exported_at_from": self.exported_from,
            "missing_fields": self.mapping.missing_costs(
                self.activities is not None, set(self.leads.columns) | (
                    set() if self.activities is None else {
                        f"activity_{c}" for c in self.activities.columns})),
        }

    def cut(self, at: pd.Timestamp) -> CrmExport:
        """The export as it would have looked at ``at``: leads created before it, every later
        timestamp erased (and stages after it back to ``open``), activities before it."""
        at = pd.Timestamp(at)
        at = at.tz_localize(self.mapping.timezone) if at.tzinfo is None else at
        at = at.tz_convert("UTC")
        keep = (self.leads["created_at"] < at).to_numpy()
        leads = self.leads.loc[keep].reset_index(drop=True)
        for t in TIMESTAMPS:
            if t in leads.columns:
                leads[t] = leads[t].where(leads[t] < at)
        if "stage" in leads.columns:
            closed = leads["closed_at"].notna() if "closed_at" in leads.columns else False
            gone = leads["stage"].isin(["won", "lost", "expired"]) & ~closed
            if "disqualified_at" in leads.columns:
                gone |= (leads["stage"] == "disqualified") & leads["disqualified_at"].isna()
            leads.loc[gone, "stage"] = "open"
        acts = None
        if self.activities is not None:
            new_pos = np.full(len(self.leads), -1, dtype=np.int64)
            new_pos[keep] = np.arange(int(keep.sum()))
            a = self.activities
            m = (a["at"] < at).to_numpy() & keep[a["lead"].to_numpy()]
            acts = a.loc[m].reset_index(drop=True)
            acts["lead"] = new_pos[acts["lead"].to_numpy()]
        return CrmExport(self.mapping, leads, acts, at, dict(self.incomplete), self.source,
                         self.exported_from, list(self.messages), list(self.skipped),
                         list(self.day_only))  # fmt: skip


def read_table(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A CSV or Parquet table (bounded and checked by :mod:`sla_sim.crm.read`), every CSV
    column read as text (parsed per field later)."""
    raw = read_raw(path)
    return raw.frame(columns if columns is not None else raw.header)


GUESSED_ZONE = ("preset:salesforce", "preset:hubspot")
def load_export(path: str | Path | list[str | Path], mapping: Any,
                activities: str | Path | None = None, salt: str | None = None,
                joins: list[str | Path] | None = None) -> CrmExport:  # fmt: skip
    """Read and check an export through a mapping (file, ``preset:NAME``, dict or CrmMapping).

    ``path`` may be several files of one lead table. ``joins`` gives the files of the
    mapping's ``join`` tables in order (over their ``file``); ``activities`` overrides the
    mapping's ``activity_file``. ``salt`` overrides the mapping's pseudonym salt (empty: a
    random one, so pseudonyms are stable within this export only).
    """
    mp = load_mapping(mapping)
    paths = [Path(p) for p in (path if isinstance(path, list | tuple) else [path])]
    if not paths:
        raise ScenarioError([Issue("export", "no file given", None)], source="export")
    salt = mp.salt if salt is None else salt
    salt = salt or secrets.token_hex(16)
    label = paths[0].name if len(paths) == 1 else f"{paths[0].name} (+{len(paths) - 1})"
    table = read_lead_table(paths, mp, [Path(j) for j in joins or []])
    raw, names = table.raw, table.labels
    probs = Problems()
    incomplete: dict[str, int] = dict(table.notes)
    fmt = mp.date_format

    # ids: missing ids and created dates cannot be placed; duplicates are errors
    lid = raw["lead_id"].astype("string").str.strip()
    no_id = ~present(raw["lead_id"])
    dup = lid.duplicated(keep="first").to_numpy(bool) & ~no_id
    # the id itself is not shown (an export's ids stay out of every output): the row that
    # holds it first is
    first = pd.Series(np.arange(len(lid))).groupby(lid.to_numpy(), dropna=True).transform("min")
    same_as = pd.Series([f"the id of row {int(f) + 1}" if d else None
                         for f, d in zip(first.to_numpy(), dup, strict=True)])  # fmt: skip
    probs.add_mask("leads", names["lead_id"], dup, same_as,
                   "duplicate lead id (the id is not shown: export ids stay private)", 0)

    out = pd.DataFrame(index=raw.index)
    date_only: dict[str, np.ndarray] = {}
    for t in TIMESTAMPS:
        if t not in raw.columns:
            continue
        parsed, date_only[t] = parse_times(raw[t], fmt, mp.timezone)
        bad = present(raw[t]) & parsed.isna().to_numpy()
        probs.add_mask("leads", names[t], bad, raw[t], "unparseable date" + (
            "" if fmt in ("ISO8601", "mixed") else f" (date_format {fmt!r})") + date_hint(
            raw[t][bad]), 1)  # fmt: skip
        out[t] = parsed
    order_note = order_unconfirmed({names[t]: raw[t] for t in TIMESTAMPS if t in raw.columns},
                                   [fmt] if isinstance(fmt, str) else list(fmt))  # fmt: skip
    for num in ("score", "amount"):
        if num in raw.columns:
            vals = (parse_money(raw[num]) if num == "amount"
                    else pd.to_numeric(raw[num], errors="coerce").astype(float))  # fmt: skip
            bad = present(raw[num]) & vals.isna().to_numpy()
            for mask, rule in money_issues(raw[num]) if num == "amount" else []:
                probs.add_mask("leads", names[num], mask & present(raw[num]), raw[num],
                               rule, 1)  # fmt: skip
                bad &= ~mask
            probs.add_mask("leads", names[num], bad, raw[num], "not a number", 1)
            out[num] = vals.astype(float)
    no_created = out["created_at"].isna().to_numpy() & ~no_id
    if no_created.any():
        incomplete["leads without created_at (not placed)"] = int(no_created.sum())
    if no_id.any():
        incomplete["rows without lead_id (not placed)"] = int(no_id.sum())

    # stage: the listed values, else (for a value not listed) the IsWon / IsClosed flags
    flags = _stage_flags(raw, names, probs)
    if "stage" in raw.columns or flags is not None:
        rev = mp.reverse_values("stage")
        staged = (present(raw["stage"]) if "stage" in raw.columns
                   else np.zeros(len(raw), dtype=bool))  # fmt: skip
        stage = (map_values(raw["stage"], rev) if "stage" in raw.columns
                 else pd.Series(pd.NA, index=raw.index, dtype="string"))  # fmt: skip
        if flags is not None:
            fill = stage.isna().to_numpy() & ~np.isnan(flags[1])
            stage[fill] = np.where(flags[0][fill] == 1, "won",
                                   np.where(flags[1][fill] == 1, "lost", "open"))
            staged |= fill
        if "stage" in raw.columns:
            bad = present(raw["stage"]) & stage.isna().to_numpy()
            probs.add_mask("leads", names["stage"], bad, raw["stage"], "unknown stage value:"
                           f" add it under values.stage.<{'|'.join(STAGES)}> in the mapping"
                           " (or map is_won / is_closed)", 2)  # fmt: skip
        if (~staged).any():
            incomplete["leads without stage (taken as open)"] = int((~staged).sum())
        out["stage"] = stage.fillna("open").astype("string")
        if "closed_at" in out.columns:  # an open deal's close date is an expectation
            expected = (out["stage"] == "open").to_numpy(bool) & out["closed_at"].notna(
                ).to_numpy()
            if expected.any():
                incomplete["expected close dates of open deals (not events, ignored)"] = int(
                    expected.sum())
                out.loc[expected, "closed_at"] = pd.NaT
    elif mp.closed_means and "closed_at" in out.columns:
        out["stage"] = pd.Series(np.where(out["closed_at"].notna(), mp.closed_means, "open"),
                                 index=out.index, dtype="string")  # fmt: skip

    # order: a date-only value on the day of the earlier event is placed at its time
    for later, earlier in _ORDER:
        if later in out.columns and earlier in out.columns:
            bad = (out[later] < out[earlier]).to_numpy(bool).copy()
            same_day = bad & date_only[later] & (
                out[later] + pd.Timedelta(days=1) > out[earlier]).to_numpy(bool)
            if same_day.any():
                incomplete[f"date-only {later} on the day of {earlier} (placed at its"
                           " time)"] = int(same_day.sum())
                out.loc[same_day, later] = out.loc[same_day, earlier]
                bad &= ~same_day
            if mp.out_of_order == "count" and bad.any():
                incomplete[f"{later} before {earlier} (dropped)"] = int(bad.sum())
                out.loc[bad, later] = pd.NaT
                continue
            probs.add_mask("leads", names[later], bad, raw[later],
                           f"is before {earlier} ({names[earlier]}) of the same row (a known"
                           " slip in the data? set out_of_order: count in the mapping to"
                           " count and drop such values)", 3)  # fmt: skip
    if mp.exported_at is None:  # before the latest event is taken as the export instant
        _after_export(out, None, mp, probs, incomplete, names, raw)
    exported, exported_from = _exported_at(mp, out, table.generated_at)
    if mp.exported_at is not None:
        _after_export(out, exported, mp, probs, incomplete, names, raw)

    # attributes
    for attr, default in (("channel", None), ("segment", mp.segment_default),
                          ("team", mp.team_default)):  # fmt: skip
        if attr in raw.columns:
            text = raw[attr].astype("string").str.strip()
            miss = ~present(raw[attr])
            if attr == "team" and "mql_at" in out.columns:  # a team owns MQLs only
                miss_mql = miss & out["mql_at"].notna().to_numpy()
            else:
                miss_mql = miss
            if miss_mql.any():
                incomplete[f"leads without {attr}"] = int(miss_mql.sum())
            out[attr] = text.where(~miss, default if default is not None else MISSING_LABEL)
        else:
            out[attr] = pd.Series(default, index=out.index, dtype="string")
    for own in ("owner", "opportunity_owner"):
        if own in raw.columns:
            out[own] = pseudonyms(raw[own], salt)
            if own == "owner":
                miss = out[own].isna().to_numpy().copy()
                if "mql_at" in out.columns:  # owners are owed to MQLs
                    miss &= out["mql_at"].notna().to_numpy()
                if miss.any():
                    incomplete["MQLs without owner"] = int(miss.sum())

    acts = None
    act_path = (Path(activities) if activities else resolve_path(
        mp.activity_file, mp, "activity_file", paths[0].parent) if mp.activity_file else None)
    keep = ~(no_id | no_created)
    if act_path is not None:
        acts = read_activities(act_path, mp, lid, keep, out, exported, probs, incomplete,
                                salt)  # fmt: skip
        if mp.exported_at is None and len(acts) and acts["at"].max() > exported:
            exported = acts["at"].max()
    probs.raise_if_any(label)

    if "stage" in out.columns:
        st = out["stage"]
        m = st.isin(["won", "lost", "expired"])
        if "closed_at" in out.columns:
            m &= out["closed_at"].isna()
        if m.any():
            incomplete["closed stage without closed_at (taken as open)"] = int(m.sum())
            out.loc[m, "stage"] = "open"
    leads = out.loc[keep].reset_index(drop=True)
    if pd.isna(exported):
        raise ScenarioError([Issue("exported_at", "no timestamp in the export to censor at:"
                                   " set exported_at in the mapping", None)],
                            source=f"export {label}")  # fmt: skip
    days = [t for t, d in date_only.items() if present(raw[t]).any()
            and d[present(raw[t])].all()]  # fmt: skip
    messages = list(table.messages) + ([order_note] if order_note else [])
    if mapping in GUESSED_ZONE and _naive(raw):  # a user's account: its zone is not known
        messages.append(f"times without a UTC offset read as {mp.timezone} time, the preset's"
                        " guess: if the CRM wrote another zone, set timezone in a copy of the"
                        " mapping (sla-sim crm map drafts one)")  # fmt: skip
    return CrmExport(mp, leads, acts, exported, incomplete, label, exported_from,
                     messages, list(table.skipped), days)


def _naive(raw: pd.DataFrame) -> bool:
    """Whether a timestamp column holds a value written without its UTC offset."""
    for t in TIMESTAMPS:
        if t in raw.columns and not pd.api.types.is_datetime64_any_dtype(raw[t].dtype):
            text = raw[t].astype("string").str.strip()
            if (present(raw[t]) & ~text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$").fillna(
                    False).to_numpy(bool)).any():
                return True
    return False


_TRUE, _FALSE = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f"}


def _stage_flags(raw: pd.DataFrame, names: dict[str, str], probs: Problems
                 ) -> tuple[np.ndarray, np.ndarray] | None:  # fmt: skip
    """IsWon / IsClosed as floats (1, 0, NaN: absent), or None when neither is mapped."""
    if "is_won" not in raw.columns and "is_closed" not in raw.columns:
        return None
    out = []
    for f in ("is_won", "is_closed"):
        if f not in raw.columns:
            out.append(np.full(len(raw), np.nan))
            continue
        text = raw[f].astype("string").str.strip().str.lower()
        v = np.where(text.isin(_TRUE).fillna(False), 1.0,
                     np.where(text.isin(_FALSE).fillna(False), 0.0, np.nan))
        bad = present(raw[f]) & np.isnan(v)
        probs.add_mask("leads", names[f], bad, raw[f], "not a boolean (true/false, 1/0,"
                       " yes/no)", 1)  # fmt: skip
        out.append(v)
    won, closed = out
    closed = np.where(won == 1, 1.0, closed)  # a won deal is closed
    return won, closed


def _after_export(out: pd.DataFrame, exported: pd.Timestamp | None, mp: CrmMapping,
                  probs: Problems, incomplete: dict[str, int], names: dict[str, str],
                  raw: pd.DataFrame) -> None:  # fmt: skip
    """Event dates after the export (today, or ``exported_at``): refused, naming rows and
    values; with ``out_of_order: count`` an event's date is counted and dropped (a deal marked
    won before its expected close date was updated: its stage then reads as a closed stage
    without a close date). A creation date after the export stays refused: no slip explains
    it, and the row could not be placed."""
    after = "today" if mp.exported_at is None else "exported_at"
    for t in (t for t in TIMESTAMPS if t in out.columns):
        bad, rule = after_export(out[t], mp.exported_at, exported)
        if not bad.any():
            continue
        if mp.out_of_order == "count" and t != "created_at":
            incomplete[f"{t} after {after} (dropped)"] = int(bad.sum())
            out.loc[bad, t] = pd.NaT
            continue
        hint = "" if t == "created_at" else (
            "; if it is a known slip (a deal closed before its expected close date was"
            " updated), set out_of_order: count in the mapping to count and drop such dates")
        probs.add_mask("leads", names[t], bad, raw[t], rule + hint, 3)


def _exported_at(mp: CrmMapping, out: pd.DataFrame, generated: str | None
                 ) -> tuple[pd.Timestamp, str]:  # fmt: skip
    """The censoring instant and where it came from: the mapping, else the latest observed
    event (an open deal's expected close date is no longer among them) or a report footer's
    "Generated By" date when that is later."""
    if mp.exported_at is not None:
        ex = pd.Timestamp(mp.exported_at)
        return (ex.tz_localize(mp.timezone) if ex.tzinfo is None else ex).tz_convert(
            "UTC"), "mapping"
    latest = max((out[t].max() for t in TIMESTAMPS if t in out.columns
                  and out[t].notna().any()), default=pd.NaT)  # fmt: skip
    if generated:  # written in the report's locale: read in the mapping's order if it has one
        fmts = [mp.date_format] if isinstance(mp.date_format, str) else list(mp.date_format)
        if not any(date_order(f) for f in fmts):
            fmts = ["%m/%d/%Y %I:%M %p", "mixed"]
        gen, _ = parse_times(pd.Series([generated]), fmts, mp.timezone)
        if gen.notna().all() and (pd.isna(latest) or gen.iloc[0] >= latest):
            return gen.iloc[0], "the report footer's Generated By date"
    return latest, "the latest observed event"
