"""Working calendars: convert between clock hours and business hours.

Model time everywhere in sla_sim is hours (``float``) since the horizon origin, an aware
``datetime`` (the horizon's start date at 00:00 in the scenario's time zone). A team works only
inside its calendar's working intervals; SLA clocks and work durations are measured in
*business hours*, the working time elapsed between two clock times.

:class:`CalendarSpec` is the validated schema of a calendar. :class:`BusinessCalendar` expands it
into sorted working intervals (in model hours) over the simulation horizon plus a margin, and
answers queries in O(log n) with binary search. Local wall-clock times are converted through
aware datetimes, so daylight-saving transitions are handled: a working day keeps its
``end_hour - start_hour`` hours unless the change happens inside working hours, in which case it
has the real elapsed time.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import Field, ValidationInfo, field_validator, model_validator

from sla_sim._base import Spec

__all__ = ["BusinessCalendar", "CalendarSpec", "shared_calendar"]

_HOUR = timedelta(hours=1)
FloatArray = NDArray[np.float64]


class CalendarSpec(Spec):
    """A team's weekly working hours in a local time zone, with holidays."""

    timezone: str = Field(
        "America/New_York", description="IANA time-zone name of the local clock and dates."
    )
    working_days: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4],
        description="ISO weekday numbers that are working days, Monday=0 ... Sunday=6 "
        "(default Monday to Friday). May be empty only when always_open is true.",
    )
    start_hour: float = Field(
        9.0, ge=0.0, lt=24.0, allow_inf_nan=False,
        description="Local clock hour at which each working day starts, in hours (default 9.0).",
    )
    end_hour: float = Field(
        17.0, gt=0.0, le=24.0, allow_inf_nan=False,
        description="Local clock hour at which each working day ends, in hours (default 17.0); "
        "24.0 means midnight at the end of the day.",
    )
    holidays: list[date] = Field(
        default_factory=list, description="Local dates with no working hours (default none)."
    )
    always_open: bool = Field(
        False,
        description="A 24/7 calendar: working_days, hours and holidays are ignored (default "
        "false). Reduces the model to textbook queues.",
    )

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError("must be an IANA time-zone name such as 'Europe/London'") from exc
        return value

    @field_validator("working_days")
    @classmethod
    def _check_working_days(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("must not list the same weekday twice")
        return value

    @field_validator("end_hour")
    @classmethod
    def _end_after_start(cls, value: float, info: ValidationInfo) -> float:
        start = info.data.get("start_hour")
        if start is not None and value <= start:
            raise ValueError(f"must be greater than start_hour ({start})")
        return value

    @model_validator(mode="after")
    def _check_has_working_time(self) -> CalendarSpec:
        if not self.working_days and not self.always_open:
            raise ValueError("working_days is empty: a calendar needs at least one working day")
        return self

    @property
    def weekly_hours(self) -> float:
        """Nominal working hours per week, ignoring holidays and DST (168 when always open)."""
        if self.always_open:
            return 168.0
        return len(self.working_days) * (self.end_hour - self.start_hour)


class BusinessCalendar:
    """A :class:`CalendarSpec` expanded into working intervals in model hours.

    Intervals are precomputed for every local day from the day before ``origin`` to
    ``origin + horizon_hours + margin_days``; beyond that range the calendar is closed (so
    :meth:`next_open` and :meth:`add_business_hours` may return ``math.inf``). Adjacent intervals
    (e.g. a 00:00-24:00 calendar) are merged. An ``always_open`` calendar uses identity
    arithmetic and is open at every time, without range limits.

    Attributes:
        starts, ends: sorted working-interval bounds in model hours (``always_open``: one
            interval from the range start to infinity).
        cum_starts: business hours elapsed from the first interval start to each interval start.
        range_start, range_end: the precomputed range in model hours.
    """

    def __init__(
        self, spec: CalendarSpec, origin: datetime, horizon_hours: float, margin_days: int = 120
    ) -> None:
        if origin.tzinfo is None or origin.utcoffset() is None:
            raise ValueError("origin must be a timezone-aware datetime")
        if not math.isfinite(horizon_hours) or horizon_hours < 0:
            raise ValueError(f"horizon_hours must be finite and >= 0, got {horizon_hours!r}")
        if margin_days < 0:
            raise ValueError(f"margin_days must be >= 0, got {margin_days!r}")
        self.spec = spec.model_copy(deep=True)  # later edits to the spec must not leak in
        self.origin = origin
        self.horizon_hours = float(horizon_hours)
        self.tz = ZoneInfo(spec.timezone)
        self.always_open = spec.always_open
        self._origin_utc = origin.astimezone(UTC)

        first_day = origin.astimezone(self.tz).date() - timedelta(days=1)
        last_day = self.local_datetime(self.horizon_hours + 24.0 * margin_days).date()
        self.range_start = self.local_hours(first_day, 0.0)
        self.range_end = self.local_hours(last_day, 24.0)

        if self.always_open:
            starts, ends = [self.range_start], [math.inf]
        else:
            starts, ends = self._build_intervals(first_day, last_day)
        self.starts: FloatArray = np.asarray(starts, dtype=np.float64)
        self.ends: FloatArray = np.asarray(ends, dtype=np.float64)
        lengths = self.ends - self.starts
        self.cum_starts: FloatArray = np.concatenate(([0.0], np.cumsum(lengths)))[:-1]
        self.total_hours = float(lengths.sum())
        # Padded copies (one sentinel slot at index n) keep vectorised indexing in bounds.
        self._starts_pad = np.append(self.starts, 0.0)
        self._ends_pad = np.append(self.ends, -math.inf)
        self._cum_pad = np.append(self.cum_starts, 0.0)
        self._cum_ends: FloatArray = self.cum_starts + lengths
        # Python lists make the scalar queries (called per event in a simulation) cheap.
        self._s, self._e = self.starts.tolist(), self.ends.tolist()
        self._cs, self._ce = self.cum_starts.tolist(), self._cum_ends.tolist()

    def local_hours(self, day: date, hour: float) -> float:
        """Model hours of local wall-clock ``hour`` on ``day`` (fold=0 for gaps and overlaps)."""
        wall = datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(hours=hour)
        return self.model_hours(wall)

    def _build_intervals(self, first: date, last: date) -> tuple[list[float], list[float]]:
        days = set(self.spec.working_days)
        holidays = set(self.spec.holidays)
        starts: list[float] = []
        ends: list[float] = []
        day = first
        while day <= last:
            if day.weekday() in days and day not in holidays:
                s = self.local_hours(day, self.spec.start_hour)
                e = self.local_hours(day, self.spec.end_hour)
                if e > s:  # a working window inside a DST gap can vanish
                    if ends and s <= ends[-1]:
                        ends[-1] = max(ends[-1], e)
                    else:
                        starts.append(s)
                        ends.append(e)
            day += timedelta(days=1)
        return starts, ends

    def local_datetime(self, t: float) -> datetime:
        """The aware local datetime (in the calendar's time zone) of model time ``t``."""
        return (self._origin_utc + timedelta(hours=t)).astimezone(self.tz)

    def model_hours(self, dt: datetime) -> float:
        """Model hours (since the origin) of the aware datetime ``dt``."""
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError("dt must be a timezone-aware datetime")
        return (dt.astimezone(UTC) - self._origin_utc) / _HOUR

    def is_open(self, t: float) -> bool:
        """Whether model time ``t`` lies inside a working interval."""
        i = bisect_right(self._s, t) - 1
        return self.always_open or (i >= 0 and t < self._e[i])

    def next_open(self, t: float) -> float:
        """``t`` if open, else the next interval start (``math.inf`` if none in range)."""
        if self.always_open:
            return t
        i = bisect_right(self._s, t) - 1
        if i >= 0 and t < self._e[i]:
            return t
        return self._s[i + 1] if i + 1 < len(self._s) else math.inf

    def close_of(self, t: float) -> float:
        """End of the interval containing ``t``; if closed, end of the next interval."""
        if self.always_open:
            return math.inf
        i = bisect_right(self._s, t) - 1
        if i >= 0 and t < self._e[i]:
            return self._e[i]
        return self._e[i + 1] if i + 1 < len(self._e) else math.inf

    def cum_hours(self, t: float) -> float:
        """Business hours from the first interval start to ``t`` (monotone non-decreasing)."""
        if self.always_open:
            return t - self.range_start
        i = bisect_right(self._s, t) - 1
        if i < 0:
            return 0.0
        return self._cs[i] + min(t, self._e[i]) - self._s[i]

    def business_hours_between(self, t0: float, t1: float) -> float:
        """Business hours from ``t0`` to ``t1`` (negative if ``t1 < t0``)."""
        if self.always_open:
            return t1 - t0
        return self.cum_hours(t1) - self.cum_hours(t0)

    def add_business_hours(self, t: float, h: float) -> float:
        """Earliest time ``s >= t`` with ``h`` business hours between ``t`` and ``s``.

        ``h == 0`` returns ``t``; ``math.inf`` if the range ends first. ``h`` must be >= 0.
        """
        if not (h >= 0):
            raise ValueError(f"h must be >= 0, got {h!r}")
        if h == 0 or self.always_open:
            return t + h
        target = self.cum_hours(t) + h
        k = bisect_left(self._ce, target)
        if k >= len(self._ce):
            return math.inf
        return max(t, self._s[k] + (target - self._cs[k]))

    def _index(self, t: FloatArray) -> NDArray[np.intp]:
        """Index of the last interval starting at or before each ``t``, or the sentinel ``n``."""
        i = np.searchsorted(self.starts, t, side="right") - 1
        return np.where(i >= 0, i, len(self.starts))

    def is_open_many(self, t: ArrayLike) -> NDArray[np.bool_]:
        """Vectorised :meth:`is_open`."""
        ta = np.asarray(t, dtype=np.float64)
        if self.always_open:
            return np.ones(ta.shape, dtype=bool)
        return ta < self._ends_pad[self._index(ta)]

    def next_open_many(self, t: ArrayLike) -> FloatArray:
        """Vectorised :meth:`next_open`."""
        ta = np.asarray(t, dtype=np.float64)
        if self.always_open:
            return ta.copy()
        after = np.searchsorted(self.starts, ta, side="right")
        nxt = np.append(self.starts, math.inf)[after]
        return np.where(self.is_open_many(ta), ta, nxt)

    def close_of_many(self, t: ArrayLike) -> FloatArray:
        """Vectorised :meth:`close_of`."""
        ta = np.asarray(t, dtype=np.float64)
        if self.always_open:
            return np.full(ta.shape, math.inf)
        after = np.searchsorted(self.starts, ta, side="right")
        ends = np.append(self.ends, math.inf)
        return np.where(self.is_open_many(ta), ends[np.maximum(after - 1, 0)], ends[after])

    def cum_hours_many(self, t: ArrayLike) -> FloatArray:
        """Vectorised :meth:`cum_hours`."""
        ta = np.asarray(t, dtype=np.float64)
        if self.always_open:
            return ta - self.range_start
        j = self._index(ta)
        inside = self._cum_pad[j] + np.minimum(ta, self._ends_pad[j]) - self._starts_pad[j]
        return np.where(j < len(self.starts), inside, 0.0)

    def business_hours_between_many(self, t0: ArrayLike, t1: ArrayLike) -> FloatArray:
        """Vectorised :meth:`business_hours_between`."""
        if self.always_open:
            return np.asarray(t1, dtype=np.float64) - np.asarray(t0, dtype=np.float64)
        return self.cum_hours_many(t1) - self.cum_hours_many(t0)

    def add_business_hours_many(self, t: ArrayLike, h: ArrayLike) -> FloatArray:
        """Vectorised :meth:`add_business_hours` (``t`` and ``h`` broadcast together)."""
        ta, ha = np.broadcast_arrays(np.asarray(t, np.float64), np.asarray(h, np.float64))
        if not np.all(ha >= 0):
            raise ValueError("h must be >= 0")
        if self.always_open:
            return ta + ha
        target = self.cum_hours_many(ta) + ha
        k = np.searchsorted(self._cum_ends, target, side="left")
        s = np.maximum(ta, self._starts_pad[k] + (target - self._cum_pad[k]))
        s = np.where(k < len(self.starts), s, math.inf)
        return np.where(ha == 0, ta, s)


_SHARED: dict[tuple[str, datetime, float], BusinessCalendar] = {}
_SHARED_MAX = 32


def shared_calendar(spec: CalendarSpec, origin: datetime, horizon_hours: float) -> BusinessCalendar:
    """``BusinessCalendar(spec, origin, horizon_hours)``, built once per distinct content.

    Expanding a calendar walks every local day of the horizon through time-zone conversions
    (milliseconds); replications of one scenario all ask for the same ones. The intervals
    depend only on the spec's content, the origin's instant and the horizon, which make up the
    key, so a shared calendar is never stale (its ``origin`` attribute may be another datetime
    of the same instant). Callers must not modify it.
    """
    key = (spec.model_dump_json(), origin.astimezone(UTC), float(horizon_hours))
    cal = _SHARED.get(key)
    if cal is None:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()
        cal = _SHARED[key] = BusinessCalendar(spec, origin, horizon_hours)
    return cal
