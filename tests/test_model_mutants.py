"""Hand-computed scenarios for the model's building blocks, written to pin exact behaviour
(event times, counts, routing tables, the layout of the random streams).

The event-loop tests replace the up-front lead draws (:func:`sla_sim.model.leads.draw_leads`)
with a handful of hand-made leads and, where recycling matters, the recycled-episode draws, so
every row of the event log can be worked out by hand: a UTC horizon starting on Monday
5 January 2026 00:00 (model hour 0), one SDR working Mon-Fri 09:00-17:00 UTC, attempts of 30
minutes stretched to 1 h by a shrinkage of 0.5, and a flat 50% chance of reaching a lead.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pytest

from sla_sim.calendar import BusinessCalendar, CalendarSpec
from sla_sim.events import EVENTS
from sla_sim.model import funnel
from sla_sim.model.funnel import FunnelModel
from sla_sim.model.leads import LEAD_FIELDS, WORK_FIELDS, LeadDraws
from sla_sim.scenario.distributions import Constant
from sla_sim.scenario.schema import (
    AESpec,
    ChannelSpec,
    ContactSpec,
    FollowUpSpec,
    HorizonSpec,
    NurtureSpec,
    Scenario,
    SLASpec,
    TeamSpec,
)
from sla_sim.streams import Streams, replication_seed

UTC_CAL = CalendarSpec(timezone="UTC")
END_H = (7 + 31) * 24.0  # warm-up week, then January 12 .. February 12
HOUR_0 = "2026-01-05 00:00 UTC, a Monday"


def channel(name: str, sql_rate: float, win_rate: float, cycle_days: float = 2.0,
            deal: float = 1000.0, segments: dict[str, float] | None = None) -> ChannelSpec:
    return ChannelSpec(name=name, leads_per_month=10.0, segment_mix=segments or {"smb": 1.0},
                       score_alpha=2.0, score_beta=2.0, sql_rate=sql_rate, win_rate=win_rate,
                       cycle_days=Constant(value=cycle_days), deal_value=Constant(value=deal))


def hand_scenario(**changes: Any) -> Scenario:
    """The hand-computable scenario (see the module docstring), with top-level fields
    replaced by ``changes``."""
    data: dict[str, Any] = {
        "horizon": HorizonSpec(measure_start=date(2026, 1, 12), measure_months=1,
                               warmup_days=7, timezone="UTC"),
        "channels": [channel("web", 0.3, 0.5),
                     channel("ads", 0.6, 0.25, cycle_days=3.0, deal=500.0)],
        "teams": [TeamSpec(name="sdr", reps=1, calendar=UTC_CAL, shrinkage=0.5,
                           max_active_leads=2)],
        "marketing_calendar": UTC_CAL,
        "follow_up": FollowUpSpec(cadence_days=[0.0, 1.0], attempt_minutes=Constant(value=30.0),
                                  contact=ContactSpec(p_initial=0.5, p_floor=0.5,
                                                      attempt_decay=1.0)),
        "nurture": NurtureSpec(max_days=30.0),
        "sla": SLASpec(attempts_required=1),
        "ae": AESpec(selling_hours_per_opportunity=0.0),  # the slot cap alone, at any hour
    }
    data.update(changes)
    return Scenario(**data)


# the per-lead fields of a hand-made lead and their defaults (ops 0: routed at its MQL)
def lead(**fields: Any) -> dict[str, Any]:
    """A hand-made lead: its creation time ``t`` and the draws that differ from the
    defaults."""
    return fields


LEAD_DEFAULTS = lead(channel=0, segment=0, score=80.0, ops=0.0, nurture=math.inf,
                     u_contact=(0.9, 0.9), work=(0.5, 0.5), u_q=0.99, u_d=0.99, cycle=48.0,
                     u_win=0.0, deal=1000.0)


def hand_draws(leads: list[dict[str, Any]]) -> LeadDraws:
    """LeadDraws for hand-made leads (sorted by creation time ``t``); the work draws are kept
    in reverse draw order, as ``order`` says, so that gathering by lead id is exercised."""
    full = [{**LEAD_DEFAULTS, **lead} for lead in leads]
    ts = [lead["t"] for lead in full]
    assert ts == sorted(ts)
    n = len(full)
    lead = {f: np.asarray([x[f] for x in full], dtype=np.int64 if f in ("channel", "segment")
                          else np.float64) for f in LEAD_FIELDS}
    order = np.arange(n)[::-1].copy()
    work = {f: np.asarray([x[f] for x in full][::-1], dtype=np.float64) for f in WORK_FIELDS}
    return LeadDraws(lead, [work], order)


class FakeRecycle:
    """Recycled-episode draws given by hand: ``(delay, u, work, ops)`` per recycled lead, in
    the order leads are recycled."""

    def __init__(self, episodes: list[tuple[float, list[float], list[float], float]]) -> None:
        self.episodes = episodes
        self.i = 0

    def next(self) -> tuple[float, int]:
        i = self.i
        self.i += 1
        return self.episodes[i][0], i

    def episode(self, handle: int) -> tuple[list[float], list[float], float]:
        _, u, work, ops = self.episodes[handle]
        return list(u), list(work), ops


def run_hand(sc: Scenario, leads: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
             recycle: FakeRecycle | None = None) -> FunnelModel:
    """Run ``sc`` with the hand-made leads (and recycled episodes, if given)."""
    draws = hand_draws(leads)
    monkeypatch.setattr(funnel, "draw_leads", lambda *args, **kw: draws)
    if recycle is not None:
        monkeypatch.setattr(funnel, "RecycleDraws", lambda *args, **kw: recycle)
    # the reference engine: these tests read its internals (reps, AE pool, recycle draws)
    model = FunnelModel(sc.model_copy(update={"engine": "simpy"}), Streams(replication_seed(1, 0)))
    model.run()
    return model


def log_rows(model: FunnelModel, *events: str) -> list[tuple[Any, ...]]:
    """Rows (lead, episode, time_h, event name, team, rep, attempt, value) in log order,
    of the given events (all if none); NaN values as None."""
    cols = model.log.columns()
    out = []
    for i in range(len(cols["lead"])):
        name = EVENTS[int(cols["event"][i])]
        if events and name not in events:
            continue
        v = float(cols["value"][i])
        out.append((int(cols["lead"][i]), int(cols["episode"][i]), float(cols["time_h"][i]), name,
                    int(cols["team"][i]), int(cols["rep"][i]), int(cols["attempt"][i]),
                    None if math.isnan(v) else v))
    return out


# ---------------------------------------------------------------------- the event loop by hand


def test_one_rep_timeline_with_queue_recycling_and_opportunities(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three leads on one rep holding at most 2 (cadence: days 0 and 1, each attempt 1 h of
    rep time). Lead 0 (MQL 08:00, ops 0.5 h) waits for the 09:00 opening, is missed, and is
    reached on its day-1 attempt (due Tue 09:00, started at 10:00 after lead 2's
    earlier-due attempt) and qualifies; lead 1 is reached at once and disqualified; lead 2
    queues (both slots taken), takes lead 1's slot at 11:00, is reached and recycled; its
    episode 2 (20 h later, ops 0.25 h) is routed at Tue 08:15, attempted at the 09:00
    opening, reached the next day and qualifies. Opportunities go to the least-loaded AE and
    close won after their cycle."""
    leads = [lead(t=8.0, ops=0.5, u_contact=(0.9, 0.1), u_q=0.0, cycle=48.0, u_win=0.0),
             lead(t=9.5, score=70.0, u_contact=(0.1, 0.9), u_q=0.99, u_d=0.0),
             lead(t=10.5, score=65.0, u_contact=(0.1, 0.9), u_q=0.99, u_d=0.99, cycle=48.0,
                  deal=700.0)]
    recycle = FakeRecycle([(20.0, [0.9, 0.1, 0.0, 0.0], [0.5, 0.25], 0.25)])
    model = run_hand(hand_scenario(), leads, monkeypatch, recycle)
    assert log_rows(model) == [
        (0, 0, 8.0, "created", -1, -1, -1, 80.0),
        (0, 1, 8.0, "mql", 0, -1, -1, None),
        (0, 1, 8.5, "routed", 0, -1, -1, None),
        (0, 1, 8.5, "assigned", 0, 0, -1, None),
        (0, 1, 9.0, "attempt", 0, 0, 0, 1.0),  # 30 min / (1 - 0.5)
        (1, 0, 9.5, "created", -1, -1, -1, 70.0),
        (1, 1, 9.5, "mql", 0, -1, -1, None),
        (1, 1, 9.5, "routed", 0, -1, -1, None),
        (1, 1, 9.5, "assigned", 0, 0, -1, None),
        (1, 1, 10.0, "attempt", 0, 0, 0, 1.0),
        (2, 0, 10.5, "created", -1, -1, -1, 65.0),
        (2, 1, 10.5, "mql", 0, -1, -1, None),
        (2, 1, 10.5, "routed", 0, -1, -1, None),  # both slots taken: queued
        (1, 1, 11.0, "contact", 0, 0, 0, None),
        (1, 1, 11.0, "disqualified", 0, 0, -1, None),
        (2, 1, 11.0, "assigned", 0, 0, -1, None),  # the freed slot
        (2, 1, 11.0, "attempt", 0, 0, 0, 1.0),
        (2, 1, 12.0, "contact", 0, 0, 0, None),
        (2, 1, 12.0, "recycled", 0, 0, -1, None),
        (2, 1, 12.0, "nurture", -1, -1, -1, None),
        (2, 2, 32.0, "mql", 0, -1, -1, None),
        (2, 2, 32.25, "routed", 0, -1, -1, None),
        (2, 2, 32.25, "assigned", 0, 0, -1, None),
        (2, 2, 33.0, "attempt", 0, 0, 0, 1.0),  # due 32.25, before lead 0's day-1 attempt
        (0, 1, 34.0, "attempt", 0, 0, 1, 1.0),  # due 9 + 24 = 33, the rep was busy
        (0, 1, 35.0, "contact", 0, 0, 1, None),
        (0, 1, 35.0, "sql", 0, 0, -1, None),
        (0, 1, 35.0, "opp_open", -1, 0, -1, None),
        (2, 2, 57.0, "attempt", 0, 0, 1, 0.5),  # the episode's own work draw
        (2, 2, 57.5, "contact", 0, 0, 1, None),
        (2, 2, 57.5, "sql", 0, 0, -1, None),
        (2, 2, 57.5, "opp_open", -1, 1, -1, None),  # AE 0 holds one: AE 1
        (0, 1, 83.0, "won", -1, 0, -1, 1000.0),
        (2, 2, 105.5, "won", -1, 1, -1, 700.0),
    ]
    assert model.state == [1, 3, 1]  # won, disqualified, won
    assert model.episode == [1, 1, 2]


# ---------------------------------------------------------------------- recycled-episode draws


def test_recycled_episode_draws_follow_the_recycle_streams_fixed_layout() -> None:
    """RecycleDraws reads its generator in chunks of 1024 episodes, each chunk drawn in a fixed
    order (the common-random-numbers contract): the nurture delays of leads starting
    ``recycle_score_points`` below the threshold, then A + 2 uniforms per episode, then A work
    times (minutes -> hours), then the ops delays; handles count 0, 1, ... within a chunk."""
    from sla_sim.model.recycle import CHUNK, RecycleDraws
    from sla_sim.scenario.distributions import LogNormal

    nurture = NurtureSpec(touch_interval_days=2.0, engage_probability=0.3,
                          score_lift_points=8.0, max_days=20.0, recycle_score_points=15.0)
    sc = hand_scenario(nurture=nurture, follow_up=FollowUpSpec(
        cadence_days=[0.0, 1.0, 3.0], attempt_minutes=LogNormal(mean=8.0, cv=0.6)))
    A = 3
    draws = RecycleDraws(sc, np.random.default_rng(5), A)
    rng = np.random.default_rng(5)
    expected = []
    for _chunk in range(2):
        need = 2  # ceil(15 / 8) engaging touches, at most 20 / 2 = 10 touches
        touch = need + rng.negative_binomial(need, 0.3, CHUNK)
        delay = np.where(touch <= 10, touch * 48.0, np.inf)
        u = rng.random((CHUNK, A + 2))
        work = sc.follow_up.attempt_minutes.sample(rng, CHUNK * A).reshape(CHUNK, A) / 60.0
        ops = sc.handoff.ops_delay_hours.sample(rng, CHUNK)
        expected += [(delay[i], i, u[i].tolist(), work[i].tolist(), ops[i]) for i in range(CHUNK)]
    assert np.isfinite([e[0] for e in expected]).any()
    for want in expected[:3] + expected[CHUNK - 2:CHUNK + 3]:
        d, handle = draws.next()
        assert (d, handle) == (want[0], want[1])
        u, work, ops = draws.episode(handle)
        assert u == want[2]
        assert work == want[3]
        assert ops == want[4]
        if handle == 2:  # skip to the end of the first chunk
            for _ in range(CHUNK - 5):
                draws.next()


# ---------------------------------------------------------------------- handoff schedules


def _utc_calendar(spec: CalendarSpec, end_h: float = 72.0) -> BusinessCalendar:
    from datetime import UTC, datetime

    return BusinessCalendar(spec, datetime(2026, 1, 5, tzinfo=UTC), end_h)  # a Monday


def test_daily_batches_cover_working_days_to_two_weeks_past_the_horizon() -> None:
    """Daily batches at 09:00 and 14:30 on the marketing calendar's working days (not its
    holidays), from the origin's local date through day floor((end + 14 d) / 24) + 1: for a
    3-day horizon from Monday 5 January, days 0..18 (to Friday 23 January)."""
    from sla_sim.model.handoff import HandoffSchedule
    from sla_sim.scenario.schema import HandoffSpec

    spec = HandoffSpec(mode="batch", batch_local_hours=[14.5, 9.0])
    cal = _utc_calendar(CalendarSpec(timezone="UTC", holidays=[date(2026, 1, 7)]))
    days = [d for d in range(19) if d % 7 < 5 and d != 2]  # Mon-Fri, not 7 January
    expected = [24.0 * d + h for d in days for h in (9.0, 14.5)]
    sched = HandoffSchedule(spec, cal, 72.0)
    assert sched.batches is not None
    assert sched.batches.tolist() == expected
    assert sched.batches.dtype == np.float64
    # an always-open marketing calendar batches every day, through day 18
    every_day = HandoffSchedule(spec, _utc_calendar(CalendarSpec(timezone="UTC",
                                                                 always_open=True)), 72.0)
    assert every_day.batches is not None
    assert every_day.batches.tolist() == [24.0 * d + h for d in range(19) for h in (9.0, 14.5)]
    # after the last batch: never routed
    assert sched.route_time(expected[-1] + 0.1) == math.inf
    assert sched.route_time(expected[-1]) == expected[-1]
    np.testing.assert_array_equal(sched.route_times(np.array([expected[-1] + 0.1, 9.0, 9.1])),
                                  [math.inf, 9.0, 14.5])


def test_daily_batches_start_on_the_origins_local_date_in_the_marketing_zone() -> None:
    """The horizon starts at 00:00 UTC, 23:00 the day before in the Azores (UTC-1): that
    local day's 23:30 batch is the first, half an hour after the origin."""
    from sla_sim.model.handoff import HandoffSchedule
    from sla_sim.scenario.schema import HandoffSpec

    spec = HandoffSpec(mode="batch", batch_local_hours=[23.5])
    cal = _utc_calendar(CalendarSpec(timezone="Atlantic/Azores", always_open=True))
    sched = HandoffSchedule(spec, cal, 72.0)
    assert sched.route_time(0.2) == 0.5
    assert sched.route_times(np.array([0.2, 0.5, 0.6])).tolist() == [0.5, 0.5, 24.5]


def test_every_n_hours_batches_run_two_weeks_past_the_horizon() -> None:
    """Batches every 4 h from the origin through end + 14 days (inclusive), then none."""
    from sla_sim.model.handoff import HandoffSchedule
    from sla_sim.scenario.schema import HandoffSpec

    spec = HandoffSpec(mode="batch", batch_every_hours=4.0)
    sched = HandoffSchedule(spec, _utc_calendar(UTC_CAL), 24.0)
    assert sched.batches is not None
    assert sched.batches.tolist() == [4.0 * k for k in range(91)]  # 0 .. 360 = 24 + 336
    assert sched.route_time(359.5) == 360.0
    assert sched.route_time(360.5) == math.inf
    assert sched.route_times(np.array([360.5, 0.0, 1.0])).tolist() == [math.inf, 0.0, 4.0]
    assert HandoffSchedule(HandoffSpec(), _utc_calendar(UTC_CAL), 24.0).batches is None


# ---------------------------------------------------------------------- routing table


def test_team_table_by_channel_by_segment_and_single() -> None:
    """The owning team of each (channel, segment): the team listing the channel
    (by_channel) or the segment (by_segment); the one team for ``single``."""
    from sla_sim.model.routing import segment_names, team_table
    from sla_sim.scenario.schema import RoutingSpec

    chans = [channel("web", 0.3, 0.5, segments={"smb": 0.5, "ent": 0.5}),
             channel("ads", 0.3, 0.5, segments={"mid": 0.7, "smb": 0.3}),
             channel("mail", 0.3, 0.5, segments={"ent": 1.0})]
    by_channel = hand_scenario(
        channels=chans, routing=RoutingSpec(team_rule="by_channel"),
        teams=[TeamSpec(name="a", reps=1, channels=["ads"]),
               TeamSpec(name="b", reps=1, channels=["web", "mail"])])
    assert segment_names(by_channel) == ["smb", "ent", "mid"]
    assert team_table(by_channel).tolist() == [[1, 1, 1], [0, 0, 0], [1, 1, 1]]
    by_segment = hand_scenario(
        channels=chans, routing=RoutingSpec(team_rule="by_segment"),
        teams=[TeamSpec(name="a", reps=1, segments=["ent"]),
               TeamSpec(name="b", reps=1, segments=["mid"]),
               TeamSpec(name="c", reps=1, segments=["smb"])])
    assert team_table(by_segment).tolist() == [[2, 0, 1]] * 3
    single = hand_scenario(channels=chans, teams=[TeamSpec(name="a", reps=1)])
    assert team_table(single).tolist() == [[0, 0, 0]] * 3
    assert team_table(single).dtype == np.int64


def test_team_table_marks_unserved_pairs_minus_one() -> None:
    """A (channel, segment) pair that no team lists has owner -1 (a stand-in scenario: a
    valid one serves every pair)."""
    from types import SimpleNamespace

    from sla_sim.model.routing import team_table

    chans = [SimpleNamespace(name="web", segment_mix={"smb": 1.0, "ent": 0.0}),
             SimpleNamespace(name="ads", segment_mix={"smb": 1.0})]
    sc: Any = SimpleNamespace(channels=chans, routing=SimpleNamespace(team_rule="by_segment"),
                              teams=[SimpleNamespace(channels=[], segments=["ent"])])
    assert team_table(sc).tolist() == [[-1, 0], [-1, 0]]
    sc.routing.team_rule = "by_channel"
    sc.teams = [SimpleNamespace(channels=["ads"], segments=[])]
    assert team_table(sc).tolist() == [[-1, -1], [0, 0]]


# ---------------------------------------------------------------------- contact curve


@pytest.mark.parametrize(("shape", "age", "expected_excess"), [
    ("exponential", 20.0, 0.25),  # 2 ** (-20 / 10)
    ("power", 30.0, 0.25),  # 1 / (1 + 30 / 10)
])  # fmt: skip
def test_contact_curve_exact_values(shape: str, age: float, expected_excess: float) -> None:
    """p = decay**k * (floor + (initial - floor) * f(age)), also for k beyond the table of
    precomputed powers (k >= 21)."""
    from sla_sim.model.sdr import contact_curve

    curve = contact_curve(ContactSpec(p_initial=0.6, p_floor=0.1, half_life_hours=10.0,
                                      shape=shape, attempt_decay=0.8))
    base = 0.1 + 0.5 * expected_excess
    for k in (0, 2, 20, 21, 25):
        assert curve(age, k) == pytest.approx(0.8**k * base, rel=1e-12), k


# ---------------------------------------------------------------------- nurture


def test_nurture_delays_replay_the_negative_binomial_touches() -> None:
    """need = max(ceil((T - s) / lift), 1) engaging touches; the touch of the need-th
    engagement is need + NegBin(need, p); within floor(max_days / interval) touches the delay
    is touch * interval days, else infinite."""
    from sla_sim.model.nurture import expiry_hours, nurture_delays

    spec = NurtureSpec(touch_interval_days=2.0, engage_probability=0.3, score_lift_points=8.0,
                       max_days=21.0)
    scores = np.array([60.0, 59.99, 52.0, 44.0, 10.0] * 40)
    delays = nurture_delays(scores, 60.0, spec, np.random.default_rng(3))
    need = np.array([1, 1, 1, 2, 7] * 40)
    touch = need + np.random.default_rng(3).negative_binomial(need, 0.3)
    expected = np.where(touch <= 10, touch * 48.0, np.inf)
    assert np.isinf(expected).any()
    assert (expected == 480.0).any()  # the tenth touch still counts
    np.testing.assert_array_equal(delays, expected)
    assert expiry_hours(spec) == 21.0 * 24


def test_nurture_touches_allowed_survive_float_rounding() -> None:
    """max_days 0.3 with touches every 0.1 day allows 3 touches (0.3 / 0.1 is 2.9999...): a
    lead needing 3 touches, each engaging, qualifies on the third (7.2 h), also alone; with
    one touch allowed, a lead needing one qualifies on it."""
    from sla_sim.model.nurture import nurture_delays

    spec = NurtureSpec(touch_interval_days=0.1, engage_probability=1.0, score_lift_points=8.0,
                       max_days=0.3)
    delays = nurture_delays(np.array([40.0, 35.0]), 60.0, spec, np.random.default_rng(0))
    assert delays[0] == pytest.approx(7.2)
    assert delays[1] == math.inf  # needs 4 touches: ceil(25 / 8)
    one = nurture_delays(np.array([40.0]), 60.0, spec, np.random.default_rng(0))
    assert one.tolist() == [delays[0]]  # a single lead too
    # one touch allowed (max_days = the interval): a lead one lift below qualifies on it
    single = NurtureSpec(touch_interval_days=2.0, engage_probability=1.0, max_days=2.0)
    assert nurture_delays(np.array([59.0, 40.0]), 60.0, single,
                          np.random.default_rng(0)).tolist() == [48.0, math.inf]


def _q(sql_rate: float, score: float) -> float:
    """P(qualify): sql_rate's log-odds plus 0.3 per 10 points above the reference 60."""
    return 1.0 / (1.0 + math.exp(-(math.log(sql_rate / (1 - sql_rate)) + 0.03 * (score - 60))))


def test_lead_fates_at_every_threshold_of_the_set_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten leads, one rep with room for all (attempts 1 h, reached on the first): the MQL
    threshold is inclusive; nurtured leads qualify after their delay or expire after
    max_days (30) unless that is at or after the horizon end (912 h); an MQL only counts,
    and a lead is only routed, strictly before the end; leads are routed in order of their
    routing time (ops delay), and the rep takes the earliest due attempt. Reached leads
    qualify when their uniform is below the channel's qualification probability (its
    sql_rate shifted by the score), else are disqualified below ``disqualify_share`` (0.5),
    else recycled; opportunities are won below the channel's win rate (web 0.5, ads 0.25),
    with the lead's deal value."""
    reach = (0.1, 0.9)
    leads = [lead(t=1.0, score=60.0, u_contact=reach),
             lead(t=2.0, score=59.0, nurture=30.0, u_contact=reach, u_q=_q(0.3, 59) - 1e-9,
                  u_win=0.49),
             lead(t=3.0, score=50.0),
             lead(t=4.0, score=90.0, ops=6.0, channel=1, u_contact=reach,
                  u_q=_q(0.6, 90) - 1e-9, u_win=0.24, deal=500.0),
             lead(t=5.0, score=90.0, u_contact=reach, u_q=_q(0.3, 90) + 1e-9, u_d=0.49),
             lead(t=6.0, score=80.0, u_contact=reach, u_d=0.5),
             lead(t=7.0, score=80.0, channel=1, u_contact=reach, u_q=0.0, u_win=0.25,
                  cycle=30.0),
             lead(t=192.0, score=50.0),
             lead(t=200.0, score=50.0, nurture=712.0),
             lead(t=900.0, score=80.0, ops=12.0)]
    sc = hand_scenario(teams=[TeamSpec(name="sdr", reps=1, calendar=UTC_CAL, shrinkage=0.5,
                                       max_active_leads=10)])
    model = run_hand(sc, leads, monkeypatch, FakeRecycle([(math.inf, [], [], 0.0)] * 2))
    assert log_rows(model) == [
        (0, 0, 1.0, "created", -1, -1, -1, 60.0),
        (0, 1, 1.0, "mql", 0, -1, -1, None),  # score == threshold: an MQL at once
        (0, 1, 1.0, "routed", 0, -1, -1, None),
        (0, 1, 1.0, "assigned", 0, 0, -1, None),
        (1, 0, 2.0, "created", -1, -1, -1, 59.0),
        (1, 0, 2.0, "nurture", -1, -1, -1, None),  # below: nurtured, an MQL 30 h later
        (2, 0, 3.0, "created", -1, -1, -1, 50.0),
        (2, 0, 3.0, "nurture", -1, -1, -1, None),
        (3, 0, 4.0, "created", -1, -1, -1, 90.0),
        (3, 1, 4.0, "mql", 0, -1, -1, None),  # ops 6 h: routed at 10:00, after lead 4
        (4, 0, 5.0, "created", -1, -1, -1, 90.0),
        (4, 1, 5.0, "mql", 0, -1, -1, None),
        (4, 1, 5.0, "routed", 0, -1, -1, None),
        (4, 1, 5.0, "assigned", 0, 0, -1, None),
        (5, 0, 6.0, "created", -1, -1, -1, 80.0),
        (5, 1, 6.0, "mql", 0, -1, -1, None),
        (5, 1, 6.0, "routed", 0, -1, -1, None),
        (5, 1, 6.0, "assigned", 0, 0, -1, None),
        (6, 0, 7.0, "created", -1, -1, -1, 80.0),
        (6, 1, 7.0, "mql", 0, -1, -1, None),
        (6, 1, 7.0, "routed", 0, -1, -1, None),
        (6, 1, 7.0, "assigned", 0, 0, -1, None),
        (0, 1, 9.0, "attempt", 0, 0, 0, 1.0),  # earliest due first: leads 0, 4, 5, 6, then 3
        (3, 1, 10.0, "routed", 0, -1, -1, None),
        (3, 1, 10.0, "assigned", 0, 0, -1, None),
        (0, 1, 10.0, "contact", 0, 0, 0, None),
        (0, 1, 10.0, "recycled", 0, 0, -1, None),
        (0, 1, 10.0, "nurture", -1, -1, -1, None),
        (4, 1, 10.0, "attempt", 0, 0, 0, 1.0),
        (4, 1, 11.0, "contact", 0, 0, 0, None),
        (4, 1, 11.0, "disqualified", 0, 0, -1, None),  # u_q just above q, u_d 0.49 < 0.5
        (5, 1, 11.0, "attempt", 0, 0, 0, 1.0),
        (5, 1, 12.0, "contact", 0, 0, 0, None),
        (5, 1, 12.0, "recycled", 0, 0, -1, None),  # u_d == disqualify_share: recycled
        (5, 1, 12.0, "nurture", -1, -1, -1, None),
        (6, 1, 12.0, "attempt", 0, 0, 0, 1.0),
        (6, 1, 13.0, "contact", 0, 0, 0, None),
        (6, 1, 13.0, "sql", 0, 0, -1, None),  # ads: sql_rate 0.6
        (6, 1, 13.0, "opp_open", -1, 0, -1, None),
        (3, 1, 13.0, "attempt", 0, 0, 0, 1.0),
        (3, 1, 14.0, "contact", 0, 0, 0, None),
        (3, 1, 14.0, "sql", 0, 0, -1, None),
        (3, 1, 14.0, "opp_open", -1, 1, -1, None),
        (1, 1, 32.0, "mql", 0, -1, -1, None),
        (1, 1, 32.0, "routed", 0, -1, -1, None),
        (1, 1, 32.0, "assigned", 0, 0, -1, None),
        (1, 1, 33.0, "attempt", 0, 0, 0, 1.0),
        (1, 1, 34.0, "contact", 0, 0, 0, None),
        (1, 1, 34.0, "sql", 0, 0, -1, None),
        (1, 1, 34.0, "opp_open", -1, 2, -1, None),
        (6, 1, 43.0, "lost", -1, 0, -1, None),  # u_win == win_rate 0.25: lost
        (3, 1, 62.0, "won", -1, 1, -1, 500.0),  # u_win 0.24 < 0.25
        (1, 1, 82.0, "won", -1, 2, -1, 1000.0),  # u_win 0.49 < 0.5
        (7, 0, 192.0, "created", -1, -1, -1, 50.0),
        (7, 0, 192.0, "nurture", -1, -1, -1, None),  # expiry would be at 912 = end: none
        (8, 0, 200.0, "created", -1, -1, -1, 50.0),
        (8, 0, 200.0, "nurture", -1, -1, -1, None),  # an MQL at 912 = end: none
        (2, 0, 723.0, "nurture_expired", -1, -1, -1, None),  # 3 + 30 days
        (0, 1, 730.0, "nurture_expired", -1, -1, -1, None),  # recycled at 10, never re-qualifies
        (5, 1, 732.0, "nurture_expired", -1, -1, -1, None),
        (9, 0, 900.0, "created", -1, -1, -1, 80.0),
        (9, 1, 900.0, "mql", 0, -1, -1, None),  # routed at 900 + 12 = end: never
    ]
    # expired, won, expired, won, disqualified, expired, lost; the last three in flight
    assert model.state == [4, 1, 4, 1, 3, 4, 2, 0, 0, 0]
    assert model.episode == [1, 1, 0, 1, 1, 1, 1, 0, 0, 1]


# ---------------------------------------------------------------------- arrivals and lead draws


def test_hour_grid_across_the_spring_dst_change() -> None:
    """From Saturday 7 March 2026 22:00 New York, 30 clock hours: local hours skip 02:00 on
    Sunday (DST starts), weekdays Sat=5, Sun=6, Mon=0, local day index 0, 1, 2, month March
    = 2 (0 = January)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sla_sim.model.arrivals import hour_grid

    grid = hour_grid(datetime(2026, 3, 7, 22, tzinfo=ZoneInfo("America/New_York")), 30)
    assert grid.hour.tolist() == [22, 23, 0, 1, *range(3, 24), 0, 1, 2, 3, 4]
    assert grid.weekday.tolist() == [5] * 2 + [6] * 23 + [0] * 5
    assert grid.day.tolist() == [0] * 2 + [1] * 23 + [2] * 5
    assert grid.month.tolist() == [2] * 30
    for a in (grid.hour, grid.weekday, grid.day, grid.month):
        assert a.dtype == np.int64


def test_base_profile_multiplies_the_normalised_weights() -> None:
    """Rate factor of an hour = weekday weight / mean x hour weight / mean x month weight /
    mean: Saturday (6 of mean 4) at 22:00 (1 of mean 25/24) in March (4 of mean 1.25) is
    1.5 x 0.96 x 3.2."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sla_sim.model.arrivals import base_profile, hour_grid
    from sla_sim.scenario.schema import ArrivalProfile

    profile = ArrivalProfile(weekday_weights=[1, 2, 3, 4, 5, 6, 7],
                             hour_weights=[1.0] * 23 + [2.0],
                             month_weights=[1, 1, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    sc = hand_scenario(arrivals=profile)
    grid = hour_grid(datetime(2026, 3, 7, 22, tzinfo=ZoneInfo("America/New_York")), 3)
    # Sat 22:00, Sat 23:00 (hour weight 2), Sun 00:00 (weekday 7)
    expected = [1.5 * 0.96 * 3.2, 1.5 * 1.92 * 3.2, 1.75 * 0.96 * 3.2]
    np.testing.assert_allclose(base_profile(sc, grid), expected, rtol=1e-12)


def test_channel_rate_applies_its_own_bursts_on_whole_hours() -> None:
    """A burst multiplies the rate from the hour containing its start to the hour containing
    its end (floor, ceil); another channel's burst does not apply."""
    from sla_sim.model.arrivals import HOURS_PER_MONTH, channel_rate
    from sla_sim.scenario.schema import ArrivalProfile, Burst

    assert HOURS_PER_MONTH == 365.25 / 12 * 24
    web = channel("web", 0.3, 0.5).model_copy(update={"leads_per_month": 2 * HOURS_PER_MONTH})
    bursts = [Burst(channel="web", start_day=0.5, duration_days=0.3, multiplier=3.0),
              Burst(channel="ads", start_day=0.0, duration_days=1.0, multiplier=9.0),
              Burst(channel="web", start_day=1.1, duration_days=0.1, multiplier=0.5)]
    sc = hand_scenario(channels=[web, channel("ads", 0.3, 0.5)],
                       arrivals=ArrivalProfile(bursts=bursts))
    rate = channel_rate(sc, 0, np.ones(36))
    expected = np.full(36, 2.0)
    expected[12:20] = 6.0  # hours 12 .. 19.2
    expected[26:29] = 1.0  # hours 26.4 .. 28.8
    np.testing.assert_allclose(rate, expected, rtol=1e-12)


@pytest.mark.parametrize("cv", [0.0, 0.25])
def test_channel_arrivals_replay_their_named_stream(cv: float) -> None:
    """Arrivals of channel ``web`` come from stream ``arrivals:web``: a gamma(1/cv^2,
    cv^2) multiplier per local day (only when cv > 0), Poisson counts per hour, uniform times
    within the hour; sorted, and only those before the end."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sla_sim.model.arrivals import channel_rate, draw_channel_arrivals, hour_grid
    from sla_sim.scenario.schema import ArrivalProfile

    web = channel("web", 0.3, 0.5).model_copy(update={"leads_per_month": 3000.0})
    sc = hand_scenario(channels=[web, channel("ads", 0.3, 0.5)],
                       arrivals=ArrivalProfile(daily_volume_cv=cv))
    grid = hour_grid(datetime(2026, 1, 5, 20, tzinfo=ZoneInfo("America/New_York")), 51)
    profile = np.linspace(0.5, 1.5, 51)
    times = draw_channel_arrivals(sc, 0, profile, grid,
                                  Streams(replication_seed(4, 0)), 50.5)
    rng = Streams(replication_seed(4, 0))("arrivals:web")
    rate = channel_rate(sc, 0, profile)
    if cv > 0:
        mult = rng.gamma(1 / cv**2, cv**2, size=3)  # local days 0, 1, 2
        rate = rate * mult[grid.day]
    counts = rng.poisson(rate)
    want = np.sort(np.repeat(np.arange(51.0), counts) + rng.random(counts.sum()))
    assert want[-1] > 50.5  # some fall in the last half hour: cut
    np.testing.assert_array_equal(times, want[want < 50.5])


def test_lead_draws_replay_each_channels_named_streams() -> None:
    """Every per-lead draw comes from the channel's own named stream (``score:web``,
    ``segment:web``, ``nurture:web``, ``handoff:web``, ``contact:web``, ``work:web``,
    ``qualify:web``, ``cycle:web``, ``win:web``, ``deal:web``); lead fields are sorted by
    creation time (ties: channel order), work fields stay in draw order with ``order``.
    Segment shares summing to 1 within the scenario's tolerance are normalised; a lead
    scoring exactly the threshold is not nurtured (the threshold is set to the web
    lead's score closest to 55)."""
    from datetime import UTC, datetime

    from sla_sim.model import arrivals
    from sla_sim.model.leads import draw_leads
    from sla_sim.model.nurture import nurture_delays
    from sla_sim.scenario.distributions import Gamma, LogNormal

    web = channel("web", 0.3, 0.5, segments={"smb": 0.25, "ent": 0.7500005}).model_copy(
        update={"leads_per_month": 2000.0, "cycle_days": Gamma(mean=30.0, cv=0.5),
                "deal_value": LogNormal(mean=1000.0, cv=0.5)})
    ads = channel("ads", 0.3, 0.5, segments={"ent": 1.0}).model_copy(
        update={"leads_per_month": 1000.0, "score_alpha": 3.0, "score_beta": 2.0})
    follow = FollowUpSpec(cadence_days=[0.0, 1.0, 2.0],
                          attempt_minutes=LogNormal(mean=8.0, cv=0.6))
    sc = hand_scenario(channels=[web, ads], follow_up=follow,
                       nurture=NurtureSpec(engage_probability=0.5, max_days=30.0))
    origin, end_h, A = datetime(2026, 1, 5, tzinfo=UTC), 100.0, 3
    st = Streams(replication_seed(2, 0))
    grid = arrivals.hour_grid(origin, 100)
    profile = arrivals.base_profile(sc, grid)
    n_web = len(arrivals.draw_channel_arrivals(sc, 0, profile, grid,
                                               Streams(replication_seed(2, 0)), end_h))
    web_scores = 100.0 * Streams(replication_seed(2, 0))("score:web").beta(2.0, 2.0, n_web)
    T = float(web_scores[np.argmin(abs(web_scores - 55.0))])
    draws = draw_leads(sc, Streams(replication_seed(2, 0)), ["smb", "ent"], T, A, origin,
                       end_h)
    parts: dict[str, list[Any]] = {k: [] for k in (*LEAD_FIELDS, *WORK_FIELDS)}
    for c, (ch, segs) in enumerate([(web, [0, 1]), (ads, [1])]):
        n = len(t := arrivals.draw_channel_arrivals(sc, c, profile, grid, st, end_h))
        score = 100.0 * st(f"score:{ch.name}").beta(ch.score_alpha, ch.score_beta, n)
        probs = np.asarray(list(ch.segment_mix.values()))
        nd = np.full(n, np.inf)
        nd[score < T] = nurture_delays(score[score < T], T, sc.nurture,
                                       st(f"nurture:{ch.name}"))
        uq = st(f"qualify:{ch.name}").random((n, 2))
        new = {"t": t, "channel": np.full(n, c), "score": score, "nurture": nd,
               "segment": st(f"segment:{ch.name}").choice(segs, size=n,
                                                           p=probs / probs.sum()),
               "ops": sc.handoff.ops_delay_hours.sample(st(f"handoff:{ch.name}"), n),
               "u_contact": st(f"contact:{ch.name}").random((n, A)),
               "work": follow.attempt_minutes.sample(st(f"work:{ch.name}"), n * A)
               .reshape(n, A) / 60.0,
               "u_q": uq[:, 0], "u_d": uq[:, 1],
               "cycle": ch.cycle_days.sample(st(f"cycle:{ch.name}"), n) * 24,
               "u_win": st(f"win:{ch.name}").random(n),
               "deal": ch.deal_value.sample(st(f"deal:{ch.name}"), n)}
        for k, v in new.items():
            parts[k].append(v)
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    order = np.argsort(cat["t"], kind="stable")
    assert draws.n == len(order) > 100
    assert np.isfinite(cat["nurture"]).any()
    assert T in cat["score"]
    assert 20 < (cat["score"] < T).sum() < len(order) - 20
    assert set(cat["segment"].tolist()) == {0, 1}
    np.testing.assert_array_equal(draws.order, order)
    for k in LEAD_FIELDS:
        np.testing.assert_array_equal(draws.lead[k], cat[k][order], err_msg=k)
        assert draws.lead[k].dtype == (np.int64 if k in ("channel", "segment")
                                       else np.float64), k
    for k in WORK_FIELDS:
        np.testing.assert_array_equal(draws.work[k], cat[k], err_msg=k)
    some = np.array([5, 0, 17])
    gathered = draws.gather(some)
    for k in WORK_FIELDS:
        np.testing.assert_array_equal(gathered[k], cat[k][order[some]], err_msg=k)


def run_sqls(monkeypatch: pytest.MonkeyPatch, cycles: list[float], last_t: float,
             ae: AESpec) -> FunnelModel:  # fmt: skip
    """Six leads created at 9.0, 9.1, 9.2, 9.3, 33 and ``last_t`` h, each reached at its first
    1-h attempt by one UTC rep (SQLs at 10, 11, 12, 13, 34 and ``last_t`` + 1 h), lead 3 lost,
    with sales cycles of ``cycles`` hours, handed to the AEs ``ae``."""
    leads = [lead(t=t, u_contact=(0.1, 0.9), u_q=0.0, cycle=c) for t, c in zip(
        [9.0, 9.1, 9.2, 9.3, 33.0, last_t], cycles, strict=True)]  # fmt: skip
    leads[3]["u_win"] = 0.9
    sc = hand_scenario(teams=[TeamSpec(name="sdr", reps=1, calendar=UTC_CAL, shrinkage=0.5,
                                       max_active_leads=10)], ae=ae)  # fmt: skip
    return run_hand(sc, leads, monkeypatch)


def test_ae_slots_queue_and_free_on_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two AEs with one open opportunity each; SQLs at 10, 11, 12, 13 h (one rep, reached
    at the first 1-h attempt). The first two open at once (AE 0, then the least-loaded AE 1);
    the next two wait, first come first served, and each opens when AE 0's opportunity
    closes; later SQLs find the slots freed and go to AE 0 (the first of the least loaded).
    An opportunity due to close exactly at the horizon end (912 h) stays open."""
    model = run_sqls(monkeypatch, [5.0, 20.0, 1.0, 2.0, 2.0, 854.0], 57.0,
                     AESpec(count=2, max_open_opportunities=1, selling_hours_per_opportunity=0.0))
    assert log_rows(model, "sql", "opp_open", "won", "lost") == [
        (0, 1, 10.0, "sql", 0, 0, -1, None),
        (0, 1, 10.0, "opp_open", -1, 0, -1, None),
        (1, 1, 11.0, "sql", 0, 0, -1, None),
        (1, 1, 11.0, "opp_open", -1, 1, -1, None),
        (2, 1, 12.0, "sql", 0, 0, -1, None),  # both AEs full: waits
        (3, 1, 13.0, "sql", 0, 0, -1, None),
        (0, 1, 15.0, "won", -1, 0, -1, 1000.0),
        (2, 1, 15.0, "opp_open", -1, 0, -1, None),
        (2, 1, 16.0, "won", -1, 0, -1, 1000.0),
        (3, 1, 16.0, "opp_open", -1, 0, -1, None),
        (3, 1, 18.0, "lost", -1, 0, -1, None),
        (1, 1, 31.0, "won", -1, 1, -1, 1000.0),
        (4, 1, 34.0, "sql", 0, 0, -1, None),
        (4, 1, 34.0, "opp_open", -1, 0, -1, None),  # both free again
        (4, 1, 36.0, "won", -1, 0, -1, 1000.0),
        (5, 1, 58.0, "sql", 0, 0, -1, None),
        (5, 1, 58.0, "opp_open", -1, 0, -1, None),  # closes at 58 + 854 = 912: never
    ]
    assert model.state == [1, 1, 1, 2, 1, 0]
    assert model.ae.open == [1, 0]
    assert not model.ae.queue


def test_ae_selling_hours_on_the_ae_calendar(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two AEs, 2 selling hours an opportunity at a selling share of 0.5: 4 business hours of
    the AE calendar (UTC 9-17) each, one opportunity at a time per AE. SQLs at 10, 11, 12, 13 h:
    the first two open at once, the next two wait and open when an AE's hours end (14 h,
    15 h), their 4 hours running over the night into Tuesday (34 h, 35 h). A cycle shorter
    than the selling hours closes when they end (leads 2, 3 and 4). An SQL at 17:30 on Tuesday
    (41.5 h) opens at Wednesday 09:00 (57 h), with the first of the equally loaded AEs; its
    close at the horizon end (57 + 855 = 912 h) never comes."""
    model = run_sqls(monkeypatch, [5.0, 20.0, 1.0, 0.5, 2.0, 855.0], 40.5,
                     AESpec(count=2, max_open_opportunities=5, calendar=UTC_CAL,
                            selling_hours_per_opportunity=2.0, selling_share=0.5))
    assert log_rows(model, "sql", "opp_open", "won", "lost") == [
        (0, 1, 10.0, "sql", 0, 0, -1, None),
        (0, 1, 10.0, "opp_open", -1, 0, -1, 4.0),
        (1, 1, 11.0, "sql", 0, 0, -1, None),
        (1, 1, 11.0, "opp_open", -1, 1, -1, 4.0),
        (2, 1, 12.0, "sql", 0, 0, -1, None),  # both AEs selling: waits
        (3, 1, 13.0, "sql", 0, 0, -1, None),
        (2, 1, 14.0, "opp_open", -1, 0, -1, 4.0),  # AE 0's 4 hours on lead 0 end
        (0, 1, 15.0, "won", -1, 0, -1, 1000.0),
        (3, 1, 15.0, "opp_open", -1, 1, -1, 4.0),
        (1, 1, 31.0, "won", -1, 1, -1, 1000.0),
        (2, 1, 34.0, "won", -1, 0, -1, 1000.0),  # 14 + 1 h < 34 (3 h Monday, 1 h Tuesday)
        (4, 1, 34.0, "sql", 0, 0, -1, None),
        (4, 1, 34.0, "opp_open", -1, 0, -1, 4.0),  # AE 0 free again at 34
        (3, 1, 35.0, "lost", -1, 1, -1, None),
        (4, 1, 38.0, "won", -1, 0, -1, 1000.0),  # 34 + 2 h < 38
        (5, 1, 41.5, "sql", 0, 0, -1, None),
        (5, 1, 57.0, "opp_open", -1, 0, -1, 4.0),
    ]
    assert model.ae.open == [1, 0]
    assert model.ae.busy == [False, False]


# ---------------------------------------------------------------------- reconciliation


def _ledger(rows: list[tuple[int, str]], states: list[int], n: int | None = None) -> Any:
    """A stand-in model for :func:`reconcile`: ``n`` leads (default: one per state), their
    states and a log of (lead, event) rows."""
    from types import SimpleNamespace

    from sla_sim.events import CODE, EventLog

    log = EventLog(["web"], ["smb"], ["sdr"])
    log.rows = [(lead, 1, float(i), CODE[ev], -1, -1, -1, math.nan)
                for i, (lead, ev) in enumerate(rows)]
    return SimpleNamespace(state=states, n_leads=len(states) if n is None else n, log=log)


def test_reconcile_counts_terminal_states() -> None:
    """Leads won, in flight, lost, disqualified and expired reconcile to one count each;
    so do leads all in flight (no terminal row) and no leads at all."""
    from sla_sim.model.reconcile import reconcile

    rows = [(0, "created"), (1, "created"), (2, "created"), (3, "created"), (4, "created"),
            (0, "won"), (2, "lost"), (3, "disqualified"), (4, "nurture_expired")]
    assert reconcile(_ledger(rows, [1, 0, 2, 3, 4])) == {
        "in_flight": 1, "won": 1, "lost": 1, "disqualified": 1, "nurture_expired": 1}
    assert reconcile(_ledger([(0, "created"), (1, "created")], [0, 0]))["in_flight"] == 2
    assert reconcile(_ledger([], [])) == dict.fromkeys(
        ("in_flight", "won", "lost", "disqualified", "nurture_expired"), 0)


@pytest.mark.parametrize(("rows", "states", "n", "message"), [
    ([(0, "created")], [5], 1, "a lead has no valid terminal state"),
    ([(0, "created")], [-1], 1, "a lead has no valid terminal state"),
    ([(0, "created")], [0, 0], 1, "a lead has no valid terminal state"),
    ([(0, "created"), (0, "created")], [0], 1, "2 'created' events for 1 leads"),
    ([(0, "created"), (0, "created")], [0, 0], 2, "2 'created' events for 2 leads"),
    ([(0, "created"), (1, "created")], [0], 1, "2 'created' events for 1 leads"),
    ([(0, "created"), (1, "created"), (1, "lost"), (1, "won")], [0, 2], 2,
     "lead 1 has 2 terminal events"),
    ([(0, "created"), (1, "created"), (1, "lost")], [0, 1], 2,
     "lead 1: state 'won' but terminal event code 12 in the log (1 leads disagree)"),
    ([(0, "created"), (1, "created"), (0, "disqualified")], [4, 1], 2,
     "lead 0: state 'nurture_expired' but terminal event code 8 in the log (2 leads "
     "disagree)"),
])  # fmt: skip
def test_reconcile_names_the_first_inconsistency(rows: list[tuple[int, str]],
                                                 states: list[int], n: int,
                                                 message: str) -> None:
    """Each inconsistency between lead states and the log raises ReconciliationError with
    the exact message."""
    from sla_sim.errors import ReconciliationError
    from sla_sim.model.reconcile import reconcile

    with pytest.raises(ReconciliationError) as err:
        reconcile(_ledger(rows, states, n))
    assert str(err.value) == message


@pytest.mark.parametrize(("values", "distinct"), [
    ([], True), ([2, 0, 1], True), ([0, 1, 1], False), ([0, 0], False), ([1, 2, 9], True),
    ([9, 9, 0], False), ([-1, 0, 1], True), ([-1, -1, 0], False), ([2, 2, 2], False),
])  # fmt: skip
def test_all_distinct(values: list[int], distinct: bool) -> None:
    """Pairwise distinct integers, in or out of [0, len)."""
    from sla_sim.model.reconcile import _all_distinct

    assert _all_distinct(np.asarray(values, dtype=np.int64)) is distinct


def test_terminal_counts_name_every_state() -> None:
    from sla_sim.model.reconcile import terminal_counts

    assert terminal_counts(np.array([4, 4, 1, 0, 3])) == {
        "in_flight": 1, "won": 1, "lost": 0, "disqualified": 1, "nurture_expired": 2}


# ---------------------------------------------------------------------- event-loop plumbing


def test_call_is_a_timeout_with_one_callback_and_a_value() -> None:
    """A Call fires ``delay`` hours later with its value, in creation order at equal times,
    like ``env.timeout``."""
    import simpy

    from sla_sim.model.calls import Call

    env = simpy.Environment(initial_time=2.0)
    seen: list[tuple[float, Any]] = []
    Call(env, 3.0, lambda e: seen.append((env.now, e.value)), "b")
    Call(env, 1.5, lambda e: seen.append((env.now, e.value)))
    Call(env, 3.0, lambda e: seen.append((env.now, e.value)), "c")
    env.timeout(3.0).callbacks.append(lambda e: seen.append((env.now, "timeout")))
    described = Call(env, 1.5, lambda e: None, "d")
    assert described.env is env  # the same event attributes as env.timeout(1.5, "d")
    assert repr(described).startswith("<Call(1.5, value=d) object")
    env.run()
    assert seen == [(3.5, None), (5.0, "b"), (5.0, "c"), (5.0, "timeout")]


def test_gc_paused_restores_the_collector_state() -> None:
    import gc

    from sla_sim.model.calls import gc_paused

    was = gc.isenabled()
    try:
        gc.enable()
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled()
        with pytest.raises(KeyError), gc_paused():
            raise KeyError("x")
        assert gc.isenabled()
        gc.disable()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def test_reach_depends_on_the_age_at_the_attempts_start_and_its_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P(reach) = 0.5**k x 0.8 x 2**(-age / 12 h), age from the MQL to the attempt's start;
    attempts k = 1, 2 fall due 1 and 2 days after the first attempt started. Lead 0 (MQL
    1:00, attempt at 9:00, age 8 h: p 0.504) is reached with u = 0.48 (at age 9 h p would be
    0.476); lead 2's second attempt (MQL 2:00, start 35:00, age 33 h: p 0.0595) with u =
    0.059; lead 1 is never reached and is recycled when its last attempt ends."""
    contact = ContactSpec(p_initial=0.8, p_floor=0.0, half_life_hours=12.0, attempt_decay=0.5)
    follow = FollowUpSpec(cadence_days=[0.0, 1.0, 2.0], attempt_minutes=Constant(value=30.0),
                          contact=contact)
    sc = hand_scenario(follow_up=follow, teams=[TeamSpec(name="sdr", reps=1, calendar=UTC_CAL,
                                                         shrinkage=0.5, max_active_leads=10)])
    leads = [lead(t=1.0, u_contact=(0.48, 0.9, 0.9), u_q=0.0, work=(0.5, 0.5, 0.5)),
             lead(t=1.5, u_contact=(0.9, 0.9, 0.9), work=(0.5, 0.25, 0.75)),
             lead(t=2.0, u_contact=(0.9, 0.059, 0.9), u_q=0.0, work=(0.5, 0.5, 0.5))]
    model = run_hand(sc, leads, monkeypatch, FakeRecycle([(math.inf, [], [], 0.0)]))
    assert log_rows(model, "attempt", "contact", "sql", "recycled", "nurture_expired") == [
        (0, 1, 9.0, "attempt", 0, 0, 0, 1.0),
        (0, 1, 10.0, "contact", 0, 0, 0, None),
        (0, 1, 10.0, "sql", 0, 0, -1, None),
        (1, 1, 10.0, "attempt", 0, 0, 0, 1.0),
        (2, 1, 11.0, "attempt", 0, 0, 0, 1.0),
        (1, 1, 34.0, "attempt", 0, 0, 1, 0.5),  # due 10 + 24
        (2, 1, 35.0, "attempt", 0, 0, 1, 1.0),  # due 11 + 24
        (2, 1, 36.0, "contact", 0, 0, 1, None),
        (2, 1, 36.0, "sql", 0, 0, -1, None),
        (1, 1, 58.0, "attempt", 0, 0, 2, 1.5),  # due 10 + 48
        (1, 1, 59.5, "recycled", 0, 0, -1, None),  # the cadence is exhausted
        (1, 1, 779.5, "nurture_expired", -1, -1, -1, None),
    ]
    assert model.state == [1, 4, 1]


def test_recycled_leads_whose_next_step_falls_at_the_end_stay_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lead 0's 8-h attempt (Mon 16:00, run past closing) ends at 192 h and recycles it
    never to re-qualify: it would expire 30 days later, at 912 h, the horizon end, so it
    does not. Lead 1, recycled at 202 h, would re-qualify 710 h later, also at the end: no
    new episode. Both end in flight."""
    reach = (0.1, 0.9)
    leads = [lead(t=184.0, u_contact=reach, work=(4.0, 0.5)),
             lead(t=200.0, u_contact=reach)]
    recycle = FakeRecycle([(math.inf, [], [], 0.0), (710.0, [0.9, 0.9, 0.0, 0.0], [0.5, 0.5],
                                                     0.0)])
    model = run_hand(hand_scenario(), leads, monkeypatch, recycle)
    assert log_rows(model, "mql", "attempt", "contact", "recycled", "nurture",
                    "nurture_expired") == [
        (0, 1, 184.0, "mql", 0, -1, -1, None),
        (0, 1, 184.0, "attempt", 0, 0, 0, 8.0),
        (0, 1, 192.0, "contact", 0, 0, 0, None),
        (0, 1, 192.0, "recycled", 0, 0, -1, None),
        (0, 1, 192.0, "nurture", -1, -1, -1, None),
        (1, 1, 200.0, "mql", 0, -1, -1, None),
        (1, 1, 201.0, "attempt", 0, 0, 0, 1.0),
        (1, 1, 202.0, "contact", 0, 0, 0, None),
        (1, 1, 202.0, "recycled", 0, 0, -1, None),
        (1, 1, 202.0, "nurture", -1, -1, -1, None),
    ]
    assert model.state == [0, 0]
    assert model.episode == [1, 1]


def test_priority_channel_is_served_first_from_the_team_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ``priority_by: channel`` and ads listed first, the team runs the policy code:
    one rep holding one lead at a time; a web lead (9:12) and then an ads lead (9:24) wait;
    when the first lead is disqualified at 10:00 the ads lead takes the slot. The fast engine,
    which covers priority classes, writes the same rows."""
    from sla_sim.scenario.schema import RoutingSpec

    reach = (0.1, 0.9)
    leads = [lead(t=9.0, u_contact=reach, u_d=0.0),
             lead(t=9.2, u_contact=reach, u_d=0.0),
             lead(t=9.4, channel=1, u_contact=reach, u_d=0.0)]
    sc = hand_scenario(teams=[TeamSpec(name="sdr", reps=1, calendar=UTC_CAL, shrinkage=0.5,
                                       max_active_leads=1)],
                       routing=RoutingSpec(priority_by="channel", priority_order=["ads"]))
    model = run_hand(sc, leads, monkeypatch)
    assert log_rows(model, "routed", "assigned", "disqualified") == [
        (0, 1, 9.0, "routed", 0, -1, -1, None),
        (0, 1, 9.0, "assigned", 0, 0, -1, None),
        (1, 1, 9.2, "routed", 0, -1, -1, None),
        (2, 1, 9.4, "routed", 0, -1, -1, None),
        (0, 1, 10.0, "disqualified", 0, 0, -1, None),
        (2, 1, 10.0, "assigned", 0, 0, -1, None),  # ads first
        (2, 1, 11.0, "disqualified", 0, 0, -1, None),
        (1, 1, 11.0, "assigned", 0, 0, -1, None),
        (1, 1, 12.0, "disqualified", 0, 0, -1, None),
    ]
    fast = FunnelModel(sc.model_copy(update={"engine": "fast"}), Streams(replication_seed(1, 0)))
    fast.run()  # the hand-made leads are still patched in
    assert fast.engine == "fast"
    assert log_rows(fast, "routed", "assigned", "attempt", "disqualified") == log_rows(
        model, "routed", "assigned", "attempt", "disqualified")


def test_recycled_episode_starts_untouched_and_with_its_own_draws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two reps (round robin, 2 slots each) that reassign a lead whose first attempt has not
    started 1 business hour after assignment. Lead 0 is recycled at 10:00 and re-qualifies
    at 11:00; its episode 2 goes to rep 1, busy with a 6-h attempt: at 12:00 it is
    reassigned to rep 0 (its first attempt of the episode had not started, although the
    first episode's had). Rep 0 reaches it at 16:00; the episode's own uniforms (contact
    0.1, qualify 0.99, disqualify 0.2) disqualify it."""
    reach = (0.1, 0.9)
    leads = [lead(t=9.0, u_contact=reach),
             lead(t=9.1, u_contact=reach, work=(3.0, 0.5), u_d=0.0),
             lead(t=9.2, u_contact=reach, work=(3.0, 0.5), u_d=0.0)]
    sc = hand_scenario(teams=[TeamSpec(name="sdr", reps=2, calendar=UTC_CAL, shrinkage=0.5,
                                       max_active_leads=2, reassign_after_business_hours=1.0)])
    recycle = FakeRecycle([(1.0, [0.1, 0.9, 0.99, 0.2], [0.5, 0.5], 0.0)])
    model = run_hand(sc, leads, monkeypatch, recycle)
    assert [r for r in log_rows(model) if r[0] == 0] == [
        (0, 0, 9.0, "created", -1, -1, -1, 80.0),
        (0, 1, 9.0, "mql", 0, -1, -1, None),
        (0, 1, 9.0, "routed", 0, -1, -1, None),
        (0, 1, 9.0, "assigned", 0, 0, -1, None),
        (0, 1, 9.0, "attempt", 0, 0, 0, 1.0),
        (0, 1, 10.0, "contact", 0, 0, 0, None),
        (0, 1, 10.0, "recycled", 0, 0, -1, None),
        (0, 1, 10.0, "nurture", -1, -1, -1, None),
        (0, 2, 11.0, "mql", 0, -1, -1, None),
        (0, 2, 11.0, "routed", 0, -1, -1, None),
        (0, 2, 11.0, "assigned", 0, 1, -1, None),
        (0, 2, 12.0, "reassigned", 0, 1, -1, 1.0),
        (0, 2, 12.0, "routed", 0, -1, -1, None),
        (0, 2, 12.0, "assigned", 0, 0, -1, None),
        (0, 2, 16.0, "attempt", 0, 0, 0, 1.0),
        (0, 2, 17.0, "contact", 0, 0, 0, None),
        (0, 2, 17.0, "disqualified", 0, 0, -1, None),
    ]
    assert model.state == [3, 3, 3]


def test_leads_created_at_the_same_instant_are_numbered_in_channel_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lead ids follow creation time; leads created at the same instant keep draw order
    (channel order, then each channel's own order): a stable sort."""
    from datetime import UTC, datetime

    from sla_sim.model import arrivals
    from sla_sim.model.leads import draw_leads

    tied = np.array([1.0] * 30 + [2.0] * 30)
    monkeypatch.setattr(arrivals, "draw_channel_arrivals", lambda *args, **kw: tied.copy())
    draws = draw_leads(hand_scenario(), Streams(replication_seed(1, 0)), ["smb"], 60.0, 2,
                       datetime(2026, 1, 5, tzinfo=UTC), 24.0)
    rows = np.arange(120)
    expected = np.concatenate([rows[0:30], rows[60:90], rows[30:60], rows[90:120]])
    np.testing.assert_array_equal(draws.order, expected)
    assert draws.lead["channel"].tolist() == [0] * 30 + [1] * 30 + [0] * 30 + [1] * 30


def test_an_arrival_exactly_at_the_end_is_cut() -> None:
    """The horizon is [0, end_h): an arrival drawn exactly at end_h (hour 1 + 0.5 with end
    1.5) is dropped, one just before it kept (a stub generator supplies the draws)."""
    from datetime import UTC, datetime

    from sla_sim.model.arrivals import draw_channel_arrivals, hour_grid
    from sla_sim.scenario.schema import ArrivalProfile

    class Stub:
        def poisson(self, rate: np.ndarray) -> np.ndarray:
            return np.array([1, 2])

        def random(self, n: int) -> np.ndarray:
            return np.array([0.25, 0.5, 0.4999])[:n]

    sc = hand_scenario(arrivals=ArrivalProfile(daily_volume_cv=0.0))
    grid = hour_grid(datetime(2026, 1, 5, tzinfo=UTC), 2)
    times = draw_channel_arrivals(sc, 0, np.ones(2), grid, lambda name: Stub(), 1.5)
    assert times.tolist() == [0.25, 1.4999]
