"""Tests for the SimPy funnel model: reproducibility, conservation, event order, calendars,
capacity, common random numbers, batch handoff, nurture, and the model's building blocks."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from sla_sim.calendar import BusinessCalendar, CalendarSpec
from sla_sim.errors import ReconciliationError
from sla_sim.events import CODE, TERMINAL_EVENT_CODES, TERMINAL_STATES
from sla_sim.horizon import horizon_hours
from sla_sim.model.funnel import FunnelModel
from sla_sim.model.handoff import HandoffSchedule
from sla_sim.model.nurture import nurture_delays
from sla_sim.model.reconcile import reconcile, terminal_counts
from sla_sim.model.routing import Team
from sla_sim.model.sdr import contact_curve
from sla_sim.scenario.io import set_path
from sla_sim.scenario.presets import preset
from sla_sim.scenario.schema import ContactSpec, HandoffSpec, NurtureSpec, Scenario
from sla_sim.streams import Streams, replication_seed

SEED = 7
Factory = Callable[[dict[str, Any] | None], Scenario]
DISPOSITIONS = (CODE["sql"], CODE["disqualified"], CODE["recycled"])


def simulate(sc: Scenario, seed: int = SEED, replication: int = 0) -> FunnelModel:
    """Build and run one replication; the model keeps its calendars, log and lead states."""
    model = FunnelModel(sc, Streams(replication_seed(seed, replication)))
    model.run()
    return model


def frame(model: FunnelModel) -> pd.DataFrame:
    """The model's event log as a DataFrame of raw columns (integer event codes)."""
    return pd.DataFrame(model.log.columns())


def rows_of(df: pd.DataFrame, *names: str) -> pd.DataFrame:
    """Rows whose event is one of ``names``."""
    return df[df["event"].isin([CODE[n] for n in names])]


@pytest.fixture(scope="module")
def base(tiny_factory: Factory) -> FunnelModel:
    """One run of the shortened default scenario (shared, read-only)."""
    return simulate(tiny_factory(None))


@pytest.fixture(scope="module")
def base_df(base: FunnelModel) -> pd.DataFrame:
    """The event log of ``base`` as a DataFrame."""
    return frame(base)


@pytest.fixture
def micro() -> Scenario:
    """A very small scenario (about 150 leads) for tests that tamper with a model."""
    sc = preset("default")
    paths = {"horizon.warmup_days": 5, "horizon.measure_months": 1}
    paths |= {f"channels[{i}].leads_per_month": 30.0 for i in range(5)}
    for path, value in paths.items():
        sc = set_path(sc, path, value)
    return sc


# ---------------------------------------------------------------------- reproducibility


def test_same_seed_gives_identical_event_log(base: FunnelModel, tiny_factory: Factory) -> None:
    """Two runs with the same seed and replication produce identical logs and lead tables."""
    again = simulate(tiny_factory(None))
    a, b = base.log.columns(), again.log.columns()
    assert a.keys() == b.keys()
    for col in a:
        np.testing.assert_array_equal(a[col], b[col], err_msg=col)
    for col in base.log.leads:
        np.testing.assert_array_equal(base.log.leads[col], again.log.leads[col], err_msg=col)


def test_different_replication_gives_different_log(base: FunnelModel,
                                                   tiny_factory: Factory) -> None:
    """Another replication of the same seed draws different arrivals."""
    other = simulate(tiny_factory(None), replication=1)
    a, b = base.log.leads["created_h"], other.log.leads["created_h"]
    assert len(a) != len(b) or not np.array_equal(a, b)


def test_model_runs_only_once(micro: Scenario) -> None:
    """Calling run() a second time on a FunnelModel is refused."""
    model = simulate(micro)
    with pytest.raises(RuntimeError, match="runs once"):
        model.run()


# ---------------------------------------------------------------------- conservation


def test_every_lead_ends_in_exactly_one_state(base: FunnelModel, base_df: pd.DataFrame) -> None:
    """Terminal counts sum to the leads created, and no lead has two terminal events."""
    counts = terminal_counts(np.asarray(base.state))
    assert set(counts) == set(TERMINAL_STATES)
    assert sum(counts.values()) == base.n_leads == len(rows_of(base_df, "created"))
    assert min(counts["won"], counts["lost"], counts["disqualified"]) > 0
    term = base_df[base_df["event"].isin(TERMINAL_EVENT_CODES)]
    assert term["lead"].value_counts().max() == 1
    assert len(term) == base.n_leads - counts["in_flight"]
    assert reconcile(base) == counts


def test_reconcile_detects_a_duplicated_terminal_event(micro: Scenario) -> None:
    """A lead given a second terminal event makes reconciliation fail, naming the lead."""
    model = simulate(micro)
    cols = model.log.columns()
    term = np.flatnonzero(np.isin(cols["event"], TERMINAL_EVENT_CODES))
    assert len(term)
    i = term[0]
    lead = int(cols["lead"][i])
    model.log.rows.append((lead, int(cols["episode"][i]), float(cols["time_h"][i]),
                           int(cols["event"][i]), -1, -1, -1, math.nan))
    with pytest.raises(ReconciliationError, match=f"lead {lead} has 2 terminal events"):
        reconcile(model)


def test_reconcile_detects_a_lost_lead(micro: Scenario) -> None:
    """A lead whose state says won but whose log has no 'won' event does not reconcile."""
    model = simulate(micro)
    in_flight = model.state.index(0)
    model.state[in_flight] = 1  # WON, without a 'won' row
    with pytest.raises(ReconciliationError, match=f"lead {in_flight}"):
        reconcile(model)


# ---------------------------------------------------------------------- event order


def test_episode_events_are_in_funnel_order(base: FunnelModel, base_df: pd.DataFrame) -> None:
    """In every MQL episode: mql <= routed <= assigned <= first attempt <= disposition."""
    names = ["mql", "routed", "assigned", "attempt", "disposition"]
    df = base_df[base_df["episode"] > 0].copy()
    df["step"] = df["event"].map({CODE["mql"]: "mql", CODE["routed"]: "routed",
                                  CODE["assigned"]: "assigned", CODE["attempt"]: "attempt",
                                  **dict.fromkeys(DISPOSITIONS, "disposition")})
    df = df.dropna(subset=["step"])
    per = df.groupby(["lead", "episode", "step"])["time_h"]
    counts = per.size().unstack()
    first = per.min().unstack()[names]
    assert (counts[["mql", "routed", "assigned", "disposition"]].fillna(0) <= 1).all().all()
    assert (counts["mql"] == 1).all()  # every episode starts with exactly one MQL event
    assert first["disposition"].notna().sum() > 1000
    for earlier, later in itertools.pairwise(names):
        has_later = first[later].notna()
        assert first.loc[has_later, earlier].notna().all(), f"{later} without {earlier}"
        assert (first.loc[has_later, earlier] <= first.loc[has_later, later]).all(), later


def test_attempts_follow_the_cadence(base: FunnelModel, base_df: pd.DataFrame) -> None:
    """Attempt k of an episode starts no earlier than the first attempt plus cadence day k."""
    att = rows_of(base_df, "attempt")
    first = att[att["attempt"] == 0].set_index(["lead", "episode"])["time_h"]
    later = att[att["attempt"] > 0]
    start0 = first.loc[list(zip(later["lead"], later["episode"], strict=True))].to_numpy()
    due = start0 + np.asarray(base.cadence_h)[later["attempt"].to_numpy()]
    assert len(later) > 100
    assert (later["time_h"].to_numpy() >= due - 1e-9).all()
    # attempts of an episode are numbered 0, 1, 2, ... without gaps
    per = att.groupby(["lead", "episode"])["attempt"].agg(["min", "max", "size"])
    assert (per["min"] == 0).all()
    assert (per["max"] + 1 == per["size"]).all()


def test_attempts_start_only_in_working_hours(base: FunnelModel, base_df: pd.DataFrame) -> None:
    """Every attempt starts while its team's (Mon-Fri 9-17) calendar is open."""
    att = rows_of(base_df, "attempt")
    cal = base.calendars[0]
    assert not cal.always_open
    assert all(cal.is_open(t) for t in att["time_h"])
    # not vacuous: many MQLs arrived while the team was closed, yet were attempted
    mql = rows_of(base_df, "mql")
    assert (~cal.is_open_many(mql["time_h"].to_numpy())).sum() > 100


def test_no_event_after_the_horizon(base: FunnelModel, base_df: pd.DataFrame) -> None:
    """No attempt (nor any other event) is logged at or after the end of the horizon."""
    assert (rows_of(base_df, "attempt")["time_h"] < base.end_h).all()
    assert (base_df["time_h"] < base.end_h).all()
    assert base_df["time_h"].max() > base.end_h - 24  # the run reached the end


@pytest.mark.parametrize("rep_rule", ["round_robin", "least_loaded"])
def test_rep_never_holds_more_than_max_active_leads(tiny_factory: Factory, rep_rule: str) -> None:
    """With a binding cap, no rep ever holds more than max_active_leads leads at once."""
    cap = 6
    model = simulate(tiny_factory({"teams[0].reps": 2, "teams[0].max_active_leads": cap,
                                   "routing.rep_rule": rep_rule}))
    df = frame(model)
    moves = rows_of(df, "assigned", "sql", "disqualified", "recycled").copy()
    moves["delta"] = np.where(moves["event"] == CODE["assigned"], 1, -1)
    assert (moves["rep"] >= 0).all()
    peak = {}
    for rep, g in moves.groupby("rep"):
        g = g.sort_values(["time_h", "delta"], kind="stable")  # a release frees before a take
        level = g["delta"].cumsum()
        assert level.min() >= 0
        peak[rep] = level.max()
    assert set(peak) == {0, 1}
    assert max(peak.values()) == cap  # the cap binds ...
    routed = rows_of(df, "routed").set_index(["lead", "episode"])["time_h"]
    assigned = rows_of(df, "assigned").set_index(["lead", "episode"])["time_h"]
    waited = assigned - routed.loc[assigned.index]
    assert (waited > 24.0).sum() > 20  # ... so leads wait for a slot,
    assert len(routed) > 5 * len(assigned)  # and most are still queued at the end


# ---------------------------------------------------------------------- common random numbers


def test_headcount_change_keeps_lead_arrivals(base: FunnelModel, base_df: pd.DataFrame,
                                              tiny_factory: Factory) -> None:
    """Changing teams[0].reps leaves every 'created' event (time, channel, score) unchanged."""
    other = simulate(tiny_factory({"teams[0].reps": 4}))
    odf = frame(other)
    for col in ("lead", "time_h", "value"):
        np.testing.assert_array_equal(rows_of(base_df, "created")[col],
                                      rows_of(odf, "created")[col], err_msg=col)
    for col in ("channel", "segment", "created_h", "score"):
        np.testing.assert_array_equal(base.log.leads[col], other.log.leads[col], err_msg=col)
    first_mql = [rows_of(d, "mql").query("episode == 1")[["lead", "time_h"]]
                 .sort_values("lead").to_numpy() for d in (base_df, odf)]
    np.testing.assert_array_equal(*first_mql)
    # not vacuous: fewer reps change what happens downstream
    assert not np.array_equal(rows_of(base_df, "attempt")["time_h"].to_numpy()[:500],
                              rows_of(odf, "attempt")["time_h"].to_numpy()[:500])


# ---------------------------------------------------------------------- handoff and nurture


def test_daily_batch_routes_at_local_nine_on_working_days(tiny_factory: Factory) -> None:
    """With batch_local_hours=[9.0], every 'routed' time is 09:00 local on a Mon-Fri day."""
    model = simulate(tiny_factory({"handoff": {"mode": "batch", "batch_local_hours": [9.0]}}))
    routed = rows_of(frame(model), "routed")["time_h"].to_numpy()
    assert len(routed) > 1000
    cal = model.marketing_cal
    for t in np.unique(routed):
        local = cal.local_datetime(float(t))
        assert local.weekday() < 5, local
        assert abs(t - cal.local_hours(local.date(), 9.0)) < 1e-6, local


def test_nurtured_lead_never_qualifies_before_one_touch(base: FunnelModel,
                                                        base_df: pd.DataFrame) -> None:
    """A lead created below the threshold becomes an MQL only after a whole number (>= 1) of
    nurture touch intervals."""
    leads = base.log.leads
    below = leads["score"] < base.threshold
    mql = rows_of(base_df, "mql").query("episode == 1").set_index("lead")["time_h"]
    nurtured = mql[below[mql.index.to_numpy()]]
    assert len(nurtured) > 20
    interval = base.sc.nurture.touch_interval_days * 24.0
    wait = nurtured.to_numpy() - leads["created_h"][nurtured.index.to_numpy()]
    assert (wait >= interval - 1e-6).all()
    touches = wait / interval
    np.testing.assert_allclose(touches, np.round(touches), atol=1e-6)
    # leads at or above the threshold qualify at creation
    direct = mql[~below[mql.index.to_numpy()]]
    np.testing.assert_array_equal(direct.to_numpy(), leads["created_h"][direct.index.to_numpy()])


def test_higher_threshold_gives_fewer_mqls(base_df: pd.DataFrame, tiny_factory: Factory) -> None:
    """Raising mql_threshold_points (same seed) lowers the number of MQL events."""
    strict = frame(simulate(tiny_factory({"mql_threshold_points": 70.0})))
    n_base, n_strict = len(rows_of(base_df, "mql")), len(rows_of(strict, "mql"))
    assert n_strict < 0.8 * n_base
    np.testing.assert_array_equal(rows_of(base_df, "created")["value"],
                                  rows_of(strict, "created")["value"])


# ---------------------------------------------------------------------- horizon


def test_horizon_hours_are_elapsed_hours_across_dst() -> None:
    """The warm-up end in model hours is the real elapsed time to local midnight of
    measure_start, even with a DST change in the warm-up (default: Oct 3 EDT -> Jan 1 EST)."""
    sc = preset("default")
    origin, start_h, end_h = horizon_hours(sc)
    tz = ZoneInfo(sc.horizon.timezone)
    start = datetime(2026, 1, 1, tzinfo=tz)
    elapsed = (start.astimezone(UTC) - origin.astimezone(UTC)).total_seconds() / 3600
    assert elapsed == 2161.0  # 90 days plus the hour gained on 2 November 2025
    cal = BusinessCalendar(CalendarSpec(always_open=True), origin, end_h)
    assert cal.local_datetime(start_h) == start
    assert start_h == elapsed


def test_month_end_measure_start_ends_on_the_end_months_last_day() -> None:
    """A measure_start on 31 January with one measured month is valid and ends on 28 February,
    the end month's last day: exactly 28 days (no DST change in between)."""
    sc = set_path(preset("default"), "horizon.measure_months", 1)
    sc = set_path(sc, "horizon.measure_start", date(2026, 1, 31))
    _origin, start_h, end_h = horizon_hours(sc)
    assert end_h - start_h == 28 * 24


def test_horizon_without_dst_change(tiny_scenario: Scenario) -> None:
    """Without a DST change, the warm-up and the measured month are whole 24-hour days."""
    origin, start_h, end_h = horizon_hours(tiny_scenario)
    assert origin == datetime(2025, 12, 12, tzinfo=ZoneInfo("America/New_York"))
    assert start_h == 20 * 24
    assert end_h == start_h + 31 * 24


# ---------------------------------------------------------------------- building blocks


@pytest.mark.parametrize("shape", ["exponential", "power"])
def test_contact_curve_starts_at_p_initial_and_decays_to_floor(shape: str) -> None:
    """P(reach) is p_initial at age 0, decreases with age, tends to p_floor, and each extra
    attempt multiplies it by attempt_decay."""
    spec = ContactSpec(p_initial=0.6, p_floor=0.1, half_life_hours=10.0, shape=shape,
                       attempt_decay=0.8)
    curve = contact_curve(spec)
    assert curve(0.0, 0) == pytest.approx(0.6)
    ages = np.linspace(0, 500, 200)
    values = np.array([curve(a, 0) for a in ages])
    assert (np.diff(values) < 0).all()
    assert (values > 0.1).all()
    assert curve(1e9, 0) == pytest.approx(0.1, abs=1e-6)
    half = 0.1 + 0.5 * (0.6 - 0.1)
    assert curve(10.0, 0) == pytest.approx(half)  # both shapes halve the excess at the scale
    for k in (1, 3):
        assert curve(5.0, k) == pytest.approx(0.8**k * curve(5.0, 0))


def test_contact_curve_is_flat_when_floor_equals_initial() -> None:
    """With p_floor == p_initial the chance does not depend on the lead's age."""
    curve = contact_curve(ContactSpec(p_initial=0.3, p_floor=0.3))
    assert curve(0.0, 0) == pytest.approx(0.3)
    assert curve(100.0, 0) == pytest.approx(0.3)


def test_nurture_delays_zero_engagement_never_qualifies(rng: np.random.Generator) -> None:
    """With engage_probability 0 (or no touch within max_days) every delay is infinite."""
    scores = np.array([10.0, 40.0, 59.9])
    never = nurture_delays(scores, 60.0, NurtureSpec(engage_probability=0.0), rng)
    assert np.isinf(never).all()
    short = nurture_delays(scores, 60.0, NurtureSpec(touch_interval_days=7, max_days=6), rng)
    assert np.isinf(short).all()
    assert len(nurture_delays(np.empty(0), 60.0, NurtureSpec(), rng)) == 0


def test_nurture_delays_are_whole_touch_intervals(rng: np.random.Generator) -> None:
    """Finite delays are multiples of the touch interval, at least enough touches to climb to
    the threshold, and within max_days."""
    spec = NurtureSpec(touch_interval_days=3.0, engage_probability=0.2, score_lift_points=10.0,
                       max_days=60.0)
    scores = rng.uniform(0, 59.9, 5000)
    delays = nurture_delays(scores, 60.0, spec, rng)
    ok = np.isfinite(delays)
    assert 0.3 < ok.mean() < 1.0
    touches = delays[ok] / (3.0 * 24)
    np.testing.assert_allclose(touches, np.round(touches))
    needed = np.maximum(np.ceil((60.0 - scores[ok]) / 10.0), 1)
    assert (np.round(touches) >= needed).all()
    assert delays[ok].max() <= 60 * 24
    # a lead just below the threshold needs one engaging touch: P(first touch) = p
    close = nurture_delays(np.full(4000, 59.0), 60.0, spec, rng)
    assert abs((close == 72.0).mean() - 0.2) < 0.03


def _marketing(always_open: bool = False) -> tuple[BusinessCalendar, datetime]:
    tz = ZoneInfo("America/New_York")
    origin = datetime(2026, 1, 5, tzinfo=tz)  # a Monday
    spec = CalendarSpec(always_open=always_open)
    return BusinessCalendar(spec, origin, 24 * 30), origin


def test_handoff_every_n_hours_rounds_up_to_the_next_batch() -> None:
    """Every-4-hours batches route a lead at the next multiple of 4 h from the origin (at
    once if it is eligible exactly on one)."""
    cal, _ = _marketing()
    sched = HandoffSchedule(HandoffSpec(mode="batch", batch_every_hours=4.0), cal, 24 * 30)
    eligible = np.array([0.0, 0.5, 3.999, 4.0, 4.001, 101.0])
    expected = np.array([0.0, 4.0, 4.0, 4.0, 8.0, 104.0])
    np.testing.assert_array_equal(sched.route_times(eligible), expected)
    assert [sched.route_time(float(t)) for t in eligible] == expected.tolist()
    assert sched.route_time(1e9) == math.inf


def test_handoff_realtime_is_immediate() -> None:
    """A realtime handoff routes a lead the moment it becomes eligible."""
    cal, _ = _marketing()
    sched = HandoffSchedule(HandoffSpec(), cal, 24 * 30)
    eligible = np.array([0.25, 17.3, 100.0])
    np.testing.assert_array_equal(sched.route_times(eligible), eligible)
    assert sched.route_time(17.3) == 17.3


def test_handoff_daily_batches_skip_the_weekend() -> None:
    """Daily 09:00 and 14:00 batches: Friday 15:00 waits until Monday 09:00."""
    cal, _origin = _marketing()
    sched = HandoffSchedule(HandoffSpec(mode="batch", batch_local_hours=[14.0, 9.0]), cal,
                            24 * 30)
    friday_3pm = 4 * 24 + 15.0
    monday_9am = 7 * 24 + 9.0
    assert sched.route_time(friday_3pm) == monday_9am
    assert sched.route_time(9.0) == 9.0
    assert sched.route_time(9.5) == 14.0


def _reps(*active: int, cap: int = 2) -> list[Any]:
    return [SimpleNamespace(index=i, active=a, cap=cap) for i, a in enumerate(active)]


ALWAYS: Any = SimpleNamespace(always_open=True, next_open=lambda t: t)  # a calendar stand-in


def test_round_robin_cycles_and_skips_full_reps() -> None:
    """Round robin hands leads to reps in turn, skipping reps with no free slot."""
    reps = _reps(0, 0, 0)
    team = Team(0, reps, "round_robin", ALWAYS)
    picked = []
    for _ in range(6):
        rep = team.pick_rep()
        assert rep is not None
        rep.active += 1
        picked.append(rep.index)
    assert picked == [0, 1, 2, 0, 1, 2]
    assert team.pick_rep() is None  # every slot taken
    reps[1].active = 1
    assert team.pick_rep().index == 1


def test_round_robin_continues_after_a_skipped_rep() -> None:
    """After skipping a full rep, the turn passes to the rep after the one picked."""
    team = Team(0, _reps(0, 2, 0), "round_robin", ALWAYS)
    assert [team.pick_rep().index for _ in range(4)] == [0, 2, 0, 2]


def test_least_loaded_picks_the_emptiest_rep() -> None:
    """Least loaded picks the rep holding fewest leads (first on ties), None when all full."""
    reps = _reps(2, 1, 0, 1, cap=3)
    team = Team(0, reps, "least_loaded", ALWAYS)
    assert team.pick_rep().index == 2
    reps[2].active = 1
    assert team.pick_rep().index == 1
    for r in reps:
        r.active = 3
    assert team.pick_rep() is None


# ---------------------------------------------------------------------- event-loop shortcuts
class _CountingModel(FunnelModel):
    """The model, counting the routing callbacks it runs."""

    feeds = 0

    def feed_routes(self, _event: Any = None) -> None:
        self.feeds += 1
        super().feed_routes(_event)


class _RouteEachInstant(_CountingModel):
    """The model without the hand-over of night-time routes: every route at its own instant."""

    def _quiet_until(self, now: float) -> float:
        return now


def _sorted_rows(model: FunnelModel) -> np.ndarray:
    """Every event row as a record, in a canonical order (independent of recording order)."""
    cols = model.log.columns(sort=False)
    table = np.rec.fromarrays([cols[c] for c in cols], names=list(cols))
    return np.sort(table, order=["time_h", "lead", "event", "episode", "attempt", "team", "rep"])


SHORT = {"horizon.warmup_days": 20, "horizon.measure_months": 1}


@pytest.mark.parametrize(("name", "overrides"), [
    ("default", {}),
    ("enterprise", {}),  # two teams on New York and London calendars, least loaded
    ("default", {"handoff": {"mode": "batch", "batch_every_hours": 1.0}}),
    ("default", {"teams[sdr].reps": 2, "teams[sdr].max_active_leads": 15}),  # queue builds up
    ("default", {"teams[sdr].reps": 1, "teams[sdr].max_active_leads": 4,  # attempts run past
                 "follow_up.attempt_minutes": {"kind": "lognormal", "mean": 90.0, "cv": 0.5}}),
    ("smb_inbound", {"teams[sdr].calendar.always_open": True}),  # never closed: no hand-over
    # one attempt per lead, attempts running past closing while a rep has one free slot and
    # leads arrive in the evening: only the "no rep mid-attempt" condition keeps this exact
    ("default", {"sla.attempts_required": 1, "follow_up.cadence_days": [0.0],
                 "teams[sdr].reps": 3, "teams[sdr].max_active_leads": 2, "volume": 0.09,
                 "follow_up.attempt_minutes": {"kind": "lognormal", "mean": 150.0, "cv": 0.2},
                 "seed": 2}),
], ids=["default", "enterprise", "hourly-batches", "full-reps", "past-closing",
        "always-open", "busy-at-closing"])  # fmt: skip
def test_routes_handed_over_together_match_routing_each_at_its_instant(
    name: str, overrides: dict[str, Any]
) -> None:
    """While every team is closed and idle, routes due before the next opening are handed over
    in one callback: the event log and lead states are exactly those of routing each lead at
    its own instant, with fewer callbacks whenever a calendar closes."""
    sc = preset(name)
    settings = {**SHORT, **overrides}
    seed = settings.pop("seed", SEED)
    for c in sc.channels:
        sc = set_path(sc, f"channels[{c.name}].leads_per_month",
                      c.leads_per_month * settings.get("volume", 1.0))  # fmt: skip
    settings.pop("volume", None)
    for path, value in settings.items():
        if "." not in path:  # a section's fields that are only valid together
            data = sc.model_dump()
            data[path].update(value)
            sc = Scenario.model_validate(data)
        else:
            sc = set_path(sc, path, value)
    sc = sc.model_copy(update={"engine": "simpy"})  # the reference's routing callbacks
    together = _CountingModel(sc, Streams(replication_seed(seed, 0)))
    each = _RouteEachInstant(sc, Streams(replication_seed(seed, 0)))
    together.run()
    each.run()
    a, b = _sorted_rows(together), _sorted_rows(each)
    assert len(a) == len(b)
    for col in a.dtype.names:
        assert np.array_equal(a[col], b[col], equal_nan=a[col].dtype.kind == "f"), col
    assert together.state == each.state
    if name == "smb_inbound":
        assert together.feeds == each.feeds
    else:
        assert together.feeds < each.feeds, (together.feeds, each.feeds)


def test_a_replication_leaves_no_reference_cycles(tiny_factory: Factory) -> None:
    """A run's objects are freed by reference counting (automatic GC is paused during runs):
    the only cycle left is SimPy's Environment binding its own methods, a handful of objects."""
    import gc

    from sla_sim.batch.worker import run_one

    sc = tiny_factory(None)
    run_one(sc, SEED, 0)
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        run_one(sc, SEED, 1)
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
    kinds = {type(o).__name__ for o in garbage}
    assert len(garbage) <= 16, sorted(kinds)
    assert not kinds & {"FunnelModel", "Rep", "Team", "AEPool", "EventLog", "Call"}, kinds
