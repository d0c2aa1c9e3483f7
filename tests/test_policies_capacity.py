"""Capacity over time: staffing plans (hires, ramp, attrition with backfill, days off, per-rep
calendars) and availability-aware routing. Deterministic capacity sums by hand, common random
numbers for a hire, and the hand-over of a leaver's leads; each run on both engines, whose
logs must be the same."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from both_engines import run_reference

from sla_sim.errors import ScenarioError
from sla_sim.events import CODE
from sla_sim.metrics import compute
from sla_sim.model.funnel import FunnelModel
from sla_sim.scenario.io import validate
from sla_sim.scenario.presets import preset
from sla_sim.scenario.schema import Scenario
from sla_sim.streams import Streams, replication_seed

Z = 3.5


def scenario(team: dict[str, Any], months: int = 3, warmup: int = 0, tz: str = "UTC",
             always_open: bool = True, **top: Any) -> Scenario:  # fmt: skip
    """The default preset from 2026-01-01 in ``tz`` with the team fields ``team``."""
    raw = preset("default").model_dump(mode="json")
    raw["horizon"] |= {"measure_start": "2026-01-01", "measure_months": months,
                       "warmup_days": warmup, "timezone": tz}  # fmt: skip
    raw["teams"][0]["calendar"] |= {"timezone": tz, "always_open": always_open}
    raw["teams"][0] |= team
    raw |= top
    return validate(raw)


def run(sc: Scenario, seed: int = 1, rep: int = 0) -> tuple[FunnelModel, Any]:
    """The SimPy reference's run (its model and log); the fast engine, which covers every
    staffing plan, must write the same log (:func:`both_engines.run_reference`)."""
    model = run_reference(sc, lambda s: FunnelModel(s, Streams(replication_seed(seed, rep))))
    return model, model.log


def table(sc: Scenario, log: Any) -> Any:
    return compute(log, sc).set_index(["period", "metric"])["value"]


def test_capacity_hours_equal_the_plan_on_a_24_7_team() -> None:
    """Two reps 24/7 from the start; one hire on 1 February at 50% speed in its first month.

    January: 2 x 744 h; February: 2 x 672 + 0.5 x 672; March: 3 x 744 (the hire at full
    speed from 1 March)."""
    sc = scenario({"reps": 2, "hires": [{"start": "2026-02-01", "reps": 1}],
                   "ramp_by_tenure_month": [0.5]})  # fmt: skip
    _, log = run(sc)
    t = table(sc, log)
    plan = {"2026-01": 2 * 744.0, "2026-02": 2.5 * 672.0, "2026-03": 3 * 744.0}
    for month, hours in plan.items():
        assert t[(month, "sdr_capacity_hours")] == hours
    assert t[("total", "sdr_capacity_hours")] == sum(plan.values())


def test_capacity_hours_equal_the_plan_on_office_hours() -> None:
    """Three reps Mon-Fri 9-17 New York, one hire on Monday 2 March ramping 25/50%:
    January 2026 has 22 weekdays, February 20, March 22 (1 March is a Sunday: all 22 on the
    team for the hire, in its first ramp month, which ends on 2 April). No daylight-saving
    change falls inside working hours."""
    sc = scenario({"reps": 3, "hires": [{"start": "2026-03-02", "reps": 1}],
                   "ramp_by_tenure_month": [0.25, 0.5]}, tz="America/New_York",
                  always_open=False)  # fmt: skip
    _, log = run(sc)
    t = table(sc, log)
    assert t[("2026-01", "sdr_capacity_hours")] == 3 * 22 * 8.0
    assert t[("2026-02", "sdr_capacity_hours")] == 3 * 20 * 8.0
    assert t[("2026-03", "sdr_capacity_hours")] == 3 * 22 * 8.0 + 0.25 * 22 * 8.0
    # the rows the metric reads: on/off pairs, the hire's first one on its first morning
    cols = log.columns()
    on = (cols["event"] == CODE["rep_on"]) & (cols["rep"] == 3)
    first_on = cols["time_h"][on].min()
    assert first_on == pytest.approx((31 + 28 + 1) * 24.0 + 9.0)  # 2 March 09:00 EST


def test_days_off_remove_whole_working_days_at_the_planned_rate() -> None:
    """20 PTO days a year on a Mon-Fri team: each working day is off with p = 20 / 260.89;
    the capacity lost matches p within 3.5 binomial standard errors."""
    reps, days = 40, 22 + 20 + 22
    sc = scenario({"reps": reps, "pto_days_per_year": 20.0}, tz="America/New_York",
                  always_open=False)  # fmt: skip
    _, log = run(sc, seed=4)
    lost = 1 - table(sc, log)[("total", "sdr_capacity_hours")] / (reps * days * 8.0)
    p = 20.0 / (5 * 365.25 / 7)
    se = np.sqrt(p * (1 - p) / (reps * days))
    assert abs(lost - p) < Z * se, f"lost {lost:.4f}, planned {p:.4f} ± {se:.4f}"


@pytest.mark.slow
def test_a_hire_in_month_3_lowers_month_4_breaches_with_common_random_numbers() -> None:
    """Nine reps where twelve are needed; four hires on 1 March (ramp 50/75%). Everything
    before the hires' first day is the same event for event; April's first-touch breaches
    fall in every replication and on average by far more than 3.5 SE."""
    def make(hires: list[dict[str, Any]]) -> Scenario:
        return scenario({"reps": 9, "hires": hires, "ramp_by_tenure_month": [0.5, 0.75]},
                        months=4, warmup=14, tz="America/New_York", always_open=False)

    base, hired = make([]), make([{"start": "2026-03-01", "reps": 4}])
    diffs = []
    for r in range(4):
        _, lb = run(base, seed=3, rep=r)
        mh, lh = run(hired, seed=3, rep=r)
        join = mh.teams[0].reps[9].join_h
        cb, ch = lb.columns(), lh.columns()
        keep_b = (cb["time_h"] < join) & (cb["lead"] >= 0)
        keep_h = (ch["time_h"] < join) & (ch["lead"] >= 0)
        for k in cb:
            np.testing.assert_array_equal(cb[k][keep_b], ch[k][keep_h], err_msg=k)
        tb, th = table(base, lb), table(hired, lh)
        assert tb[("2026-01", "first_touch_breached")] == th[("2026-01", "first_touch_breached")]
        diffs.append(tb[("2026-04", "first_touch_breached")]
                     - th[("2026-04", "first_touch_breached")])  # fmt: skip
    d = np.array(diffs)
    assert (d > 0).all(), d
    assert d.mean() > Z * d.std(ddof=1) / np.sqrt(len(d)), d


def test_leavers_hand_their_leads_over_and_nothing_is_lost() -> None:
    """High attrition with backfill: every rep's attempts start while it is on the team, a
    leaver holds nothing at the end, untouched leads are routed again (``reassigned``), and
    run() reconciles every lead."""
    sc = scenario({"reps": 4, "attrition_per_month": 0.5, "backfill_delay_days": 10,
                   "ramp_by_tenure_month": [0.5]}, months=2)  # fmt: skip
    model, log = run(sc, seed=8)
    team = model.teams[0]
    assert len(team.reps) > 4  # backfills joined
    left = [r for r in team.reps if r.leave_h < model.end_h]
    assert left
    cols = log.columns()
    att = cols["event"] == CODE["attempt"]
    for rep in team.reps:
        mine = att & (cols["rep"] == rep.index)
        assert (cols["time_h"][mine] >= rep.join_h).all()
        assert (cols["time_h"][mine] < rep.leave_h).all()
    for rep in left:
        assert rep.active == 0
    assert (cols["event"] == CODE["reassigned"]).any()


def test_follow_the_sun_routing_skips_reps_off_shift() -> None:
    """One rep in New York, one in London (9-17 local each); the team calendar is New York.
    Routing round robin sends half the early leads to the rep still asleep; skipping reps
    off shift sends them to the one at work, and the median response falls."""
    london = {"timezone": "Europe/London", "always_open": False}
    ny = {"timezone": "America/New_York", "always_open": False}

    def make(skip: bool) -> Scenario:
        return scenario({"reps": 2, "rep_calendars": [ny, london]}, months=1, warmup=7,
                        tz="America/New_York", always_open=False,
                        routing={"skip_unavailable": skip})

    slow, fast = make(False), make(True)
    t_slow, t_fast = table(slow, run(slow, seed=2)[1]), table(fast, run(fast, seed=2)[1])
    assert t_fast[("total", "response_hours_p50")] < t_slow[("total", "response_hours_p50")]


def test_rep_calendars_need_one_per_rep() -> None:
    with pytest.raises(ScenarioError, match=r"teams\[0\]\.rep_calendars"):
        scenario({"reps": 3, "rep_calendars": [{"timezone": "UTC"}]})
