"""Hypothesis strategies for sla_sim tests: hand-checkable event logs and SLA windows."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from sla_sim.events import CODE, EventLog

NAN = math.nan
Row = tuple[int, int, float, int, int, int, int, float]

_delays = st.floats(min_value=0.0, max_value=400.0, allow_nan=False, allow_infinity=False)


def _row(lead: int, time_h: float, event: str, attempt: int = -1) -> Row:
    return (lead, 1, time_h, CODE[event], 0, -1 if event == "mql" else 0, attempt, NAN)


@st.composite
def episode_rows(draw: st.DrawFn, lead: int, horizon_h: float) -> list[Row]:
    """The rows of one lead's first MQL episode, in funnel order, cut at ``horizon_h``.

    mql, then optionally routed, assigned, up to five attempts (each possibly reaching the
    lead, which ends the attempts) and a disposition; later steps need the earlier ones.
    """
    t = draw(st.floats(min_value=0.0, max_value=horizon_h - 1e-3, allow_nan=False))
    rows = [_row(lead, t, "mql")]
    for step in ("routed", "assigned"):
        if not draw(st.booleans()):
            return [r for r in rows if r[2] < horizon_h]
        t += draw(_delays)
        rows.append(_row(lead, t, step))
    for k in range(draw(st.integers(min_value=0, max_value=5))):
        t += draw(_delays)
        rows.append(_row(lead, t, "attempt", k))
        if draw(st.booleans()):
            t += draw(st.floats(min_value=0.01, max_value=1.0))
            rows.append(_row(lead, t, "contact", k))
            break
    if draw(st.booleans()):
        t += draw(_delays)
        rows.append(_row(lead, t, draw(st.sampled_from(["sql", "disqualified", "recycled"]))))
    return [r for r in rows if r[2] < horizon_h]


@st.composite
def event_logs(draw: st.DrawFn, channels: list[str], teams: list[str],
               horizon_h: float = 744.0, max_leads: int = 12) -> EventLog:
    """An EventLog of 1..max_leads leads (one episode each, team 0) observed until horizon_h."""
    n = draw(st.integers(min_value=1, max_value=max_leads))
    log = EventLog(list(channels), ["mid_market"], list(teams))
    log.set_leads(np.zeros(n), np.zeros(n), np.zeros(n), np.full(n, 70.0))
    for lead in range(n):
        log.rows.extend(draw(episode_rows(lead, horizon_h)))
    return log


def window_pairs(low: float, high: float) -> st.SearchStrategy[tuple[float, float]]:
    """(short, long) SLA windows with low <= short <= long <= 2 * high."""
    return st.tuples(
        st.floats(min_value=low, max_value=high, allow_nan=False),
        st.floats(min_value=0.0, max_value=high, allow_nan=False),
    ).map(lambda p: (p[0], p[0] + p[1]))
