"""Per-MQL-episode view of an event log: one row per (lead, episode) with its key times."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sla_sim.events import CODE, rows_by_event

#: key = lead * EP_BASE + episode: any episode of the log's int32 column, and leads below
#: 2**31 (:data:`sla_sim.metrics.kernels._EP_BASE`, the compiled passes' copy)
EP_BASE = 1 << 32


@dataclass
class Episodes:
    """Arrays aligned on MQL episodes (NaN where the event has not happened)."""

    key: np.ndarray
    lead: np.ndarray
    team: np.ndarray
    mql: np.ndarray
    routed: np.ndarray
    assigned: np.ndarray
    first_attempt: np.ndarray
    kth_attempt: np.ndarray  # start of the attempt number sla.attempts_required
    contact: np.ndarray  # first attempt that reached the lead (its end)
    disposition: np.ndarray  # sql, disqualified or recycled
    disposition_code: np.ndarray  # event code of the disposition, -1 if none
    n_attempts: np.ndarray
    attempts: AttemptRows  # every attempt row, for kth_attempt under another requirement

    def __len__(self) -> int:
        return len(self.key)

    def with_attempts_required(self, attempts_required: int) -> Episodes:
        """The same episodes with ``kth_attempt`` for another number of attempts owed."""
        return replace(self, kth_attempt=self.attempts.first(attempts_required - 1))


@dataclass
class AttemptRows:
    """The attempt rows of a log: episode position (-1: none), 0-based number, start time."""

    n_episodes: int
    pos: np.ndarray
    number: np.ndarray
    time: np.ndarray

    def first(self, number: int) -> np.ndarray:
        """Start per episode of its attempt number ``number`` (earliest if repeated; NaN if
        none)."""
        nth = self.number == number
        return _earliest(self.n_episodes, self.pos[nth], self.time[nth])


def episode_keys(cols: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
    """(lead, episode) of the selected rows (a boolean mask or positions) as one sortable
    int64 key."""
    key = cols["lead"][rows].astype(np.int64, copy=False) * EP_BASE
    key += cols["episode"][rows].astype(np.int64, copy=False)
    return key


class _KeyIndex:
    """Finds episode keys in a sorted key array: the position of each key's first occurrence,
    as a binary search would, or -1 where it is absent.

    When the keys are compact in (lead, episode), as the lead ids 0..n-1 of a log are, a dense
    table over that grid answers each look-up in O(1); otherwise binary search is used. Both
    give the same positions.
    """

    def __init__(self, sorted_keys: np.ndarray) -> None:
        self.keys = sorted_keys
        self.table: np.ndarray | None = None
        n = len(sorted_keys)
        if n == 0:
            return
        lead, ep = np.divmod(sorted_keys, EP_BASE)
        self.lead0, self.ep0 = int(lead.min()), int(ep.min())
        self.n_lead = int(lead.max()) - self.lead0 + 1
        self.width = int(ep.max()) - self.ep0 + 1
        if self.n_lead * self.width > 32 * n + (1 << 18):  # too sparse for a table
            return
        first = np.ones(n, dtype=bool)
        first[1:] = sorted_keys[1:] != sorted_keys[:-1]
        at = np.flatnonzero(first)
        self.table = np.full(self.n_lead * self.width, -1, dtype=np.intp)
        self.table[(lead[at] - self.lead0) * self.width + (ep[at] - self.ep0)] = at

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Position in the sorted keys of the first occurrence of each of ``keys``, -1 if none."""
        n = len(self.keys)
        if n == 0:
            return np.full(len(keys), -1, dtype=np.intp)
        if self.table is None:
            idx = np.searchsorted(self.keys, keys)
            found = (idx < n) & (self.keys[np.minimum(idx, n - 1)] == keys)
            return np.where(found, idx, -1)
        lead, ep = np.divmod(keys, EP_BASE)
        lead -= self.lead0
        ep -= self.ep0
        inside = (lead >= 0) & (lead < self.n_lead) & (ep >= 0) & (ep < self.width)
        return np.where(inside, self.table[np.where(inside, lead * self.width + ep, 0)], -1)


def _earliest(n: int, pos: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Earliest time per episode, from rows with episode positions ``pos`` (-1: no episode)
    and times ``times``; NaN where an episode has no row, or a non-finite earliest time."""
    out = np.full(n, np.nan)
    found = pos >= 0
    idx, t = pos[found], times[found]
    if len(idx) == 0:
        return out
    earliest = np.full(n, np.inf)
    if np.bincount(idx).max() <= 1:
        earliest[idx] = t  # one row per episode: the minimum with inf is the time itself
    else:
        np.minimum.at(earliest, idx, t)  # order-independent: rows need not be sorted
    hit = np.isfinite(earliest)
    out[hit] = earliest[hit]
    return out


def build_episodes(cols: dict[str, np.ndarray], attempts_required: int,
                   by_event: list[np.ndarray] | None = None) -> Episodes:  # fmt: skip
    """Join mql, routed, assigned, attempts and disposition rows on (lead, episode).

    ``by_event`` is :func:`sla_sim.events.rows_by_event` of ``cols["event"]`` when the caller
    has it already (e.g. :meth:`EventLog.event_rows`); it is computed otherwise.
    """
    if by_event is None:
        by_event = rows_by_event(cols["event"])
    ev, t = cols["event"], cols["time_h"]
    mql_rows = by_event[CODE["mql"]]
    key = episode_keys(cols, mql_rows)
    order = np.argsort(key, kind="stable")
    key = key[order]
    mql_t = t[mql_rows][order]
    team = cols["team"][mql_rows][order].astype(np.int64)

    index = _KeyIndex(key)
    # every row joined on its episode in one compiled pass (the earliest time per episode of
    # each event, as _earliest takes it, and the attempt rows' episodes)
    table = index.table if index.table is not None else np.empty(0, dtype=np.intp)
    grid = (index.lead0, index.ep0, index.n_lead, index.width) if len(key) else (0, 0, 0, 0)
    rows = [np.asarray(by_event[CODE[c]], dtype=np.intp) for c in (
        "routed", "assigned", "contact", "sql", "disqualified", "recycled", "attempt")]
    from sla_sim.metrics.kernels import episode_times  # numba: loaded on first use

    times, disp_code, n_att, att_pos, att_num, att_t = episode_times(
        *rows, np.asarray(ev, dtype=np.int16), np.asarray(cols["lead"], dtype=np.int64),
        np.asarray(cols["episode"], dtype=np.int32), np.asarray(t, dtype=np.float64),
        np.asarray(cols["attempt"], dtype=np.int16), key, table, *grid, attempts_required - 1)
    attempts = AttemptRows(len(key), att_pos, att_num, att_t)
    routed, assigned, contact, disposition, first_attempt, kth_attempt = times
    return Episodes(
        key=key,
        lead=key // EP_BASE,
        team=team,
        mql=mql_t,
        routed=routed,
        assigned=assigned,
        first_attempt=first_attempt,
        kth_attempt=kth_attempt,
        contact=contact,
        disposition=disposition,
        disposition_code=disp_code,
        n_attempts=n_att,
        attempts=attempts,
    )
