"""Capacity over time: who is on the team when, at what share of full speed, and on shift.

A team's staffing plan (``teams[].hires``, ``ramp_by_tenure_month``, ``attrition_per_month``,
``backfill_delay_days``, ``pto_days_per_year``, ``rep_calendars``) is expanded once per
replication, before the event loop, into one :class:`RepPlan` per rep who ever works:

* the ``reps`` of the team are there from the origin, fully ramped, each on its own calendar
  (``rep_calendars[i]``) or the team's;
* each hire joins at local midnight (team calendar's zone) of its ``start`` date;
* with ``attrition_per_month`` p > 0 each rep leaves after an exponential time with monthly
  probability p (rate ``-ln(1 - p)`` per 30.44-day month), drawn from the rep's own stream
  ``staff:<team>:<rep>`` (adding a hire moves no one else's draws); with
  ``backfill_delay_days`` d a leaver is replaced by a new rep who joins at local midnight of the
  first day at least d days after the departure, ramps like a hire and may leave in turn;
* a rep in tenure month k (calendar months from the join date, k = 1, 2, ...) works at
  ``ramp_by_tenure_month[k - 1]`` of full speed (attempts take 1 / share as long), 1 after the
  list; reps present at the origin are fully ramped;
* with ``pto_days_per_year`` D each working day of a rep's calendar is a day off with
  probability D / (working days per week x 365.25 / 7), drawn from ``pto:<team>:<rep>``.

A rep's :class:`RepCalendar` is its calendar's working intervals clipped to [join, leave) and
minus the days off; the model's reps work only inside it. The intervals, with the ramp share,
are logged as ``rep_on`` / ``rep_off`` rows so that the metrics can measure capacity from the
log alone.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from sla_sim.calendar import BusinessCalendar, CalendarSpec, shared_calendar

if TYPE_CHECKING:
    from sla_sim.scenario.schema import Scenario, TeamSpec
    from sla_sim.streams import Streams

DAYS_PER_MONTH = 365.25 / 12


def has_staffing_plan(team: TeamSpec) -> bool:
    """Whether a team's capacity changes over time (or per rep) at all."""
    return bool(team.hires or team.attrition_per_month > 0 or team.pto_days_per_year > 0
                or team.rep_calendars)  # fmt: skip


@dataclass
class RepPlan:
    """One rep's presence: calendar, join and leave times (model hours), ramp, days off."""

    spec: CalendarSpec
    join_h: float
    leave_h: float
    join_date: date | None  # None: present at the origin, fully ramped
    days_off: list[date] = field(default_factory=list)


def _add_months(d: date, months: int) -> date:
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    last = [31, 29 if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else 28, 31, 30, 31, 30,
            31, 31, 30, 31, 30, 31][m - 1]  # fmt: skip
    return date(y, m, min(d.day, last))


class RepCalendar:
    """A rep's own working intervals (model hours), with the calendar queries a rep uses."""

    always_open = False

    def __init__(self, starts: list[float], ends: list[float]) -> None:
        self._s, self._e = starts, ends

    def is_open(self, t: float) -> bool:
        i = bisect_right(self._s, t) - 1
        return i >= 0 and t < self._e[i]

    def next_open(self, t: float) -> float:
        """``t`` if open, else the next interval start (``inf``: none)."""
        i = bisect_right(self._s, t) - 1
        if i >= 0 and t < self._e[i]:
            return t
        return self._s[i + 1] if i + 1 < len(self._s) else math.inf

    def close_of(self, t: float) -> float:
        """End of the interval containing ``t``; if closed, end of the next interval."""
        i = bisect_right(self._s, t) - 1
        if i >= 0 and t < self._e[i]:
            return self._e[i]
        return self._e[i + 1] if i + 1 < len(self._e) else math.inf


class Staffing:
    """The expanded plan of one team: per rep its calendar, ramp and presence."""

    def __init__(self, sc: Scenario, team: int, origin: datetime, end_h: float,
                 streams: Streams) -> None:  # fmt: skip
        spec = sc.teams[team]
        self.origin, self.end_h = origin, end_h
        # calendars expanded once per process (shared_calendar), not once per replication
        self.team_cal = shared_calendar(spec.calendar, origin, end_h)
        self.ramp = list(spec.ramp_by_tenure_month)
        self._cals: dict[str, BusinessCalendar] = {}
        self.plans: list[RepPlan] = []
        self._streams = streams
        self._name = spec.name
        self._spec = spec
        p = spec.attrition_per_month
        self.leave_rate_h = -math.log1p(-p) / (DAYS_PER_MONTH * 24.0) if p > 0 else 0.0
        for i in range(spec.reps):
            cal = spec.rep_calendars[i] if spec.rep_calendars else spec.calendar
            self._add(cal, -math.inf, None)
        for hire in spec.hires:
            for _ in range(hire.reps):
                self._add(spec.calendar, self._midnight(hire.start), hire.start)
        # backfills: appended as leavers appear (each plan is visited once, in order)
        i = 0
        while i < len(self.plans) and spec.backfill_delay_days is not None:
            leave = self.plans[i].leave_h
            days = math.ceil(spec.backfill_delay_days)
            # a delay that ends a week past the horizon joins after it (whatever the clock
            # changes): skipped before its date is computed, which overflows past year 9999
            if leave < end_h and days * 24.0 <= end_h - leave + 7 * 24.0:
                day = self.team_cal.local_datetime(leave).date()
                first = day + timedelta(days=days)
                join = self._midnight(first)
                if join < end_h:
                    self._add(spec.calendar, join, first)
            i += 1

    def _midnight(self, d: date) -> float:
        return self.team_cal.local_hours(d, 0.0)

    def _calendar(self, spec: CalendarSpec) -> BusinessCalendar:
        key = spec.model_dump_json()
        cal = self._cals.get(key)
        if cal is None:
            cal = self._cals[key] = shared_calendar(spec, self.origin, self.end_h)
        return cal

    def _add(self, cal: CalendarSpec, join_h: float, join_date: date | None) -> None:
        r = len(self.plans)
        leave = math.inf
        if self.leave_rate_h > 0:
            rng = self._streams(f"staff:{self._name}:{r}")
            leave = max(join_h, 0.0) + float(rng.exponential(1.0 / self.leave_rate_h))
        plan = RepPlan(cal, join_h, leave, join_date)
        if self._spec.pto_days_per_year > 0:
            plan.days_off = self._days_off(plan, self._streams(f"pto:{self._name}:{r}"))
        self.plans.append(plan)

    def _days_off(self, plan: RepPlan, rng: np.random.Generator) -> list[date]:
        spec = plan.spec
        bc = self._calendar(spec)
        per_week = 7 if spec.always_open else len(spec.working_days)
        p = min(1.0, self._spec.pto_days_per_year / (per_week * 365.25 / 7.0))
        first = bc.local_datetime(0.0).date()
        n_days = int(self.end_h // 24) + 2
        days = [first + timedelta(days=k) for k in range(n_days)]
        working = [d for d in days if spec.always_open
                   or (d.weekday() in spec.working_days and d not in spec.holidays)]
        u = rng.random(len(working))  # one draw per working day, in date order
        return [d for d, x in zip(working, u, strict=True) if x < p]

    # ---------------------------------------------------------------- per rep
    def intervals(self, r: int) -> tuple[list[float], list[float]]:
        """Rep ``r``'s working intervals inside [0, end_h): its calendar clipped to its
        presence, minus its days off."""
        plan = self.plans[r]
        bc = self._calendar(plan.spec)
        lo, hi = max(plan.join_h, 0.0), min(plan.leave_h, self.end_h)
        if hi <= lo:
            return [], []
        if bc.always_open:
            starts, ends = [lo], [hi]
        else:
            s, e = bc.starts, bc.ends
            i0 = int(np.searchsorted(e, lo, side="right"))
            i1 = int(np.searchsorted(s, hi, side="left"))
            starts = [max(float(x), lo) for x in s[i0:i1]]
            ends = [min(float(x), hi) for x in e[i0:i1]]
        for d in plan.days_off:  # remove each day off [local midnight, next midnight)
            a = bc.local_hours(d, 0.0)
            b = bc.local_hours(d + timedelta(days=1), 0.0)
            starts, ends = _subtract(starts, ends, a, b)
        keep = [k for k in range(len(starts)) if ends[k] > starts[k]]
        return [starts[k] for k in keep], [ends[k] for k in keep]

    def ramp_steps(self, r: int) -> tuple[list[float], list[float]]:
        """(times, shares): rep ``r`` works at ``shares[i]`` of full speed from ``times[i]``
        (a rep present at the origin: ([-inf], [1.0]))."""
        plan = self.plans[r]
        if plan.join_date is None or not self.ramp:
            return [-math.inf], [1.0]
        times = [plan.join_h]
        shares = [self.ramp[0]]
        first = (plan.join_date.year - 1) * 12 + plan.join_date.month - 1  # months since 1 AD
        for k in range(1, len(self.ramp) + 1):
            if first + k >= 9999 * 12:  # a step past year 9999: after any horizon, never read
                break
            times.append(self._midnight(_add_months(plan.join_date, k)))
            shares.append(self.ramp[k] if k < len(self.ramp) else 1.0)
        return times, shares


def _subtract(starts: list[float], ends: list[float], a: float, b: float
              ) -> tuple[list[float], list[float]]:  # fmt: skip
    """The intervals minus [a, b)."""
    out_s, out_e = [], []
    for s, e in zip(starts, ends, strict=True):
        if e <= a or s >= b:
            out_s.append(s)
            out_e.append(e)
            continue
        if s < a:
            out_s.append(s)
            out_e.append(a)
        if e > b:
            out_s.append(b)
            out_e.append(e)
    return out_s, out_e


def log_rows(team: int, rep: int, starts: list[float], ends: list[float],
             ramp: tuple[list[float], list[float]], on: int, off: int
             ) -> list[tuple[int, int, float, int, int, int, int, float]]:  # fmt: skip
    """``rep_on`` (value: ramp share) / ``rep_off`` rows for the intervals, split where the
    ramp share changes (lead -1: rows about a rep, not a lead)."""
    times, shares = ramp
    rows = []
    for s, e in zip(starts, ends, strict=True):
        cuts = [t for t in times if s < t < e]
        bounds = [s, *cuts, e]
        for a, b in itertools.pairwise(bounds):
            share = shares[max(bisect_right(times, a) - 1, 0)]
            rows.append((-1, 0, a, on, team, rep, -1, share))
            rows.append((-1, 0, b, off, team, rep, -1, math.nan))
    return rows


__all__ = ["RepCalendar", "RepPlan", "Staffing", "has_staffing_plan", "log_rows"]
