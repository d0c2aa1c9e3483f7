"""Replications: seeds, executors (serial or local processes) and progress.

Replication ``i`` of a run with root ``seed`` always uses ``SeedSequence(seed, spawn_key=(i,))``,
so results are identical whatever the executor or number of workers, and two scenarios run with
the same seed share common random numbers (see :mod:`sla_sim.streams`).

Worker processes are started with ``fork`` on Linux and ``spawn`` elsewhere, chosen per call and
never at import. With ``spawn`` (macOS, Windows) a script must guard its entry point with
``if __name__ == "__main__":``; in Jupyter the worker function lives in this module, so notebooks
work either way.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

import pandas as pd

from sla_sim.errors import Issue, ScenarioError, SlaSimError
from sla_sim.events import EventLog
from sla_sim.scenario import Scenario

__all__ = ["ReplicationError", "ReplicationResult", "run_replication", "run_replications"]

DEFAULT_SEED = 20260101


class ReplicationError(SlaSimError, RuntimeError):
    """A replication raised; carries its seed and index so it can be re-run alone."""

    def __init__(self, seed: int, replication: int, cause: str) -> None:
        self.seed, self.replication, self.cause = seed, replication, cause
        super().__init__(
            f"replication {replication} (seed {seed}) failed: {cause}\n"
            f"  reproduce alone with: sla_sim.run_replication(scenario, seed={seed},"
            f" replication={replication})"
        )


@dataclass
class ReplicationResult:
    """Metrics of one replication, its lead terminal counts, and optionally its event log."""

    replication: int
    metrics: pd.DataFrame
    terminal: dict[str, int]
    seconds: float
    log: EventLog | None = field(default=None, repr=False)


def run_replication(
    scenario: Scenario, seed: int = DEFAULT_SEED, replication: int = 0, keep_log: bool = False
) -> ReplicationResult:
    """Simulate one replication and compute its metrics."""
    from sla_sim import metrics
    from sla_sim.model.funnel import FunnelModel
    from sla_sim.model.reconcile import terminal_counts
    from sla_sim.streams import Streams, replication_seed

    t0 = time.perf_counter()
    model = FunnelModel(scenario, Streams(replication_seed(seed, replication)))
    log = model.run()
    table = metrics.compute(log, scenario)
    import numpy as np

    terminal = terminal_counts(np.asarray(model.state, dtype=np.int64))
    return ReplicationResult(
        replication, table, terminal, time.perf_counter() - t0, log if keep_log else None
    )


def _chunk(scenario_json: str, seed: int, reps: list[int], keep_log_of: int | None
           ) -> list[ReplicationResult]:  # fmt: skip
    """Worker entry point: run several replications of a scenario given as JSON."""
    scenario = Scenario.model_validate_json(scenario_json)
    out = []
    for r in reps:
        try:
            out.append(run_replication(scenario, seed, r, keep_log=(r == keep_log_of)))
        except SlaSimError:
            raise
        except Exception as err:  # report with the seed, so it can be reproduced alone
            raise ReplicationError(seed, r, f"{type(err).__name__}: {err}") from None
    return out


def _check(reps: int, workers: int, seed: int) -> None:
    issues = []
    if reps < 1:
        issues.append(Issue("reps", "must be >= 1", reps))
    if workers < 1:
        issues.append(Issue("workers", "must be >= 1", workers))
    if seed < 0:
        issues.append(Issue("seed", "must be >= 0", seed))
    if issues:
        raise ScenarioError(issues, "run request")


def iter_replications(
    scenario: Scenario,
    reps: int,
    seed: int = DEFAULT_SEED,
    workers: int = 1,
    keep_log_of: int | None = 0,
    start: int = 0,
) -> Iterator[ReplicationResult]:
    """Yield replication results as they finish (any order when workers > 1)."""
    _check(reps, workers, seed)
    indices = list(range(start, start + reps))
    if workers == 1:
        for r in indices:
            yield _chunk_local(scenario, seed, r, keep_log_of)
        return
    payload = scenario.model_dump_json()
    size = max(1, min(8, len(indices) // (workers * 4)))
    chunks = [indices[i:i + size] for i in range(0, len(indices), size)]
    ctx = _mp_context()
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(_chunk, payload, seed, c, keep_log_of) for c in chunks]
        try:
            for fut in as_completed(futures):
                yield from fut.result()
        finally:
            for fut in futures:
                fut.cancel()


def _chunk_local(scenario: Scenario, seed: int, r: int, keep_log_of: int | None
                 ) -> ReplicationResult:  # fmt: skip
    try:
        return run_replication(scenario, seed, r, keep_log=(r == keep_log_of))
    except SlaSimError:
        raise
    except Exception as err:
        raise ReplicationError(seed, r, f"{type(err).__name__}: {err}") from err


def _mp_context() -> mp.context.BaseContext:
    """Start method chosen per call: ``fork`` on Linux (no re-import of the caller's script, so
    scripts need no ``__main__`` guard), ``spawn`` elsewhere."""
    if sys.platform.startswith("linux"):
        return mp.get_context("fork")
    return mp.get_context("spawn")


def run_replications(
    scenario: Scenario,
    reps: int = 20,
    seed: int = DEFAULT_SEED,
    workers: int = 1,
    progress: bool = True,
    keep_log_of: int | None = 0,
):  # -> Results (import cycle avoided)
    """Run ``reps`` replications and gather them into :class:`~sla_sim.results.Results`.

    ``workers > 1`` uses local processes; results are identical to a serial run. The event log
    of replication ``keep_log_of`` is kept (None keeps none). A tqdm progress bar is shown when
    ``progress`` is true (a widget in Jupyter).
    """
    from tqdm.auto import tqdm

    from sla_sim.results import Results

    workers = min(workers, reps) if reps >= 1 else workers
    t0 = time.perf_counter()
    done: list[ReplicationResult] = []
    bar = tqdm(total=reps, desc=f"{scenario.name}", unit="rep", disable=not progress,
               leave=False)
    try:
        for res in iter_replications(scenario, reps, seed, workers, keep_log_of):
            done.append(res)
            bar.update(1)
    finally:
        bar.close()
    return Results.from_replications(scenario, seed, done, wall_seconds=time.perf_counter() - t0,
                                     workers=workers)


def default_workers() -> int:
    """Cores available to this process."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
