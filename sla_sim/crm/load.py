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

import hashlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sla_sim.crm.mapping import (
    ACTIVITY_FIELDS,
    STAGES,
    TIMESTAMPS,
    CrmMapping,
    load_mapping,  # fmt: skip
)
from sla_sim.crm.read import read_raw
from sla_sim.crm.tables import duplicated, pick, read_lead_table, resolve_path, same_id_form
from sla_sim.crm.values import date_hint, money_issues, parse_money, parse_times
from sla_sim.errors import Issue, ScenarioError

__all__ = ["MAX_LISTED", "CrmExport", "load_export", "pseudonym", "read_table"]

MAX_LISTED = 20
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


def pseudonym(value: str, salt: str) -> str:
    """A stable pseudonym of an owner: ``owner-`` and 10 hex digits of a salted SHA-256."""
    return "owner-" + hashlib.sha256(f"{salt}\x00{value}".encode()).hexdigest()[:10]


def _pseudonyms(s: pd.Series, salt: str) -> pd.Series:
    """Owner column -> pseudonyms (hashing each distinct value once); missing stays missing."""
    text = s.astype("string").str.strip()
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    names = np.array([pseudonym(str(u), salt) for u in uniques], dtype=object)
    out = pd.Series(np.where(codes >= 0, names[np.maximum(codes, 0)] if len(names) else None,
                             None), index=s.index, dtype="string")  # fmt: skip
    return out


class _Problems:
    """Collects issues; counts every one, keeps the first MAX_LISTED per kind in row order."""

    def __init__(self) -> None:
        self.items: list[tuple[int, int, Issue]] = []
        self.total = 0

    def add_mask(self, table: str, col: str, mask: np.ndarray, values: pd.Series,
                 rule: str, order: int) -> None:  # fmt: skip
        idx = np.flatnonzero(mask)
        self.total += len(idx)
        for i in idx[:MAX_LISTED]:
            v = values.iloc[i]
            self.items.append((int(i), order, Issue(f"{table} row {i + 1}, column {col!r}",
                                                    rule, None if pd.isna(v) else str(v))))

    def raise_if_any(self, label: str) -> None:
        if not self.total:
            return
        self.items.sort(key=lambda x: (x[0], x[1]))
        shown = [it for _, _, it in self.items[:MAX_LISTED]]
        if self.total > len(shown):
            shown.append(Issue("export", f"{self.total - len(shown)} more problem(s) not listed",
                               self.total))  # fmt: skip
        raise ScenarioError(shown, source=f"export {label}")


GUESSED_ZONE = ("preset:salesforce", "preset:hubspot")
FUTURE = ("is in the future (after today, UTC): no export can have recorded it (a typo? if"
          " the export is a plan or a simulation, set exported_at in the mapping)")


def _future(ts: pd.Series) -> np.ndarray:
    """Timestamps after the end of today (UTC): not observed by any export made until now."""
    end = pd.Timestamp.now(tz="UTC").normalize() + pd.Timedelta(days=1)
    return (ts >= end).to_numpy(bool)


def _present(s: pd.Series) -> np.ndarray:
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        return (s.notna() & (s.astype("string").str.strip() != "")).to_numpy(bool)
    return s.notna().to_numpy(bool)


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
    probs = _Problems()
    incomplete: dict[str, int] = dict(table.notes)
    fmt = mp.date_format

    # ids: missing ids and created dates cannot be placed; duplicates are errors
    lid = raw["lead_id"].astype("string").str.strip()
    no_id = ~_present(raw["lead_id"])
    dup = lid.duplicated(keep="first").to_numpy(bool) & ~no_id
    probs.add_mask("leads", names["lead_id"], dup, lid, "duplicate lead id", 0)

    out = pd.DataFrame(index=raw.index)
    date_only: dict[str, np.ndarray] = {}
    for t in TIMESTAMPS:
        if t not in raw.columns:
            continue
        parsed, date_only[t] = parse_times(raw[t], fmt, mp.timezone)
        bad = _present(raw[t]) & parsed.isna().to_numpy()
        probs.add_mask("leads", names[t], bad, raw[t], "unparseable date" + (
            "" if fmt in ("ISO8601", "mixed") else f" (date_format {fmt!r})") + date_hint(
            raw[t][bad]), 1)  # fmt: skip
        out[t] = parsed
    for num in ("score", "amount"):
        if num in raw.columns:
            vals = (parse_money(raw[num]) if num == "amount"
                    else pd.to_numeric(raw[num], errors="coerce").astype(float))  # fmt: skip
            bad = _present(raw[num]) & vals.isna().to_numpy()
            for mask, rule in money_issues(raw[num]) if num == "amount" else []:
                probs.add_mask("leads", names[num], mask & _present(raw[num]), raw[num],
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
        present = (_present(raw["stage"]) if "stage" in raw.columns
                   else np.zeros(len(raw), dtype=bool))  # fmt: skip
        stage = (_map_values(raw["stage"], rev) if "stage" in raw.columns
                 else pd.Series(pd.NA, index=raw.index, dtype="string"))  # fmt: skip
        if flags is not None:
            fill = stage.isna().to_numpy() & ~np.isnan(flags[1])
            stage[fill] = np.where(flags[0][fill] == 1, "won",
                                   np.where(flags[1][fill] == 1, "lost", "open"))
            present |= fill
        if "stage" in raw.columns:
            bad = _present(raw["stage"]) & stage.isna().to_numpy()
            probs.add_mask("leads", names["stage"], bad, raw["stage"], "unknown stage value:"
                           f" add it under values.stage.<{'|'.join(STAGES)}> in the mapping"
                           " (or map is_won / is_closed)", 2)  # fmt: skip
        if (~present).any():
            incomplete["leads without stage (taken as open)"] = int((~present).sum())
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
    if mp.exported_at is None:  # else: the check against exported_at below
        for t in TIMESTAMPS:
            if t in out.columns:
                probs.add_mask("leads", names[t], _future(out[t]), raw[t], FUTURE, 3)
    exported, exported_from = _exported_at(mp, out, table.generated_at)
    if mp.exported_at is not None:
        for t in TIMESTAMPS:
            if t in out.columns:
                bad = (out[t] > exported).to_numpy(bool)
                probs.add_mask("leads", names[t], bad, raw[t],
                               f"is after exported_at ({exported.isoformat()})", 3)

    # attributes
    for attr, default in (("channel", None), ("segment", mp.segment_default),
                          ("team", mp.team_default)):  # fmt: skip
        if attr in raw.columns:
            text = raw[attr].astype("string").str.strip()
            miss = ~_present(raw[attr])
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
            out[own] = _pseudonyms(raw[own], salt)
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
        acts = _read_activities(act_path, mp, lid, keep, out, exported, probs, incomplete,
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
    days = [t for t, d in date_only.items() if _present(raw[t]).any()
            and d[_present(raw[t])].all()]  # fmt: skip
    messages = list(table.messages)
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
            if (_present(raw[t]) & ~text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$").fillna(
                    False).to_numpy(bool)).any():
                return True
    return False


def _fold(s: pd.Series) -> pd.Series:
    return s.str.replace(r"\s+", " ", regex=True).str.strip().str.casefold()


def _map_values(col: pd.Series, rev: dict[str, str]) -> pd.Series:
    """Export values -> canonical ones: as listed, else regardless of case and spacing
    (HubSpot writes 'Closed won' where older exports wrote 'Closed Won'), unless the listed
    values that fold alike mean different things."""
    text = col.astype("string").str.strip()
    out = text.map(rev)
    if out.isna().any() and rev:
        keys = pd.Series(list(rev), dtype="string")
        folded = pd.DataFrame({"k": _fold(keys), "v": list(rev.values())})
        same = folded.groupby("k")["v"].nunique()
        loose = folded[folded["k"].map(same) == 1].drop_duplicates("k")
        out = out.fillna(_fold(text).map(dict(zip(loose["k"], loose["v"], strict=True))))
    return out


_TRUE, _FALSE = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f"}


def _stage_flags(raw: pd.DataFrame, names: dict[str, str], probs: _Problems
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
        bad = _present(raw[f]) & np.isnan(v)
        probs.add_mask("leads", names[f], bad, raw[f], "not a boolean (true/false, 1/0,"
                       " yes/no)", 1)  # fmt: skip
        out.append(v)
    won, closed = out
    closed = np.where(won == 1, 1.0, closed)  # a won deal is closed
    return won, closed


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
    if generated:
        gen, _ = parse_times(pd.Series([generated]), ["%m/%d/%Y %I:%M %p", "mixed"],
                             mp.timezone)  # fmt: skip
        if gen.notna().all() and (pd.isna(latest) or gen.iloc[0] >= latest):
            return gen.iloc[0], "the report footer's Generated By date"
    return latest, "the latest observed event"


def _read_activities(path: Path, mp: CrmMapping, lid: pd.Series, keep: np.ndarray,
                     leads: pd.DataFrame, exported: pd.Timestamp, probs: _Problems,
                     incomplete: dict[str, int], salt: str) -> pd.DataFrame:  # fmt: skip
    cols = {k: v for k, v in mp.columns.items() if k in ACTIVITY_FIELDS}
    need = [f for f in ("activity_lead_id", "activity_at") if f not in cols]
    if need:
        raise ScenarioError([Issue(f"columns.{f}", "must be mapped to read an activity table",
                                   None) for f in need], source="mapping")  # fmt: skip
    table = read_raw(path)
    picked = {k: pick(v, table.header) for k, v in cols.items()}
    missing = [Issue(f"columns.{k}", f"names a column that is not in the activity table"
                     f" ({path.name})", cols[k]) for k, c in picked.items()
               if c is None and (k in ("activity_lead_id", "activity_at")
                                 or mp.missing_columns == "error")]  # fmt: skip
    if missing:
        raise ScenarioError(missing, source=f"mapping (activities {path.name})")
    cols = {k: c for k, c in picked.items() if c is not None}
    dups = duplicated(list(cols.values()), table.header, path.name)
    if dups:
        raise ScenarioError(dups, source=f"mapping (activities {path.name})")
    raw = table.frame(list(cols.values()))
    at, day_only = parse_times(raw[cols["activity_at"]], mp.date_format, mp.timezone)
    bad = _present(raw[cols["activity_at"]]) & at.isna().to_numpy()
    probs.add_mask("activities", cols["activity_at"], bad, raw[cols["activity_at"]],
                   "unparseable date" + date_hint(raw[cols["activity_at"]][bad]), 1)
    # lead positions after dropping unplaceable leads
    unique_rows = np.flatnonzero(keep & ~lid.duplicated(keep="first").to_numpy(bool))
    lid, act_lid, how = same_id_form(lid, raw[cols["activity_lead_id"]].astype("string"
                                                                           ).str.strip())
    if how:
        incomplete[f"activities whose lead id was {how}"] = len(act_lid)
    j = pd.Index(lid.to_numpy()[unique_rows]).get_indexer(act_lid.to_numpy())
    new_pos = np.full(len(lid), -1, dtype=np.int64)
    new_pos[keep] = np.arange(int(keep.sum()))
    lead = np.where(j >= 0, new_pos[unique_rows[np.maximum(j, 0)]] if len(unique_rows)
                    else -1, -1)
    unknown = lead < 0
    if unknown.any():
        incomplete["activities of leads not in the lead table (ignored)"] = int(unknown.sum())
    created = leads["created_at"].to_numpy(dtype="datetime64[ns]")[keep]
    at_np = at.to_numpy(dtype="datetime64[ns]")
    early = ~unknown & (at_np < created[np.maximum(lead, 0)]) if len(created) else unknown & False
    same_day = early & day_only & (at_np + np.timedelta64(1, "D") > created[np.maximum(
        lead, 0)]) if len(created) else early  # a Task's Date: the day, not the hour
    if same_day.any():
        incomplete["date-only activity_at on the day of its lead's created_at (placed at its"
                   " time)"] = int(same_day.sum())  # fmt: skip
        at_np = np.where(same_day, created[np.maximum(lead, 0)], at_np)
        at = pd.Series(at_np, index=at.index).dt.tz_localize("UTC")
        early &= ~same_day
    if (day_only & ~unknown).any():
        incomplete["activities with a date only (placed at midnight, or at their lead's"
                   " creation that day; if all are, first touch and contact decay are not"
                   " measured from them)"] = int((day_only & ~unknown).sum())  # fmt: skip
    probs.add_mask("activities", cols["activity_at"], early, raw[cols["activity_at"]],
                   "is before created_at of its lead", 3)
    if mp.exported_at is None:
        probs.add_mask("activities", cols["activity_at"], _future(at), raw[cols["activity_at"]],
                       FUTURE, 3)  # fmt: skip
    else:
        late = (at > exported).to_numpy(bool)
        probs.add_mask("activities", cols["activity_at"], late, raw[cols["activity_at"]],
                       f"is after exported_at ({exported.isoformat()})", 3)
    out = pd.DataFrame({"lead": lead, "at": at})
    if day_only.any():  # the day, not the hour: see timed_touches()
        out["date_only"] = day_only
    if "activity_outcome" in cols:
        c = cols["activity_outcome"]
        rev = mp.reverse_values("activity_outcome")
        oc = _map_values(raw[c], rev)
        badv = _present(raw[c]) & oc.isna().to_numpy()
        probs.add_mask("activities", c, badv, raw[c],
                       f"unknown activity outcome (values.activity_outcome lists {sorted(rev)})",
                       2)  # fmt: skip
        out["outcome"] = oc.astype("string")
    if "activity_owner" in cols:
        out["owner"] = _pseudonyms(raw[cols["activity_owner"]], salt)
    if "activity_duration_minutes" in cols:
        c = cols["activity_duration_minutes"]
        d = pd.to_numeric(raw[c], errors="coerce")
        badd = _present(raw[c]) & (d.isna() | (d < 0)).to_numpy()
        probs.add_mask("activities", c, badd, raw[c], "not a number of minutes >= 0", 1)
        out["duration_minutes"] = d.astype(float)
    no_time = at.isna().to_numpy() & ~bad
    if no_time.any():
        incomplete["activities without a time (ignored)"] = int(no_time.sum())
    good = ~unknown & ~at.isna().to_numpy()
    return out.loc[good].reset_index(drop=True)
