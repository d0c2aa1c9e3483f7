"""Compiled (numba) passes of the metrics over an event log's columns: one pass that joins every
row of the log on its MQL episode (:func:`episode_times`), counts of times per month
(:func:`bin_counts`) and business hours to many times (:func:`cum_hours`).

Compiled once per machine (a few seconds) and cached on disk beside this file (``cache=True``,
in ``sla_sim/metrics/__pycache__``, or ``NUMBA_CACHE_DIR``); :func:`warm_up` loads it at set-up,
beside the fast engine (:func:`sla_sim.batch.worker.warm_up`), so no replication pays it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_warm = False


@njit(inline="always")
def _find(lead: int, ep: int, keys: np.ndarray, table: np.ndarray, lead0: int, ep0: int,
          n_lead: int, width: int) -> int:  # fmt: skip
    """Position of the first occurrence of (lead, ep) in the sorted ``keys``, -1 if absent:
    from the dense ``table`` when it has one, by binary search otherwise."""
    if len(table):
        li, ei = lead - lead0, ep - ep0
        if li < 0 or li >= n_lead or ei < 0 or ei >= width:
            return -1
        return table[li * width + ei]
    key = lead * 65536 + ep
    lo, hi = 0, len(keys)
    while lo < hi:  # the leftmost position with keys[pos] >= key (np.searchsorted, side left)
        mid = (lo + hi) >> 1
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < len(keys) and keys[lo] == key else -1


@njit(inline="always")
def _earlier(out: np.ndarray, j: int, p: int, t: float) -> None:
    """``out[j, p] = min(out[j, p], t)`` as ``np.minimum`` takes it (a NaN on either side
    wins)."""
    cur = out[j, p]
    if np.isnan(cur) or np.isnan(t):
        out[j, p] = np.nan
    elif t < cur:
        out[j, p] = t


@njit(cache=True, nogil=True)
def episode_times(routed: np.ndarray, assigned: np.ndarray, contact: np.ndarray,
                  sql: np.ndarray, disq: np.ndarray, recycled: np.ndarray,
                  attempts: np.ndarray, event: np.ndarray, lead: np.ndarray,
                  episode: np.ndarray, time: np.ndarray, attempt: np.ndarray, keys: np.ndarray,
                  table: np.ndarray, lead0: int, ep0: int, n_lead: int, width: int, kth: int,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                             np.ndarray]:  # fmt: skip
    """The rows of each event (their positions in the log) joined on their episode (``keys``:
    the episodes' sorted keys, found by :func:`_find`).

    Returns ``times`` (6, n): the earliest time per episode of its routed, assigned, contact
    and disposition (sql, disqualified, recycled) rows, of its attempt rows number 0 and number
    ``kth`` (NaN if none, or not finite);
    ``disp_code``: the event of the disposition row of each episode that comes last in the
    log (-1 if none); ``n_att``: attempt rows per episode; and per attempt row, in the order
    given, its episode position (-1: none), number and time.
    """
    n = len(keys)
    times = np.full((6, n), np.inf)
    last = np.full(n, -1, dtype=np.int64)  # the disposition row last in the log
    groups = (routed, assigned, contact, sql, disq, recycled)
    for g in range(6):
        rows = groups[g]
        j = min(g, 3)
        for i in rows:
            p = _find(lead[i], episode[i], keys, table, lead0, ep0, n_lead, width)
            if p < 0:
                continue
            _earlier(times, j, p, time[i])
            if j == 3 and i > last[p]:
                last[p] = i
    disp_code = np.full(n, -1, dtype=np.int64)
    for p in range(n):
        if last[p] >= 0:
            disp_code[p] = event[last[p]]
    n_att = np.zeros(n, dtype=np.int64)
    att_pos = np.empty(len(attempts), dtype=np.intp)
    att_num = np.empty(len(attempts), dtype=attempt.dtype)
    att_t = np.empty(len(attempts))
    for a in range(len(attempts)):
        i = attempts[a]
        p = _find(lead[i], episode[i], keys, table, lead0, ep0, n_lead, width)
        att_pos[a], att_num[a], att_t[a] = p, attempt[i], time[i]
        if p >= 0:
            n_att[p] += 1
            if attempt[i] == 0:
                _earlier(times, 4, p, time[i])
            if attempt[i] == kth:
                _earlier(times, 5, p, time[i])
    for j in range(6):
        for p in range(n):
            if not np.isfinite(times[j, p]):
                times[j, p] = np.nan
    return times, disp_code, n_att, att_pos, att_num, att_t


@njit(cache=True, nogil=True)
def bin_counts(t: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.bincount(np.searchsorted(edges, t, side="right"), minlength=len(edges) + 1)``:
    how many of ``t`` lie before the first of the ascending ``edges``, between each two, and
    from the last on (NaN counts last, as numpy sorts it)."""
    m = len(edges)
    out = np.zeros(m + 1, dtype=np.int64)
    for x in t:
        if np.isnan(x):
            out[m] += 1
            continue
        lo, hi = 0, m
        while lo < hi:  # the number of edges <= x
            mid = (lo + hi) >> 1
            if edges[mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        out[lo] += 1
    return out


@njit(cache=True, nogil=True)
def cum_hours(t: np.ndarray, starts: np.ndarray, ends: np.ndarray,
              cum_starts: np.ndarray) -> np.ndarray:  # fmt: skip
    """:meth:`sla_sim.calendar.BusinessCalendar.cum_hours_many` of a calendar with working
    intervals [``starts``, ``ends``) and the working hours before each (``cum_starts``): the
    same expression per time, in one pass (0 before the first interval, NaN for NaN)."""
    out = np.empty(len(t))
    n = len(starts)
    for k in range(len(t)):
        x = t[k]
        if np.isnan(x):
            out[k] = np.nan
            continue
        lo, hi = 0, n
        while lo < hi:  # the number of intervals starting at or before x
            mid = (lo + hi) >> 1
            if starts[mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        if lo == 0:
            out[k] = 0.0
            continue
        j = lo - 1
        e = ends[j]
        out[k] = (cum_starts[j] + (x if x < e else e)) - starts[j]
    return out


def warm_up() -> None:
    """Load (or, the first time on a machine, compile and cache) the compiled metric passes,
    once per process, by running them on a two-row log."""
    global _warm
    if _warm:
        return
    i16, rows = np.zeros(2, dtype=np.int16), np.arange(2, dtype=np.intp)
    for table in (np.zeros(1, dtype=np.intp), np.zeros(0, dtype=np.intp)):  # both look-ups
        episode_times(rows, rows, rows, rows, rows, rows, rows, i16,
                      np.zeros(2, dtype=np.int64), i16, np.zeros(2), i16,
                      np.zeros(1, dtype=np.int64), table, 0, 0, 1, 1, 0)  # fmt: skip
    bin_counts(np.zeros(2), np.zeros(2))
    cum_hours(np.zeros(2), np.zeros(2), np.ones(2), np.zeros(2))
    _warm = True
