"""The lead event log: one schema for simulated runs and for CRM exports.

Every fact about a lead is a row: (lead, episode, time_h, event, team, rep, attempt, value).
Lead attributes (channel, segment, score, creation time) live in a side table. Metrics read only
this log, which is how the same SLA report serves a simulated quarter and a real one.

``episode`` numbers the lead's MQL episodes (1 = first time it became an MQL; a recycled lead
that re-qualifies starts episode 2); events before the first MQL have episode 0.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["EVENTS", "TERMINAL_STATES", "EventLog"]

# Event codes, in the order used to break ties at equal times.
EVENTS: tuple[str, ...] = (
    "created",          # lead enters the funnel; value = score (points)
    "nurture",          # lead enters nurture (below threshold, or recycled)
    "mql",              # lead becomes an MQL (starts an episode); team = owning team
    "routed",           # handoff done: lead handed to a team (queue or rep)
    "assigned",         # lead takes a rep's slot; rep = rep index within the team
    "attempt",          # a follow-up attempt starts; attempt = 0-based number; value = rep hours
    "contact",          # the attempt reached the lead (time = attempt end)
    "sql",              # qualified: sales accepted the MQL
    "disqualified",     # terminal: rejected after contact
    "recycled",         # back to nurture (not ready, or unreached after the last attempt)
    "opp_open",         # an AE opens the opportunity; rep = AE index
    "won",              # terminal; value = deal value in the scenario currency
    "lost",             # terminal
    "nurture_expired",  # terminal: left nurture after its maximum stay
    "reassigned",       # taken back untouched from its rep (team/rep: the one losing it);
                        # value = the episode's reassignment count so far
    "escalated",        # a reassigned lead sent to the overflow team (team = that team)
    "rep_on",           # lead -1: a rep of a staffing plan starts working (value = ramp share)
    "rep_off",          # lead -1: ... stops (shift end, day off, departure, ramp step)
)  # fmt: skip
CODE = {name: i for i, name in enumerate(EVENTS)}
TERMINAL_STATES: tuple[str, ...] = ("in_flight", "won", "lost", "disqualified", "nurture_expired")
TERMINAL_EVENT_CODES = (CODE["won"], CODE["lost"], CODE["disqualified"], CODE["nurture_expired"])

COLUMNS = ("lead", "episode", "time_h", "event", "team", "rep", "attempt", "value")
_DTYPES = (np.int64, np.int32, np.float64, np.int16, np.int16, np.int32, np.int16, np.float64)
# One row packed by the struct module (native byte order, standard sizes, no padding) and the
# matching numpy record: packing range-checks every integer against its column's dtype.
_ROW_STRUCT = struct.Struct("=qidhhihd")
_ROW_RECORD = np.dtype([(c, np.dtype(d).newbyteorder("=")) for c, d in zip(COLUMNS, _DTYPES,
                                                                        strict=True)])


@dataclass
class EventLog:
    """Append-only event rows plus the leads table; ``to_frame`` gives a tidy DataFrame."""

    channels: list[str]
    segments: list[str]
    teams: list[str]
    rows: list[tuple[int, int, float, int, int, int, int, float]] = field(default_factory=list)
    _bulk: list[dict[str, np.ndarray]] = field(default_factory=list)
    leads: dict[str, np.ndarray] = field(default_factory=dict)
    _cache: tuple[tuple[int, int], dict[str, np.ndarray]] | None = field(default=None, repr=False)
    _sorted: dict[str, np.ndarray] | None = field(default=None, repr=False)
    _by_event: list[np.ndarray] | None = field(default=None, repr=False)
    #: builds the columns and the rows per event from the parts (:meth:`columns`, the same
    #: result as :meth:`_build_columns` and :func:`rows_by_event`), e.g. the model's compiled
    #: pass (:func:`sla_sim.model.passes.log_columns`); ``None``: numpy
    builder: Callable[[list[dict[str, np.ndarray]]],
                      tuple[dict[str, np.ndarray], list[np.ndarray]]] | None = field(
        default=None, repr=False, compare=False)

    def set_leads(
        self, channel: np.ndarray, segment: np.ndarray, created_h: np.ndarray, score: np.ndarray
    ) -> None:
        """Record lead attributes; lead ids are positions 0..n-1."""
        self.leads = {
            "lead": np.arange(len(channel), dtype=np.int64),
            "channel": np.asarray(channel, dtype=np.int16),
            "segment": np.asarray(segment, dtype=np.int16),
            "created_h": np.asarray(created_h, dtype=np.float64),
            "score": np.asarray(score, dtype=np.float64),
        }

    def add_many(
        self,
        lead: np.ndarray,
        episode: int | np.ndarray,
        time_h: np.ndarray,
        event: str,
        team: int | np.ndarray = -1,
        value: float | np.ndarray = np.nan,
    ) -> None:
        """Append many rows of one event type at once (vectorised parts of the model)."""
        n = len(lead)
        if n == 0:
            return
        self._bulk.append(
            {
                "lead": np.asarray(lead, dtype=np.int64),
                "episode": np.broadcast_to(np.asarray(episode, dtype=np.int32), n),
                "time_h": np.asarray(time_h, dtype=np.float64),
                "event": np.broadcast_to(np.int16(CODE[event]), n),
                "team": np.broadcast_to(np.asarray(team, dtype=np.int16), n),
                "rep": np.broadcast_to(np.int32(-1), n),
                "attempt": np.broadcast_to(np.int16(-1), n),
                "value": np.broadcast_to(np.asarray(value, dtype=np.float64), n),
            }
        )

    def add_columns(self, ints: np.ndarray, floats: np.ndarray) -> None:
        """Append rows given as columns, after every row so far: ``ints`` (n x 6: lead, episode,
        event, team, rep, attempt) and ``floats`` (n x 2: time_h, value). The same log as
        appending the rows one by one (a compiled event loop writes its rows this way)."""
        if len(ints) == 0:
            return
        if self.rows:  # keep the recorded order: earlier rows first
            self._bulk.append(_rows_to_columns(self.rows))
            self.rows = []
        # kept as views: the columns are cast to the log's dtypes once, when they are built
        # (and the matrices themselves, which a builder may split in one pass)
        self._bulk.append({"lead": ints[:, 0], "episode": ints[:, 1], "time_h": floats[:, 0],
                           "event": ints[:, 2], "team": ints[:, 3], "rep": ints[:, 4],
                           "attempt": ints[:, 5], "value": floats[:, 1],
                           "_ints": ints, "_floats": floats})  # fmt: skip

    def columns(self, sort: bool = True) -> dict[str, np.ndarray]:
        """All rows as numpy columns, sorted by time; rows at equal times keep the order in
        which they were recorded (bulk rows by event type, then the event loop's causal order).
        ``sort=False`` skips the sort, for order-independent readers (metrics, reconciliation).

        The result is cached until rows are added; treat the arrays as read-only.
        """
        size = (len(self.rows), len(self._bulk))
        if self._cache is None or self._cache[0] != size:
            by_event = None
            if self.builder is not None and (self._bulk or self.rows):
                if self.rows:  # keep the recorded order: earlier rows first
                    self._bulk.append(_rows_to_columns(self.rows))
                built, by_event = self.builder(list(self._bulk))
            else:
                built = self._build_columns()
            # the built columns replace the parts and rows they were built from (freed now;
            # rows added later are appended after them)
            self._bulk = [built]
            self.rows.clear()  # the same list object: whoever appends to it still does
            self._cache = ((0, 1), built)
            self._sorted = None
            self._by_event = by_event
        cols = self._cache[1]
        if not sort:
            return cols
        if self._sorted is None:
            order = np.argsort(cols["time_h"], kind="stable")
            self._sorted = {c: v[order] for c, v in cols.items()}
        return self._sorted

    def event_rows(self) -> list[np.ndarray]:
        """Positions in ``columns(sort=False)`` of the rows of each event code (indexed by code,
        ascending positions, so ``cols[c][event_rows()[k]]`` equals
        ``cols[c][cols["event"] == k]``). Cached with the columns; treat as read-only.
        """
        ev = self.columns(sort=False)["event"]
        if self._by_event is None:
            self._by_event = rows_by_event(ev)
        return self._by_event

    def _build_columns(self) -> dict[str, np.ndarray]:
        """Concatenate the bulk parts, then the rows, into one array per column."""
        parts = list(self._bulk)
        if self.rows:
            parts.append(_rows_to_columns(self.rows))
        if not parts:
            return {c: np.empty(0, dtype=d) for c, d in zip(COLUMNS, _DTYPES, strict=True)}
        # each part cast to the column's type as it is copied (astype's casting; a strided
        # column of a compiled loop's row array is read in place, not copied first)
        return {c: np.concatenate([p[c] for p in parts], dtype=d, casting="unsafe")
                for c, d in zip(COLUMNS, _DTYPES, strict=True)}  # fmt: skip

    def to_frame(self) -> pd.DataFrame:
        """The event log as a DataFrame with readable categories and lead attributes joined."""
        cols = self.columns()
        df = pd.DataFrame(cols)
        df["event"] = pd.Categorical.from_codes(cols["event"], categories=list(EVENTS))
        df["team"] = _labels(cols["team"], self.teams)
        if len(self.leads["lead"]):
            lead = cols["lead"]
            about_lead = lead >= 0  # rows about a rep (staffing plans) have lead -1
            ch = np.where(about_lead, self.leads["channel"][lead], -1)
            seg = np.where(about_lead, self.leads["segment"][lead], -1)
        else:
            ch = seg = np.empty(0, dtype=np.int16)
        df.insert(4, "channel", _labels(ch, self.channels))
        df.insert(5, "segment", _labels(seg, self.segments))
        return df

    def leads_frame(self) -> pd.DataFrame:
        """One row per lead: id, channel, segment, creation time (h) and score (points)."""
        df = pd.DataFrame(self.leads)
        df["channel"] = _labels(self.leads["channel"], self.channels)
        df["segment"] = _labels(self.leads["segment"], self.segments)
        return df


def rows_by_event(event: np.ndarray) -> list[np.ndarray]:
    """For each event code k (index into :data:`EVENTS`), the ascending positions ``i`` with
    ``event[i] == k``: one stable sort instead of a full-length comparison per code."""
    order = np.argsort(event, kind="stable")  # stable: positions ascend within a code
    bounds = np.searchsorted(event[order], np.arange(len(EVENTS) + 1), side="left")
    return [order[bounds[k]:bounds[k + 1]] for k in range(len(EVENTS))]


def _rows_to_columns(rows: list[tuple[Any, ...]]) -> dict[str, np.ndarray]:
    """Row tuples as one array per column (views into one record array).

    The fast path packs every row with :mod:`struct`, which copies floats bit for bit and
    integers exactly. If a row does not fit (wrong length, a non-integer or out-of-range value in
    an integer column), it falls back to reading every value as a float64 and casting, the
    original conversion, so the result never depends on which path ran.
    """
    try:
        packed = b"".join(itertools.starmap(_ROW_STRUCT.pack, rows))
    except (struct.error, TypeError, ValueError, OverflowError):
        n = len(rows)
        flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.float64,
                           count=n * len(COLUMNS)).reshape(n, len(COLUMNS))
        return {c: flat[:, i].astype(d) for i, (c, d) in enumerate(zip(COLUMNS, _DTYPES,
                                                                       strict=True))}
    records = np.frombuffer(packed, dtype=_ROW_RECORD)
    return {c: records[c] for c in COLUMNS}


def _labels(codes: np.ndarray, names: list[str]) -> Any:
    """Categorical labels from integer codes, -1 meaning missing."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=names)
