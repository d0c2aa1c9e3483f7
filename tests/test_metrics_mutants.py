"""Metrics on small hand-built event logs whose every number is known: the backlog per holder,
assignments in order, staffed teams' busy time and capacity, commitment bases, and the pieces
the period table is assembled from.

Written to kill metrics mutants that survived ``bash dev.sh mutate metrics`` (README,
"Mutation testing"); each test names the rule it checks. Helpers and hand-built-log
conventions are those of test_metrics.py (default preset from 2026-01-01 00:00 New York, no
warm-up, one team of two reps, 24/7 unless said otherwise).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from test_metrics import JAN_H, clause, ev, make_log, metrics, scenario

from sla_sim.calendar import BusinessCalendar, CalendarSpec
from sla_sim.events import CODE, COLUMNS, rows_by_event
from sla_sim.horizon import month_window
from sla_sim.metrics import DAYS_PER_MONTH, basis_months, measure, window_for
from sla_sim.metrics.backlog import Backlog, assignments
from sla_sim.metrics.capacity import (
    RepShifts,
    business_hours_between,
    cum_hours_many,
    level_mean_max,
    rep_busy_hours,
)
from sla_sim.metrics.clauses import BREACHED, MET, NOT_STARTED, PENDING, judge
from sla_sim.metrics.episodes import EP_BASE, _KeyIndex, build_episodes
from sla_sim.metrics.kernels import bin_counts

FEB_H = 28 * 24.0


def _backlog(rows: list, observed_until: float = JAN_H) -> Backlog:
    log = make_log(scenario(), rows)
    return Backlog(assignments(log.columns(sort=False), log.event_rows()), observed_until)


# ---------------------------------------------------------------------- assignments


def test_order_in_episode_counts_the_assignments_before_each_in_its_episode() -> None:
    """Lead 0 is assigned three times (two reassignments), lead 1 once in each of two
    episodes: orders 0, 1, 2 then 0 and 0."""
    rows = [ev(0, 1.0, "assigned"), ev(0, 2.0, "reassigned"), ev(0, 2.0, "assigned", rep=1),
            ev(0, 3.0, "reassigned", rep=1), ev(0, 3.0, "assigned"),
            ev(1, 5.0, "assigned"), ev(1, 50.0, "assigned", episode=2)]
    log = make_log(scenario(), rows)
    a = assignments(log.columns(sort=False), log.event_rows())
    assert a.start.tolist() == [1.0, 2.0, 3.0, 5.0, 50.0]
    assert a.order_in_episode().tolist() == [0, 1, 2, 0, 0]
    assert len(a) == 5



def test_assignments_end_at_the_first_attempt_or_a_reassignment() -> None:
    """Each assigned row is paired with the row that ends it: the episode's first attempt
    (even at the same instant), or its reassignment (which, at an equal time, ends the old
    assignment before the new one starts); a follow-up attempt or a second assigned row does
    not end one, rows ending no open assignment are ignored, and the team and rep are those
    of the assigned row."""
    rows = [ev(0, 10.0, "assigned", rep=1), ev(0, 10.0, "attempt", attempt=0, value=0.1),
            ev(1, 25.0, "assigned", rep=1), ev(1, 25.0, "reassigned"),
            ev(1, 20.0, "assigned"), ev(1, 31.0, "attempt", rep=1, attempt=1, value=0.1),
            ev(1, 30.0, "attempt", rep=1, attempt=0, value=0.1),
            ev(2, 40.0, "attempt", attempt=0, value=0.1), ev(2, 41.0, "reassigned"),
            ev(3, 50.0, "assigned", team=1, rep=2),
            ev(4, 60.0, "assigned"), ev(4, 61.0, "assigned", rep=1),
            ev(4, 62.0, "attempt", rep=1, attempt=0, value=0.1)]
    log = make_log(scenario(), rows)
    a = assignments(log.columns(sort=False), log.event_rows())
    assert a.key.tolist() == [lead * EP_BASE + 1 for lead in (0, 1, 1, 3, 4, 4)]
    assert a.start.tolist() == [10.0, 20.0, 25.0, 50.0, 60.0, 61.0]
    np.testing.assert_array_equal(a.end, [10.0, 25.0, 30.0, math.nan, math.nan, 62.0])
    assert a.team.tolist() == [0, 0, 0, 1, 0, 0]
    assert a.rep.tolist() == [1, 0, 1, 2, 0, 1]


def test_a_log_with_a_single_assignment_has_it_open() -> None:
    """One assigned row and nothing else: one assignment, open at the end of the log."""
    a = assignments(*_cols_rows([(7, 1, 5.0, CODE["assigned"], 0, 3, -1, math.nan)]))
    assert a.start.tolist() == [5.0]
    assert np.isnan(a.end).tolist() == [True]
    assert a.rep.tolist() == [3]


def test_assignment_keys_stay_exact_for_large_lead_ids() -> None:
    """(lead, episode) keys are exact integers: for a lead id of 2**30 (keys near 2**62, past
    a float's 53 bits; lead ids are positions, so below 2**31) an assignment in episode 1 is
    not ended by the first attempt of episode 2."""
    lead = 1 << 30
    a = assignments(*_cols_rows([(lead, 1, 1.0, CODE["assigned"], 0, 0, -1, math.nan),
                                 (lead, 2, 3.0, CODE["attempt"], 0, 0, 0, 0.1)]))
    assert a.key.tolist() == [lead * EP_BASE + 1]
    np.testing.assert_array_equal(a.end, [math.nan])


def _cols_rows(rows: list) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    """Columns of raw rows (any lead ids, no lead table) and their rows by event."""
    cols = {c: np.array([r[i] for r in rows]) for i, c in enumerate(COLUMNS)}
    return cols, rows_by_event(cols["event"])

# ---------------------------------------------------------------------- backlog per holder

# team 0 rep 0: [0, 10) and [100, 130) (ages 10, 30); team 0 rep 1: [20, 60) (age 40);
# team 1 rep 0: [200, 204) (age 4) and one from 744 - 2 still open at 744 (age 2)
HOLDER_ROWS = [
    ev(0, 0.0, "assigned"), ev(0, 10.0, "attempt", attempt=0, value=0.1),
    ev(1, 100.0, "assigned"), ev(1, 130.0, "attempt", attempt=0, value=0.1),
    ev(2, 20.0, "assigned", rep=1), ev(2, 60.0, "attempt", rep=1, attempt=0, value=0.1),
    ev(3, 200.0, "assigned", team=1), ev(3, 204.0, "attempt", team=1, attempt=0, value=0.1),
    ev(4, JAN_H - 2.0, "assigned", team=1),
]


def test_backlog_by_rep_names_each_team_and_rep_with_its_level_and_ages() -> None:
    """Per rep: (team, rep, time-weighted mean, max, age P90) over January."""
    got = _backlog(HOLDER_ROWS).by_holder(0.0, JAN_H, per_rep=True)
    want = [(0, 0, 40.0 / JAN_H, 1.0, 10.0 + 0.9 * 20.0),
            (0, 1, 40.0 / JAN_H, 1.0, 40.0),
            (1, 0, 6.0 / JAN_H, 1.0, 2.0 + 0.9 * 2.0)]
    assert [g[:2] for g in got] == [w[:2] for w in want]
    for g, w in zip(got, want, strict=True):
        assert g[2:] == pytest.approx(w[2:], rel=1e-12)


def test_backlog_by_team_merges_its_reps_and_reports_rep_minus_one() -> None:
    """Per team: the rep is -1, the level adds up the team's reps (team 0 holds one MQL over
    [0, 10), [20, 60) and [100, 130): 80 h) and the ages are those of all its assignments."""
    got = _backlog(HOLDER_ROWS).by_holder(0.0, JAN_H, per_rep=False)
    assert [g[:2] for g in got] == [(0, -1), (1, -1)]
    assert got[0][2:] == pytest.approx((80.0 / JAN_H, 1.0, float(np.percentile([10, 30, 40],
                                                                                  90))))
    assert got[1][2:] == pytest.approx((6.0 / JAN_H, 1.0, 2.0 + 0.9 * 2.0))


def test_backlog_age_p90_by_holder_counts_assignments_made_in_t0_t1() -> None:
    """The age P90 of a holder counts the assignments it received in [t0, t1): one made
    exactly at t0 counts, one made exactly at t1 does not, and a holder that received none
    has an undefined (NaN) P90 even when it still holds a lead."""
    got = {g[:2]: g for g in _backlog(HOLDER_ROWS).by_holder(100.0, 200.0, per_rep=True)}
    assert got[(0, 0)][4] == 30.0  # made at 100: counts; the one made at 0 does not
    assert got[(0, 0)][2] == pytest.approx(30.0 / 100.0)
    assert math.isnan(got[(0, 1)][4])  # nothing made in [100, 200)
    assert math.isnan(got[(1, 0)][4])  # made at 200 = t1: not in the period
    assert got[(1, 0)][2:4] == (0.0, 0.0)


# ---------------------------------------------------------------------- staffed teams

# a staffing plan's rows (lead -1): rep 0 works [0, 100) at half speed (ramp share 0.5), rep 1
# works [24, 48) at full speed: 124 working hours, 74 share-weighted
SHIFT_ROWS = [
    (-1, 0, 0.0, CODE["rep_on"], 0, 0, -1, 0.5), (-1, 0, 100.0, CODE["rep_off"], 0, 0, -1, 0.5),
    (-1, 0, 24.0, CODE["rep_on"], 0, 1, -1, 1.0), (-1, 0, 48.0, CODE["rep_off"], 0, 1, -1, 1.0),
]


def test_staffed_team_capacity_is_its_reps_own_hours_weighted_by_ramp_share() -> None:
    """Under a staffing plan the team's capacity is its reps' logged working hours, each
    weighted by its ramp share (0.5 x 100 + 1 x 24 = 74 h), not reps x calendar hours."""
    get = metrics(scenario(), [ev(0, 10.0, "mql"), *SHIFT_ROWS])
    assert get("sdr_capacity_hours") == 74.0
    assert get("sdr_capacity_hours", "2026-01") == 74.0


def test_staffed_team_busy_time_is_counted_on_the_clock() -> None:
    """A staffed team's attempts count in full, on the clock (the reps' own shifts say when
    they work), over the unweighted working hours: two attempts of 1 h and 0.5 h at 02:00 and
    26:00 give 1.5 / 124."""
    rows = [ev(0, 2.0, "attempt", attempt=0, value=1.0),
            ev(1, 26.0, "attempt", attempt=0, value=0.5, rep=1), *SHIFT_ROWS]
    get = metrics(scenario(), rows)
    assert get("sdr_utilization") == pytest.approx(1.5 / 124.0, rel=1e-12)


def test_rep_shifts_reject_a_rep_whose_on_and_off_rows_do_not_alternate() -> None:
    """A rep switched off twice after one rep_on is an inconsistent plan: the error says
    which rows are wrong."""
    rows = [ev(0, 10.0, "mql"), (-1, 0, 0.0, CODE["rep_on"], 0, 0, -1, 1.0),
            (-1, 0, 10.0, CODE["rep_off"], 0, 0, -1, 1.0),
            (-1, 0, 20.0, CODE["rep_off"], 0, 0, -1, 1.0)]
    log = make_log(scenario(), rows)
    with pytest.raises(ValueError, match=r"^rep_on / rep_off rows do not alternate per rep$"):
        RepShifts(log.columns(sort=False), log.event_rows())


# ---------------------------------------------------------------------- backlog ages


def test_backlog_age_p90_counts_assignments_made_in_t0_t1() -> None:
    """Over [100, 200) the age P90 counts the assignment made at 100 (age 30), not the one
    made at 200 = t1 nor the one made at 0; a period with no assignment has NaN."""
    b = _backlog(HOLDER_ROWS)
    assert b.age_p90(100.0, 200.0) == 30.0
    assert b.age_p90(0.0, 100.0) == pytest.approx(10.0 + 0.9 * 30.0)  # ages 10 and 40
    assert math.isnan(b.age_p90(300.0, 400.0))


def test_backlog_counts_an_open_assignment_up_to_the_end_of_observation() -> None:
    """An assignment still untouched when observation ends (at 500 here) counts with its age
    then: made at 200, 300 h; one made after that end counts with age 0."""
    rows = [ev(0, 200.0, "assigned"), ev(1, 600.0, "assigned")]
    b = _backlog(rows, observed_until=500.0)
    assert b.observed_until == 500.0
    assert b.age.tolist() == [300.0, 0.0]


# ---------------------------------------------------------------------- busy time


def test_rep_busy_hours_reads_the_attempt_rows_of_the_log() -> None:
    """Without explicit rows, busy time comes from the attempt rows only (not from other rows
    that carry a value, such as a won deal's amount): 1 h + 0.5 h inside the window."""
    rows = [ev(0, 10.0, "attempt", attempt=0, value=1.0), ev(0, 12.0, "won", value=1000.0),
            ev(1, 20.0, "attempt", attempt=0, value=0.5), ev(1, 30.0, "mql")]
    cols = make_log(scenario(), rows).columns()
    cal = BusinessCalendar(CalendarSpec(always_open=True), window_for(scenario()).origin, JAN_H)
    assert rep_busy_hours(cols, 0.0, JAN_H, [cal]) == 1.5
    assert rep_busy_hours(cols, 10.5, 20.25, [cal]) == 0.75


# ---------------------------------------------------------------------- the calendar cache


def test_measuring_shares_one_calendar_per_content() -> None:
    """Measuring two scenarios whose team calendars have the same content (and origins at the
    same instant) shares one calendar object (the cache itself, and its bound, are tested in
    test_calendar_edges.py)."""
    from sla_sim import calendar as cal_module

    sc = scenario(always_open=False)
    log = make_log(sc, [ev(0, 10.0, "mql")])
    cal_module._SHARED.clear()
    first = measure(log, sc).calendars[0]
    assert (first.spec, first.origin, first.horizon_hours) == (
        sc.teams[0].calendar, window_for(sc).origin, JAN_H)
    again = measure(log, scenario(always_open=False)).calendars[0]
    assert again is first


# ---------------------------------------------------------------------- responses


def test_an_mql_with_no_owning_team_has_no_business_hour_response() -> None:
    """An MQL owned by no team (team -1, as a CRM export maps an unowned lead) has a clock
    response (3 h) but no calendar to count business hours on: that response is undefined
    (NaN) and its first-touch clause is not judged."""
    rows = [ev(0, 10.0, "mql", team=-1), ev(0, 13.0, "attempt", attempt=0, value=0.1, team=-1)]
    get = metrics(scenario(), rows)
    assert get("response_hours_mean") == 3.0
    assert get("response_hours_p50") == 3.0
    assert math.isnan(get("response_business_hours_p50"))
    assert math.isnan(get("response_business_hours_p90"))
    assert clause(get, "first_touch") == (0, 0, 0)
    assert clause(get, "handoff") == (0, 1, 0)


def test_staffed_team_busy_time_ignores_the_team_calendar() -> None:
    """A staffed team on office hours still counts its attempts on the clock: an attempt at
    02:00 on 1 January, outside the team's Mon-Fri 9-17 calendar, counts its full hour."""
    rows = [ev(0, 2.0, "attempt", attempt=0, value=1.0), *SHIFT_ROWS]
    get = metrics(scenario(always_open=False), rows)
    assert get("sdr_utilization") == pytest.approx(1.0 / 124.0, rel=1e-12)
    assert get("sdr_capacity_hours") == 74.0


# ---------------------------------------------------------------------- periods


def test_events_exactly_on_a_period_boundary_belong_to_the_period_they_start() -> None:
    """Periods are [start, end): rows at 0 h (the window start) are January's, rows at
    February 1st 00:00 February's, and rows at the window end belong to no period. Counts,
    revenue, the cycle of deals closed and the response of MQLs follow that rule."""
    end = JAN_H + FEB_H
    rows = [ev(0, 0.0, "created", episode=0), ev(0, -24.0, "opp_open"),
            ev(0, 0.0, "won", value=100.0),                                # January, 1 day
            ev(1, JAN_H, "created", episode=0), ev(1, JAN_H - 48.0, "opp_open"),
            ev(1, JAN_H, "won", value=10.0),                               # February, 2 days
            ev(2, end, "created", episode=0), ev(2, end - 72.0, "opp_open"),
            ev(2, end, "won", value=1.0)]                                  # after the window
    rows += [ev(3, 0.0, "mql"), ev(3, 2.0, "attempt", attempt=0, value=0.1),
             ev(4, JAN_H, "mql"), ev(4, JAN_H + 4.0, "attempt", attempt=0, value=0.1),
             ev(5, end, "mql"), ev(5, end + 8.0, "attempt", attempt=0, value=0.1)]
    get = metrics(scenario(months=2), rows)
    for period, created, revenue, cycle, response in (("2026-01", 1, 100.0, 1.0, 2.0),
                                                      ("2026-02", 1, 10.0, 2.0, 4.0),
                                                      ("total", 2, 110.0, 1.5, 3.0)):
        assert get("leads_created", period) == created, period
        assert get("wins", period) == created, period
        assert get("revenue", period) == revenue, period
        assert get("sales_cycle_days_mean", period) == cycle, period
        assert get("mqls", period) == created, period
        assert get("response_hours_mean", period) == response, period


def test_a_measurement_records_the_attempts_its_episodes_were_built_for() -> None:
    """measure() builds kth_attempt for the scenario's attempts_required (3: the third
    attempt, at 30 h) and says so; a table under attempts_required 1 judges the first."""
    sc = scenario()
    rows = [ev(0, 0.5, "mql"), *[ev(0, t, "attempt", attempt=k, value=0.1)
                                 for k, t in enumerate((1.0, 20.0, 30.0))]]
    m = measure(make_log(sc, rows), sc)
    assert m.attempts_required == sc.sla.attempts_required == 3
    assert m.episodes.kth_attempt.tolist() == [30.0]
    one = m.table(sc.sla.model_copy(update={"attempts_required": 1,
                                            "attempts_within_days": 0.5}))
    values = one.set_index(["period", "metric"])["value"]
    assert values[("total", "attempts_met")] == 1.0


# ---------------------------------------------------------------------- commitment bases


def test_commitment_bases_of_january_count_its_days_and_working_days() -> None:
    """January 2026 owes one month ('month'), 31 / 30.4375 ('day') and, on the Mon-Fri
    marketing calendar with 19 January a holiday, 21 working days / the mean 21.74
    ('working_day'); on an always-open marketing calendar every one of its 31 days works."""
    sc = scenario(marketing_calendar__holidays=[dt.date(2026, 1, 19)])
    win = window_for(sc)
    (jan,) = win.months
    assert basis_months(win, sc, jan) == {"month": 1.0, "day": 31 / DAYS_PER_MONTH,
                                          "working_day": 21 / (5 * 365.25 / 7 / 12)}
    sc = scenario(marketing_calendar__always_open=True)
    assert basis_months(win, sc, jan)["working_day"] == 31 / DAYS_PER_MONTH


def test_commitment_bases_of_a_partial_month_count_the_days_it_touches() -> None:
    """A window ending at 00:30 on 11 January owes 240.5 h of local days for 'day' and, on an
    always-open marketing calendar, the 11 days it touches for 'working_day'."""
    sc = scenario(marketing_calendar__always_open=True)
    win = month_window(window_for(sc).origin, 0.0, 240.5)
    (p,) = win.months
    got = basis_months(win, sc, p)
    assert got["day"] == pytest.approx(240.5 / 24 / DAYS_PER_MONTH, rel=1e-15)
    assert got["working_day"] == 11 / DAYS_PER_MONTH
    assert got["month"] == 240.5 / JAN_H


# ---------------------------------------------------------------------- episodes


@pytest.mark.parametrize("other", [1, 300_000], ids=["dense", "sparse"])
def test_episodes_join_each_episodes_first_times(other: int) -> None:
    """build_episodes gives, per (lead, episode) in key order, the earliest time of each event
    (repeated attempt numbers and contacts: the earliest), the disposition and its code, and
    the attempts made; rows of an episode that never became an MQL are ignored. Lead ids far
    apart (``sparse``) are found by binary search instead of a dense table: same result."""
    rows = [
        ev(0, 1.0, "mql", team=1), ev(0, 1.5, "routed"), ev(0, 2.0, "assigned"),
        ev(0, 3.0, "attempt", attempt=0, value=0.1), ev(0, 5.0, "attempt", attempt=1, value=0.1),
        ev(0, 4.0, "attempt", attempt=1, value=0.1), ev(0, 5.2, "contact", attempt=1),
        ev(0, 6.0, "contact", attempt=1), ev(0, 7.0, "sql"),
        ev(other, 10.0, "mql"), ev(other, 12.0, "recycled"),
        ev(other, 100.0, "mql", episode=2), ev(other, 101.0, "attempt", episode=2, attempt=0,
                                                value=0.1),
        ev(other, 102.0, "attempt", episode=3, attempt=0, value=0.1),  # no MQL: ignored
        ev(other, 103.0, "disqualified", episode=3),
        ev(2, 50.0, "attempt", attempt=0, value=0.1),  # lead 2 never became an MQL
    ]
    log = make_log(scenario(), rows)
    ep = build_episodes(log.columns(sort=False), 2, log.event_rows())
    nan = math.nan

    def same(got: np.ndarray, want: list[float]) -> None:
        np.testing.assert_array_equal(got, np.array(want, dtype=float))

    assert ep.key.tolist() == [1, other * EP_BASE + 1, other * EP_BASE + 2]
    assert ep.lead.tolist() == [0, other, other]
    assert ep.team.tolist() == [1, 0, 0]
    same(ep.mql, [1.0, 10.0, 100.0])
    same(ep.routed, [1.5, nan, nan])
    same(ep.assigned, [2.0, nan, nan])
    same(ep.first_attempt, [3.0, nan, 101.0])
    same(ep.kth_attempt, [4.0, nan, nan])
    same(ep.contact, [5.2, nan, nan])
    same(ep.disposition, [7.0, 12.0, nan])
    assert ep.disposition_code.tolist() == [CODE["sql"], CODE["recycled"], -1]
    assert ep.n_attempts.tolist() == [3, 0, 1]
    same(ep.with_attempts_required(1).kth_attempt, [3.0, nan, 101.0])
    assert len(ep) == 3


@pytest.mark.parametrize("far", [3, 700_000_000], ids=["table", "search"])
def test_key_index_finds_the_first_occurrence_of_each_key(far: int) -> None:
    """_KeyIndex gives the position of a key's first occurrence among repeated sorted keys
    (as a binary search does), -1 for keys absent or outside the grid, whether it answers
    from a dense table or by binary search."""
    base = EP_BASE
    keys = np.array([0 * base + 1, 1 * base + 1, 1 * base + 1, 1 * base + 1, far * base + 2])
    index = _KeyIndex(keys)
    assert (index.table is None) == (far > 3)
    queries = np.array([1 * base + 1, 0 * base + 1, far * base + 2, 2 * base + 1, 9 * base + 1,
                        0 * base + 5])
    assert index.find(queries).tolist() == [1, 0, 4, -1, -1, -1]
    assert _KeyIndex(keys[:0]).find(queries).tolist() == [-1] * 6
    assert _KeyIndex(keys[:1]).find(queries).tolist() == [-1, 0, -1, -1, -1, -1]


def test_episodes_of_lead_ids_far_apart_are_joined_without_a_dense_table() -> None:
    """Episode keys spread over 7e8 lead ids and 30000 episodes (a grid of 2e13 keys, too
    sparse for a table) are joined by binary search, in memory proportional to the rows."""
    far = 700_000_000
    rows = [(0, 1, 1.0, CODE["mql"], 0, -1, -1, math.nan),
            (far, 30_001, 2.0, CODE["mql"], 0, -1, -1, math.nan),
            (far, 30_001, 3.0, CODE["routed"], 0, -1, -1, math.nan)]
    cols = {c: np.array([r[i] for r in rows]) for i, c in enumerate(COLUMNS)}
    ep = build_episodes(cols, 1)
    assert ep.lead.tolist() == [0, far]
    np.testing.assert_array_equal(ep.routed, [math.nan, 3.0])
    assert ep.n_attempts.tolist() == [0, 0]


# ---------------------------------------------------------------------- levels


def test_level_over_a_window_starts_from_the_level_reached_before_it() -> None:
    """One item up at 1 and down at 3: over [2, 10) the count starts at 1 (from before the
    window) for 1 h of 8, over the half hour [2, 2.5) it is 1 throughout; an empty window
    has an undefined mean."""
    up, down = np.array([1.0]), np.array([3.0])
    assert level_mean_max(up, down, 2.0, 10.0) == (1.0 / 8.0, 1.0)
    assert level_mean_max(up, down, 2.0, 2.5) == (1.0, 1.0)
    assert math.isnan(level_mean_max(up, down, 2.0, 2.0)[0])


# ---------------------------------------------------------------------- clause judgement


def test_judge_statuses_at_their_boundaries() -> None:
    """A clause not started stays NOT_STARTED whatever its deadline and event; an event at
    the deadline meets it; a deadline exactly at the end of observation, unsatisfied, is
    breached (the deadline has passed), and one just after is pending."""
    nan = math.nan
    start = np.array([nan, nan, 0.0, 0.0, 0.0, 0.0])
    deadline = np.array([5.0, 5.0, 5.0, 10.0, 10.0 + 1e-9, 5.0])
    done = np.array([3.0, nan, 5.0, nan, nan, 5.5])
    got = judge(start, deadline, done, observed_until=10.0)
    assert got.tolist() == [NOT_STARTED, NOT_STARTED, MET, BREACHED, PENDING, BREACHED]


def test_clause_days_are_24_clock_hours() -> None:
    """attempts_within_days 7 is 168 clock hours: a third attempt 170 h after the MQL is
    late, one at 168 h is in time; disposition_within_days 14 is 336 h: a disposition 338 h
    after the MQL is late, one at 336 h in time."""
    rows = [ev(0, 1.0, "mql"), ev(1, 1.0, "mql"),
            ev(0, 337.0, "sql"), ev(1, 339.0, "recycled")]
    for lead, last in ((0, 169.0), (1, 171.0)):
        rows += [ev(lead, t, "attempt", attempt=k, value=0.1)
                 for k, t in enumerate((2.0, 3.0, last))]
    get = metrics(scenario(sla__attempts_within_days=7.0, sla__disposition_within_days=14.0),
                  rows)
    assert clause(get, "attempts") == (1, 1, 0)
    assert clause(get, "disposition") == (1, 1, 0)


# ---------------------------------------------------------------------- a fixed bug


def test_a_deal_closed_without_an_opportunity_opening_has_no_cycle() -> None:
    """A won deal whose episode has no opp_open row (from a CRM export: a deal with no
    opening, SQL or MQL time) counts as a win with its revenue, but has no cycle: it is not
    paired with another episode's opening. The mean cycle is that of the other deals, and
    undefined when no deal has an opening (it used to raise an IndexError)."""
    rows = [ev(0, 100.0, "won", value=2.0),                             # no opening
            ev(1, 10.0, "opp_open"), ev(1, 58.0, "won", value=1.0),     # 2 days
            ev(2, 200.0, "lost")]                                       # no opening
    get = metrics(scenario(), rows)
    assert (get("wins"), get("losses"), get("revenue")) == (2.0, 1.0, 3.0)
    assert get("sales_cycle_days_mean") == 2.0
    get = metrics(scenario(), [ev(0, 100.0, "won", value=2.0)])
    assert get("wins") == 1.0
    assert math.isnan(get("sales_cycle_days_mean"))


def test_a_level_that_changes_exactly_at_the_window_start_counts_from_its_new_value() -> None:
    """A queue that drains exactly at the start of a month: that month's max is the drained
    level, not the one just before the month began (and its mean is unchanged)."""
    assert level_mean_max(np.array([0.0]), np.array([5.0]), 5.0, 10.0) == (0.0, 0.0)
    # a rise exactly at t0 is in the window from its first instant
    assert level_mean_max(np.array([5.0]), np.array([7.0]), 5.0, 10.0) == (
        pytest.approx(2.0 / 5.0), 1.0)
    # a fall and a rise at t0 (the fall counted first) leave the level as it was
    assert level_mean_max(np.array([0.0, 5.0]), np.array([5.0]), 5.0, 10.0) == (1.0, 1.0)


def test_bin_counts_equal_a_binary_search_and_bincount() -> None:
    """Counts of times per bin of ascending edges equal numpy's searchsorted (right) and
    bincount: a time equal to an edge counts in the bin it opens, NaN and inf in the last."""
    edges = np.array([0.0, 10.0, 10.0, 20.5, 40.0])
    rng = np.random.default_rng(7)
    t = np.concatenate([rng.uniform(-5.0, 45.0, 500), edges, [np.nan, np.inf, -np.inf, -0.0]])
    want = np.bincount(np.searchsorted(edges, t, side="right"), minlength=len(edges) + 1)
    assert bin_counts(t, edges).tolist() == want.tolist()
    assert bin_counts(t[:0], edges).tolist() == [0] * 6


@pytest.mark.parametrize("always_open", [False, True], ids=["office", "open"])
def test_compiled_business_hours_equal_the_calendars(always_open: bool) -> None:
    """The metrics' compiled business hours equal the calendar's own, bit for bit: before the
    first interval, inside and between intervals, at their bounds, across a daylight-saving
    change, after the last, at infinities and NaN."""
    spec = CalendarSpec(timezone="Europe/Berlin", working_days=[0, 1, 2, 3, 4], start_hour=9,
                        end_hour=17.5, holidays=[dt.date(2026, 3, 30)],
                        always_open=always_open)  # fmt: skip
    cal = BusinessCalendar(spec, dt.datetime(2026, 3, 20, tzinfo=dt.UTC), 24 * 20.0)
    rng = np.random.default_rng(3)
    bounds = np.concatenate([cal.starts, cal.ends]) if not always_open else np.zeros(0)
    t = np.concatenate([rng.uniform(-30.0, 24 * 22.0, 400), bounds, bounds - 1e-9,
                        [np.nan, np.inf, -np.inf, -0.0, 0.0]])  # fmt: skip
    want = cal.cum_hours_many(t)
    got = cum_hours_many(cal, t)
    assert np.array_equal(got, want, equal_nan=True)
    t0, t1 = t[:200], t[200:400]
    assert np.array_equal(business_hours_between(cal, t0, t1),
                          cal.business_hours_between_many(t0, t1), equal_nan=True)

