"""Shrinkage against theory: a team with shrinkage ``s`` (the share of working time spent on
other work) serves each attempt in ``1 / (1 - s)`` times its work time.

On the M/M/c reduction this makes the queue exactly an M/M/c queue with service rate
``mu (1 - s)``: the same seeds give the same event log as a team without shrinkage whose
attempts take ``1 / (1 - s)`` times longer, and the measured utilisation and mean wait match
Erlang C at the reduced rate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sla_sim.analysis.queueing import mmc_mean_wait, utilisation
from sla_sim.analysis.reductions import mmc_scenario
from sla_sim.events import CODE
from sla_sim.metrics import compute
from sla_sim.model.funnel import FunnelModel
from sla_sim.scenario import Scenario
from sla_sim.scenario.distributions import Exponential
from sla_sim.scenario.io import set_path
from sla_sim.streams import Streams, replication_seed

Z = 3.5
LAM, MU, C, S = 3.0, 1.0, 5, 0.3  # per hour, per hour, reps, shrinkage
MU_EFF = MU * (1.0 - S)  # 0.7 per hour: load 3 / (5 x 0.7) = 0.857
REPS = 24


def with_shrinkage(sc: Scenario, shrinkage: float) -> Scenario:
    """``sc`` with its (only) team's shrinkage set."""
    return set_path(sc, "teams[0].shrinkage", shrinkage)


def run(sc: Scenario, seed: int, replication: int = 0) -> tuple[FunnelModel, dict]:
    model = FunnelModel(sc, Streams(replication_seed(seed, replication)))
    return model, model.run().columns()


def test_shrinkage_is_service_time_divided_by_one_minus_s() -> None:
    """With the same seeds, an M/M/c team with shrinkage 0.3 and mean attempt 60 min produces
    the event log of a team without shrinkage whose attempts average 60 / 0.7 min: every
    attempt lasts exactly 1 / (1 - s) times its drawn work time, and every time agrees."""
    base = mmc_scenario(LAM, MU, C, hours=300.0)
    shrunk = with_shrinkage(base, S)
    slower = set_path(base, "follow_up.attempt_minutes", Exponential(mean=60.0 / MU_EFF))
    assert base.teams[0].shrinkage == 0.0
    _, a = run(shrunk, seed=21)
    _, b = run(slower, seed=21)
    _, plain = run(base, seed=21)
    att = a["event"] == CODE["attempt"]
    assert att.sum() > 500
    for key in ("lead", "episode", "event", "team", "rep", "attempt"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    np.testing.assert_allclose(a["time_h"], b["time_h"], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(a["value"][att], b["value"][att], rtol=1e-12)
    # the same work draws without shrinkage: each lead's attempt takes (1 - s) times as long
    first = plain["event"] == CODE["attempt"]
    without = dict(zip(plain["lead"][first].tolist(), plain["value"][first].tolist(),
                       strict=True))  # fmt: skip
    both = [(v, without[k]) for k, v in zip(a["lead"][att].tolist(), a["value"][att].tolist(),
                                             strict=True) if k in without]  # fmt: skip
    assert len(both) > 500
    got, want = np.array(both).T
    np.testing.assert_allclose(got * (1.0 - S), want, rtol=1e-12)


@pytest.mark.slow
def test_mmc_with_shrinkage_matches_erlang_c_at_the_reduced_rate() -> None:
    """Over 24 replications of 6,000 hours, the measured SDR utilisation equals
    λ / (c μ (1 - s)) and the mean queue wait equals Erlang C's E[Wq] at service rate
    μ (1 - s), within 3.5 standard errors; each band is narrow enough to mean something."""
    base = with_shrinkage(mmc_scenario(LAM, MU, C, hours=6000.0, warmup_days=10), S)
    rho = utilisation(LAM, MU_EFF, C)
    wq = mmc_mean_wait(LAM, MU_EFF, C)
    wrong_rho = LAM * (1.0 + S) / (C * MU)  # what stretch = 1 + s would give: 0.78
    util, wait = [], []
    for r in range(REPS):
        model, cols = run(base, seed=37, replication=r)
        table = compute(model.log, base).set_index(["period", "metric"])["value"]
        util.append(table[("total", "sdr_utilization")])
        ev, lead, t = cols["event"], cols["lead"], cols["time_h"]
        routed = np.full(model.n_leads, np.nan)
        routed[lead[ev == CODE["routed"]]] = t[ev == CODE["routed"]]
        started = np.full(model.n_leads, np.nan)
        started[lead[ev == CODE["attempt"]]] = t[ev == CODE["attempt"]]
        keep = (routed >= model.warmup_h) & (routed < model.end_h - 48.0)
        assert np.isfinite(started[keep]).all()
        wait.append(float(np.mean(started[keep] - routed[keep])))
    u, w = np.array(util), np.array(wait)
    u_se = u.std(ddof=1) / math.sqrt(len(u))
    w_se = w.std(ddof=1) / math.sqrt(len(w))
    assert Z * u_se < abs(rho - wrong_rho) / 2, f"utilisation band too wide: ±{Z * u_se:.4f}"
    assert abs(u.mean() - rho) < Z * u_se, f"utilisation {u.mean():.4f} ± {u_se:.4f}, {rho:.4f}"
    assert Z * w_se < 0.15 * wq, f"wait band too wide: ±{Z * w_se:.4f} h vs {wq:.4f} h"
    assert abs(w.mean() - wq) < Z * w_se, f"mean wait {w.mean():.4f} ± {w_se:.4f}, {wq:.4f} h"
