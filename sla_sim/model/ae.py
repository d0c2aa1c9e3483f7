"""AEs: a pool with a cap on open opportunities each; SQLs beyond the cap wait in a queue.

An opportunity opens when an AE has a free slot, runs for the lead's sales-cycle draw, and closes
won (revenue booked on the close date) or lost. Closing frees the slot for the next queued SQL.
No rep time is modelled beyond the slot: the cap is the AE's capacity.
"""

from __future__ import annotations

import weakref
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sla_sim.model.funnel import FunnelModel


class AEPool:
    """Open-opportunity slots of the AEs, the SQL queue, and the open/close bookkeeping."""

    def __init__(self, model: FunnelModel, count: int, cap: int) -> None:
        self.model = weakref.proxy(model)  # the model owns the pool: no reference cycle
        self.open = [0] * count
        self.cap = cap
        self.queue: deque[int] = deque()

    def submit(self, lead: int) -> None:
        """An SQL arrives: open an opportunity with the least-loaded AE, or queue it."""
        ae = min(range(len(self.open)), key=self.open.__getitem__)
        if self.open[ae] < self.cap:
            self._open(ae, lead)
        else:
            self.queue.append(lead)

    def _open(self, ae: int, lead: int) -> None:
        m = self.model
        self.open[ae] += 1
        now = m.env._now
        m.log_row(lead, m.episode[lead], now, m.C_OPP_OPEN, -1, ae, -1, m.NAN)
        cycle_h = m.cycle_h[m.slot[lead]]
        if now + cycle_h < m.end_h:
            m.env.call_far(cycle_h, lambda _arg: self._close(ae, lead))  # weeks ahead

    def _close(self, ae: int, lead: int) -> None:
        m = self.model
        m.close_opportunity(lead, ae)
        self.open[ae] -= 1
        if self.queue:
            self._open(ae, self.queue.popleft())
