"""The analytic funnel agrees with the simulation where capacity, nurture and recycling are off."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sla_sim.analysis.reductions import unlimited_capacity_scenario
from sla_sim.analysis.reverse_funnel import forward, mean_sql_probability, p_mql, p_reach, reverse
from sla_sim.errors import ScenarioError
from sla_sim.events import CODE
from sla_sim.horizon import horizon_hours
from sla_sim.model import FunnelModel
from sla_sim.scenario.io import set_path
from sla_sim.scenario.presets import preset
from sla_sim.streams import Streams, replication_seed

Z = 3.5


def _plain_funnel():
    """Default preset with unlimited 24/7 capacity, no ops delay, no nurture re-qualification."""
    sc = unlimited_capacity_scenario(preset("default"))
    sc = set_path(sc, "handoff.ops_delay_hours", {"kind": "constant", "value": 0.0})
    sc = set_path(sc, "nurture.engage_probability", 0.0)
    sc = set_path(sc, "horizon.warmup_days", 0)
    return set_path(sc, "horizon.measure_months", 4)


@pytest.fixture(scope="module")
def simulated():
    """Event-log columns of two replications of the plain funnel."""
    sc = _plain_funnel()
    return sc, [FunnelModel(sc, Streams(replication_seed(11, r))).run().columns()
                for r in range(2)]


def _within(hits: int, n: int, p: float) -> None:
    se = math.sqrt(p * (1 - p) / n)
    assert abs(hits / n - p) <= Z * se, (hits, n, p, (hits / n - p) / se)


def test_mql_share_matches_beta_tail(simulated):
    """The share of new leads that are MQLs at once equals P(score >= threshold)."""
    sc, runs = simulated
    mix = np.array([c.leads_per_month for c in sc.channels])
    p = float(np.dot(mix, [p_mql(c, sc.mql_threshold_points) for c in sc.channels]) / mix.sum())
    created = sum(int(np.sum(c["event"] == CODE["created"])) for c in runs)
    mqls = sum(int(np.sum((c["event"] == CODE["mql"]) & (c["episode"] == 1))) for c in runs)
    _within(mqls, created, p)


def test_reach_and_sql_rates_match_the_analytic_funnel(simulated):
    """Reached / MQL equals p_reach(0) and SQL / reached the score-weighted SQL probability."""
    sc, runs = simulated
    fwd = forward(sc).set_index("channel")
    _, _, end_h = horizon_hours(sc)
    # only MQLs whose whole cadence fits before the horizon: no bias towards quick outcomes
    cutoff = end_h - 24.0 * (sc.follow_up.cadence_days[-1] + 1)
    mqls = reached = sqls = 0
    for c in runs:
        first = c["episode"] == 1
        ev = c["event"]
        finished = set(c["lead"][first & (ev == CODE["mql"]) & (c["time_h"] < cutoff)].tolist())
        mqls += len(finished)
        contacted = set(c["lead"][first & (ev == CODE["contact"])].tolist()) & finished
        reached += len(contacted)
        sqls += len(set(c["lead"][first & (ev == CODE["sql"])].tolist()) & finished)
    _within(reached, mqls, p_reach(sc, 0.0))
    q = float(fwd.loc["total", "sqls"] / fwd.loc["total", "reached"])
    _within(sqls, reached, q)


def test_mean_sql_probability_is_between_rates_at_threshold_and_top():
    """The score-weighted SQL probability lies between the rates at the threshold and at 100."""
    sc = preset("default")
    ch = sc.channels[0]
    val = mean_sql_probability(sc, ch)
    assert ch.sql_rate < val < 1


def test_reverse_scales_forward_to_the_target():
    """Reverse for twice the forward revenue needs twice the leads, MQLs, SQLs and wins."""
    sc = preset("default")
    fwd = forward(sc).set_index("channel")
    rev = reverse(sc, 2 * float(fwd.loc["total", "revenue"])).set_index("channel")
    for col in ("leads", "mqls", "sqls", "wins", "revenue"):
        assert rev.loc["total", col] == pytest.approx(2 * fwd.loc["total", col])
    with pytest.raises(ScenarioError, match="revenue_per_month"):
        reverse(sc, -1.0)


def test_reach_falls_with_response_delay():
    """Answering later reaches fewer leads (the response-decay curve)."""
    sc = preset("default")
    assert p_reach(sc, 0.0) > p_reach(sc, 4.0) > p_reach(sc, 48.0)
