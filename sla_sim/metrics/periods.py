"""The measured window and its periods (calendar months in the scenario's time zone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
            (p.end_h - p.start_h) / _month_hours(self.origin, p) for p in self.months
        )


def _month_hours(origin: datetime, p: Period) -> float:
    # a full calendar month's hours for a possibly partial period: use its nominal length
    from datetime import timedelta

    start = origin + timedelta(hours=p.start_h)
    local = start.astimezone(origin.tzinfo)
    y, m = local.year, local.month
    first = datetime(y, m, 1, tzinfo=origin.tzinfo)
    nxt = datetime(y + m // 12, m % 12 + 1, 1, tzinfo=origin.tzinfo)
    return (nxt - first).total_seconds() / 3600.0


def month_window(origin: datetime, start_h: float, end_h: float) -> Window:
    """Split [start_h, end_h) into calendar months of the origin's time zone."""
    tz = origin.tzinfo
    assert isinstance(tz, ZoneInfo)
    from datetime import timedelta

    def hours(d: datetime) -> float:
        return (d - origin).total_seconds() / 3600.0

    local = (origin + timedelta(hours=start_h)).astimezone(tz)
    y, m = local.year, local.month
    months: list[Period] = []
    t = start_h
    while t < end_h - 1e-9:
        nxt = datetime(y + m // 12, m % 12 + 1, 1, tzinfo=tz)
        t1 = min(hours(nxt), end_h)
        months.append(Period(f"{y:04d}-{m:02d}", t, t1))
        t = t1
        y, m = nxt.year, nxt.month
    return Window(origin, start_h, end_h, tuple(months))
