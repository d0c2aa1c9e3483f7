"""SDRs: each rep is an event-driven state machine on SimPy's scheduler, working a heap of due
attempts on its team's calendar.

A rep holds at most ``max_active_leads`` leads. Each lead gets the cadence of attempts; an attempt
starts only in working hours (an attempt running at closing time is finished) and takes rep time
stretched by ``1 / (1 - shrinkage)``, the share of working time spent on other work. The chance an
attempt reaches the lead decays with the hours since the lead became an MQL. A reached lead is
qualified (SQL), disqualified, or recycled to nurture; an unreached one is recycled after the
last attempt. Either way the rep's slot is freed and the next queued lead takes it.

Reps use SimPy timeouts with callbacks rather than one generator process each: a rep has exactly
one pending "next thing" (an attempt ending, or a wake-up at the next due/open time), and a
callback avoids a generator resume per event, which is most of SimPy's per-event cost.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sla_sim.calendar import BusinessCalendar
from sla_sim.events import CODE
from sla_sim.scenario import ContactSpec

if TYPE_CHECKING:
    from sla_sim.model.funnel import FunnelModel

Task = tuple[float, int, int, int]  # (due_h, seq, lead, attempt)
ATTEMPT = CODE["attempt"]


class Rep:
    """One SDR: slots, a heap of due attempts, and at most one live timer."""

    __slots__ = ("active", "always", "busy", "busy_h", "cal", "cap", "current", "env", "episode",
                 "first_t", "index", "model", "n_attempts", "next_open", "open_from", "open_until",
                 "rows", "stretch",
                 "tasks", "team", "timer_at", "token", "work_h")  # fmt: skip

    def __init__(self, model: FunnelModel, team: int, index: int, cap: int,
                 cal: BusinessCalendar) -> None:  # fmt: skip
        self.model = model
        self.env = model.env
        self.team = team
        self.index = index
        self.cap = cap
        self.cal = cal
        self.stretch = model.stretch[team]
        self.always = cal.always_open
        self.next_open = cal.next_open
        self.open_from = self.open_until = 0.0  # the working interval last looked up
        self.work_h = model.work_h  # per-lead x attempt draws, updated in place on recycling
        self.n_attempts = model.n_attempts
        self.rows = model.rows  # the event log's row list (appended in place)
        self.episode = model.episode
        self.first_t = model.first_t
        self.active = 0
        self.busy = False
        self.busy_h = 0.0
        self.tasks: list[Task] = []
        self.current: tuple[int, int, float, float] | None = None
        self.timer_at = math.inf
        self.token = 0

    def push(self, task: Task) -> None:
        """Queue an attempt; an idle or waiting rep re-plans at once."""
        heapq.heappush(self.tasks, task)
        if not self.busy:
            self.dispatch()

    def dispatch(self) -> None:
        """Start the earliest due attempt now if possible, else set a timer for when it is."""
        tasks = self.tasks
        if not tasks:
            return
        env = self.env
        now = env.now
        due = tasks[0][0]
        start = due if due > now else now
        if not self.always and not self.open_from <= start < self.open_until:
            start = self.next_open(start)
            self.open_from, self.open_until = start, self.cal.close_of(start)
        if start > now:
            if start < self.timer_at:  # an earlier wake-up than the one already set
                self.token += 1
                self.timer_at = start
                token = self.token
                env.timeout(start - now).callbacks.append(lambda _e: self._on_timer(token))
            return
        _, _, lead, k = heapq.heappop(tasks)
        work_h = self.work_h[lead * self.n_attempts + k] * self.stretch
        self.busy = True  # a live wake-up timer stays armed: it is ignored while busy
        self.current = (lead, k, now, work_h)
        if k == 0:
            self.first_t[lead] = now  # the cadence counts from the first attempt
        self.rows.append((lead, self.episode[lead], now, ATTEMPT, self.team, self.index, k,
                          work_h))  # fmt: skip
        env.timeout(work_h).callbacks.append(self._on_done)

    def _on_timer(self, token: int) -> None:
        if token == self.token:  # the live timer (older ones were superseded)
            self.timer_at = math.inf
            if not self.busy:
                self.dispatch()

    def _on_done(self, _event: Any) -> None:
        lead, k, start, work_h = self.current  # type: ignore[misc]
        self.busy_h += work_h
        self.model.on_attempt_end(self, lead, k, start)
        self.busy = False
        self.dispatch()


def contact_curve(spec: ContactSpec) -> Callable[[float, int], float]:
    """P(an attempt reaches the lead) as a function of (hours since MQL, 0-based attempt).

    ``decay**attempt * (floor + (initial - floor) * f(age))`` with ``f = 2**(-age/half_life)``
    (exponential) or ``f = 1 / (1 + age/half_life)`` (power).
    """
    p0, pf, hl, decay = spec.p_initial, spec.p_floor, spec.half_life_hours, spec.attempt_decay
    span = p0 - pf
    if spec.shape == "exponential":
        rate = math.log(2.0) / hl

        def curve(age_h: float, attempt: int) -> float:
            return decay**attempt * (pf + span * math.exp(-rate * age_h))
    else:

        def curve(age_h: float, attempt: int) -> float:
            return decay**attempt * (pf + span / (1.0 + age_h / hl))

    return curve
