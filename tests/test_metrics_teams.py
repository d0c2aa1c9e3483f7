"""Metrics with several teams on different calendars: each episode is judged on the calendar of
the team that owns it.

The scenario is the ``enterprise`` preset (a New York team and a London team, routed by
segment) measured over January 2026 with no warm-up. In January New York is UTC-5 and London
UTC+0, so London's 09:00-17:00 is 04:00-12:00 in New York. Times below are New York wall-clock
times; the hand-checked deadlines are given next to each lead, under the owning team's calendar
and under the other team's (where the answer would differ).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from sla_sim.events import CODE, EventLog
from sla_sim.metrics import compute, measure
from sla_sim.metrics.clauses import BREACHED, MET, evaluate
from sla_sim.model.funnel import FunnelModel
from sla_sim.scenario import Scenario
from sla_sim.scenario.io import set_path
from sla_sim.scenario.presets import preset
from sla_sim.streams import Streams, replication_seed

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
NY_TEAM, LONDON_TEAM = 0, 1
Row = tuple[int, int, float, int, int, int, int, float]


def enterprise(months: int = 1, warmup_days: int = 0) -> Scenario:
    """The enterprise preset measured from 2026-01-01 00:00 New York, first touch owed
    within 4 business hours."""
    sc = preset("enterprise")
    for path, value in {"horizon.warmup_days": warmup_days, "horizon.measure_months": months,
                        "sla.first_touch_within_business_hours": 4.0}.items():  # fmt: skip
        sc = set_path(sc, path, value)
    assert [t.name for t in sc.teams] == ["ny", "london"]
    assert [t.calendar.timezone for t in sc.teams] == ["America/New_York", "Europe/London"]
    assert sc.routing.team_rule == "by_segment"
    return sc


def ny(day: int, hour: float) -> float:
    """Model hours of January ``day`` 2026 at ``hour`` New York time (no DST in January)."""
    return (datetime(2026, 1, day, tzinfo=NY) - datetime(2026, 1, 1, tzinfo=NY)).total_seconds(
    ) / 3600 + hour  # fmt: skip


def ev(lead: int, t: float, name: str, team: int, attempt: int = -1) -> Row:
    """One event-log row of episode 1."""
    value = 0.1 if name == "attempt" else math.nan
    return (lead, 1, t, CODE[name], team, 0 if name == "attempt" else -1, attempt, value)


def log_of(sc: Scenario, rows: list[Row], teams: list[int]) -> EventLog:
    """An EventLog of ``rows``; lead i is in the segment its team serves."""
    segments = ["enterprise", "strategic"]  # ny serves enterprise, london strategic
    log = EventLog(sc.channel_names(), segments, sc.team_names())
    n = len(teams)
    log.set_leads(np.zeros(n), np.asarray(teams, dtype=float), np.zeros(n), np.full(n, 70.0))
    log.rows.extend(rows)
    return log


# lead, team, MQL (New York time: Tue 6 Jan, Fri 9 Jan, Mon 12 Jan), first attempt
LEADS = [
    # NY team, MQL Tue 08:00: own deadline Tue 13:00 NY (met at 12:30);
    #   on London's calendar (13:00 London, open) it would be 17:00 London = 12:00 NY: breached
    (0, NY_TEAM, ny(6, 8), ny(6, 12.5)),
    # London team, MQL Tue 11:00 NY = 16:00 London: own deadline Wed 12:00 London = Wed 07:00
    #   NY (met at Tue 16:00 NY); on New York's calendar Tue 15:00 NY: breached
    (1, LONDON_TEAM, ny(6, 11), ny(6, 16)),
    # London team, MQL Fri 10:00 NY = 15:00 London: 2 h Friday + 2 h Monday, deadline Mon
    #   11:00 London = 06:00 NY (met at 05:30 NY); New York's calendar: Fri 14:00 NY, breached
    (2, LONDON_TEAM, ny(9, 10), ny(12, 5.5)),
    # NY team, MQL Fri 15:00 NY: 2 h Friday + 2 h Monday, deadline Mon 11:00 NY (met at
    #   10:30); London's calendar: Mon 09:00-13:00 London = 08:00 NY, breached
    (3, NY_TEAM, ny(9, 15), ny(12, 10.5)),
    # NY team, MQL Tue 10:00 NY: own deadline Tue 14:00 NY, touched 15:00: breached; London's
    #   calendar (15:00 London): 2 h Tuesday + 2 h Wednesday = Wed 06:00 NY, would be met
    (4, NY_TEAM, ny(6, 10), ny(6, 15)),
]
# business hours from MQL to first touch on the owning team's calendar
RESPONSE_BH = {0: 3.5, 1: 1.0, 2: 4.0 - 0.5, 3: 2.0 + 1.5, 4: 5.0}


def team_rows() -> tuple[list[Row], list[int]]:
    rows: list[Row] = []
    for lead, team, mql, touch in LEADS:
        rows += [ev(lead, mql, "mql", team), ev(lead, touch, "attempt", team, attempt=0)]
    return rows, [team for _, team, _, _ in LEADS]


def test_first_touch_is_judged_on_the_owning_teams_calendar() -> None:
    """Each episode's first-touch deadline comes from its own team's calendar: four met (each
    would be breached on the other team's calendar) and one breached (met on the other's)."""
    sc = enterprise()
    rows, teams = team_rows()
    m = measure(log_of(sc, rows, teams), sc)
    out = evaluate(m.episodes, sc.sla, m.calendars, observed_until=m.window.end_h)
    status = dict(zip(m.episodes.lead.tolist(), out["first_touch"].status.tolist(), strict=True))
    assert status == {0: MET, 1: MET, 2: MET, 3: MET, 4: BREACHED}
    table = compute(log_of(sc, rows, teams), sc).set_index(["period", "metric"])["value"]
    assert table[("total", "first_touch_met")] == 4
    assert table[("total", "first_touch_breached")] == 1
    assert table[("total", "first_touch_pending")] == 0


def test_response_business_hours_use_the_owning_teams_calendar() -> None:
    """Business-hour response times of a two-team log are each measured on the owning team's
    calendar: 3.5, 1, 3.5, 3.5 and 5 hours (median 3.5, 90th percentile 4.4)."""
    sc = enterprise()
    rows, teams = team_rows()
    m = measure(log_of(sc, rows, teams), sc)
    cal_of = [m.calendars[t] for t in m.episodes.team.tolist()]
    got = {lead: cal.business_hours_between(mql, touch) for (lead, _, mql, touch), cal
           in zip(LEADS, cal_of, strict=True)}  # fmt: skip
    assert got == pytest.approx(RESPONSE_BH, abs=1e-9)
    table = compute(log_of(sc, rows, teams), sc).set_index(["period", "metric"])["value"]
    values = np.array(list(RESPONSE_BH.values()))
    assert table[("total", "response_business_hours_p50")] == pytest.approx(3.5, abs=1e-9)
    assert table[("total", "response_business_hours_p90")] == pytest.approx(
        float(np.percentile(values, 90)), abs=1e-9)
    assert float(np.percentile(values, 90)) == pytest.approx(4.4)


def test_each_teams_sdr_utilization_counts_its_own_business_hours() -> None:
    """Busy time counts only the working hours of the team that made the attempt, and the
    available time sums each team's reps times its own business hours (January 2026: 22
    weekdays of 8 hours in both cities, 3 + 3 reps). Lead 1's attempt, at 16:00 New York =
    21:00 London, lies outside London's hours and counts nothing; the four others count 0.1 h
    each."""
    sc = enterprise()
    rows, teams = team_rows()
    table = compute(log_of(sc, rows, teams), sc).set_index(["period", "metric"])["value"]
    assert table[("total", "sdr_utilization")] == pytest.approx(0.4 / (6 * 176.0), rel=1e-12)


@pytest.fixture(scope="module")
def enterprise_run() -> tuple[Scenario, FunnelModel, dict[str, np.ndarray]]:
    """One replication of the enterprise preset over January 2026 after a 20-day warm-up."""
    sc = enterprise(months=1, warmup_days=20)
    model = FunnelModel(sc, Streams(replication_seed(3, 0)))
    return sc, model, model.run().columns()


def test_simulated_attempts_start_in_their_teams_local_hours(
    enterprise_run: tuple[Scenario, FunnelModel, dict[str, np.ndarray]],
) -> None:
    """In a simulated enterprise run, every attempt starts on a weekday between 09:00 and
    17:00 local time of the team that made it (converted here with zoneinfo, not the model's
    calendar), and both teams work."""
    sc, model, cols = enterprise_run
    att = cols["event"] == CODE["attempt"]
    zones = [ZoneInfo(t.calendar.timezone) for t in sc.teams]
    origin = model.origin
    per_team = np.bincount(cols["team"][att], minlength=len(zones))
    assert (per_team > 200).all(), per_team
    for team, t in zip(cols["team"][att].tolist(), cols["time_h"][att].tolist(), strict=True):
        local = (origin + timedelta(hours=t)).astimezone(zones[team])
        hour = local.hour + local.minute / 60 + local.second / 3600
        assert local.weekday() < 5, (team, local)
        assert 9.0 - 1e-6 <= hour < 17.0, (team, local)


def test_simulated_first_touch_breaches_agree_with_a_per_team_recount(
    enterprise_run: tuple[Scenario, FunnelModel, dict[str, np.ndarray]],
) -> None:
    """The first-touch breaches of a simulated enterprise run equal a recount made here, lead
    by lead, with each lead's team calendar, and both teams have met and breached episodes."""
    sc, model, _ = enterprise_run
    m = measure(model.log, sc)
    out = evaluate(m.episodes, sc.sla, m.calendars, observed_until=m.window.end_h)["first_touch"]
    ep = m.episodes
    h = sc.sla.first_touch_within_business_hours
    started = ~np.isnan(ep.mql)
    seen = {MET: set(), BREACHED: set()}
    for i in np.flatnonzero(started):
        cal = m.calendars[int(ep.team[i])]
        deadline = cal.add_business_hours(float(ep.mql[i]), h)
        touch = float(ep.first_attempt[i])
        if not math.isnan(touch):
            want = MET if touch <= deadline else BREACHED
        elif deadline <= m.window.end_h:
            want = BREACHED
        else:
            continue
        assert out.status[i] == want, (i, int(ep.team[i]))
        seen[want].add(int(ep.team[i]))
    assert seen[MET] == {0, 1}
    assert seen[BREACHED] == {0, 1}
