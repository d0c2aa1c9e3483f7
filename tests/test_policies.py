"""Policies that change behaviour (work order, priority, pull, reassignment) and the backlog of
assigned-but-untouched MQLs: hand-checked logs, defaults unchanged, and small simulated cases.

The statistical checks against queueing theory are in tests/test_policies_theory.py.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from both_engines import run_reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla_sim.analysis.reductions import mmc_scenario
from sla_sim.errors import ScenarioError
from sla_sim.events import CODE, EventLog
from sla_sim.metrics import METRIC_DOCS, compute
from sla_sim.metrics.backlog import Backlog, assignments
from sla_sim.model.funnel import FunnelModel
from sla_sim.model.policies import PolicyRep, has_policy, reads_sla
from sla_sim.scenario.io import set_path, validate
from sla_sim.scenario.presets import preset
from sla_sim.scenario.schema import Scenario
from sla_sim.streams import Streams, replication_seed

JAN_H = 31 * 24.0
Row = tuple[int, int, float, int, int, int, int, float]


def ev(lead: int, time_h: float, name: str, *, rep: int = 0, attempt: int = -1,
       value: float = math.nan, team: int = 0) -> Row:  # fmt: skip
    return (lead, 1, time_h, CODE[name], team, rep, attempt, value)


def jan_scenario(**changes: Any) -> Scenario:
    """The default preset measured over January 2026 (no warm-up), one team of two reps 24/7."""
    sc = preset("default")
    paths = {"horizon.warmup_days": 0, "horizon.measure_months": 1, "teams[0].reps": 2,
             "teams[0].calendar.always_open": True}
    paths |= {k.replace("__", "."): v for k, v in changes.items()}
    for path, value in paths.items():
        sc = set_path(sc, path, value)
    return sc


def make_log(sc: Scenario, rows: list[Row]) -> EventLog:
    n = 1 + max(r[0] for r in rows)
    log = EventLog(sc.channel_names(), ["mid_market"], sc.team_names())
    log.set_leads(np.zeros(n), np.zeros(n), np.zeros(n), np.full(n, 70.0))
    log.rows.extend(rows)
    return log


def with_paths(sc: Scenario, **paths: Any) -> Scenario:
    for path, value in paths.items():
        sc = set_path(sc, path.replace("__", "."), value)
    return sc


def run(sc: Scenario, seed: int = 5, rep: int = 0) -> tuple[FunnelModel, dict[str, np.ndarray]]:
    """``sc`` on the SimPy reference (checked against the fast engine where it covers ``sc``)."""
    model = run_reference(sc, lambda s: FunnelModel(s, Streams(replication_seed(seed, rep))))
    return model, model.log.columns()


# ---------------------------------------------------------------------- backlog, by hand
BACKLOG_ROWS = [
    ev(0, 9.0, "mql"), ev(0, 10.0, "routed"), ev(0, 10.0, "assigned", rep=0),
    ev(0, 30.0, "attempt", rep=0, attempt=0, value=0.5),
    ev(1, 99.0, "mql"), ev(1, 100.0, "routed"), ev(1, 100.0, "assigned", rep=1),
    ev(1, 105.0, "reassigned", rep=1, value=1.0), ev(1, 105.0, "routed"),
    ev(1, 105.0, "assigned", rep=0),
    ev(1, 110.0, "attempt", rep=0, attempt=0, value=0.5),
    ev(1, 112.0, "attempt", rep=0, attempt=1, value=0.5),  # a follow-up: not backlog
    ev(2, 700.0, "mql"), ev(2, 704.0, "routed"), ev(2, 704.0, "assigned", rep=1),
]  # fmt: skip


def test_backlog_is_time_weighted_assigned_but_untouched() -> None:
    """Three assignments end at a first attempt or a reassignment; one is open at the end.

    Levels: lead 0 [10, 30), lead 1 [100, 105) then [105, 110), lead 2 [704, 744): 70 h in a
    744 h month; ages 20, 5, 5 and 40 (open: its age at the end of the window)."""
    sc = jan_scenario()
    table = compute(make_log(sc, BACKLOG_ROWS), sc).set_index(["period", "metric"])["value"]
    assert table[("total", "sdr_backlog_mean")] == pytest.approx(70.0 / JAN_H)
    assert table[("total", "sdr_backlog_max")] == 1.0
    assert table[("total", "sdr_backlog_age_p90")] == pytest.approx(np.percentile([20, 5, 5, 40],
                                                                                  90))
    assert table[("total", "sdr_queue_mean")] == 0.0  # every MQL found a slot at once
    log = make_log(sc, BACKLOG_ROWS)
    b = Backlog(assignments(log.columns(sort=False), log.event_rows()), JAN_H)
    per_rep = {(t, r): (mean, mx) for t, r, mean, mx, _ in b.by_holder(0.0, JAN_H, True)}
    assert per_rep[(0, 0)] == (pytest.approx(25.0 / JAN_H), 1.0)
    assert per_rep[(0, 1)] == (pytest.approx(45.0 / JAN_H), 1.0)
    (team_row,) = b.by_holder(0.0, JAN_H, False)
    assert team_row[2] == pytest.approx(70.0 / JAN_H)


def test_backlog_metrics_are_documented() -> None:
    for name in ("sdr_backlog_mean", "sdr_backlog_max", "sdr_backlog_age_p90",
                 "sdr_reassigned", "sdr_escalated", "sdr_reassigned_rate", "sdr_escalated_rate"):
        assert name in METRIC_DOCS


def test_backlog_shows_the_private_queue_the_slot_queue_misses(tiny_scenario: Scenario) -> None:
    """The default scenario: no lead ever waits for a slot, yet MQLs wait in the backlog."""
    model, _ = run(tiny_scenario)
    table = compute(model.log, tiny_scenario).set_index(["period", "metric"])["value"]
    assert table[("total", "sdr_queue_mean")] == 0.0
    assert table[("total", "sdr_backlog_mean")] > 1.0
    assert table[("total", "sdr_backlog_age_p90")] > 1.0


# ---------------------------------------------------------------------- defaults, schema
def test_default_scenarios_use_no_policy_classes() -> None:
    for name in ("mid_market", "smb_inbound", "enterprise"):
        sc = preset(name)
        assert not any(has_policy(sc, i) for i in range(len(sc.teams)))
        assert not reads_sla(sc)


def test_policy_rep_with_default_policy_reproduces_the_plain_rep(tiny_scenario, monkeypatch
                                                                  ) -> None:  # fmt: skip
    """The policy machinery at default settings makes the same log as the plain Rep: the two
    code paths agree on what 'due_first, immediate' means."""
    import sla_sim.model.funnel as funnel

    _, plain = run(tiny_scenario)
    monkeypatch.setattr(funnel, "has_policy", lambda sc, i: True)
    model, forced = run(tiny_scenario.model_copy(update={"engine": "simpy"}))  # reps read
    assert isinstance(model.teams[0].reps[0], PolicyRep)
    assert plain.keys() == forced.keys()
    for k in plain:
        np.testing.assert_array_equal(plain[k], forced[k], err_msg=k)


@pytest.mark.parametrize(
    ("paths", "field", "rule"),
    [
        ({"teams[0].overflow_team": "nobody"}, "teams[0].overflow_team", "must name another team"),
        ({"teams[0].overflow_team": "sdr"}, "teams[0].overflow_team", "must name another team"),
        ({"teams[0].reassign_after_business_hours": 1.0, "teams[0].assignment": "pull"},
         "teams[0].reassign_after_business_hours", "assignment: immediate"),
        ({"routing.priority_order": ["inbound"]}, "routing.priority_order", "priority_by"),
        ({"routing.priority_by": "channel", "routing.priority_order": ["nope"]},
         "routing.priority_order", "names an unknown channel"),
        ({"routing.priority_by": "segment", "routing.priority_order": ["smb", "smb"]},
         "routing.priority_order", "unique"),
    ],
)
def test_policy_fields_are_validated(paths: dict[str, Any], field: str, rule: str) -> None:
    raw = preset("default").model_dump(mode="json")
    for path, value in paths.items():
        head, _, leaf = path.rpartition(".")
        node: Any = raw
        for part in head.replace("]", "").replace("[", ".").split("."):
            node = node[int(part)] if part.isdigit() else node[part]
        node[leaf] = value
    with pytest.raises(ScenarioError) as err:
        validate(raw)
    text = str(err.value)
    assert field in text
    assert rule in text


# ---------------------------------------------------------------------- pull and work order
def mmc_pull(lam: float, c: int, hours: float, **paths: Any) -> Scenario:
    sc = mmc_scenario(lam, 1.0, c, hours)
    sc = set_path(sc, "teams[0].max_active_leads", 80)
    sc = set_path(sc, "teams[0].assignment", "pull")
    return with_paths(sc, **paths)


def test_pull_assigns_at_the_first_attempt_and_never_holds_a_backlog() -> None:
    sc = mmc_pull(2.5, 3, 300.0)
    model, cols = run(sc)
    ev_, lead = cols["event"], cols["lead"]
    n = model.n_leads
    assigned = np.full(n, np.nan)
    first = np.full(n, np.nan)
    a = ev_ == CODE["assigned"]
    assigned[lead[a]] = cols["time_h"][a]
    f = (ev_ == CODE["attempt"]) & (cols["attempt"] == 0)
    first[lead[f]] = cols["time_h"][f]
    both = ~np.isnan(first)
    np.testing.assert_array_equal(assigned[both], first[both])
    # a rep never has two attempts at once, and no lead waits while a rep is idle: when the
    # team queue is non-empty every rep is mid-attempt (work-conserving)
    table = compute(model.log, sc).set_index(["period", "metric"])["value"]
    assert table[("total", "sdr_backlog_mean")] == 0.0
    assert table[("total", "sdr_queue_mean")] > 0.0


def test_new_first_takes_first_attempts_before_follow_ups(tiny_scenario: Scenario) -> None:
    """With new_first the first touch comes sooner, follow-ups later, than with due_first."""
    base = compute(run(tiny_scenario)[0].log, tiny_scenario).set_index(["period", "metric"])
    sc = set_path(tiny_scenario, "teams[0].work_order", "new_first")
    new = compute(run(sc)[0].log, sc).set_index(["period", "metric"])
    b, n = base["value"], new["value"]
    assert n[("total", "response_hours_p90")] < b[("total", "response_hours_p90")]
    assert n[("total", "sdr_backlog_age_p90")] < b[("total", "sdr_backlog_age_p90")]


# ---------------------------------------------------------------------- reassignment
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(r_hours=st.sampled_from([0.1, 0.25, 0.5, 1.0]), max_re=st.integers(1, 3),
       seed=st.integers(0, 10_000), overflow=st.booleans())  # fmt: skip
def test_reassignment_properties(r_hours: float, max_re: int, seed: int, overflow: bool) -> None:
    """No assignment lasts beyond the reassignment time unless the limit was reached; no
    episode is reassigned more than the limit; every lead still ends in one terminal state."""
    sc = preset("default")
    paths: dict[str, Any] = {"horizon.warmup_days": 3, "horizon.measure_months": 1,
                             "horizon.measure_start": "2026-02-01",
                             "teams[0].reps": 3, "teams[0].calendar.always_open": True,
                             "teams[0].reassign_after_business_hours": r_hours,
                             "teams[0].max_reassignments": max_re}  # fmt: skip
    for p, v in paths.items():
        sc = set_path(sc, p, v)
    if overflow:
        raw = sc.model_dump(mode="json")
        raw["routing"]["team_rule"] = "by_channel"
        raw["teams"][0]["channels"] = [c["name"] for c in raw["channels"]]
        raw["teams"].append({"name": "backup", "reps": 2, "calendar": {"always_open": True}})
        raw["teams"][0]["overflow_team"] = "backup"
        raw["teams"][0]["max_active_leads"] = 15
        sc = Scenario.model_validate(raw)
    model = run_reference(sc, lambda s: FunnelModel(s, Streams(replication_seed(seed, 0))))
    log = model.log  # run() reconciles terminal states against the log
    cols = log.columns(sort=False)
    re_rows = cols["event"] == CODE["reassigned"]
    # the count recorded with each reassignment never exceeds the limit, nor does the number
    # of reassignments of any episode
    assert (cols["value"][re_rows] <= max_re).all()
    key = cols["lead"][re_rows].astype(np.int64) * (1 << 16) + cols["episode"][re_rows]
    assert not len(key) or np.unique(key, return_counts=True)[1].max() <= max_re
    # an assignment to team 0 made before its episode used up the limit ends (first touch or
    # taken back) within R hours (24/7 calendar), or is younger than R at the horizon
    a = assignments(cols, log.event_rows())
    age = np.where(np.isnan(a.end), model.end_h, a.end) - a.start
    bound = (a.team == 0) & (a.order_in_episode() < max_re)
    assert (age[bound] <= r_hours + 1e-6).all(), age[bound].max()
    # conservation: every assignment ends once; escalations happen only with an overflow team
    ended = ~np.isnan(a.end)
    first = (cols["event"] == CODE["attempt"]) & (cols["attempt"] == 0)
    assert ended.sum() <= re_rows.sum() + first.sum()
    assert overflow or not (cols["event"] == CODE["escalated"]).any()


def test_reassignment_lowers_first_touch_p90_when_one_rep_is_overloaded() -> None:
    """One rep alone serves the inbound channel (far more work than one rep can do); a backup
    team of ten serves the rest. Reassigning an inbound lead untouched after 1 business hour
    escalates it to the backup team, and the first-touch P90 falls (same seed: common random
    numbers)."""
    raw = preset("default").model_dump(mode="json")
    raw["horizon"] |= {"warmup_days": 3, "measure_months": 1}
    raw["routing"]["team_rule"] = "by_channel"
    names = [c["name"] for c in raw["channels"]]
    solo = dict(raw["teams"][0], name="solo", reps=1, channels=["inbound"])
    backup = dict(raw["teams"][0], name="backup", reps=10, channels=names[1:])
    raw["teams"] = [solo, backup]
    sc = Scenario.model_validate(raw)
    base = compute(run(sc, seed=3)[0].log, sc).set_index(["period", "metric"])["value"]
    raw["teams"][0] |= {"reassign_after_business_hours": 1.0, "overflow_team": "backup"}
    sc_re = Scenario.model_validate(raw)
    re = compute(run(sc_re, seed=3)[0].log, sc_re).set_index(["period", "metric"])["value"]
    assert re[("total", "sdr_escalated")] > 100
    assert re[("total", "sdr_reassigned")] == re[("total", "sdr_escalated")]  # nobody else
    assert re[("total", "response_business_hours_p90")] < 0.5 * base[
        ("total", "response_business_hours_p90")]


def test_deadline_first_reads_the_sla_so_sla_changes_are_simulated_again(tiny_scenario) -> None:
    """SLA terms change deadline_first's order: such scenarios are not 'SLA-only' variants of
    each other (their simulation keys differ) and simulate differently; other scenarios that
    differ in the SLA share one simulation."""
    from sla_sim.batch.worker import simulation_key

    loose = set_path(tiny_scenario, "sla.first_touch_within_business_hours", 40.0)
    assert simulation_key(tiny_scenario) == simulation_key(loose)
    edf = set_path(tiny_scenario, "teams[0].work_order", "deadline_first")
    edf_loose = set_path(edf, "sla.first_touch_within_business_hours", 40.0)
    assert reads_sla(edf)
    assert simulation_key(edf) != simulation_key(edf_loose)
    a, b = run(edf)[1], run(edf_loose)[1]
    assert len(a["time_h"]) != len(b["time_h"]) or not np.array_equal(a["time_h"], b["time_h"])


def test_compare_says_when_only_sla_terms_differ(tiny_scenario) -> None:
    """SLA terms only vs policy vs capacity, said plainly."""
    from sla_sim.batch.difference import SLA_ONLY, describe_difference

    a = tiny_scenario
    sla = set_path(a, "sla.first_touch_within_business_hours", 1.0)
    assert describe_difference(a, sla).startswith(SLA_ONLY)
    assert "sla.first_touch_within_business_hours" in describe_difference(a, sla)
    policy = set_path(sla, "teams[0].reassign_after_business_hours", 1.0)
    text = describe_difference(a, policy)
    assert text.startswith("Behaviour differs: policy (teams[sdr].reassign_after_business_hours)")
    assert "SLA terms (sla.first_touch_within_business_hours)" in text
    hires = set_path(a, "teams[0].reps", 14)
    assert describe_difference(a, hires) == "Behaviour differs: capacity (teams[sdr].reps)."
    edf = set_path(a, "teams[0].work_order", "deadline_first")
    edf_sla = set_path(edf, "sla.first_touch_within_business_hours", 1.0)
    assert "behaviour differs too" in describe_difference(edf, edf_sla)
    assert describe_difference(a, a).startswith("A and B are the same scenario")
    # the planner names fields in words, with both values
    from sla_sim.report.units import field_label

    assert describe_difference(a, hires, label=field_label) == (
        "Behaviour differs: capacity (SDRs (team sdr) 10 → 14).")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(assignment=st.sampled_from(["immediate", "pull"]),
       order=st.sampled_from(["due_first", "new_first", "deadline_first"]),
       priority=st.sampled_from(["none", "channel", "segment"]),
       rule=st.sampled_from(["round_robin", "least_loaded"]),
       reassign=st.sampled_from([None, 0.5, 2.0]), staffed=st.booleans(),
       seed=st.integers(0, 1000))  # fmt: skip
def test_any_policy_mix_conserves_leads_and_never_double_books_a_rep(
        assignment: str, order: str, priority: str, rule: str, reassign: float | None,
        staffed: bool, seed: int) -> None:  # fmt: skip
    """Whatever the mix of policies and staffing: every lead ends in one terminal state (run()
    reconciles), a rep never starts an attempt before its previous one ended, and pull never
    leaves a lead assigned but untouched."""
    raw = preset("default").model_dump(mode="json")
    raw["horizon"] |= {"warmup_days": 2, "measure_months": 1, "measure_start": "2026-03-01"}
    team = raw["teams"][0]
    team |= {"reps": 4, "assignment": assignment, "work_order": order, "max_active_leads": 30}
    if reassign is not None and assignment == "immediate":
        team["reassign_after_business_hours"] = reassign
    if staffed:
        team |= {"hires": [{"start": "2026-03-10", "reps": 2}], "ramp_by_tenure_month": [0.5],
                 "attrition_per_month": 0.2, "backfill_delay_days": 5, "pto_days_per_year": 20}
    raw["routing"]["rep_rule"] = rule
    if priority == "channel":
        raw["routing"] |= {"priority_by": "channel", "priority_order": ["partner", "inbound"]}
    elif priority == "segment":
        seg = next(iter(raw["channels"][0]["segment_mix"]))
        raw["routing"] |= {"priority_by": "segment", "priority_order": [seg]}
    sc = validate(raw)
    model = run_reference(sc, lambda s: FunnelModel(s, Streams(replication_seed(seed, 0))))
    log = model.log
    cols = log.columns()
    att = cols["event"] == CODE["attempt"]
    for r in np.unique(cols["rep"][att]):
        mine = att & (cols["rep"] == r) & (cols["team"] == 0)
        start, length = cols["time_h"][mine], cols["value"][mine]
        assert (start[1:] >= start[:-1] + length[:-1] - 1e-9).all(), f"rep {r} double-booked"
    if assignment == "pull":
        table = compute(log, sc).set_index(["period", "metric"])["value"]
        assert table[("total", "sdr_backlog_max")] == 0.0
