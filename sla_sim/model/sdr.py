"""SDRs: each rep is an event-driven state machine on SimPy's scheduler, working a heap of due
attempts on its team's calendar.

A rep holds at most ``max_active_leads`` leads. Each lead gets the cadence of attempts; an attempt
starts only in working hours (an attempt running at closing time is finished) and takes rep time
stretched by ``1 / (1 - shrinkage)``, the share of working time spent on other work. The chance an
attempt reaches the lead decays with the hours since the lead became an MQL. A reached lead is
qualified (SQL), disqualified, or recycled to nurture; an unreached one is recycled after the
last attempt. Either way the rep's slot is freed and the next queued lead takes it.

Reps use scheduled callbacks rather than one generator process each: a rep has exactly one
pending "next thing" (an attempt ending, or a wake-up at the next due/open time), and a callback
avoids a generator resume per event, which is most of SimPy's per-event cost. The callbacks are
scheduled with :meth:`sla_sim.model.calls.Loop.call` (a heap entry, no event object). This is
the model's hot loop (about 30,000 attempts per default replication), so it reads the model's
per-lead lists directly and keeps the common outcome (not reached, try again later) inline.

Per-lead draws are indexed by the lead's *slot* (``model.slot[lead]``): only leads that reach
the event loop have one (see :mod:`sla_sim.model.leads`).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from heapq import heappop, heappush
from typing import TYPE_CHECKING

from sla_sim.calendar import BusinessCalendar
from sla_sim.events import CODE
from sla_sim.scenario.schema import ContactSpec

if TYPE_CHECKING:
    from simpy.events import Event

    from sla_sim.model.funnel import FunnelModel

Task = tuple[float, int, int, int]  # (due_h, seq, lead, attempt)
ATTEMPT = CODE["attempt"]


class Rep:
    """One SDR: slots, a heap of due attempts, and at most one live timer."""

    __slots__ = ("A", "active", "busy", "cadence_h", "cal", "cap", "close_of", "current", "env",
                 "episode", "first_t", "index", "log_row", "model", "mql_t", "next_open",
                 "open_from", "open_until", "p_contact", "seq", "slot", "stretch", "tasks", "team",
                 "timer_at", "token", "u_contact", "work_h")  # fmt: skip

    def __init__(self, model: FunnelModel, team: int, index: int, cap: int,
                 cal: BusinessCalendar) -> None:  # fmt: skip
        self.model = weakref.proxy(model)  # the model owns its reps: no reference cycle
        self.env = model.env
        self.team = team
        self.index = index
        self.cap = cap
        self.cal = cal
        self.stretch = model.stretch[team]
        self.next_open = cal.next_open
        self.close_of = cal.close_of
        # the working interval last looked up; an always-open calendar is one endless interval
        self.open_from, self.open_until = (-math.inf, math.inf) if cal.always_open else (0.0, 0.0)
        # the model's per-lead lists (updated in place on recycling) and shared counters
        self.A = model.n_attempts
        self.slot = model.slot
        self.work_h = model.work_h
        self.u_contact = model.u_contact
        self.mql_t = model.mql_t
        self.first_t = model.first_t
        self.episode = model.episode
        self.cadence_h = model.cadence_h
        self.p_contact = model.p_contact
        self.log_row = model.rows.append  # appends to the event log's row list
        self.seq = model.seq
        self.active = 0
        self.busy = False
        self.tasks: list[Task] = []
        self.current: tuple[int, int, int, float] = (-1, -1, -1, math.nan)
        self.timer_at = math.inf
        self.token = 0

    def push(self, task: Task) -> None:
        """Queue an attempt; an idle or waiting rep re-plans at once."""
        heappush(self.tasks, task)
        if not self.busy:
            self.dispatch()

    def dispatch(self) -> None:
        """Start the earliest due attempt now if possible, else set a timer for when it is."""
        tasks = self.tasks
        if not tasks:
            return
        env = self.env
        now = env._now  # ``env.now`` without the property call (hot path)
        due = tasks[0][0]
        start = due if due > now else now
        if not self.open_from <= start < self.open_until:
            start = self.next_open(start)
            self.open_from, self.open_until = start, self.close_of(start)
        if start > now:
            if start < self.timer_at:  # an earlier wake-up than the one already set
                self.token += 1
                self.timer_at = start
                env.call(start - now, self._on_wake, self.token)
            return
        _, _, lead, k = heappop(tasks)
        s = self.slot[lead]
        work_h = self.work_h[s * self.A + k] * self.stretch
        self.busy = True  # a live wake-up timer stays armed: it is ignored while busy
        self.current = (lead, s, k, now)
        if k == 0:
            self.first_t[s] = now  # the cadence counts from the first attempt
        self.log_row((lead, self.episode[lead], now, ATTEMPT, self.team, self.index, k, work_h))
        env.call(work_h, self._on_done)

    def _on_timer(self, event: Event) -> None:
        """A wake-up scheduled as a SimPy event (:class:`~sla_sim.model.calls.Call`)."""
        self._on_wake(event.value)

    def _on_wake(self, token: int) -> None:
        if token == self.token:  # the live timer (older ones were superseded)
            self.timer_at = math.inf
            if not self.busy:
                self.dispatch()

    def _on_done(self, _arg: object) -> None:
        """An attempt ends: not reached, the next one of the cadence is due later (inline);
        otherwise the model settles the outcome. Then the rep takes its next attempt."""
        lead, s, k, start = self.current
        if self.u_contact[s * self.A + k] >= self.p_contact(start - self.mql_t[s], k):
            k += 1
            if k < self.A:
                heappush(self.tasks, (self.first_t[s] + self.cadence_h[k], next(self.seq), lead,
                                      k))  # fmt: skip
            else:
                self.model.on_exhausted(self, lead, s)
        else:
            self.model.on_reached(self, lead, s, k)
        self.busy = False
        self.dispatch()


def contact_curve(spec: ContactSpec) -> Callable[[float, int], float]:
    """P(an attempt reaches the lead) as a function of (hours since MQL, 0-based attempt).

    ``decay**attempt * (floor + (initial - floor) * f(age))`` with ``f = 2**(-age/half_life)``
    (exponential) or ``f = 1 / (1 + age/half_life)`` (power).
    """
    p0, pf, hl, decay = spec.p_initial, spec.p_floor, spec.half_life_hours, spec.attempt_decay
    span = p0 - pf
    n_pow = 21  # decay**attempt looked up for every cadence length a scenario allows (<= 20)
    powers = [decay**k for k in range(n_pow)]
    if spec.shape == "exponential":
        rate = math.log(2.0) / hl
        exp = math.exp

        def curve(age_h: float, attempt: int) -> float:
            d = powers[attempt] if attempt < n_pow else decay**attempt
            return d * (pf + span * exp(-rate * age_h))
    else:

        def curve(age_h: float, attempt: int) -> float:
            d = powers[attempt] if attempt < n_pow else decay**attempt
            return d * (pf + span / (1.0 + age_h / hl))

    return curve
