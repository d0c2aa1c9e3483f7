"""FunnelModel: one replication of the funnel, owning its SimPy environment, streams and log.

Everything that involves no contention is drawn up front in vectorised numpy batches, per
channel stream: arrival times, scores, segments, nurture outcomes, ops delays, contact and
qualification uniforms, work times, cycle lengths, win draws and deal values. Only what contends
for capacity runs in the event loop: routing to SDR slots, SDR attempts on business calendars,
and AE selling time and opportunity slots.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left
from heapq import heappop, heappush
from typing import Any

import numpy as np
from scipy.special import expit, logit

from sla_sim.calendar import shared_calendar
from sla_sim.events import CODE, EventLog
from sla_sim.horizon import horizon_hours
from sla_sim.model import nurture
from sla_sim.model.ae import AEPool
from sla_sim.model.calls import Loop, gc_paused
from sla_sim.model.handoff import HandoffSchedule
from sla_sim.model.leads import draw_leads
from sla_sim.model.policies import PolicyState, build_policy_team, has_policy, priority_classes
from sla_sim.model.recycle import RecycleDraws
from sla_sim.model.routing import Team, segment_names, team_table
from sla_sim.model.sdr import Rep, contact_curve
from sla_sim.scenario.schema import Scenario
from sla_sim.streams import Streams, replication_seed

IN_FLIGHT, WON, LOST, DISQUALIFIED, NURTURE_EXPIRED = range(5)


class FunnelModel:
    """One replication: build with a scenario and a Streams, call :meth:`run`."""

    C_MQL, C_ROUTED, C_ASSIGNED = CODE["mql"], CODE["routed"], CODE["assigned"]
    C_ATTEMPT, C_CONTACT, C_SQL = CODE["attempt"], CODE["contact"], CODE["sql"]
    C_DISQ, C_RECYCLED, C_NURTURE = CODE["disqualified"], CODE["recycled"], CODE["nurture"]
    C_OPP_OPEN, C_WON, C_LOST = CODE["opp_open"], CODE["won"], CODE["lost"]
    C_EXPIRED = CODE["nurture_expired"]
    NAN = math.nan

    def __init__(self, scenario: Scenario, streams: Streams) -> None:
        self.sc = sc = scenario
        self.streams = streams
        self.origin, self.warmup_h, self.end_h = horizon_hours(sc)
        self.env = Loop()
        self.segments = segment_names(sc)
        self.log = EventLog(sc.channel_names(), self.segments, sc.team_names())
        self.team_of = team_table(sc)
        self.calendars = [shared_calendar(t.calendar, self.origin, self.end_h) for t in sc.teams]
        self.marketing_cal = shared_calendar(sc.marketing_calendar, self.origin, self.end_h)
        self.ae_cal = shared_calendar(sc.ae.calendar, self.origin, self.end_h)
        self.handoff = HandoffSchedule(sc.handoff, self.marketing_cal, self.end_h)
        self.stretch = [1.0 / (1.0 - t.shrinkage) for t in sc.teams]
        self.cadence_h = [d * 24.0 for d in sc.follow_up.cadence_days]
        self.n_attempts = len(self.cadence_h)
        self.threshold = sc.mql_threshold_points
        self.expiry_h = nurture.expiry_hours(sc.nurture)
        self.rows = self.log.rows
        self.p_contact = contact_curve(sc.follow_up.contact)
        self.disqualify_share = sc.follow_up.disqualify_share
        self.seq = itertools.count(1)  # tie-breaker of equal due times, in push order
        self.ran = False

    # ------------------------------------------------------------------ set-up (vectorised)
    def _setup(self) -> None:
        """The whole set-up of the SimPy path: the vectorised draws, then the loop's state."""
        self._draw()
        self._setup_loop()

    def _draw(self) -> None:
        """Everything drawn up front (vectorised), as arrays both engines read."""
        sc = self.sc
        draws = draw_leads(sc, self.streams, self.segments, self.threshold, self.n_attempts,
                           self.origin, self.end_h)  # fmt: skip
        d = draws.lead
        n = self.n_leads = draws.n
        self.lead_channel, self.lead_segment = d["channel"], d["segment"]
        from sla_sim.model.passes import first_episodes, log_columns  # numba: on first use

        self.log.builder = log_columns  # the log's columns and rows per event, compiled
        self.log.set_leads(d["channel"], d["segment"], d["t"], d["score"])
        self.log.add_many(np.arange(n), 0, d["t"], "created", value=d["score"])
        # first episode: immediate MQL, or after nurture, or nurture expiry; then routing, and
        # the worked leads (routed before the end), in one pass over the leads
        batches = self.handoff.batches
        (t_mql, team, t_route, slot, expired, is_mql, nurtured, expired_ids, t_exp, mqls,
         worked) = first_episodes(
            *(np.ascontiguousarray(d[k], dtype=np.float64) for k in ("t", "score", "nurture",
                                                                     "ops")),
            *(np.ascontiguousarray(d[k], dtype=np.int64) for k in ("channel", "segment")),
            np.ascontiguousarray(self.team_of, dtype=np.int64), float(self.threshold),
            float(self.expiry_h), float(self.end_h),
            np.empty(0) if batches is None else np.ascontiguousarray(batches, dtype=np.float64),
            batches is not None)  # fmt: skip
        self.log.add_many(nurtured, 0, d["t"][nurtured], "nurture")
        self.log.add_many(expired_ids, 0, t_exp, "nurture_expired")
        self.log.add_many(mqls, 1, t_mql[mqls], "mql", team=team[mqls])
        # Only routed leads enter the event loop (recycled leads were routed before): each gets a
        # slot, and the loop's per-lead draws are gathered for those slots alone.
        routed = worked[np.argsort(t_route[worked], kind="stable")]
        w = draws.gather(worked)
        ch = d["channel"][worked]
        # qualification probability per worked lead, from its channel's rate and its score
        # (each channel's logit once, then gathered: the same values as per worked lead)
        base = logit(np.asarray([c.sql_rate for c in sc.channels], dtype=np.float64))[ch]
        slope = sc.follow_up.score_slope_per_10_points
        ref = sc.follow_up.reference_score_points
        q = expit(base + slope * (d["score"][worked] - ref) / 10.0)
        win = np.asarray([c.win_rate for c in sc.channels])[ch]
        self.expired, self.is_mql = expired, is_mql
        # the loop's inputs as arrays (the fast engine reads these; the SimPy path lists them)
        self.arrays = {"team": team, "slot": slot, "mql_t": t_mql[worked], "q": q, "win": win,
                       "u_contact": w["u_contact"], "work": w["work"], "u_q": w["u_q"],
                       "u_d": w["u_d"], "u_win": w["u_win"], "cycle": w["cycle"],
                       "deal": w["deal"], "route_t": t_route[routed], "route_lead": routed}
        self.recycle = RecycleDraws(sc, self.streams("recycle"), self.n_attempts)

    def _setup_loop(self) -> None:
        """The SimPy path's state: per-lead Python lists (fast scalar access), reps, teams,
        AEs."""
        sc, a, expired, is_mql = self.sc, self.arrays, self.expired, self.is_mql
        # per-lead state as Python lists: fast scalar access inside the event loop
        self.state = np.where(expired, NURTURE_EXPIRED, IN_FLIGHT).tolist()
        self.episode = np.where(is_mql, 1, 0).tolist()
        self.team_l = a["team"].tolist()
        self.slot = a["slot"].tolist()
        # per-slot lists (index ``slot[lead]``; per attempt ``slot * n_attempts + attempt``)
        self.mql_t = a["mql_t"].tolist()
        self.first_t = [math.nan] * len(self.mql_t)
        self.q = a["q"].tolist()
        self.win = a["win"].tolist()
        self.u_contact = a["u_contact"].ravel().tolist()
        self.work_h = a["work"].ravel().tolist()
        self.u_q = a["u_q"].tolist()
        self.u_d = a["u_d"].tolist()
        self.u_win = a["u_win"].tolist()
        self.cycle_h = a["cycle"].tolist()
        self.deal = a["deal"].tolist()
        self.route_t = a["route_t"].tolist()
        self.route_lead = a["route_lead"].tolist()
        self._next_route = 0
        self.reroutes: list[float] = []  # times of scheduled re-routes (a heap)
        # capacity
        d_channel, d_segment = self.lead_channel, self.lead_segment
        self.teams: list[Any] = []  # Team, or PolicyTeam for a team with policies
        policy = [has_policy(sc, ti) for ti in range(len(sc.teams))]
        if any(policy):
            self.policy_state = PolicyState(self, len(self.mql_t))
            if sc.routing.priority_by != "none" and sc.routing.priority_order:
                self.policy_state.cls = priority_classes(sc, d_channel, d_segment,
                                                         self.segments)  # fmt: skip
        names = sc.team_names()
        for ti, ts in enumerate(sc.teams):
            if policy[ti]:
                ov = names.index(ts.overflow_team) if ts.overflow_team is not None else None
                self.teams.append(build_policy_team(self, ti, ov))
                continue
            reps = [Rep(self, ti, r, ts.max_active_leads, self.calendars[ti])
                    for r in range(ts.reps)]
            self.teams.append(Team(ti, reps, sc.routing.rep_rule, self.calendars[ti]))
        self.ae = AEPool(self, sc.ae, self.ae_cal)

    # ------------------------------------------------------------------ event loop pieces
    def log_row(self, lead: int, ep: int, t: float, code: int, team: int, rep: int,
                attempt: int, value: float) -> None:
        """Append one event row."""
        self.rows.append((lead, ep, t, code, team, rep, attempt, value))

    def feed_routes(self, _arg: Any = None) -> None:
        """Hand pre-drawn first-episode MQLs to their teams at their routing times.

        A chain of SimPy timeouts: each callback routes every lead due by now (each at its own
        routing time) and schedules the next routing instant. While every team is closed and
        idle, nothing but routing can touch a team until the next opening (or pending re-route),
        so the routes due before then are handed over together, at the last of their times:
        the same assignments, rows and wake-ups as routing each one at its own instant.
        """
        env, times, leads, i = self.env, self.route_t, self.route_lead, self._next_route
        now, n = env._now, len(times)
        while i < n and times[i] <= now:
            self.route(leads[i], times[i])
            i += 1
        self._next_route = i
        if i < n:
            t = times[i]
            quiet = self._quiet_until(now)
            if t < quiet:  # route everything due before ``quiet`` in one go
                t = times[bisect_left(times, quiet, i) - 1]
            env.call(t - now, self.feed_routes)

    def _quiet_until(self, now: float) -> float:
        """When something other than routing could next touch a team: ``now`` unless every
        team's calendar is closed and no rep is mid-attempt; then the earliest reopening or
        pending re-route."""
        until = self.reroutes[0] if self.reroutes else math.inf
        for team in self.teams:
            if team.always_open:
                return now
            opens = team.next_open(now)
            if opens <= now or any(rep.busy for rep in team.reps):
                return now
            until = min(until, opens)
            if team.policy:  # a pending reassignment check
                until = min(until, team.next_event(now))
        return until

    def route(self, lead: int, t: float) -> None:
        """Routing at time ``t``: log the handoff, then give the lead to a rep with a free slot
        or queue it."""
        team = self.teams[self.team_l[lead]]
        if team.policy:
            team.route_in(lead, t)
            return
        self.rows.append((lead, self.episode[lead], t, self.C_ROUTED, team.index, -1, -1,
                          self.NAN))  # fmt: skip
        rep = team.pick_rep()
        if rep is None:
            team.queue.append(lead)
        else:
            self.assign(rep, lead, t)

    def _reroute(self, lead: int) -> None:
        """A recycled lead's new episode reaches routing (now)."""
        heappop(self.reroutes)
        self.route(lead, self.env._now)

    def assign(self, rep: Rep, lead: int, t: float) -> None:
        """A lead takes a rep's slot at time ``t``; its first attempt is due then."""
        rep.active += 1
        self.rows.append((lead, self.episode[lead], t, self.C_ASSIGNED, rep.team, rep.index, -1,
                          self.NAN))  # fmt: skip
        rep.push((t, next(self.seq), lead, 0))

    def on_reached(self, rep: Rep, lead: int, s: int, k: int) -> None:
        """Attempt ``k`` reached the lead: qualified (SQL), disqualified or recycled; the rep's
        slot is freed."""
        now, ep, rows = self.env._now, self.episode[lead], self.rows
        team, ri, nan = rep.team, rep.index, self.NAN
        rows.append((lead, ep, now, self.C_CONTACT, team, ri, k, nan))
        if self.u_q[s] < self.q[s]:
            rows.append((lead, ep, now, self.C_SQL, team, ri, -1, nan))
            self.ae.submit(lead)
        elif self.u_d[s] < self.disqualify_share:
            rows.append((lead, ep, now, self.C_DISQ, team, ri, -1, nan))
            self.state[lead] = DISQUALIFIED
        else:
            self._recycle(lead, s, rep)
        self._release(rep)

    def on_exhausted(self, rep: Rep, lead: int, s: int) -> None:
        """The last attempt of the cadence did not reach the lead: recycle it, free the slot."""
        self._recycle(lead, s, rep)
        self._release(rep)

    def _release(self, rep: Rep) -> None:
        rep.active -= 1
        queue = self.teams[rep.team].queue
        if queue:
            self.assign(rep, queue.popleft(), self.env._now)

    def _recycle(self, lead: int, s: int, rep: Rep) -> None:
        """Back to nurture; draw when (if ever) it re-qualifies as a new MQL episode."""
        now, ep = self.env._now, self.episode[lead]
        self.rows.append((lead, ep, now, self.C_RECYCLED, rep.team, rep.index, -1, self.NAN))
        self.rows.append((lead, ep, now, self.C_NURTURE, -1, -1, -1, self.NAN))
        A = self.n_attempts
        delay, handle = self.recycle.next()
        t_mql = now + delay
        if t_mql < self.end_h:
            u, work, ops = self.recycle.episode(handle)
            ep += 1
            self.episode[lead] = ep
            self.mql_t[s] = t_mql
            self.first_t[s] = math.nan
            self.rows.append((lead, ep, t_mql, self.C_MQL, self.team_l[lead], -1, -1, self.NAN))
            base = s * A  # fresh per-attempt draws for the new episode
            self.u_contact[base:base + A] = u[:A]
            self.work_h[base:base + A] = work
            self.u_q[s], self.u_d[s] = u[A], u[A + 1]
            t_route = self.handoff.route_time(t_mql + ops)
            if t_route < self.end_h:
                heappush(self.reroutes, t_route)
                self.env.call_far(t_route - now, self._reroute, lead)
        elif now + self.expiry_h < self.end_h:
            self.rows.append((lead, ep, now + self.expiry_h, self.C_EXPIRED, -1, -1, -1,
                              self.NAN))
            self.state[lead] = NURTURE_EXPIRED

    def close_opportunity(self, lead: int, ae: int) -> None:
        """Close an opportunity won (revenue booked now) or lost."""
        ep, s = self.episode[lead], self.slot[lead]
        if self.u_win[s] < self.win[s]:
            self.rows.append((lead, ep, self.env._now, self.C_WON, -1, ae, -1, self.deal[s]))
            self.state[lead] = WON
        else:
            self.rows.append((lead, ep, self.env._now, self.C_LOST, -1, ae, -1, self.NAN))
            self.state[lead] = LOST

    # ------------------------------------------------------------------ run
    def _drop_pending(self) -> None:
        """Drop the events still scheduled past the horizon.

        They would never run, and they hold the only reference cycles of a run (environment ->
        heap entry -> callback -> rep -> environment): without them the run's objects are freed
        by reference counting as soon as they are unused, with no garbage-collection pass over
        the hundreds of thousands of objects a replication allocates.
        """
        self.env.drop_pending()

    def run(self) -> EventLog:
        """Simulate the whole horizon once and return the event log (reconciled).

        The event loop runs on the engine :func:`sla_sim.model.engine.engine_for` chooses
        (``self.engine``; ``self.engine_note`` says why SimPy ran when the fast engine was not
        chosen): the same event log either way.
        """
        if self.ran:
            raise RuntimeError("a FunnelModel runs once; build a new one for another run")
        self.ran = True
        from sla_sim.model.engine import engine_for, run_fast

        self.engine, self.engine_note = engine_for(self.sc)
        with gc_paused():  # the run allocates many small objects, freed without cycles
            self._draw()
            if self.engine == "fast":
                run_fast(self)
            else:
                self._setup_loop()
                self.feed_routes()
                self.env.run_until(self.end_h)
                self._drop_pending()
                self.states = np.asarray(self.state, dtype=np.int64)
        from sla_sim.model.reconcile import reconcile

        reconcile(self, self.states)
        return self.log

    def __getattr__(self, name: str) -> Any:
        """``state`` after a run on the fast engine, which leaves the lead states as an array
        (``states``): the same per-lead list the SimPy path keeps, made when first asked for."""
        if name == "state" and "states" in self.__dict__:
            self.state = self.states.tolist()
            return self.state
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


_warm = False  # this process has loaded the fast engine's compiled code


def warm_up() -> None:
    """Load (or, the first time on a machine, compile and cache) the fast engine's code:
    the compiled passes around the loop (:func:`sla_sim.model.passes.warm_up`, with the
    argument types a replication gives them) and the loop itself.

    Runs one tiny replication the first time in a process; a worker or the planner calls it at
    set-up so that no replication pays the compile or cache-load cost. Later calls (every pool
    an executor starts, e.g. each stage of a recommendation) return at once: the code stays
    loaded, and forked workers inherit it."""
    global _warm
    if _warm:
        return
    from sla_sim.model.passes import warm_up as warm_passes
    from sla_sim.scenario.presets import preset

    warm_passes()  # the compiled passes around the loop, with a replication's argument types

    sc = preset("default").model_copy(deep=True)
    sc.horizon.measure_months = 1
    sc.horizon.warmup_days = 0
    FunnelModel(sc, Streams(replication_seed(0, 0))).run()
    _warm = True
