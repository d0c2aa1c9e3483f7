"""FunnelModel: one replication of the funnel, owning its SimPy environment, streams and log.

Everything that involves no contention is drawn up front in vectorised numpy batches, per
channel stream: arrival times, scores, segments, nurture outcomes, ops delays, contact and
qualification uniforms, work times, cycle lengths, win draws and deal values. Only what contends
for capacity runs in the event loop: routing to SDR slots, SDR attempts on business calendars,
and AE opportunity slots.
"""

from __future__ import annotations

import calendar
import gc
import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import simpy
from scipy.special import expit, logit

from sla_sim.calendar import BusinessCalendar
from sla_sim.events import CODE, EventLog
from sla_sim.metrics.periods import elapsed_hours
from sla_sim.model import arrivals, nurture
from sla_sim.model.ae import AEPool
from sla_sim.model.handoff import HandoffSchedule
from sla_sim.model.recycle import RecycleDraws
from sla_sim.model.routing import Team, segment_names, team_table
from sla_sim.model.sdr import Rep, contact_curve
from sla_sim.scenario import Scenario
from sla_sim.streams import Streams

IN_FLIGHT, WON, LOST, DISQUALIFIED, NURTURE_EXPIRED = range(5)


def horizon_hours(sc: Scenario) -> tuple[datetime, float, float]:
    """(origin, warm-up end, horizon end): origin aware, the others in elapsed model hours.

    The measured period runs from ``measure_start`` for ``measure_months`` calendar months; a
    start day beyond the end month's length (e.g. the 31st) ends on that month's last day.
    """
    tz = ZoneInfo(sc.horizon.timezone)
    m0 = sc.horizon.measure_start
    start = datetime(m0.year, m0.month, m0.day, tzinfo=tz)
    origin = datetime.combine(m0 - timedelta(days=sc.horizon.warmup_days), datetime.min.time(),
                              tzinfo=tz)
    months = m0.month - 1 + sc.horizon.measure_months
    y, m = m0.year + months // 12, months % 12 + 1
    end = datetime(y, m, min(m0.day, calendar.monthrange(y, m)[1]), tzinfo=tz)
    return origin, elapsed_hours(origin, start), elapsed_hours(origin, end)


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
        self.env = simpy.Environment()
        self.segments = segment_names(sc)
        self.log = EventLog(sc.channel_names(), self.segments, sc.team_names())
        self.team_of = team_table(sc)
        self.calendars = [BusinessCalendar(t.calendar, self.origin, self.end_h) for t in sc.teams]
        self.marketing_cal = BusinessCalendar(sc.marketing_calendar, self.origin, self.end_h)
        self.handoff = HandoffSchedule(sc.handoff, self.marketing_cal, self.end_h)
        self.stretch = [1.0 / (1.0 - t.shrinkage) for t in sc.teams]
        self.cadence_h = [d * 24.0 for d in sc.follow_up.cadence_days]
        self.n_attempts = len(self.cadence_h)
        self.threshold = sc.mql_threshold_points
        self.expiry_h = nurture.expiry_hours(sc.nurture)
        self.rows = self.log.rows
        self.p_contact = contact_curve(sc.follow_up.contact)
        self.disqualify_share = sc.follow_up.disqualify_share
        self._seq = 0
        self.ran = False

    # ------------------------------------------------------------------ set-up (vectorised)
    def _draw_leads(self) -> None:
        sc, st = self.sc, self.streams
        n_hours = math.ceil(self.end_h)
        grid = arrivals.hour_grid(self.origin, n_hours)
        profile = arrivals.base_profile(sc, grid)
        fu, A = sc.follow_up, self.n_attempts
        parts: dict[str, list[np.ndarray]] = {k: [] for k in (
            "t", "channel", "segment", "score", "ops", "u_contact", "work", "u_q", "u_d",
            "cycle", "u_win", "deal", "nurture")}  # fmt: skip
        seg_index = {s: i for i, s in enumerate(self.segments)}
        for c, ch in enumerate(sc.channels):
            name = ch.name
            t = arrivals.draw_channel_arrivals(sc, c, profile, grid, st, self.end_h)
            n = len(t)
            score = 100.0 * st(f"score:{name}").beta(ch.score_alpha, ch.score_beta, n)
            segs = [seg_index[s] for s in ch.segment_mix]
            probs = np.asarray(list(ch.segment_mix.values()), dtype=np.float64)
            seg = st(f"segment:{name}").choice(segs, size=n, p=probs / probs.sum())
            below = score < self.threshold
            nd = np.full(n, np.inf)
            nd[below] = nurture.nurture_delays(score[below], self.threshold, sc.nurture,
                                               st(f"nurture:{name}"))
            parts["t"].append(t)
            parts["channel"].append(np.full(n, c, dtype=np.int64))
            parts["segment"].append(np.asarray(seg, dtype=np.int64))
            parts["score"].append(score)
            parts["nurture"].append(nd)
            parts["ops"].append(np.asarray(sc.handoff.ops_delay_hours.sample(
                st(f"handoff:{name}"), n)))
            parts["u_contact"].append(st(f"contact:{name}").random((n, A)))
            parts["work"].append(fu.attempt_minutes.sample(st(f"work:{name}"), n * A)
                                 .reshape(n, A) / 60.0)
            uq = st(f"qualify:{name}").random((n, 2))
            parts["u_q"].append(uq[:, 0])
            parts["u_d"].append(uq[:, 1])
            parts["cycle"].append(np.asarray(ch.cycle_days.sample(st(f"cycle:{name}"), n)) * 24)
            parts["u_win"].append(st(f"win:{name}").random(n))
            parts["deal"].append(np.asarray(ch.deal_value.sample(st(f"deal:{name}"), n)))
        cat = {k: np.concatenate(v) if v else np.empty(0) for k, v in parts.items()}
        order = np.argsort(cat["t"], kind="stable")
        self.d = {k: v[order] for k, v in cat.items()}

    def _setup(self) -> None:
        sc = self.sc
        self._draw_leads()
        d = self.d
        n = self.n_leads = len(d["t"])
        ids = np.arange(n)
        self.log.set_leads(d["channel"], d["segment"], d["t"], d["score"])
        self.log.add_many(ids, 0, d["t"], "created", value=d["score"])
        # qualification probability per lead, from its channel's rate and its score
        base = np.asarray([ch.sql_rate for ch in sc.channels])[d["channel"]]
        slope = sc.follow_up.score_slope_per_10_points
        ref = sc.follow_up.reference_score_points
        q = expit(logit(base) + slope * (d["score"] - ref) / 10.0)
        win = np.asarray([ch.win_rate for ch in sc.channels])[d["channel"]]
        # first episode: immediate MQL, or after nurture, or nurture expiry
        below = d["score"] < self.threshold
        t_mql = d["t"] + np.where(below, d["nurture"], 0.0)
        self.log.add_many(ids[below], 0, d["t"][below], "nurture")
        t_exp = d["t"] + self.expiry_h
        expired = below & ~np.isfinite(d["nurture"]) & (t_exp < self.end_h)
        self.log.add_many(ids[expired], 0, t_exp[expired], "nurture_expired")
        is_mql = t_mql < self.end_h
        team = self.team_of[d["channel"], d["segment"]]
        self.log.add_many(ids[is_mql], 1, t_mql[is_mql], "mql", team=team[is_mql])
        t_route = np.full(n, np.inf)
        t_route[is_mql] = self.handoff.route_times(t_mql[is_mql] + d["ops"][is_mql])
        routed = np.flatnonzero(t_route < self.end_h)
        routed = routed[np.argsort(t_route[routed], kind="stable")]
        # per-lead state as Python lists: fast scalar access inside the event loop
        self.state = np.where(expired, NURTURE_EXPIRED, IN_FLIGHT).tolist()
        self.episode = np.where(is_mql, 1, 0).tolist()
        self.mql_t = np.where(is_mql, t_mql, np.nan).tolist()
        self.first_t = [math.nan] * n
        self.team_l = team.tolist()
        self.q = q.tolist()
        self.win = win.tolist()
        self.u_contact = d["u_contact"].ravel().tolist()
        self.work_h = d["work"].ravel().tolist()
        self.u_q = d["u_q"].tolist()
        self.u_d = d["u_d"].tolist()
        self.u_win = d["u_win"].tolist()
        self.cycle_h = d["cycle"].tolist()
        self.deal = d["deal"].tolist()
        self.route_t = t_route[routed].tolist()
        self.route_lead = routed.tolist()
        self._next_route = 0
        # capacity
        self.teams: list[Team] = []
        for ti, ts in enumerate(sc.teams):
            reps = [Rep(self, ti, r, ts.max_active_leads, self.calendars[ti])
                    for r in range(ts.reps)]
            self.teams.append(Team(ti, reps, sc.routing.rep_rule))
        self.ae = AEPool(self, sc.ae.count, sc.ae.max_open_opportunities)
        self.recycle = RecycleDraws(sc, self.streams("recycle"), self.n_attempts)

    # ------------------------------------------------------------------ event loop pieces
    def log_row(self, lead: int, ep: int, t: float, code: int, team: int, rep: int,
                attempt: int, value: float) -> None:
        """Append one event row."""
        self.rows.append((lead, ep, t, code, team, rep, attempt, value))

    def feed_routes(self, _event: Any = None) -> None:
        """Hand pre-drawn first-episode MQLs to their teams at their routing times.

        A chain of SimPy timeouts: each callback routes every lead due now and schedules the
        next routing instant.
        """
        env, times, leads, i = self.env, self.route_t, self.route_lead, self._next_route
        now, n = env.now, len(times)
        while i < n and times[i] <= now:
            self.route(leads[i])
            i += 1
        self._next_route = i
        if i < n:
            env.timeout(times[i] - now).callbacks.append(self.feed_routes)

    def route(self, lead: int) -> None:
        """Routing: log the handoff, then give the lead to a rep with a free slot or queue it."""
        team = self.teams[self.team_l[lead]]
        self.rows.append((lead, self.episode[lead], self.env.now, self.C_ROUTED, team.index, -1,
                          -1, self.NAN))
        rep = team.pick_rep()
        if rep is None:
            team.queue.append(lead)
        else:
            self.assign(rep, lead)

    def assign(self, rep: Rep, lead: int) -> None:
        """A lead takes a rep's slot; its first attempt is due now."""
        rep.active += 1
        now = self.env.now
        self.rows.append((lead, self.episode[lead], now, self.C_ASSIGNED, rep.team, rep.index,
                          -1, self.NAN))
        self._seq += 1
        rep.push((now, self._seq, lead, 0))

    def on_attempt_end(self, rep: Rep, lead: int, k: int, start: float) -> None:
        """Outcome of an attempt: reached (SQL / disqualified / recycled) or try again later.

        The chance of reaching the lead is set by its age (hours since MQL) at attempt start.
        """
        if self.u_contact[lead * self.n_attempts + k] >= self.p_contact(
            start - self.mql_t[lead], k
        ):
            if k + 1 < self.n_attempts:  # not reached: next attempt of the cadence
                self._seq += 1
                rep.push((self.first_t[lead] + self.cadence_h[k + 1], self._seq, lead, k + 1))
                return
            self._recycle(lead, rep)
        else:
            now, ep, rows = self.env.now, self.episode[lead], self.rows
            team, ri, nan = rep.team, rep.index, self.NAN
            rows.append((lead, ep, now, self.C_CONTACT, team, ri, k, nan))
            if self.u_q[lead] < self.q[lead]:
                rows.append((lead, ep, now, self.C_SQL, team, ri, -1, nan))
                self.ae.submit(lead)
            elif self.u_d[lead] < self.disqualify_share:
                rows.append((lead, ep, now, self.C_DISQ, team, ri, -1, nan))
                self.state[lead] = DISQUALIFIED
            else:
                self._recycle(lead, rep)
        self._release(rep)

    def _release(self, rep: Rep) -> None:
        rep.active -= 1
        queue = self.teams[rep.team].queue
        if queue:
            self.assign(rep, queue.popleft())

    def _recycle(self, lead: int, rep: Rep) -> None:
        """Back to nurture; draw when (if ever) it re-qualifies as a new MQL episode."""
        now, ep = self.env.now, self.episode[lead]
        self.rows.append((lead, ep, now, self.C_RECYCLED, rep.team, rep.index, -1, self.NAN))
        self.rows.append((lead, ep, now, self.C_NURTURE, -1, -1, -1, self.NAN))
        A = self.n_attempts
        delay, u, work, ops = self.recycle.next()
        t_mql = now + delay
        if t_mql < self.end_h:
            ep += 1
            self.episode[lead] = ep
            self.mql_t[lead] = t_mql
            self.first_t[lead] = math.nan
            self.rows.append((lead, ep, t_mql, self.C_MQL, self.team_l[lead], -1, -1, self.NAN))
            base = lead * A  # fresh per-attempt draws for the new episode
            self.u_contact[base:base + A] = u[:A]
            self.work_h[base:base + A] = work
            self.u_q[lead], self.u_d[lead] = u[A], u[A + 1]
            t_route = self.handoff.route_time(t_mql + ops)
            if t_route < self.end_h:
                self.env.timeout(t_route - now).callbacks.append(lambda _e: self.route(lead))
        elif now + self.expiry_h < self.end_h:
            self.rows.append((lead, ep, now + self.expiry_h, self.C_EXPIRED, -1, -1, -1,
                              self.NAN))
            self.state[lead] = NURTURE_EXPIRED

    def close_opportunity(self, lead: int, ae: int) -> None:
        """Close an opportunity won (revenue booked now) or lost."""
        ep = self.episode[lead]
        if self.u_win[lead] < self.win[lead]:
            self.rows.append((lead, ep, self.env.now, self.C_WON, -1, ae, -1, self.deal[lead]))
            self.state[lead] = WON
        else:
            self.rows.append((lead, ep, self.env.now, self.C_LOST, -1, ae, -1, self.NAN))
            self.state[lead] = LOST

    # ------------------------------------------------------------------ run
    def run(self) -> EventLog:
        """Simulate the whole horizon once and return the event log (reconciled)."""
        if self.ran:
            raise RuntimeError("a FunnelModel runs once; build a new one for another run")
        self.ran = True
        gc_was_enabled = gc.isenabled()
        gc.disable()  # the run allocates many small acyclic objects; collect once at the end
        try:
            self._setup()
            self.feed_routes()
            self.env.run(until=self.end_h)
        finally:
            if gc_was_enabled:
                gc.enable()
        from sla_sim.model.reconcile import reconcile

        reconcile(self)
        return self.log
