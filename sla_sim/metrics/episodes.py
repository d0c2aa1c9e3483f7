"""Per-MQL-episode view of an event log: one row per (lead, episode) with its key times."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sla_sim.events import CODE, rows_by_event

EP_BASE = 1 << 16  # key = lead * EP_BASE + episode


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

    def first(rows: np.ndarray) -> np.ndarray:
        """Earliest time per episode of the given rows."""
        return _earliest(len(key), index.find(episode_keys(cols, rows)), t[rows])

    att = by_event[CODE["attempt"]]
    att_pos = index.find(episode_keys(cols, att))
    attempts = AttemptRows(len(key), att_pos, cols["attempt"][att], t[att])
    n_att = np.bincount(att_pos[att_pos >= 0], minlength=len(key))
    # rows of the three dispositions, in log order (as a mask over the columns selects them)
    disp_rows = np.sort(np.concatenate([by_event[CODE[c]]
                                        for c in ("sql", "disqualified", "recycled")]))
    disp_pos = index.find(episode_keys(cols, disp_rows))
    disposition = _earliest(len(key), disp_pos, t[disp_rows])
    disp_code = np.full(len(key), -1, dtype=np.int64)
    found = disp_pos >= 0
    disp_code[disp_pos[found]] = ev[disp_rows][found]
    return Episodes(
        key=key,
        lead=key // EP_BASE,
        team=team,
        mql=mql_t,
        routed=first(by_event[CODE["routed"]]),
        assigned=first(by_event[CODE["assigned"]]),
        first_attempt=attempts.first(0),
        kth_attempt=attempts.first(attempts_required - 1),
        contact=first(by_event[CODE["contact"]]),
        disposition=disposition,
        disposition_code=disp_code,
        n_attempts=n_att,
        attempts=attempts,
    )
