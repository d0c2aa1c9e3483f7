"""Compiled (numba) passes around the event loop: the first episode of every lead, the worked
leads' draws, the log's columns and its rows per event, and the end-of-run reconciliation.

Each computes exactly what the vectorised numpy code it replaces computed (the same numbers, the
same row order), in one pass over its arrays instead of a dozen full-length numpy operations.
Where its inputs are not what it was written for (draws or a log part of another shape, an
inconsistent log), the caller falls back to the numpy code, which also raises the
errors.

Compiled once per machine and cached on disk beside this file (``cache=True``, in
``sla_sim/model/__pycache__``, or ``NUMBA_CACHE_DIR``); :func:`warm_up` loads every pass with
the argument types a replication gives it (:func:`sla_sim.model.funnel.warm_up`), so no
replication compiles.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from sla_sim.events import _DTYPES, COLUMNS, EVENTS

_warm = False


# ---------------------------------------------------------------------------------- leads
@njit(cache=True, nogil=True)
def first_episodes(t: np.ndarray, score: np.ndarray, nurture: np.ndarray, ops: np.ndarray,
                   channel: np.ndarray, segment: np.ndarray, team_of: np.ndarray,
                   threshold: float, expiry_h: float, end_h: float, batches: np.ndarray,
                   batch: bool) -> tuple[Any, ...]:  # fmt: skip
    """Every lead's first episode, as :meth:`sla_sim.model.funnel.FunnelModel._draw` works it
    out (the same expressions per lead): below the threshold it is nurtured and becomes an MQL
    after its nurture delay (or expires), else at once; an MQL is routed after its ops delay
    (at the next batch instant with ``batch``) and worked if routed before the end.

    Returns per lead: MQL time, team, routing time (inf: never), slot (-1: not worked),
    expired and MQL flags; and the ids of the nurtured leads, of the expired ones with their
    expiry times, of the MQLs and of the worked leads (each ascending)."""
    n = len(t)
    t_mql = np.empty(n)
    team = np.empty(n, dtype=np.int64)
    t_route = np.full(n, np.inf)
    slot = np.full(n, -1, dtype=np.int64)
    expired = np.zeros(n, dtype=np.bool_)
    is_mql = np.zeros(n, dtype=np.bool_)
    below = np.zeros(n, dtype=np.bool_)
    n_below = n_exp = n_mql = n_work = 0
    nb = len(batches)
    for i in range(n):
        b = score[i] < threshold
        below[i] = b
        tm = t[i] + (nurture[i] if b else 0.0)
        t_mql[i] = tm
        team[i] = team_of[channel[i], segment[i]]
        if b:
            n_below += 1
            if nurture[i] - nurture[i] != 0.0 and t[i] + expiry_h < end_h:  # inf or NaN
                expired[i] = True
                n_exp += 1
        if tm < end_h:
            is_mql[i] = True
            n_mql += 1
            x = tm + ops[i]
            if batch:
                lo, hi = 0, nb
                while lo < hi:  # np.searchsorted(batches, x, side="left")
                    mid = (lo + hi) >> 1
                    if batches[mid] < x:
                        lo = mid + 1
                    else:
                        hi = mid
                x = batches[lo] if lo < nb else np.inf
            t_route[i] = x
            if x < end_h:
                slot[i] = n_work
                n_work += 1
    below_ids = np.empty(n_below, dtype=np.int64)
    exp_ids = np.empty(n_exp, dtype=np.int64)
    exp_t = np.empty(n_exp)
    mql_ids = np.empty(n_mql, dtype=np.int64)
    worked = np.empty(n_work, dtype=np.int64)
    jb = je = jm = 0
    for i in range(n):
        if below[i]:
            below_ids[jb] = i
            jb += 1
        if expired[i]:
            exp_ids[je] = i
            exp_t[je] = t[i] + expiry_h
            je += 1
        if is_mql[i]:
            mql_ids[jm] = i
            jm += 1
        if slot[i] >= 0:
            worked[slot[i]] = i
    return (t_mql, team, t_route, slot, expired, is_mql, below_ids, exp_ids, exp_t, mql_ids,
            worked)  # fmt: skip


@njit(cache=True, nogil=True)
def pick_by_cdf(u: np.ndarray, cdf: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, bool]:
    """``values[cdf.searchsorted(u, side="right")]``: for each uniform, the value of the
    number of cumulative shares at or below it (one comparison per share, no branch), as
    ``Generator.choice`` picks (:func:`sla_sim.model.leads.choose`); ``False`` if a pick falls
    past the last value (numpy's indexing then raises)."""
    k = len(cdf)
    out = np.empty(len(u), dtype=np.int64)
    for i in range(len(u)):
        x = u[i]
        j = 0
        for c in range(k):
            j += cdf[c] <= x
        if j >= k:
            return out, False
        out[i] = values[j]
    return out, True


@njit(cache=True, nogil=True)
def hour_times(counts: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``np.repeat(np.arange(len(counts), dtype=float64), counts) + u`` in one pass: hour
    ``b``'s count of times, each ``b`` plus its uniform (the arrival times before their
    sort, :func:`sla_sim.model.arrivals.draw_channel_arrivals`)."""
    out = np.empty(len(u))
    k = 0
    for b in range(len(counts)):
        fb = np.float64(b)
        for _ in range(counts[b]):
            out[k] = fb + u[k]
            k += 1
    return out


@njit(cache=True, nogil=True)
def nurture_need(scores: np.ndarray, threshold: float, lift: float
                 ) -> tuple[np.ndarray, bool]:  # fmt: skip
    """The engaging touches each score needs to reach ``threshold`` (at least one), as
    :func:`sla_sim.model.nurture.nurture_delays` works them out with numpy
    (``maximum(ceil((threshold - s) / lift).astype(int64), 1)``), and whether every one was
    finite and of a size numpy's cast keeps (else the caller asks numpy)."""
    n = len(scores)
    need = np.empty(n, dtype=np.int64)
    for i in range(n):
        c = np.ceil((threshold - scores[i]) / lift)
        if not (-4e18 < c < 4e18):  # NaN, infinite, or beyond what casts alike
            return need, False
        k = np.int64(c)
        need[i] = k if k > 1 else 1
    return need, True


@njit(cache=True, nogil=True)
def nurture_hours(need: np.ndarray, extra: np.ndarray, allowed: int, interval_days: float
                  ) -> np.ndarray:  # fmt: skip
    """Hours to MQL of each nurtured lead from its needed engagements and its negative-binomial
    draw: the touch ``need + extra``, times the interval in hours if within ``allowed``
    touches, else ``inf`` (numpy's ``touch * interval * 24.0`` on an int64 touch)."""
    n = len(need)
    out = np.empty(n)
    for i in range(n):
        touch = need[i] + extra[i]
        out[i] = np.float64(touch) * interval_days * 24.0 if touch <= allowed else np.inf
    return out


@njit(cache=True, nogil=True)
def gather_part(rows: np.ndarray, lo: int, hi: int, uc: np.ndarray, wk: np.ndarray,
                uq: np.ndarray, ud: np.ndarray, cyc: np.ndarray, uw: np.ndarray,
                deal: np.ndarray, o_uc: np.ndarray, o_wk: np.ndarray, o_uq: np.ndarray,
                o_ud: np.ndarray, o_cyc: np.ndarray, o_uw: np.ndarray,
                o_deal: np.ndarray) -> None:  # fmt: skip
    """The work draws of one channel's part (draw rows ``[lo, hi)``) copied to the positions
    of ``rows`` (draw rows of the gathered leads) that fall in it."""
    for i in range(len(rows)):
        r = rows[i]
        if r < lo or r >= hi:
            continue
        j = r - lo
        for a in range(uc.shape[1]):
            o_uc[i, a] = uc[j, a]
        for a in range(wk.shape[1]):
            o_wk[i, a] = wk[j, a]
        o_uq[i] = uq[j]
        o_ud[i] = ud[j]
        o_cyc[i] = cyc[j]
        o_uw[i] = uw[j]
        o_deal[i] = deal[j]


# ---------------------------------------------------------------------------------- the log
@njit(cache=True, nogil=True)
def split_rows(ints: np.ndarray, floats: np.ndarray, lead: np.ndarray, episode: np.ndarray,
               time: np.ndarray, event: np.ndarray, team: np.ndarray, rep: np.ndarray,
               attempt: np.ndarray, value: np.ndarray, lo: int) -> None:  # fmt: skip
    """Rows given as columns (``ints``: lead, episode, event, team, rep, attempt; ``floats``:
    time_h, value) written to the log's columns from position ``lo``, each cast to its
    column's type as numpy's unsafe cast does (integers wrap)."""
    for i in range(ints.shape[0]):
        j = lo + i
        lead[j] = ints[i, 0]
        episode[j] = ints[i, 1]
        event[j] = ints[i, 2]
        team[j] = ints[i, 3]
        rep[j] = ints[i, 4]
        attempt[j] = ints[i, 5]
        time[j] = floats[i, 0]
        value[j] = floats[i, 1]


@njit(cache=True, nogil=True)
def rows_by_code(event: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sla_sim.events.rows_by_event` by counting: the positions of the rows of each
    code ``k`` in ``[0, n_codes)`` are ``order[bounds[k]:bounds[k + 1]]``, ascending."""
    bounds = np.zeros(n_codes + 1, dtype=np.int64)
    for e in event:
        if 0 <= e < n_codes:
            bounds[e + 1] += 1
    for k in range(n_codes):
        bounds[k + 1] += bounds[k]
    at = bounds[:n_codes].copy()
    order = np.empty(bounds[n_codes], dtype=np.intp)
    for i in range(len(event)):
        e = event[i]
        if 0 <= e < n_codes:
            order[at[e]] = i
            at[e] += 1
    return order, bounds


def _is_matrix_part(p: dict[str, np.ndarray]) -> bool:
    ints, floats = p.get("_ints"), p.get("_floats")
    return (ints is not None and floats is not None and ints.dtype == np.int64
            and floats.dtype == np.float64 and ints.ndim == 2 and floats.ndim == 2
            and ints.shape[1] == 6 and floats.shape[1] == 2 and len(ints) == len(floats)
            and ints.flags.c_contiguous and floats.flags.c_contiguous)  # fmt: skip


def _constant_event(p: dict[str, np.ndarray]) -> int | None:
    """The event code of every row of a part whose event column is one broadcast value (the
    model's vectorised parts), else ``None``."""
    ev = p["event"]
    if ev.ndim == 1 and len(ev) and ev.strides == (0,) and 0 <= int(ev[0]) < len(EVENTS):
        return int(ev[0])
    return None


def log_columns(parts: list[dict[str, np.ndarray]]
                ) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:  # fmt: skip
    """The columns of an event log's parts, concatenated and cast to the log's types (the same
    columns as :meth:`sla_sim.events.EventLog.columns` builds), and the positions of each
    event's rows (:func:`sla_sim.events.rows_by_event`): a compiled loop's rows are split into
    the columns in one pass, the other parts copied with numpy's cast; the rows of a part of
    one event are a range of positions, the others' are found by counting."""
    total = sum(len(p["lead"]) for p in parts)
    out = {c: np.empty(total, dtype=d) for c, d in zip(COLUMNS, _DTYPES, strict=True)}
    pieces: list[list[np.ndarray]] = [[] for _ in EVENTS]  # per code, ascending
    lo = 0
    for p in parts:
        n = len(p["lead"])
        if _is_matrix_part(p):
            split_rows(p["_ints"], p["_floats"], *(out[c] for c in COLUMNS), lo)
        else:
            for c in COLUMNS:
                np.copyto(out[c][lo:lo + n], p[c], casting="unsafe")
        code = _constant_event(p)
        if code is not None:
            pieces[code].append(np.arange(lo, lo + n, dtype=np.intp))
        elif n:
            order, bounds = rows_by_code(out["event"][lo:lo + n], len(EVENTS))
            order += lo
            for k in range(len(EVENTS)):
                if bounds[k + 1] > bounds[k]:
                    pieces[k].append(order[bounds[k]:bounds[k + 1]])
        lo += n
    return out, [x[0] if len(x) == 1 else np.concatenate(x) if x else np.empty(0, np.intp)
                 for x in pieces]  # fmt: skip


# ---------------------------------------------------------------------------------- reconcile
@njit(cache=True, nogil=True)
def reconciled(states: np.ndarray, expected_code: np.ndarray, lead: np.ndarray,
               created: np.ndarray, won: np.ndarray, lost: np.ndarray, disq: np.ndarray,
               expired: np.ndarray, codes: np.ndarray) -> bool:  # fmt: skip
    """Whether the log reconciles with the lead states (the checks of
    :func:`sla_sim.model.reconcile.reconcile`, in one pass): a valid state per lead, one
    ``created`` row per lead, at most one terminal row per lead, and that row's event the one
    its state expects (``expected_code[state]``, -1: none)."""
    n = len(states)
    for s in states:
        if s < 0 or s >= len(expected_code):
            return False
    if len(created) != n:
        return False
    got = np.full(n, -2, dtype=np.int64)  # -2: no created row yet
    for r in created:
        x = lead[r]
        if x < 0 or x >= n or got[x] != -2:
            return False
        got[x] = -1
    groups = (won, lost, disq, expired)
    for g in range(4):
        code = codes[g]
        for r in groups[g]:
            x = lead[r]
            if x < 0 or x >= n or got[x] != -1:
                return False
            got[x] = code
    for i in range(n):  # noqa: SIM110 - a loop, which numba compiles (no generator)
        if got[i] != expected_code[states[i]]:
            return False
    return True


# ---------------------------------------------------------------------------------- set-up
def warm_up() -> None:
    """Load (or, the first time on a machine, compile and cache) every pass with the argument
    types a replication gives it, once per process."""
    global _warm
    if _warm:
        return
    f, i64 = np.zeros(2), np.zeros(2, dtype=np.int64)
    first_episodes(f, f, f, f, i64, i64, np.zeros((1, 1), dtype=np.int64), 1.0, 1.0, 1.0,
                   np.empty(0), False)  # fmt: skip
    nurture_need(f, 1.0, 1.0)
    hour_times(i64, f)
    pick_by_cdf(f, f, i64)
    nurture_hours(i64, i64, 1, 1.0)
    f2 = np.zeros((2, 2))
    gather_part(i64, 0, 2, f2, f2, f, f, f, f, f, f2, f2, f, f, f, f, f)
    cols = {c: np.zeros(2, dtype=d) for c, d in zip(COLUMNS, _DTYPES, strict=True)}
    split_rows(np.zeros((2, 6), dtype=np.int64), f2, *(cols[c] for c in COLUMNS), 0)
    rows_by_code(cols["event"], len(EVENTS))
    rows = np.zeros(1, dtype=np.intp)
    reconciled(i64[:1], i64, i64, rows, rows, rows, rows, rows, i64)
    _warm = True


__all__ = ["first_episodes", "gather_part", "hour_times", "log_columns", "nurture_hours",
           "nurture_need", "pick_by_cdf", "reconciled", "rows_by_code", "split_rows", "warm_up"]
