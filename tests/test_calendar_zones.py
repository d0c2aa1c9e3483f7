"""A team's working intervals are built in the team's own time zone, not the horizon's.

Every expected instant below is written out by hand in UTC (from the zone's published offsets),
so the checks do not go through ``zoneinfo`` the way the code under test does. The horizon is
in New York (as in the presets) while the teams sit in London, Tokyo, Kolkata (+05:30, no DST)
and Adelaide (+09:30 / +10:30, a half-hour zone with DST in the southern hemisphere), and each
zone is checked on the working days either side of both of its 2026 daylight-saving changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from sla_sim.calendar import BusinessCalendar, CalendarSpec

NY = ZoneInfo("America/New_York")
ORIGIN = datetime(2026, 1, 1, tzinfo=NY)  # the horizon's origin: midnight in New York
HORIZON_H = 24.0 * 365


def utc(*args: int) -> datetime:
    """A UTC instant from datetime fields."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def hours(dt: datetime) -> float:
    """Model hours of a UTC instant (origin: 2026-01-01 00:00 New York = 05:00 UTC)."""
    return (dt - utc(2026, 1, 1, 5)) / timedelta(hours=1)


@cache
def calendar_in(zone: str) -> BusinessCalendar:
    """A Mon-Fri 09:00-17:00 calendar of ``zone`` over 2026, on a New York horizon."""
    return BusinessCalendar(CalendarSpec(timezone=zone), ORIGIN, HORIZON_H)


def interval_at(cal: BusinessCalendar, start: datetime) -> tuple[float, float]:
    """The working interval that starts at ``start`` (fails if none does)."""
    i = int(np.searchsorted(cal.starts, hours(start)))
    assert i < len(cal.starts), f"no working interval starts at {start}"
    return float(cal.starts[i]), float(cal.ends[i])


# (zone, local working day, its 09:00 and 17:00 written in UTC). Offsets used:
#   London GMT +0 until 29 Mar 2026 01:00 UTC, BST +1 until 25 Oct 2026 01:00 UTC;
#   Tokyo JST +9 all year; Kolkata IST +5:30 all year;
#   Adelaide ACDT +10:30 until 5 Apr 2026, ACST +9:30 until 4 Oct 2026, then ACDT again.
WORKING_DAYS = [
    ("Europe/London", date(2026, 3, 27), utc(2026, 3, 27, 9), utc(2026, 3, 27, 17)),
    ("Europe/London", date(2026, 3, 30), utc(2026, 3, 30, 8), utc(2026, 3, 30, 16)),
    ("Europe/London", date(2026, 10, 23), utc(2026, 10, 23, 8), utc(2026, 10, 23, 16)),
    ("Europe/London", date(2026, 10, 26), utc(2026, 10, 26, 9), utc(2026, 10, 26, 17)),
    # New York has already changed (8 Mar, 1 Nov) while London has not: a 4-hour gap
    ("Europe/London", date(2026, 3, 16), utc(2026, 3, 16, 9), utc(2026, 3, 16, 17)),
    ("Europe/London", date(2026, 10, 30), utc(2026, 10, 30, 9), utc(2026, 10, 30, 17)),
    ("Asia/Tokyo", date(2026, 3, 27), utc(2026, 3, 27, 0), utc(2026, 3, 27, 8)),
    ("Asia/Tokyo", date(2026, 3, 30), utc(2026, 3, 30, 0), utc(2026, 3, 30, 8)),
    ("Asia/Tokyo", date(2026, 10, 26), utc(2026, 10, 26, 0), utc(2026, 10, 26, 8)),
    ("Asia/Tokyo", date(2026, 11, 2), utc(2026, 11, 2, 0), utc(2026, 11, 2, 8)),
    ("Asia/Kolkata", date(2026, 3, 30), utc(2026, 3, 30, 3, 30), utc(2026, 3, 30, 11, 30)),
    ("Asia/Kolkata", date(2026, 11, 2), utc(2026, 11, 2, 3, 30), utc(2026, 11, 2, 11, 30)),
    ("Australia/Adelaide", date(2026, 4, 3), utc(2026, 4, 2, 22, 30), utc(2026, 4, 3, 6, 30)),
    ("Australia/Adelaide", date(2026, 4, 6), utc(2026, 4, 5, 23, 30), utc(2026, 4, 6, 7, 30)),
    ("Australia/Adelaide", date(2026, 10, 2), utc(2026, 10, 1, 23, 30), utc(2026, 10, 2, 7, 30)),
    ("Australia/Adelaide", date(2026, 10, 5), utc(2026, 10, 4, 22, 30), utc(2026, 10, 5, 6, 30)),
]


@pytest.mark.parametrize(
    ("zone", "day", "start", "end"), WORKING_DAYS, ids=[f"{z}-{d}" for z, d, *_ in WORKING_DAYS]
)
def test_working_interval_in_utc_follows_the_teams_zone(
    zone: str, day: date, start: datetime, end: datetime
) -> None:
    """A team's 09:00-17:00 local working day is the hand-computed UTC interval, whatever the
    horizon's zone, on both sides of every DST change of the team's zone."""
    cal = calendar_in(zone)
    assert interval_at(cal, start) == (hours(start), hours(end))
    mid = hours(start) + 4.0
    assert cal.is_open(mid)
    assert cal.next_open(hours(start) - 0.5) == hours(start)
    assert cal.close_of(mid) == hours(end)
    assert not cal.is_open(hours(end))
    assert cal.local_datetime(hours(start)).date() == day


@pytest.mark.parametrize(
    ("zone", "monday", "gap_h"),
    [
        ("Europe/London", date(2026, 3, 23), 167.0),  # spring forward on Sunday 29 March
        ("Europe/London", date(2026, 10, 19), 169.0),  # fall back on Sunday 25 October
        ("Australia/Adelaide", date(2026, 3, 30), 169.0),  # ACDT ends Sunday 5 April
        ("Australia/Adelaide", date(2026, 9, 28), 167.0),  # ACDT starts Sunday 4 October
        ("Asia/Tokyo", date(2026, 3, 23), 168.0),  # no DST
    ],
)
def test_a_week_across_the_teams_dst_change(zone: str, monday: date, gap_h: float) -> None:
    """From one Monday's opening to the next is 167 or 169 clock hours when the team's zone
    changes its clocks that weekend (168 otherwise), and still holds 40 business hours."""
    cal = calendar_in(zone)
    i = int(np.searchsorted(cal.starts, cal.local_hours(monday, 9.0)))
    assert cal.local_datetime(float(cal.starts[i])).date() == monday
    nxt = i + 5  # Monday..Friday, then the next Monday
    assert cal.local_datetime(float(cal.starts[nxt])).date() == monday + timedelta(days=7)
    assert cal.starts[nxt] - cal.starts[i] == pytest.approx(gap_h, abs=1e-9)
    assert cal.business_hours_between(float(cal.starts[i]), float(cal.starts[nxt])) == 40.0


def test_two_teams_share_a_lead_differently() -> None:
    """One instant, two teams: Monday 30 March 2026 11:00 UTC is 12:00 in London (open) and
    20:00 in Tokyo (closed); 4 business hours later is 16:00 the same day in London and 13:00
    the next day in Tokyo."""
    t = hours(utc(2026, 3, 30, 11))
    london, tokyo = calendar_in("Europe/London"), calendar_in("Asia/Tokyo")
    assert london.is_open(t)
    assert not tokyo.is_open(t)
    assert london.add_business_hours(t, 4.0) == hours(utc(2026, 3, 30, 15))
    assert tokyo.add_business_hours(t, 4.0) == hours(utc(2026, 3, 31, 4))
