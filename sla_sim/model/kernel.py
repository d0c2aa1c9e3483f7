"""The compiled event loop (numba) of the fast engine: the SDR/AE capacity model of
:mod:`sla_sim.model.funnel`, :mod:`sla_sim.model.sdr`, :mod:`sla_sim.model.routing`,
:mod:`sla_sim.model.ae` and the work orders, pull assignment, priority classes and
reassignment of :mod:`sla_sim.model.policies`, over preallocated arrays.

It is a line-for-line transcription of those callbacks, so that the event log is the same, row
for row: one heap of pending events ordered by (time, creation number) exactly as the SimPy
loop orders its entries (its second "far" heap changes no order), the same rep task heaps
ordered by (due, sequence number), the same floating-point expressions (``now + (t - now)``
where the SimPy path schedules ``t - now`` ahead), the same rep rules and queues. Leads waiting
in a plain team's queue or the AE queue are kept as linked lists (a lead waits in at most one
queue).

A team with a work policy (``work_order`` ``new_first`` or ``deadline_first``,
``assignment: pull``, priority classes, reassignment or an overflow team's;
:class:`~sla_sim.model.policies.PolicyTeam`)
keeps, as the SimPy policy classes do, its queue of waiting leads (under ``pull``: the shared
queue) as a heap of items in the team's order, and each rep its attempts not yet due (by due
time, the plain task heap) and those due now (by the team's order: the "ready" heap). An
item's order is (priority class, key 1, key 2, sequence number), compared element by element
as Python compares the tuples: the class (an int, ``routing.priority_order``'s rank of the
lead's channel or segment; 0 for every lead without priority classes) first, then
``due_first`` (due, 0); ``new_first`` (0 for a first attempt else 1, due); ``deadline_first``
(SLA deadline, due). With ``due_first`` and no classes the due order is the team's order and
the task heap alone serves (``PolicyRep.single``). A team with a staffing plan whose reps stay
on the team (days off, reps' own calendars; ``PolicyTeam.staffed``) runs on the same path:
each rep looks up its own working intervals (``RP[r, R_CLO:R_CHI]`` into CS/CE) where a policy
rep looks up its team calendar's, a team whose reps have their own calendars opens with its
first rep, and ``routing.skip_unavailable`` routes to reps on shift first; SLA clocks stay on
the team calendar. Reassignment (``reassign_after_business_hours``) runs as
``PolicyTeam`` runs it: each assignment appends a check (its time on the team calendar) to
the team's pending list, one timer is armed for the first, and when it fires the due checks
run one per step (:func:`_pcheck`; no other event comes between them, as none does inside
the SimPy callback): a lead still untouched is taken back (``reassigned``), routed again to
another rep with a free slot or to the team queue, and its first-attempt item, left in the
old rep's heaps, is void (its seq no longer the slot's, ``FS``) and skipped when reached.
With no other rep free and an ``overflow_team``, the lead is escalated to that team (routed
there as any lead, dispatched or offered at once). Hires and attrition run as
``PolicyRep.join``/``leave`` do: each join and leave is an event (JOIN, LEAVE) created before
any other, in rep order with a rep's join before its leave (as ``policies._staff`` creates its
Calls), and its time sits in the team's armed-timer heap (the quiet interval of batched
routing). A rep not yet joined or gone is not on the team (``R_ON``): routing skips it, but a
pull team's offer looks at it as SimPy's does (its calendar, clipped to its presence, keeps it
idle). A join takes queued leads into the rep's free slots one per step, each assignment
dispatching as ``PolicyRep.push`` does (:func:`_pjoin`); a leaver, once free (at once, or at
the end of its attempt), hands its items over one per step in seq order (:func:`_pleave`). A
ramping rep's attempts take 1 / share as long, its ramp steps (times, shares) riding in CS/CE
after every interval (``RP[r, R_MLO:R_MHI]``).

The loop takes one step at a time: an event, one lead of a routing instant, or one due
reassignment check of a fired timer. Whatever an event's or a routing step leaves for reps to
do (a freed rep, a routed lead, a pull team's offer) is done by one dispatch at the end of the
step, in the order the SimPy callbacks do it; so routing and dispatching each have one call
site per path, plain and policy (fewer sites, less to compile). A reassignment check
dispatches the reps it gives a lead at once, as ``PolicyRep.push`` does inside the check.

Growth: the log rows, the event heap and the heaps of tasks and queued leads are grown
(doubled) by :func:`run_loop` between calls of :func:`_steps`, which runs the steps and returns
as soon as the next step might not fit (each step needs at most a few rows and pushes: two rows
and a push per rep of the largest team for a pull team's offer). If the pre-drawn recycle draws
run out, :func:`run_loop` returns ``-1`` and the caller runs it again with more.

Reference counts: numba counts a reference (an atomic ``lock inc``/``lock dec``) each time an
array is bound to a helper's argument (inlined or not), sliced into a view (``TD[r]``) or
rebound in a loop, wherever its pruning pass does not remove the pair; in this loop that was
some twenty arrays at every event, most of the loop's time. :func:`_steps` and the policy
team's functions therefore work on borrowed views of their arrays (:func:`_borrow`: the same
memory, no reference held), taken once at entry: every count on them or on their views is a
null check. Their memory is held by the caller (the arrays :func:`run_loop` owns and regrows
between calls of :func:`_steps`), so no array is rebound inside the loop.

Every helper of the plain path is inlined into :func:`_steps` at numba's IR level
(``inline="always"``: a call with twenty array arguments per event costs more than the event's
work). The entry points of a policy team's path (:func:`_proute`, :func:`_prelease`,
:func:`_pqueue`, :func:`_pdispatch`, :func:`_offer`) are compiled as functions of their own,
called only for a policy team, so the plain loop carries none of their code. Everything is
compiled once per machine (about a minute of CPU time) and cached on disk (``cache=True``);
:func:`sla_sim.model.funnel.warm_up` loads it at set-up.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# event kinds
FEED, WAKE, DONE, REROUTE, AE_CLOSE, AE_DONE, OFFER, CHECK = 0, 1, 2, 3, 4, 5, 6, 7
JOIN, LEAVE = 8, 9  # a rep joins its team, or leaves it (``PolicyRep.join``, ``leave``)
# event codes (see sla_sim.events.EVENTS)
C_NURTURE, C_MQL, C_ROUTED, C_ASSIGNED, C_ATTEMPT = 1, 2, 3, 4, 5
C_CONTACT, C_SQL, C_DISQ, C_RECYCLED, C_OPP_OPEN = 6, 7, 8, 9, 10
C_WON, C_LOST, C_EXPIRED = 11, 12, 13
C_REASSIGNED, C_ESCALATED = 14, 15
# lead states (see sla_sim.model.funnel)
WON, LOST, DISQUALIFIED, NURTURE_EXPIRED = 1, 2, 3, 4
# most rows, event pushes, pushes on one rep's task heaps and on one team queue one step adds
ROOM_ROWS, ROOM_EVENTS, ROOM_TASKS, ROOM_QUEUE = 24, 8, 4, 4
# :func:`_steps`' status when an array must grow before the next step
GROW = 1
# scalar state slots (``st``)
S_EID, S_SEQ, S_NROWS, S_NHEAP, S_NRR, S_REC = 0, 1, 2, 3, 4, 5
# the step of the creation and sequence counters that break ties between equal times (1:
# first come, first served, as SimPy; a test sets -1 to check that a changed order is caught)
S_STEP = 9
# work orders (``TM[:, T_ORDER]``)
DUE_FIRST, NEW_FIRST, DEADLINE_FIRST = 0, 1, 2


# ---------------------------------------------------------------------------------- borrowed
@intrinsic
def _borrow(typingctx, a):
    """``a`` as a view that holds no reference to its memory (a null ``meminfo``): numba's
    reference counts on it and on its views (``TD[r]``), at every array a helper binds, cost a
    null check instead of an atomic ``lock inc``/``lock dec``. Its memory must outlive it: an
    argument of the compiled function (its caller holds it), or an array a local variable
    owns (see :func:`run_loop`). Never return or store it."""
    if not isinstance(a, types.Array):
        return None

    def codegen(context, builder, signature, args):
        ary = cgutils.create_struct_proxy(a)(context, builder, value=args[0])
        ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
        return ary._getvalue()

    return a(a), codegen


@njit(inline="always")
def _borrow_pq(PQ):  # fmt: skip
    """The policy arrays' tuple, each borrowed (:func:`_borrow`)."""
    return (_borrow(PQ[0]), _borrow(PQ[1]), _borrow(PQ[2]), _borrow(PQ[3]), _borrow(PQ[4]),
            _borrow(PQ[5]), _borrow(PQ[6]), _borrow(PQ[7]), _borrow(PQ[8]), _borrow(PQ[9]),
            _borrow(PQ[10]), _borrow(PQ[11]), _borrow(PQ[12]), _borrow(PQ[13]))  # fmt: skip


# ---------------------------------------------------------------------------------- rows
@njit(inline="always")
def _row(R: np.ndarray, RV: np.ndarray, st: np.ndarray, lead: int, ep: int, t: float,
         code: int, team: int, rep: int, att: int, value: float) -> None:  # fmt: skip
    n = st[S_NROWS]
    R[n, 0] = lead
    R[n, 1] = ep
    R[n, 2] = code
    R[n, 3] = team
    R[n, 4] = rep
    R[n, 5] = att
    RV[n, 0] = t
    RV[n, 1] = value
    st[S_NROWS] = n + 1


# ---------------------------------------------------------------------------------- heaps
# A heap is a float key array K and an int array I whose column 0 breaks ties (the creation or
# sequence number); the other columns travel with the entry. The event heap is (HT, HI), each
# rep's task heap (TD[r], TI[r]), the heap of re-route times (FR, FI: no payload, ties moot).
@njit(inline="always")
def _lt(K: np.ndarray, I: np.ndarray, i: int, j: int) -> bool:  # noqa: E741
    return K[i] < K[j] or (K[i] == K[j] and I[i, 0] < I[j, 0])


@njit(inline="always")
def _swap(K: np.ndarray, I: np.ndarray, i: int, j: int) -> None:  # noqa: E741
    K[i], K[j] = K[j], K[i]
    for c in range(I.shape[1]):
        I[i, c], I[j, c] = I[j, c], I[i, c]


@njit(inline="always")
def _sift_up(K: np.ndarray, I: np.ndarray, i: int) -> None:  # noqa: E741
    """Restore the heap after an entry was written at the end, position ``i``."""
    while i > 0:
        p = (i - 1) >> 1
        if _lt(K, I, i, p):
            _swap(K, I, i, p)
            i = p
        else:
            break


@njit(inline="always")
def _remove_top(K: np.ndarray, I: np.ndarray, n: int) -> None:  # noqa: E741
    """Remove the top entry of a heap of ``n + 1`` entries (read it first at index 0)."""
    if n == 0:
        return
    K[0] = K[n]
    for c in range(I.shape[1]):
        I[0, c] = I[n, c]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        m = left
        if left + 1 < n and _lt(K, I, left + 1, left):
            m = left + 1
        if _lt(K, I, m, i):
            _swap(K, I, m, i)
            i = m
        else:
            break


@njit(inline="always")
def _push(HT: np.ndarray, HI: np.ndarray, st: np.ndarray, t: float, kind: int, a: int,
          b: int) -> None:  # fmt: skip
    """Schedule an event at absolute time ``t`` (creation number from the shared counter)."""
    i = st[S_NHEAP]
    st[S_NHEAP] = i + 1
    eid = st[S_EID]
    st[S_EID] += st[S_STEP]
    # :func:`_sift_up` with the new entry held aside: each parent it passes moves down once
    # (no swaps), and the entry is written where it stops: the same heap as a sift by swaps
    while i > 0:
        p = (i - 1) >> 1
        if t < HT[p] or (t == HT[p] and eid < HI[p, 0]):
            HT[i] = HT[p]
            HI[i, 0], HI[i, 1], HI[i, 2], HI[i, 3] = HI[p, 0], HI[p, 1], HI[p, 2], HI[p, 3]
            i = p
        else:
            break
    HT[i] = t
    HI[i, 0], HI[i, 1], HI[i, 2], HI[i, 3] = eid, kind, a, b


@njit(inline="always")
def _pop(HT: np.ndarray, HI: np.ndarray, st: np.ndarray) -> None:
    """Remove the top event (read it first at index 0): :func:`_remove_top` with the last
    entry held aside while the lesser children move up into the hole (the same heap)."""
    n = st[S_NHEAP] - 1
    st[S_NHEAP] = n
    if n == 0:
        return
    t, eid = HT[n], HI[n, 0]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        m = left
        if left + 1 < n and (HT[left + 1] < HT[left] or (HT[left + 1] == HT[left]
                                                         and HI[left + 1, 0] < HI[left, 0])):
            m = left + 1
        if HT[m] < t or (HT[m] == t and HI[m, 0] < eid):
            HT[i] = HT[m]
            HI[i, 0], HI[i, 1], HI[i, 2], HI[i, 3] = HI[m, 0], HI[m, 1], HI[m, 2], HI[m, 3]
            i = m
        else:
            break
    HT[i] = t
    c1, c2, c3 = HI[n, 1], HI[n, 2], HI[n, 3]
    HI[i, 0], HI[i, 1], HI[i, 2], HI[i, 3] = eid, c1, c2, c3


@njit(inline="always")
def _fpush(FR: np.ndarray, FI: np.ndarray, st: np.ndarray, x: float) -> None:
    i = st[S_NRR]
    st[S_NRR] = i + 1
    FR[i] = x
    _sift_up(FR, FI, i)


@njit(inline="always")
def _fpop(FR: np.ndarray, FI: np.ndarray, st: np.ndarray) -> None:
    st[S_NRR] -= 1
    _remove_top(FR, FI, st[S_NRR])


@njit(inline="always")
def _seq(st: np.ndarray) -> int:
    """The next sequence number (``next(model.seq)``: one counter for every heap)."""
    v = st[S_SEQ]
    st[S_SEQ] += st[S_STEP]
    return v


@njit(inline="always")
def _pseq(st: np.ndarray) -> int:
    """:func:`_seq` for an item of a policy team (its sign: 1, as SimPy; a test sets -1 to
    check that a changed order among policy items alone is caught)."""
    return _seq(st) * st[S_PSIGN]


@njit(inline="always")
def _tpush_seq(TD: np.ndarray, TI: np.ndarray, NT: np.ndarray, st: np.ndarray, r: int,
               due: float, seq: int, lead: int, k: int) -> None:  # fmt: skip
    """Queue (due, seq, lead, attempt) on rep ``r``'s task heap (``NT[r, 0]`` entries; the
    rep's tasks on both heaps, ``NT[r, 0] + NT[r, 1]``, bound the heaps' width)."""
    i = NT[r, 0]
    NT[r, 0] = i + 1
    if i + 1 + NT[r, 1] > st[S_MAXNT]:
        st[S_MAXNT] = i + 1 + NT[r, 1]
    TD[r, i] = due
    TI[r, i, 0] = seq
    TI[r, i, 1] = lead
    TI[r, i, 2] = k
    _sift_up(TD[r], TI[r], i)


@njit(inline="always")
def _tpush(TD: np.ndarray, TI: np.ndarray, NT: np.ndarray, st: np.ndarray, r: int, due: float,
           lead: int, k: int) -> None:  # fmt: skip
    """Queue (due, next seq, lead, attempt) on rep ``r``'s task heap (:func:`_tpush_seq`
    written out: the plain hot path binds no nested helper's arguments)."""
    i = NT[r, 0]
    NT[r, 0] = i + 1
    if i + 1 + NT[r, 1] > st[S_MAXNT]:
        st[S_MAXNT] = i + 1 + NT[r, 1]
    TD[r, i] = due
    TI[r, i, 0] = st[S_SEQ]
    st[S_SEQ] += st[S_STEP]
    TI[r, i, 1] = lead
    TI[r, i, 2] = k
    _sift_up(TD[r], TI[r], i)


@njit(inline="always")
def _tpop(TD: np.ndarray, TI: np.ndarray, NT: np.ndarray, r: int) -> None:
    NT[r, 0] -= 1
    _remove_top(TD[r], TI[r], NT[r, 0])


# Item heaps of policy teams: keys K (n, 2) float (the team's order), I (n, 4) int (sequence
# number, lead, attempt, priority class). A team's queue is (QK[team], QI[team]) with
# TM[team, T_NQ] entries; a rep's ready heap (YK[r], YI[r]) with NT[r, 1] entries. Python
# compares the items as tuples (class, key 1, key 2, seq, ...): the first unequal element
# decides, so the class (an int, 0 without priority classes) is compared first, on its own,
# then the float keys (``inf`` equals ``inf``: the next key decides), then the sequence number.
@njit(inline="always")
def _before(ac: int, a1: float, a2: float, aseq: int, bc: int, b1: float, b2: float, bseq: int
            ) -> bool:  # fmt: skip
    if ac != bc:
        return ac < bc
    if a1 != b1:
        return a1 < b1
    if a2 != b2:
        return a2 < b2
    return aseq < bseq


@njit(inline="always")
def _ilt(K: np.ndarray, I: np.ndarray, i: int, j: int) -> bool:  # noqa: E741
    return _before(I[i, 3], K[i, 0], K[i, 1], I[i, 0], I[j, 3], K[j, 0], K[j, 1], I[j, 0])


@njit(inline="always")
def _iswap(K: np.ndarray, I: np.ndarray, i: int, j: int) -> None:  # noqa: E741
    for c in range(2):
        K[i, c], K[j, c] = K[j, c], K[i, c]
    for c in range(4):
        I[i, c], I[j, c] = I[j, c], I[i, c]


@njit(inline="always")
def _iput(K: np.ndarray, I: np.ndarray, i: int, cls: int, k1: float, k2: float,  # noqa: E741
          seq: int, lead: int, k: int) -> None:  # fmt: skip
    """Write an item at position ``i`` (the end) of an item heap and restore the heap."""
    K[i, 0] = k1
    K[i, 1] = k2
    I[i, 0] = seq
    I[i, 1] = lead
    I[i, 2] = k
    I[i, 3] = cls
    while i > 0:
        p = (i - 1) >> 1
        if _ilt(K, I, i, p):
            _iswap(K, I, i, p)
            i = p
        else:
            break


@njit(inline="always")
def _itake(K: np.ndarray, I: np.ndarray, n: int) -> None:  # noqa: E741
    """Remove the top item of an item heap of ``n + 1`` items (read it first at index 0)."""
    if n == 0:
        return
    for c in range(2):
        K[0, c] = K[n, c]
    for c in range(4):
        I[0, c] = I[n, c]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        m = left
        if left + 1 < n and _ilt(K, I, left + 1, left):
            m = left + 1
        if _ilt(K, I, m, i):
            _iswap(K, I, m, i)
            i = m
        else:
            break


# ---------------------------------------------------------------------------------- calendars
@njit(inline="always")
def _next_open(CS: np.ndarray, CE: np.ndarray, lo: int, hi: int, t: float) -> float:
    """``BusinessCalendar.next_open`` over the intervals ``CS[lo:hi]``, ``CE[lo:hi]``."""
    i = lo + np.searchsorted(CS[lo:hi], t, side="right") - 1
    if i >= lo and t < CE[i]:
        return t
    return CS[i + 1] if i + 1 < hi else math.inf


@njit(inline="always")
def _close_of(CS: np.ndarray, CE: np.ndarray, lo: int, hi: int, t: float) -> float:
    """``BusinessCalendar.close_of``."""
    i = lo + np.searchsorted(CS[lo:hi], t, side="right") - 1
    if i >= lo and t < CE[i]:
        return CE[i]
    return CE[i + 1] if i + 1 < hi else math.inf


@njit(inline="always")
def _ae_cal(PF: np.ndarray, row: int) -> np.ndarray:
    """A row of the AE calendar (``C_S`` ... ``C_CE``) held in ``PF``."""
    n = int(PF[P_AEN])
    return PF[N_PF + row * n:N_PF + (row + 1) * n]


@njit(inline="always")
def _ae_next_open(PF: np.ndarray, t: float) -> float:
    """``BusinessCalendar.next_open`` of the AE calendar."""
    if PF[P_AEOPEN] != 0.0:
        return t
    S, E = _ae_cal(PF, C_S), _ae_cal(PF, C_E)
    i = np.searchsorted(S, t, side="right") - 1
    if i >= 0 and t < E[i]:
        return t
    return S[i + 1] if i + 1 < S.shape[0] else math.inf


@njit(inline="always")
def _ae_add_business_hours(PF: np.ndarray, t: float, h: float) -> float:
    """``BusinessCalendar.add_business_hours`` of the AE calendar (the same expressions)."""
    if h == 0 or PF[P_AEOPEN] != 0.0:
        return t + h
    S, E, CSUM, CEND = _ae_cal(PF, C_S), _ae_cal(PF, C_E), _ae_cal(PF, C_CS), _ae_cal(PF, C_CE)
    i = np.searchsorted(S, t, side="right") - 1
    cum = 0.0 if i < 0 else CSUM[i] + min(t, E[i]) - S[i]
    target = cum + h
    k = np.searchsorted(CEND, target, side="left")
    if k >= S.shape[0]:
        return math.inf
    x = S[k] + (target - CSUM[k])
    return x if x > t else t


# ---------------------------------------------------------------------------------- layout
# teams (int64 columns of TM): calendar always open and its intervals CS/CE[T_CLO:T_CHI], reps
# RP[T_RLO:T_RHI], least loaded rule, round-robin turn, reps mid-attempt, the linked queue (head,
# tail) of a plain team; a policy team: its flag, pull, work order and queued items (T_NQ);
# the reps with a free slot (T_FREE: active below the cap; kept by :func:`_act_add`)
T_OPEN, T_CLO, T_CHI, T_RLO, T_RHI, T_LL, T_NEXT, T_BUSY, T_QH, T_QT = range(10)
T_POL, T_PULL, T_ORDER, T_NQ, T_FREE = 10, 11, 12, 13, 14
# a team with a staffing plan (``PolicyTeam.staffed``: each rep works its own intervals), whose
# reps have their own calendars (``own_calendars``: the team is open when one of its reps is),
# and which routes to reps on shift first (``skip_unavailable``)
T_STAFF, T_OWN, T_SKIP = 15, 16, 17
# a policy team whose items carry priority classes (``PolicyState.cls``: the class of each lead
# in ``CL``); with ``due_first`` it then keeps a ready heap too (``PolicyRep.single`` is False)
T_CLS = 18
# reassignment (``reassign_after_business_hours``): the flag, ``max_reassignments``, the
# pending checks (``PolicyTeam.pending``: PK/PI[team, T_PH:T_PT]) and the armed timers' times
# (``PolicyTeam.checks``, a heap: CK[team, :T_NCK])
T_RE, T_MAXRE, T_PH, T_PT, T_NCK = 19, 20, 21, 22, 23
# the team a lead is escalated to when no other rep has a free slot (``overflow_team``; -1)
T_OV = 24
# a team whose reps join or leave (hires, attrition), or with a rep never on it (a hire
# after the horizon): pick only reps on the team (R_ON)
T_HIRE = 25
N_TM = 26
# reps (int64 columns of RP; float64 columns of RF): ... and the rep's working intervals
# CS/CE[R_CLO:R_CHI] (its team's calendar, or its own under a staffing plan; R_OPEN: always
# open, the team calendar's flag)
R_TEAM, R_IDX, R_CAP, R_ACT, R_BUSY, R_TOKEN, R_LEAD, R_S, R_K = range(9)
R_CLO, R_CHI, R_OPEN = 9, 10, 11
# on the team now (``PolicyRep.on_team``: joined), the ramp's steps CS/CE[R_MLO:R_MHI]
# (times, shares: ``PolicyRep.ramp_t``/``ramp_s``; none: full speed)
R_ON, R_MLO, R_MHI = 12, 13, 14
# left the team (``PolicyRep.gone``: its leads are handed over once it is free)
R_GONE = 15
N_RP = 16
F_STRETCH, F_FROM, F_UNTIL, F_TIMER, F_START = range(5)
# leads (int64 columns of LI): ... and the episode whose first-touch deadline SF[:, M_DL] holds
L_TEAM, L_EP, L_STATE, L_SLOT, L_QNEXT, L_DLEP = range(6)
# worked-lead slots (float64 columns of SF)
M_MQL, M_FIRST, M_Q, M_WIN, M_UQ, M_UD, M_UWIN, M_CYCLE, M_DEAL, M_DL = range(10)
# parameters (PF)
P_END, P_EXPIRY, P_DQ, P_SHAPE, P_FLOOR, P_SPAN, P_RATE, P_HL, P_AECAP = range(9)
# AE business hours per opportunity, AE calendar always open, its number of intervals
P_AEWORK, P_AEOPEN, P_AEN = 9, 10, 11
# the SLA terms ``deadline_first`` orders by: first touch from MQL (1) or assignment (0), its
# business hours, attempts owed and the clock hours they are owed within
P_FTMQL, P_FTH, P_ATTREQ, P_ATTH = 12, 13, 14, 15
# PF[N_PF:] holds the AE calendar, P_AEN values per row: interval starts, ends, business hours
# before each start and at each end (one array: a call with more than 30 arguments is passed
# as *args by CPython, which numba cannot inline)
N_PF = 16
C_S, C_E, C_CS, C_CE = range(4)
# AEs (int64 columns of AO): open opportunities, working an opportunity's selling hours
A_OPEN, A_BUSY = range(2)
# more scalar state slots
S_NEXT_ROUTE, S_AQH, S_AQT, S_MAXNT = 6, 7, 8, 10  # S_MAXNT: the most tasks a rep held yet
# the longest team queue yet, a policy team exists (ready heaps grow), policy items' seq sign
S_MAXNQ, S_HASPOL, S_PSIGN = 11, 12, 13
S_QW = 14  # the width of the team queues QK, QI (read without touching the tuple PQ)
# the rows and event pushes a step may need: ROOM_ROWS and ROOM_EVENTS, plus 2 rows and one
# push per rep of the largest team (a pull team's offer lets each of its reps start an attempt)
S_ROOMR, S_ROOME = 15, 16
# reassignment: the team whose armed check fired and whose due checks are being run, one per
# step (-1: none; ``PolicyTeam._on_check``), the longest pending list and checks heap yet, and
# their arrays' widths
S_CHK, S_MAXNP, S_MAXNCK, S_PW, S_CW = 17, 18, 19, 20, 21
# a hired rep that joined and takes queued leads into its free slots, one per step (-1: none;
# ``PolicyRep.join``)
S_JOIN = 22
# a rep that left and hands its held items over, one per step, in seq order: the rep (-1:
# none; ``PolicyRep.hand_over``) and the seq of the last item handed over
S_LEAVE, S_LSEQ = 23, 24
N_STATE = 25
# S_LSEQ before any item's seq
SEQ_MIN = -(1 << 62)
# the policy arrays (one tuple argument ``PQ``): team queues QK, QI; reps' ready heaps YK, YI;
# a pull team's armed offer time TF[:, 0]; team calendars' business hours before each interval
# start (CC) and at each end (CCE), as CS/CE; a scratch list of reps to dispatch (ORD); the
# priority class of each lead (CL, int64; one unused entry without priority classes);
# reassignment: the seq of each slot's live first-attempt item (FS, -1: none), the
# reassignments and their episode per slot (RE), each team's pending checks (PK: time; PI:
# rep, lead, slot, episode, seq) and armed timers' times (CK, a heap)
PQ_NAMES = ("QK", "QI", "YK", "YI", "TF", "CC", "CCE", "ORD", "CL", "FS", "RE", "PK", "PI",
            "CK")  # fmt: skip
Q_QK, Q_QI, Q_YK, Q_YI, Q_TF, Q_CC, Q_CCE, Q_ORD, Q_CL = range(9)
Q_FS, Q_RE, Q_PK, Q_PI, Q_CK = range(9, 14)
# TF columns: a pull team's armed offer time, the reassignment hours, the armed check's time
# (``check_at``: inf none, -inf while checking)
F_OFFER, F_REH, F_CHECK = 0, 1, 2


class Arrays:
    """Names of the arrays :func:`run_loop` takes, in order (documentation for the caller)."""

    NAMES = ("RT", "RL", "TM", "CS", "CE", "RP", "RF", "LI", "SF", "UC", "WK", "PF", "PW",
             "CAD", "AO", "RD", "RU", "RW", "RO", "BT", "TD", "TI", "NT", "HT", "HI", "FR", "FI",
             "R", "RV", "st", "PQ")  # fmt: skip


@njit(inline="always")
def _open_at(always: bool, CS: np.ndarray, CE: np.ndarray, lo: int, hi: int, t: float
             ) -> float:  # fmt: skip
    """The first working time at or after ``t`` of intervals ``lo:hi`` (``t`` when open
    always)."""
    if always:
        return t
    return _next_open(CS, CE, lo, hi, t)


@njit(inline="always")
def _closing(always: bool, CS: np.ndarray, CE: np.ndarray, lo: int, hi: int, t: float
             ) -> float:  # fmt: skip
    """The end of the working interval of intervals ``lo:hi`` holding ``t`` (inf when open
    always)."""
    if always:
        return math.inf
    return _close_of(CS, CE, lo, hi, t)


@njit(inline="always")
def _team_open_at(TM: np.ndarray, CS: np.ndarray, CE: np.ndarray, team: int, t: float) -> float:
    return _open_at(TM[team, T_OPEN], CS, CE, TM[team, T_CLO], TM[team, T_CHI], t)


@njit(inline="always")
def _team_close_of(TM: np.ndarray, CS: np.ndarray, CE: np.ndarray, team: int, t: float) -> float:
    return _closing(TM[team, T_OPEN], CS, CE, TM[team, T_CLO], TM[team, T_CHI], t)


@njit(inline="always")
def _rep_open_at(RP: np.ndarray, CS: np.ndarray, CE: np.ndarray, r: int, t: float) -> float:
    """``PolicyRep.next_open``: the rep's calendar (its team's, or its own intervals)."""
    return _open_at(RP[r, R_OPEN], CS, CE, RP[r, R_CLO], RP[r, R_CHI], t)


@njit(inline="always")
def _rep_close_of(RP: np.ndarray, CS: np.ndarray, CE: np.ndarray, r: int, t: float) -> float:
    """``PolicyRep.close_of``."""
    return _closing(RP[r, R_OPEN], CS, CE, RP[r, R_CLO], RP[r, R_CHI], t)


@njit(inline="always")
def _rep_on(RP: np.ndarray, CS: np.ndarray, CE: np.ndarray, r: int, t: float) -> bool:
    """``PolicyRep.is_on`` (``RepCalendar.is_open``): the rep works at ``t``."""
    if RP[r, R_OPEN]:
        return True
    lo, hi = RP[r, R_CLO], RP[r, R_CHI]
    i = lo + np.searchsorted(CS[lo:hi], t, side="right") - 1
    return i >= lo and t < CE[i]


@njit(inline="always")
def _team_next_open(TM: np.ndarray, RP: np.ndarray, CS: np.ndarray, CE: np.ndarray, team: int,
                    t: float) -> float:  # fmt: skip
    """``PolicyTeam.next_open``: the team calendar's, or with reps on their own calendars
    (``_next_rep_open``) the earliest of its reps' (``inf``: none)."""
    if not TM[team, T_OWN]:
        return _team_open_at(TM, CS, CE, team, t)
    opens = math.inf
    for r in range(TM[team, T_RLO], TM[team, T_RHI]):
        x = _rep_open_at(RP, CS, CE, r, t)
        if x < opens:
            opens = x
    return opens


@njit(inline="always")
def _team_add_business_hours(TM: np.ndarray, CS: np.ndarray, CE: np.ndarray, CC: np.ndarray,
                             CCE: np.ndarray, team: int, t: float, h: float) -> float:  # fmt: skip
    """``BusinessCalendar.add_business_hours`` of a team calendar (the same expressions)."""
    if h == 0 or TM[team, T_OPEN]:
        return t + h
    lo, hi = TM[team, T_CLO], TM[team, T_CHI]
    i = lo + np.searchsorted(CS[lo:hi], t, side="right") - 1
    cum = 0.0 if i < lo else CC[i] + min(t, CE[i]) - CS[i]
    target = cum + h
    k = lo + np.searchsorted(CCE[lo:hi], target, side="left")
    if k >= hi:
        return math.inf
    x = CS[k] + (target - CC[k])
    return x if x > t else t


@njit(inline="always")
def _curve(PF: np.ndarray, PW: np.ndarray, age: float, k: int) -> float:
    """``sdr.contact_curve``: the same expression, term for term."""
    if PF[P_SHAPE] == 0.0:
        return PW[k] * (PF[P_FLOOR] + PF[P_SPAN] * math.exp(-PF[P_RATE] * age))
    return PW[k] * (PF[P_FLOOR] + PF[P_SPAN] / (1.0 + age / PF[P_HL]))


@njit(cache=True)
def _grow2(a: np.ndarray, n: int) -> np.ndarray:
    out = np.empty((2 * a.shape[0] + 16, a.shape[1]), dtype=a.dtype)
    out[:n] = a[:n]
    return out


@njit(cache=True)
def _grow1(a: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(2 * a.shape[0] + 16, dtype=a.dtype)
    out[:n] = a[:n]
    return out


@njit(cache=True)
def _widen(a: np.ndarray, room: int) -> np.ndarray:
    """A 3-d array (owner, entry, column) with room for twice as many entries per owner."""
    w = a.shape[1]
    out = np.empty((a.shape[0], 2 * w + room, a.shape[2]), dtype=a.dtype)
    out[:, :w] = a
    return out


@njit(inline="always")
def _cramped(R, HT, TD, st) -> bool:  # fmt: skip
    """Whether the next step might not fit in the row, event, task or queue arrays (scalars
    only: the arrays are passed on, and reference-counted, only when one must grow)."""
    return (R.shape[0] - st[S_NROWS] < st[S_ROOMR] or HT.shape[0] - st[S_NHEAP] < st[S_ROOME]
            or TD.shape[1] - st[S_MAXNT] < ROOM_TASKS or st[S_QW] - st[S_MAXNQ] < ROOM_QUEUE
            or st[S_PW] - st[S_MAXNP] < ROOM_QUEUE
            or st[S_CW] - st[S_MAXNCK] < ROOM_QUEUE)  # fmt: skip


@njit(inline="always")
def _room(R, RV, HT, HI, TD, TI, PQ, st):  # fmt: skip
    """The row, event, task and queue arrays, grown (doubled) where the next step might not
    fit (call it when :func:`_cramped`). Task heaps start narrow and widen with the rep
    holding the most tasks, so their memory follows the leads a rep holds, not its cap (an
    'unlimited' cap is a million); a policy team's queue widens with the longest queue."""
    while R.shape[0] - st[S_NROWS] < st[S_ROOMR]:
        R = _grow2(R, st[S_NROWS])
        RV = _grow2(RV, st[S_NROWS])
    while HT.shape[0] - st[S_NHEAP] < st[S_ROOME]:
        HT = _grow1(HT, st[S_NHEAP])
        HI = _grow2(HI, st[S_NHEAP])
    QK, QI, YK, YI, TF, CC, CCE, ORD, CL, FS, RE, PK, PI, CK = PQ
    w = TD.shape[1]
    if w - st[S_MAXNT] < ROOM_TASKS:
        TD2 = np.empty((TD.shape[0], 2 * w + ROOM_TASKS))
        TD2[:, :w] = TD
        TD = TD2
        TI = _widen(TI, ROOM_TASKS)
        if st[S_HASPOL]:  # the ready heaps as wide as the task heaps (both hold a rep's tasks)
            YK = _widen(YK, ROOM_TASKS)
            YI = _widen(YI, ROOM_TASKS)
    if st[S_QW] - st[S_MAXNQ] < ROOM_QUEUE:
        QK = _widen(QK, ROOM_QUEUE)
        QI = _widen(QI, ROOM_QUEUE)
        st[S_QW] = QK.shape[1]
    if st[S_PW] - st[S_MAXNP] < ROOM_QUEUE:
        PK2 = np.empty((PK.shape[0], 2 * PK.shape[1] + ROOM_QUEUE))
        PK2[:, :PK.shape[1]] = PK
        PK = PK2
        PI = _widen(PI, ROOM_QUEUE)
        st[S_PW] = PK.shape[1]
    if st[S_CW] - st[S_MAXNCK] < ROOM_QUEUE:
        CK2 = np.empty((CK.shape[0], 2 * CK.shape[1] + ROOM_QUEUE))
        CK2[:, :CK.shape[1]] = CK
        CK = CK2
        st[S_CW] = CK.shape[1]
    return R, RV, HT, HI, TD, TI, (QK, QI, YK, YI, TF, CC, CCE, ORD, CL, FS, RE, PK, PI, CK)


# ---------------------------------------------------------------------------------- behaviour
@njit(inline="always")
def _act_add(TM: np.ndarray, RP: np.ndarray, r: int, d: int) -> None:
    """Rep ``r``'s active leads ``+= d``, and its team's count of reps with a free slot."""
    cap = RP[r, R_CAP]
    was = RP[r, R_ACT] < cap
    RP[r, R_ACT] += d
    TM[RP[r, R_TEAM], T_FREE] += (RP[r, R_ACT] < cap) - was


@njit(inline="always")
def _pick_rep(TM: np.ndarray, RP: np.ndarray, team: int) -> int:
    """``Team.pick_rep`` (and ``PolicyTeam.pick_rep``): a rep with a free slot by the team's
    rule, or -1 (at once when no rep has one: a full team is not scanned rep by rep, which
    cost a scan of every rep per routed lead while the team was full)."""
    lo, hi = TM[team, T_RLO], TM[team, T_RHI]
    n = hi - lo
    if n == 0 or TM[team, T_FREE] == 0:
        return -1
    if TM[team, T_LL]:
        best = lo
        for r in range(lo + 1, hi):
            if RP[r, R_ACT] < RP[best, R_ACT]:
                best = r
        return best if RP[best, R_ACT] < RP[best, R_CAP] else -1
    nx = TM[team, T_NEXT]
    for i in range(n):
        r = lo + (nx + i) % n
        if RP[r, R_ACT] < RP[r, R_CAP]:
            TM[team, T_NEXT] = (nx + i + 1) % n
            return r
    return -1


@njit(inline="always")
def _ppick_rep(TM: np.ndarray, RP: np.ndarray, CS: np.ndarray, CE: np.ndarray, team: int,
               now: float) -> int:  # fmt: skip
    """``PolicyTeam.pick_rep``: :func:`_pick_rep`, or for a staffed team with
    ``routing.skip_unavailable`` (``_pick_available``) the reps on shift now first (by the
    team's rule), the others only when none on shift has a free slot."""
    skip = TM[team, T_SKIP] != 0
    if not skip and not TM[team, T_HIRE]:
        return _pick_rep(TM, RP, team)
    return _pick_in_team(TM, RP, CS, CE, team, now, -1, True)  # no rep excluded


@njit(inline="always")
def _keys(order: int, due: float, lead: int, k: int, TM, CS, CE, LI, SF, PF, CC, CCE
          ) -> tuple[float, float]:  # fmt: skip
    """``PolicyTeam.item``'s order keys of attempt ``k`` of ``lead``, due at ``due`` (with
    ``PolicyTeam.deadline``: a first attempt's deadline is fixed once per episode)."""
    if order == DUE_FIRST:
        return due, 0.0
    if order == NEW_FIRST:
        return (0.0 if k == 0 else 1.0), due
    s = LI[lead, L_SLOT]
    if k == 0:
        ep = LI[lead, L_EP]
        if LI[lead, L_DLEP] != ep:  # the clause starts at MQL, or at the first assignment
            start = SF[s, M_MQL] if PF[P_FTMQL] != 0.0 else due
            SF[s, M_DL] = _team_add_business_hours(TM, CS, CE, CC, CCE, LI[lead, L_TEAM], start,
                                                   PF[P_FTH])  # fmt: skip
            LI[lead, L_DLEP] = ep
        return SF[s, M_DL], due
    if k < PF[P_ATTREQ]:
        return SF[s, M_MQL] + PF[P_ATTH], due
    return math.inf, due


@njit(inline="always")
def _cls(team: int, lead: int, TM, PQ) -> int:
    """``PolicyTeam.item``'s first element: the lead's priority class (0 without classes)."""
    return PQ[Q_CL][lead] if TM[team, T_CLS] else 0


@njit(inline="always")
def _single(TM, team: int) -> bool:
    """``PolicyRep.single``: ``due_first`` without priority classes, where the due order is the
    team's order and the task heap alone serves (no ready heap)."""
    return TM[team, T_ORDER] == DUE_FIRST and not TM[team, T_CLS]


@njit(inline="always")
def _qpush(team: int, due: float, lead: int, TM, CS, CE, LI, SF, PF, st, PQ) -> None:
    """``TeamQueue.append`` / the pull pool's push: the lead's first attempt, due at ``due``,
    into the policy team's queue."""
    QK, QI, CC, CCE = PQ[Q_QK], PQ[Q_QI], PQ[Q_CC], PQ[Q_CCE]
    seq = _pseq(st)
    k1, k2 = _keys(TM[team, T_ORDER], due, lead, 0, TM, CS, CE, LI, SF, PF, CC, CCE)
    n = TM[team, T_NQ]
    TM[team, T_NQ] = n + 1
    if n + 1 > st[S_MAXNQ]:
        st[S_MAXNQ] = n + 1
    _iput(QK[team], QI[team], n, _cls(team, lead, TM, PQ), k1, k2, seq, lead, 0)


@njit(inline="always")
def _qtake(team: int, TM, PQ) -> int:
    """The first lead of the policy team's queue, taken off it."""
    QK, QI = PQ[Q_QK], PQ[Q_QI]
    lead = QI[team, 0, 1]
    TM[team, T_NQ] -= 1
    _itake(QK[team], QI[team], TM[team, T_NQ])
    return lead


@njit(inline="always")
def _ypush(r: int, cls: int, k1: float, k2: float, seq: int, lead: int, k: int, NT, st, PQ
           ) -> None:  # fmt: skip
    """An attempt due now into rep ``r``'s ready heap."""
    YK, YI = PQ[Q_YK], PQ[Q_YI]
    i = NT[r, 1]
    NT[r, 1] = i + 1
    if NT[r, 0] + i + 1 > st[S_MAXNT]:
        st[S_MAXNT] = NT[r, 0] + i + 1
    _iput(YK[r], YI[r], i, cls, k1, k2, seq, lead, k)


@njit(cache=True)  # a policy team's path: its own function (see the module docstring)
def _pqueue(r: int, team: int, due: float, now: float, seq: int, lead: int, k: int, TM, CS, CE,
            LI, SF, PF, TD, TI, NT, st, PQ) -> None:  # fmt: skip
    """``PolicyRep._queue`` of ``PolicyTeam.item(due, seq, lead, k)``: due now into the ready
    heap, else (or with ``due_first`` and no priority classes: one heap) the task heap by due
    time."""
    # borrowed views, taken once (see _borrow and _steps)
    TM, CS, CE, LI = _borrow(TM), _borrow(CS), _borrow(CE), _borrow(LI)
    SF, PF, TD, TI = _borrow(SF), _borrow(PF), _borrow(TD), _borrow(TI)
    NT, st = _borrow(NT), _borrow(st)
    PQ = _borrow_pq(PQ)
    order = TM[team, T_ORDER]
    k1, k2 = _keys(order, due, lead, k, TM, CS, CE, LI, SF, PF, PQ[Q_CC], PQ[Q_CCE])
    if not _single(TM, team) and due <= now:
        _ypush(r, _cls(team, lead, TM, PQ), k1, k2, seq, lead, k, NT, st, PQ)
    else:
        _tpush_seq(TD, TI, NT, st, r, due, seq, lead, k)


@njit(inline="always")
def _assign(r: int, lead: int, t: float, TM, RP, LI, TD, TI, NT, R, RV, st) -> None:
    """``FunnelModel.assign`` to a plain team's rep (``t``: the assignment time) up to the
    rep's dispatch, which the caller leaves to the end of the step."""
    _act_add(TM, RP, r, 1)
    _row(R, RV, st, lead, LI[lead, L_EP], t, C_ASSIGNED, RP[r, R_TEAM], RP[r, R_IDX], -1, np.nan)
    _tpush(TD, TI, NT, st, r, t, lead, 0)


@njit(inline="always")
def _ck_push(team: int, at: float, TM, st, PQ) -> None:
    """``heappush(PolicyTeam.checks, at)`` (a heap of times: only its least value is read)."""
    CK = PQ[Q_CK]
    i = TM[team, T_NCK]
    TM[team, T_NCK] = i + 1
    if i + 1 > st[S_MAXNCK]:
        st[S_MAXNCK] = i + 1
    CK[team, i] = at
    while i > 0:
        p = (i - 1) >> 1
        if CK[team, i] < CK[team, p]:
            CK[team, i], CK[team, p] = CK[team, p], CK[team, i]
            i = p
        else:
            break


@njit(inline="always")
def _next_check(team: int, now: float, TM, PQ) -> float:
    """``PolicyTeam.next_event``: the least armed timer's time at or after ``now`` (the times
    before ``now`` popped; ``inf``: none)."""
    CK = PQ[Q_CK]
    while TM[team, T_NCK] > 0 and CK[team, 0] < now:
        n = TM[team, T_NCK] - 1
        TM[team, T_NCK] = n
        CK[team, 0] = CK[team, n]
        i = 0
        while True:
            left = 2 * i + 1
            if left >= n:
                break
            m = left
            if left + 1 < n and CK[team, left + 1] < CK[team, left]:
                m = left + 1
            if CK[team, m] < CK[team, i]:
                CK[team, m], CK[team, i] = CK[team, i], CK[team, m]
                i = m
            else:
                break
    return CK[team, 0] if TM[team, T_NCK] > 0 else math.inf


@njit(inline="always")
def _arm(team: int, at: float, now: float, TM, HT, HI, st, PQ) -> None:
    """``PolicyTeam._arm``: the team's reassignment timer at ``at``."""
    PQ[Q_TF][team, F_CHECK] = at
    _ck_push(team, at, TM, st, PQ)
    _push(HT, HI, st, now + (at - now), CHECK, team, 0)


@njit(inline="always")
def _schedule(team: int, r: int, lead: int, s: int, seq: int, t: float, now: float, TM, CS, CE,
              LI, PF, HT, HI, st, PQ) -> None:  # fmt: skip
    """``PolicyTeam.schedule_check``: a lead assigned at ``t`` is checked ``reassign_h``
    business hours later (the team calendar), unless past the horizon."""
    at = _team_add_business_hours(TM, CS, CE, PQ[Q_CC], PQ[Q_CCE], team, t,
                                  PQ[Q_TF][team, F_REH])  # fmt: skip
    if at >= PF[P_END]:
        return
    PK, PI = PQ[Q_PK], PQ[Q_PI]
    i = TM[team, T_PT]
    TM[team, T_PT] = i + 1
    if i + 1 > st[S_MAXNP]:
        st[S_MAXNP] = i + 1
    PK[team, i] = at
    PI[team, i, 0] = r
    PI[team, i, 1] = lead
    PI[team, i, 2] = s
    PI[team, i, 3] = LI[lead, L_EP]
    PI[team, i, 4] = seq
    if PQ[Q_TF][team, F_CHECK] == math.inf:
        _arm(team, at, now, TM, HT, HI, st, PQ)


@njit(inline="always")
def _passign(r: int, lead: int, t: float, now: float, TM, CS, CE, RP, LI, SF, PF, TD, TI, NT,
             HT, HI, R, RV, st, PQ) -> None:  # fmt: skip
    """:func:`_assign` to a policy team's rep (``PolicyRep.push``; ``now``: the loop's clock):
    under reassignment the item's seq is the slot's live first attempt, and its check is
    scheduled."""
    _act_add(TM, RP, r, 1)
    team = RP[r, R_TEAM]
    _row(R, RV, st, lead, LI[lead, L_EP], t, C_ASSIGNED, team, RP[r, R_IDX], -1, np.nan)
    seq = _pseq(st)
    if TM[team, T_RE]:
        s = LI[lead, L_SLOT]
        PQ[Q_FS][s] = seq
        _schedule(team, r, lead, s, seq, t, now, TM, CS, CE, LI, PF, HT, HI, st, PQ)
    _pqueue(r, team, t, now, seq, lead, 0, TM, CS, CE, LI, SF, PF, TD, TI, NT, st, PQ)


@njit(inline="always")
def _route(lead: int, team: int, t: float, TM, RP, LI, TD, TI, NT, R, RV, st) -> int:
    """``FunnelModel.route`` to a plain team: log the handoff; a rep with a free slot, or the
    team queue. Returns the rep to dispatch (-1: none)."""
    _row(R, RV, st, lead, LI[lead, L_EP], t, C_ROUTED, team, -1, -1, np.nan)
    r = _pick_rep(TM, RP, team)
    if r < 0:
        LI[lead, L_QNEXT] = -1
        if TM[team, T_QH] < 0:
            TM[team, T_QH] = lead
        else:
            LI[TM[team, T_QT], L_QNEXT] = lead
        TM[team, T_QT] = lead
        return -1
    _assign(r, lead, t, TM, RP, LI, TD, TI, NT, R, RV, st)
    return -1 if RP[r, R_BUSY] else r


@njit(cache=True)  # a policy team's path: its own function (see the module docstring)
def _proute(lead: int, team: int, t: float, now: float, TM, CS, CE, RP, LI, SF, PF, TD, TI, NT,
            HT, HI, R, RV, st, PQ) -> int:  # fmt: skip
    """``PolicyTeam.route_in``: log the handoff; under pull the team's shared queue (returns
    -2: the team's reps look at it), else a rep with a free slot (returned, to dispatch; -1
    if busy) or the team queue (-1)."""
    # borrowed views, taken once (see _borrow and _steps)
    TM, CS, CE, RP = _borrow(TM), _borrow(CS), _borrow(CE), _borrow(RP)
    LI, SF, PF, TD = _borrow(LI), _borrow(SF), _borrow(PF), _borrow(TD)
    TI, NT, R, RV = _borrow(TI), _borrow(NT), _borrow(R), _borrow(RV)
    HT, HI, st = _borrow(HT), _borrow(HI), _borrow(st)
    PQ = _borrow_pq(PQ)
    _row(R, RV, st, lead, LI[lead, L_EP], t, C_ROUTED, team, -1, -1, np.nan)
    if TM[team, T_PULL]:
        _qpush(team, t, lead, TM, CS, CE, LI, SF, PF, st, PQ)
        return -2
    r = _ppick_rep(TM, RP, CS, CE, team, now)
    if r < 0:  # TeamQueue.append: in the team's order, due now
        _qpush(team, now, lead, TM, CS, CE, LI, SF, PF, st, PQ)
        return -1
    _passign(r, lead, t, now, TM, CS, CE, RP, LI, SF, PF, TD, TI, NT, HT, HI, R, RV, st, PQ)
    return -1 if RP[r, R_BUSY] else r


@njit(inline="always")
def _release(r: int, now: float, TM, RP, LI, TD, TI, NT, R, RV, st) -> None:
    """``FunnelModel._release`` in a plain team: free the slot; the team queue's first lead
    takes it (the rep is mid-attempt: no dispatch)."""
    _act_add(TM, RP, r, -1)
    team = RP[r, R_TEAM]
    lead = TM[team, T_QH]
    if lead >= 0:
        TM[team, T_QH] = LI[lead, L_QNEXT]
        _assign(r, lead, now, TM, RP, LI, TD, TI, NT, R, RV, st)


@njit(cache=True)  # a policy team's path: its own function (see the module docstring)
def _prelease(r: int, now: float, TM, CS, CE, RP, LI, SF, PF, TD, TI, NT, HT, HI, R, RV, st,
              PQ) -> None:  # fmt: skip
    """:func:`_release` in a policy team (its queue in the team's order; a pull team's shared
    queue is not this queue: nothing to take)."""
    # borrowed views, taken once (see _borrow and _steps)
    TM, CS, CE, RP = _borrow(TM), _borrow(CS), _borrow(CE), _borrow(RP)
    LI, SF, PF, TD = _borrow(LI), _borrow(SF), _borrow(PF), _borrow(TD)
    TI, NT, R, RV = _borrow(TI), _borrow(NT), _borrow(R), _borrow(RV)
    HT, HI, st = _borrow(HT), _borrow(HI), _borrow(st)
    PQ = _borrow_pq(PQ)
    _act_add(TM, RP, r, -1)
    team = RP[r, R_TEAM]
    if not TM[team, T_PULL] and TM[team, T_NQ] > 0:
        lead = _qtake(team, TM, PQ)
        _passign(r, lead, now, now, TM, CS, CE, RP, LI, SF, PF, TD, TI, NT, HT, HI, R, RV, st,
                 PQ)  # fmt: skip


@njit(inline="always")
def _wake(r: int, start: float, now: float, RP, RF, HT, HI, st) -> None:
    """A wake-up of rep ``r`` at ``start``, if earlier than the one already set."""
    if start < RF[r, F_TIMER]:
        RP[r, R_TOKEN] += 1
        RF[r, F_TIMER] = start
        _push(HT, HI, st, now + (start - now), WAKE, r, RP[r, R_TOKEN])


@njit(inline="always")
def _start(r: int, lead: int, k: int, now: float, TM, CS, CE, RP, RF, LI, SF, WK, HT, HI, R,
           RV, st) -> None:  # fmt: skip
    """Rep ``r`` starts attempt ``k`` of ``lead`` now (the end of ``PolicyRep.dispatch``;
    :func:`_dispatch` has it written out): a ramping rep's attempts take 1 / share as long."""
    team = RP[r, R_TEAM]
    s = LI[lead, L_SLOT]
    work = WK[s, k] * RF[r, F_STRETCH]
    mlo, mhi = RP[r, R_MLO], RP[r, R_MHI]
    if mhi > mlo:  # the share from the last ramp step at or before now
        work /= CE[mlo + np.searchsorted(CS[mlo:mhi], now, side="right") - 1]
    RP[r, R_BUSY] = 1
    TM[team, T_BUSY] += 1
    RP[r, R_LEAD] = lead
    RP[r, R_S] = s
    RP[r, R_K] = k
    RF[r, F_START] = now
    if k == 0:
        SF[s, M_FIRST] = now
    _row(R, RV, st, lead, LI[lead, L_EP], now, C_ATTEMPT, team, RP[r, R_IDX], k, work)
    _push(HT, HI, st, now + work, DONE, r, 0)


@njit(inline="always")
def _dispatch(r: int, now: float, TM, CS, CE, RP, RF, LI, SF, WK, TD, TI, NT, HT, HI, R, RV,
              st) -> None:  # fmt: skip
    """``Rep.dispatch`` (a plain team's rep; :func:`_wake` and :func:`_start` written out:
    each inlined helper binds its array arguments anew, which costs on this hot path)."""
    if NT[r, 0] == 0:
        return
    team = RP[r, R_TEAM]
    due = TD[r, 0]
    start = due if due > now else now
    if not (RF[r, F_FROM] <= start < RF[r, F_UNTIL]):
        start = _team_open_at(TM, CS, CE, team, start)
        RF[r, F_FROM] = start
        RF[r, F_UNTIL] = _team_close_of(TM, CS, CE, team, start)
    if start > now:
        if start < RF[r, F_TIMER]:
            RP[r, R_TOKEN] += 1
            RF[r, F_TIMER] = start
            _push(HT, HI, st, now + (start - now), WAKE, r, RP[r, R_TOKEN])
        return
    lead = TI[r, 0, 1]
    k = TI[r, 0, 2]
    _tpop(TD, TI, NT, r)
    s = LI[lead, L_SLOT]
    work = WK[s, k] * RF[r, F_STRETCH]
    RP[r, R_BUSY] = 1
    TM[team, T_BUSY] += 1
    RP[r, R_LEAD] = lead
    RP[r, R_S] = s
    RP[r, R_K] = k
    RF[r, F_START] = now
    if k == 0:
        SF[s, M_FIRST] = now
    _row(R, RV, st, lead, LI[lead, L_EP], now, C_ATTEMPT, team, RP[r, R_IDX], k, work)
    _push(HT, HI, st, now + work, DONE, r, 0)


@njit(cache=True)  # a policy team's path: its own function (see the module docstring)
def _pdispatch(r: int, now: float, TM, CS, CE, RP, RF, LI, SF, PF, WK, TD, TI, NT, HT, HI, R,
               RV, st, PQ) -> None:  # fmt: skip
    """``PolicyRep.dispatch`` (a policy team's rep)."""
    # borrowed views, taken once (see _borrow and _steps)
    TM, CS, CE, RP = _borrow(TM), _borrow(CS), _borrow(CE), _borrow(RP)
    RF, LI, SF, PF = _borrow(RF), _borrow(LI), _borrow(SF), _borrow(PF)
    WK, TD, TI, NT = _borrow(WK), _borrow(TD), _borrow(TI), _borrow(NT)
    HT, HI, R, RV = _borrow(HT), _borrow(HI), _borrow(R), _borrow(RV)
    st = _borrow(st)
    PQ = _borrow_pq(PQ)
    QK, QI, YK, YI = PQ[Q_QK], PQ[Q_QI], PQ[Q_YK], PQ[Q_YI]
    team = RP[r, R_TEAM]
    order = TM[team, T_ORDER]
    single = _single(TM, team)
    reassign = TM[team, T_RE] != 0
    FS = PQ[Q_FS]
    if single:  # one heap: its top is the next attempt once due
        while reassign and NT[r, 0] > 0 and TI[r, 0, 2] == 0 and FS[
                LI[TI[r, 0, 1], L_SLOT]] != TI[r, 0, 0]:  # fmt: skip
            _tpop(TD, TI, NT, r)  # a void first attempt (the lead was reassigned)
        top = NT[r, 0] > 0 and TD[r, 0] <= now
    else:  # attempts now due move to the ready heap, in the team's order
        while NT[r, 0] > 0 and TD[r, 0] <= now:
            due = TD[r, 0]
            seq, lead, k = TI[r, 0, 0], TI[r, 0, 1], TI[r, 0, 2]
            _tpop(TD, TI, NT, r)
            k1, k2 = _keys(order, due, lead, k, TM, CS, CE, LI, SF, PF, PQ[Q_CC], PQ[Q_CCE])
            _ypush(r, _cls(team, lead, TM, PQ), k1, k2, seq, lead, k, NT, st, PQ)
        while reassign and NT[r, 1] > 0 and YI[r, 0, 2] == 0 and FS[
                LI[YI[r, 0, 1], L_SLOT]] != YI[r, 0, 0]:  # fmt: skip
            NT[r, 1] -= 1  # a void first attempt (the lead was reassigned)
            _itake(YK[r], YI[r], NT[r, 1])
        top = NT[r, 1] > 0
    pool = TM[team, T_PULL] != 0 and RP[r, R_ACT] < RP[r, R_CAP] and TM[team, T_NQ] > 0
    if not top and not pool:
        if NT[r, 0] > 0:
            start = _rep_open_at(RP, CS, CE, r, TD[r, 0])
            if start > now:
                _wake(r, start, now, RP, RF, HT, HI, st)
        return
    if not (RF[r, F_FROM] <= now < RF[r, F_UNTIL]):
        start = _rep_open_at(RP, CS, CE, r, now)
        RF[r, F_FROM] = start
        RF[r, F_UNTIL] = _rep_close_of(RP, CS, CE, r, start)
        if start > now:
            _wake(r, start, now, RP, RF, HT, HI, st)
            return
    take = pool
    if pool and top:  # the shared queue's first lead comes before the rep's own?
        if single:  # no classes: both items' class is 0
            take = _before(0, QK[team, 0, 0], QK[team, 0, 1], QI[team, 0, 0], 0, TD[r, 0], 0.0,
                           TI[r, 0, 0])  # fmt: skip
        else:
            take = _before(QI[team, 0, 3], QK[team, 0, 0], QK[team, 0, 1], QI[team, 0, 0],
                           YI[r, 0, 3], YK[r, 0, 0], YK[r, 0, 1], YI[r, 0, 0])  # fmt: skip
    if take:  # pull: the rep takes the lead and starts its first attempt at once
        lead = _qtake(team, TM, PQ)
        k = 0
        _act_add(TM, RP, r, 1)
        _row(R, RV, st, lead, LI[lead, L_EP], now, C_ASSIGNED, team, RP[r, R_IDX], -1, np.nan)
    elif single:
        lead = TI[r, 0, 1]
        k = TI[r, 0, 2]
        _tpop(TD, TI, NT, r)
    else:
        lead = YI[r, 0, 1]
        k = YI[r, 0, 2]
        NT[r, 1] -= 1
        _itake(YK[r], YI[r], NT[r, 1])
    if reassign and k == 0:
        FS[LI[lead, L_SLOT]] = -1  # touched: no longer reassignable
    _start(r, lead, k, now, TM, CS, CE, RP, RF, LI, SF, WK, HT, HI, R, RV, st)


@njit(cache=True)  # a policy team's path: its own function (see the module docstring)
def _offer(team: int, now: float, TM, CS, CE, RP, HT, HI, st, PQ) -> int:
    """``PolicyTeam.offer`` up to its loop: the reps to let look at the pull team's queue, in
    the rule's order, written to ``ORD``; their number (0: every rep is mid-attempt, or the
    team is closed: one offer at its opening)."""
    # borrowed views, taken once (see _borrow and _steps)
    TM, CS, CE, RP = _borrow(TM), _borrow(CS), _borrow(CE), _borrow(RP)
    HT, HI, st = _borrow(HT), _borrow(HI), _borrow(st)
    PQ = _borrow_pq(PQ)
    TF, ORD = PQ[Q_TF], PQ[Q_ORD]
    lo, hi = TM[team, T_RLO], TM[team, T_RHI]
    n = hi - lo
    if TM[team, T_BUSY] == n:
        return 0
    if not TM[team, T_OPEN] and not TM[team, T_OWN]:  # reps' own calendars: no team check
        opens = _team_open_at(TM, CS, CE, team, now)
        if opens > now:  # nobody works now: one wake-up at the opening
            if opens < TF[team, F_OFFER]:
                TF[team, F_OFFER] = opens
                _push(HT, HI, st, now + (opens - now), OFFER, team, 0)
            return 0
    if TM[team, T_LL]:  # the least loaded first (a stable sort: equals by index)
        order = np.argsort(RP[lo:hi, R_ACT], kind="mergesort")
        for j in range(n):
            ORD[j] = lo + order[j]
    else:  # round robin from the team's turn
        nx = TM[team, T_NEXT]
        for j in range(n):
            ORD[j] = lo + (nx + j) % n
    return n


@njit(cache=True)  # a policy team's path: its own function (see the module docstring)
def _pjoin(r: int, now: float, TM, CS, CE, RP, LI, SF, PF, TD, TI, NT, HT, HI, R, RV, st, PQ
           ) -> int:  # fmt: skip
    """One step of ``PolicyRep.join`` (``st[S_JOIN]`` = r, on the team now): the team queue's
    first lead into a free slot (``FunnelModel.assign``; returns r to dispatch, as
    ``PolicyRep.push`` does, or -1 if busy), or, no lead or slot left, the end of the callback
    (``st[S_JOIN]`` = -1; returns r under pull, whose rep looks at the shared queue, else -1).
    A pull team's shared queue is not ``PolicyTeam.queue`` (see :func:`_prelease`)."""
    # borrowed views, taken once (see _borrow and _steps)
    TM, CS, CE, RP = _borrow(TM), _borrow(CS), _borrow(CE), _borrow(RP)
    LI, SF, PF, TD = _borrow(LI), _borrow(SF), _borrow(PF), _borrow(TD)
    TI, NT, R, RV = _borrow(TI), _borrow(NT), _borrow(R), _borrow(RV)
    HT, HI, st = _borrow(HT), _borrow(HI), _borrow(st)
    PQ = _borrow_pq(PQ)
    team = RP[r, R_TEAM]
    pull = TM[team, T_PULL] != 0
    if not pull and TM[team, T_NQ] > 0 and RP[r, R_ACT] < RP[r, R_CAP]:
        lead = _qtake(team, TM, PQ)
        _passign(r, lead, now, now, TM, CS, CE, RP, LI, SF, PF, TD, TI, NT, HT, HI, R, RV, st,
                 PQ)  # fmt: skip
        return -1 if RP[r, R_BUSY] else r
    st[S_JOIN] = -1
    return r if pull else -1


@njit(inline="always")
def _pick_in_team(TM: np.ndarray, RP: np.ndarray, CS: np.ndarray, CE: np.ndarray, team: int,
                  now: float, ex: int, need_slot: bool) -> int:  # fmt: skip
    """``PolicyTeam.pick_rep(exclude=ex, ignore_cap=not need_slot)``: a rep on the team other
    than ``ex`` (with a free slot when ``need_slot``) by the team's rule (reps on shift first
    under ``routing.skip_unavailable``), or -1. The least loaded of the others with a free
    slot is the least loaded of those (one cap per team)."""
    lo, hi = TM[team, T_RLO], TM[team, T_RHI]
    n = hi - lo
    if n == 0 or (need_slot and TM[team, T_FREE] == 0):
        return -1
    skip = TM[team, T_SKIP] != 0
    if TM[team, T_LL]:
        best, best_on = -1, -1
        for r in range(lo, hi):
            if r == ex or not RP[r, R_ON] or (need_slot and RP[r, R_ACT] >= RP[r, R_CAP]):
                continue
            if best < 0 or RP[r, R_ACT] < RP[best, R_ACT]:
                best = r
            if skip and (best_on < 0 or RP[r, R_ACT] < RP[best_on, R_ACT]) and _rep_on(
                    RP, CS, CE, r, now):  # fmt: skip
                best_on = r
        return best_on if best_on >= 0 else best
    nx = TM[team, T_NEXT]
    fallback = -1
    for i in range(n):
        j = (nx + i) % n
        r = lo + j
        if r == ex or not RP[r, R_ON] or (need_slot and RP[r, R_ACT] >= RP[r, R_CAP]):
            continue
        if not skip or _rep_on(RP, CS, CE, r, now):
            TM[team, T_NEXT] = (j + 1) % n
            return r
        if fallback < 0:
            fallback = j
    if fallback < 0:
        return -1
    TM[team, T_NEXT] = (fallback + 1) % n
    return lo + fallback


@njit(inline="always")
def _pick_any(TM: np.ndarray, RP: np.ndarray, CS: np.ndarray, CE: np.ndarray, team: int,
              now: float, ex: int) -> int:  # fmt: skip
    """``PolicyTeam.pick_rep(exclude=ex, ignore_cap=True)``: a rep on the team other than
    ``ex``, free slot or not, or -1 (nobody else on the team)."""
    return _pick_in_team(TM, RP, CS, CE, team, now, ex, False)


@njit(cache=True)  # a policy team's path: its own function (see the module docstring)
def _route_in(lead: int, team: int, now: float, TM, CS, CE, RP, RF, LI, SF, PF, WK, TD, TI, NT,
              HT, HI, R, RV, st, PQ) -> None:  # fmt: skip
    """``PolicyTeam.route_in`` of a lead taken back or escalated: routed, then the rep given
    it dispatches, or on a pull team its free reps are offered the queue in the rule's order
    (``PolicyTeam.offer``)."""
    x = _proute(lead, team, now, now, TM, CS, CE, RP, LI, SF, PF, TD, TI, NT, HT, HI, R, RV, st,
                PQ)  # fmt: skip
    if x >= 0:
        _pdispatch(x, now, TM, CS, CE, RP, RF, LI, SF, PF, WK, TD, TI, NT, HT, HI, R, RV, st, PQ)
    elif x == -2:
        ORD = PQ[Q_ORD]
        for j in range(_offer(team, now, TM, CS, CE, RP, HT, HI, st, PQ)):
            y = ORD[j]
            if TM[team, T_NQ] == 0:
                break
            if RP[y, R_BUSY] or RP[y, R_ACT] >= RP[y, R_CAP]:
                continue
            before = TM[team, T_NQ]
            _pdispatch(y, now, TM, CS, CE, RP, RF, LI, SF, PF, WK, TD, TI, NT, HT, HI, R, RV, st,
                       PQ)  # fmt: skip
            if TM[team, T_NQ] < before and not TM[team, T_LL]:
                TM[team, T_NEXT] = (RP[y, R_IDX] + 1) % (TM[team, T_RHI] - TM[team, T_RLO])


@njit(cache=True)  # a policy team's path: its own function (see the module docstring)
def _pleave(r: int, now: float, TM, CS, CE, RP, RF, LI, SF, PF, WK, TD, TI, NT, HT, HI, R, RV,
            st, PQ) -> None:  # fmt: skip
    """One step of ``PolicyRep.hand_over`` (``st[S_LEAVE]`` = r, which left and is free): the
    item it holds with the least seq after ``st[S_LSEQ]`` (its task and ready heaps, as the
    sorted list SimPy takes; no item is added to them meanwhile). An untouched lead is taken
    back (``reassigned``, value: the episode's reassignments so far) and routed again in the
    team (dispatched or offered at once); an item mid-cadence goes, with its due time, to a
    rep on the team by the rule, free slot or not, which dispatches if free; with nobody else
    on the team it stays, never worked (its slot still taken). None left: the rep's heaps are
    emptied and the hand-over ends."""
    # borrowed views, taken once (see _borrow and _steps)
    TM, CS, CE, RP = _borrow(TM), _borrow(CS), _borrow(CE), _borrow(RP)
    RF, LI, SF, PF = _borrow(RF), _borrow(LI), _borrow(SF), _borrow(PF)
    WK, TD, TI, NT = _borrow(WK), _borrow(TD), _borrow(TI), _borrow(NT)
    HT, HI, R, RV = _borrow(HT), _borrow(HI), _borrow(R), _borrow(RV)
    st = _borrow(st)
    PQ = _borrow_pq(PQ)
    YK, YI, FS, RE = PQ[Q_YK], PQ[Q_YI], PQ[Q_FS], PQ[Q_RE]
    last = st[S_LSEQ]
    best, where, bseq = -1, 0, 0
    for i in range(NT[r, 0]):
        x = TI[r, i, 0]
        if x > last and (best < 0 or x < bseq):
            best, where, bseq = i, 0, x
    for i in range(NT[r, 1]):
        x = YI[r, i, 0]
        if x > last and (best < 0 or x < bseq):
            best, where, bseq = i, 1, x
    if best < 0:  # every item handed over (or kept, never worked)
        NT[r, 0] = 0
        NT[r, 1] = 0
        st[S_LEAVE] = -1
        return
    st[S_LSEQ] = bseq
    team = RP[r, R_TEAM]
    if where == 0:
        lead, k, due = TI[r, best, 1], TI[r, best, 2], TD[r, best]
    else:
        lead, k = YI[r, best, 1], YI[r, best, 2]
        due = YK[r, best, 0] if TM[team, T_ORDER] == DUE_FIRST else YK[r, best, 1]
    s = LI[lead, L_SLOT]
    if k == 0:
        if TM[team, T_RE]:
            if FS[s] != bseq:
                return  # void: reassigned earlier
            FS[s] = -1
        _act_add(TM, RP, r, -1)
        ep = LI[lead, L_EP]
        # the episode's reassignments in any team (PolicyState.re_n is the model's): a lead
        # escalated here from a team that reassigns keeps its count (RE has one row per
        # slot when any team reassigns, else one)
        n = RE[s, 0] if s < RE.shape[0] and RE[s, 1] == ep else 0
        _row(R, RV, st, lead, ep, now, C_REASSIGNED, team, RP[r, R_IDX], -1, float(n))
        _route_in(lead, team, now, TM, CS, CE, RP, RF, LI, SF, PF, WK, TD, TI, NT, HT, HI, R, RV,
                  st, PQ)  # fmt: skip
        return
    target = _pick_any(TM, RP, CS, CE, team, now, r)
    if target < 0:
        return  # kept, never worked
    _act_add(TM, RP, r, -1)
    _act_add(TM, RP, target, 1)
    _pqueue(target, team, due, now, _pseq(st), lead, k, TM, CS, CE, LI, SF, PF, TD, TI, NT, st,
            PQ)  # fmt: skip
    if not RP[target, R_BUSY]:
        _pdispatch(target, now, TM, CS, CE, RP, RF, LI, SF, PF, WK, TD, TI, NT, HT, HI, R, RV,
                   st, PQ)  # fmt: skip


@njit(inline="always")
def _pick_other(TM: np.ndarray, RP: np.ndarray, CS: np.ndarray, CE: np.ndarray, team: int,
                now: float, ex: int) -> int:  # fmt: skip
    """``PolicyTeam.pick_rep(exclude=ex)``: a rep other than ``ex`` with a free slot, or -1."""
    return _pick_in_team(TM, RP, CS, CE, team, now, ex, True)


@njit(cache=True)  # a policy team's path: its own function (see the module docstring)
def _pcheck(team: int, now: float, TM, CS, CE, RP, RF, LI, SF, PF, WK, TD, TI, NT, HT, HI, R,
            RV, st, PQ) -> None:  # fmt: skip
    """One step of ``PolicyTeam._on_check`` (the team's timer fired; ``st[S_CHK]`` = team): the
    first pending check now due (``_check``: the lead, still untouched and under
    ``max_reassignments``, is taken back and routed again, within the team or to its queue;
    the freed slot takes the next queued lead; a rep given a lead dispatches at once, as
    ``PolicyRep.push`` does), or, none left due, the end of the callback: checks whose lead
    was touched or moved are dropped and the timer is armed for the next."""
    # borrowed views, taken once (see _borrow and _steps)
    TM, CS, CE, RP = _borrow(TM), _borrow(CS), _borrow(CE), _borrow(RP)
    RF, LI, SF, PF = _borrow(RF), _borrow(LI), _borrow(SF), _borrow(PF)
    WK, TD, TI, NT = _borrow(WK), _borrow(TD), _borrow(TI), _borrow(NT)
    HT, HI, R, RV = _borrow(HT), _borrow(HI), _borrow(R), _borrow(RV)
    st = _borrow(st)
    PQ = _borrow_pq(PQ)
    PK, PI, FS, RE = PQ[Q_PK], PQ[Q_PI], PQ[Q_FS], PQ[Q_RE]
    h, tl = TM[team, T_PH], TM[team, T_PT]
    if h < tl and PK[team, h] <= now:  # PolicyTeam._check
        TM[team, T_PH] = h + 1
        r, lead, s, ep, seq = PI[team, h, 0], PI[team, h, 1], PI[team, h, 2], PI[team, h, 3], \
            PI[team, h, 4]  # fmt: skip
        if LI[lead, L_EP] != ep or FS[s] != seq or SF[s, M_FIRST] == SF[s, M_FIRST]:
            return  # touched, moved on, or a later episode
        n = RE[s, 0] if RE[s, 1] == ep else 0
        if n >= TM[team, T_MAXRE]:
            return
        RE[s, 0] = n + 1
        RE[s, 1] = ep
        FS[s] = -1  # the rep's first-attempt item is void from now
        _act_add(TM, RP, r, -1)
        _row(R, RV, st, lead, ep, now, C_REASSIGNED, team, RP[r, R_IDX], -1, float(n + 1))
        target = _pick_other(TM, RP, CS, CE, team, now, r)
        ov = TM[team, T_OV]
        if target >= 0:  # routed again, within the team
            _row(R, RV, st, lead, ep, now, C_ROUTED, team, -1, -1, np.nan)
            _passign(target, lead, now, now, TM, CS, CE, RP, LI, SF, PF, TD, TI, NT, HT, HI, R,
                     RV, st, PQ)  # fmt: skip
            if not RP[target, R_BUSY]:
                _pdispatch(target, now, TM, CS, CE, RP, RF, LI, SF, PF, WK, TD, TI, NT, HT, HI,
                           R, RV, st, PQ)  # fmt: skip
        elif ov >= 0:  # escalated: PolicyTeam.route_in of the overflow team
            _row(R, RV, st, lead, ep, now, C_ESCALATED, ov, -1, -1, np.nan)
            _route_in(lead, ov, now, TM, CS, CE, RP, RF, LI, SF, PF, WK, TD, TI, NT, HT, HI, R,
                      RV, st, PQ)  # fmt: skip
        else:  # back to the team queue, for the next slot freed by any rep
            _row(R, RV, st, lead, ep, now, C_ROUTED, team, -1, -1, np.nan)
            _qpush(team, now, lead, TM, CS, CE, LI, SF, PF, st, PQ)
            return
        if TM[team, T_NQ] > 0 and RP[r, R_ACT] < RP[r, R_CAP]:  # the freed slot
            nxt = _qtake(team, TM, PQ)
            _passign(r, nxt, now, now, TM, CS, CE, RP, LI, SF, PF, TD, TI, NT, HT, HI, R, RV,
                     st, PQ)  # fmt: skip
            if not RP[r, R_BUSY]:
                _pdispatch(r, now, TM, CS, CE, RP, RF, LI, SF, PF, WK, TD, TI, NT, HT, HI, R,
                           RV, st, PQ)  # fmt: skip
        return
    while h < tl and FS[PI[team, h, 2]] != PI[team, h, 4]:
        h += 1  # touched (or moved) since: nothing to check
    n = tl - h
    if h > 0:  # the pending checks left, moved to the front
        for i in range(n):
            PK[team, i] = PK[team, h + i]
            for c in range(5):
                PI[team, i, c] = PI[team, h + i, c]
    TM[team, T_PH] = 0
    TM[team, T_PT] = n
    PQ[Q_TF][team, F_CHECK] = math.inf
    st[S_CHK] = -1
    if n > 0:
        _arm(team, PK[team, 0], now, TM, HT, HI, st, PQ)


@njit(inline="always")
def _route_time(BT: np.ndarray, x: float) -> float:
    """``HandoffSchedule.route_time`` (no batch instants: realtime)."""
    if BT.shape[0] == 0:
        return x
    i = np.searchsorted(BT, x, side="left")
    return BT[i] if i < BT.shape[0] else math.inf


@njit(inline="always")
def _recycle(lead: int, s: int, r: int, now: float, RP, LI, SF, UC, WK, PF, RD, RU, RW, RO, BT,
             FR, FI, HT, HI, R, RV, st) -> None:  # fmt: skip
    """``FunnelModel._recycle``: back to nurture; a new episode if it re-qualifies in time."""
    ep = LI[lead, L_EP]
    _row(R, RV, st, lead, ep, now, C_RECYCLED, RP[r, R_TEAM], RP[r, R_IDX], -1, np.nan)
    _row(R, RV, st, lead, ep, now, C_NURTURE, -1, -1, -1, np.nan)
    j = st[S_REC]
    st[S_REC] = j + 1
    end = PF[P_END]
    t_mql = now + RD[j]
    if t_mql < end:
        A = WK.shape[1]
        ep += 1
        LI[lead, L_EP] = ep
        SF[s, M_MQL] = t_mql
        SF[s, M_FIRST] = np.nan
        _row(R, RV, st, lead, ep, t_mql, C_MQL, LI[lead, L_TEAM], -1, -1, np.nan)
        for a in range(A):
            UC[s, a] = RU[j, a]
            WK[s, a] = RW[j, a]
        SF[s, M_UQ] = RU[j, A]
        SF[s, M_UD] = RU[j, A + 1]
        t_route = _route_time(BT, t_mql + RO[j])
        if t_route < end:
            _fpush(FR, FI, st, t_route)
            _push(HT, HI, st, now + (t_route - now), REROUTE, lead, 0)
    elif now + PF[P_EXPIRY] < end:
        _row(R, RV, st, lead, ep, now + PF[P_EXPIRY], C_EXPIRED, -1, -1, -1, np.nan)
        LI[lead, L_STATE] = NURTURE_EXPIRED


# The AEs an SQL may go to, as a tournament tree AT (int64, 2P entries for P >= AEs a power of
# two; leaf P + a for AE a, each inner node the least of its two children): an AE under its cap
# and not busy has the key (open opportunities) * P + a, any other AE_NONE; the root AT[1] is
# the least key, so ``AEPool.submit``'s choice (the fewest open, the first of equals) is read
# at the root and kept up in log2(P) steps per change of an AE (not a scan of every AE per SQL).
AE_NONE = 1 << 62


@njit(inline="always")
def _ae_key(PF: np.ndarray, AO: np.ndarray, a: int, P: int) -> int:
    if AO[a, A_OPEN] < PF[P_AECAP] and AO[a, A_BUSY] == 0:
        return AO[a, A_OPEN] * P + a
    return AE_NONE


@njit(inline="always")
def _ae_fix(PF: np.ndarray, AO: np.ndarray, AT: np.ndarray, a: int) -> None:
    """AE ``a``'s key anew, up to the root."""
    P = AT.shape[0] >> 1
    i = P + a
    AT[i] = _ae_key(PF, AO, a, P)
    i >>= 1
    while i >= 1:
        x, y = AT[2 * i], AT[2 * i + 1]
        AT[i] = x if x < y else y
        i >>= 1


@njit(cache=True)
def _ae_tree(PF: np.ndarray, AO: np.ndarray) -> np.ndarray:
    """The tree ``AT`` of the AEs' state in ``AO``."""
    n = AO.shape[0]
    w = 1
    while w < n:
        w <<= 1
    AT = np.full(2 * w, AE_NONE, dtype=np.int64)
    for a in range(n):
        AT[w + a] = _ae_key(PF, AO, a, w)
    for i in range(w - 1, 0, -1):
        x, y = AT[2 * i], AT[2 * i + 1]
        AT[i] = x if x < y else y
    return AT


@njit(inline="always")
def _ae_open(ae: int, lead: int, now: float, LI, SF, PF, AO, AT, HT, HI, R, RV, st) -> None:
    """``AEPool._open``."""
    AO[ae, A_OPEN] += 1
    cycle = SF[LI[lead, L_SLOT], M_CYCLE]
    end = PF[P_END]
    work = PF[P_AEWORK]
    if work != 0.0:
        AO[ae, A_BUSY] = 1
    _ae_fix(PF, AO, AT, ae)
    if work == 0.0:  # no selling time: the slot alone
        _row(R, RV, st, lead, LI[lead, L_EP], now, C_OPP_OPEN, -1, ae, -1, np.nan)
        if now + cycle < end:
            _push(HT, HI, st, now + cycle, AE_CLOSE, ae, lead)
        return
    start = _ae_next_open(PF, now)
    if start >= end:
        return
    _row(R, RV, st, lead, LI[lead, L_EP], start, C_OPP_OPEN, -1, ae, -1, work)
    done = _ae_add_business_hours(PF, start, work)
    if done < end:
        _push(HT, HI, st, now + (done - now), AE_DONE, ae, 0)
    close = start + cycle
    if done > close:
        close = done
    if close < end:
        _push(HT, HI, st, now + (close - now), AE_CLOSE, ae, lead)


@njit(inline="always")
def _ae_take_next(ae: int, now: float, LI, SF, PF, AO, AT, HT, HI, R, RV, st) -> None:
    """AE ``ae`` opens the opportunity of the first waiting SQL."""
    nxt = st[S_AQH]
    st[S_AQH] = LI[nxt, L_QNEXT]
    _ae_open(ae, nxt, now, LI, SF, PF, AO, AT, HT, HI, R, RV, st)


@njit(inline="always")
def _ae_submit(lead: int, now: float, LI, SF, PF, AO, AT, HT, HI, R, RV, st) -> None:
    """``AEPool.submit``: the least-loaded free AE (the first of equals), or the AE queue."""
    top = AT[1]
    if top != AE_NONE:
        ae = top % (AT.shape[0] >> 1)
        _ae_open(ae, lead, now, LI, SF, PF, AO, AT, HT, HI, R, RV, st)
    else:
        LI[lead, L_QNEXT] = -1
        if st[S_AQH] < 0:
            st[S_AQH] = lead
        else:
            LI[st[S_AQT], L_QNEXT] = lead
        st[S_AQT] = lead


@njit(inline="always")
def _ae_done(ae: int, now: float, LI, SF, PF, AO, AT, HT, HI, R, RV, st) -> None:
    """``AEPool._done``: the AE's selling hours on an opportunity ended."""
    AO[ae, A_BUSY] = 0
    _ae_fix(PF, AO, AT, ae)
    if st[S_AQH] >= 0 and AO[ae, A_OPEN] < PF[P_AECAP]:
        _ae_take_next(ae, now, LI, SF, PF, AO, AT, HT, HI, R, RV, st)


@njit(inline="always")
def _ae_close(ae: int, lead: int, now: float, LI, SF, PF, AO, AT, HT, HI, R, RV, st) -> None:
    """``AEPool._close`` with ``FunnelModel.close_opportunity``."""
    s = LI[lead, L_SLOT]
    ep = LI[lead, L_EP]
    if SF[s, M_UWIN] < SF[s, M_WIN]:
        _row(R, RV, st, lead, ep, now, C_WON, -1, ae, -1, SF[s, M_DEAL])
        LI[lead, L_STATE] = WON
    else:
        _row(R, RV, st, lead, ep, now, C_LOST, -1, ae, -1, np.nan)
        LI[lead, L_STATE] = LOST
    AO[ae, A_OPEN] -= 1
    _ae_fix(PF, AO, AT, ae)
    if st[S_AQH] >= 0 and AO[ae, A_BUSY] == 0:
        _ae_take_next(ae, now, LI, SF, PF, AO, AT, HT, HI, R, RV, st)


@njit(inline="always")
def _quiet_until(now: float, TM, RP, CS, CE, FR, st, PQ) -> float:
    """``FunnelModel._quiet_until`` (a busy count per team replaces the scan of its reps; a
    pull team's armed offer is at its next opening, which this takes already; a team whose
    reps have their own calendars is never always open, and opens with its first rep)."""
    until = FR[0] if st[S_NRR] > 0 else math.inf
    for team in range(TM.shape[0]):
        if TM[team, T_OPEN] and not TM[team, T_OWN]:
            return now
        opens = _team_next_open(TM, RP, CS, CE, team, now)
        if opens <= now or TM[team, T_BUSY] > 0:
            return now
        if opens < until:
            until = opens
        if TM[team, T_RE] or TM[team, T_HIRE]:  # a pending reassignment check or join
            x = _next_check(team, now, TM, PQ)
            if x < until:
                until = x
    return until


@njit(cache=True)
def run_loop(RT, RL, TM, CS, CE, RP, RF, LI, SF, UC, WK, PF, PW, CAD, AO, RD, RU, RW, RO, BT,
             TD, TI, NT, HT, HI, FR, FI, R, RV, st, PQ, now, first):  # fmt: skip
    """Run the event loop to the horizon; returns (status, now, R, RV, HT, HI, TD, TI, PQ)
    (the row, event, task and queue arrays may have grown). Status 0: done; -1: the recycle
    draws ``RD``, ``RU``, ``RW``, ``RO`` ran out before the next event: call again with more
    (every other argument as returned, ``first`` False) and the loop resumes where it stopped.

    ``first``: call ``feed_routes`` at time 0 first (a fresh run). Int rows ``R``: (lead,
    episode, event, team, rep, attempt); float rows ``RV``: (time_h, value); ``st`` the
    scalar state (see ``S_*``); ``PQ`` the policy arrays (see ``PQ_NAMES``). :func:`new_state`
    makes the loop's own arrays.

    The steps run in :func:`_steps`, on borrowed views of every array (:func:`_borrow`: no
    atomic reference counts); it returns whenever an array must grow, which happens here,
    between its calls, so that no array it works on is rebound in its loop (an array rebound
    in a loop is reference-counted at every pass)."""
    feeding = first  # routing the leads due by now (``feed_routes``), one per step
    AT = _ae_tree(PF, AO)
    while True:
        if _cramped(R, HT, TD, st):
            R, RV, HT, HI, TD, TI, PQ = _room(R, RV, HT, HI, TD, TI, PQ, st)
        status, now, feeding = _steps(RT, RL, TM, CS, CE, RP, RF, LI, SF, UC, WK, PF, PW, CAD,
                                      AO, AT, RD, RU, RW, RO, BT, TD, TI, NT, HT, HI, FR, FI, R,
                                      RV, st, PQ, now, feeding)  # fmt: skip
        if status != GROW:
            return status, now, R, RV, HT, HI, TD, TI, PQ


@njit(cache=True)
def _steps(RT, RL, TM, CS, CE, RP, RF, LI, SF, UC, WK, PF, PW, CAD, AO, AT, RD, RU, RW, RO, BT,
           TD, TI, NT, HT, HI, FR, FI, R, RV, st, PQ, now, feeding):  # fmt: skip
    """The steps of :func:`run_loop` until the horizon (returns status 0), the recycle draws
    run out (-1) or an array must grow first (``GROW``); returns (status, now, feeding). It
    works on borrowed views of its arguments, taken once (no array is rebound in the loop)."""
    RT, RL, TM, CS, CE, RP, RF = (_borrow(RT), _borrow(RL), _borrow(TM), _borrow(CS),
                                  _borrow(CE), _borrow(RP), _borrow(RF))  # fmt: skip
    LI, SF, UC, WK, PF, PW, CAD = (_borrow(LI), _borrow(SF), _borrow(UC), _borrow(WK),
                                   _borrow(PF), _borrow(PW), _borrow(CAD))  # fmt: skip
    AO, RD, RU, RW, RO, BT = (_borrow(AO), _borrow(RD), _borrow(RU), _borrow(RW), _borrow(RO),
                              _borrow(BT))  # fmt: skip
    AT = _borrow(AT)
    TD, TI, NT, HT, HI, FR, FI = (_borrow(TD), _borrow(TI), _borrow(NT), _borrow(HT),
                                  _borrow(HI), _borrow(FR), _borrow(FI))  # fmt: skip
    R, RV, st, PQ = _borrow(R), _borrow(RV), _borrow(st), _borrow_pq(PQ)
    a = 0
    b = 0
    end = PF[P_END]
    n_rec = RD.shape[0]
    n_route = RT.shape[0]
    A = WK.shape[1]
    ORD = PQ[Q_ORD]
    while True:
        if _cramped(R, HT, TD, st):
            return GROW, now, feeding
        lead = -1  # a lead this step routes, at time t
        t = now
        n_ord = 0  # reps this step leaves to dispatch: ORD[:n_ord]
        offer = -1  # a pull team whose free reps look at its queue after this step
        if feeding:
            i = st[S_NEXT_ROUTE]
            if i < n_route and RT[i] <= now:
                lead = RL[i]
                t = RT[i]
                st[S_NEXT_ROUTE] = i + 1
            else:
                feeding = False
                if i < n_route:
                    t = RT[i]
                    quiet = _quiet_until(now, TM, RP, CS, CE, FR, st, PQ)
                    if t < quiet:  # route everything due before ``quiet`` in one go
                        t = RT[i + np.searchsorted(RT[i:], quiet, side="left") - 1]
                    _push(HT, HI, st, now + (t - now), FEED, 0, 0)
                continue
        elif st[S_LEAVE] >= 0:  # a rep that left hands its items over, one per step
            _pleave(st[S_LEAVE], now, TM, CS, CE, RP, RF, LI, SF, PF, WK, TD, TI, NT, HT, HI, R,
                    RV, st, PQ)  # fmt: skip
            continue
        elif st[S_JOIN] >= 0:  # a joined rep takes queued leads, one per step
            r = _pjoin(st[S_JOIN], now, TM, CS, CE, RP, LI, SF, PF, TD, TI, NT, HT, HI, R, RV,
                       st, PQ)  # fmt: skip
            if r >= 0:
                ORD[0] = r
                n_ord = 1
        elif st[S_CHK] >= 0:  # a team's reassignment checks, one per step
            _pcheck(st[S_CHK], now, TM, CS, CE, RP, RF, LI, SF, PF, WK, TD, TI, NT, HT, HI, R,
                    RV, st, PQ)  # fmt: skip
            continue
        else:
            if st[S_NHEAP] == 0 or HT[0] >= end:
                break
            if st[S_REC] >= n_rec:
                return -1, now, feeding
            now = HT[0]
            kind, a, b = HI[0, 1], HI[0, 2], HI[0, 3]
            _pop(HT, HI, st)
            if kind == FEED:
                feeding = True
                continue
            if kind == DONE:  # Rep._on_done with FunnelModel.on_reached / on_exhausted
                r = a
                lead_d, s, k = RP[r, R_LEAD], RP[r, R_S], RP[r, R_K]
                team = RP[r, R_TEAM]
                recycle = False
                release = True
                if UC[s, k] >= _curve(PF, PW, RF[r, F_START] - SF[s, M_MQL], k):
                    k += 1
                    if k < A:  # not reached: the next attempt of the cadence
                        release = False
                        due = SF[s, M_FIRST] + CAD[k]
                        if TM[team, T_POL]:
                            _pqueue(r, team, due, now, _pseq(st), lead_d, k, TM, CS, CE, LI, SF,
                                    PF, TD, TI, NT, st, PQ)  # fmt: skip
                        else:
                            _tpush(TD, TI, NT, st, r, due, lead_d, k)
                    else:
                        recycle = True
                else:
                    ep = LI[lead_d, L_EP]
                    ri = RP[r, R_IDX]
                    _row(R, RV, st, lead_d, ep, now, C_CONTACT, team, ri, k, np.nan)
                    if SF[s, M_UQ] < SF[s, M_Q]:
                        _row(R, RV, st, lead_d, ep, now, C_SQL, team, ri, -1, np.nan)
                        _ae_submit(lead_d, now, LI, SF, PF, AO, AT, HT, HI, R, RV, st)
                    elif SF[s, M_UD] < PF[P_DQ]:
                        _row(R, RV, st, lead_d, ep, now, C_DISQ, team, ri, -1, np.nan)
                        LI[lead_d, L_STATE] = DISQUALIFIED
                    else:
                        recycle = True
                if recycle:
                    _recycle(lead_d, s, r, now, RP, LI, SF, UC, WK, PF, RD, RU, RW, RO, BT, FR,
                             FI, HT, HI, R, RV, st)  # fmt: skip
                if release and TM[team, T_POL]:
                    _prelease(r, now, TM, CS, CE, RP, LI, SF, PF, TD, TI, NT, HT, HI, R, RV, st,
                              PQ)  # fmt: skip
                elif release:
                    _release(r, now, TM, RP, LI, TD, TI, NT, R, RV, st)
                RP[r, R_BUSY] = 0
                TM[team, T_BUSY] -= 1
                if RP[r, R_GONE]:  # PolicyRep._on_done of a rep that left: the hand-over
                    st[S_LEAVE] = r
                    st[S_LSEQ] = SEQ_MIN
                    continue
                ORD[0] = r
                n_ord = 1
            elif kind == WAKE:
                if b == RP[a, R_TOKEN]:
                    RF[a, F_TIMER] = math.inf
                    if not RP[a, R_BUSY]:
                        ORD[0] = a
                        n_ord = 1
            elif kind == REROUTE:
                _fpop(FR, FI, st)
                lead = a
                t = now
            elif kind == OFFER:  # PolicyTeam._offer_timer
                PQ[Q_TF][a, F_OFFER] = math.inf
                offer = a
            elif kind == JOIN:  # PolicyRep.join: on the team; its steps follow (_pjoin)
                RP[a, R_ON] = 1
                st[S_JOIN] = a
                continue
            elif kind == LEAVE:  # PolicyRep.leave: off the team; hand-over steps (_pleave)
                RP[a, R_ON] = 0
                RP[a, R_GONE] = 1
                if not RP[a, R_BUSY]:
                    st[S_LEAVE] = a
                    st[S_LSEQ] = SEQ_MIN
                continue
            elif kind == CHECK:  # PolicyTeam._on_check: its steps follow (_pcheck)
                PQ[Q_TF][a, F_CHECK] = -math.inf
                st[S_CHK] = a
            elif kind == AE_DONE:
                _ae_done(a, now, LI, SF, PF, AO, AT, HT, HI, R, RV, st)
            else:
                _ae_close(a, b, now, LI, SF, PF, AO, AT, HT, HI, R, RV, st)
        if lead >= 0:
            team = LI[lead, L_TEAM]
            if TM[team, T_POL]:
                r = _proute(lead, team, t, now, TM, CS, CE, RP, LI, SF, PF, TD, TI, NT, HT, HI, R,
                            RV, st, PQ)  # fmt: skip
                if r == -2:
                    offer = team
            else:
                r = _route(lead, team, t, TM, RP, LI, TD, TI, NT, R, RV, st)
            if r >= 0:
                ORD[0] = r
                n_ord = 1
        if offer >= 0:
            n_ord = _offer(offer, now, TM, CS, CE, RP, HT, HI, st, PQ)
        for j in range(n_ord):
            r = ORD[j]
            if offer >= 0:  # PolicyTeam.offer: free reps under their cap, while leads wait
                if TM[offer, T_NQ] == 0:
                    break
                if RP[r, R_BUSY] or RP[r, R_ACT] >= RP[r, R_CAP]:
                    continue
            team = RP[r, R_TEAM]
            if not TM[team, T_POL]:
                _dispatch(r, now, TM, CS, CE, RP, RF, LI, SF, WK, TD, TI, NT, HT, HI, R, RV, st)
                continue
            before = TM[team, T_NQ]
            _pdispatch(r, now, TM, CS, CE, RP, RF, LI, SF, PF, WK, TD, TI, NT, HT, HI, R, RV, st,
                       PQ)  # fmt: skip
            if offer >= 0 and TM[offer, T_NQ] < before and not TM[offer, T_LL]:
                TM[offer, T_NEXT] = (RP[r, R_IDX] + 1) % (TM[offer, T_RHI] - TM[offer, T_RLO])
    return 0, now, feeding


def new_state(n_reps: int, cap: int, n_leads: int, rows_hint: int, n_teams: int = 1,
              policy: bool = False, team_reps: int = 0) -> tuple[np.ndarray, ...]:  # fmt: skip
    """The loop's own arrays: rep task heaps (TD, TI, NT), the event heap (HT, HI), the heap of
    re-route times (FR, FI), the rows (R, RV), the policy teams' queues (QK, QI) and the reps'
    ready heaps (YK, YI; one entry wide without a ``policy`` team) and the scalar state (st);
    ``team_reps``: the reps of the largest team (the room one step may need)."""
    cap = max(min(cap, 8), 1)  # the task heaps' first width (they widen as needed)
    st = np.zeros(N_STATE, dtype=np.int64)
    st[S_AQH] = st[S_AQT] = -1
    st[S_STEP] = 1
    st[S_PSIGN] = 1
    st[S_HASPOL] = policy
    st[S_QW] = 8  # the team queues' first width
    st[S_CHK] = -1
    st[S_JOIN] = -1
    st[S_LEAVE] = -1
    st[S_PW] = st[S_CW] = 8  # the pending checks' and armed timers' first widths
    st[S_ROOMR], st[S_ROOME] = ROOM_ROWS + 2 * team_reps, ROOM_EVENTS + team_reps
    wy = cap if policy else 1
    return (np.empty((n_reps, cap)), np.empty((n_reps, cap, 3), dtype=np.int64),
            np.zeros((n_reps, 2), dtype=np.int64), np.empty(64 + 4 * n_reps),
            np.empty((64 + 4 * n_reps, 4), dtype=np.int64), np.empty(n_leads + 1),
            np.zeros((n_leads + 1, 1), dtype=np.int64),
            np.empty((rows_hint, 6), dtype=np.int64), np.empty((rows_hint, 2)),
            np.empty((n_teams, 8, 2)), np.empty((n_teams, 8, 4), dtype=np.int64),
            np.empty((n_reps, wy, 2)), np.empty((n_reps, wy, 4), dtype=np.int64), st)
