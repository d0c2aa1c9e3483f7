"""Which engine runs a replication's event loop, and the fast engine's driver.

Two engines write the same event log, row for row:

* ``simpy`` — the reference model: callbacks on a SimPy environment
  (:mod:`sla_sim.model.calls`, :mod:`sla_sim.model.sdr`, :mod:`sla_sim.model.policies`).
* ``fast`` — the same loop compiled with numba over preallocated arrays
  (:mod:`sla_sim.model.kernel`). It covers the capacity model with every work order
  (``due_first``, ``new_first``, ``deadline_first``) and both assignments (``immediate``,
  ``pull``), with or without priority classes (``routing.priority_by`` channel or segment,
  ``routing.priority_order``: the class compared before the work order's keys, as SimPy's
  tuples); any routing and rep rule, calendars, realtime or batch handoff, cadence, slot
  cap, recycling and the AE pool (slots and selling time on the AE calendar); every staffing
  plan: reps' own calendars (``rep_calendars``, so the weekend rota), days off
  (``pto_days_per_year``), ``routing.skip_unavailable``, hires (``teams[].hires``) with their
  ramp (``ramp_by_tenure_month``: a ramping rep's attempts take 1 / share as long) and
  attrition (``attrition_per_month``) with backfills (``backfill_delay_days``), each rep on
  its own working intervals (:class:`~sla_sim.model.staffing.Staffing`, the same draws and
  ``rep_on``/``rep_off`` rows), joining and leaving at the times SimPy's set-up schedules,
  a leaver's leads handed over as ``PolicyRep.hand_over`` does; and reassignment
  (``reassign_after_business_hours``, ``max_reassignments``) within the team, to its
  ``overflow_team`` or back to its queue. Every policy is covered; a scenario field the fast
  engine was not written for (not declared in :mod:`sla_sim.model.coverage`, which sorts
  every field of the schema, or declared SimPy-only there) still runs on SimPy, named in the
  run facts, e.g. ``simpy (fallback: the fast engine does not cover teams[0].<a new field>)``.

A scenario selects ``engine: simpy`` to run the reference; ``engine: fast`` (the default) runs
the fast engine when it covers the scenario and falls back to SimPy otherwise, saying why
(:func:`engine_for`, reported in the run facts).

Speed (2026-12-07 18:58 UTC, load 1.6, ``python benchmarks/engine.py --pairs 24 --scale 1,4,16
--scale-reps 5``): one default replication (``run_one``) takes 0.030 CPU-s on the fast engine
against 0.146 on SimPy (0.20x); with a weekend rota, priority classes, reassignment or hires
and attrition 0.17-0.20x (``--rota``, ``--priority``, ``--reassign``, ``--hires``);
``sla-sim recommend --preset default --confidence 0.9`` 18 s wall against 104 s before work
orders and pull ran here. docs/performance.md keeps every figure with the command that
reproduces it.
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING

import numpy as np

from sla_sim.model.coverage import unknown_fields
from sla_sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sla_sim.model.funnel import FunnelModel

#: the engines a scenario may name
ENGINES = ("fast", "simpy")
#: the largest slot cap the fast engine's rep table holds (more leads never exist)
_INT64_MAX = int(np.iinfo(np.int64).max)

__all__ = ["ENGINES", "describe", "engine_for", "run_fast", "unknown_fields"]


def engine_for(sc: Scenario) -> tuple[str, str]:
    """(engine that runs ``sc``, why SimPy runs: ``""`` when the fast engine runs)."""
    if sc.engine == "simpy":
        return "simpy", "selected by engine: simpy"
    new = unknown_fields(sc)
    if new:
        return "simpy", f"fallback: the fast engine does not cover {', '.join(new)}"
    return "fast", ""


def describe(sc: Scenario) -> str:
    """The engine of ``sc`` in words, for the run facts."""
    engine, why = engine_for(sc)
    return engine if not why else f"{engine} ({why})"


def _recycle_draws(model: FunnelModel, chunks: int, have: list[np.ndarray] | None
                   ) -> list[np.ndarray]:  # fmt: skip
    """``have`` (delay, u, work, ops) extended by ``chunks`` more chunks of the recycle stream,
    drawn in the order the SimPy path draws them."""
    rd = model.recycle
    parts: list[list[np.ndarray]] = [[], [], [], []]
    for _ in range(chunks):
        for p, x in zip(parts, rd.chunk(), strict=True):
            p.append(x)
    if have is not None:
        for p, x in zip(parts, have, strict=True):
            p.insert(0, x)
    return [np.ascontiguousarray(np.concatenate(p)) for p in parts]


def run_fast(model: FunnelModel) -> None:
    """Run the event loop of a set-up ``model`` on the compiled kernel; write its rows to the
    log and the lead states to ``model.states`` (an array; ``model.state`` lists them)."""
    from sla_sim.model import kernel as K  # noqa: N812 - the kernel's constants, K.T_OPEN ...
    from sla_sim.model.recycle import CHUNK

    sc, a, A = model.sc, model.arrays, model.n_attempts
    n_teams = len(sc.teams)
    from sla_sim.model.policies import C_REP_OFF, C_REP_ON, has_policy, priority_classes
    from sla_sim.model.staffing import Staffing, has_staffing_plan, log_rows

    TM = np.zeros((n_teams, K.N_TM), dtype=np.int64)
    TF = np.full((n_teams, 3), math.inf)  # armed offer time, reassignment hours, armed check
    cs, ce, cc, cce, lo = [], [], [], [], 0
    rep_team, rep_idx, rep_cap, stretch, opened = [], [], [], [], []
    rep_lo, rep_hi, rep_on, ramp_lo, ramp_hi = [], [], [], [], []
    ramps: list[tuple[int, tuple[list[float], list[float]]]] = []  # (rep, (times, shares))
    # (time, kind, rep) of each join and leave, in the order policies._staff creates them
    joins: list[tuple[float, int, int]] = []
    team_joins: list[list[float]] = [[] for _ in sc.teams]  # their times, per team
    team_names = sc.team_names()
    for ti, ts in enumerate(sc.teams):
        cal = model.calendars[ti]
        TM[ti, K.T_OPEN] = cal.always_open
        n_iv = 0 if cal.always_open else len(cal.starts)
        TM[ti, K.T_CLO], TM[ti, K.T_CHI] = lo, lo + n_iv
        if n_iv:
            cs.append(np.asarray(cal.starts, dtype=np.float64))
            ce.append(np.asarray(cal.ends, dtype=np.float64))
            cc.append(np.asarray(cal.cum_starts, dtype=np.float64))
            cce.append(np.asarray(cal.cum_starts + (cal.ends - cal.starts), dtype=np.float64))
        lo += n_iv
        # a staffing plan (days off, reps' own calendars, hires, ramp, attrition and
        # backfills): each rep works its own intervals, expanded and logged as
        # policies._staff does; a rep joins and leaves at its times (JOIN and LEAVE events,
        # created at set-up)
        staffing = None
        n_plans = ts.reps
        if has_staffing_plan(ts):
            staffing = Staffing(sc, ti, model.origin, model.end_h, model.streams)
            n_plans = len(staffing.plans)
            TM[ti, K.T_STAFF] = 1
            TM[ti, K.T_OWN] = bool(ts.rep_calendars)
            TM[ti, K.T_SKIP] = sc.routing.skip_unavailable
        for r in range(n_plans):
            rep_on.append(True)
            ramp_lo.append(0)
            ramp_hi.append(0)
            if staffing is None:  # the team calendar
                rep_lo.append(TM[ti, K.T_CLO])
                rep_hi.append(TM[ti, K.T_CHI])
                continue
            plan = staffing.plans[r]
            rep_on[-1] = plan.join_h <= 0.0 < plan.leave_h
            if not rep_on[-1]:  # a hire joining after the horizon: never picked, as in SimPy
                TM[ti, K.T_HIRE] = 1
            if 0.0 < plan.join_h < model.end_h:
                joins.append((plan.join_h, K.JOIN, len(rep_on) - 1))
                team_joins[ti].append(plan.join_h)
                TM[ti, K.T_HIRE] = 1
            if plan.leave_h < model.end_h:
                joins.append((plan.leave_h, K.LEAVE, len(rep_on) - 1))
                team_joins[ti].append(plan.leave_h)
                TM[ti, K.T_HIRE] = 1
            starts, ends = staffing.intervals(r)
            ramp = staffing.ramp_steps(r)
            if ramp[1] != [1.0]:  # PolicyRep.set_availability: a ramping rep
                ramps.append((len(rep_on) - 1, ramp))
            model.rows.extend(log_rows(ti, r, starts, ends, ramp, C_REP_ON, C_REP_OFF))
            rep_lo.append(lo)
            rep_hi.append(lo + len(starts))
            if starts:
                cs.append(np.asarray(starts, dtype=np.float64))
                ce.append(np.asarray(ends, dtype=np.float64))
                cc.append(np.zeros(len(starts)))  # business hours: team calendars only
                cce.append(np.zeros(len(starts)))
            lo += len(starts)
        TM[ti, K.T_RLO], TM[ti, K.T_RHI] = len(rep_team), len(rep_team) + n_plans
        TM[ti, K.T_LL] = sc.routing.rep_rule == "least_loaded"
        TM[ti, K.T_QH] = TM[ti, K.T_QT] = -1
        TM[ti, K.T_POL] = has_policy(sc, ti)  # work order, pull, staffing, classes, reassign
        TM[ti, K.T_PULL] = ts.assignment == "pull"
        TM[ti, K.T_ORDER] = ("due_first", "new_first", "deadline_first").index(ts.work_order)
        TM[ti, K.T_FREE] = n_plans  # nobody active yet (max_active_leads >= 1)
        TM[ti, K.T_OV] = -1 if ts.overflow_team is None else team_names.index(ts.overflow_team)
        if ts.reassign_after_business_hours is not None:
            TM[ti, K.T_RE] = 1
            TM[ti, K.T_MAXRE] = ts.max_reassignments
            TF[ti, K.F_REH] = ts.reassign_after_business_hours
        for r in range(n_plans):
            rep_team.append(ti)
            rep_idx.append(r)
            # a cap no rep reaches is the same cap: clipped to fit the int64 table (the
            # schema bounds it below only)
            rep_cap.append(min(ts.max_active_leads, _INT64_MAX))
            stretch.append(model.stretch[ti])
            opened.append(cal.always_open and staffing is None)
    # the ramps' steps ride after every interval in CS (times) and CE (shares)
    for r, (times, shares) in ramps:
        ramp_lo[r], ramp_hi[r] = lo, lo + len(times)
        cs.append(np.asarray(times, dtype=np.float64))
        ce.append(np.asarray(shares, dtype=np.float64))
        cc.append(np.zeros(len(times)))
        cce.append(np.zeros(len(times)))
        lo += len(times)
    CS = np.concatenate(cs) if cs else np.empty(0)
    CE = np.concatenate(ce) if ce else np.empty(0)
    CC = np.concatenate(cc) if cc else np.empty(0)
    CCE = np.concatenate(cce) if cce else np.empty(0)
    n_reps = len(rep_team)
    RP = np.zeros((n_reps, K.N_RP), dtype=np.int64)
    RP[:, K.R_TEAM], RP[:, K.R_IDX], RP[:, K.R_CAP] = rep_team, rep_idx, rep_cap
    RP[:, K.R_CLO], RP[:, K.R_CHI], RP[:, K.R_OPEN] = rep_lo, rep_hi, opened
    RP[:, K.R_ON], RP[:, K.R_MLO], RP[:, K.R_MHI] = rep_on, ramp_lo, ramp_hi
    RF0 = np.zeros((n_reps, 5))
    RF0[:, K.F_STRETCH] = stretch
    op = np.asarray(opened, dtype=bool)
    RF0[op, K.F_FROM], RF0[op, K.F_UNTIL] = -math.inf, math.inf  # one endless interval
    RF0[:, K.F_TIMER] = math.inf
    n = model.n_leads
    # int32 (lead ids, slots, episodes fit): half the bytes of the table the loop reads at
    # every event (docs/performance.md, "Scaling")
    LI0 = np.zeros((n, 6), dtype=np.int32 if n < 2**31 - 1 else np.int64)
    LI0[:, K.L_TEAM] = a["team"]
    LI0[:, K.L_EP] = model.is_mql
    LI0[:, K.L_STATE] = np.where(model.expired, K.NURTURE_EXPIRED, 0)
    LI0[:, K.L_SLOT] = a["slot"]
    LI0[:, K.L_QNEXT] = LI0[:, K.L_DLEP] = -1
    n_slots = len(a["mql_t"])
    SF0 = np.empty((n_slots, 10))
    SF0[:, K.M_MQL], SF0[:, K.M_FIRST], SF0[:, K.M_Q] = a["mql_t"], math.nan, a["q"]
    SF0[:, K.M_WIN], SF0[:, K.M_UQ], SF0[:, K.M_UD] = a["win"], a["u_q"], a["u_d"]
    SF0[:, K.M_UWIN], SF0[:, K.M_CYCLE], SF0[:, K.M_DEAL] = a["u_win"], a["cycle"], a["deal"]
    SF0[:, K.M_DL] = math.nan
    UC0 = np.ascontiguousarray(a["u_contact"], dtype=np.float64).reshape(n_slots, A)
    WK0 = np.ascontiguousarray(a["work"], dtype=np.float64).reshape(n_slots, A)
    c = sc.follow_up.contact
    cal = model.ae_cal  # the AE calendar rides at the end of PF (see kernel.N_PF)
    PF = np.concatenate((np.zeros(K.N_PF), cal.starts, cal.ends, cal.cum_starts,
                         cal.cum_starts + (cal.ends - cal.starts)))
    PF[K.P_END], PF[K.P_EXPIRY], PF[K.P_DQ] = model.end_h, model.expiry_h, model.disqualify_share
    PF[K.P_SHAPE] = 0.0 if c.shape == "exponential" else 1.0
    PF[K.P_FLOOR], PF[K.P_SPAN] = c.p_floor, c.p_initial - c.p_floor
    PF[K.P_RATE], PF[K.P_HL] = math.log(2.0) / c.half_life_hours, c.half_life_hours
    PF[K.P_AECAP] = sc.ae.max_open_opportunities
    PF[K.P_AEWORK], PF[K.P_AEOPEN] = sc.ae.work_business_hours, cal.always_open
    PF[K.P_AEN] = len(cal.starts)
    sla = sc.sla  # the terms deadline_first orders by (PolicyState's expressions)
    PF[K.P_FTMQL] = sla.first_touch_from == "mql"
    PF[K.P_FTH] = sla.first_touch_within_business_hours
    PF[K.P_ATTREQ], PF[K.P_ATTH] = sla.attempts_required, sla.attempts_within_days * 24.0
    PW = np.asarray([c.attempt_decay**k for k in range(A)], dtype=np.float64)
    CAD = np.asarray(model.cadence_h, dtype=np.float64)
    batches = model.handoff.batches
    BT = np.asarray(batches, dtype=np.float64) if batches is not None else np.empty(0)
    RT = np.ascontiguousarray(a["route_t"], dtype=np.float64)
    RL = np.ascontiguousarray(a["route_lead"], dtype=np.int64)
    rows_hint = 64 + n_slots * (A + 8)
    policy = bool(TM[:, K.T_POL].any())
    # priority classes: every team's items carry them (PolicyState.cls, one per lead, from
    # the same function as the SimPy path's set-up)
    if sc.routing.priority_by != "none" and sc.routing.priority_order:
        TM[:, K.T_CLS] = 1
        CL = np.asarray(priority_classes(sc, model.lead_channel, model.lead_segment,
                                         model.segments), dtype=np.int64)  # fmt: skip
    else:
        CL = np.zeros(1, dtype=np.int64)
    TD, TI, NT, HT, HI, FR, FI, R, RV, QK, QI, YK, YI, st = K.new_state(
        n_reps, max(rep_cap, default=1), n, rows_hint, n_teams, policy,
        int(np.max(TM[:, K.T_RHI] - TM[:, K.T_RLO], initial=0)))  # fmt: skip
    # reassignment: each slot's live first-attempt seq and reassignments (PolicyState's
    # first_seq, re_n, re_ep), each team's pending checks and armed timers (grown as needed)
    n_fs = n_slots if TM[:, K.T_RE].any() else 1
    FS = np.full(n_fs, -1, dtype=np.int64)
    RE = np.zeros((n_fs, 2), dtype=np.int64)
    RE[:, 1] = -1
    # the armed timers' times (PolicyTeam.checks) start with the hires' joins, as _staff
    # pushes them (a heap: only its least value is read)
    w_ck = max(8, 2 * max((len(j) for j in team_joins), default=0))
    PK, CK = np.empty((n_teams, 8)), np.empty((n_teams, w_ck))
    for ti, times in enumerate(team_joins):
        heapq.heapify(times)
        CK[ti, :len(times)] = times
        TM[ti, K.T_NCK] = len(times)
    st[K.S_CW] = w_ck
    st[K.S_MAXNCK] = max((len(j) for j in team_joins), default=0)
    # the joins and leaves: the first events, created at set-up in rep order, each rep's
    # join before its leave (policies._staff)
    step = int(st[K.S_STEP])
    events = sorted((t, i * step, kind, r) for i, (t, kind, r) in enumerate(joins))
    for j, (t, eid, kind, r) in enumerate(events):  # sorted by (time, creation): a heap
        HT[j] = t
        HI[j, 0], HI[j, 1], HI[j, 2], HI[j, 3] = eid, kind, r, 0
    st[K.S_NHEAP] = len(events)
    st[K.S_EID] = len(events) * step
    PI = np.empty((n_teams, 8, 5), dtype=np.int64)
    PQ = (QK, QI, YK, YI, TF, CC, CCE, np.zeros(max(n_reps, 1), dtype=np.int64), CL, FS, RE,
          PK, PI, CK)  # fmt: skip
    draws = _recycle_draws(model, 1 + n_slots // (2 * CHUNK), None)
    AO = np.zeros((sc.ae.count, 2), dtype=np.int64)
    LI = LI0
    now, first = 0.0, True
    while True:  # resumes, with one more chunk of recycle draws, when they ran out
        status, now, R, RV, HT, HI, TD, TI, PQ = K.run_loop(
            RT, RL, TM, CS, CE, RP, RF0, LI, SF0, UC0, WK0, PF, PW, CAD, AO, *draws, BT, TD, TI,
            NT, HT, HI, FR, FI, R, RV, st, PQ, now, first)  # fmt: skip
        if status == 0:
            break
        first = False
        draws = _recycle_draws(model, 1, draws)
    nrows = st[K.S_NROWS]
    model.states = LI[:, K.L_STATE].astype(np.int64)
    model.log.add_columns(R[:nrows], RV[:nrows])
