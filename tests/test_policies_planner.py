"""The planner's policy levers and its plain statement of what the current settings change
against the baseline (SLA terms only, or behaviour)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ci_env import require

require("ipywidgets", "the planner panel needs it: pip install -e .[notebook]")  # fails on CI
from sla_sim.planner.engine import Planner, levers_for  # noqa: E402
from sla_sim.planner.panel import PlannerPanel  # noqa: E402


@pytest.fixture(scope="module")
def planner() -> Iterator[Planner]:
    p = Planner(reps=2, workers=1)
    yield p
    p.close()


def test_policy_levers_set_their_fields(tiny_scenario: Any) -> None:
    levers = {lv.name: lv for lv in levers_for(tiny_scenario)}
    assert {"work_order", "reassign_after", "hires_per_month", "ramp"} <= set(levers)
    sc = levers["reassign_after"].set(tiny_scenario, 2.0)
    assert sc.teams[0].reassign_after_business_hours == 2.0
    assert levers["reassign_after"].set(sc, 0.0).teams[0].reassign_after_business_hours is None
    sc = levers["hires_per_month"].set(tiny_scenario, 3)
    assert [(h.start, h.reps) for h in sc.teams[0].hires] == [
        (tiny_scenario.horizon.measure_start, 3)]
    assert {lv.name: lv for lv in levers_for(sc)}["hires_per_month"].value == 3
    sc = levers["ramp"].set(sc, "3 months (25/50/75%)")
    assert sc.teams[0].ramp_by_tenure_month == [0.25, 0.5, 0.75]


def test_the_sdr_lever_resizes_a_weekend_rota(tiny_scenario: Any) -> None:
    """On a team with one calendar per rep (a recommended weekend rota), moving the SDR lever
    gives a valid scenario whose rota grows or shrinks with the team, keeping its share."""
    from sla_sim.scenario.io import set_path

    team = tiny_scenario.teams[0]
    week = team.calendar.model_dump()
    weekend = {**week, "working_days": [2, 3, 4, 5, 6]}
    n = team.reps
    rota = [week] * (n - n // 4) + [weekend] * (n // 4)
    sc = set_path(tiny_scenario, f"teams[{team.name}].rep_calendars", rota)
    lever = {lv.name: lv for lv in levers_for(sc)}["sdr_count"]
    for m in (2 * n, n - 2):
        out = lever.set(sc, m).teams[0]
        assert out.reps == m
        assert len(out.rep_calendars) == m
        share = sum(c.working_days == [2, 3, 4, 5, 6] for c in out.rep_calendars) / m
        assert abs(share - (n // 4) / n) <= 1 / m
    assert lever.set(sc, 2 * n).teams[0].calendar == team.calendar  # the SLA clock's calendar


def test_panel_says_whether_only_the_sla_terms_differ(tiny_scenario: Any,
                                                      planner: Planner) -> None:  # fmt: skip
    """The compare block under the charts (baseline vs current) starts with the plain
    statement; results here come from run_replications, the same as the panel's."""
    from sla_sim import run_replications
    from sla_sim.scenario.io import set_path

    panel = PlannerPanel(scenario=tiny_scenario, planner=planner)

    def results(sc: Any) -> Any:
        return run_replications(sc, reps=2, seed=3, workers=1, progress=False)

    base = results(tiny_scenario)
    panel.baseline = base
    panel.results = results(set_path(tiny_scenario, "sla.first_touch_within_business_hours",
                                      1.0))  # fmt: skip
    panel._update_compare()
    assert "SLA terms only: the simulated behaviour is identical" in panel.compare_table.value
    panel.results = results(set_path(tiny_scenario, "teams[0].work_order", "new_first"))
    panel._update_compare()
    assert ("Behaviour differs: policy (Work order (team sdr) Earliest due attempt first →"
            " New MQLs before follow-ups)"
            in panel.compare_table.value)
