"""The fast engine writes the SimPy reference's event log, row for row.

Every preset (two seeds, shortened horizons), every work order x assignment on a busy team,
with priority classes (by channel, one or several listed; by segment) and under the weekend
rota (reps' own calendars), every work order with reassignment and with overflow teams, days
off, hires (with and without ramp) and attrition (with and without backfill), and
hypothesis-drawn mixes of every routing, calendar, handoff, follow-up, AE, recycling, work
order, assignment, priority, reassignment, overflow, staffing, policy and capacity feature run
on both engines; the logs (in recorded order, before any sort), the lead states and the leads
table must be identical. The fast engine covers every policy and staffing plan today;
``engine: simpy`` still selects the reference, and a scenario field the fast engine does not
know still falls back to SimPy, naming it. Hand-made changes
to the fast engine's tie-breaking (equal times served last-in first; equal policy keys served
last-in first) or to its priority classes (every lead in the first class) must be caught by
the same comparison.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla_sim import preset, preset_names, run_replications
from sla_sim.events import CODE
from sla_sim.model import coverage, kernel
from sla_sim.model.engine import describe, engine_for, unknown_fields
from sla_sim.model.funnel import FunnelModel
from sla_sim.scenario.io import set_path
from sla_sim.scenario.schema import Scenario
from sla_sim.streams import Streams, replication_seed

SHORT = {"horizon.warmup_days": 10, "horizon.measure_months": 1}
WORK_ORDERS = ("due_first", "new_first", "deadline_first")
ASSIGNMENTS = ("immediate", "pull")


def run(sc: Scenario, engine: str, seed: int) -> FunnelModel:
    model = FunnelModel(sc.model_copy(update={"engine": engine}),
                        Streams(replication_seed(seed, 0)))  # fmt: skip
    model.run()
    return model


def differences(a: FunnelModel, b: FunnelModel) -> list[str]:
    """What differs between two runs' logs (recorded order), lead states and leads tables."""
    out = []
    ca, cb = a.log.columns(sort=False), b.log.columns(sort=False)
    for name in ca:
        x, y = ca[name], cb[name]
        if x.dtype != y.dtype or not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
            n = min(len(x), len(y))
            first = np.flatnonzero(~((x[:n] == y[:n]) | (x[:n] != x[:n]) & (y[:n] != y[:n])))
            out.append(f"{name}: {len(x)} vs {len(y)} rows, first difference at row "
                       f"{first[0] if len(first) else n}")  # fmt: skip
    if not np.array_equal(np.asarray(a.state), np.asarray(b.state)):
        out.append("lead states")
    for name, x in a.log.leads.items():
        if not np.array_equal(x, b.log.leads[name]):
            out.append(f"leads.{name}")
    return out


def assert_same(sc: Scenario, seed: int) -> tuple[FunnelModel, FunnelModel]:
    ref, fast = run(sc, "simpy", seed), run(sc, "fast", seed)
    assert ref.engine == "simpy"
    assert fast.engine == engine_for(sc)[0]
    assert differences(ref, fast) == []
    return ref, fast


@pytest.mark.parametrize("seed", [3, 2026])
@pytest.mark.parametrize("name", preset_names())
def test_every_preset_gives_the_same_log_on_both_engines(name: str, seed: int) -> None:
    sc = preset(name)
    for path, value in SHORT.items():
        sc = set_path(sc, path, value)
    ref, fast = assert_same(sc, seed)
    assert fast.engine == "fast"  # every preset runs on the fast engine (no fallback)
    assert len(ref.log.columns(sort=False)["lead"]) > 5000


# ----------------------------------------------------------------------------- mixes
def expects_fallback(sc: Scenario) -> bool:
    """Whether ``sc`` has a feature the fast engine leaves to SimPy (read off the fields): none
    of the strategy's any more (hires and attrition run on the fast engine too)."""
    return bool(unknown_fields(sc))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A tiny scenario (a few hundred leads) over every feature the model has: the fast
    engine's (rules, calendars, handoff, cadence, contact curve, AEs, recycling, shrinkage,
    teams by channel, every work order x assignment per team, the SLA terms deadline_first
    reads, in about a third of the examples reps' own calendars and days off, with or without
    ``routing.skip_unavailable``, in about a third priority classes by channel or by segment,
    in about a third reassignment on each team with immediate assignment, with two teams
    sometimes escalating to the other: overflow teams) and, in about a quarter, hires (with a
    ramp) and attrition (with backfills), with reassignment and an overflow team in some."""
    raw: dict[str, Any] = preset("default").model_dump(mode="json")
    raw["horizon"] |= {"warmup_days": draw(st.integers(0, 3)), "measure_months": 1,
                       "measure_start": "2026-03-02"}  # fmt: skip
    scale = draw(st.sampled_from([0.03, 0.06, 0.1]))
    for ch in raw["channels"]:
        ch["leads_per_month"] *= scale
    raw["routing"]["rep_rule"] = draw(st.sampled_from(["round_robin", "least_loaded"]))
    two = draw(st.booleans())
    team = raw["teams"][0]
    team |= {"reps": draw(st.integers(1, 4)), "max_active_leads": draw(st.integers(1, 6)),
             "shrinkage": draw(st.sampled_from([0.0, 0.3]))}  # fmt: skip
    team["calendar"]["always_open"] = draw(st.booleans())
    if two:
        other = {**team, "name": "second", "reps": draw(st.integers(1, 3)),
                 "calendar": {**team["calendar"], "timezone": "Europe/London",
                              "always_open": False}}  # fmt: skip
        names = [c["name"] for c in raw["channels"]]
        team["channels"], other["channels"] = names[:2], names[2:]
        raw["routing"]["team_rule"] = "by_channel"
        raw["teams"].append(other)
    for t in raw["teams"]:  # work policies: the fast engine's own
        t["work_order"] = draw(st.sampled_from(WORK_ORDERS))
        t["assignment"] = draw(st.sampled_from(ASSIGNMENTS))
    handoff = draw(st.sampled_from(["realtime", "every", "daily"]))
    if handoff == "every":
        raw["handoff"] |= {"mode": "batch", "batch_every_hours": draw(st.sampled_from([2.0, 6.0]))}
    elif handoff == "daily":
        raw["handoff"] |= {"mode": "batch", "batch_local_hours": [9.0, 14.0]}
    fu = raw["follow_up"]
    fu["cadence_days"] = draw(st.sampled_from([[0.0], [0.0, 1.0], [0.0, 0.5, 2.0, 4.0]]))
    raw["sla"] |= {"first_touch_from": draw(st.sampled_from(["mql", "assignment"])),
                   "first_touch_within_business_hours": draw(st.sampled_from([0.5, 4.0])),
                   "attempts_required": draw(st.integers(1, len(fu["cadence_days"]))),
                   "attempts_within_days": draw(st.sampled_from([0.5, 7.0]))}  # fmt: skip
    fu["contact"]["shape"] = draw(st.sampled_from(["exponential", "power"]))
    fu["disqualify_share"] = draw(st.sampled_from([0.0, 0.5]))
    raw["nurture"]["engage_probability"] = draw(st.sampled_from([0.02, 0.3]))
    raw["nurture"]["max_days"] = draw(st.sampled_from([10.0, 60.0]))
    if draw(st.integers(0, 2)) == 0:  # staffing without joins or leaves: the fast engine's
        t0 = raw["teams"][0]
        raw["routing"]["skip_unavailable"] = draw(st.booleans())
        if draw(st.booleans()):  # each rep its own calendar: shifts, days, zones, always open
            shifts = [{**t0["calendar"], "always_open": False, "start_hour": 7.0,
                       "end_hour": 15.0},
                      {**t0["calendar"], "always_open": False, "working_days": [2, 3, 4, 5, 6],
                       "holidays": []},
                      {**t0["calendar"], "always_open": False, "timezone": "Asia/Tokyo"},
                      {**t0["calendar"], "always_open": True}]  # fmt: skip
            t0["rep_calendars"] = [draw(st.sampled_from(shifts)) for _ in range(t0["reps"])]
        if draw(st.booleans()):
            t0["pto_days_per_year"] = draw(st.sampled_from([10.0, 60.0]))
    if draw(st.integers(0, 2)) == 0:  # priority classes: the fast engine's
        names = [c["name"] for c in raw["channels"]]
        if draw(st.booleans()):
            order = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
            raw["routing"] |= {"priority_by": "channel", "priority_order": order}
        else:  # a few segments over the channels, some listed
            raw["channels"][0]["segment_mix"] = {"smb": 0.5, "mid_market": 0.5}
            raw["channels"][1]["segment_mix"] = {"enterprise": 0.3, "smb": 0.7}
            order = draw(st.lists(st.sampled_from(["enterprise", "smb", "mid_market"]),
                                  min_size=1, max_size=2, unique=True))  # fmt: skip
            raw["routing"] |= {"priority_by": "segment", "priority_order": order}
    if draw(st.integers(0, 2)) == 0:  # reassignment and overflow teams: the fast engine's
        for i, t in enumerate(raw["teams"]):
            if t["assignment"] == "immediate":
                t["reassign_after_business_hours"] = draw(st.sampled_from([0.25, 0.5, 2.0]))
                t["max_reassignments"] = draw(st.integers(1, 3))
                if two and draw(st.booleans()):  # escalate to the other team
                    t["overflow_team"] = raw["teams"][1 - i]["name"]
    raw["ae"] = {"count": draw(st.integers(1, 3)), "max_open_opportunities": draw(
        st.integers(1, 4)), "selling_hours_per_opportunity": draw(st.sampled_from(
            [0.0, 1.0, 6.0])), "selling_share": draw(st.sampled_from([0.34, 1.0])),
        "calendar": {"timezone": draw(st.sampled_from(["America/New_York", "Europe/London"])),
                     "always_open": draw(st.booleans())}}  # fmt: skip
    if draw(st.integers(0, 3)) == 0:  # hires and attrition (joins, leaves, hand-overs, ramp)
        t0 = raw["teams"][0]
        kind = draw(st.sampled_from(["hires", "attrition", "both"]))
        if kind != "attrition":
            t0 |= {"hires": [{"start": draw(st.sampled_from(["2026-02-27", "2026-03-10"])),
                              "reps": draw(st.integers(1, 2))}],
                   "ramp_by_tenure_month": draw(st.sampled_from([[], [0.5], [0.25, 0.75]])),
                   "pto_days_per_year": draw(st.sampled_from([0.0, 20.0]))}  # fmt: skip
        if kind != "hires":
            t0 |= {"attrition_per_month": draw(st.sampled_from([0.2, 0.6])),
                   "backfill_delay_days": draw(st.sampled_from([None, 0.0, 5.0]))}
        if two and draw(st.booleans()):  # with reassignment and an overflow team
            t0 |= {"assignment": "immediate", "reassign_after_business_hours": 0.5,
                   "overflow_team": "second"}
    _set_up_mix(draw, raw)
    return Scenario.model_validate(raw)


#: distributions of every kind, zero included (attempt times take the positive ones)
DISTRIBUTIONS = (
    {"kind": "constant", "value": 0.0}, {"kind": "constant", "value": 3.0},
    {"kind": "exponential", "mean": 2.0}, {"kind": "lognormal", "mean": 4.0, "cv": 1.5},
    {"kind": "gamma", "mean": 1.0, "cv": 0.3}, {"kind": "uniform", "low": 0.0, "high": 2.0},
    {"kind": "triangular", "low": 0.0, "mode": 0.1, "high": 5.0},
    {"kind": "weibull", "mean": 2.0, "shape": 0.7},
    {"kind": "empirical", "values": [0.0, 0.0, 1.0, 30.0]},
)  # fmt: skip


def _set_up_mix(draw: st.DrawFn, raw: dict[str, Any]) -> None:
    """The set-up both engines share, drawn on top of a mix (added 2026-12-08 after 2 x 300
    such mixes ran by hand): attempt times and ops delays of every distribution kind, bursts,
    team holidays, a narrow marketing calendar, heavy recycling, by_segment routing, attempts
    minutes apart, MQL thresholds at the ends of the scale."""
    if draw(st.booleans()):
        raw["follow_up"]["attempt_minutes"] = draw(st.sampled_from(DISTRIBUTIONS[1:]))
    if draw(st.booleans()):
        raw["handoff"]["ops_delay_hours"] = draw(st.sampled_from(DISTRIBUTIONS))
    if draw(st.integers(0, 3)) == 0:
        raw["arrivals"]["bursts"] = [{
            "channel": draw(st.sampled_from([c["name"] for c in raw["channels"]])),
            "start_day": draw(st.sampled_from([0.0, 2.5, 10.0])),
            "duration_days": draw(st.sampled_from([0.5, 3.0])),
            "multiplier": draw(st.sampled_from([0.0, 4.0]))}]  # fmt: skip
    if draw(st.integers(0, 3)) == 0:
        for t in raw["teams"]:
            t["calendar"]["holidays"] = ["2026-03-03", "2026-03-09", "2026-03-16"]
    if draw(st.integers(0, 3)) == 0:
        raw["marketing_calendar"] |= {"always_open": False, "start_hour": 10.0, "end_hour": 12.0}
    if draw(st.integers(0, 3)) == 0:  # recycled leads back within hours, again and again
        raw["nurture"] |= {"touch_interval_days": draw(st.sampled_from([0.01, 0.2])),
                           "engage_probability": 0.9, "max_days": 30.0,
                           "recycle_score_points": draw(st.sampled_from([1.0, 40.0]))}
    if len(raw["teams"]) == 2 and draw(st.integers(0, 2)) == 0:
        raw["routing"] |= {"team_rule": "by_segment", "priority_by": "none", "priority_order": []}
        for ch in raw["channels"]:
            ch["segment_mix"] = {"smb": 0.6, "enterprise": 0.4}
        for t, seg in zip(raw["teams"], ("smb", "enterprise"), strict=True):
            t |= {"segments": [seg], "channels": []}
    if draw(st.integers(0, 3)) == 0:
        raw["follow_up"]["cadence_days"] = draw(st.sampled_from([[0.0, 0.001],
                                                                 [0.0, 0.01, 0.02]]))
        raw["sla"]["attempts_required"] = min(raw["sla"]["attempts_required"],
                                              len(raw["follow_up"]["cadence_days"]))
    if draw(st.integers(0, 3)) == 0:
        raw["mql_threshold_points"] = draw(st.sampled_from([0.0, 95.0]))


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(sc=scenarios(), seed=st.integers(0, 10_000))
def test_any_feature_mix_gives_the_same_log_on_both_engines(sc: Scenario, seed: int) -> None:
    _ref, fast = assert_same(sc, seed)
    engine, why = engine_for(sc)
    assert fast.engine == ("simpy" if expects_fallback(sc) else "fast")
    assert (engine == "simpy") == why.startswith("fallback")


# ----------------------------------------------------------------------------- work policies
def busy(work_order: str, assignment: str, **paths: Any) -> Scenario:
    """The shortened default preset with a team short of reps and slots (queues form) and a
    batch handoff every 6 hours (many leads routed at one time: ties to break)."""
    sc = preset("default")
    for path, value in {**SHORT, "teams[0].reps": 7, "teams[0].max_active_leads": 30,
                        "handoff": {"mode": "batch", "batch_every_hours": 6.0},
                        "teams[0].work_order": work_order, "teams[0].assignment": assignment,
                        **paths}.items():  # fmt: skip
        sc = set_path(sc, path, value)
    return sc


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("work_order", WORK_ORDERS)
def test_each_work_order_and_assignment_gives_the_same_log_on_both_engines(
        work_order: str, assignment: str) -> None:  # fmt: skip
    """Every work order x assignment, on a team where leads wait, both rep rules: the fast
    engine runs it (no fallback) and writes SimPy's log."""
    for rule, from_ in (("round_robin", "mql"), ("least_loaded", "assignment")):
        sc = busy(work_order, assignment, **{"routing.rep_rule": rule,
                                             "sla.first_touch_from": from_})  # fmt: skip
        assert engine_for(sc) == ("fast", "")
        ref, fast = assert_same(sc, 7)
        assert fast.engine == "fast"
        cols = ref.log.columns(sort=False)
        waited = cols["event"] == kernel.C_ASSIGNED
        routed = cols["event"] == kernel.C_ROUTED
        assert waited.sum() > 1000
        # leads wait for a slot (immediate) or for a free rep (pull): assigned later than routed
        first_assigned = {}
        for lead, t in zip(cols["lead"][waited], cols["time_h"][waited], strict=True):
            first_assigned.setdefault(lead, t)
        first_routed = {}
        for lead, t in zip(cols["lead"][routed], cols["time_h"][routed], strict=True):
            first_routed.setdefault(lead, t)
        assert sum(first_assigned[x] > first_routed[x] for x in first_assigned) > 100


#: priority classes on the busy team: one channel listed, several, and segments (the default
#: preset has one segment: two more over two channels, two of three listed)
PRIORITIES: dict[str, dict[str, Any]] = {
    "one channel": {"routing.priority_by": "channel", "routing.priority_order": ["partner"]},
    "several channels": {"routing.priority_by": "channel",
                         "routing.priority_order": ["events", "partner", "outbound"]},
    "segments": {"channels[0].segment_mix": {"smb": 0.5, "mid_market": 0.5},
                 "channels[1].segment_mix": {"enterprise": 0.3, "smb": 0.7},
                 "routing.priority_by": "segment",
                 "routing.priority_order": ["enterprise", "smb"]},
}  # fmt: skip


def without_classes(sc: Scenario) -> Scenario:
    """``sc`` with no priority classes (everything else the same)."""
    return sc.model_copy(update={"routing": sc.routing.model_copy(
        update={"priority_by": "none", "priority_order": []})})  # fmt: skip


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("work_order", WORK_ORDERS)
def test_priority_classes_give_the_same_log_on_both_engines(work_order: str, assignment: str
                                                             ) -> None:  # fmt: skip
    """Priority classes by channel (one listed, several) and by segment, each work order x
    assignment, on the busy team under both rep rules: the fast engine runs them (no fallback)
    and writes SimPy's log, and the classes change the log (they are compared first)."""
    for i, (name, paths) in enumerate(PRIORITIES.items()):
        rule = ("round_robin", "least_loaded")[i % 2]
        sc = busy(work_order, assignment, **{**paths, "routing.rep_rule": rule})
        assert engine_for(sc) == ("fast", ""), name
        ref, fast = assert_same(sc, 13)
        assert fast.engine == "fast"
        assert differences(ref, run(without_classes(sc), "fast", 13)), name  # classes matter


def test_priority_classes_with_the_weekend_rota_give_the_same_log_on_both_engines() -> None:
    """Priority classes on a staffed team (the weekend rota, days off, reps on shift first):
    the fast engine runs it and writes SimPy's log."""
    from sla_sim.recommend.policy_space import Policy

    base = preset("default")
    for path, value in {**SHORT, **PRIORITIES["several channels"]}.items():
        base = set_path(base, path, value)
    for order, assignment in (("due_first", "pull"), ("deadline_first", "immediate")):
        sc = Policy(order, assignment, "weekend rota").apply(base, ["sdr"])
        sc = set_path(set_path(sc, "routing.skip_unavailable", True),
                      "teams[0].pto_days_per_year", 20.0)  # fmt: skip
        assert engine_for(sc) == ("fast", "")
        _ref, fast = assert_same(sc, 17)
        assert fast.engine == "fast"


@pytest.mark.parametrize("work_order", WORK_ORDERS)
def test_reassignment_gives_the_same_log_on_both_engines(work_order: str) -> None:
    """Reassignment (after half an hour and after two business hours; at most one, three
    reassignments) on the busy team, each work order, both rep rules, with and without
    priority classes: the fast engine runs it (no fallback), writes SimPy's log, and leads are
    reassigned (within the team and back to its queue)."""
    for i, (hours, most) in enumerate(((0.5, 1), (2.0, 3), (0.25, 2))):
        rule = ("round_robin", "least_loaded")[i % 2]
        paths = {"routing.rep_rule": rule, "teams[0].reassign_after_business_hours": hours,
                 "teams[0].max_reassignments": most}  # fmt: skip
        if i == 2:
            paths |= PRIORITIES["several channels"]
        sc = busy(work_order, "immediate", **paths)
        assert engine_for(sc) == ("fast", "")
        ref, fast = assert_same(sc, 7 + i)
        assert fast.engine == "fast"
        if hours == 0.5:
            cols = ref.log.columns(sort=False)
            assert (cols["event"] == CODE["reassigned"]).sum() > 50


def overflow_scenario(work_order: str, backup_assignment: str, rule: str,
                      mutual: bool = False) -> Scenario:
    """The shortened default preset split in two teams by channel: ``sdr`` (six reps, four
    channels) reassigns a lead untouched half a business hour, escalating it to ``backup``
    (two reps in London, the fifth channel) when no other rep has a free slot; with
    ``mutual``, ``backup`` (immediate) escalates back to ``sdr`` after two business hours."""
    raw = preset("default").model_dump(mode="json")
    raw["horizon"] |= {"warmup_days": 10, "measure_months": 1}
    raw["handoff"] = {"mode": "batch", "batch_every_hours": 6.0}
    raw["routing"] |= {"team_rule": "by_channel", "rep_rule": rule}
    names = [c["name"] for c in raw["channels"]]
    sdr = raw["teams"][0]
    sdr |= {"reps": 6, "max_active_leads": 20, "channels": names[:4], "work_order": work_order,
            "reassign_after_business_hours": 0.5, "max_reassignments": 2,
            "overflow_team": "backup"}  # fmt: skip
    backup = {**sdr, "name": "backup", "reps": 2, "channels": names[4:],
              "assignment": backup_assignment, "overflow_team": None,
              "reassign_after_business_hours": None,
              "calendar": {**sdr["calendar"], "timezone": "Europe/London"}}  # fmt: skip
    if mutual:
        backup |= {"overflow_team": "sdr", "reassign_after_business_hours": 2.0}
    raw["teams"] = [sdr, backup]
    return Scenario.model_validate(raw)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("work_order", WORK_ORDERS)
def test_overflow_teams_give_the_same_log_on_both_engines(work_order: str, assignment: str
                                                           ) -> None:  # fmt: skip
    """Reassignment escalating to an overflow team (immediate or pull, so a pull team's free
    reps are offered the lead at once), each work order on the first team, both rep rules,
    and two teams escalating to each other: the fast engine runs each (no fallback), writes
    SimPy's log, and leads are escalated."""
    cases = [(assignment, "round_robin", False), (assignment, "least_loaded", False)]
    if assignment == "immediate":
        cases.append(("immediate", "round_robin", True))
    for backup, rule, mutual in cases:
        sc = overflow_scenario(work_order, backup, rule, mutual)
        assert engine_for(sc) == ("fast", "")
        ref, fast = assert_same(sc, 5)
        assert fast.engine == "fast"
        if work_order == "due_first" or rule == "round_robin":
            cols = ref.log.columns(sort=False)
            assert (cols["event"] == CODE["escalated"]).sum() > 5


def test_reassignment_with_reps_own_calendars_gives_the_same_log_on_both_engines() -> None:
    """Reassignment on the weekend rota with days off, reps on shift first or not (the rep
    rule then prefers reps on shift): the fast engine runs it and writes SimPy's log."""
    from sla_sim.recommend.policy_space import Policy

    base = preset("default")
    for path, value in SHORT.items():
        base = set_path(base, path, value)
    for order, skip in (("due_first", True), ("deadline_first", False), ("new_first", True)):
        sc = Policy(order, "immediate", "weekend rota").apply(base, ["sdr"])
        for path, value in {"routing.skip_unavailable": skip, "teams[0].pto_days_per_year": 20.0,
                            "teams[0].reassign_after_business_hours": 0.5,
                            "teams[0].max_reassignments": 2}.items():  # fmt: skip
            sc = set_path(sc, path, value)
        assert engine_for(sc) == ("fast", "")
        _ref, fast = assert_same(sc, 19)
        assert fast.engine == "fast"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("work_order", WORK_ORDERS)
def test_the_weekend_rota_gives_the_same_log_on_both_engines(work_order: str, assignment: str
                                                              ) -> None:  # fmt: skip
    """The recommendation's weekend rota (``policy_space.rota``: some reps on Wednesday to
    Sunday, the rest on the team calendar) on the default preset, each work order x
    assignment, reps on shift first or not: the fast engine runs it and writes SimPy's log,
    ``rep_on``/``rep_off`` rows included, and the rota does work weekends."""
    from sla_sim.recommend.policy_space import Policy

    base = preset("default")
    for path, value in SHORT.items():
        base = set_path(base, path, value)
    sc = Policy(work_order, assignment, "weekend rota").apply(base, ["sdr"])
    assert sc.teams[0].rep_calendars
    for skip in (False, True):
        sc = set_path(sc, "routing.skip_unavailable", skip)
        assert engine_for(sc) == ("fast", "")
        ref, fast = assert_same(sc, 11)
        assert fast.engine == "fast"
        cols = ref.log.columns(sort=False)
        assert (cols["event"] == CODE["rep_on"]).sum() > 100
        team_cal = ref.calendars[0]  # attempts outside the team's (weekday) hours: weekends
        attempts = cols["time_h"][cols["event"] == kernel.C_ATTEMPT]
        assert sum(not team_cal.is_open(float(t)) for t in attempts) > 50


@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("rule", ["round_robin", "least_loaded"])
def test_reps_own_calendars_and_days_off_give_the_same_log_on_both_engines(
        rule: str, skip: bool) -> None:  # fmt: skip
    """Reps on their own calendars (early, late, another zone, always open) on the busy team,
    with and without days off, routing to reps on shift first or not, under both rep rules and
    two work policies: the fast engine runs each and writes SimPy's log; routing to reps on
    shift first changes the log."""
    cal = preset("default").teams[0].calendar.model_dump(mode="json")
    own = [cal | {"start_hour": 6.0, "end_hour": 14.0}, cal | {"start_hour": 12.0,
                                                              "end_hour": 20.0},
           cal | {"timezone": "Europe/London"}, cal | {"always_open": True}, cal,
           cal | {"working_days": [2, 3, 4, 5, 6], "holidays": []}, cal]  # fmt: skip
    for order, assignment in (("due_first", "immediate"), ("deadline_first", "pull")):
        for pto in (0.0, 25.0):
            sc = busy(order, assignment, **{"routing.rep_rule": rule, "teams[0].rep_calendars":
                                            own, "teams[0].pto_days_per_year": pto,
                                            "routing.skip_unavailable": skip})  # fmt: skip
            assert engine_for(sc) == ("fast", "")
            ref, fast = assert_same(sc, 5)
            assert fast.engine == "fast"
            if assignment == "immediate" and pto == 0.0:
                other = set_path(sc, "routing.skip_unavailable", not skip)
                assert differences(ref, run(other, "fast", 5))  # the rule matters here


def test_days_off_alone_give_the_same_log_on_both_engines() -> None:
    """Days off on the team calendar (no calendars of the reps' own), on an always-open team
    too: the same log on both engines, and the days off are taken (fewer attempts)."""
    for always_open in (False, True):
        sc = busy("new_first", "immediate", **{"teams[0].pto_days_per_year": 40.0,
                                               "teams[0].calendar.always_open": always_open})
        assert engine_for(sc) == ("fast", "")
        ref, fast = assert_same(sc, 9)
        assert fast.engine == "fast"
        without = run(set_path(sc, "teams[0].pto_days_per_year", 0.0), "fast", 9)
        cols, cols0 = ref.log.columns(sort=False), without.log.columns(sort=False)
        assert (cols["event"] == kernel.C_ATTEMPT).sum() < (cols0["event"] ==
                                                            kernel.C_ATTEMPT).sum()


#: hires and attrition on the busy team (4 reps at the origin): hires with and without ramp,
#: attrition with and without backfill, and both at once
STAFFING: dict[str, dict[str, Any]] = {
    "hires": {"teams[0].hires": [{"start": "2026-01-20", "reps": 2},
                                 {"start": "2026-01-27", "reps": 1}]},
    "hires with ramp": {"teams[0].hires": [{"start": "2026-01-20", "reps": 2}],
                        "teams[0].ramp_by_tenure_month": [0.25, 0.5]},
    "attrition": {"teams[0].attrition_per_month": 0.3},
    "attrition with backfill": {"teams[0].attrition_per_month": 0.3,
                                "teams[0].backfill_delay_days": 3,
                                "teams[0].ramp_by_tenure_month": [0.5]},
    "both, few reps": {"teams[0].reps": 2, "teams[0].attrition_per_month": 0.6,
                       "teams[0].hires": [{"start": "2026-01-20", "reps": 2}]},
}  # fmt: skip


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("work_order", WORK_ORDERS)
def test_hires_and_attrition_give_the_same_log_on_both_engines(work_order: str, assignment: str
                                                               ) -> None:  # fmt: skip
    """Hires (with and without ramp) and attrition (with and without backfill) on the busy
    team, each work order x assignment, both rep rules, with priority classes or reassignment
    in some: the fast engine runs each and writes SimPy's log (joins, leaves, hand-overs of
    the leavers' leads, ramping reps' longer attempts, ``rep_on``/``rep_off`` rows)."""
    seen = {"joined": 0, "left": 0, "handed": 0}
    for i, (name, paths) in enumerate(STAFFING.items()):
        rule = ("round_robin", "least_loaded")[i % 2]
        extra: dict[str, Any] = {"routing.rep_rule": rule, "teams[0].reps": 4}
        if i % 3 == 1:
            extra |= PRIORITIES["one channel"]
        if i % 3 == 2 and assignment == "immediate":
            extra |= {"teams[0].reassign_after_business_hours": 0.5}
        sc = busy(work_order, assignment, **{**extra, **paths})
        assert engine_for(sc) == ("fast", ""), name
        ref, fast = assert_same(sc, 7)
        assert fast.engine == "fast"
        cols = ref.log.columns(sort=False)
        plans = ref.teams[0].reps
        seen["joined"] += sum(0 < r.join_h < ref.end_h for r in plans)
        seen["left"] += sum(r.leave_h < ref.end_h for r in plans)
        seen["handed"] += int((cols["event"] == CODE["reassigned"]).sum())
    assert seen["joined"] > 0, seen
    assert seen["left"] > 0, seen
    if assignment == "immediate":  # untouched leads of leavers routed again (pull: none held)
        assert seen["handed"] > 0, seen


def test_a_ramp_changes_the_log() -> None:
    """The ramp is felt: a ramping hire's attempts take longer, so the log differs from the
    same hires at full speed (on both engines alike)."""
    sc = busy("due_first", "immediate", **STAFFING["hires with ramp"])
    _ref, fast = assert_same(sc, 3)
    flat = set_path(sc, "teams[0].ramp_by_tenure_month", [])
    assert differences(fast, run(flat, "fast", 3))


def test_the_work_orders_differ_on_the_busy_team() -> None:
    """The busy team's scenario is one where the work order matters: the three orders give
    three different logs under each assignment (so the comparisons above test each order)."""
    for assignment in ASSIGNMENTS:
        logs = [run(busy(w, assignment), "fast", 7).log.columns(sort=False) for w in WORK_ORDERS]
        for i in range(3):
            for j in range(i + 1, 3):
                assert not all(np.array_equal(logs[i][c], logs[j][c], equal_nan=True)
                               for c in ("lead", "time_h", "event"))  # fmt: skip


# ----------------------------------------------------------------------------- the check bites
def test_a_changed_tie_break_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serving equal times last-in first (the counters that order equal event times and equal
    due times run backwards) changes the log, and the comparison says so."""
    sc = preset("default")
    for path, value in SHORT.items():
        sc = set_path(sc, path, value)
    ref = run(sc, "simpy", 3)
    new_state = kernel.new_state

    def backwards(*args: Any) -> tuple[np.ndarray, ...]:
        arrays = new_state(*args)
        arrays[-1][kernel.S_STEP] = -1
        return arrays

    monkeypatch.setattr(kernel, "new_state", backwards)
    changed = run(sc, "fast", 3)
    assert changed.engine == "fast"
    assert differences(ref, changed)  # caught
    monkeypatch.undo()
    assert differences(ref, run(sc, "fast", 3)) == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_changed_tie_break_among_policy_items_is_caught(monkeypatch: pytest.MonkeyPatch,
                                                          assignment: str) -> None:  # fmt: skip
    """Serving equal policy keys last-in first (the sequence numbers of the work-policy items
    alone run backwards: team queue, shared pull queue, ready heaps) changes the log of a
    new_first team, and the comparison says so; a plain team's log is untouched by it."""
    sc = busy("new_first", assignment)
    plain = busy("due_first", "immediate")
    ref, ref_plain = run(sc, "simpy", 3), run(plain, "simpy", 3)
    new_state = kernel.new_state

    def backwards(*args: Any) -> tuple[np.ndarray, ...]:
        arrays = new_state(*args)
        arrays[-1][kernel.S_PSIGN] = -1
        return arrays

    monkeypatch.setattr(kernel, "new_state", backwards)
    changed = run(sc, "fast", 3)
    assert changed.engine == "fast"
    assert differences(ref, changed)  # caught
    assert differences(ref_plain, run(plain, "fast", 3)) == []  # only policy items
    monkeypatch.undo()
    assert differences(ref, run(sc, "fast", 3)) == []


@pytest.mark.parametrize("work_order", WORK_ORDERS)
def test_priority_classes_the_fast_engine_ignores_are_caught(monkeypatch: pytest.MonkeyPatch,
                                                             work_order: str) -> None:  # fmt: skip
    """The fast engine with every lead in the first class (as if it dropped the classes)
    writes another log than SimPy's, and the comparison says so."""
    from sla_sim.model import policies

    sc = busy(work_order, "pull", **PRIORITIES["several channels"])
    ref = run(sc, "simpy", 3)
    real = policies.priority_classes
    monkeypatch.setattr(policies, "priority_classes",
                        lambda *args: [0] * len(real(*args)))  # fmt: skip
    changed = run(sc, "fast", 3)
    assert changed.engine == "fast"
    assert differences(ref, changed)  # caught
    monkeypatch.undo()
    assert differences(ref, run(sc, "fast", 3)) == []


# ----------------------------------------------------------------------------- selection, facts
def test_simpy_is_selected_and_an_uncovered_feature_falls_back_naming_it(tiny_factory: Any
                                                                         ) -> None:  # fmt: skip
    """Work orders, pull, priority classes, reassignment, overflow teams, days off, reps' own
    calendars, hires and attrition run on the fast engine (nothing is left uncovered, even
    with every feature at once); ``engine: simpy`` selects the reference, named in the run
    facts."""
    plain = tiny_factory()
    assert engine_for(plain) == ("fast", "")
    assert describe(plain.model_copy(update={"engine": "simpy"})) == (
        "simpy (selected by engine: simpy)")
    policy = tiny_factory({"teams[0].work_order": "new_first", "teams[0].assignment": "pull"})
    assert engine_for(policy) == ("fast", "")
    cal = plain.teams[0].calendar.model_dump(mode="json")
    staffed = tiny_factory({"teams[0].pto_days_per_year": 10,
                            "teams[0].rep_calendars": [cal] * plain.teams[0].reps})
    assert engine_for(staffed) == ("fast", "")
    for by, order in (("channel", ["partner"]), ("segment", ["mid_market"])):
        prio = tiny_factory({"routing.priority_by": by, "routing.priority_order": order,
                             "teams[0].work_order": "new_first"})  # fmt: skip
        assert engine_for(prio) == ("fast", "")
    reassign = tiny_factory({"teams[0].reassign_after_business_hours": 2.0,
                             "teams[0].work_order": "new_first"})  # fmt: skip
    assert engine_for(reassign) == ("fast", "")
    hires = tiny_factory({"teams[0].hires": [{"start": "2026-03-10", "reps": 1}],
                          "teams[0].ramp_by_tenure_month": [0.5],
                          "teams[0].work_order": "new_first"})  # fmt: skip
    assert engine_for(hires) == ("fast", "")
    every = tiny_factory({"teams[0].reassign_after_business_hours": 2.0,
                          "routing.priority_by": "channel", "routing.priority_order": ["partner"],
                          "teams[0].attrition_per_month": 0.1, "teams[0].backfill_delay_days": 3,
                          "teams[0].hires": [{"start": "2026-03-10", "reps": 1}],
                          "teams[0].ramp_by_tenure_month": [0.5],
                          "teams[0].pto_days_per_year": 10,
                          "routing.skip_unavailable": True})  # fmt: skip
    assert engine_for(every) == ("fast", "")
    raw = plain.model_dump(mode="json")
    sdr, names = raw["teams"][0], [c.name for c in plain.channels]
    raw["routing"]["team_rule"] = "by_channel"
    raw["teams"] = [{**sdr, "channels": names[:1], "overflow_team": "night",
                     "reassign_after_business_hours": 1.0},
                    {**sdr, "name": "night", "channels": names[1:]}]  # fmt: skip
    two = Scenario.model_validate(raw)
    assert engine_for(two) == ("fast", "")
    raw["teams"][1] |= {"attrition_per_month": 0.1, "overflow_team": "sdr",
                        "reassign_after_business_hours": 0.5, "work_order": "new_first"}
    assert engine_for(Scenario.model_validate(raw)) == ("fast", "")
    r = run_replications(every, reps=1, seed=1, workers=1, progress=False)
    assert r.meta["engine"] == "fast"
    r = run_replications(every.model_copy(update={"engine": "simpy"}), reps=1, seed=1, workers=1,
                         progress=False)  # fmt: skip
    assert r.meta["engine"] == "simpy (selected by engine: simpy)"
    r = run_replications(staffed, reps=1, seed=1, workers=1, progress=False)
    assert r.meta["engine"] == "fast"
    r = run_replications(policy, reps=1, seed=1, workers=1, progress=False)
    assert r.meta["engine"] == "fast"


def test_a_field_the_fast_engine_does_not_know_falls_back(monkeypatch: pytest.MonkeyPatch,
                                                          tiny_factory: Any) -> None:  # fmt: skip
    """A scenario field added after the fast engine was written (here: the AE slot cap, as if
    it were new) makes a scenario that sets it run on SimPy, naming the field; at its default
    nothing changes. Today every preset uses only fields the fast engine knows."""
    assert all(unknown_fields(preset(name)) == [] for name in preset_names())
    fast = tuple(f for f in coverage.FAST["AESpec"] if f != "max_open_opportunities")
    monkeypatch.setitem(coverage.FAST, "AESpec", fast)
    sc = tiny_factory({"ae.max_open_opportunities": 3})
    assert engine_for(sc) == (
        "simpy", "fallback: the fast engine does not cover ae.max_open_opportunities")
    default_cap = type(sc.ae).model_fields["max_open_opportunities"].default
    assert engine_for(tiny_factory({"ae.max_open_opportunities": default_cap}))[0] == "fast"
    model = run(sc, "fast", 1)
    assert model.engine == "simpy"


def test_memory_follows_the_leads_not_the_slot_cap() -> None:
    """'Unlimited' capacity (500 reps, a million slots each) takes memory for the leads the
    reps hold, not for the cap: one shortened replication allocates well under 200 MiB (a
    task heap sized by the cap would ask for gigabytes), and its log is SimPy's."""
    import tracemalloc

    from sla_sim.analysis.reductions import unlimited_capacity_scenario

    sc = unlimited_capacity_scenario(preset("default"))
    for path, value in {"horizon.warmup_days": 0, "horizon.measure_months": 1}.items():
        sc = set_path(sc, path, value)
    ref = run(sc, "simpy", 5)
    tracemalloc.start()
    try:
        fast = run(sc, "fast", 5)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fast.engine == "fast"
    assert peak < 200 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    assert differences(ref, fast) == []


@pytest.mark.parametrize(("order", "assignment"), [("due_first", "immediate"),
                                                   ("deadline_first", "pull")])  # fmt: skip
def test_the_fast_engine_frees_every_array_it_allocates(order: str, assignment: str) -> None:
    """The loop works on borrowed views of its arrays (kernel._borrow) and regrows the arrays
    it owns between its steps: numba's allocator frees exactly what it allocates in a
    replication (the task heaps, event heap and rows all grow here), and the log is SimPy's."""
    import gc

    from numba.core.runtime import _nrt_python as nrt

    sc = busy(order, assignment)
    ref = run(sc, "simpy", 3)
    run(sc, "fast", 3)  # compiled and loaded before counting
    was = nrt.memsys_stats_enabled()
    nrt.memsys_enable_stats()
    try:
        gc.collect()
        before = (nrt.memsys_get_stats_alloc(), nrt.memsys_get_stats_free())
        fast = run(sc, "fast", 3)
        assert fast.engine == "fast"
        assert differences(ref, fast) == []
        del fast
        gc.collect()
        after = (nrt.memsys_get_stats_alloc(), nrt.memsys_get_stats_free())
    finally:
        if not was:
            nrt.memsys_disable_stats()
    allocated, freed = after[0] - before[0], after[1] - before[1]
    assert allocated > 0
    assert allocated == freed, f"{allocated} allocated, {freed} freed"
