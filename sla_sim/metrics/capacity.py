"""Capacity metrics from the event log: utilisation and time-weighted queue lengths."""

from __future__ import annotations

import numpy as np

from sla_sim.calendar import BusinessCalendar
from sla_sim.events import CODE


def level_mean_max(
    up_t: np.ndarray, down_t: np.ndarray, t0: float, t1: float
) -> tuple[float, float]:
    """Time-weighted mean and max over [t0, t1) of a count that rises at ``up_t`` and falls
    at ``down_t`` (e.g. leads waiting: routed up, assigned down)."""
    times = np.concatenate([up_t, down_t])
    delta = np.concatenate([np.ones(len(up_t)), -np.ones(len(down_t))])
    order = np.lexsort((delta, times))  # at equal times, count the fall first
    times, level = times[order], np.cumsum(delta[order])
    start_level = level[times < t0][-1] if np.any(times < t0) else 0.0
    inside = (times >= t0) & (times < t1)
    ts = np.concatenate([[t0], times[inside], [t1]])
    lv = np.concatenate([[start_level], level[inside]])
    span = t1 - t0
    mean = float(np.sum(lv * np.diff(ts)) / span) if span > 0 else float("nan")
    return mean, float(lv.max()) if len(lv) else 0.0


def rep_busy_hours(cols: dict[str, np.ndarray], t0: float, t1: float,
                   calendars: list[BusinessCalendar]) -> float:  # fmt: skip
    """Rep hours spent on attempts inside [t0, t1), counting only the team's working hours.

    An attempt still running at closing time is finished by the model (overtime); that part is
    not counted, so utilisation (busy / working hours) stays within [0, 1].
    """
    m = cols["event"] == CODE["attempt"]
    s = np.maximum(cols["time_h"][m], t0)
    e = np.minimum(cols["time_h"][m] + cols["value"][m], t1)
    team = cols["team"][m]
    total = 0.0
    for ti, cal in enumerate(calendars):
        k = (team == ti) & (e > s)
        if k.any():
            total += float(cal.business_hours_between_many(s[k], e[k]).sum())
    return total
