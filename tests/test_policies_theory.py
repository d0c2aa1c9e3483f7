"""Policies against queueing theory: pull assignment is M/M/c (Erlang C) whatever the slot cap;
strict priority of one channel over another under pull matches Cobham's non-pre-emptive
priority M/M/c waits; the backlog of private queues satisfies Little's law.

Same style as tests/test_theory.py: fixed seeds, independent replications, a z = 3.5 band on
the standard error, and a check that the band is narrow enough to mean something.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from sla_sim.analysis.queueing import erlang_c, mmc_mean_wait
from sla_sim.analysis.reductions import mmc_scenario
from sla_sim.events import CODE
from sla_sim.metrics import compute
from sla_sim.model.engine import engine_for
from sla_sim.model.funnel import FunnelModel
from sla_sim.scenario.io import set_path, validate
from sla_sim.scenario.schema import Scenario
from sla_sim.streams import Streams, replication_seed

Z = 3.5
WARMUP_SHARE = 0.1


def mean_se(x: np.ndarray) -> tuple[float, float]:
    return float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(len(x)))


def first_times(cols: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per lead: routed time and first-attempt start (NaN if none)."""
    out = []
    for mask in (cols["event"] == CODE["routed"],
                 (cols["event"] == CODE["attempt"]) & (cols["attempt"] == 0)):  # fmt: skip
        t = np.full(n, np.nan)
        t[cols["lead"][mask][::-1]] = cols["time_h"][mask][::-1]
        out.append(t)
    return out[0], out[1]


def pull_scenario(lam: float, c: int, hours: float, shares: dict[str, float] | None = None,
                  ) -> Scenario:  # fmt: skip
    """M/M/c reduction with ``assignment: pull`` and the default slot cap (80 leads per rep);
    with ``shares``, the arrivals split into channels (in priority order, first served first)."""
    sc = mmc_scenario(lam, 1.0, c, hours)
    raw: dict[str, Any] = sc.model_dump(mode="json")
    raw["teams"][0] |= {"assignment": "pull", "max_active_leads": 80}
    if shares:
        base = raw["channels"][0]
        raw["channels"] = [dict(base, name=name, leads_per_month=base["leads_per_month"] * s)
                           for name, s in shares.items()]  # fmt: skip
        raw["routing"] = {"priority_by": "channel", "priority_order": list(shares)}
    return validate(raw)


def class_waits(sc: Scenario, seed: int, r: int, n_leads: int, n_classes: int,
                engine: str = "fast") -> list[float]:  # fmt: skip
    """Mean routed -> first attempt wait per channel, over leads n_leads * 10% .. n_leads, on
    ``engine`` (or SimPy where the fast engine does not cover ``sc``)."""
    model = FunnelModel(sc.model_copy(update={"engine": engine}),
                        Streams(replication_seed(seed, r)))  # fmt: skip
    cols = model.run().columns()
    assert model.engine == engine_for(sc.model_copy(update={"engine": engine}))[0]
    routed, first = first_times(cols, model.n_leads)
    order = np.argsort(routed, kind="stable")
    assert np.isfinite(routed[order[n_leads - 1]])
    keep = order[int(WARMUP_SHARE * n_leads):n_leads]
    wait = first[keep] - routed[keep]
    assert np.isfinite(wait).all()
    ch = model.log.leads["channel"][keep]
    return [float(wait.mean())] + [float(wait[ch == k].mean()) for k in range(n_classes)]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["fast", "simpy"])
def test_pull_matches_erlang_c_without_a_slot_cap_of_one(engine: str) -> None:
    """λ = 6/h, μ = 1/h, c = 8, max_active_leads 80: mean wait = Erlang C E[Wq] within 3.5 SE,
    on each engine (pull runs on the fast engine: the same replications, the same waits)."""
    lam, c, n, reps = 6.0, 8, 12_000, 24
    sc = pull_scenario(lam, c, (n + 10 * math.sqrt(n)) / lam + 48.0)
    assert sc.teams[0].max_active_leads == 80
    assert engine_for(sc) == ("fast", "")
    waits = np.array([class_waits(sc, 17, r, n, 1, engine)[0] for r in range(reps)])
    theory = mmc_mean_wait(lam, 1.0, c)
    mean, se = mean_se(waits)
    assert Z * se < 0.12 * theory, f"experiment too small: ±{Z * se:.4f} vs {theory:.4f}"
    assert abs(mean - theory) < Z * se, f"{mean:.4f} ± {se:.4f} h, Erlang C {theory:.4f} h"


def cobham_waits(lams: list[float], mu: float, c: int) -> list[float]:
    """Mean queue wait per class, non-pre-emptive priority M/M/c with one service rate
    (Cobham 1954; Gross & Harris, Fundamentals of Queueing Theory, eq. 3.97):
    W_k = C(c, λ/μ) / (cμ) / ((1 - σ_{k-1}) (1 - σ_k)), σ_k = Σ_{i<=k} λ_i / (cμ)."""
    lam = sum(lams)
    w0 = erlang_c(lam, mu, c) / (c * mu)
    out, sigma = [], 0.0
    for lam_k in lams:
        prev, sigma = sigma, sigma + lam_k / (c * mu)
        out.append(w0 / ((1 - prev) * (1 - sigma)))
    return out


def test_cobham_reduces_to_erlang_c() -> None:
    """The λ-weighted mean of Cobham's class waits is the FIFO Erlang C wait (work
    conservation), and one class is exactly Erlang C."""
    lams = [1.2, 2.0]
    w = cobham_waits(lams, 1.0, 4)
    assert np.dot(lams, w) / sum(lams) == pytest.approx(mmc_mean_wait(3.2, 1.0, 4), rel=1e-12)
    assert cobham_waits([3.2], 1.0, 4)[0] == pytest.approx(mmc_mean_wait(3.2, 1.0, 4))


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["fast", "simpy"])
def test_priority_classes_match_cobham(engine: str) -> None:
    """Two Poisson channels, 'hi' strictly before 'lo', pull, c = 4 reps 24/7, exponential
    work, one attempt: each class's mean wait matches Cobham's formula within 3.5 SE, on each
    engine (priority classes run on the fast engine)."""
    shares = {"hi": 0.375, "lo": 0.625}
    lam, c, n, reps = 3.2, 4, 10_000, 24
    sc = pull_scenario(lam, c, (n + 10 * math.sqrt(n)) / lam + 48.0, shares)
    assert engine_for(sc) == ("fast", "")
    rows = np.array([class_waits(sc, 23, r, n, 2, engine) for r in range(reps)])
    theory = cobham_waits([lam * s for s in shares.values()], 1.0, c)
    for k, name in enumerate(shares):
        mean, se = mean_se(rows[:, k + 1])
        assert Z * se < 0.15 * theory[k], f"{name}: experiment too small ±{Z * se:.4f}"
        assert abs(mean - theory[k]) < Z * se, (
            f"{name}: {mean:.4f} ± {se:.4f} h, Cobham {theory[k]:.4f} h")
    assert theory[0] < mmc_mean_wait(lam, 1.0, c) < theory[1]


@pytest.mark.slow
def test_backlog_satisfies_littles_law_on_private_queues() -> None:
    """Three reps 24/7 with private backlogs (immediate assignment, round robin, slot cap 80):
    over February (January is the warm-up, March lets February's leads finish) the
    time-weighted backlog of the metrics equals λ x W, λ the assignments per hour and W their
    mean wait to the first attempt, both measured from the log; within 3.5 SE across
    replications of the per-replication difference (only waits straddling the month's ends
    make it non-zero)."""
    lam, c, reps = 2.4, 3, 24
    sc = set_path(mmc_scenario(lam, 1.0, c, 2 * 744.0), "teams[0].max_active_leads", 80)
    assert sc.horizon.measure_months == 3
    L, lamW, W = [], [], []
    for r in range(reps):
        model = FunnelModel(sc, Streams(replication_seed(31, r)))
        log = model.run()
        table = compute(log, sc).set_index(["period", "metric"])["value"]
        cols = log.columns()
        n = model.n_leads
        assigned = np.full(n, np.nan)
        m = cols["event"] == CODE["assigned"]
        assigned[cols["lead"][m]] = cols["time_h"][m]
        _, first = first_times(cols, n)
        lo, hi = 31 * 24.0, (31 + 28) * 24.0
        in_span = (assigned >= lo) & (assigned < hi)
        assert np.isfinite(first[in_span]).all()
        w = float(np.mean(first[in_span] - assigned[in_span]))
        L.append(table[("2026-02", "sdr_backlog_mean")])
        lamW.append(in_span.sum() / (hi - lo) * w)
        W.append(w)
    L_arr, diff = np.array(L), np.array(L) - np.array(lamW)
    d_mean, d_se = mean_se(diff)
    assert Z * d_se < 0.03 * L_arr.mean(), f"experiment too small: ±{Z * d_se:.3f}"
    assert abs(d_mean) < Z * d_se, f"L - λW = {d_mean:.4f} ± {d_se:.4f} (L = {L_arr.mean():.3f})"
    # private queues wait far longer than one pooled queue at the same load
    assert np.mean(W) > 2 * mmc_mean_wait(lam, 1.0, c)
