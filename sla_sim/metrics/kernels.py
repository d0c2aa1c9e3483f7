"""Compiled (numba) passes of the metrics over an event log's columns: one pass that joins every
row of the log on its MQL episode (:func:`episode_times`), counts of times per month
(:func:`bin_counts`) and business hours to many times (:func:`cum_hours`).

Compiled once per machine (a few seconds) and cached on disk beside this file (``cache=True``,
in ``sla_sim/metrics/__pycache__``, or ``NUMBA_CACHE_DIR``); :func:`warm_up` loads it at set-up,
beside the fast engine (:func:`sla_sim.batch.worker.warm_up`), so no replication pays it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

_warm = False
#: the episode keys' base (:data:`sla_sim.metrics.episodes.EP_BASE`): key = lead * base +
#: episode, for episodes 0 .. 2**32 - 1 (the log's int32 column holds up to 2**31 - 1) ...
_EP_BASE = 1 << 32
#: ... and leads 0 .. 2**31 - 1, so that every key fits an int64
_LEAD_LIMIT = 1 << 31


@njit(inline="always")
def _isnan(x: float) -> bool:
    """``np.isnan`` of a float (NaN is the one value unequal to itself): the same answer; in
    a join of the attempt rows on their episodes' first attempt it ran some 4x faster than
    numba's ``np.isnan`` (0.14 against 0.59 ms for 28,000 rows, 2026-12-07)."""
    return x != x


@njit(inline="always")
def _isfinite(x: float) -> bool:
    """``np.isfinite`` of a float: ``x - x`` is 0 for a finite ``x``, NaN for inf and NaN."""
    return x - x == 0.0


@njit(cache=True, nogil=True)
def _positions(rows: np.ndarray, lead: np.ndarray, episode: np.ndarray, keys: np.ndarray,
               table: np.ndarray, lead0: int, ep0: int, n_lead: int, width: int
               ) -> np.ndarray:  # fmt: skip
    """For each of ``rows``, the position of the first occurrence of its (lead, episode) in
    the sorted ``keys``, -1 if absent: from the dense ``table`` when it has one, by binary
    search otherwise.

    One call per array of rows, its look-ups written out in the loop: an array handed to a
    helper (inlined or not) costs numba a reference count, an atomic operation, each call,
    which in a loop over rows took most of its time."""
    out = np.empty(len(rows), dtype=np.intp)
    nk = len(keys)
    dense = len(table) > 0
    for a in range(len(rows)):
        i = rows[a]
        if dense:
            li, ei = lead[i] - lead0, episode[i] - ep0
            if li < 0 or li >= n_lead or ei < 0 or ei >= width:
                out[a] = -1
            else:
                out[a] = table[li * width + ei]
            continue
        key = lead[i] * _EP_BASE + episode[i]
        lo, hi = 0, nk
        while lo < hi:  # the leftmost position with keys[pos] >= key (np.searchsorted, left)
            mid = (lo + hi) >> 1
            if keys[mid] < key:
                lo = mid + 1
            else:
                hi = mid
        out[a] = lo if lo < nk and keys[lo] == key else -1
    return out


@njit(inline="always")
def _earlier(cur: float, t: float) -> float:
    """``min(cur, t)`` as ``np.minimum`` takes it (a NaN on either side wins). Scalars only:
    an array handed to an inlined helper in a loop can cost a reference count (an atomic
    operation) per call where numba's pruning misses it."""
    if _isnan(cur) or _isnan(t):
        return np.nan
    return t if t < cur else cur


@njit(cache=True, nogil=True)
def episode_times(routed: np.ndarray, assigned: np.ndarray, contact: np.ndarray,
                  sql: np.ndarray, disq: np.ndarray, recycled: np.ndarray,
                  attempts: np.ndarray, event: np.ndarray, lead: np.ndarray,
                  episode: np.ndarray, time: np.ndarray, attempt: np.ndarray, keys: np.ndarray,
                  table: np.ndarray, lead0: int, ep0: int, n_lead: int, width: int, kth: int,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                             np.ndarray]:  # fmt: skip
    """The rows of each event (their positions in the log) joined on their episode (``keys``:
    the episodes' sorted keys, found by :func:`_positions`).

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
        pos = _positions(rows, lead, episode, keys, table, lead0, ep0, n_lead, width)
        j = min(g, 3)
        for a in range(len(rows)):
            i, p = rows[a], pos[a]
            if p < 0:
                continue
            times[j, p] = _earlier(times[j, p], time[i])
            if j == 3 and i > last[p]:
                last[p] = i
    disp_code = np.full(n, -1, dtype=np.int64)
    for p in range(n):
        if last[p] >= 0:
            disp_code[p] = event[last[p]]
    n_att = np.zeros(n, dtype=np.int64)
    att_pos = _positions(attempts, lead, episode, keys, table, lead0, ep0, n_lead, width)
    att_num = np.empty(len(attempts), dtype=attempt.dtype)
    att_t = np.empty(len(attempts))
    for a in range(len(attempts)):
        i, p = attempts[a], att_pos[a]
        att_num[a], att_t[a] = attempt[i], time[i]
        if p >= 0:
            n_att[p] += 1
            if attempt[i] == 0:
                times[4, p] = _earlier(times[4, p], time[i])
            if attempt[i] == kth:
                times[5, p] = _earlier(times[5, p], time[i])
    for j in range(6):
        for p in range(n):
            if not _isfinite(times[j, p]):
                times[j, p] = np.nan
    return times, disp_code, n_att, att_pos, att_num, att_t


@njit(inline="always")
def _n_at_or_before(a: np.ndarray, n: int, x: float) -> int:
    """The number of the first ``n`` entries of sorted ``a`` at or before ``x``
    (``np.searchsorted(a[:n], x, side="right")``)."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def bin_counts(t: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.bincount(np.searchsorted(edges, t, side="right"), minlength=len(edges) + 1)``:
    how many of ``t`` lie before the first of the ascending ``edges``, between each two, and
    from the last on (NaN counts last, as numpy sorts it)."""
    m = len(edges)
    out = np.zeros(m + 1, dtype=np.int64)
    for x in t:
        if _isnan(x):
            out[m] += 1
            continue
        out[_n_at_or_before(edges, m, x)] += 1
    return out


@njit(inline="always")
def _starts_at_or_before(starts: np.ndarray, n: int, x: float, last: int) -> int:
    """The number of ``starts`` (sorted, ``n`` of them) at or before ``x``
    (``np.searchsorted(starts, x, side="right")``), tried first at ``last`` (the previous
    time's answer) or one further: times mostly come in order."""
    if (last == 0 or starts[last - 1] <= x) and (last == n or starts[last] > x):
        return last
    if last < n and starts[last] <= x and (last + 1 == n or starts[last + 1] > x):
        return last + 1
    return _n_at_or_before(starts, n, x)


@njit(cache=True, nogil=True)
def add_hours(t: np.ndarray, h: np.ndarray, starts: np.ndarray, ends: np.ndarray,
              cum_starts: np.ndarray, cum_ends: np.ndarray) -> np.ndarray:  # fmt: skip
    """:meth:`sla_sim.calendar.BusinessCalendar.add_business_hours_many` of a calendar with
    working intervals [``starts``, ``ends``) (business hours before each start ``cum_starts``,
    at each end ``cum_ends``), for ``h >= 0``: the same expressions per time, in one pass (the
    first time ``s >= t`` with ``h`` business hours from ``t`` to ``s``; inf past the last
    interval; ``t`` itself for ``h == 0``). Each search is tried first where the previous
    time's ended, or one further (times mostly in order; the same positions either way)."""
    n = len(starts)
    out = np.empty(len(t))
    last, last_k = 0, 0
    for q in range(len(t)):
        x, hq = t[q], h[q]
        if _isnan(x):
            cum = np.nan
        else:
            lo = last = _starts_at_or_before(starts, n, x, last)
            if lo == 0:
                cum = 0.0
            else:
                e = ends[lo - 1]
                cum = (cum_starts[lo - 1] + (x if x < e else e)) - starts[lo - 1]
        target = cum + hq
        if _isnan(target):
            k = n  # NaN sorts last (np.searchsorted)
        else:
            b = last_k
            if (b == 0 or cum_ends[b - 1] < target) and (b == n or cum_ends[b] >= target):
                k = b
            elif b < n and cum_ends[b] < target and (b + 1 == n or cum_ends[b + 1] >= target):
                k = b + 1
            else:
                lo, hi = 0, n
                while lo < hi:  # np.searchsorted(cum_ends, target, side="left")
                    mid = (lo + hi) >> 1
                    if cum_ends[mid] < target:
                        lo = mid + 1
                    else:
                        hi = mid
                k = lo
            last_k = k
        if hq == 0:
            out[q] = x
        elif k >= n:
            out[q] = np.inf
        else:
            y = starts[k] + (target - cum_starts[k])
            out[q] = np.nan if _isnan(x) or _isnan(y) else (x if x >= y else y)  # np.maximum
    return out


@njit(cache=True, nogil=True)
def judge_status(start: np.ndarray, deadline: np.ndarray, done: np.ndarray,
                 observed_until: float) -> np.ndarray:  # fmt: skip
    """:func:`sla_sim.metrics.clauses.judge` in one pass: per episode 0 met (done by the
    deadline), 1 breached (done later, or not done and the deadline passed by
    ``observed_until``), 2 pending (not done, deadline later), 3 not started (no start; or
    a NaN deadline, which no comparison passes)."""
    n = len(start)
    out = np.empty(n, dtype=np.int8)
    for i in range(n):
        s = np.int8(3)
        if not _isnan(start[i]):
            d, dl = done[i], deadline[i]
            if not _isnan(d):
                if d <= dl:
                    s = np.int8(0)
                elif d > dl:
                    s = np.int8(1)
            elif dl <= observed_until:
                s = np.int8(1)
            elif dl > observed_until:
                s = np.int8(2)
        out[i] = s
    return out


@njit(cache=True, nogil=True)
def first_rows(lead: np.ndarray, episode: np.ndarray, ref_rows: np.ndarray, rows: np.ndarray
               ) -> tuple[np.ndarray, bool]:  # fmt: skip
    """For each of ``rows`` (positions in the log's columns ``lead`` and ``episode``), the
    index in ``ref_rows`` of the first of them with the same (lead, episode), -1 if none: what
    a stable sort of the reference rows' episode keys and a binary search per key find, by a
    dense table over (lead, episode). ``False`` (and nothing found) when a lead or episode is
    outside the keys' range or the table would be larger than twice the log (the caller then
    sorts and searches)."""
    n_ref, n = len(ref_rows), len(rows)
    idx = np.full(n, -1, dtype=np.int64)
    nl, ne = 0, 0
    for i in range(n_ref + n):
        r = ref_rows[i] if i < n_ref else rows[i - n_ref]
        x, e = lead[r], episode[r]
        if x < 0 or e < 0 or e >= _EP_BASE or x >= _LEAD_LIMIT:
            return idx, False
        if x >= nl:
            nl = x + 1
        if e >= ne:
            ne = e + 1
    if nl * ne > 2 * len(lead) + 4096 or n_ref >= 1 << 31:
        return idx, False
    table = np.full(nl * ne, -1, dtype=np.int32)
    for i in range(n_ref):
        r = ref_rows[i]
        k = lead[r] * ne + episode[r]
        if table[k] < 0:
            table[k] = i
    for i in range(n):
        r = rows[i]
        idx[i] = table[lead[r] * ne + episode[r]]
    return idx, True


#: the most edges :func:`code_bin_counts` compares a time with one by one
_FEW_EDGES = 16


@njit(cache=True, nogil=True)
def code_bin_counts(code: np.ndarray, t: np.ndarray, edges: np.ndarray, wanted: np.ndarray
                    ) -> np.ndarray:  # fmt: skip
    """:func:`bin_counts` of the times of each code at once: row ``k`` counts the ``t`` whose
    ``code`` is ``k``, for the codes ``k`` with ``wanted[k]`` (the others, and codes outside
    ``[0, len(wanted))``, are not counted: their row stays 0).

    With a few edges (a window's months) each row's bin is the count of edges at or below its
    time, one comparison per edge, and every row of a code in range adds ``wanted[k]``: no
    branch on the row's code or time to mispredict (0.42 -> 0.29 ms on a default log)."""
    m = len(edges)
    n_codes = len(wanted)
    out = np.zeros((n_codes, m + 1), dtype=np.int64)
    if m > _FEW_EDGES:
        return _code_bin_counts_search(code, t, edges, wanted, out)
    for i in range(len(t)):
        k = code[i]
        if k < 0 or k >= n_codes:
            continue
        x = t[i]
        lo = 0
        for e in range(m):  # the number of edges <= x (NaN: none, then the NaN bin)
            lo += edges[e] <= x
        if _isnan(x):
            lo = m
        out[k, lo] += wanted[k]
    return out


@njit(cache=True, nogil=True)
def _code_bin_counts_search(code: np.ndarray, t: np.ndarray, edges: np.ndarray,
                            wanted: np.ndarray, out: np.ndarray) -> np.ndarray:  # fmt: skip
    """:func:`code_bin_counts` with many edges: a binary search per row."""
    m = len(edges)
    n_codes = len(wanted)
    for i in range(len(t)):
        k = code[i]
        if k < 0 or k >= n_codes or not wanted[k]:
            continue
        x = t[i]
        if _isnan(x):
            out[k, m] += 1
            continue
        out[k, _n_at_or_before(edges, m, x)] += 1
    return out


@njit(cache=True, nogil=True)
def cum_hours(t: np.ndarray, starts: np.ndarray, ends: np.ndarray,
              cum_starts: np.ndarray) -> np.ndarray:  # fmt: skip
    """:meth:`sla_sim.calendar.BusinessCalendar.cum_hours_many` of a calendar with working
    intervals [``starts``, ``ends``) and the working hours before each (``cum_starts``): the
    same expression per time, in one pass (0 before the first interval, NaN for NaN).

    Times mostly come in order (a log's attempts): the number of intervals starting at or
    before a time is tried first where the previous time's was, or one further, and searched
    for only when neither holds (the same number either way, the starts being sorted)."""
    out = np.empty(len(t))
    n = len(starts)
    last = 0
    for k in range(len(t)):
        x = t[k]
        if _isnan(x):
            out[k] = np.nan
            continue
        lo = last = _starts_at_or_before(starts, n, x, last)
        if lo == 0:
            out[k] = 0.0
            continue
        j = lo - 1
        e = ends[j]
        out[k] = (cum_starts[j] + (x if x < e else e)) - starts[j]
    return out


@njit(inline="always")
def _block_sum(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise sum of a block of at most 128 values: eight accumulators."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(inline="always")
def pairwise_sum(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise summation of ``a[lo:lo + n]`` (``pairwise_sum`` of its float add
    loop: eight accumulators per block of up to 128 values, above that the sum of the two
    halves, the first a multiple of 8 long), term for term, so that :func:`np_sum` gives
    ``np.sum``'s bits (``tests/test_compiled_passes.py`` compares them). The halving is walked
    with an explicit stack (a recursive function cannot be cached)."""
    if n <= 128:
        return _block_sum(a, lo, n)
    los = np.empty(64, dtype=np.int64)
    ns = np.empty(64, dtype=np.int64)
    phase = np.zeros(64, dtype=np.int64)  # 0: not split yet, 1: left half pending, 2: right
    left = np.empty(64)
    sp = 0
    los[0], ns[0] = lo, n
    v = 0.0
    done = False  # v holds the sum of the node just finished
    while True:
        if done:
            if sp < 0:
                return v
            if phase[sp] == 1:  # its left half is summed: sum the right half
                left[sp] = v
                phase[sp] = 2
                h = ns[sp] // 2
                h -= h % 8
                lo2, n2 = los[sp] + h, ns[sp] - h
                sp += 1
                los[sp], ns[sp], phase[sp] = lo2, n2, 0
                done = False
            else:
                v = left[sp] + v
                sp -= 1
            continue
        if ns[sp] <= 128:
            v = _block_sum(a, los[sp], ns[sp])
            sp -= 1
            done = True
            continue
        h = ns[sp] // 2
        h -= h % 8
        phase[sp] = 1
        lo2 = los[sp]
        sp += 1
        los[sp], ns[sp], phase[sp] = lo2, h, 0


@njit(cache=True, nogil=True)
def np_sum(a: np.ndarray) -> float:
    """``np.sum(a)`` of a float64 array, the same bits: the add's identity plus the pairwise sum
    of every element."""
    return 0.0 + pairwise_sum(a, 0, len(a))


@njit(cache=True, nogil=True)
def merge_level(down: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:class:`sla_sim.metrics.capacity.Level`'s change times and levels from its sorted falls
    and rises: merged with a fall first at equal times (NaN last, falls first among them), as
    the stable sort of the falls then the rises orders them; the level a running sum of -1 and
    +1 (``np.cumsum``'s order)."""
    nd, nu = len(down), len(up)
    times = np.empty(nd + nu)
    level = np.empty(nd + nu)
    i = j = 0
    acc = 0.0
    for k in range(nd + nu):
        if j >= nu or (i < nd and (down[i] <= up[j] or _isnan(up[j]))):
            times[k] = down[i]
            acc += -1.0
            i += 1
        else:
            times[k] = up[j]
            acc += 1.0
            j += 1
        level[k] = acc
    return times, level


@njit(cache=True, nogil=True)
def level_mean_max(times: np.ndarray, level: np.ndarray, t0: float, t1: float
                   ) -> tuple[float, float]:  # fmt: skip
    """:meth:`sla_sim.metrics.capacity.Level.mean_max`: the level just before ``t0`` and each
    one inside (t0, t1), weighted by how long it holds (the same products, summed as
    ``np.sum``), and their maximum."""
    n = len(times)
    lo, hi = 0, n
    while lo < hi:  # np.searchsorted(times, t0, side="right")
        mid = (lo + hi) >> 1
        if times[mid] <= t0:
            lo = mid + 1
        else:
            hi = mid
    i0 = lo
    lo, hi = 0, n
    while lo < hi:  # np.searchsorted(times, t1, side="left")
        mid = (lo + hi) >> 1
        if times[mid] < t1:
            lo = mid + 1
        else:
            hi = mid
    i1 = max(lo, i0)
    m = i1 - i0 + 1
    w = np.empty(m)
    lv = level[i0 - 1] if i0 > 0 else 0.0
    top = lv
    prev = t0
    for k in range(m):
        nxt = times[i0 + k] if k < m - 1 else t1
        w[k] = lv * (nxt - prev)
        if k < m - 1:
            prev = nxt
            lv = level[i0 + k]
            if lv > top or _isnan(lv):
                top = lv
    span = t1 - t0
    mean = np_sum(w) / span if span > 0 else np.nan
    return mean, top


@njit(cache=True, nogil=True)
def clipped_hours(start: np.ndarray, end: np.ndarray, cum0: np.ndarray, cum1: np.ndarray,
                  t0: float, t1: float, c0: float, c1: float, clock: bool
                  ) -> tuple[bool, float]:  # fmt: skip
    """:meth:`sla_sim.metrics.capacity.AttemptSpans.busy_hours` of one team: whether any span
    overlaps [t0, t1), and the hours of the overlaps (clock hours with ``clock``, else business
    hours from the stored ones of each start and end, ``c0`` / ``c1`` those of the window's
    bounds), summed as ``np.sum``."""
    n = len(start)
    w = np.empty(n)
    m = 0
    for i in range(n):
        a, b = start[i], end[i]
        s = a if (a >= t0 or _isnan(a)) else t0  # np.maximum(start, t0)
        e = b if (b <= t1 or _isnan(b)) else t1  # np.minimum(end, t1)
        if not e > s:
            continue
        if clock:
            w[m] = e - s
        else:
            w[m] = (cum1[i] if b <= t1 else c1) - (cum0[i] if a >= t0 else c0)
        m += 1
    return m > 0, np_sum(w[:m])


@njit(inline="always")
def _after(ku: int, tu: float, kx: int, tx: float) -> bool:
    """Whether an entry (key ``ku``, time ``tu``) sorts strictly after (``kx``, ``tx``) by
    (key, time), NaN times last (as ``np.lexsort`` orders them). Scalars only (an array
    argument costs a reference count per call)."""
    if ku != kx:
        return ku > kx
    return tx < tu or (_isnan(tu) and not _isnan(tx))


@njit(cache=True, nogil=True)
def pair_assignments(lead: np.ndarray, episode: np.ndarray, time: np.ndarray,
                     attempt: np.ndarray, reassigned: np.ndarray, assigned: np.ndarray,
                     attempts: np.ndarray, max_lead: int) -> tuple[Any, ...]:  # fmt: skip
    """:func:`sla_sim.metrics.backlog.assignments`' pairing in one pass: the reassigned,
    assigned and first-attempt rows (in that order) sorted stably by (episode key, time), by
    lead first (counting) and then within each lead; each assigned row ends at the next row of
    its episode unless that is another assignment.

    Returns whether it applied (every lead of those rows in ``[0, max_lead]``, every episode
    >= 0) and per assignment, in that order: its row, episode key, start and end (NaN:
    open)."""
    n_first = 0
    for r in attempts:
        if attempt[r] == 0:
            n_first += 1
    n = len(reassigned) + len(assigned) + n_first
    row = np.empty(n, dtype=np.int64)
    kind = np.empty(n, dtype=np.int64)
    key = np.empty(n, dtype=np.int64)
    t = np.empty(n)
    i = 0
    for r in reassigned:
        row[i], kind[i] = r, 0
        i += 1
    for r in assigned:
        row[i], kind[i] = r, 1
        i += 1
    for r in attempts:
        if attempt[r] == 0:
            row[i], kind[i] = r, 2
            i += 1
    n_lead = 0
    for i in range(n):
        r = row[i]
        if lead[r] < 0 or lead[r] > max_lead or lead[r] >= _LEAD_LIMIT or episode[r] < 0:
            e = np.empty(0, dtype=np.int64)
            return False, e, e, np.empty(0), np.empty(0)
        if lead[r] >= n_lead:
            n_lead = lead[r] + 1
    start = np.zeros(n_lead + 1, dtype=np.int64)
    for i in range(n):
        r = row[i]
        key[i] = lead[r] * _EP_BASE + episode[r]
        t[i] = time[r]
        start[lead[r] + 1] += 1
    for k in range(n_lead):
        start[k + 1] += start[k]
    at = start[:n_lead].copy()
    s = np.empty(n, dtype=np.int64)
    for i in range(n):  # stable counting sort by lead
        x = lead[row[i]]
        s[at[x]] = i
        at[x] += 1
    for g in range(n_lead):  # stable insertion sort by (key, time) within each lead
        for j in range(start[g] + 1, start[g + 1]):
            x = s[j]
            m = j - 1
            while m >= start[g] and _after(key[s[m]], t[s[m]], key[x], t[x]):
                s[m + 1] = s[m]
                m -= 1
            s[m + 1] = x
    n_up = 0
    for i in range(n):
        if kind[i] == 1:
            n_up += 1
    out_row = np.empty(n_up, dtype=np.int64)
    out_key = np.empty(n_up, dtype=np.int64)
    out_start = np.empty(n_up)
    out_end = np.full(n_up, np.nan)
    u = 0
    for j in range(n):
        x = s[j]
        if kind[x] != 1:
            continue
        out_row[u], out_key[u], out_start[u] = row[x], key[x], t[x]
        if j + 1 < n:
            y = s[j + 1]
            if key[y] == key[x] and kind[y] != 1:
                out_end[u] = t[y]
        u += 1
    return True, out_row, out_key, out_start, out_end


def warm_up() -> None:
    """Load (or, the first time on a machine, compile and cache) the compiled metric passes,
    once per process, by running them on a two-row log."""
    global _warm
    if _warm:
        return
    i16, rows = np.zeros(2, dtype=np.int16), np.arange(2, dtype=np.intp)
    ep = np.zeros(2, dtype=np.int32)  # the log's episode column
    for table in (np.zeros(1, dtype=np.intp), np.zeros(0, dtype=np.intp)):  # both look-ups
        episode_times(rows, rows, rows, rows, rows, rows, rows, i16,
                      np.zeros(2, dtype=np.int64), ep, np.zeros(2), i16,
                      np.zeros(1, dtype=np.int64), table, 0, 0, 1, 1, 0)  # fmt: skip
    bin_counts(np.zeros(2), np.zeros(2))
    code_bin_counts(i16, np.zeros(2), np.zeros(2), np.ones(2, dtype=np.bool_))
    add_hours(np.zeros(2), np.zeros(2), np.zeros(2), np.ones(2), np.zeros(2), np.ones(2))
    f = np.zeros(2)
    times, level = merge_level(f, f)
    level_mean_max(times, level, 0.0, 1.0)
    clipped_hours(f, f, f, f, 0.0, 1.0, 0.0, 1.0, False)
    np_sum(f)
    pair_assignments(np.zeros(2, dtype=np.int64), ep, np.zeros(2), i16, rows, rows, rows, 1)
    cum_hours(np.zeros(2), np.zeros(2), np.ones(2), np.zeros(2))
    first_rows(np.zeros(2, dtype=np.int64), ep, rows, rows)
    judge_status(f, f, f, 1.0)
    _warm = True
