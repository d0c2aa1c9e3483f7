"""Tests for replications (serial and process pool), seeds, and the Results container."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sla_sim.batch.replications import run_replication, run_replications
from sla_sim.batch.results import Results
from sla_sim.errors import ScenarioError
from sla_sim.scenario.io import set_path
from sla_sim.scenario.schema import Scenario
from sla_sim.streams import Streams, replication_seed

SEED = 5
REPS = 3
Factory = Callable[[dict[str, Any] | None], Scenario]


@pytest.fixture(scope="module")
def small(tiny_factory: Factory) -> Scenario:
    """The shortened default scenario with half the lead volume (fast replications)."""
    return tiny_factory({f"channels[{i}].leads_per_month": v for i, v in
                         enumerate([1100.0, 800.0, 350.0, 500.0, 250.0])})


@pytest.fixture(scope="module")
def serial(small: Scenario) -> Results:
    """Three replications run in this process."""
    return run_replications(small, reps=REPS, seed=SEED, workers=1, progress=False)


def test_parallel_run_equals_serial_run(small: Scenario, serial: Results) -> None:
    """Two worker processes give exactly the same table, lead states and kept log as one."""
    parallel = run_replications(small, reps=REPS, seed=SEED, workers=2, progress=False)
    assert parallel.meta["workers"] == 2
    pd.testing.assert_frame_equal(parallel.table, serial.table)
    pd.testing.assert_frame_equal(parallel.terminal, serial.terminal)
    assert parallel.event_log is not None
    pd.testing.assert_frame_equal(parallel.event_log, serial.event_log)


def test_replications_differ_and_match_run_replication(small: Scenario, serial: Results) -> None:
    """Replication i of a run is run_replication(seed, i); different replications differ."""
    assert serial.replications == REPS
    assert sorted(serial.table["replication"].unique()) == list(range(REPS))
    created = serial.metric("leads_created")
    assert created.nunique() == REPS
    alone = run_replication(small, seed=SEED, replication=2)
    mine = serial.table[serial.table["replication"] == 2]
    for col in ("period", "metric"):
        assert mine[col].astype(str).tolist() == alone.metrics[col].astype(str).tolist()
    np.testing.assert_array_equal(mine["value"].to_numpy(), alone.metrics["value"].to_numpy())


def test_summary_quantiles_are_ordered(serial: Results) -> None:
    """In the summary p10 <= p50 <= p90, and a breach indicator's mean is a probability."""
    s = serial.summary()
    assert {"period", "metric", "n", "mean", "std", "sem", "p10", "p50", "p90"} <= set(s.columns)
    q = s.dropna(subset=["p10", "p50", "p90"])
    assert len(q) > 0.8 * len(s)
    assert (q["p10"] <= q["p50"] + 1e-9).all()
    assert (q["p50"] <= q["p90"] + 1e-9).all()
    assert (s["n"] <= REPS).all()
    breach = s[s["metric"].str.endswith("_breach")].dropna(subset=["mean"])
    assert len(breach) >= 7
    assert breach["mean"].between(0.0, 1.0).all()
    leads = s[(s["period"] == "total") & (s["metric"] == "leads_created")].iloc[0]
    values = serial.metric("leads_created")
    assert leads["mean"] == pytest.approx(values.mean())
    assert leads["p50"] == pytest.approx(values.median())


def test_metric_rejects_unknown_name(serial: Results) -> None:
    """Asking Results.metric for a metric that does not exist raises naming it."""
    with pytest.raises(ScenarioError, match="no_such_metric"):
        serial.metric("no_such_metric")


def test_save_and_load_round_trip(serial: Results, tmp_path: Path) -> None:
    """Results saved without a report load back with an equal table, scenario and lead states."""
    out = serial.save(tmp_path / "run")
    assert (out / "summary.json").is_file()
    assert not (out / "report.md").exists()
    back = Results.load(out)
    pd.testing.assert_frame_equal(back.table, serial.table)
    pd.testing.assert_frame_equal(back.terminal, serial.terminal)
    assert back.scenario == serial.scenario
    assert back.meta["seed"] == SEED
    assert back.meta["scenario_hash"] == serial.meta["scenario_hash"]
    assert back.event_log is not None
    assert len(back.event_log) == len(serial.event_log)


def test_no_log_is_kept_when_asked(small: Scenario) -> None:
    """keep_log_of=None keeps no event log."""
    res = run_replications(small, reps=1, seed=SEED, progress=False, keep_log_of=None)
    assert res.event_log is None


@pytest.mark.parametrize(("kwargs", "field", "rule"), [
    ({"reps": 0}, "reps", "must be >= 1"),
    ({"reps": -3}, "reps", "must be >= 1"),
    ({"workers": 0}, "workers", "must be >= 1"),
    ({"seed": -1}, "seed", "must be in 0 .. 2**63-1"),
])
def test_invalid_run_request_names_the_field(small: Scenario, kwargs: dict[str, int],
                                             field: str, rule: str) -> None:
    """A bad reps, workers or seed raises a ScenarioError naming the field, rule and value."""
    args = {"reps": 1, "seed": SEED, "workers": 1} | kwargs
    with pytest.raises(ScenarioError,
                       match=rf"{field}: {re.escape(rule)} \(got {kwargs[field]}\)"):
        run_replications(small, progress=False, **args)


@pytest.mark.parametrize(("seed", "replication", "name"), [(-1, 0, "seed"),
                                                            (0, -1, "replication")])
def test_replication_seed_rejects_negatives(seed: int, replication: int, name: str) -> None:
    """replication_seed refuses a negative seed or replication index."""
    with pytest.raises(ValueError, match=f"{name} must be >= 0"):
        replication_seed(seed, replication)


def test_replication_seeds_are_distinct_and_stable() -> None:
    """The same (seed, replication) gives the same stream; a different one does not."""
    def draw(seed: int, rep: int) -> np.ndarray:
        return Streams(replication_seed(seed, rep))("arrivals:inbound").random(4)

    np.testing.assert_array_equal(draw(1, 0), draw(1, 0))
    assert not np.array_equal(draw(1, 0), draw(1, 1))
    assert not np.array_equal(draw(1, 0), draw(2, 0))
    streams = Streams(replication_seed(1, 0))
    assert streams("a") is streams("a")
    assert not np.array_equal(streams("a").random(4), streams("b").random(4))


# ---------------------------------------------------------------------- remembered measurements
def test_run_one_remembers_a_measurement_and_rejudges_only_the_sla(
    tiny_scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With remember=True, the same scenario up to its SLA is not simulated again: the SLA is
    re-judged on the remembered measurement, with results identical to a fresh run."""
    import sla_sim.model.funnel as funnel
    from sla_sim.batch import worker

    monkeypatch.setattr(worker, "_MEMORY", type(worker._MEMORY)())
    first = worker.run_one(tiny_scenario, 3, 1, remember=True)
    stricter = set_path(tiny_scenario, "sla.first_touch_within_business_hours", 1.0)
    fresh = worker.run_one(stricter, 3, 1)

    def no_simulation(*_a: Any, **_k: Any) -> None:
        raise AssertionError("simulated although only the SLA changed")

    monkeypatch.setattr(funnel.FunnelModel, "run", no_simulation)
    again = worker.run_one(stricter, 3, 1, remember=True)
    assert again.keys == fresh.keys
    assert np.array_equal(again.values, fresh.values, equal_nan=True)
    assert again.terminal == fresh.terminal == first.terminal
    assert not np.array_equal(again.values, first.values, equal_nan=True)
    with pytest.raises(AssertionError, match="simulated"):  # another replication: simulated
        worker.run_one(stricter, 3, 2, remember=True)
    with pytest.raises(AssertionError, match="simulated"):  # a capacity change: simulated
        worker.run_one(set_path(stricter, "teams[sdr].reps", 12), 3, 1, remember=True)
