"""Per-lead SLA clauses: met, breached, or pending at the end of observation.

A clause starts at a moment (MQL, or assignment for first touch when so configured), has a
deadline, and is satisfied by an event. It is *met* if the event happened by the deadline,
*breached* if it happened later or the deadline passed without it, and *pending* if the deadline
is after the end of observation and the event has not happened: pending leads are neither met
nor breached and are counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sla_sim.calendar import BusinessCalendar
from sla_sim.metrics.capacity import add_business_hours
from sla_sim.metrics.episodes import Episodes
from sla_sim.scenario.schema import SLASpec

CLAUSES = ("handoff", "first_touch", "attempts", "disposition")
MET, BREACHED, PENDING, NOT_STARTED = 0, 1, 2, 3


@dataclass
class ClauseOutcome:
    """Outcome per episode (MET/BREACHED/PENDING/NOT_STARTED) and the clause start time."""

    status: np.ndarray
    start: np.ndarray


def judge(start: np.ndarray, deadline: np.ndarray, done: np.ndarray, observed_until: float
          ) -> np.ndarray:  # fmt: skip
    """Status per episode from clause start, deadline and satisfying time (NaN = not yet)."""
    if all(isinstance(a, np.ndarray) and a.dtype == np.float64 and a.ndim == 1
           and a.flags.c_contiguous and len(a) == len(start) for a in (start, deadline, done)):
        from sla_sim.metrics.kernels import judge_status  # numba: loaded on first use

        return judge_status(start, deadline, done, float(observed_until))  # the same, one pass
    status = np.full(len(start), NOT_STARTED, dtype=np.int8)
    started = ~np.isnan(start)
    has = ~np.isnan(done)
    status[started & has & (done <= deadline)] = MET
    status[started & has & (done > deadline)] = BREACHED
    status[started & ~has & (deadline <= observed_until)] = BREACHED
    status[started & ~has & (deadline > observed_until)] = PENDING
    return status


def evaluate(ep: Episodes, sla: SLASpec, calendars: list[BusinessCalendar],
             observed_until: float) -> dict[str, ClauseOutcome]:  # fmt: skip
    """Evaluate every per-lead clause for every episode."""
    out: dict[str, ClauseOutcome] = {}
    h = sla.handoff_within_hours
    out["handoff"] = ClauseOutcome(judge(ep.mql, ep.mql + h, ep.routed, observed_until), ep.mql)

    ft_start = ep.mql if sla.first_touch_from == "mql" else ep.assigned
    deadline = np.full(len(ep), np.nan)
    for ti, cal in enumerate(calendars):
        m = (ep.team == ti) & ~np.isnan(ft_start)
        if m.any():
            deadline[m] = add_business_hours(
                cal, ft_start[m], np.full(int(m.sum()), sla.first_touch_within_business_hours)
            )
    out["first_touch"] = ClauseOutcome(
        judge(ft_start, deadline, ep.first_attempt, observed_until), ft_start
    )

    # K attempts are owed unless the lead was reached sooner
    sat = np.fmin(ep.kth_attempt, ep.contact)
    d_att = ep.mql + sla.attempts_within_days * 24.0
    out["attempts"] = ClauseOutcome(judge(ep.mql, d_att, sat, observed_until), ep.mql)

    d_disp = ep.mql + sla.disposition_within_days * 24.0
    out["disposition"] = ClauseOutcome(
        judge(ep.mql, d_disp, ep.disposition, observed_until), ep.mql
    )
    return out
