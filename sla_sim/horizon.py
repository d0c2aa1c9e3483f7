"""Model time: its origin, the warm-up end, the horizon end, and the measured months.

Built once from a scenario and read by the model and the metrics alike: times inside the model
are elapsed hours from :func:`horizon_hours`'s origin; the measured window is split into
calendar months of the scenario's time zone (:func:`window_for`).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

TOTAL = "total"


@dataclass(frozen=True)
class Period:
    """A reporting period: label and [start_h, end_h) in model hours."""

    label: str
    start_h: float
    end_h: float

    @property
    def hours(self) -> float:
        """Length in clock hours."""
        return self.end_h - self.start_h


@dataclass(frozen=True)
class Window:
    """What is measured: origin of model time, the measured span, and its months."""

    origin: datetime
    start_h: float
    end_h: float
    months: tuple[Period, ...]

    @property
    def periods(self) -> tuple[Period, ...]:
        """The months, then the whole window labelled ``total``."""
        return (*self.months, Period(TOTAL, self.start_h, self.end_h))

    @property
    def n_months(self) -> float:
        """Number of months measured (fractional for partial months)."""
        return sum(
            (p.end_h - p.start_h) / month_hours(self.origin, p) for p in self.months
        )


def elapsed_hours(origin: datetime, d: datetime) -> float:
    """Real elapsed hours from ``origin`` to ``d`` (computed in UTC, so DST changes count)."""
    return (d.astimezone(UTC) - origin.astimezone(UTC)).total_seconds() / 3600.0


def local_at(origin: datetime, t: float) -> datetime:
    """The local datetime (origin's zone) ``t`` elapsed hours after ``origin``."""
    return (origin.astimezone(UTC) + timedelta(hours=t)).astimezone(origin.tzinfo)


def month_hours(origin: datetime, p: Period) -> float:
    """Elapsed hours of the whole calendar month in which period ``p`` starts."""
    local = local_at(origin, p.start_h)
    first = datetime(local.year, local.month, 1, tzinfo=origin.tzinfo)
    nxt = datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=origin.tzinfo)
    return elapsed_hours(first, nxt)


def month_window(origin: datetime, start_h: float, end_h: float) -> Window:
    """Split [start_h, end_h) into calendar months of the origin's time zone."""
    tz = origin.tzinfo
    local = local_at(origin, start_h)
    y, m = local.year, local.month
    months: list[Period] = []
    t = start_h
    while t < end_h - 1e-9:
        nxt = datetime(y + m // 12, m % 12 + 1, 1, tzinfo=tz)
        t1 = min(elapsed_hours(origin, nxt), end_h)
        months.append(Period(f"{y:04d}-{m:02d}", t, t1))
        t = t1
        y, m = nxt.year, nxt.month
    return Window(origin, start_h, end_h, tuple(months))


def horizon_hours(sc: Any) -> tuple[datetime, float, float]:
    """(origin, warm-up end, horizon end) of a scenario: origin aware, the others elapsed hours.

    ``sc`` is a :class:`~sla_sim.scenario.Scenario` (only its ``horizon`` is read). The measured
    period runs from ``measure_start`` for ``measure_months`` calendar months; a start day beyond
    the end month's length (e.g. the 31st) ends on that month's last day.
    """
    tz = ZoneInfo(sc.horizon.timezone)
    m0 = sc.horizon.measure_start
    start = datetime(m0.year, m0.month, m0.day, tzinfo=tz)
    origin = datetime.combine(m0 - timedelta(days=sc.horizon.warmup_days), datetime.min.time(),
                              tzinfo=tz)
    months = m0.month - 1 + sc.horizon.measure_months
    y, m = m0.year + months // 12, months % 12 + 1
    end = datetime(y, m, min(m0.day, calendar.monthrange(y, m)[1]), tzinfo=tz)
    return origin, elapsed_hours(origin, start), elapsed_hours(origin, end)


def window_for(sc: Any) -> Window:
    """The measured window of a scenario: after the warm-up, to the end of the horizon."""
    origin, start_h, end_h = horizon_hours(sc)
    return month_window(origin, start_h, end_h)
