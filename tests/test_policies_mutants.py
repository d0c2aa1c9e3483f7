"""Hand-computed cases for the policy and staffing machinery (sla_sim/model/policies.py and
sla_sim/model/staffing.py), written to pin exact behaviour: work orders, priority classes,
reassignment times on a known calendar, and staffing plans (joins, leaves, backfills, ramps,
days off) on known dates.

The horizon starts on Monday 5 January 2026 00:00 UTC (model hour 0): a warm-up week, then
12 January to 12 February (end at hour 912). Staffing plans get their random draws from a
fake stream source (the leave time and the day-off uniforms are chosen by hand); event-loop
tests replace the lead draws with hand-made leads whose attempts take 30 minutes of work,
stretched to 1 h by a shrinkage of 0.5.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pytest
from both_engines import run_reference

from sla_sim.calendar import CalendarSpec
from sla_sim.events import EVENTS
from sla_sim.model import funnel
from sla_sim.model.funnel import FunnelModel
from sla_sim.model.leads import LEAD_FIELDS, WORK_FIELDS, LeadDraws
from sla_sim.model.staffing import (
    DAYS_PER_MONTH,
    RepCalendar,
    RepPlan,
    Staffing,
    _add_months,
    _subtract,
    has_staffing_plan,
    log_rows,
)
from sla_sim.scenario.distributions import Constant
from sla_sim.scenario.schema import (
    ChannelSpec,
    ContactSpec,
    FollowUpSpec,
    HireSpec,
    HorizonSpec,
    NurtureSpec,
    Scenario,
    SLASpec,
    TeamSpec,
)
from sla_sim.streams import Streams, replication_seed

UTC_CAL = CalendarSpec(timezone="UTC")
ALWAYS = CalendarSpec(timezone="UTC", always_open=True)
NY_CAL = CalendarSpec(timezone="America/New_York")  # Mon-Fri 09-17 EST = 14-22 UTC in winter
ORIGIN = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
END_H = (7 + 31) * 24.0


def channel(name: str, leads_per_month: float = 10.0) -> ChannelSpec:
    return ChannelSpec(name=name, leads_per_month=leads_per_month, segment_mix={"smb": 1.0},
                       score_alpha=2.0, score_beta=2.0, sql_rate=0.3, win_rate=0.5,
                       cycle_days=Constant(value=2.0), deal_value=Constant(value=1000.0))


def scenario(team: TeamSpec | None = None, *, teams: list[TeamSpec] | None = None,
             **changes: Any) -> Scenario:  # fmt: skip
    """The hand-computable scenario: one team (``team``, or ``teams``), two channels."""
    data: dict[str, Any] = {
        "horizon": HorizonSpec(measure_start=date(2026, 1, 12), measure_months=1,
                               warmup_days=7, timezone="UTC"),
        "channels": [channel("web"), channel("ads")],
        "teams": teams or [team or TeamSpec(name="sdr", reps=1, calendar=ALWAYS)],
        "marketing_calendar": UTC_CAL,
        "follow_up": FollowUpSpec(cadence_days=[0.0, 0.125], attempt_minutes=Constant(value=30.0),
                                  contact=ContactSpec(p_initial=0.5, p_floor=0.5,
                                                      attempt_decay=1.0)),
        "nurture": NurtureSpec(max_days=30.0),
        "sla": SLASpec(attempts_required=1),
    }
    data.update(changes)
    return Scenario(**data)


# ---------------------------------------------------------------------- fake random streams
class FakeRng:
    """A generator whose draws are given by hand: ``exponential`` returns ``leave`` hours (and
    records the scale asked for), ``random(n)`` returns ``u`` padded with 0.99."""

    def __init__(self, leave: float = math.inf, u: list[float] | None = None) -> None:
        self.leave, self.u = leave, u or []
        self.scales: list[float] = []
        self.sizes: list[int] = []

    def exponential(self, scale: float) -> float:
        self.scales.append(scale)
        return self.leave

    def random(self, n: int) -> np.ndarray:
        self.sizes.append(n)
        return np.asarray((self.u + [0.99] * n)[:n])


class FakeStreams:
    """Stream source with hand-made generators by name (any other name: an error)."""

    def __init__(self, rngs: dict[str, FakeRng]) -> None:
        self.rngs = rngs

    def __call__(self, name: str) -> FakeRng:
        return self.rngs[name]


def staffing(team: TeamSpec, rngs: dict[str, FakeRng] | None = None) -> Staffing:
    return Staffing(scenario(team), 0, ORIGIN, END_H, FakeStreams(rngs or {}))  # type: ignore[arg-type]


# ---------------------------------------------------------------------- hand-made leads
LEAD_DEFAULTS: dict[str, Any] = {
    "channel": 0, "segment": 0, "score": 80.0, "ops": 0.0, "nurture": math.inf,
    "u_contact": (0.9, 0.1), "work": (0.5, 0.5), "u_q": 0.99, "u_d": 0.0, "cycle": 48.0,
    "u_win": 0.0, "deal": 1000.0}  # fmt: skip
# defaults: missed, then reached; an attempt takes 0.5 h x 2 = 1 h of rep time;
# a reached lead is disqualified (u_d = 0)


def run_hand(sc: Scenario, leads: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
             ) -> FunnelModel:  # fmt: skip
    """Run ``sc`` with hand-made leads (``t``: creation = MQL time; other fields as
    :data:`LEAD_DEFAULTS`) on the SimPy reference (returned); where the fast engine covers
    ``sc`` (work orders, pull, priority classes) it must write the same log."""
    assert [x["t"] for x in leads] == sorted(x["t"] for x in leads)
    return run_reference(sc, lambda s: hand_model(s, leads, monkeypatch))


def hand_model(sc: Scenario, leads: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
               ) -> FunnelModel:  # fmt: skip
    """A model of ``sc`` whose lead draws are the hand-made ``leads`` (not set up, not run)."""
    full = [{**LEAD_DEFAULTS, **x} for x in leads]
    lead = {f: np.asarray([x[f] for x in full], dtype=np.int64 if f in ("channel", "segment")
                          else np.float64) for f in LEAD_FIELDS}  # fmt: skip
    work = {f: np.asarray([x[f] for x in full], dtype=np.float64) for f in WORK_FIELDS}
    draws = LeadDraws(lead, [work], np.arange(len(full)))
    monkeypatch.setattr(funnel, "draw_leads", lambda *args, **kw: draws)
    return FunnelModel(sc, Streams(replication_seed(1, 0)))


def rows(model: FunnelModel, *events: str, lead: int | None = None) -> list[tuple[Any, ...]]:
    """(lead, time_h, event, team, rep, attempt, value or None) in log order, of the given
    events (all if none), of one lead (all if None)."""
    cols = model.log.columns()
    out = []
    for i in range(len(cols["lead"])):
        name = EVENTS[int(cols["event"][i])]
        if (events and name not in events) or (lead is not None and cols["lead"][i] != lead):
            continue
        v = float(cols["value"][i])
        out.append((int(cols["lead"][i]), float(cols["time_h"][i]), name, int(cols["team"][i]),
                    int(cols["rep"][i]), int(cols["attempt"][i]), None if math.isnan(v) else v))
    return out


def attempts(model: FunnelModel) -> list[tuple[int, float, int, int]]:
    """(lead, start, rep, attempt number) of every attempt, in log order."""
    return [(r[0], r[1], r[4], r[5]) for r in rows(model, "attempt")]


# ---------------------------------------------------------------------- staffing: pure parts
def test_has_staffing_plan_names_each_field_that_changes_capacity() -> None:
    base = TeamSpec(name="sdr", reps=2)
    assert not has_staffing_plan(base)
    assert has_staffing_plan(base.model_copy(update={"hires": [HireSpec(start=date(2026, 2, 1))]}))
    assert has_staffing_plan(base.model_copy(update={"attrition_per_month": 0.01}))
    assert has_staffing_plan(base.model_copy(update={"pto_days_per_year": 1.0}))
    assert has_staffing_plan(base.model_copy(update={"rep_calendars": [UTC_CAL, UTC_CAL]}))


@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2026, 1, 15), 1, date(2026, 2, 15)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),  # clipped to the month's last day
    (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
    (date(2100, 1, 31), 1, date(2100, 2, 28)),  # century: not a leap year
    (date(2000, 1, 31), 1, date(2000, 2, 29)),  # 400 years: a leap year
    (date(2026, 11, 30), 2, date(2027, 1, 30)),  # across the year end
    (date(2026, 12, 31), 12, date(2027, 12, 31)),
    (date(2026, 8, 31), 1, date(2026, 9, 30)),
])
def test_add_months_keeps_the_day_or_the_months_last_day(start: date, months: int,
                                                         expected: date) -> None:  # fmt: skip
    assert _add_months(start, months) == expected


def test_add_months_knows_every_months_length() -> None:
    lengths = [_add_months(date(2026, 1, 31), k).day for k in range(12)]
    assert lengths == [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def test_rep_calendar_queries_on_two_intervals() -> None:
    """Intervals [1, 2), [5, 8) and [10, 12): open inside, closed at an end; next opening and
    the close of the current (or next) interval; nothing after the last."""
    cal = RepCalendar([1.0, 5.0, 10.0], [2.0, 8.0, 12.0])
    assert cal.always_open is False
    assert [cal.is_open(t) for t in (0.5, 1.0, 1.5, 2.0, 4.0, 5.0, 7.9, 8.0, 9.0)] == [
        False, True, True, False, False, True, True, False, False]
    times = (0.0, 1.0, 1.5, 2.0, 3.0, 5.0, 6.0, 8.0, 9.0, 11.0, 12.0, 13.0)
    assert [cal.next_open(t) for t in times] == [
        1.0, 1.0, 1.5, 5.0, 5.0, 5.0, 6.0, 10.0, 10.0, 11.0, math.inf, math.inf]
    assert [cal.close_of(t) for t in times] == [
        2.0, 2.0, 2.0, 8.0, 8.0, 8.0, 8.0, 12.0, 12.0, 12.0, math.inf, math.inf]
    empty = RepCalendar([], [])
    assert (empty.is_open(0.0), empty.next_open(0.0), empty.close_of(0.0)) == (
        False, math.inf, math.inf)


def test_subtract_removes_a_window_from_intervals() -> None:
    s, e = [0.0, 10.0, 20.0, 30.0], [5.0, 15.0, 25.0, 35.0]
    # [12, 22) cuts the end of [10, 15) and the start of [20, 25); touching ends are kept
    assert _subtract(s, e, 12.0, 22.0) == ([0.0, 10.0, 22.0, 30.0], [5.0, 12.0, 25.0, 35.0])
    assert _subtract(s, e, 5.0, 10.0) == (s, e)  # only touches: nothing removed
    assert _subtract(s, e, 11.0, 13.0) == ([0.0, 10.0, 13.0, 20.0, 30.0],
                                           [5.0, 11.0, 15.0, 25.0, 35.0])  # a hole
    assert _subtract(s, e, 10.0, 15.0) == ([0.0, 20.0, 30.0], [5.0, 25.0, 35.0])  # exact
    assert _subtract(s, e, -1.0, 40.0) == ([], [])


def test_log_rows_split_at_ramp_steps_with_the_share_as_value() -> None:
    """Intervals [0, 5) and [10, 20); ramp 0.25 from -inf, 0.5 from 3, 0.75 from 12, 1 from
    30: on/off pairs [0, 3) 0.25, [3, 5) 0.5, [10, 12) 0.5, [12, 20) 0.75."""
    ramp = ([-math.inf, 3.0, 12.0, 30.0], [0.25, 0.5, 0.75, 1.0])
    rows = log_rows(2, 4, [0.0, 10.0], [5.0, 20.0], ramp, 11, 12)
    on = [(r[2], r[7]) for r in rows if r[3] == 11]
    off = [r[2] for r in rows if r[3] == 12]
    assert on == [(0.0, 0.25), (3.0, 0.5), (10.0, 0.5), (12.0, 0.75)]
    assert off == [3.0, 5.0, 12.0, 20.0]
    assert [r[3] for r in rows] == [11, 12] * 4  # each on row followed by its off row
    assert {(r[0], r[1], r[4], r[5], r[6]) for r in rows} == {(-1, 0, 2, 4, -1)}
    assert all(math.isnan(r[7]) for r in rows if r[3] == 12)
    # a step exactly at an interval's start applies from that start, without a cut
    at_start = log_rows(0, 0, [10.0], [20.0], ([-math.inf, 10.0], [0.5, 1.0]), 1, 2)
    assert [(r[2], r[3], r[7]) for r in at_start][:1] == [(10.0, 1, 1.0)]
    assert [(r[2], r[3]) for r in at_start] == [(10.0, 1), (20.0, 2)]
    # a step exactly at an interval's end starts no piece there
    at_end = log_rows(0, 0, [0.0], [10.0], ([-math.inf, 10.0], [0.5, 1.0]), 1, 2)
    assert [(r[2], r[3]) for r in at_end] == [(0.0, 1), (10.0, 2)]
    # before the first step: the first share
    first = log_rows(0, 0, [0.0], [10.0], ([5.0, 8.0], [0.3, 0.6]), 1, 2)
    assert [(r[2], r[7]) for r in first if r[3] == 1] == [(0.0, 0.3), (5.0, 0.3), (8.0, 0.6)]


def test_rep_plan_days_off_are_not_shared() -> None:
    a, b = RepPlan(UTC_CAL, 0.0, 1.0, None), RepPlan(UTC_CAL, 0.0, 1.0, None)
    a.days_off.append(date(2026, 1, 5))
    assert b.days_off == []


# ---------------------------------------------------------------------- staffing: the plan
def test_staffing_plan_joins_leaves_and_backfills_on_local_dates() -> None:
    """Two reps from the origin, a hire on Wednesday 14 January (New York midnight = 05:00 UTC,
    hour 221), attrition 30% a month, backfill 2.5 days -> 3 whole days after the local date of
    the departure. Rep 0 leaves at hour 90 (Thursday 8 January, 13:00 New York): its backfill
    joins at New York midnight of Sunday 11 January (hour 149) and leaves at 149 + 1000 (past
    the end). Rep 1 leaves at hour 300 (Saturday 17 January, 07:00 in New York): its
    backfill joins on Tuesday 20 January (hour 365). The hire leaves at 221 + 500 = 721
    (Tuesday 3 February, 20:00 in New York but already the 4th in UTC): its backfill joins at
    midnight of Friday 6 February in New York (hour 773). Backfills leave after the end."""
    team = TeamSpec(name="sdr", reps=2, calendar=NY_CAL, attrition_per_month=0.3,
                    backfill_delay_days=2.5, hires=[HireSpec(start=date(2026, 1, 14))])
    rngs = {"staff:sdr:0": FakeRng(90.0), "staff:sdr:1": FakeRng(300.0),
            "staff:sdr:2": FakeRng(500.0), "staff:sdr:3": FakeRng(1000.0),
            "staff:sdr:4": FakeRng(5000.0), "staff:sdr:5": FakeRng(5000.0)}
    st = staffing(team, rngs)
    rate = -math.log(0.7) / (DAYS_PER_MONTH * 24.0)
    assert DAYS_PER_MONTH == 365.25 / 12
    assert st.leave_rate_h == pytest.approx(rate, rel=1e-12)
    assert all(r.scales == [pytest.approx(1.0 / rate, rel=1e-12)] for r in rngs.values())
    got = [(p.join_h, p.leave_h, p.join_date) for p in st.plans]
    assert got == [(-math.inf, 90.0, None), (-math.inf, 300.0, None),
                   (221.0, 721.0, date(2026, 1, 14)), (149.0, 1149.0, date(2026, 1, 11)),
                   (365.0, 5365.0, date(2026, 1, 20)), (773.0, 5773.0, date(2026, 2, 6))]
    assert all(p.spec == NY_CAL and p.days_off == [] for p in st.plans)


def test_leaver_at_the_horizon_end_is_not_replaced() -> None:
    """A rep leaving exactly at the end (hour 912, 11 February 19:00 in New York) is not
    backfilled, even with no delay (New York midnight of the 11th is before the end)."""
    team = TeamSpec(name="sdr", reps=1, calendar=NY_CAL, attrition_per_month=0.3,
                    backfill_delay_days=0.0)
    st = staffing(team, {"staff:sdr:0": FakeRng(END_H)})
    assert [(p.join_h, p.leave_h) for p in st.plans] == [(-math.inf, END_H)]


def test_staffing_backfill_joining_after_the_horizon_is_dropped() -> None:
    """A leaver at hour 850 (Monday 9 February 10:00 UTC): 3 days later is 12 February 00:00,
    the end (hour 912), so its backfill is dropped; a leaver at hour 839 (Sunday 8 February
    23:00) is backfilled at 11 February 00:00 (hour 888); a one-day delay after a departure at
    hour 30 (Tuesday 6 January 06:00) joins on Wednesday 7 January 00:00 (hour 48); without a
    backfill delay nobody is replaced."""
    team = TeamSpec(name="sdr", reps=1, calendar=UTC_CAL, attrition_per_month=0.3,
                    backfill_delay_days=3.0)
    st = staffing(team, {"staff:sdr:0": FakeRng(850.0)})
    assert [(p.join_h, p.leave_h) for p in st.plans] == [(-math.inf, 850.0)]
    # hour 840 is Thursday 9 February 00:00 UTC: + 3 days = 12 February 00:00 = hour 912
    st = staffing(team, {"staff:sdr:0": FakeRng(839.0), "staff:sdr:1": FakeRng(1.0)})
    assert [(p.join_h, p.leave_h) for p in st.plans] == [(-math.inf, 839.0), (888.0, 889.0)]
    day = team.model_copy(update={"backfill_delay_days": 1.0})
    st = staffing(day, {"staff:sdr:0": FakeRng(30.0), "staff:sdr:1": FakeRng(1000.0)})
    assert [(p.join_h, p.leave_h) for p in st.plans] == [(-math.inf, 30.0), (48.0, 1048.0)]
    none = team.model_copy(update={"backfill_delay_days": None})
    st = staffing(none, {"staff:sdr:0": FakeRng(30.0)})
    assert len(st.plans) == 1


def test_staffing_without_attrition_draws_no_leave_time() -> None:
    team = TeamSpec(name="sdr", reps=2, calendar=UTC_CAL, backfill_delay_days=1.0,
                    hires=[HireSpec(start=date(2026, 1, 7), reps=2)])
    st = staffing(team)  # no stream may be asked for
    assert st.leave_rate_h == 0.0
    assert [(p.join_h, p.leave_h) for p in st.plans] == [
        (-math.inf, math.inf), (-math.inf, math.inf), (48.0, math.inf), (48.0, math.inf)]


def test_rep_calendars_give_each_rep_its_own_spec_and_hires_the_team_calendar() -> None:
    """Rep 0 on New York hours (14-22 UTC), rep 1 on UTC hours, the hire (Wednesday 7
    January) on the team's Tokyo hours (09-17 JST = 00-08 UTC; joins at Tokyo midnight, 15:00
    UTC on the 6th)."""
    tokyo = CalendarSpec(timezone="Asia/Tokyo")
    team = TeamSpec(name="sdr", reps=2, calendar=tokyo, rep_calendars=[NY_CAL, UTC_CAL],
                    hires=[HireSpec(start=date(2026, 1, 7))])
    st = staffing(team)
    assert [p.spec for p in st.plans] == [NY_CAL, UTC_CAL, tokyo]
    assert [(st.intervals(r)[0][0], st.intervals(r)[1][0]) for r in range(3)] == [
        (14.0, 22.0), (9.0, 17.0), (48.0, 56.0)]


def test_days_off_are_working_days_with_a_uniform_below_the_planned_rate() -> None:
    """20 days a year on Mon-Fri: p = 20 / (5 x 365.25 / 7). One uniform per working day of
    the rep's calendar from the origin's local date (Sunday 4 January in New York) for
    38 + 2 days, holidays excluded (Wednesday 7 January): Monday 5 is working day 0, Tuesday 6
    is 1, Thursday 8 is 2, Friday 9 is 3, Monday 12 is 4."""
    p = 20.0 / (5 * 365.25 / 7.0)
    cal = NY_CAL.model_copy(update={"holidays": [date(2026, 1, 7)]})
    u = [0.0, p * (1 + 1e-6), p * (1 - 1e-6), p, 0.5 * p]  # u == p: not below, a working day
    rng = FakeRng(u=u)
    team = TeamSpec(name="sdr", reps=1, calendar=cal, pto_days_per_year=20.0)
    st = staffing(team, {"pto:sdr:0": rng})
    working = [d for d in (date(2026, 1, 4) + np.timedelta64(k, "D").item() for k in range(40))
               if d.weekday() < 5 and d != date(2026, 1, 7)]  # fmt: skip
    assert rng.sizes == [len(working)] == [28]
    assert st.plans[0].days_off == [date(2026, 1, 5), date(2026, 1, 8), date(2026, 1, 12)]


def test_days_off_start_on_the_local_date_at_the_origin() -> None:
    """A 24/7 rep in the Azores (UTC-1): the origin (00:00 UTC) is 23:00 on Sunday 4 January
    there, so the first uniform is Sunday 4 January's."""
    azores = CalendarSpec(timezone="Atlantic/Azores", always_open=True)
    team = TeamSpec(name="sdr", reps=1, calendar=azores, pto_days_per_year=20.0)
    st = staffing(team, {"pto:sdr:0": FakeRng(u=[0.0, 0.99, 0.0])})
    assert st.plans[0].days_off == [date(2026, 1, 4), date(2026, 1, 6)]


def test_days_off_rate_counts_the_reps_own_working_days() -> None:
    """A rep on a three-day week: p = 20 / (3 x 365.25 / 7); a 24/7 rep: p = 20 / 365.25 and
    every day is a working day (from Monday 5 January in UTC)."""
    three = CalendarSpec(timezone="UTC", working_days=[0, 2, 4])
    p3 = 20.0 / (3 * 365.25 / 7.0)
    rng = FakeRng(u=[p3 * (1 - 1e-6), p3 * (1 + 1e-6), 0.0])
    team = TeamSpec(name="sdr", reps=1, calendar=UTC_CAL, pto_days_per_year=20.0,
                    rep_calendars=[three])
    st = staffing(team, {"pto:sdr:0": rng})
    assert st.plans[0].days_off == [date(2026, 1, 5), date(2026, 1, 9)]  # Mon, not Wed; Fri
    assert rng.sizes == [40 // 7 * 3 + 3]  # 5 Jan .. 13 Feb: 17 Mondays, Wednesdays, Fridays
    p7 = 20.0 / 365.25
    rng = FakeRng(u=[p7 * (1 + 1e-6), p7 * (1 - 1e-6)])
    st = staffing(team.model_copy(update={"rep_calendars": [ALWAYS]}), {"pto:sdr:0": rng})
    assert rng.sizes == [40]
    assert st.plans[0].days_off == [date(2026, 1, 6)]


def test_intervals_clip_to_presence_and_drop_days_off() -> None:
    """New York 09-17 is 14-22 UTC in January. Rep 0 leaves at hour 90 (Thursday 8 January
    20:00 UTC) and is off on Tuesday 6 January (New York midnight to midnight): Monday
    [14, 22), Wednesday [62, 70), Thursday [86, 90). The hire on Friday 9 January joins at
    hour 101 (New York midnight) and works Friday [110, 118), then the next week."""
    team = TeamSpec(name="sdr", reps=1, calendar=NY_CAL, attrition_per_month=0.1,
                    pto_days_per_year=20.0, hires=[HireSpec(start=date(2026, 1, 9))])
    rngs = {"staff:sdr:0": FakeRng(90.0), "pto:sdr:0": FakeRng(u=[0.99, 0.0]),
            "staff:sdr:1": FakeRng(20.0), "pto:sdr:1": FakeRng()}
    st = staffing(team, rngs)
    assert st.intervals(0) == ([14.0, 62.0, 86.0], [22.0, 70.0, 90.0])
    assert st.plans[1].join_h == 101.0
    assert st.intervals(1) == ([110.0], [118.0])  # leaves at 121, Saturday


def test_intervals_of_a_24_7_rep_and_of_a_rep_never_present() -> None:
    """A 24/7 rep: one interval from its join (or the origin) to its leave (or the end),
    minus whole UTC days off; a hire after the horizon works nothing."""
    team = TeamSpec(name="sdr", reps=1, calendar=ALWAYS, pto_days_per_year=20.0,
                    hires=[HireSpec(start=date(2026, 1, 8)), HireSpec(start=date(2026, 3, 1))])
    rngs = {"pto:sdr:0": FakeRng(u=[0.99, 0.0]), "pto:sdr:1": FakeRng(),
            "pto:sdr:2": FakeRng()}
    st = staffing(team, rngs)
    assert st.intervals(0) == ([0.0, 48.0], [24.0, END_H])
    assert st.intervals(1) == ([72.0], [END_H])
    assert st.plans[2].join_h > END_H
    assert st.intervals(2) == ([], [])


def test_ramp_steps_follow_calendar_months_from_the_join_date() -> None:
    """A hire on 31 January (New York midnight: hour 629) ramping 25/50%: 0.25 from its join,
    0.5 from 28 February (one calendar month later, clipped), 1 from 31 March. A rep present at
    the origin, or any rep without a ramp, works at full speed throughout."""
    team = TeamSpec(name="sdr", reps=1, calendar=NY_CAL, ramp_by_tenure_month=[0.25, 0.5],
                    hires=[HireSpec(start=date(2026, 1, 31))])
    st = staffing(team)
    feb28 = (31 + 23) * 24.0 + 5.0  # 28 February 00:00 New York (05:00 UTC)
    mar31 = feb28 + 31 * 24.0 - 1.0  # daylight saving from 8 March: 04:00 UTC
    assert st.ramp_steps(1) == ([629.0, feb28, mar31], [0.25, 0.5, 1.0])
    assert st.ramp_steps(0) == ([-math.inf], [1.0])
    flat = staffing(team.model_copy(update={"ramp_by_tenure_month": []}))
    assert flat.ramp_steps(1) == ([-math.inf], [1.0])


# ---------------------------------------------------------------------- which teams, classes
def test_has_policy_for_each_departure_from_the_defaults() -> None:
    from sla_sim.model.policies import has_policy, reads_sla
    from sla_sim.scenario.schema import RoutingSpec

    base = TeamSpec(name="sdr", reps=1)
    assert not has_policy(scenario(base), 0)
    for change in ({"assignment": "pull"}, {"work_order": "new_first"},
                   {"work_order": "deadline_first"}, {"reassign_after_business_hours": 2.0},
                   {"pto_days_per_year": 5.0}):  # fmt: skip
        assert has_policy(scenario(base.model_copy(update=change)), 0), change
    prio = scenario(base, routing=RoutingSpec(priority_by="channel", priority_order=["ads"]))
    assert has_policy(prio, 0)
    # priority by channel with no channel listed: no classes, no policy
    assert not has_policy(scenario(base, routing=RoutingSpec(priority_by="channel")), 0)
    # the overflow team runs on the policy classes too (it takes escalations)
    two = scenario(teams=[base.model_copy(update={"reassign_after_business_hours": 1.0,
                                                  "overflow_team": "backup",
                                                  "channels": ["web", "ads"]}),
                          TeamSpec(name="backup", reps=1), TeamSpec(name="other", reps=1)],
                   routing=RoutingSpec(team_rule="by_channel"))  # fmt: skip
    assert [has_policy(two, i) for i in range(3)] == [True, True, False]
    assert not reads_sla(two)
    assert reads_sla(scenario(teams=[base.model_copy(update={"channels": ["web"]}),
                                     base.model_copy(update={"name": "b", "channels": ["ads"],
                                                             "work_order": "deadline_first"})],
                              routing=RoutingSpec(team_rule="by_channel")))
    assert not reads_sla(scenario(base.model_copy(update={"work_order": "new_first"})))


def test_priority_classes_listed_in_order_then_the_rest() -> None:
    from sla_sim.model.policies import priority_classes
    from sla_sim.scenario.schema import RoutingSpec

    sc = scenario(channels=[channel("web"), channel("ads"), channel("mail")],
                  routing=RoutingSpec(priority_by="channel", priority_order=["mail", "web"]))
    codes = np.array([0, 1, 2, 2, 0])
    assert priority_classes(sc, codes, np.zeros(5, dtype=np.int64), ["smb"]) == [1, 2, 0, 0, 1]
    by_seg = sc.model_copy(update={"routing": RoutingSpec(priority_by="segment",
                                                          priority_order=["ent"])})
    assert priority_classes(by_seg, codes, np.array([0, 1, 2, 1, 0]),
                            ["smb", "ent", "mid"]) == [1, 0, 1, 0, 1]  # fmt: skip


# ---------------------------------------------------------------------- work order, priority
# One rep 24/7 holding up to 4 leads; cadence 0 and 3 h; each attempt 1 h of rep time except
# lead 1's first (3 h); every first attempt misses and every second reaches. Lead 0 (MQL 0)
# is tried at 0, its follow-up due at 3; lead 1 (MQL 1.5) is tried over [1.5, 4.5), its
# follow-up due at 4.5; leads 2 (MQL 3.5) and 3 (MQL 4.25, channel ads) wait. At 4.5 four
# attempts are due: lead 0's follow-up (due 3), lead 2's first (3.5), lead 3's first (4.25),
# lead 1's follow-up (4.5). SLA: first touch within 2 h, 2 attempts within 6 h, so the
# deadlines are 5.5 (lead 2), 6 (lead 0's follow-up), 6.25 (lead 3), 7.5 (lead 1's).
ORDER_LEADS: list[dict[str, Any]] = [{"t": 0.0}, {"t": 1.5, "work": (1.5, 0.5)}, {"t": 3.5},
                                     {"t": 4.25, "channel": 1}]
ORDER_SLA = SLASpec(attempts_required=2, first_touch_within_business_hours=2.0,
                    attempts_within_days=0.25)
HEAD = [(0, 0.0, 0, 0), (1, 1.5, 0, 0)]


def order_team(order: str, cap: int = 4, **changes: Any) -> TeamSpec:
    return TeamSpec(name="sdr", reps=1, calendar=ALWAYS, shrinkage=0.5, max_active_leads=cap,
                    work_order=order, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("order", "tail"), [
    # the earliest due; then the follow-ups of leads 2 and 3 at first touch + 3
    ("due_first", [(0, 4.5, 0, 1), (2, 5.5, 0, 0), (3, 6.5, 0, 0), (1, 7.5, 0, 1)]),
    # first attempts before follow-ups, each by due time
    ("new_first", [(2, 4.5, 0, 0), (3, 5.5, 0, 0), (0, 6.5, 0, 1), (1, 7.5, 0, 1)]),
    # the earliest SLA deadline
    ("deadline_first", [(2, 4.5, 0, 0), (0, 5.5, 0, 1), (3, 6.5, 0, 0), (1, 7.5, 0, 1)]),
])
def test_work_order_picks_among_the_due_attempts(order: str, tail: list[tuple[int, ...]],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    model = run_hand(scenario(order_team(order), sla=ORDER_SLA), ORDER_LEADS, monkeypatch)
    assert attempts(model) == HEAD + tail + [(2, 8.5, 0, 1), (3, 9.5, 0, 1)]


@pytest.mark.parametrize(("order", "tail"), [
    # lead 3 (ads, class 0) first at 4.5 and its follow-up (due 7.5) first at 7.5; the rest
    # (class 1) in the team's order
    ("due_first", [(3, 4.5, 0, 0), (0, 5.5, 0, 1), (2, 6.5, 0, 0), (3, 7.5, 0, 1),
                   (1, 8.5, 0, 1), (2, 9.5, 0, 1)]),
    ("new_first", [(3, 4.5, 0, 0), (2, 5.5, 0, 0), (0, 6.5, 0, 1), (3, 7.5, 0, 1),
                   (1, 8.5, 0, 1), (2, 9.5, 0, 1)]),
    ("deadline_first", [(3, 4.5, 0, 0), (2, 5.5, 0, 0), (0, 6.5, 0, 1), (3, 7.5, 0, 1),
                        (1, 8.5, 0, 1), (2, 9.5, 0, 1)]),
])
def test_priority_class_comes_before_the_work_order(order: str, tail: list[tuple[int, ...]],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from sla_sim.scenario.schema import RoutingSpec

    sc = scenario(order_team(order), sla=ORDER_SLA,
                  routing=RoutingSpec(priority_by="channel", priority_order=["ads"]))
    assert attempts(run_hand(sc, ORDER_LEADS, monkeypatch)) == HEAD + tail


@pytest.mark.parametrize("order", ["due_first", "new_first", "deadline_first"])
@pytest.mark.parametrize("prio", [False, True])
def test_team_queue_gives_a_freed_slot_in_the_team_order(order: str, prio: bool,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:  # fmt: skip
    """One slot: lead 0 holds it until its follow-up ends at 4; leads 1 (web, MQL 0.5) and 2
    (ads, 1.0) wait in the team queue: lead 1 takes the slot at 4 and lead 2 at 8, unless ads
    comes first by priority."""
    from sla_sim.scenario.schema import RoutingSpec

    routing = RoutingSpec(priority_by="channel", priority_order=["ads"]) if prio else \
        RoutingSpec()  # fmt: skip
    sc = scenario(order_team(order, cap=1), sla=ORDER_SLA, routing=routing)
    model = run_hand(sc, [{"t": 0.0}, {"t": 0.5}, {"t": 1.0, "channel": 1}], monkeypatch)
    a, b = (2, 1) if prio else (1, 2)
    assert rows(model, "routed", "assigned") == [
        (0, 0.0, "routed", 0, -1, -1, None), (0, 0.0, "assigned", 0, 0, -1, None),
        (1, 0.5, "routed", 0, -1, -1, None), (2, 1.0, "routed", 0, -1, -1, None),
        (a, 4.0, "assigned", 0, 0, -1, None), (b, 8.0, "assigned", 0, 0, -1, None)]
    assert attempts(model)[2:] == [(a, 4.0, 0, 0), (a, 7.0, 0, 1), (b, 8.0, 0, 0),
                                   (b, 11.0, 0, 1)]  # fmt: skip


@pytest.mark.parametrize(("start", "first"), [("mql", 1), ("assignment", 2)])
def test_deadline_first_queue_counts_from_the_mql_or_the_assignment(
        start: str, first: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lead 1 is an MQL at 0.2 but routed at 0.8 (ops delay); lead 2 an MQL and routed at
    0.5. From the MQL lead 1's first-touch deadline (2.2) comes before lead 2's (2.5); from
    the assignment (queued: the routing time) lead 2's (2.5) comes before lead 1's (2.8)."""
    sla = ORDER_SLA.model_copy(update={"first_touch_from": start})
    sc = scenario(order_team("deadline_first", cap=1), sla=sla)
    model = run_hand(sc, [{"t": 0.0}, {"t": 0.2, "ops": 0.6}, {"t": 0.5}], monkeypatch)
    assert [r[0] for r in rows(model, "assigned")] == [0, first, 3 - first]


# ---------------------------------------------------------------------- reassignment
# Team calendar Monday-Friday 09-17 UTC, reassignment after 1 business hour. Lead 0 (Monday
# 16:00) keeps rep 0 busy for 20 h ([16, 36)); the lead held behind it by rep 0 at 16:30 is
# still untouched 1 business hour later: Monday 16:30-17:00, then Tuesday 09:00-09:30, so it
# is taken back at hour 24 + 9.5 = 33.5.
RE_EVENTS = ("routed", "assigned", "attempt", "reassigned", "escalated")


def re_team(**changes: Any) -> TeamSpec:
    fields: dict[str, Any] = {"name": "sdr", "reps": 2, "calendar": UTC_CAL, "shrinkage": 0.5,
                              "max_active_leads": 2, "reassign_after_business_hours": 1.0}
    return TeamSpec(**(fields | changes))


@pytest.mark.parametrize("order", ["due_first", "new_first"])
def test_untouched_lead_is_reassigned_after_business_hours_to_a_free_rep(
        order: str, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Lead 1 (16:15) goes to rep 1 and is reached at once (freeing rep 1); lead 2 (16:30)
    goes to rep 0 by round robin, behind lead 0: at 33.5 it is reassigned (count 1), routed
    again and assigned to rep 1, who starts it at once. Rep 0 skips the void first attempt
    of lead 2 left in its heap (first in new_first's order)."""
    leads = [{"t": 16.0, "work": (10.0, 0.5)}, {"t": 16.25, "u_contact": (0.1, 0.1)},
             {"t": 16.5}]
    model = run_hand(scenario(re_team(work_order=order)), leads, monkeypatch)
    assert rows(model, *RE_EVENTS, lead=2) == [
        (2, 16.5, "routed", 0, -1, -1, None), (2, 16.5, "assigned", 0, 0, -1, None),
        (2, 33.5, "reassigned", 0, 0, -1, 1.0), (2, 33.5, "routed", 0, -1, -1, None),
        (2, 33.5, "assigned", 0, 1, -1, None), (2, 33.5, "attempt", 0, 1, 0, 1.0),
        (2, 36.5, "attempt", 0, 1, 1, 1.0)]
    assert rows(model, "reassigned") == [(2, 33.5, "reassigned", 0, 0, -1, 1.0)]
    # lead 0 kept by rep 0, its follow-up (due 19) taken when the long attempt ends
    assert rows(model, "attempt", lead=0) == [(0, 16.0, "attempt", 0, 0, 0, 20.0),
                                              (0, 36.0, "attempt", 0, 0, 1, 1.0)]


@pytest.mark.parametrize("max_re", [1, 2])
def test_reassignments_per_episode_stop_at_the_limit(max_re: int,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Both reps busy for a day (rep 1 over [16.25, 40.25)): lead 2, moved to rep 1 at 33.5,
    is untouched again at 34.5. With at most one reassignment it stays with rep 1, who
    reaches it after lead 1's follow-up and the night (Wednesday 09:00, hour 57); with two it
    goes back to rep 0 (count 2) and is tried at 37, after lead 0's follow-up."""
    leads = [{"t": 16.0, "work": (10.0, 0.5)}, {"t": 16.25, "work": (12.0, 0.5)}, {"t": 16.5}]
    model = run_hand(scenario(re_team(max_reassignments=max_re)), leads, monkeypatch)
    head = [(2, 16.5, "routed", 0, -1, -1, None), (2, 16.5, "assigned", 0, 0, -1, None),
            (2, 33.5, "reassigned", 0, 0, -1, 1.0), (2, 33.5, "routed", 0, -1, -1, None),
            (2, 33.5, "assigned", 0, 1, -1, None)]
    if max_re == 1:
        tail = [(2, 57.0, "attempt", 0, 1, 0, 1.0), (2, 60.0, "attempt", 0, 1, 1, 1.0)]
    else:
        tail = [(2, 34.5, "reassigned", 0, 1, -1, 2.0), (2, 34.5, "routed", 0, -1, -1, None),
                (2, 34.5, "assigned", 0, 0, -1, None), (2, 37.0, "attempt", 0, 0, 0, 1.0),
                (2, 40.0, "attempt", 0, 0, 1, 1.0)]
    assert rows(model, *RE_EVENTS, lead=2) == head + tail


def test_reassigned_lead_without_a_free_rep_waits_for_the_next_freed_slot(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """One rep, no overflow team: lead 1, untouched at 33.5, is routed back to the team queue
    and assigned when lead 0 is reached and frees its slot (37)."""
    leads = [{"t": 16.0, "work": (10.0, 0.5)}, {"t": 16.5}]
    model = run_hand(scenario(re_team(reps=1)), leads, monkeypatch)
    assert rows(model, *RE_EVENTS, "contact") == [
        (0, 16.0, "routed", 0, -1, -1, None), (0, 16.0, "assigned", 0, 0, -1, None),
        (0, 16.0, "attempt", 0, 0, 0, 20.0),
        (1, 16.5, "routed", 0, -1, -1, None), (1, 16.5, "assigned", 0, 0, -1, None),
        (1, 33.5, "reassigned", 0, 0, -1, 1.0), (1, 33.5, "routed", 0, -1, -1, None),
        (0, 36.0, "attempt", 0, 0, 1, 1.0), (0, 37.0, "contact", 0, 0, 1, None),
        (1, 37.0, "assigned", 0, 0, -1, None), (1, 37.0, "attempt", 0, 0, 0, 1.0),
        (1, 40.0, "attempt", 0, 0, 1, 1.0), (1, 41.0, "contact", 0, 0, 1, None)]


def test_reassigned_lead_escalates_to_the_overflow_team_and_frees_a_slot(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """One rep holding two leads (web) and a backup team (ads, one rep). Lead 2 (16:45) waits
    in the team queue; at 33.5 lead 1 is escalated to the backup team (routed, assigned and
    tried there at once) and its freed slot takes lead 2, itself escalated 1 business hour
    later (34.5)."""
    from sla_sim.scenario.schema import RoutingSpec

    a = re_team(reps=1, channels=["web"], overflow_team="backup")
    b = TeamSpec(name="backup", reps=1, calendar=UTC_CAL, shrinkage=0.5, channels=["ads"])
    sc = scenario(teams=[a, b], routing=RoutingSpec(team_rule="by_channel"))
    leads = [{"t": 16.0, "work": (10.0, 0.5)}, {"t": 16.5}, {"t": 16.75}]
    model = run_hand(sc, leads, monkeypatch)
    assert rows(model, *RE_EVENTS)[5:15] == [
        (2, 16.75, "routed", 0, -1, -1, None),
        (1, 33.5, "reassigned", 0, 0, -1, 1.0), (1, 33.5, "escalated", 1, -1, -1, None),
        (1, 33.5, "routed", 1, -1, -1, None), (1, 33.5, "assigned", 1, 0, -1, None),
        (1, 33.5, "attempt", 1, 0, 0, 1.0), (2, 33.5, "assigned", 0, 0, -1, None),
        (2, 34.5, "reassigned", 0, 0, -1, 1.0), (2, 34.5, "escalated", 1, -1, -1, None),
        (2, 34.5, "routed", 1, -1, -1, None)]


# ---------------------------------------------------------------------- pull
@pytest.mark.parametrize(("order", "tail"), [
    # at 6 the pool's lead 2 (routed at 2) comes before the rep's own follow-ups of leads 0
    # (due 3) and 1 (due 4); the pool's lead 3 (routed at 4.5) after them
    ("due_first", [(2, 6.0, 0, 0), (0, 7.0, 0, 1), (1, 8.0, 0, 1), (3, 9.0, 0, 0)]),
    # new leads from the pool before any follow-up
    ("new_first", [(2, 6.0, 0, 0), (3, 7.0, 0, 0), (0, 8.0, 0, 1), (1, 9.0, 0, 1)]),
])
def test_pull_takes_the_pools_first_lead_when_it_comes_before_own_follow_ups(
        order: str, tail: list[tuple[int, ...]], monkeypatch: pytest.MonkeyPatch) -> None:
    """One rep 24/7 pulling from the team pool: lead 0 at once, lead 1 (routed 0.5) when the
    rep is free at 1 (a 5 h attempt), leads 2 and 3 wait in the pool; each lead is assigned
    when its first attempt starts."""
    team = TeamSpec(name="sdr", reps=1, calendar=ALWAYS, shrinkage=0.5, assignment="pull",
                    work_order=order)  # type: ignore[arg-type]
    leads = [{"t": 0.0}, {"t": 0.5, "work": (2.5, 0.5)}, {"t": 2.0}, {"t": 4.5}]
    model = run_hand(scenario(team), leads, monkeypatch)
    got = attempts(model)
    assert got[:6] == [(0, 0.0, 0, 0), (1, 1.0, 0, 0), *tail]
    firsts = [(a[0], a[1]) for a in got if a[3] == 0]
    assert [(r[0], r[1]) for r in rows(model, "assigned")] == firsts


def test_pull_on_a_closed_team_waits_for_the_opening(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leads routed on Saturday 12:00 (hour 132) and 18:00 wait in the pool for Monday 09:00
    (hour 177): assigned and tried at 177 and 178. One routed on Monday 20:00 (hour 188)
    waits for Tuesday 09:00 (hour 201)."""
    team = TeamSpec(name="sdr", reps=1, calendar=UTC_CAL, shrinkage=0.5, assignment="pull")
    model = run_hand(scenario(team), [{"t": 132.0}, {"t": 138.0}, {"t": 188.0}], monkeypatch)
    assert rows(model, "routed", "assigned", "attempt") == [
        (0, 132.0, "routed", 0, -1, -1, None), (1, 138.0, "routed", 0, -1, -1, None),
        (0, 177.0, "assigned", 0, 0, -1, None), (0, 177.0, "attempt", 0, 0, 0, 1.0),
        (1, 178.0, "assigned", 0, 0, -1, None), (1, 178.0, "attempt", 0, 0, 0, 1.0),
        (0, 180.0, "attempt", 0, 0, 1, 1.0), (1, 181.0, "attempt", 0, 0, 1, 1.0),
        (2, 188.0, "routed", 0, -1, -1, None), (2, 201.0, "assigned", 0, 0, -1, None),
        (2, 201.0, "attempt", 0, 0, 0, 1.0), (2, 204.0, "attempt", 0, 0, 1, 1.0)]


@pytest.mark.parametrize(("rule", "last"), [("round_robin", [0, 1]),
                                            ("least_loaded", [1, 0])])
def test_pull_offers_the_pool_to_free_reps_in_the_rule_order(
        rule: str, last: list[int], monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Two reps 24/7. Leads 0 and 1 go to reps 0 and 1 in turn (lead 1 is reached at once);
    leads 2 and 3 wait until a rep finishes (rep 0 at 1, rep 1 at 1.25). At 2.5 both are free:
    round robin offers lead 4 to rep 0 (next in turn), then lead 5 (2.6) to rep 1; least
    loaded offers lead 4 to rep 1 (holding 1 lead against rep 0's 2), then lead 5 to rep 0
    (2 each: the first in order)."""
    from sla_sim.scenario.schema import RoutingSpec

    team = TeamSpec(name="sdr", reps=2, calendar=ALWAYS, shrinkage=0.5, assignment="pull")
    leads = [{"t": 0.0}, {"t": 0.25, "u_contact": (0.1, 0.1)}, {"t": 0.5}, {"t": 1.1},
             {"t": 2.5}, {"t": 2.6}]
    sc = scenario(team, routing=RoutingSpec(rep_rule=rule))  # type: ignore[arg-type]
    model = run_hand(sc, leads, monkeypatch)
    assert [(r[0], r[1], r[4]) for r in rows(model, "assigned")] == [
        (0, 0.0, 0), (1, 0.25, 1), (2, 1.0, 0), (3, 1.25, 1), (4, 2.5, last[0]),
        (5, 2.6, last[1])]


# ---------------------------------------------------------------------- staffing in the model
def fake_staffing_draws(monkeypatch: pytest.MonkeyPatch, rngs: dict[str, FakeRng]) -> None:
    """Teams built by the model draw their staffing plans from ``rngs`` (on both engines: the
    SimPy path's ``policies.Staffing``, the fast engine's ``staffing.Staffing``)."""
    from sla_sim.model import policies, staffing

    real = staffing.Staffing

    def fake(sc: Scenario, i: int, origin: Any, end_h: float, _streams: Any) -> Any:
        return real(sc, i, origin, end_h, FakeStreams(rngs))  # type: ignore[arg-type]

    monkeypatch.setattr(policies, "Staffing", fake)
    monkeypatch.setattr(staffing, "Staffing", fake)


def test_leaver_hands_over_untouched_and_mid_cadence_leads(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Two reps 24/7 holding 2 leads each; rep 0 leaves at 2, mid-attempt on lead 0 (3 h):
    at 3 it hands over lead 2 (untouched: ``reassigned`` with count 0, routed again, assigned
    to rep 1) and lead 0's follow-up (due 3, to rep 1 though its slots are full). Rep 1, busy
    with lead 1 until 6.25, then works lead 2 (due 3, assigned first), lead 0's follow-up
    (due 3) and lead 1's (due 3.25)."""
    fake_staffing_draws(monkeypatch, {"staff:sdr:0": FakeRng(2.0),
                                      "staff:sdr:1": FakeRng(math.inf)})
    team = TeamSpec(name="sdr", reps=2, calendar=ALWAYS, shrinkage=0.5, max_active_leads=2,
                    attrition_per_month=0.1)
    leads = [{"t": 0.0, "work": (1.5, 0.5)}, {"t": 0.25, "work": (3.0, 0.5)}, {"t": 0.5}]
    model = run_hand(scenario(team), leads, monkeypatch)
    events = ("rep_on", "rep_off", "routed", "assigned", "reassigned", "attempt")
    assert rows(model, *events) == [
        (-1, 0.0, "rep_on", 0, 0, -1, 1.0), (-1, 0.0, "rep_on", 0, 1, -1, 1.0),
        (0, 0.0, "routed", 0, -1, -1, None), (0, 0.0, "assigned", 0, 0, -1, None),
        (0, 0.0, "attempt", 0, 0, 0, 3.0),
        (1, 0.25, "routed", 0, -1, -1, None), (1, 0.25, "assigned", 0, 1, -1, None),
        (1, 0.25, "attempt", 0, 1, 0, 6.0),
        (2, 0.5, "routed", 0, -1, -1, None), (2, 0.5, "assigned", 0, 0, -1, None),
        (-1, 2.0, "rep_off", 0, 0, -1, None),
        (2, 3.0, "reassigned", 0, 0, -1, 0.0), (2, 3.0, "routed", 0, -1, -1, None),
        (2, 3.0, "assigned", 0, 1, -1, None),
        (2, 6.25, "attempt", 0, 1, 0, 1.0), (0, 7.25, "attempt", 0, 1, 1, 1.0),
        (1, 8.25, "attempt", 0, 1, 1, 1.0), (2, 9.25, "attempt", 0, 1, 1, 1.0),
        (-1, END_H, "rep_off", 0, 1, -1, None)]
    reps = model.teams[0].reps
    assert [r.active for r in reps] == [0, 0]
    assert [r.on_team for r in reps] == [False, True]


def test_hire_joins_takes_queued_leads_and_ramps(monkeypatch: pytest.MonkeyPatch) -> None:
    """One rep holding one lead, a hire on Tuesday 6 January (hour 24) at half speed in its
    first month. Leads 1 and 2 wait in the team queue (the hire is not on the team yet); at
    24 the hire joins and takes lead 1 (its attempts take 2 h), and lead 0, reached, frees
    rep 0's slot for lead 2. The hire's capacity rows: share 0.5 from 24, 1 from 6 February
    (hour 768)."""
    fake_staffing_draws(monkeypatch, {})
    team = TeamSpec(name="sdr", reps=1, calendar=ALWAYS, shrinkage=0.5, max_active_leads=1,
                    hires=[HireSpec(start=date(2026, 1, 6))], ramp_by_tenure_month=[0.5])
    leads = [{"t": 20.0}, {"t": 20.5}, {"t": 21.0}]
    model = run_hand(scenario(team), leads, monkeypatch)
    assert rows(model, "routed", "assigned", "attempt", "rep_on", "rep_off") == [
        (-1, 0.0, "rep_on", 0, 0, -1, 1.0),
        (0, 20.0, "routed", 0, -1, -1, None), (0, 20.0, "assigned", 0, 0, -1, None),
        (0, 20.0, "attempt", 0, 0, 0, 1.0),
        (1, 20.5, "routed", 0, -1, -1, None), (2, 21.0, "routed", 0, -1, -1, None),
        (0, 23.0, "attempt", 0, 0, 1, 1.0),
        (-1, 24.0, "rep_on", 0, 1, -1, 0.5),
        (1, 24.0, "assigned", 0, 1, -1, None), (1, 24.0, "attempt", 0, 1, 0, 2.0),
        (2, 24.0, "assigned", 0, 0, -1, None), (2, 24.0, "attempt", 0, 0, 0, 1.0),
        (2, 27.0, "attempt", 0, 0, 1, 1.0), (1, 27.0, "attempt", 0, 1, 1, 2.0),
        (-1, 768.0, "rep_off", 0, 1, -1, None), (-1, 768.0, "rep_on", 0, 1, -1, 1.0),
        (-1, END_H, "rep_off", 0, 0, -1, None), (-1, END_H, "rep_off", 0, 1, -1, None)]


LATE = CalendarSpec(timezone="UTC", start_hour=13.0, end_hour=21.0)  # Mon-Fri 13-21 UTC


@pytest.mark.parametrize("rule", ["round_robin", "least_loaded"])
@pytest.mark.parametrize("skip", [False, True])
def test_skip_unavailable_routes_to_reps_on_shift_first(
        rule: str, skip: bool, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Rep 0 works 09-17, rep 1 13-21 (own calendars). Lead 1 (Monday 10:30) goes to rep 1 by
    either rule (its turn; fewer leads), who starts at 13:00; with ``skip_unavailable`` it
    goes to rep 0, on shift, and is tried at 11:00. At 14:00 both are on shift: rep 1. On
    Saturday (hours 130, 131) nobody is on shift: every rep counts, in the rule's order."""
    from sla_sim.scenario.schema import RoutingSpec

    fake_staffing_draws(monkeypatch, {})
    team = TeamSpec(name="sdr", reps=2, calendar=UTC_CAL, shrinkage=0.5, max_active_leads=3,
                    rep_calendars=[UTC_CAL, LATE])
    sc = scenario(team, routing=RoutingSpec(rep_rule=rule, skip_unavailable=skip))  # type: ignore[arg-type]
    leads = [{"t": 10.0}, {"t": 10.5}, {"t": 11.0}, {"t": 14.0}, {"t": 130.0}, {"t": 131.0}]
    model = run_hand(sc, leads, monkeypatch)
    lead1 = 0 if skip else 1
    assert [r[4] for r in rows(model, "assigned")] == [0, lead1, 0, 1, 0, 1]
    first1 = next(a for a in attempts(model) if a[0] == 1)
    assert first1 == ((1, 11.0, 0, 0) if skip else (1, 13.0, 1, 0))
    # Monday 09:00 next week for rep 0, 13:00 for rep 1
    assert [a for a in attempts(model) if a[0] >= 4 and a[3] == 0] == [
        (4, 177.0, 0, 0), (5, 181.0, 1, 0)]


def test_pull_with_own_calendars_serves_when_any_rep_works(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Pull; the team calendar is 09-17 but rep 1 works 13-21: a lead routed at 18:00 on
    Monday is pulled by rep 1 at once; one routed at 22:00 waits for rep 0 on Tuesday 09:00
    (hour 33)."""
    fake_staffing_draws(monkeypatch, {})
    team = TeamSpec(name="sdr", reps=2, calendar=UTC_CAL, shrinkage=0.5, assignment="pull",
                    rep_calendars=[UTC_CAL, LATE])
    model = run_hand(scenario(team), [{"t": 18.0}, {"t": 22.0}], monkeypatch)
    assert [(r[0], r[1], r[4]) for r in rows(model, "assigned")] == [(0, 18.0, 1), (1, 33.0, 0)]


# ---------------------------------------------------------------------- SLA deadlines
def set_up(sc: Scenario, leads: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
           ) -> FunnelModel:  # fmt: skip
    """A model with hand-made leads, set up (teams built) but not run."""
    model = hand_model(sc, leads, monkeypatch)
    model._setup()
    return model


@pytest.mark.parametrize(("start", "first"), [("mql", 35.0), ("assignment", 36.0)])
def test_deadlines_of_first_attempts_and_owed_attempts(start: str, first: float,
                                                       monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:  # fmt: skip
    """MQL Monday 15:00, assigned at 16:00; first touch within 4 business hours (Monday-Friday
    09-17): from the MQL Tuesday 11:00 (hour 35), from the assignment 12:00 (36). The
    deadline is fixed for the episode (a later due time does not move it) and computed anew
    for the next episode (MQL Thursday 08:00, due 13:00). Attempt 1 of the 2 owed is due
    within 7 days of the MQL; attempt 2 serves no deadline."""
    sla = SLASpec(attempts_required=2, attempts_within_days=7.0, first_touch_from=start,
                  first_touch_within_business_hours=4.0)  # type: ignore[arg-type]
    team = TeamSpec(name="sdr", reps=1, calendar=UTC_CAL, work_order="deadline_first")
    model = set_up(scenario(team, sla=sla), [{"t": 15.0}], monkeypatch)
    t = model.teams[0]
    assert t.deadline(0, 0, 16.0) == first
    assert t.deadline(0, 0, 40.0) == first  # same episode: unchanged
    model.episode[0] = 2
    model.mql_t[0] = 80.0  # Thursday 08:00
    assert t.deadline(0, 0, 85.0) == (85.0 if start == "mql" else 89.0)
    assert [t.deadline(0, k, 85.0) for k in (1, 2)] == [80.0 + 168.0, math.inf]
    ps = model.policy_state
    assert (ps.ft_from_mql, ps.ft_hours, ps.att_required, ps.att_hours) == (
        start == "mql", 4.0, 2, 168.0)


def test_first_touch_deadline_runs_on_the_owning_teams_calendar(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """A web lead owned by a team on office hours, escalated to a 24/7 backup team ordering by
    deadline: the backup reads the deadline on the owner's calendar (MQL Monday 15:00 + 4
    business hours = Tuesday 11:00), not its own (19:00)."""
    from sla_sim.scenario.schema import RoutingSpec

    a = TeamSpec(name="sdr", reps=1, calendar=UTC_CAL, channels=["web"],
                 reassign_after_business_hours=1.0, overflow_team="backup")
    b = TeamSpec(name="backup", reps=1, calendar=ALWAYS, channels=["ads"],
                 work_order="deadline_first")
    sla = SLASpec(attempts_required=1, first_touch_within_business_hours=4.0)
    sc = scenario(teams=[a, b], routing=RoutingSpec(team_rule="by_channel"), sla=sla)
    model = set_up(sc, [{"t": 15.0}], monkeypatch)
    assert model.teams[1].deadline(0, 0, 20.0) == 35.0


def test_night_routes_around_a_join_go_to_the_reps_on_the_team_then(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Office hours; a hire joins at midnight (hour 24) while the team is closed. Leads
    routed at 22:00 and 23:00 go to rep 0, the only rep on the team; the leads routed at
    01:00 and 02:00 go to the hire and rep 0 in turn. Routes handed over together while the team is
    closed must not jump over the join."""
    fake_staffing_draws(monkeypatch, {})
    team = TeamSpec(name="sdr", reps=1, calendar=UTC_CAL, shrinkage=0.5,
                    hires=[HireSpec(start=date(2026, 1, 6))])
    leads = [{"t": 22.0}, {"t": 23.0}, {"t": 25.0}, {"t": 26.0}]
    model = run_hand(scenario(team), leads, monkeypatch)
    assert [(r[0], r[1], r[4]) for r in rows(model, "assigned")] == [
        (0, 22.0, 0), (1, 23.0, 0), (2, 25.0, 1), (3, 26.0, 0)]


@pytest.mark.parametrize("rule", ["round_robin", "least_loaded"])
def test_night_routes_around_a_leave_skip_the_leaver(rule: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Two reps on office hours; rep 1 leaves at hour 24 (midnight, team closed). The lead
    routed at 22:00 goes to rep 1 by round robin (its turn) and is handed back at 24
    (``reassigned``, routed to rep 0); the lead routed at 01:00 goes straight to rep 0, the
    leaver's free slots notwithstanding."""
    from sla_sim.scenario.schema import RoutingSpec

    fake_staffing_draws(monkeypatch, {"staff:sdr:0": FakeRng(math.inf),
                                      "staff:sdr:1": FakeRng(24.0)})
    team = TeamSpec(name="sdr", reps=2, calendar=UTC_CAL, shrinkage=0.5,
                    attrition_per_month=0.1)
    sc = scenario(team, routing=RoutingSpec(rep_rule=rule))  # type: ignore[arg-type]
    model = run_hand(sc, [{"t": 9.0}, {"t": 22.0}, {"t": 25.0}], monkeypatch)
    got = [(r[0], r[1], r[2], r[4]) for r in rows(model, "assigned", "reassigned")]
    if rule == "round_robin":
        assert got == [(0, 9.0, "assigned", 0), (1, 22.0, "assigned", 1),
                       (1, 24.0, "reassigned", 1), (1, 24.0, "assigned", 0),
                       (2, 25.0, "assigned", 0)]
    else:  # lead 0 was reached at 13:00: both reps hold nothing at 22:00, rep 0 first
        assert got == [(0, 9.0, "assigned", 0), (1, 22.0, "assigned", 0),
                       (2, 25.0, "assigned", 0)]


@pytest.mark.parametrize(("rule", "reps"), [("round_robin", [0, 1, 0, 1, 0, 1]),
                                            ("least_loaded", [0, 1, 0, 0, 1, 1])])
def test_immediate_assignment_by_the_rep_rule_and_the_slot_cap(
        rule: str, reps: list[int], monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Two reps holding at most 2 leads each (a policy team: new_first). Lead 0 is reached at
    1 and frees rep 0's slot. Round robin takes reps in turn; least loaded takes the rep with
    fewest leads (the first on a tie): lead 3 (2.5) goes to rep 0 (1 lead each), lead 4 to
    rep 1. Lead 5 (2.7) finds every slot taken and waits in the team queue for the first slot
    freed (4.5: lead 1 reached by rep 1; 4.6: lead 4 reached by rep 1)."""
    from sla_sim.scenario.schema import RoutingSpec

    team = TeamSpec(name="sdr", reps=2, calendar=ALWAYS, shrinkage=0.5, max_active_leads=2,
                    work_order="new_first")
    sc = scenario(team, routing=RoutingSpec(rep_rule=rule))  # type: ignore[arg-type]
    leads = [{"t": 0.0, "u_contact": (0.1, 0.1)}, {"t": 0.5}, {"t": 2.0}, {"t": 2.5},
             {"t": 2.6}, {"t": 2.7}]
    model = run_hand(sc, leads, monkeypatch)
    got = [(r[0], r[1], r[4]) for r in rows(model, "assigned")]
    times = [0.0, 0.5, 2.0, 2.5, 2.6, 4.5 if rule == "round_robin" else 4.6]
    assert got == list(zip(range(6), times, reps, strict=True))


def test_pull_rep_at_its_slot_cap_does_not_pull(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pull, one rep holding at most 1 lead: lead 1 (0.5) waits while the rep holds lead 0
    (idle from 1 to 3, its follow-up not due), and is pulled when lead 0 is reached (4).
    Lead 1 misses both attempts (the first with a uniform equal to the 50% chance: not
    below it) and is recycled (never to return)."""
    monkeypatch.setattr(funnel, "RecycleDraws", lambda *args, **kw: FakeRecycle(
        [(math.inf, [], [], 0.0)]))
    team = TeamSpec(name="sdr", reps=1, calendar=ALWAYS, shrinkage=0.5, max_active_leads=1,
                    assignment="pull")
    model = run_hand(scenario(team), [{"t": 0.0}, {"t": 0.5, "u_contact": (0.5, 0.9)}],
                     monkeypatch)
    assert attempts(model) == [(0, 0.0, 0, 0), (0, 3.0, 0, 1), (1, 4.0, 0, 0), (1, 7.0, 0, 1)]
    assert [r[1] for r in rows(model, "assigned")] == [0.0, 4.0]
    assert [(r[0], r[1], r[2]) for r in rows(model, "contact", "recycled")] == [
        (0, 4.0, "contact"), (1, 8.0, "recycled")]


def test_leaver_skips_a_lead_reassigned_away_and_an_idle_rep_takes_over_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """24/7, reassignment after 1 h. Rep 0 is busy with lead 0 over [0, 6); lead 2, held
    behind it, is reassigned to rep 1 at 2 (its void first attempt stays in rep 0's heap).
    Rep 0 leaves at 5: at 6 it hands over only lead 0's follow-up (due 3), which idle rep 1
    starts at once; lead 2 is not reassigned again."""
    fake_staffing_draws(monkeypatch, {"staff:sdr:0": FakeRng(5.0),
                                      "staff:sdr:1": FakeRng(math.inf)})
    team = TeamSpec(name="sdr", reps=2, calendar=ALWAYS, shrinkage=0.5, attrition_per_month=0.1,
                    reassign_after_business_hours=1.0)
    leads = [{"t": 0.0, "work": (3.0, 0.5)}, {"t": 0.5, "u_contact": (0.1, 0.1)},
             {"t": 1.0, "u_contact": (0.1, 0.1)}]
    model = run_hand(scenario(team), leads, monkeypatch)
    assert rows(model, "assigned", "attempt", "reassigned")[5:] == [
        (2, 2.0, "reassigned", 0, 0, -1, 1.0), (2, 2.0, "assigned", 0, 1, -1, None),
        (2, 2.0, "attempt", 0, 1, 0, 1.0), (0, 6.0, "attempt", 0, 1, 1, 1.0)]
    assert [r.active for r in model.teams[0].reps] == [0, 0]


def test_last_rep_leaving_keeps_its_touched_lead_unworked(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The only rep leaves at 0.5, mid-attempt on lead 0: with nobody left, lead 0's
    follow-up stays with it, never worked."""
    fake_staffing_draws(monkeypatch, {"staff:sdr:0": FakeRng(0.5)})
    team = TeamSpec(name="sdr", reps=1, calendar=ALWAYS, shrinkage=0.5, attrition_per_month=0.1)
    model = run_hand(scenario(team), [{"t": 0.0}], monkeypatch)
    assert attempts(model) == [(0, 0.0, 0, 0)]
    rep = model.teams[0].reps[0]
    assert (rep.active, rep.gone, rep.on_team) == (1, True, False)
    assert [(x[0], x[2][4], x[2][5]) for x in rep.future] == [(math.inf, 0, 1)]


def test_hire_on_the_origin_date_works_from_the_start_and_a_pull_hire_pulls_at_join(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Pull. A hire starting on the origin's date (local midnight = hour 0) is on the team at
    once, at half speed (lead 1: 30 h of work take 60 h); a hire on 6 January pulls the
    waiting lead 2 when it joins (24)."""
    fake_staffing_draws(monkeypatch, {})
    team = TeamSpec(name="sdr", reps=1, calendar=ALWAYS, shrinkage=0.5, assignment="pull",
                    hires=[HireSpec(start=date(2026, 1, 5)), HireSpec(start=date(2026, 1, 6))],
                    ramp_by_tenure_month=[0.5])
    leads = [{"t": 0.0, "work": (15.0, 0.5)}, {"t": 0.25, "work": (15.0, 0.5)}, {"t": 0.5}]
    model = run_hand(scenario(team), leads, monkeypatch)
    assert rows(model, "assigned", "attempt")[:6] == [
        (0, 0.0, "assigned", 0, 0, -1, None), (0, 0.0, "attempt", 0, 0, 0, 30.0),
        (1, 0.25, "assigned", 0, 1, -1, None), (1, 0.25, "attempt", 0, 1, 0, 60.0),
        (2, 24.0, "assigned", 0, 2, -1, None), (2, 24.0, "attempt", 0, 2, 0, 2.0)]


def test_check_of_a_lead_handed_over_since_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Office hours, reassignment after 1 business hour. Lead 2, assigned to rep 0 at 16:30
    (check due Tuesday 09:30, hour 33.5), is handed over to rep 1 when rep 0 leaves at 20:00
    (new check at Tuesday 10:00, hour 34). The old check finds the lead moved and does
    nothing; the new one finds it untouched (rep 1 is busy until 34.25) and, nobody else
    being on the team, routes it back to the queue, whence it takes rep 1's slot freed by
    lead 1 at 35.25."""
    fake_staffing_draws(monkeypatch, {"staff:sdr:0": FakeRng(20.0),
                                      "staff:sdr:1": FakeRng(math.inf)})
    team = re_team(attrition_per_month=0.1)
    leads = [{"t": 16.0, "u_contact": (0.1, 0.1)}, {"t": 16.25, "work": (9.0, 0.5)},
             {"t": 16.5}]
    model = run_hand(scenario(team), leads, monkeypatch)
    assert rows(model, *RE_EVENTS, lead=2) == [
        (2, 16.5, "routed", 0, -1, -1, None), (2, 16.5, "assigned", 0, 0, -1, None),
        (2, 20.0, "reassigned", 0, 0, -1, 0.0), (2, 20.0, "routed", 0, -1, -1, None),
        (2, 20.0, "assigned", 0, 1, -1, None),
        (2, 34.0, "reassigned", 0, 1, -1, 1.0), (2, 34.0, "routed", 0, -1, -1, None),
        (2, 35.25, "assigned", 0, 1, -1, None), (2, 35.25, "attempt", 0, 1, 0, 1.0),
        (2, 38.25, "attempt", 0, 1, 1, 1.0)]
    assert [r.active for r in model.teams[0].reps] == [0, 0]


def test_reassignment_frees_the_slot_of_a_rep_off_shift(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rep 0 works 13-21, rep 1 09-17 (the team's hours). Lead 0 (10:00) goes to rep 0 (its
    turn), who is off shift: at 11:00 it is reassigned to rep 1 and tried at once. Rep 0
    holds nothing after it."""
    fake_staffing_draws(monkeypatch, {})
    team = re_team(rep_calendars=[LATE, UTC_CAL])
    model = run_hand(scenario(team), [{"t": 10.0}], monkeypatch)
    assert [(r[1], r[2], r[4]) for r in rows(model, *RE_EVENTS)] == [
        (10.0, "routed", -1), (10.0, "assigned", 0), (11.0, "reassigned", 0),
        (11.0, "routed", -1), (11.0, "assigned", 1), (11.0, "attempt", 1), (14.0, "attempt", 1)]
    assert [r.active for r in model.teams[0].reps] == [0, 0]


class FakeRecycle:
    """Recycled-episode draws by hand: (delay, uniforms, work, ops) per recycled lead."""

    def __init__(self, episodes: list[tuple[float, list[float], list[float], float]]) -> None:
        self.episodes, self.i = episodes, 0

    def next(self) -> tuple[float, int]:
        self.i += 1
        return self.episodes[self.i - 1][0], self.i - 1

    def episode(self, handle: int) -> tuple[list[float], list[float], float]:
        _, u, work, ops = self.episodes[handle]
        return list(u), list(work), ops

    def chunk(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The same episodes as arrays for the fast engine, the first chunk holding them and
        every later one none (delays ``inf``: they never re-qualify); a draw not given by hand
        reads 0.99 (uniform) or 0.5 h (work), which no hand-made case reaches."""
        from sla_sim.model.recycle import CHUNK

        eps, A = self.episodes[self.i:], 2  # the hand-made cases' cadence: two attempts
        self.i = len(self.episodes)
        delay, u = np.full(CHUNK, math.inf), np.full((CHUNK, A + 2), 0.99)
        work, ops = np.full((CHUNK, A), 0.5), np.zeros(CHUNK)
        for i, (d, ui, wi, oi) in enumerate(eps):
            delay[i], ops[i] = d, oi
            u[i, :len(ui)], work[i, :len(wi)] = ui, wi
        return delay, u, work, ops


def test_reassignment_limit_counts_per_episode(monkeypatch: pytest.MonkeyPatch) -> None:
    """24/7, reassignment after 1 h, at most once per episode. Lead 2, held by busy rep 0, is
    reassigned at 2 to rep 1, reached and recycled at 3; its second episode (MQL 4) goes to
    rep 0 again and, still untouched at 5, is reassigned again: the limit starts afresh."""
    monkeypatch.setattr(funnel, "RecycleDraws", lambda *args, **kw: FakeRecycle(
        [(1.0, [0.1, 0.1, 0.99, 0.0], [0.5, 0.5], 0.0)]))
    leads = [{"t": 0.0, "work": (5.0, 0.5)}, {"t": 0.5, "u_contact": (0.1, 0.1)},
             {"t": 1.0, "u_contact": (0.1, 0.1), "u_d": 0.99}]
    model = run_hand(scenario(re_team(calendar=ALWAYS)), leads, monkeypatch)
    assert [(r[1], r[2], r[4], r[6]) for r in rows(model, *RE_EVENTS, "mql", lead=2)] == [
        (1.0, "mql", -1, None), (1.0, "routed", -1, None), (1.0, "assigned", 0, None),
        (2.0, "reassigned", 0, 1.0), (2.0, "routed", -1, None), (2.0, "assigned", 1, None),
        (2.0, "attempt", 1, 1.0),
        (4.0, "mql", -1, None), (4.0, "routed", -1, None), (4.0, "assigned", 0, None),
        (5.0, "reassigned", 0, 1.0), (5.0, "routed", -1, None), (5.0, "assigned", 1, None),
        (5.0, "attempt", 1, 1.0)]


@pytest.mark.parametrize("order", ["due_first", "new_first"])
def test_handed_over_follow_up_keeps_its_due_time(order: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """24/7; rep 0 leaves at 0.5 during lead 0's first attempt: at 1 its follow-up (due 3)
    goes to idle rep 1, who starts it when due, not at once."""
    fake_staffing_draws(monkeypatch, {"staff:sdr:0": FakeRng(0.5),
                                      "staff:sdr:1": FakeRng(math.inf)})
    team = TeamSpec(name="sdr", reps=2, calendar=ALWAYS, shrinkage=0.5, attrition_per_month=0.1,
                    work_order=order)  # type: ignore[arg-type]
    model = run_hand(scenario(team), [{"t": 0.0}], monkeypatch)
    assert attempts(model) == [(0, 0.0, 0, 0), (0, 3.0, 1, 1)]
