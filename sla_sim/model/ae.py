"""AEs: each works opportunities in selling hours on the AE calendar, under a cap on open ones.

An SQL goes to a free AE: one not working an opportunity's selling hours and below
``max_open_opportunities``, the least loaded (fewest open, the first of equals); with none
free it waits, first come first served. The opportunity opens when the AE starts on it (the
AE calendar's next working moment) and takes the AE ``selling_hours_per_opportunity /
selling_share`` business hours, one opportunity at a time; then the AE takes the next waiting
SQL. It closes won (revenue booked on the close date) or lost after the lead's sales-cycle
draw, or when its selling hours end if later; closing frees its slot. An AE's capacity is thus
hours (``calendar`` x ``selling_share``), with the slot cap on top.

Modelling choice: the selling hours are spent in one block from the opening rather than spread
over the cycle. Capacity (opportunities per AE-month) is the same either way; the wait for an
AE is then the wait for the first AE working session, which the AE clause measures in AE
business hours. ``selling_hours_per_opportunity: 0`` keeps the slot cap alone: an opportunity
opens as soon as a slot is free, at any hour.
"""

from __future__ import annotations

import weakref
from collections import deque
from typing import TYPE_CHECKING

from sla_sim.calendar import BusinessCalendar
from sla_sim.scenario.schema import AESpec

if TYPE_CHECKING:
    from sla_sim.model.funnel import FunnelModel


class AEPool:
    """The AEs' open-opportunity slots and selling time, the SQL queue, and the open/close
    bookkeeping."""

    def __init__(self, model: FunnelModel, spec: AESpec, calendar: BusinessCalendar) -> None:
        self.model = weakref.proxy(model)  # the model owns the pool: no reference cycle
        self.open = [0] * spec.count
        self.busy = [False] * spec.count  # working an opportunity's selling hours
        self.cap = spec.max_open_opportunities
        self.work_bh = spec.work_business_hours
        self.calendar = calendar
        self.queue: deque[int] = deque()

    def _free(self) -> int:
        """The least-loaded AE (the first of equals) not busy and below the cap, or -1."""
        best = -1
        for ae, n in enumerate(self.open):
            if n < self.cap and not self.busy[ae] and (best < 0 or n < self.open[best]):
                best = ae
        return best

    def submit(self, lead: int) -> None:
        """An SQL arrives: a free AE opens its opportunity, or it waits in the queue."""
        ae = self._free()
        if ae >= 0:
            self._open(ae, lead)
        else:
            self.queue.append(lead)

    def _open(self, ae: int, lead: int) -> None:
        m = self.model
        self.open[ae] += 1
        now = m.env._now
        cycle_h = m.cycle_h[m.slot[lead]]
        if not self.work_bh:  # no selling time: the slot alone
            m.log_row(lead, m.episode[lead], now, m.C_OPP_OPEN, -1, ae, -1, m.NAN)
            if now + cycle_h < m.end_h:
                m.env.call_far(cycle_h, lambda _arg: self._close(ae, lead))  # weeks ahead
            return
        self.busy[ae] = True
        start = self.calendar.next_open(now)
        if start >= m.end_h:
            return
        m.log_row(lead, m.episode[lead], start, m.C_OPP_OPEN, -1, ae, -1, self.work_bh)
        done = self.calendar.add_business_hours(start, self.work_bh)
        if done < m.end_h:
            m.env.call(done - now, self._done, ae)
        close = max(start + cycle_h, done)
        if close < m.end_h:
            m.env.call_far(close - now, lambda _arg: self._close(ae, lead))

    def _done(self, ae: int) -> None:
        """The AE finished an opportunity's selling hours: it takes the next waiting SQL."""
        self.busy[ae] = False
        if self.queue and self.open[ae] < self.cap:
            self._open(ae, self.queue.popleft())

    def _close(self, ae: int, lead: int) -> None:
        m = self.model
        m.close_opportunity(lead, ae)
        self.open[ae] -= 1
        if self.queue and not self.busy[ae]:
            self._open(ae, self.queue.popleft())
