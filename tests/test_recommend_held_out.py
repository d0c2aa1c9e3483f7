"""The advice on a preset the other recommendation tests never run: enterprise (two SDR teams
on two calendars, routed by segment; 4-5 month cycles) at confidence 0.8, the whole preset as
shipped. The recommended scenario, simulated on seeds the recommendation never used, meets
every clause and the revenue target in every month at c within 3 binomial standard errors;
one SDR fewer on either team, or one AE fewer, breaks the clause it carries (docs/recommend.md,
*Held-out check*, has the figures for both presets and both confidences)."""

from __future__ import annotations

import math

import pytest
from test_recommend import _p_met_by_month

from sla_sim.batch.replications import run_replications
from sla_sim.recommend.engine import recommend
from sla_sim.scenario.presets import preset

SEED, HELD_OUT_SEED, CONF, HELD_OUT_REPS = 20260101, 4242, 0.8, 100


@pytest.fixture(scope="module")
def ent():
    return recommend(preset("enterprise"), confidence=CONF, reps=40, seed=SEED, workers=2,
                     progress=False, tornado=False)  # fmt: skip


def test_enterprise_plan_meets_every_clause_on_held_out_seeds(ent) -> None:
    sc = ent.recommended
    assert [t.name for t in sc.teams] == ["ny", "london"]
    res = run_replications(sc, reps=HELD_OUT_REPS, seed=HELD_OUT_SEED, workers=2,
                           progress=False, keep_log_of=None)  # fmt: skip
    floor = CONF - 3 * math.sqrt(CONF * (1 - CONF) / HELD_OUT_REPS)
    p_met = _p_met_by_month(res, sc)
    p_met["revenue_target"] = [float(1 - res.column("revenue_target_breach", m).mean())
                               for m in ent.months]  # fmt: skip
    for clause, ps in p_met.items():
        for p in ps:
            assert math.isnan(p) or p >= floor, (clause, ps, floor)


def test_enterprise_plan_is_minimal_on_each_team(ent) -> None:
    """The export's marginal rows (same seeds as the recommendation): one SDR fewer on each
    team misses a sales clause, one AE fewer the AE capacity clause, in some month."""
    fewer = {r["lever"]: r for r in ent.marginal if r["step"] == -1}
    assert set(fewer) == {"teams[ny].reps", "teams[london].reps", "ae.count"}
    for team in ("ny", "london"):
        assert fewer[f"teams[{team}].reps"]["sales_p_met_worst"] < CONF
    assert fewer["ae.count"]["ae_capacity_p_met_worst"] < CONF
