"""Tests for sla_sim.metrics on hand-built event logs (hand-checkable numbers), on a Mon-Fri
calendar, and on a simulated run."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import event_logs, window_pairs

from sla_sim.batch.replications import run_replication
from sla_sim.calendar import BusinessCalendar, CalendarSpec
from sla_sim.events import CODE, EventLog
from sla_sim.metrics import METRIC_DOCS, compute, window_for
from sla_sim.metrics.capacity import level_mean_max
from sla_sim.metrics.clauses import BREACHED, CLAUSES, evaluate
from sla_sim.metrics.docs import COST_METRIC_DOCS
from sla_sim.metrics.episodes import build_episodes
from sla_sim.scenario.io import set_path
from sla_sim.scenario.presets import preset
from sla_sim.scenario.schema import Scenario, SLASpec

NY = ZoneInfo("America/New_York")
JAN_H = 31 * 24.0  # January 2026: model hours 0..744 (no DST change)
JAN_BUSINESS_H = 22 * 8.0  # 22 weekdays of 09:00-17:00 in January 2026
Row = tuple[int, int, float, int, int, int, int, float]


def scenario(always_open: bool = True, months: int = 1, **changes: Any) -> Scenario:
    """Default preset measured from 2026-01-01 00:00 New York with no warm-up, one team of two
    reps (24/7 or Mon-Fri 9-17), and any ``set_path`` changes given as ``a__b=value``."""
    paths = {"horizon.warmup_days": 0, "horizon.measure_months": months, "teams[0].reps": 2,
             "teams[0].calendar.always_open": always_open}
    paths |= {k.replace("__", "."): v for k, v in changes.items()}
    sc = preset("default")
    for path, value in paths.items():
        sc = set_path(sc, path, value)
    return sc


def ev(lead: int, time_h: float, name: str, *, episode: int = 1, rep: int = 0,
       attempt: int = -1, value: float = math.nan, team: int = 0) -> Row:
    """One event-log row."""
    return (lead, episode, time_h, CODE[name], team, rep, attempt, value)


def make_log(sc: Scenario, rows: list[Row]) -> EventLog:
    """An EventLog of the given rows, with a lead table covering every lead they name."""
    n = 1 + max(r[0] for r in rows)
    log = EventLog(sc.channel_names(), ["mid_market"], sc.team_names())
    log.set_leads(np.zeros(n), np.zeros(n), np.zeros(n), np.full(n, 70.0))
    log.rows.extend(rows)
    return log


def metrics(sc: Scenario, rows: list[Row]) -> Callable[..., float]:
    """compute() on a hand-built log; returns a getter ``get(metric, period='total')``."""
    table = compute(make_log(sc, rows), sc)
    values = table.set_index(["period", "metric"])["value"]

    def get(name: str, period: str = "total") -> float:
        return float(values[(period, name)])

    return get


def clause(get: Callable[..., float], name: str, period: str = "total") -> tuple[float, ...]:
    """(met, breached, pending) of a clause."""
    return tuple(get(f"{name}_{s}", period) for s in ("met", "breached", "pending"))


def local(*args: int) -> float:
    """Model hours of a New York wall-clock time (origin 2026-01-01 00:00, no DST in Jan)."""
    return (datetime(*args, tzinfo=NY) - datetime(2026, 1, 1, tzinfo=NY)).total_seconds() / 3600


# ---------------------------------------------------------------------- per-lead clauses


def test_handoff_clause_met_breached_pending() -> None:
    """Handoff (1 clock hour): routed in time or exactly at the deadline is met, late or never
    is breached, and a deadline after the end of observation is pending."""
    rows = [
        ev(0, 10.0, "mql"), ev(0, 10.5, "routed"),          # met
        ev(1, 10.0, "mql"), ev(1, 12.0, "routed"),          # breached: late
        ev(2, JAN_H - 0.5, "mql"),                          # pending: deadline after the end
        ev(3, 100.0, "mql"),                                # breached: never routed
        ev(4, 20.0, "mql"), ev(4, 21.0, "routed"),          # met: exactly at the deadline
    ]
    get = metrics(scenario(), rows)
    assert clause(get, "handoff") == (2, 2, 1)
    assert get("handoff_compliance") == 0.5
    assert get("handoff_breach") == 1.0  # 0.5 < lead_compliance_target 0.85
    assert get("mqls") == 5


def test_first_touch_clause_on_a_24_7_calendar() -> None:
    """First touch (4 business hours = clock hours when always open) counts attempt 0 only."""
    rows = [
        ev(0, 10.0, "mql"), ev(0, 13.0, "attempt", attempt=0, value=0.1),   # met
        ev(1, 10.0, "mql"), ev(1, 15.0, "attempt", attempt=0, value=0.1),   # breached
        ev(2, JAN_H - 2.0, "mql"),                                          # pending
        ev(3, 100.0, "mql"), ev(3, 101.0, "attempt", attempt=1, value=0.1),  # breached
    ]
    get = metrics(scenario(), rows)
    assert clause(get, "first_touch") == (1, 2, 1)
    assert get("response_hours_mean") == 4.0  # (3 + 5) / 2
    assert get("response_business_hours_p50") == 4.0


def test_first_touch_counts_business_hours_across_a_weekend() -> None:
    """On a Mon-Fri 9-17 calendar, an MQL at Friday 19:00 touched Monday 09:30 waited 0.5
    business hours (met); Friday 16:00 to Monday 13:30 is 5.5 business hours (breached)."""
    fri_7pm, mon_930 = local(2026, 1, 2, 19), local(2026, 1, 5, 9, 30)
    fri_4pm, mon_130pm = local(2026, 1, 2, 16), local(2026, 1, 5, 13, 30)
    rows = [
        ev(0, fri_7pm, "mql"), ev(0, mon_930, "attempt", attempt=0, value=0.1),
        ev(1, fri_4pm, "mql"), ev(1, mon_130pm, "attempt", attempt=0, value=0.1),
        ev(2, local(2026, 1, 29, 16), "mql"),  # deadline Fri 30 Jan 12:00: breached
        ev(3, local(2026, 1, 30, 15), "mql"),  # deadline Mon 2 Feb 11:00: pending
    ]
    get = metrics(scenario(always_open=False), rows)
    assert clause(get, "first_touch") == (1, 2, 1)
    assert get("response_business_hours_p50") == pytest.approx(3.0)  # median of 0.5 and 5.5
    assert get("response_business_hours_p90") == pytest.approx(0.5 + 0.9 * 5.0)
    assert get("response_hours_mean") == pytest.approx((62.5 + 69.5) / 2)


def test_first_touch_clock_can_start_at_assignment() -> None:
    """With first_touch_from='assignment' the clock starts at assignment, not at MQL."""
    rows = [ev(0, 10.0, "mql"), ev(0, 10.5, "routed"), ev(0, 20.0, "assigned"),
            ev(0, 23.0, "attempt", attempt=0, value=0.1),
            ev(1, 30.0, "mql")]  # never assigned: the clause has not started
    from_mql = metrics(scenario(), rows)
    from_assignment = metrics(scenario(sla__first_touch_from="assignment"), rows)
    assert clause(from_mql, "first_touch") == (0, 2, 0)
    assert clause(from_assignment, "first_touch") == (1, 0, 0)


def test_attempts_clause_counts_reached_sooner_as_met() -> None:
    """Attempts (3 within 7 days): the third attempt in time, or reaching the lead sooner,
    meets the clause; too few or late attempts breach it; an open deadline is pending."""
    rows = [
        ev(0, 0.5, "mql"), *[ev(0, t, "attempt", attempt=k, value=0.1)
                             for k, t in enumerate((1.0, 30.0, 100.0))],       # met
        ev(1, 0.5, "mql"), ev(1, 1.0, "attempt", attempt=0, value=0.1),
        ev(1, 1.2, "contact", attempt=0), ev(1, 1.2, "sql"),                    # met: reached
        ev(2, 0.5, "mql"), *[ev(2, t, "attempt", attempt=k, value=0.1)
                             for k, t in enumerate((1.0, 50.0, 200.0))],       # breached: late
        ev(3, 700.0, "mql"), ev(3, 701.0, "attempt", attempt=0, value=0.1),     # pending
        ev(4, 10.0, "mql"), ev(4, 11.0, "attempt", attempt=0, value=0.1),       # breached: 1 only
    ]
    get = metrics(scenario(), rows)
    assert clause(get, "attempts") == (2, 2, 1)
    assert get("attempts_compliance") == 0.5


def test_disposition_clause() -> None:
    """Disposition (14 days): SQL or disqualified by the deadline is met, a late recycle or
    none is breached, and a deadline after the end of observation is pending."""
    rows = [
        ev(0, 10.0, "mql"), ev(0, 50.0, "sql"),                       # met
        ev(1, 10.0, "mql"), ev(1, 400.0, "recycled"),                 # breached: late
        ev(2, 600.0, "mql"),                                          # pending
        ev(3, 100.0, "mql"),                                          # breached: never
        ev(4, 10.0, "mql"), ev(4, 10.0 + 14 * 24, "disqualified"),    # met: at the deadline
    ]
    get = metrics(scenario(), rows)
    assert clause(get, "disposition") == (2, 2, 1)


def test_clause_is_counted_in_the_month_it_started() -> None:
    """A clause started on 31 January and breached in February counts in January."""
    rows = [ev(0, JAN_H - 1.0, "mql"), ev(0, JAN_H + 1.0, "routed"),
            ev(1, JAN_H + 5.0, "mql"), ev(1, JAN_H + 5.5, "routed")]
    get = metrics(scenario(months=2), rows)
    assert clause(get, "handoff", "2026-01") == (0, 1, 0)
    assert clause(get, "handoff", "2026-02") == (1, 0, 0)
    assert clause(get, "handoff") == (1, 1, 0)


# ---------------------------------------------------------------------- period KPIs


def test_revenue_is_booked_on_the_close_date() -> None:
    """Won deal values count in the month they close; cycle days and closure rate follow."""
    rows = [
        ev(0, 52.0, "opp_open"), ev(0, 700.0, "won", value=1000.0),             # Jan, 27 days
        ev(1, 100.0, "opp_open"), ev(1, JAN_H + 52.0, "won", value=500.0),      # Feb, 29 days
        ev(2, 148.0, "opp_open"), ev(2, 772.0, "lost"),                          # Feb, 26 days
    ]
    get = metrics(scenario(months=2, sla__revenue_target_per_month=800.0,
                           sla__mql_commitment_basis="month"), rows)
    assert get("revenue", "2026-01") == 1000.0
    assert get("revenue", "2026-02") == 500.0
    assert get("revenue") == 1500.0
    assert get("revenue_target", "2026-02") == 800.0
    assert get("revenue_target") == 1600.0
    assert get("revenue_attainment", "2026-01") == 1.25
    assert (get("revenue_target_breach", "2026-01"), get("revenue_target_breach", "2026-02"),
            get("revenue_target_breach")) == (0.0, 1.0, 1.0)
    assert (get("wins", "2026-02"), get("losses", "2026-02")) == (1.0, 1.0)
    assert get("deal_closure_rate", "2026-01") == 1.0
    assert get("deal_closure_rate", "2026-02") == 0.5
    assert get("deal_closure_rate") == pytest.approx(2 / 3)
    assert get("sales_cycle_days_mean", "2026-01") == pytest.approx(27.0)
    assert get("sales_cycle_days_mean", "2026-02") == pytest.approx(27.5)
    assert get("sales_cycle_days_mean") == pytest.approx((27 + 29 + 26) / 3)
    assert get("opportunities", "2026-01") == 3.0


def test_revenue_target_follows_the_commitment_basis() -> None:
    """On the 'day' basis the monthly revenue target scales with the month's days (no
    February miss by construction), like the MQL commitment."""
    get = metrics(scenario(months=2, sla__revenue_target_per_month=3044.0), [ev(0, 1.0, "mql")])
    assert get("revenue_target", "2026-01") == pytest.approx(3044.0 * 31 / (365.25 / 12))
    assert get("revenue_target", "2026-02") == pytest.approx(3044.0 * 28 / (365.25 / 12))
    assert get("revenue_target") == pytest.approx(3044.0 * 59 / (365.25 / 12))


@pytest.mark.parametrize(("minimum", "breach"), [(0.2, 0.0), (0.5, 0.0), (0.6, 1.0)])
def test_acceptance_rate_and_breach(minimum: float, breach: float) -> None:
    """Acceptance = SQLs / MQLs sales reached and dispositioned (SQL, disqualified, recycled
    after a contact); below the minimum is a breach."""
    rows = [ev(0, 10.0, "sql"), ev(1, 20.0, "sql"), ev(2, 30.0, "disqualified"),
            ev(3, 39.0, "contact"), ev(3, 40.0, "recycled"),
            ev(4, JAN_H + 1.0, "disqualified")]  # after the window
    get = metrics(scenario(sla__acceptance_rate_min=minimum), rows)
    assert get("acceptance_rate") == 0.5
    assert get("acceptance_breach") == breach
    assert get("unworked_mqls") == 0.0


def test_unreached_mqls_are_sales_unworked_not_marketings_quality() -> None:
    """An MQL recycled without any contact in its episode counts as unworked and is left out
    of acceptance; a contact in an earlier episode of the same lead does not make it reached."""
    rows = [ev(0, 10.0, "sql"), ev(1, 20.0, "disqualified"),
            ev(2, 25.0, "contact"), ev(2, 26.0, "recycled"),
            ev(2, 80.0, "recycled", episode=2),  # the recycled episode 2 was never reached
            ev(3, 40.0, "recycled"), ev(4, 50.0, "recycled")]
    get = metrics(scenario(), rows)
    assert get("unworked_mqls") == 3.0
    assert get("unworked_rate") == pytest.approx(3 / 6)
    assert get("acceptance_rate") == pytest.approx(1 / 3)


def test_acceptance_is_undefined_without_dispositions() -> None:
    """With no dispositioned MQL the acceptance rate and its breach flag are NaN, not 0."""
    get = metrics(scenario(), [ev(0, 10.0, "mql")])
    assert math.isnan(get("acceptance_rate"))
    assert math.isnan(get("acceptance_breach"))


@pytest.mark.parametrize(("n_mqls", "breach"), [(2, 1.0), (3, 0.0), (4, 0.0)])
def test_mql_volume_breach_against_commitment(n_mqls: int, breach: float) -> None:
    """Marketing breaches when the month's MQLs fall short of the monthly commitment."""
    rows = [ev(i, 10.0 * (i + 1), "mql") for i in range(n_mqls)]
    rows += [ev(i, 5.0, "created", episode=0) for i in range(10)]
    get = metrics(scenario(sla__mql_commitment_per_month=3.0, sla__mql_commitment_basis="month"),
                  rows)
    assert get("mql_commitment") == 3.0
    assert get("mqls") == n_mqls
    assert get("mql_volume_breach") == breach
    assert get("lead_to_mql_rate") == n_mqls / 10


def test_level_mean_max_hand_example() -> None:
    """A count up at 1, 2, 5 and down at 3, 4, 6 averages 0.5 over [0, 10) with peak 2, and
    0.8333 over [2.5, 5.5) starting from the level reached before the window."""
    up, down = np.array([1.0, 2.0, 5.0]), np.array([3.0, 4.0, 6.0])
    assert level_mean_max(up, down, 0.0, 10.0) == (pytest.approx(0.5), 2.0)
    assert level_mean_max(up, down, 2.5, 5.5) == (pytest.approx(2.5 / 3), 2.0)
    assert level_mean_max(np.empty(0), np.empty(0), 0.0, 10.0) == (0.0, 0.0)


def test_level_mean_max_counts_a_fall_before_a_rise_at_equal_times() -> None:
    """An item leaving when another arrives at the same instant never makes the level peak."""
    up, down = np.array([1.0, 3.0]), np.array([3.0, 4.0])
    assert level_mean_max(up, down, 0.0, 10.0) == (pytest.approx(0.3), 1.0)


def test_sdr_queue_is_time_weighted() -> None:
    """One MQL waiting 10 h of a 744 h month for a slot gives a mean queue of 10/744."""
    rows = [ev(0, 9.0, "mql"), ev(0, 10.0, "routed"), ev(0, 20.0, "assigned"),
            ev(1, 99.0, "mql"), ev(1, 100.0, "routed"), ev(1, 100.0, "assigned")]
    get = metrics(scenario(), rows)
    assert get("sdr_queue_mean") == pytest.approx(10.0 / JAN_H)
    assert get("sdr_queue_max") == 1.0


def test_sdr_utilization_on_a_24_7_calendar() -> None:
    """Attempt hours clipped to the window over reps x clock hours: 2.5 / (2 x 744)."""
    rows = [ev(0, -0.5, "attempt", attempt=0, value=1.0),     # half inside the window
            ev(1, 10.0, "attempt", attempt=0, value=1.0),
            ev(2, JAN_H - 1.0, "attempt", attempt=0, value=2.0)]  # half after the window
    get = metrics(scenario(), rows)
    assert get("sdr_utilization") == pytest.approx(2.5 / (2 * JAN_H))


def test_sdr_utilization_on_business_hours() -> None:
    """On Mon-Fri 9-17 the available time is reps x 176 business hours in January 2026."""
    cal = BusinessCalendar(CalendarSpec(), window_for(scenario()).origin, JAN_H)
    assert cal.business_hours_between(0.0, JAN_H) == JAN_BUSINESS_H
    rows = [ev(0, local(2026, 1, 5, 10), "attempt", attempt=0, value=3.0),
            ev(1, local(2026, 1, 6, 10), "attempt", attempt=0, value=1.0)]
    get = metrics(scenario(always_open=False), rows)
    assert get("sdr_utilization") == pytest.approx(4.0 / (2 * JAN_BUSINESS_H))


def test_sdr_utilization_of_a_rep_busy_every_working_minute_is_exactly_one() -> None:
    """A rep busy every working minute, whose last attempt each day overruns closing by 20
    minutes (as the model lets it), has a utilization of exactly 1: the overtime is not
    counted, and no working minute is missed."""
    sc = scenario(always_open=False, teams__0__reps=1)
    cal = BusinessCalendar(CalendarSpec(), window_for(sc).origin, JAN_H)
    rows = []
    for start, end in zip(cal.starts, cal.ends, strict=True):
        if start >= JAN_H:
            break
        t = float(start)
        while t < end:
            rows.append(ev(len(rows), t, "attempt", attempt=0, value=0.5))
            t += 0.5
        rows[-1] = ev(len(rows) - 1, float(end) - 0.5, "attempt", attempt=0, value=0.5 + 1 / 3)
    get = metrics(sc, rows)
    assert get("sdr_utilization") == pytest.approx(1.0, rel=0, abs=1e-12)


def test_ae_wait_and_utilization_in_ae_business_hours() -> None:
    """Two AEs on Mon-Fri 9-17 New York, 5 selling hours an opportunity at a share of 0.5 (10
    business hours each). An SQL at Friday 16:00 opened Monday 10:00 waited 2 AE business
    hours; one at Wednesday 12:00 opened at once waited 0; one at Friday 30 January 16:00 never
    opened waits 1 hour to the window's end: mean 1. The two 10-hour selling blocks over 2 x 176
    business hours give the utilisation; without selling time it is the slots in use."""
    rows = [ev(0, local(2026, 1, 9, 16), "sql"), ev(0, local(2026, 1, 12, 10), "opp_open"),
            ev(1, local(2026, 1, 14, 12), "sql"), ev(1, local(2026, 1, 14, 12), "opp_open",
                                                   rep=1),
            ev(2, local(2026, 1, 30, 16), "sql")]
    sc = scenario(always_open=False, ae__count=2, ae__selling_hours_per_opportunity=5.0,
                  ae__selling_share=0.5)
    get = metrics(sc, rows)
    assert get("ae_wait_business_hours_mean") == pytest.approx((2.0 + 0.0 + 1.0) / 3)
    assert get("ae_utilization") == pytest.approx(20.0 / (2 * JAN_BUSINESS_H))
    get = metrics(set_path(sc, "ae.selling_hours_per_opportunity", 0.0), rows)
    assert get("ae_utilization") == pytest.approx(get("ae_open_mean") / (2 * 80))
    assert get("ae_open_mean") > 0


# ---------------------------------------------------------------------- windows and docs


def test_months_start_at_local_midnight_across_dst() -> None:
    """Each measured month starts at local midnight of its first day in model (elapsed) hours,
    even when a DST change lies between the origin and the month (default preset)."""
    win = window_for(preset("default"))
    origin_utc = win.origin.astimezone(UTC)
    for p in win.months:
        start = (origin_utc + timedelta(hours=p.start_h)).astimezone(NY)
        assert (start.day, start.hour, start.minute) == (1, 0, 0), p


def test_every_metric_is_documented(sim_table: pd.DataFrame) -> None:
    """compute() emits exactly the metrics METRIC_DOCS documents, for each month and total."""
    assert set(sim_table["metric"]) == set(METRIC_DOCS) - set(COST_METRIC_DOCS)
    assert set(sim_table["period"]) == {"2026-01", "total"}
    assert not sim_table.duplicated(["period", "metric"]).any()


@pytest.fixture(scope="module")
def sim_table(tiny_factory: Callable[[dict[str, Any] | None], Scenario]) -> pd.DataFrame:
    """The metrics of one simulated replication of the shortened default scenario."""
    return run_replication(tiny_factory(None), seed=11).metrics


def test_rates_of_a_simulated_run_are_probabilities(sim_table: pd.DataFrame) -> None:
    """On a simulated run, every rate, compliance and utilization lies in [0, 1], and every
    breach indicator is 0 or 1."""
    t = sim_table
    ratio = t[t["metric"].str.endswith(("_rate", "_compliance", "_utilization"))]
    assert len(ratio) >= 2 * 9
    assert ratio["value"].notna().all()
    assert ratio["value"].between(0.0, 1.0).all(), ratio[~ratio["value"].between(0, 1)]
    flags = t[t["metric"].str.endswith("_breach")]
    assert len(flags) == 2 * 7
    assert flags["value"].isin([0.0, 1.0]).all()
    total = t[t["period"] == "total"].set_index("metric")["value"]
    assert total["mqls"] > 1000
    assert total["revenue"] > 0


# ---------------------------------------------------------------------- property

SC_24_7 = scenario()
SC_BUSINESS = scenario(always_open=False)
CALENDARS = {
    True: [BusinessCalendar(CalendarSpec(always_open=True), window_for(SC_24_7).origin, JAN_H)],
    False: [BusinessCalendar(CalendarSpec(), window_for(SC_BUSINESS).origin, JAN_H)],
}


def _breaches(log: EventLog, always_open: bool, k: int, hours: float, bh: float,
              days: float, disp_days: float) -> dict[str, int]:
    sla = SLASpec(handoff_within_hours=hours, first_touch_within_business_hours=bh,
                  attempts_required=k, attempts_within_days=days,
                  disposition_within_days=disp_days)
    ep = build_episodes(log.columns(), k)
    out = evaluate(ep, sla, CALENDARS[always_open], observed_until=JAN_H)
    return {name: int((out[name].status == BREACHED).sum()) for name in CLAUSES}


@settings(max_examples=60, deadline=None)
@given(
    log=event_logs(SC_24_7.channel_names(), SC_24_7.team_names(), horizon_h=JAN_H),
    always_open=st.booleans(),
    k=st.integers(min_value=1, max_value=3),
    hours=window_pairs(0.01, 48.0),
    bh=window_pairs(0.01, 48.0),
    days=window_pairs(0.01, 20.0),
    disp_days=window_pairs(0.01, 20.0),
)
def test_longer_sla_window_never_adds_breaches(
    log: EventLog, always_open: bool, k: int, hours: tuple[float, float],
    bh: tuple[float, float], days: tuple[float, float], disp_days: tuple[float, float],
) -> None:
    """For a fixed event log, lengthening any SLA window never increases a clause's breaches."""
    short = _breaches(log, always_open, k, hours[0], bh[0], days[0], disp_days[0])
    long = _breaches(log, always_open, k, hours[1], bh[1], days[1], disp_days[1])
    for name in CLAUSES:
        assert long[name] <= short[name], name


# ---------------------------------------------------------------------- re-measuring an SLA
SLA_CHANGES: list[dict[str, Any]] = [
    {"first_touch_within_business_hours": 1.5},
    {"first_touch_from": "assignment"},
    {"attempts_required": 1},
    {"attempts_required": 5, "attempts_within_days": 12.0},
    {"attempts_required": 4, "attempts_within_days": 4.0},
    {"disposition_within_days": 3.0, "handoff_within_hours": 0.25},
    {"lead_compliance_target": 0.99, "acceptance_rate_min": 0.6},
    {"mql_commitment_per_month": 900.0, "revenue_target_per_month": 1.0e6},
]


@pytest.mark.parametrize("change", SLA_CHANGES, ids=lambda c: ",".join(c))
def test_a_measurement_gives_the_metrics_of_any_sla(change: dict[str, Any]) -> None:
    """measure(log, sc).table(sla) is exactly compute(log, sc with that SLA): only the
    clauses, breach flags and targets depend on the SLA, and they are judged per call."""
    from sla_sim.batch.worker import run_one
    from sla_sim.metrics import measure

    sc = preset("default")
    for path, value in {"horizon.warmup_days": 30, "horizon.measure_months": 2}.items():
        sc = set_path(sc, path, value)
    log = run_one(sc, 5, 0, keep_log=True).log
    other = Scenario.model_validate(sc.model_dump() | {"sla": sc.sla.model_dump() | change})
    got = measure(log, sc).table(other.sla)
    want = compute(log, other)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert not got.equals(compute(log, sc)), "the change must move some metric"
