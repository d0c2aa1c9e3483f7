"""The backlog: MQLs assigned to a rep but not yet touched.

``sdr_queue_*`` counts MQLs waiting for a free rep *slot* (routed, not yet assigned). With the
default ``max_active_leads: 80`` a slot is almost always free, so that queue reads zero while
leads wait hours in a rep's private backlog: assigned, first attempt not yet started. This module
measures that backlog from the event log alone:

* an *assignment* is an ``assigned`` row; it ends at the first ``attempt`` row (attempt 0) of the
  same episode, or at a ``reassigned`` row (the lead taken back from its rep), whichever comes
  first after it;
* the backlog level rises by one at each assignment and falls by one when it ends, per team and
  per rep; its time-weighted mean and maximum over a period are the backlog metrics;
* the *age* of an assignment is the clock hours from assignment to its end; assignments still
  open at the end of observation count with their age then (a lower bound, said in the docs).

In ``assignment: pull`` a rep takes a lead only when it starts the first attempt, so the backlog
is empty and the waiting shows in ``sdr_queue_*`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sla_sim.events import CODE
from sla_sim.metrics.capacity import Level
from sla_sim.metrics.episodes import EP_BASE
from sla_sim.stats import percentiles

# order of the three row kinds at equal (episode, time): a reassignment ends the old assignment
# before the new one starts; an assignment starts before a first attempt at the same instant
_KIND_REASSIGNED, _KIND_ASSIGNED, _KIND_FIRST = 0, 1, 2


@dataclass
class Assignments:
    """Every assignment of a log: when it started and ended (NaN: open at the end of the log),
    and the team and rep that held it."""

    key: np.ndarray  # episode key, lead * EP_BASE + episode (ascending)
    start: np.ndarray  # ascending within an episode
    end: np.ndarray
    team: np.ndarray
    rep: np.ndarray

    def order_in_episode(self) -> np.ndarray:
        """0 for an episode's first assignment, 1 for the next (after a reassignment), ..."""
        n = len(self.key)
        new = np.ones(n, dtype=bool)
        new[1:] = self.key[1:] != self.key[:-1]
        first_pos = np.maximum.accumulate(np.where(new, np.arange(n), 0))
        return np.arange(n) - first_pos

    def __len__(self) -> int:
        return len(self.start)


def assignments(cols: dict[str, np.ndarray], by_event: list[np.ndarray]) -> Assignments:
    """Pair each ``assigned`` row with the row that ends it (see the module docstring).

    ``by_event`` is :meth:`sla_sim.events.EventLog.event_rows` of ``cols``. Rows that end an
    assignment without one open (e.g. an export with no assignment rows) are ignored.
    """
    att = by_event[CODE["attempt"]]
    reassigned = by_event[CODE["reassigned"]]
    assigned = by_event[CODE["assigned"]]
    paired = _pair_compiled(cols, reassigned, assigned, att)
    if paired is not None:
        rows, key, start, end = paired
        return Assignments(key, start, end, cols["team"][rows].astype(np.int64),
                           cols["rep"][rows].astype(np.int64))  # fmt: skip
    first = att[cols["attempt"][att] == 0]
    rows = np.concatenate([reassigned, assigned, first])
    kind = np.concatenate([np.full(len(reassigned), _KIND_REASSIGNED),
                           np.full(len(assigned), _KIND_ASSIGNED),
                           np.full(len(first), _KIND_FIRST)])  # fmt: skip
    key = cols["lead"][rows].astype(np.int64, copy=False) * EP_BASE + cols["episode"][rows]
    t = cols["time_h"][rows]
    # by (key, time, kind): the rows are grouped by kind in ascending order already, so a
    # stable sort by (key, time) keeps equal (key, time) in kind order
    order = np.lexsort((t, key))
    key, t, kind, rows = key[order], t[order], kind[order], rows[order]
    up = np.flatnonzero(kind == _KIND_ASSIGNED)
    nxt = up + 1
    has_next = nxt < len(key)
    nxt_c = np.minimum(nxt, max(len(key) - 1, 0))
    ended = has_next & (key[nxt_c] == key[up]) & (kind[nxt_c] != _KIND_ASSIGNED)
    end = np.full(len(up), np.nan)
    end[ended] = t[nxt_c[ended]]
    start_rows = rows[up]
    return Assignments(key[up], t[up], end, cols["team"][start_rows].astype(np.int64),
                       cols["rep"][start_rows].astype(np.int64))  # fmt: skip


def _pair_compiled(cols: dict[str, np.ndarray], reassigned: np.ndarray, assigned: np.ndarray,
                   attempts: np.ndarray) -> tuple[np.ndarray, ...] | None:  # fmt: skip
    """:func:`assignments`' pairing by the compiled pass (rows, keys, starts, ends), or ``None``
    where it does not apply (columns of other types, a lead id outside ``[0, 4 x rows +
    2**20)`` or past 2**31, or a negative episode among the paired rows): numpy pairs them
    then."""
    lead, episode, time, attempt = (cols[c] for c in ("lead", "episode", "time_h", "attempt"))
    if (lead.dtype != np.int64 or episode.dtype != np.int32 or time.dtype != np.float64
            or attempt.dtype != np.int16) or not all(
            c.flags.c_contiguous for c in (lead, episode, time, attempt)):  # fmt: skip
        return None
    from sla_sim.metrics.kernels import pair_assignments  # numba: loaded on first use

    ok, *paired = pair_assignments(
        lead, episode, time, attempt,
        *(np.asarray(r, dtype=np.intp) for r in (reassigned, assigned, attempts)),
        4 * len(lead) + (1 << 20))  # fmt: skip
    return tuple(paired) if ok else None


class Backlog:
    """Backlog levels (whole log, per team, per rep) and assignment ages, measured over many
    periods from one pairing of the log's rows."""

    def __init__(self, a: Assignments, observed_until: float) -> None:
        self.a = a
        self.observed_until = observed_until
        ended = ~np.isnan(a.end)
        self.level = Level(a.start, a.end[ended])
        self.age = np.where(ended, a.end, np.maximum(observed_until, a.start)) - a.start

    def mean_max(self, t0: float, t1: float) -> tuple[float, float]:
        """Time-weighted mean and maximum of untouched assigned MQLs over [t0, t1)."""
        return self.level.mean_max(t0, t1)

    def age_p90(self, t0: float, t1: float) -> float:
        """90th percentile of the clock hours from assignment to first attempt (or to being
        taken back), over assignments made in [t0, t1); NaN if none."""
        m = (self.a.start >= t0) & (self.a.start < t1)
        return percentiles(self.age[m], (90,))[0] if m.any() else float("nan")

    def by_holder(self, t0: float, t1: float, per_rep: bool) -> list[tuple[int, int, float,
                                                                           float, float]]:
        """(team, rep or -1, mean, max, age P90) over [t0, t1) per team, or per rep."""
        a = self.a
        holder = a.team * (1 << 20) + (a.rep if per_rep else 0)
        out = []
        for h in np.unique(holder):
            m = holder == h
            ended = m & ~np.isnan(a.end)
            mean, mx = Level(a.start[m], a.end[ended]).mean_max(t0, t1)
            in_p = m & (a.start >= t0) & (a.start < t1)
            p90 = float(np.percentile(self.age[in_p], 90)) if in_p.any() else float("nan")
            out.append((int(h >> 20), int(h & ((1 << 20) - 1)) if per_rep else -1, mean, mx,
                        p90))  # fmt: skip
        return out
