"""BusinessCalendar at its edges: the precomputed range, the first and last intervals, merged
intervals, the always-open shortcuts of the vectorised methods, and argument checks.

Written to kill the calendar mutants that survived ``bash dev.sh mutate calendar`` (see the
README's "Mutation testing"): each test names the behaviour it pins.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from sla_sim.calendar import BusinessCalendar, CalendarSpec

NY = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
ORIGIN = datetime(2026, 1, 5, tzinfo=NY)  # a Monday


def test_range_runs_from_the_local_day_before_the_origin_to_the_margin_end() -> None:
    """The intervals cover local days from the day before the origin's local date (in the
    calendar's zone) to the local date of horizon + margin, both whole days."""
    origin = datetime(2026, 1, 5, tzinfo=TOKYO)  # Tokyo midnight = 4 Jan 15:00 UTC
    cal = BusinessCalendar(CalendarSpec(timezone="Asia/Tokyo"), origin, 48.0, margin_days=3)
    assert cal.range_start == -24.0  # Tokyo 4 January 00:00
    assert cal.range_end == 48.0 + 3 * 24.0 + 24.0  # Tokyo 10 January 24:00
    assert cal.origin == origin
    assert cal.horizon_hours == 48.0


def test_every_day_calendar_reaches_the_last_day_of_the_range() -> None:
    """A 24/7-hours every-day calendar (not always_open) is one merged interval from the
    range start to the range end: adjacent days are merged and the last day is included."""
    spec = CalendarSpec(working_days=list(range(7)), start_hour=0.0, end_hour=24.0)
    cal = BusinessCalendar(spec, ORIGIN, 24.0 * 10, margin_days=2)
    assert cal.starts.tolist() == [cal.range_start]
    assert cal.ends.tolist() == [cal.range_end]
    assert cal.total_hours == cal.range_end - cal.range_start


def test_adjacent_working_days_merge_into_one_interval() -> None:
    """Monday-Friday 00:00-24:00 is one interval per week: at Monday noon the close is the
    following Saturday 00:00."""
    spec = CalendarSpec(working_days=[0, 1, 2, 3, 4], start_hour=0.0, end_hour=24.0)
    cal = BusinessCalendar(spec, ORIGIN, 24.0 * 14, margin_days=0)
    assert cal.close_of(12.0) == 5 * 24.0
    assert cal.close_of_many([12.0]).tolist() == [5 * 24.0]
    assert np.all(np.diff(cal.starts) == 7 * 24.0)


def test_last_interval_is_found_and_nothing_after_it() -> None:
    """After the second-to-last interval closes, next_open is the last interval's start and
    close_of its end; after the last one, both are infinite."""
    cal = BusinessCalendar(CalendarSpec(), ORIGIN, 24.0 * 7, margin_days=0)
    between = float(cal.ends[-2]) + 1.0
    assert cal.next_open(between) == cal.starts[-1]
    assert cal.close_of(between) == cal.ends[-1]
    after = float(cal.ends[-1]) + 1.0
    assert cal.next_open(after) == math.inf
    assert cal.close_of(after) == math.inf
    assert cal.next_open_many([between, after]).tolist() == [cal.starts[-1], math.inf]
    assert cal.close_of_many([between, after]).tolist() == [cal.ends[-1], math.inf]


def test_before_the_first_interval() -> None:
    """Before the first interval a calendar is closed, has counted no business hours, and
    adding zero hours returns the time itself."""
    cal = BusinessCalendar(CalendarSpec(), ORIGIN, 24.0 * 7)
    t = float(cal.starts[0]) - 1.0
    assert not cal.is_open(t)
    assert cal.is_open_many([t]).tolist() == [False]
    assert cal.cum_hours(t) == 0.0
    assert cal.cum_hours(float(cal.starts[0])) == 0.0
    assert cal.cum_hours_many([t, float(cal.starts[0]) + 2.0]).tolist() == [0.0, 2.0]
    assert cal.add_business_hours(t, 0.0) == t
    assert cal.add_business_hours_many([t], [0.0]).tolist() == [t]
    assert cal.total_hours == 8.0 * len(cal.starts)


def test_always_open_vectorised_methods_keep_shape_and_type() -> None:
    """On an always-open calendar the vectorised methods return arrays of the input's shape:
    booleans for is_open, infinities for close_of, and clock hours from the range start."""
    cal = BusinessCalendar(CalendarSpec(always_open=True), ORIGIN, 100.0)
    t = np.array([[0.0, 5.5], [50.0, 99.0]])
    is_open = cal.is_open_many(t)
    assert is_open.shape == t.shape
    assert is_open.dtype == np.bool_
    assert is_open.all()
    closes = cal.close_of_many(t)
    assert closes.shape == t.shape
    assert np.isinf(closes).all()
    np.testing.assert_array_equal(cal.cum_hours_many(t), t - cal.range_start)
    assert cal.cum_hours(5.5) == 5.5 - cal.range_start
    assert cal.range_start == -24.0 * 1 - 0.0  # New York midnight of the day before
    np.testing.assert_array_equal(cal.business_hours_between_many([1, 2], [4, 8]), [3.0, 6.0])


def test_the_spec_is_copied() -> None:
    """Later edits to the spec object do not reach a calendar built from it."""
    spec = CalendarSpec()
    cal = BusinessCalendar(spec, ORIGIN, 24.0 * 14)
    spec.holidays.append(date(2026, 1, 6))
    assert cal.spec.holidays == []
    assert cal.is_open(24.0 + 10.0)  # Tuesday 6 January 10:00 is still worked


class _NoOffset(tzinfo):
    """A tzinfo that does not know its offset: such datetimes are naive by Python's rules."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None


@pytest.mark.parametrize("tz", [None, _NoOffset()], ids=["naive", "no-offset"])
def test_naive_datetimes_are_rejected_with_the_rule(tz: tzinfo | None) -> None:
    """A datetime without an offset is rejected as origin and as a query, with the rule."""
    dt = datetime(2026, 1, 5, tzinfo=tz)
    with pytest.raises(ValueError, match=r"^origin must be a timezone-aware datetime$"):
        BusinessCalendar(CalendarSpec(), dt, 10.0)
    cal = BusinessCalendar(CalendarSpec(), ORIGIN, 10.0)
    with pytest.raises(ValueError, match=r"^dt must be a timezone-aware datetime$"):
        cal.model_hours(dt)


@pytest.mark.parametrize(
    ("horizon", "margin", "message"),
    [(-1.0, 120, r"^horizon_hours must be finite and >= 0, got -1.0$"),
     (math.inf, 120, r"^horizon_hours must be finite and >= 0, got inf$"),
     (10.0, -1, r"^margin_days must be >= 0, got -1$")],
)  # fmt: skip
def test_bad_horizon_or_margin_is_rejected(horizon: float, margin: int, message: str) -> None:
    """A negative or infinite horizon, or a negative margin, is refused naming the rule."""
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(CalendarSpec(), ORIGIN, horizon, margin_days=margin)


@pytest.mark.parametrize(("horizon", "margin"), [(0.0, 120), (0.5, 0), (0.0, 0)])
def test_zero_horizon_and_margin_are_allowed(horizon: float, margin: int) -> None:
    """A zero (or sub-hour) horizon and a zero margin are valid: the range runs from the day
    before the origin to the end of the local day ``margin`` days after it (elapsed hours,
    so the March DST change inside a 120-day margin takes an hour off)."""
    cal = BusinessCalendar(CalendarSpec(always_open=True), ORIGIN, horizon, margin_days=margin)
    assert cal.range_start == -24.0
    last = datetime.combine(ORIGIN.date() + timedelta(days=margin + 1), datetime.min.time(), NY)
    assert cal.range_end == (last.astimezone(UTC) - ORIGIN.astimezone(UTC)) / timedelta(hours=1)
    assert cal.range_end == 24.0 * (1 + margin) - (1.0 if margin else 0.0)


def test_vectorised_add_business_hours_ends_at_closing_time_and_beyond_the_range() -> None:
    """Adding exactly a day's 8 hours at opening ends at that day's close (not the next
    opening), like the scalar method; beyond the precomputed range the answer is infinite;
    a negative amount is refused naming the rule."""
    cal = BusinessCalendar(CalendarSpec(), ORIGIN, 24.0 * 7)
    nine, five = float(cal.starts[0]), float(cal.ends[0])
    assert cal.add_business_hours(nine, 8.0) == five
    assert cal.add_business_hours_many([nine], [8.0]).tolist() == [five]
    assert cal.add_business_hours_many([nine], [1e6]).tolist() == [math.inf]
    with pytest.raises(ValueError, match=r"^h must be >= 0$"):
        cal.add_business_hours_many([nine], [-1.0])


def test_default_margin_is_120_days() -> None:
    """By default the intervals extend 120 local days past the horizon's end."""
    cal = BusinessCalendar(CalendarSpec(always_open=True), ORIGIN, 0.0)
    assert cal.range_end == BusinessCalendar(CalendarSpec(always_open=True), ORIGIN, 0.0,
                                             margin_days=120).range_end  # fmt: skip
    assert cal.range_end != BusinessCalendar(CalendarSpec(always_open=True), ORIGIN, 0.0,
                                             margin_days=121).range_end  # fmt: skip


@pytest.mark.parametrize("always_open", [True, False])
def test_vectorised_methods_return_float_hours_for_integer_times(always_open: bool) -> None:
    """Integer model hours (a numpy int array, as pandas gives for whole hours) come back as
    float64 hours with the same values as float input: a result array never inherits the
    caller's integer dtype (an int array would silently truncate any later arithmetic)."""
    spec = CalendarSpec(always_open=True) if always_open else CalendarSpec()
    cal = BusinessCalendar(spec, ORIGIN, 24.0 * 7, margin_days=1)
    ints = np.array([0, 5, 13, 30, 100], dtype=np.int64)
    floats = ints.astype(np.float64)
    for name in ("next_open_many", "close_of_many", "cum_hours_many"):
        got, want = getattr(cal, name)(ints), getattr(cal, name)(floats)
        assert got.dtype == np.float64, name
        assert got.tolist() == want.tolist(), name
    later = ints + np.int64(7)
    got = cal.business_hours_between_many(ints, later)
    assert got.dtype == np.float64
    assert got.tolist() == cal.business_hours_between_many(floats, later.astype(float)).tolist()
    got = cal.add_business_hours_many(ints, np.int64(2))
    assert got.dtype == np.float64
    assert got.tolist() == cal.add_business_hours_many(floats, 2.0).tolist()


def test_shared_calendars_are_one_per_content_and_bounded() -> None:
    """Replications of one scenario share its expanded calendar: the same spec content,
    origin instant and horizon give the same object; anything else gives its own calendar,
    equal to one built directly; the cache never holds more than its bound."""
    from sla_sim import calendar as cal_module
    from sla_sim.calendar import shared_calendar

    cal_module._SHARED.clear()
    spec = CalendarSpec()
    first = shared_calendar(spec, ORIGIN, 24.0 * 14)
    again = shared_calendar(CalendarSpec(), ORIGIN.astimezone(UTC), 24.0 * 14)
    assert again is first  # same content, same instant
    other_spec = CalendarSpec(start_hour=8.0)
    for kind, made in (("spec", shared_calendar(other_spec, ORIGIN, 24.0 * 14)),
                       ("horizon", shared_calendar(spec, ORIGIN, 24.0 * 21)),
                       ("origin", shared_calendar(spec, ORIGIN + timedelta(days=1), 24.0 * 14))):
        assert made is not first, kind
    direct = BusinessCalendar(other_spec, ORIGIN, 24.0 * 14)
    got = shared_calendar(other_spec, ORIGIN, 24.0 * 14)
    assert np.array_equal(got.starts, direct.starts)
    assert np.array_equal(got.ends, direct.ends)
    for k in range(cal_module._SHARED_MAX + 1):
        shared_calendar(spec, ORIGIN, 24.0 * (30 + k))
        assert len(cal_module._SHARED) <= cal_module._SHARED_MAX
    cal_module._SHARED.clear()
