"""Executors: serial, local processes and Dask give identical results; failures lose nothing."""

from __future__ import annotations

import gc
import os
import weakref
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from ci_env import require

from sla_sim.batch import worker
from sla_sim.batch.executors import Job, _chunks, execute, iter_chunks, mp_context
from sla_sim.batch.replications import ReplicationError, run_replications
from sla_sim.batch.results import Results
from sla_sim.batch.worker import ReplicationFailure, ReplicationResult, run_chunk
from sla_sim.errors import ScenarioError
from sla_sim.scenario.schema import Scenario
from tests.conftest import make_tiny

SEED = 4242
REPS = 5
FAIL_SEED = 99


def _small() -> Scenario:
    """The tiny scenario with a 5-day warm-up, a tenth of the leads and 2 SDRs (~25 ms/rep)."""
    sc = make_tiny({"horizon.warmup_days": 5, "teams[sdr].reps": 2})
    from sla_sim.scenario.io import set_path

    for c in sc.channels:
        sc = set_path(sc, f"channels[{c.name}].leads_per_month", c.leads_per_month / 10)
    return sc


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """The shortened default scenario shared by the executor comparisons."""
    return make_tiny()


@pytest.fixture(scope="module")
def small() -> Scenario:
    """A very small scenario for the failure tests."""
    return _small()


@pytest.fixture(scope="module")
def serial(scenario: Scenario) -> Results:
    """REPS replications run in this process."""
    return run_replications(scenario, reps=REPS, seed=SEED, workers=1, progress=False)


@pytest.fixture(scope="module")
def by_processes(scenario: Scenario) -> Results:
    """The same replications on 2 local worker processes."""
    return run_replications(scenario, reps=REPS, seed=SEED, workers=2, progress=False)


@pytest.fixture(scope="module")
def by_dask(scenario: Scenario) -> Results:
    """The same replications on a local Dask cluster of 2 workers (started once)."""
    require("dask.distributed", "pip install -e .[dask]")  # skipped locally, fails on CI
    return run_replications(scenario, reps=REPS, seed=SEED, workers=2, dask="local",
                            progress=False)  # fmt: skip


def _same(a: Results, b: Results) -> None:
    np.testing.assert_array_equal(a.replication_ids, b.replication_ids)
    assert a.keys == b.keys
    np.testing.assert_array_equal(a.values, b.values)  # NaN == NaN here, bit-for-bit otherwise
    pd.testing.assert_frame_equal(a.terminal, b.terminal)


def test_processes_equal_serial(serial: Results, by_processes: Results) -> None:
    """Two worker processes give bit-identical values, ids and lead states to a serial run."""
    assert by_processes.meta["executor"] == "processes"
    _same(serial, by_processes)


def test_dask_equals_serial(serial: Results, by_dask: Results) -> None:
    """A local Dask cluster gives bit-identical values, ids and lead states to a serial run."""
    assert by_dask.meta["executor"] == "dask:local"
    _same(serial, by_dask)


@pytest.mark.parametrize("other", ["by_processes", "by_dask"])
def test_kept_event_log_is_the_same_on_every_executor(serial: Results, other: str,
                                                      request: pytest.FixtureRequest) -> None:
    """The event log of replication 0 comes back unchanged from worker processes and Dask."""
    res = request.getfixturevalue(other)
    assert serial.event_log is not None
    assert set(serial.event_log["replication"]) == {0}
    assert res.event_log is not None
    assert list(res.event_log.dtypes) == list(serial.event_log.dtypes)
    assert serial.event_log.equals(res.event_log)  # same values, dtypes and columns


def test_results_do_not_depend_on_replication_order(serial: Results, scenario: Scenario) -> None:
    """Replications 3.. run alone (``start=3``) equal the same rows of a run from 0."""
    tail = run_replications(scenario, reps=REPS - 3, seed=SEED, start=3, progress=False,
                            keep_log_of=None)  # fmt: skip
    np.testing.assert_array_equal(tail.replication_ids, np.arange(3, REPS))
    np.testing.assert_array_equal(tail.values, serial.values[3:])


def test_chunks_cover_every_index_once() -> None:
    """Work is split into chunks of at most 10 indices covering each replication exactly once."""
    jobs = [Job("a", "{}", 1, tuple(range(37)), 0), Job("b", "{}", 2, tuple(range(5, 9)))]
    chunks = _chunks(jobs, workers=2)
    for tag, seed, idx in (("a", 1, range(37)), ("b", 2, range(5, 9))):
        mine = [c for c in chunks if c.tag == tag]
        assert all(c.seed == seed and 1 <= len(c.indices) <= 10 for c in mine)
        assert sorted(i for c in mine for i in c.indices) == list(idx)
    assert {c.keep_log_of for c in chunks if c.tag == "a"} == {0}


def test_zero_workers_is_refused_before_running() -> None:
    """``execute(workers=0)`` raises ScenarioError naming workers as soon as it is iterated."""
    with pytest.raises(ScenarioError, match="workers"):
        next(execute([Job(None, "{}", 1, (0,))], workers=0))


# ---------------------------------------------------------------------------- failures
def _failing_at(replication: int, how: str = "raise") -> Any:
    real = worker.run_one

    def run_one(scenario: Any, seed: int, r: int, keep_log: bool = False,
                tag: Any = None, remember: bool = False) -> ReplicationResult:  # fmt: skip
        if r == replication:
            if how == "exit":
                os._exit(3)  # the worker process dies
            raise RuntimeError(f"boom in replication {r}")
        return real(scenario, seed, r, keep_log=keep_log, tag=tag, remember=remember)

    return run_one


@pytest.fixture(scope="module")
def small_reference(small: Scenario) -> Results:
    """Four unpatched replications of the small scenario."""
    return run_replications(small, reps=4, seed=FAIL_SEED, progress=False)


def test_run_chunk_keeps_the_others_when_one_raises(small: Scenario, small_reference: Results,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """run_chunk turns a raising replication into a ReplicationFailure and runs the others."""
    monkeypatch.setattr(worker, "run_one", _failing_at(2))
    out = run_chunk(small.model_dump_json(), FAIL_SEED, [0, 1, 2, 3], keep_log_of=None, tag="t")
    assert [o.replication for o in out] == [0, 1, 2, 3]
    fail = out[2]
    assert isinstance(fail, ReplicationFailure)
    assert (fail.tag, fail.seed) == ("t", FAIL_SEED)
    assert fail.error == "RuntimeError: boom in replication 2"
    assert "boom in replication 2" in fail.traceback
    ok = [o for o in out if isinstance(o, ReplicationResult)]
    assert [o.replication for o in ok] == [0, 1, 3]
    assert all(o.tag == "t" and o.log is None for o in ok)
    np.testing.assert_array_equal(np.vstack([o.values for o in ok]),
                                  small_reference.values[[0, 1, 3]])


def _check_partial(err: ReplicationError, reference: Results, failed: set[int]) -> None:
    assert {f.replication for f in err.failures} == failed
    assert all(f.seed == FAIL_SEED for f in err.failures)
    assert err.results is not None
    kept = err.results.replication_ids.tolist()
    assert sorted(kept + sorted(failed)) == [0, 1, 2, 3]
    np.testing.assert_array_equal(err.results.values, reference.values[kept])


def test_serial_run_raises_replication_error_with_the_others(
        small: Scenario, small_reference: Results, monkeypatch: pytest.MonkeyPatch) -> None:
    """A serial run with one raising replication raises ReplicationError carrying the rest."""
    monkeypatch.setattr(worker, "run_one", _failing_at(2))
    with pytest.raises(ReplicationError) as info:
        run_replications(small, reps=4, seed=FAIL_SEED, progress=False)
    err = info.value
    _check_partial(err, small_reference, {2})
    assert [f.replication for f in err.results.failures] == [2]  # type: ignore[union-attr]
    msg = str(err)
    assert "1 replication(s) failed" in msg
    assert f"replication 2 (seed {FAIL_SEED}): RuntimeError: boom in replication 2" in msg
    assert f"reproduce one alone: sla_sim.run_replication(scenario, seed={FAIL_SEED}," \
           " replication=2)" in msg


needs_fork = pytest.mark.skipif(mp_context().get_start_method() != "fork",
                                reason="the patch reaches workers only when they are forked")


@needs_fork
def test_process_pool_raises_replication_error_with_the_others(
        small: Scenario, small_reference: Results, monkeypatch: pytest.MonkeyPatch) -> None:
    """With 2 forked workers a raising replication is reported and the others are returned."""
    monkeypatch.setattr(worker, "run_one", _failing_at(2))
    with pytest.raises(ReplicationError) as info:
        run_replications(small, reps=4, seed=FAIL_SEED, workers=2, progress=False)
    _check_partial(info.value, small_reference, {2})


@needs_fork
def test_dead_worker_process_is_reported_not_hung(
        small: Scenario, small_reference: Results, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that dies is reported as failures naming it; nothing is lost or duplicated."""
    monkeypatch.setattr(worker, "run_one", _failing_at(2, how="exit"))
    with pytest.raises(ReplicationError) as info:
        run_replications(small, reps=4, seed=FAIL_SEED, workers=2, progress=False)
    err = info.value
    failed = {f.replication for f in err.failures}
    assert 2 in failed
    assert all("worker process died" in f.error for f in err.failures)
    kept = [] if err.results is None else err.results.replication_ids.tolist()
    assert sorted(kept + sorted(failed)) == [0, 1, 2, 3]
    if kept:
        np.testing.assert_array_equal(err.results.values,  # type: ignore[union-attr]
                                      small_reference.values[kept])


@needs_fork
def test_process_pool_releases_outcomes_once_yielded(small: Scenario) -> None:
    """Outcomes the process executor has already yielded are not kept alive by it."""
    reps = 40  # 8 chunks of 5 on 2 workers
    gen = execute([Job(None, small.model_dump_json(), FAIL_SEED, tuple(range(reps)))], 2)
    refs = []
    for _, out in zip(range(reps), gen, strict=False):  # all outcomes, generator not finished
        refs.append(weakref.ref(out))
    del out
    gc.collect()
    alive = sum(r() is not None for r in refs)
    gen.close()
    assert len(refs) == reps
    assert alive <= 10, alive  # at most the chunk being yielded (<= 10 replications)


def test_worker_set_up_loads_the_metric_passes_and_keeps_freed_memory(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The set-up every pool, planner and Dask worker runs loads the metrics' compiled passes
    beside the fast engine, and (glibc) keeps freed memory for the next replication."""
    import platform

    from sla_sim.metrics import kernels
    from sla_sim.model import funnel

    kernels.warm_up()  # loads (compiles the first time) the passes on a two-row log
    assert kernels._warm
    called: list[str] = []
    monkeypatch.setattr(funnel, "warm_up", lambda: called.append("engine"))
    monkeypatch.setattr(kernels, "warm_up", lambda: called.append("metrics"))
    worker.warm_up()
    assert sorted(called) == ["engine", "metrics"]
    if platform.libc_ver()[0] == "glibc":
        assert worker.keep_freed_memory()


class _FakePool:
    """A process pool run in this thread whose first instance is found broken by ``submit``
    after ``breaks_after`` tasks (a worker died between two results), as a loaded machine
    shows it; later instances work."""

    made: ClassVar[list[_FakePool]] = []
    breaks_after = 3

    def __init__(self, *a: Any, **kw: Any) -> None:
        self.submitted = 0
        self.broken = not _FakePool.made  # the first pool breaks
        _FakePool.made.append(self)

    def submit(self, fn: Any, *args: Any) -> Any:
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool

        if self.broken and self.submitted >= self.breaks_after:
            raise BrokenProcessPool("A child process terminated abruptly")
        self.submitted += 1
        fut: Future = Future()
        fut.set_result(fn(*args))
        return fut

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


def test_a_pool_found_broken_by_submit_retries_not_fails(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:  # fmt: skip
    """A worker that dies after handing over its result breaks the pool before the next task
    is submitted: ``submit`` raises BrokenProcessPool, not a task's result. The refused task
    and those in flight run on a fresh pool, and every replication is yielded exactly once."""
    from sla_sim.batch import executors

    _FakePool.made = []
    monkeypatch.setattr(executors, "ProcessPoolExecutor", _FakePool)
    monkeypatch.setattr("sla_sim.batch.worker.warm_up", lambda: None)
    monkeypatch.setattr(executors, "run_chunk",
                        lambda sj, seed, indices, *a: [("done", r) for r in indices])
    jobs = [Job("a", "{}", 1, tuple(range(40)))]
    out = list(executors._processes(iter_chunks(jobs, 2), workers=2))
    assert len(_FakePool.made) == 2, "the broken pool was not replaced"
    assert sorted(r for _, r in out) == list(range(40))
