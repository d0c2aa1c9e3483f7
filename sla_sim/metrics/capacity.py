"""Capacity metrics from the event log: utilisation and time-weighted queue lengths."""

from __future__ import annotations

import numpy as np

from sla_sim.calendar import BusinessCalendar
from sla_sim.events import CODE


def cum_hours_many(cal: BusinessCalendar, t: np.ndarray) -> np.ndarray:
    """``cal.cum_hours_many(t)`` (business hours from the calendar's start to each time), the
    same numbers in one compiled pass for a calendar with working intervals."""
    if cal.always_open:
        return cal.cum_hours_many(t)
    from sla_sim.metrics.kernels import cum_hours  # numba: loaded on first use

    return cum_hours(np.asarray(t, dtype=np.float64), cal.starts, cal.ends, cal.cum_starts)


def business_hours_between(cal: BusinessCalendar, t0: np.ndarray, t1: np.ndarray
                           ) -> np.ndarray:  # fmt: skip
    """``cal.business_hours_between_many(t0, t1)``, the same numbers (see
    :func:`cum_hours_many`)."""
    if cal.always_open:
        return cal.business_hours_between_many(t0, t1)
    return cum_hours_many(cal, t1) - cum_hours_many(cal, t0)


def add_business_hours(cal: BusinessCalendar, t: np.ndarray, h: np.ndarray | float
                       ) -> np.ndarray:  # fmt: skip
    """``cal.add_business_hours_many(t, h)``, the same numbers in one compiled pass for a
    calendar with working intervals (the calendar's own method raises for a negative ``h``)."""
    ta, ha = np.broadcast_arrays(np.asarray(t, np.float64), np.asarray(h, np.float64))
    if cal.always_open or ta.ndim != 1 or not np.all(ha >= 0):
        return cal.add_business_hours_many(t, h)
    from sla_sim.metrics.kernels import add_hours  # numba: loaded on first use

    return add_hours(np.ascontiguousarray(ta), np.ascontiguousarray(ha), cal.starts, cal.ends,
                     cal.cum_starts, cal._cum_ends)  # fmt: skip


class Level:
    """A count that rises by one at each ``up_t`` and falls by one at each ``down_t`` (e.g.
    leads waiting: routed up, assigned down), sorted once to be measured over many windows."""

    def __init__(self, up_t: np.ndarray, down_t: np.ndarray) -> None:
        """Sort the changes once: their times and the count just after each."""
        # falls first, then one stable sort by time: at equal times the fall counts first (the
        # order of a two-key sort by (time, change), in one pass). The order of the falls among
        # themselves, and of the rises, changes nothing (equal changes), so each is sorted first
        # (quick): the stable sort then merges two runs instead of sorting from scratch
        down, up = np.sort(down_t), np.sort(up_t)
        self.times: np.ndarray  # change times, ascending (NaN last)
        self.level: np.ndarray  # the count just after each change
        self.compiled = down.dtype == np.float64 and up.dtype == np.float64
        if self.compiled:  # the two sorted runs merged by the compiled pass (the same arrays)
            from sla_sim.metrics.kernels import merge_level  # numba: loaded on first use

            self.times, self.level = merge_level(down, up)
            return
        times = np.concatenate([down, up])
        delta = np.concatenate([np.full(len(down_t), -1.0), np.ones(len(up_t))])
        order = np.argsort(times, kind="stable")
        self.times = times[order]
        self.level = np.cumsum(delta[order])

    def mean_max(self, t0: float, t1: float) -> tuple[float, float]:
        """Time-weighted mean and max of the count over [t0, t1)."""
        # the changes up to and at t0 set the level the window starts with; those inside
        # (t0, t1) move it (a change exactly at t0 is the window's first level, not the one
        # before it, which must not count toward the window's max)
        if self.compiled:  # the same products and sum, in one compiled pass
            from sla_sim.metrics.kernels import level_mean_max

            mean, top = level_mean_max(self.times, self.level, float(t0), float(t1))
            return float(mean), float(top)
        i0 = int(np.searchsorted(self.times, t0, side="right"))
        i1 = max(int(np.searchsorted(self.times, t1, side="left")), i0)
        start_level = self.level[i0 - 1] if i0 > 0 else 0.0
        ts = np.concatenate([[t0], self.times[i0:i1], [t1]])
        lv = np.concatenate([[start_level], self.level[i0:i1]])
        span = t1 - t0
        mean = float(np.sum(lv * np.diff(ts)) / span) if span > 0 else float("nan")
        return mean, float(lv.max()) if len(lv) else 0.0


def level_mean_max(
    up_t: np.ndarray, down_t: np.ndarray, t0: float, t1: float
) -> tuple[float, float]:
    """Time-weighted mean and max over [t0, t1) of a count that rises at ``up_t`` and falls
    at ``down_t`` (e.g. leads waiting: routed up, assigned down)."""
    return Level(up_t, down_t).mean_max(t0, t1)


class RepShifts:
    """The working intervals of reps under a staffing plan, from their ``rep_on`` / ``rep_off``
    rows (value of ``rep_on``: the ramp share); ``teams`` holds the teams that have any."""

    def __init__(self, cols: dict[str, np.ndarray], by_event: list[np.ndarray]) -> None:
        on, off = by_event[CODE["rep_on"]], by_event[CODE["rep_off"]]
        rows = np.concatenate([on, off])
        kind = np.concatenate([np.ones(len(on)), np.zeros(len(off))])  # off first at a tie
        team, rep, t = cols["team"][rows], cols["rep"][rows], cols["time_h"][rows]
        order = np.lexsort((kind, t, rep, team))
        t, kind, rows = t[order], kind[order], rows[order]
        if len(t) and not (np.all(kind[0::2] == 1) and np.all(kind[1::2] == 0)):
            raise ValueError("rep_on / rep_off rows do not alternate per rep")
        self.start, self.end = t[0::2], t[1::2]
        self.share = cols["value"][rows[0::2]]
        self.teams = set(np.unique(cols["team"][on]).tolist())

    def hours(self, t0: float, t1: float) -> tuple[float, float]:
        """Rep working hours inside [t0, t1), and the same weighted by ramp share."""
        d = np.clip(np.minimum(self.end, t1) - np.maximum(self.start, t0), 0.0, None)
        return float(d.sum()), float((d * self.share).sum())


class AttemptSpans:
    """The [start, end) clock spans of the attempts of each team, in log order, to measure the
    rep hours spent on attempts over many windows."""

    def __init__(self, cols: dict[str, np.ndarray], calendars: list[BusinessCalendar],
                 rows: np.ndarray | None = None) -> None:  # fmt: skip
        """``rows`` selects the attempt rows of ``cols`` (found from the event codes if
        omitted); ``calendars`` are the teams' calendars, by team index."""
        if rows is None:
            rows = cols["event"] == CODE["attempt"]
        start = cols["time_h"][rows]
        end = start + cols["value"][rows]
        team = cols["team"][rows]
        self.calendars = calendars
        self.spans: list[tuple[np.ndarray, np.ndarray]] = []
        # the business hours to each start and end, once (cum_hours_many), for every window
        self.cum: list[tuple[np.ndarray, np.ndarray] | None] = []
        for ti, cal in enumerate(calendars):
            of_team = team == ti
            s, e = start[of_team], end[of_team]
            self.spans.append((s, e))
            self.cum.append(None if cal.always_open else (cum_hours_many(cal, s),
                                                          cum_hours_many(cal, e)))  # fmt: skip

    def busy_hours(self, t0: float, t1: float) -> float:
        """Rep hours spent on attempts inside [t0, t1), counting only the team's working hours.

        An attempt still running at closing time is finished by the model (overtime); that part
        is not counted, so utilisation (busy / working hours) stays within [0, 1].
        """
        total = 0.0
        bounds = np.asarray([t0, t1], dtype=np.float64)
        for cal, (start, end), cum in zip(self.calendars, self.spans, self.cum, strict=True):
            if start.dtype == np.float64 and end.dtype == np.float64:  # one compiled pass
                from sla_sim.metrics.kernels import clipped_hours

                c0, c1 = cal.cum_hours_many(bounds) if cum is not None else (0.0, 0.0)
                empty = np.empty(0)
                hit, hours = clipped_hours(start, end, *(cum if cum is not None else (empty,
                                           empty)), float(t0), float(t1), float(c0),
                                           float(c1), cum is None)  # fmt: skip
                if hit:
                    total += float(hours)
                continue
            s = np.maximum(start, t0)
            e = np.minimum(end, t1)
            k = e > s
            if not k.any():
                continue
            if cum is None:  # clock hours
                total += float((e[k] - s[k]).sum())
                continue
            # cum_hours_many of the clipped spans: the stored value of each start and end,
            # or that of the window's bound where the span was clipped to it
            c0, c1 = cal.cum_hours_many(bounds)
            cs = np.where(start[k] >= t0, cum[0][k], c0)
            ce = np.where(end[k] <= t1, cum[1][k], c1)
            total += float((ce - cs).sum())
        return total


def rep_busy_hours(cols: dict[str, np.ndarray], t0: float, t1: float,
                   calendars: list[BusinessCalendar]) -> float:  # fmt: skip
    """Rep hours spent on attempts inside [t0, t1), counting only the team's working hours.

    An attempt still running at closing time is finished by the model (overtime); that part is
    not counted, so utilisation (busy / working hours) stays within [0, 1].
    """
    return AttemptSpans(cols, calendars).busy_hours(t0, t1)


class AEWaits:
    """Per SQL, the AE business hours from qualifying to its opportunity opening (the AE
    clause's wait); an SQL still waiting at the end of observation counts with its wait so far."""

    def __init__(self, sql_t: np.ndarray, wait_bh: np.ndarray) -> None:
        self.sql_t, self.wait_bh = sql_t, wait_bh

    def of_period(self, t0: float, t1: float) -> np.ndarray:
        """The waits of the SQLs qualified in [t0, t1)."""
        return self.wait_bh[(self.sql_t >= t0) & (self.sql_t < t1)]


class AESelling:
    """The AEs' selling work: each opportunity's block of ``work_bh`` AE business hours (the
    scenario's, so that a CRM export is measured like a simulated run) from its opening, on the
    AE calendar, whose hour 0 is at ``back`` (<= 0) of the window's hours."""

    def __init__(self, calendar: BusinessCalendar, count: int, open_t: np.ndarray,
                 work_bh: float, back: float = 0.0) -> None:  # fmt: skip
        self.calendar, self.count, self.timed = calendar, count, work_bh > 0
        self.back = back
        self.start = open_t
        self.end = add_business_hours(calendar, open_t, np.full(len(open_t), work_bh))

    def utilization(self, t0: float, t1: float, slots: float) -> float:
        """AE business hours spent on selling work in [t0, t1) / the AEs' business hours then;
        ``slots`` (the share of opportunity slots in use) without selling time."""
        t0, t1 = t0 - self.back, t1 - self.back
        available = self.count * self.calendar.business_hours_between(t0, t1)
        if not self.timed or available <= 0:
            return slots
        s, e = np.maximum(self.start, t0), np.minimum(self.end, t1)
        k = e > s
        return float(business_hours_between(self.calendar, s[k], e[k]).sum()) / available
