"""Handoff: when an MQL is turned over to sales.

After an operations delay (enrichment, sync), an MQL is routed at once (``realtime``) or at the
next batch instant: every ``batch_every_hours`` from the origin, or at ``batch_local_hours`` on
the marketing calendar's working days.
"""

from __future__ import annotations

import numpy as np

from sla_sim.calendar import BusinessCalendar
from sla_sim.scenario.schema import HandoffSpec


class HandoffSchedule:
    """Maps 'eligible for routing at t' to 'routed at t'' for a handoff policy."""

    def __init__(self, spec: HandoffSpec, marketing: BusinessCalendar, end_h: float) -> None:
        self.spec = spec
        self.batches: np.ndarray | None = None
        if spec.mode == "batch":
            last = end_h + 24 * 14
            if spec.batch_every_hours is not None:
                self.batches = np.arange(0.0, last + spec.batch_every_hours,
                                         spec.batch_every_hours)
            else:
                self.batches = _daily_batches(marketing, spec.batch_local_hours, last)

    def route_times(self, eligible_h: np.ndarray) -> np.ndarray:
        """Routing times for leads eligible at ``eligible_h`` (vectorised)."""
        if self.batches is None:
            return np.asarray(eligible_h, dtype=np.float64)
        idx = np.searchsorted(self.batches, eligible_h, side="left")
        out = np.full(len(idx), np.inf)
        ok = idx < len(self.batches)
        out[ok] = self.batches[idx[ok]]
        return out

    def route_time(self, eligible_h: float) -> float:
        """Routing time for one lead."""
        if self.batches is None:
            return eligible_h
        i = int(np.searchsorted(self.batches, eligible_h, side="left"))
        return float(self.batches[i]) if i < len(self.batches) else float("inf")


def _daily_batches(cal: BusinessCalendar, hours: list[float], last_h: float) -> np.ndarray:
    """Batch instants at the given local hours on the calendar's working days."""
    spec = cal.spec
    first = cal.local_datetime(0.0).date()
    n_days = int(last_h // 24) + 2
    out = []
    for d in range(n_days):
        day = first.fromordinal(first.toordinal() + d)
        if not spec.always_open and (
            day.weekday() not in spec.working_days or day in spec.holidays
        ):
            continue
        for h in hours:
            out.append(cal.local_hours(day, h))
    return np.asarray(sorted(out), dtype=np.float64)
