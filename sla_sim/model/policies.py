"""Policies that make an SLA bind: work order, priority, pooled work and reassignment.

A team whose policy fields are all at their defaults (``assignment: immediate``,
``work_order: due_first``, no priority classes, no reassignment) runs on the plain
:class:`~sla_sim.model.sdr.Rep` and :class:`~sla_sim.model.routing.Team`, exactly as before.
Any other team runs on :class:`PolicyTeam` and :class:`PolicyRep`, defined here:

* **Work order and priority.** A rep keeps the attempts it holds in two heaps: those not yet
  due (by due time) and those due now (by the team's order). When it is free and on shift it
  starts the first of the due ones (non-pre-emptive: an attempt, once started, is finished). The
  order is: the lead's priority class first (``routing.priority_order``, listed classes before
  the rest), then per ``work_order``: ``due_first`` the earliest due attempt; ``new_first``
  first attempts before follow-ups, then the earliest due; ``deadline_first`` the earliest SLA
  deadline (a first attempt: the first-touch deadline; attempts the SLA still owes: the
  attempts deadline; later ones: none, after every deadline), then the earliest due. The team
  queue of leads waiting for a slot is ordered the same way.
* **Pull assignment.** ``assignment: pull`` keeps new MQLs in one team queue; a rep that is
  free, on shift and under its ``max_active_leads`` takes the first lead of that queue when it
  comes before its own due follow-ups in the team's order, and starts the first attempt at
  once (so ``assigned`` and the first ``attempt`` share a time). With one attempt per lead
  this is the M/M/c queue whatever ``max_active_leads`` is.
* **Reassignment.** With ``reassign_after_business_hours`` = R, a lead still untouched R
  business hours (the holding team's calendar) after its assignment is taken back (event
  ``reassigned``, value = the episode's reassignment count) and is ``routed`` again: to another
  rep of the team with a free slot (the team's rep rule), else to ``overflow_team`` (event
  ``escalated``, then ``routed`` to that team), else back to the team queue; at most
  ``max_reassignments`` times per MQL episode. (Every ``assigned`` row thus follows its own
  ``routed`` row, and the slot queue routed -> assigned stays balanced.)

With ``deadline_first`` the model reads the SLA's first-touch and attempts terms: see
:func:`reads_sla`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

from sla_sim.events import CODE
from sla_sim.model.calls import Call
from sla_sim.model.sdr import ATTEMPT, Rep
from sla_sim.model.staffing import RepCalendar, Staffing, has_staffing_plan, log_rows

if TYPE_CHECKING:
    from simpy.events import Event

    from sla_sim.calendar import BusinessCalendar
    from sla_sim.model.funnel import FunnelModel
    from sla_sim.scenario.schema import Scenario, TeamSpec

# a ready item: (class, order key 1, order key 2, seq, lead, attempt)
Item = tuple[int, float, float, int, int, int]
C_ASSIGNED, C_ROUTED = CODE["assigned"], CODE["routed"]
C_REASSIGNED, C_ESCALATED = CODE["reassigned"], CODE["escalated"]
C_REP_ON, C_REP_OFF = CODE["rep_on"], CODE["rep_off"]
NAN = math.nan


def has_policy(sc: Scenario, team: int) -> bool:
    """Whether team ``team`` departs from the default behaviour (and needs the policy classes)."""
    t = sc.teams[team]
    return (t.assignment != "immediate" or t.work_order != "due_first"
            or t.reassign_after_business_hours is not None
            or bool(sc.routing.priority_order and sc.routing.priority_by != "none")
            or any(o.overflow_team == t.name for o in sc.teams)
            or has_staffing_plan(t))  # fmt: skip


def reads_sla(sc: Scenario) -> bool:
    """Whether the simulated behaviour depends on the SLA (``work_order: deadline_first``
    orders work by SLA deadlines); otherwise two scenarios differing only in ``sla`` simulate
    identically and only their judgement differs."""
    return any(t.work_order == "deadline_first" for t in sc.teams)


def priority_classes(sc: Scenario, channel: Any, segment: Any, segments: list[str]) -> list[int]:
    """Priority class per lead (0 = served first) from ``routing.priority_order``: the listed
    channels (or segments) in order, every unlisted one in the class after them."""
    r = sc.routing
    names = sc.channel_names() if r.priority_by == "channel" else segments
    rank = {name: i for i, name in enumerate(r.priority_order)}
    table = [rank.get(name, len(r.priority_order)) for name in names]
    codes = channel if r.priority_by == "channel" else segment
    return [table[c] for c in codes.tolist()]


class PolicyState:
    """Per worked-lead (slot) policy state shared by the policy teams of one model."""

    def __init__(self, model: FunnelModel, n_slots: int) -> None:
        sc = model.sc
        self.first_seq = [-1] * n_slots  # seq of the live first-attempt task (-1: none)
        self.deadline = [NAN] * n_slots  # first-touch deadline of the episode in ``dl_ep``
        self.dl_ep = [-1] * n_slots
        self.re_n = [0] * n_slots  # reassignments of the episode in ``re_ep``
        self.re_ep = [-1] * n_slots
        self.ft_from_mql = sc.sla.first_touch_from == "mql"
        self.ft_hours = sc.sla.first_touch_within_business_hours
        self.att_required = sc.sla.attempts_required
        self.att_hours = sc.sla.attempts_within_days * 24.0
        self.cls: list[int] | None = None  # priority class per lead id, if any


class TeamQueue:
    """The queue of a policy team (leads waiting for a slot, or the shared queue under
    ``pull``): a heap of items in the team's order; ``append``/``popleft`` as a deque's."""

    __slots__ = ("heap", "team")

    def __init__(self, team: PolicyTeam) -> None:
        self.heap: list[Item] = []
        self.team = team

    def __len__(self) -> int:
        return len(self.heap)

    def append(self, lead: int) -> None:
        """Queue a lead (routed now) for its first attempt."""
        t = self.team
        heappush(self.heap, t.item(t.env.now, next(t.seq), lead, 0))

    def popleft(self) -> int:
        """The first lead in the team's order."""
        return heappop(self.heap)[4]


class PolicyTeam:
    """A team with policies: same interface as :class:`~sla_sim.model.routing.Team`, plus
    routing (:meth:`route_in`), pull wake-ups and reassignment checks."""

    policy = True

    def __init__(self, model: FunnelModel, index: int, spec: TeamSpec, reps: list[PolicyRep],
                 cal: BusinessCalendar, overflow: int | None) -> None:  # fmt: skip
        import weakref

        sc = model.sc
        self.model = weakref.proxy(model)
        self.env = model.env
        self.seq = model.seq
        self.index = index
        self.reps = reps
        self.cal = cal
        self.always_open = cal.always_open
        self.next_open = cal.next_open
        self.least_loaded = sc.routing.rep_rule == "least_loaded"
        self._next = 0
        self.pull = spec.assignment == "pull"
        self.queue = TeamQueue(self)  # immediate: leads waiting for a free slot
        self.pool: list[Item] = []  # pull: the shared queue of new leads
        self.order = spec.work_order
        self.reassign_h = spec.reassign_after_business_hours
        self.max_re = spec.max_reassignments
        self.overflow = overflow
        self.checks: list[float] = []  # times of armed timers: checks, joins, leaves (a heap)
        self.pending: deque[tuple[float, PolicyRep, int, int, int, int]] = deque()
        self.check_at = math.inf  # when the armed reassignment timer fires
        self.ps: PolicyState = model.policy_state
        self.cls = self.ps.cls
        self.mql_t = model.mql_t
        self.slot = model.slot
        self.episode = model.episode
        self.owner_cal = [model.calendars[i] for i in range(len(sc.teams))]
        self.team_l = model.team_l
        self.staffed = False  # reps with their own presence and calendars (see staffing)
        self.own_calendars = False  # some rep works outside the team calendar
        self.skip_unavailable = False  # set with the staffing plan (see _staff)
        self.n_busy = 0  # reps mid-attempt
        self.offer_at = math.inf  # pull, team closed: when the armed offer timer fires
        if self.cls is None and self.order == "due_first":  # the common cases, without tests
            self.item = self._item_due_first  # type: ignore[method-assign]
        elif self.cls is None and self.order == "new_first":
            self.item = self._item_new_first  # type: ignore[method-assign]

    def _next_rep_open(self, t: float) -> float:
        """Staffed team: the earliest time at or after ``t`` when one of its reps works."""
        return min((rep.next_open(t) for rep in self.reps), default=math.inf)

    def item_due(self, item: Item) -> float:
        """The due time of a ready item."""
        return item[1] if self.order == "due_first" else item[2]

    # ---------------------------------------------------------------- order
    def item(self, due: float, seq: int, lead: int, k: int) -> Item:
        """The ready-heap item of attempt ``k`` of ``lead``, due at ``due`` (this method is
        replaced at set-up by the variant for the team's order)."""
        cls = self.cls[lead] if self.cls is not None else 0
        order = self.order
        if order == "due_first":
            return (cls, due, 0.0, seq, lead, k)
        if order == "new_first":
            return (cls, 0.0 if k == 0 else 1.0, due, seq, lead, k)
        return (cls, self.deadline(lead, k, due), due, seq, lead, k)

    def _item_due_first(self, due: float, seq: int, lead: int, k: int) -> Item:
        return (0, due, 0.0, seq, lead, k)

    def _item_new_first(self, due: float, seq: int, lead: int, k: int) -> Item:
        return (0, 0.0 if k == 0 else 1.0, due, seq, lead, k)

    def deadline(self, lead: int, k: int, due: float) -> float:
        """The SLA deadline attempt ``k`` of ``lead`` serves (``inf``: none)."""
        ps, s = self.ps, self.slot[lead]
        if k == 0:
            ep = self.episode[lead]
            if ps.dl_ep[s] != ep:  # the clause starts at MQL, or at the first assignment
                start = self.mql_t[s] if ps.ft_from_mql else due
                cal = self.owner_cal[self.team_l[lead]]
                ps.deadline[s] = cal.add_business_hours(start, ps.ft_hours)
                ps.dl_ep[s] = ep
            return ps.deadline[s]
        if k < ps.att_required:
            return self.mql_t[s] + ps.att_hours
        return math.inf

    # ---------------------------------------------------------------- routing
    def pick_rep(self, exclude: Rep | None = None, ignore_cap: bool = False
                 ) -> PolicyRep | None:  # fmt: skip
        """A rep with a free slot by the team's rule (other than ``exclude``), or None.

        Staffed teams consider only reps on the team now (joined, not left); with
        ``routing.skip_unavailable`` the reps on shift now come first (the others only when
        none on shift has a free slot). ``ignore_cap``: any such rep, free slot or not.
        """
        if self.staffed or self.skip_unavailable:
            return self._pick_available(exclude, ignore_cap)
        reps = [r for r in self.reps if r is not exclude] if exclude is not None else self.reps
        if not reps:
            return None
        if self.least_loaded:
            best = min(reps, key=_load)
            return best if best.active < best.cap or ignore_cap else None
        n = len(self.reps)
        for i in range(n):
            j = (self._next + i) % n
            rep = self.reps[j]
            if rep is not exclude and (rep.active < rep.cap or ignore_cap):
                self._next = (j + 1) % n
                return rep
        return None

    def _pick_available(self, exclude: Rep | None, ignore_cap: bool) -> PolicyRep | None:
        now, reps, skip = self.env.now, self.reps, self.skip_unavailable
        if self.least_loaded:
            ok = [r for r in reps if r is not exclude and r.on_team
                  and (ignore_cap or r.active < r.cap)]  # fmt: skip
            if skip:
                ok = [r for r in ok if r.is_on(now)] or ok
            return min(ok, key=_load) if ok else None
        n = len(reps)
        fallback = -1  # round robin: the first eligible rep in turn, on shift if asked
        for i in range(n):
            j = (self._next + i) % n
            r = reps[j]
            if r is exclude or not r.on_team or not (ignore_cap or r.active < r.cap):
                continue
            if not skip or r.is_on(now):
                self._next = (j + 1) % n
                return r
            if fallback < 0:
                fallback = j
        if fallback < 0:
            return None
        self._next = (fallback + 1) % n
        return reps[fallback]

    def route_in(self, lead: int, t: float) -> None:
        """A lead reaches this team at ``t``: log ``routed``, then assign, queue or pool it."""
        m = self.model
        m.rows.append((lead, self.episode[lead], t, C_ROUTED, self.index, -1, -1, NAN))
        if self.pull:
            heappush(self.pool, self.item(t, next(self.seq), lead, 0))
            self.offer()
            return
        rep = self.pick_rep()
        if rep is None:
            self.queue.append(lead)
        else:
            m.assign(rep, lead, t)

    def offer(self) -> None:
        """Pull: let free reps look at the shared queue, in the team's rule order."""
        heap, reps = self.pool, self.reps
        if self.n_busy == len(reps):
            return  # every rep is mid-attempt: the first to finish looks at the queue
        if not self.own_calendars and not self.always_open:
            now = self.env.now
            if not self.cal.is_open(now):  # nobody works now: one wake-up at the opening
                opens = self.cal.next_open(now)
                if opens < self.offer_at:
                    self.offer_at = opens
                    heappush(self.checks, opens)
                    Call(self.env, opens - now, self._offer_timer)
                return
        order = sorted(reps, key=_load) if self.least_loaded else reps[self._next:] + reps[
            :self._next]  # fmt: skip
        for rep in order:
            if not heap:
                return
            if not rep.busy and rep.active < rep.cap:
                before = len(heap)
                rep.dispatch()
                if len(heap) < before and not self.least_loaded:
                    self._next = (rep.index + 1) % len(reps)

    def _offer_timer(self, _event: Event) -> None:
        self.offer_at = math.inf
        self.offer()

    def next_event(self, now: float) -> float:
        """The earliest pending reassignment check at or after ``now`` (``inf``: none)."""
        checks = self.checks
        while checks and checks[0] < now:
            heappop(checks)
        return checks[0] if checks else math.inf

    # ---------------------------------------------------------------- reassignment
    def schedule_check(self, rep: PolicyRep, lead: int, s: int, seq: int, t: float) -> None:
        """A lead assigned at ``t``: check it ``reassign_h`` business hours later.

        Checks are kept in assignment order, which is also the order of their times (adding
        business hours is monotone), and one timer is armed, for the first check whose lead
        is still untouched: most leads are touched before their check is due and cost no
        event at all."""
        at = self.cal.add_business_hours(t, self.reassign_h)
        if at >= self.model.end_h:
            return
        self.pending.append((at, rep, lead, s, self.episode[lead], seq))
        if self.check_at == math.inf:
            self._arm(at)

    def _arm(self, at: float) -> None:
        self.check_at = at
        heappush(self.checks, at)
        Call(self.env, at - self.env.now, self._on_check)

    def _on_check(self, _event: Event) -> None:
        now, pending, first_seq = self.env.now, self.pending, self.ps.first_seq
        self.check_at = -math.inf  # checking: new assignments queue up without a timer
        while pending and pending[0][0] <= now:
            _, rep, lead, s, ep, seq = pending.popleft()
            self._check(rep, lead, s, ep, seq)
        while pending and first_seq[pending[0][3]] != pending[0][5]:
            pending.popleft()  # touched (or moved) since: nothing to check
        self.check_at = math.inf
        if pending:
            self._arm(pending[0][0])

    def _check(self, rep: PolicyRep, lead: int, s: int, ep: int, seq: int) -> None:
        ps, m = self.ps, self.model
        if self.episode[lead] != ep or ps.first_seq[s] != seq or m.first_t[s] == m.first_t[s]:
            return  # touched, moved on, or a later episode
        n = ps.re_n[s] if ps.re_ep[s] == ep else 0
        if n >= self.max_re:
            return
        ps.re_n[s], ps.re_ep[s] = n + 1, ep
        ps.first_seq[s] = -1  # the rep's first-attempt task is void from now
        rep.active -= 1
        now, rows = self.env.now, m.rows
        rows.append((lead, ep, now, C_REASSIGNED, self.index, rep.index, -1, float(n + 1)))
        target = self.pick_rep(exclude=rep)
        if target is not None:  # routed again, within the team
            rows.append((lead, ep, now, C_ROUTED, self.index, -1, -1, NAN))
            m.assign(target, lead, now)
        elif self.overflow is not None:
            ov = m.teams[self.overflow]
            rows.append((lead, ep, now, C_ESCALATED, ov.index, -1, -1, NAN))
            ov.route_in(lead, now)
        else:  # back to the team queue, for the next slot freed by any rep
            rows.append((lead, ep, now, C_ROUTED, self.index, -1, -1, NAN))
            self.queue.append(lead)
            return
        if self.queue and rep.active < rep.cap:  # the freed slot takes the next queued lead
            m.assign(rep, self.queue.popleft(), now)


def _load(rep: Rep) -> int:
    return rep.active


class PolicyRep(Rep):
    """An SDR of a :class:`PolicyTeam`: due attempts in the team's order, pulls under ``pull``.

    Attempts not yet due wait in ``future`` as (due, seq, item); at each decision those now due
    move to ``ready``, a heap in the team's order (with ``due_first`` and no priority classes
    the due order is the team's order: ``future`` alone serves, its top being the next attempt
    once due). A first attempt whose lead was reassigned away stays in the heap, void (its seq
    no longer matches), and is skipped when reached.
    """

    __slots__ = ("first_seq", "future", "gone", "is_on", "join_h", "leave_h", "on_team",
                 "pteam", "ramp_s", "ramp_t", "ready", "single")

    def __init__(self, model: FunnelModel, team: int, index: int, cap: int,
                 cal: BusinessCalendar) -> None:  # fmt: skip
        super().__init__(model, team, index, cap, cal)
        self.future: list[tuple[float, int, Item]] = []
        self.ready: list[Item] = []
        self.first_seq = model.policy_state.first_seq
        self.pteam: PolicyTeam | None = None  # set once the team exists
        self.single = False  # due order, no classes: one heap (set with the team)
        self.join_h, self.leave_h = -math.inf, math.inf
        self.gone = False
        self.on_team = True  # joined and not left (set by join() and leave())
        self.is_on = cal.is_open
        self.ramp_t: list[float] | None = None  # ramp: share ramp_s[i] from ramp_t[i]
        self.ramp_s: list[float] = [1.0]

    def set_availability(self, cal: RepCalendar, join_h: float, leave_h: float,
                         ramp: tuple[list[float], list[float]]) -> None:  # fmt: skip
        """Work only inside ``cal``; on the team over [join_h, leave_h); ramp (times, shares)."""
        self.next_open, self.close_of, self.is_on = cal.next_open, cal.close_of, cal.is_open
        self.open_from, self.open_until = 0.0, 0.0
        self.join_h, self.leave_h = join_h, leave_h
        self.on_team = join_h <= 0.0 < leave_h
        if ramp[1] != [1.0]:
            self.ramp_t, self.ramp_s = ramp

    def join(self) -> None:
        """First day on the team: take queued leads into the free slots."""
        pt, m = self.pteam, self.model
        self.on_team = True
        while pt.queue and self.active < self.cap:
            m.assign(self, pt.queue.popleft(), self.env.now)
        if pt.pull:
            self.dispatch()

    def leave(self) -> None:
        """The rep leaves (after the attempt in progress, if any): hand its leads over."""
        self.gone = True
        self.on_team = False
        if not self.busy:
            self.hand_over()

    def hand_over(self) -> None:
        """Give every held lead to the team: an untouched one is routed again (``reassigned``
        and ``routed`` rows, not counted against ``max_reassignments``); one mid-cadence goes
        with its next attempt (same number and due time) to a rep on the team by the rep
        rule, free slot or not. With nobody left on the team, touched leads stay unworked."""
        pt, m, now = self.pteam, self.model, self.env.now
        items = sorted(self.ready + [x[2] for x in self.future], key=lambda it: it[3])
        self.ready, self.future = [], []
        ps = pt.ps
        for item in items:
            lead, k, seq = item[4], item[5], item[3]
            s = self.slot[lead]
            if k == 0:
                if self.first_seq[s] != seq:
                    continue  # void: reassigned earlier
                self.first_seq[s] = -1
                self.active -= 1
                ep = self.episode[lead]
                n = ps.re_n[s] if ps.re_ep[s] == ep else 0
                m.rows.append((lead, ep, now, C_REASSIGNED, pt.index, self.index, -1, float(n)))
                pt.route_in(lead, now)
                continue
            target = pt.pick_rep(exclude=self, ignore_cap=True)
            if target is None:
                self.future.append((math.inf, seq, item))  # kept, never worked
                continue
            self.active -= 1
            target.active += 1
            due = pt.item_due(item)
            target._queue(pt.item(due, next(self.seq), lead, k), due)
            if not target.busy:
                target.dispatch()

    def push(self, task: tuple[float, int, int, int]) -> None:
        """Take a lead's first attempt at assignment (``task`` as :class:`Rep` takes it)."""
        due, seq, lead, k = task
        s = self.slot[lead]
        pt = self.pteam
        self.first_seq[s] = seq
        if pt.reassign_h is not None:
            pt.schedule_check(self, lead, s, seq, due)  # assigned now: due now
        self._queue(pt.item(due, seq, lead, k), due)
        if not self.busy:
            self.dispatch()

    def _queue(self, item: Item, due: float) -> None:
        if not self.single and due <= self.env.now:
            heappush(self.ready, item)
        else:
            heappush(self.future, (due, item[3], item))

    def _wake(self, start: float, now: float) -> None:
        if start < self.timer_at:  # an earlier wake-up than the one already set
            self.token += 1
            self.timer_at = start
            Call(self.env, start - now, self._on_timer, self.token)

    def dispatch(self) -> None:
        """Start the first due attempt (or pull a lead) now if on shift; else set a timer."""
        now = self.env.now
        future, first_seq, slot = self.future, self.first_seq, self.slot
        if self.single:  # due order only: one heap, its top is the next attempt
            while future and future[0][2][5] == 0 and first_seq[slot[future[0][2][4]]] != \
                    future[0][1]:  # fmt: skip
                heappop(future)  # a void first attempt (the lead was reassigned)
            top = future[0][2] if future and future[0][0] <= now else None
        else:
            ready = self.ready
            while future and future[0][0] <= now:
                heappush(ready, heappop(future)[2])
            while ready and ready[0][5] == 0 and first_seq[slot[ready[0][4]]] != ready[0][3]:
                heappop(ready)  # a void first attempt (the lead was reassigned)
            top = ready[0] if ready else None
        pt = self.pteam
        pool = pt.pool if pt.pull and self.active < self.cap else None
        if top is None and not pool:
            if future:
                due = future[0][0]
                start = self.next_open(due)
                if start > now:
                    self._wake(start, now)
            return
        if not self.open_from <= now < self.open_until:
            start = self.next_open(now)
            self.open_from, self.open_until = start, self.close_of(start)
            if start > now:
                self._wake(start, now)
                return
        if pool and (top is None or pool[0] < top):
            item = heappop(pool)
            lead, k = item[4], 0
            self.active += 1
            self.log_row((lead, self.episode[lead], now, C_ASSIGNED, self.team, self.index, -1,
                          NAN))  # fmt: skip
        else:
            heappop(future if self.single else self.ready)
            lead, k = top[4], top[5]
        # start attempt k of the lead
        s = slot[lead]
        work_h = self.work_h[s * self.A + k] * self.stretch
        if self.ramp_t is not None:  # a ramping rep: attempts take 1 / share as long
            work_h /= self.ramp_s[bisect_right(self.ramp_t, now) - 1]
        self.busy = True
        pt.n_busy += 1
        self.current = (lead, s, k, now)
        if k == 0:
            self.first_t[s] = now
            first_seq[s] = -1  # touched: no longer reassignable
        self.log_row((lead, self.episode[lead], now, ATTEMPT, self.team, self.index, k, work_h))
        Call(self.env, work_h, self._on_done)

    def _on_done(self, _event: Event) -> None:
        lead, s, k, start = self.current
        if self.u_contact[s * self.A + k] >= self.p_contact(start - self.mql_t[s], k):
            k += 1
            if k < self.A:
                due = self.first_t[s] + self.cadence_h[k]
                item = self.pteam.item(due, next(self.seq), lead, k)
                if not self.single and due <= self.env.now:
                    heappush(self.ready, item)
                else:
                    heappush(self.future, (due, item[3], item))
            else:
                self.model.on_exhausted(self, lead, s)
        else:
            self.model.on_reached(self, lead, s, k)
        self.busy = False
        self.pteam.n_busy -= 1
        if self.gone:
            self.hand_over()
            return
        self.dispatch()


def build_policy_team(model: FunnelModel, index: int, overflow: int | None) -> PolicyTeam:
    """The reps and the :class:`PolicyTeam` of team ``index`` of the model's scenario."""
    spec = model.sc.teams[index]
    cal = model.calendars[index]
    staffing = None
    n_reps = spec.reps
    if has_staffing_plan(spec):
        staffing = Staffing(model.sc, index, model.origin, model.end_h, model.streams)
        n_reps = len(staffing.plans)
    reps = [PolicyRep(model, index, r, spec.max_active_leads, cal) for r in range(n_reps)]
    team = PolicyTeam(model, index, spec, reps, cal, overflow)
    for rep in reps:
        rep.pteam = team
        rep.single = team.order == "due_first" and team.cls is None
    if staffing is not None:
        _staff(model, team, staffing)
    return team


def _staff(model: FunnelModel, team: PolicyTeam, staffing: Staffing) -> None:
    """Give each rep its calendar, presence and ramp; log them; schedule joins and leaves."""
    team.staffed = True
    team.skip_unavailable = model.sc.routing.skip_unavailable
    if model.sc.teams[team.index].rep_calendars:  # reps' own hours: the earliest of them
        team.own_calendars = True
        team.always_open = False
        team.next_open = team._next_rep_open
    # else every rep works inside the team calendar: its openings are a safe (early) bound
    env, end_h = model.env, model.end_h
    for r, rep in enumerate(team.reps):
        plan = staffing.plans[r]
        starts, ends = staffing.intervals(r)
        ramp = staffing.ramp_steps(r)
        rep.set_availability(RepCalendar(starts, ends), plan.join_h, plan.leave_h, ramp)
        model.rows.extend(log_rows(team.index, r, starts, ends, ramp, C_REP_ON, C_REP_OFF))
        if 0.0 < plan.join_h < end_h:
            heappush(team.checks, plan.join_h)
            Call(env, plan.join_h, lambda _e, rep=rep: rep.join())
        if plan.leave_h < end_h:
            heappush(team.checks, plan.leave_h)
            Call(env, plan.leave_h, lambda _e, rep=rep: rep.leave())


__all__ = ["PolicyRep", "PolicyState", "PolicyTeam", "TeamQueue", "build_policy_team",
           "has_policy", "priority_classes", "reads_sla"]
