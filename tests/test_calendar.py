"""Tests for sla_sim.calendar: calendar schema validation and business-hour arithmetic."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_sim.calendar import BusinessCalendar, CalendarSpec

NY = ZoneInfo("America/New_York")
ORIGIN = datetime(2026, 1, 5, tzinfo=NY)  # a Monday
HORIZON = 24.0 * 365  # through early January 2027, covering both 2026 DST changes


@cache
def ny_calendar() -> BusinessCalendar:
    """A Mon-Fri 09:00-17:00 New York calendar over one year (built once for all tests)."""
    return BusinessCalendar(CalendarSpec(), ORIGIN, HORIZON)


def at(cal: BusinessCalendar, *args: int) -> float:
    """Model hours of a New York local wall-clock time given as datetime fields."""
    return cal.model_hours(datetime(*args, tzinfo=NY))  # type: ignore[misc]


def test_friday_evening_lead_touched_monday_morning() -> None:
    """A lead at Friday 19:00 touched Monday 09:30 waited exactly half a business hour."""
    cal = ny_calendar()
    lead = at(cal, 2026, 1, 9, 19)
    touch = at(cal, 2026, 1, 12, 9, 30)
    assert abs(cal.business_hours_between(lead, touch) - 0.5) < 1e-9
    assert abs(cal.business_hours_between(touch, lead) + 0.5) < 1e-9


def test_monday_holiday_is_skipped() -> None:
    """With a Monday holiday, Friday 16:00 to Tuesday 10:00 is 2 business hours."""
    spec = CalendarSpec(holidays=[date(2026, 1, 19)])
    cal = BusinessCalendar(spec, ORIGIN, 24.0 * 60)
    t0, t1 = at(cal, 2026, 1, 16, 16), at(cal, 2026, 1, 20, 10)
    assert abs(cal.business_hours_between(t0, t1) - 2.0) < 1e-9
    assert not cal.is_open(at(cal, 2026, 1, 19, 12))
    assert cal.next_open(at(cal, 2026, 1, 19, 12)) == at(cal, 2026, 1, 20, 9)
    assert abs(ny_calendar().business_hours_between(t0, t1) - 10.0) < 1e-9


def test_weekend_has_no_business_hours() -> None:
    """Saturday and Sunday contribute no business hours and are closed."""
    cal = ny_calendar()
    sat, mon = at(cal, 2026, 1, 10), at(cal, 2026, 1, 12)
    assert cal.business_hours_between(sat, mon) == 0.0
    assert not cal.is_open(at(cal, 2026, 1, 11, 12))
    assert abs(cal.business_hours_between(at(cal, 2026, 1, 5), at(cal, 2026, 1, 12)) - 40) < 1e-9


def test_out_of_hours_arrival_waits_for_next_open() -> None:
    """next_open returns t when open, else the next working start; close_of gives the close."""
    cal = ny_calendar()
    noon = at(cal, 2026, 1, 7, 12)
    assert cal.is_open(noon)
    assert cal.next_open(noon) == noon
    assert cal.close_of(noon) == at(cal, 2026, 1, 7, 17)
    early = at(cal, 2026, 1, 7, 6)
    assert not cal.is_open(early)
    assert cal.next_open(early) == at(cal, 2026, 1, 7, 9)
    assert cal.close_of(early) == at(cal, 2026, 1, 7, 17)
    assert cal.next_open(at(cal, 2026, 1, 7, 17)) == at(cal, 2026, 1, 8, 9)  # end is exclusive
    assert cal.next_open(at(cal, 2026, 1, 9, 20)) == at(cal, 2026, 1, 12, 9)
    assert cal.next_open(cal.range_end + 1.0) == math.inf


def test_add_business_hours_examples() -> None:
    """Adding business hours rolls over evenings and weekends; adding zero returns t."""
    cal = ny_calendar()
    fri_evening = at(cal, 2026, 1, 9, 19)
    assert cal.add_business_hours(fri_evening, 0.0) == fri_evening
    assert abs(cal.add_business_hours(fri_evening, 0.5) - at(cal, 2026, 1, 12, 9, 30)) < 1e-9
    fri_four = at(cal, 2026, 1, 9, 16)
    assert abs(cal.add_business_hours(fri_four, 1.0) - at(cal, 2026, 1, 9, 17)) < 1e-9
    assert abs(cal.add_business_hours(fri_four, 3.0) - at(cal, 2026, 1, 12, 11)) < 1e-9
    assert cal.add_business_hours(fri_four, 1e6) == math.inf
    with pytest.raises(ValueError, match="h"):
        cal.add_business_hours(fri_four, -1.0)


@settings(max_examples=300, deadline=None, database=None)
@given(
    t=st.floats(min_value=-24.0, max_value=HORIZON, allow_nan=False),
    h=st.floats(min_value=0.0, max_value=500.0, allow_nan=False),
)
def test_add_business_hours_inverts_business_hours_between(t: float, h: float) -> None:
    """add_business_hours(t, h) is the earliest s >= t with h business hours from t to s."""
    cal = ny_calendar()
    s = cal.add_business_hours(t, h)
    assert s >= t
    assert abs(cal.business_hours_between(t, s) - h) < 1e-9
    if h > 1e-6:
        assert cal.business_hours_between(t, s - 1e-6) < h


def test_cum_hours_is_monotone() -> None:
    """cum_hours never decreases with t and grows at rate 1 only while open."""
    cal = ny_calendar()
    t = np.linspace(-48.0, HORIZON + 24.0, 20_001)
    c = cal.cum_hours_many(t)
    assert np.all(np.diff(c) >= 0)
    assert c[0] == 0.0
    rising = np.diff(c) > 0
    assert not np.any(cal.is_open_many(t[:-1])[~rising])


def test_vectorised_methods_equal_scalar_ones() -> None:
    """Every *_many method agrees element-wise with its scalar counterpart."""
    cal = ny_calendar()
    rng = np.random.default_rng(7)
    t0 = rng.uniform(-30.0, HORIZON, 500)
    t1 = rng.uniform(-30.0, HORIZON, 500)
    h = rng.uniform(0.0, 100.0, 500)
    h[:20] = 0.0
    t0[:10] = cal.starts[:10]  # exact interval bounds
    t0[10:20] = cal.ends[:10]
    pairs = [
        (cal.is_open_many(t0), [cal.is_open(x) for x in t0]),
        (cal.next_open_many(t0), [cal.next_open(x) for x in t0]),
        (cal.close_of_many(t0), [cal.close_of(x) for x in t0]),
        (cal.cum_hours_many(t0), [cal.cum_hours(x) for x in t0]),
        (
            cal.business_hours_between_many(t0, t1),
            [cal.business_hours_between(a, b) for a, b in zip(t0, t1, strict=True)],
        ),
        (
            cal.add_business_hours_many(t0, h),
            [cal.add_business_hours(a, b) for a, b in zip(t0, h, strict=True)],
        ),
    ]
    for got, want in pairs:
        np.testing.assert_allclose(got, np.asarray(want, dtype=float), rtol=0, atol=1e-9)


@pytest.mark.parametrize("change", [date(2026, 3, 8), date(2026, 11, 1)])
def test_dst_week_still_has_forty_hours(change: date) -> None:
    """A Mon-Fri 09-17 week spanning a DST change still has 40 business hours."""
    cal = ny_calendar()
    thursday_before = change - timedelta(days=3)
    start = cal.model_hours(datetime.combine(thursday_before, datetime.min.time(), NY))
    end = cal.model_hours(datetime.combine(thursday_before + timedelta(7), datetime.min.time(), NY))
    assert abs(cal.business_hours_between(start, end) - 40.0) < 1e-9
    monday = change + timedelta(days=1)
    nine = cal.model_hours(datetime(monday.year, monday.month, monday.day, 9, tzinfo=NY))
    assert cal.next_open(nine - 3.0) == nine
    assert cal.local_datetime(cal.close_of(nine)).hour == 17


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 8), 23.0), (date(2026, 11, 1), 25.0)])
def test_dst_change_inside_working_hours_is_real_elapsed_time(day: date, hours: float) -> None:
    """A 24/7 calendar, and a 00-24 every-day calendar, count real hours on DST-change days."""
    for spec in (
        CalendarSpec(always_open=True),
        CalendarSpec(working_days=list(range(7)), start_hour=0.0, end_hour=24.0),
    ):
        cal = BusinessCalendar(spec, ORIGIN, HORIZON)
        t0 = cal.model_hours(datetime(day.year, day.month, day.day, tzinfo=NY))
        nxt = day + timedelta(days=1)
        t1 = cal.model_hours(datetime(nxt.year, nxt.month, nxt.day, tzinfo=NY))
        assert abs(t1 - t0 - hours) < 1e-9
        assert abs(cal.business_hours_between(t0, t1) - hours) < 1e-9


def test_always_open_is_identity() -> None:
    """An always-open calendar is open at all times and business hours equal clock hours."""
    cal = BusinessCalendar(CalendarSpec(always_open=True, working_days=[]), ORIGIN, 100.0)
    t = np.array([-5.0, 0.0, 3.25, 99.0, 1e5])
    assert all(cal.is_open(x) for x in t)
    assert cal.next_open(3.25) == 3.25
    assert cal.close_of(3.25) == math.inf
    assert cal.business_hours_between(1.5, 7.75) == 6.25
    assert cal.add_business_hours(1.5, 6.25) == 7.75
    np.testing.assert_array_equal(cal.business_hours_between_many(t, t + 2.0), 2.0)
    np.testing.assert_array_equal(cal.add_business_hours_many(t, 2.0), t + 2.0)
    np.testing.assert_array_equal(cal.next_open_many(t), t)
    assert CalendarSpec(always_open=True).weekly_hours == 168.0


def test_weekly_hours_and_fractional_hours() -> None:
    """weekly_hours is days times daily hours, and fractional start/end hours are honoured."""
    assert CalendarSpec().weekly_hours == 40.0
    spec = CalendarSpec(working_days=[0, 2], start_hour=8.5, end_hour=12.25)
    assert spec.weekly_hours == 7.5
    cal = BusinessCalendar(spec, ORIGIN, 24.0 * 14)
    assert cal.next_open(0.0) == 8.5
    assert cal.close_of(0.0) == 12.25
    assert abs(cal.business_hours_between(0.0, 24.0 * 7) - 7.5) < 1e-9


def test_local_datetime_round_trips_model_hours() -> None:
    """local_datetime and model_hours are inverse and use the calendar's time zone."""
    cal = BusinessCalendar(CalendarSpec(timezone="Europe/London"), ORIGIN, 24.0 * 30)
    dt = cal.local_datetime(10.5)
    assert dt.utcoffset() == timedelta(0)
    assert dt == ORIGIN + timedelta(hours=10.5)
    assert cal.model_hours(dt) == 10.5
    assert cal.model_hours(ORIGIN) == 0.0
    with pytest.raises(ValueError, match=r"naive|aware|timezone"):
        cal.model_hours(datetime(2026, 1, 5))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"start_hour": 17.0, "end_hour": 9.0}, "end_hour"),
        ({"start_hour": 12.0, "end_hour": 12.0}, "end_hour"),
        ({"start_hour": -1.0}, "start_hour"),
        ({"start_hour": 24.0, "end_hour": 24.0}, "start_hour"),
        ({"end_hour": 25.0}, "end_hour"),
        ({"working_days": [0, 7]}, "working_days"),
        ({"working_days": [1, 1, 2]}, "working_days"),
        ({"working_days": []}, "working_days"),
    ],
)
def test_invalid_calendar_spec_is_rejected(kwargs: dict[str, Any], field: str) -> None:
    """An invalid calendar raises a pydantic ValidationError naming the offending field."""
    with pytest.raises(pydantic.ValidationError) as info:
        CalendarSpec(**kwargs)
    assert field in str(info.value)


def test_unknown_key_is_rejected() -> None:
    """A misspelt key is rejected rather than silently ignored."""
    with pytest.raises(pydantic.ValidationError, match="start_hours"):
        CalendarSpec(start_hours=8.0)  # type: ignore[call-arg]


def test_naive_origin_is_rejected() -> None:
    """Building a calendar from a naive origin datetime raises ValueError."""
    with pytest.raises(ValueError, match="timezone-aware"):
        BusinessCalendar(CalendarSpec(), datetime(2026, 1, 5), 100.0)
