"""Where replications run: in this process, in local worker processes, or on a Dask cluster.

Every executor runs the same task (:func:`sla_sim.batch.worker.run_chunk`) on the same replication
indices with the same seed, so results are identical whichever is used. Results are yielded as
they complete; a replication that raises is yielded as a ReplicationFailure (with its seed) and
the others go on.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from sla_sim.batch.worker import (
    ReplicationFailure,
    ReplicationResult,
    run_chunk,
    simulation_key,
    worker_context,
)
from sla_sim.errors import Issue, ScenarioError
from sla_sim.scenario.schema import Scenario

Outcome = ReplicationResult | ReplicationFailure


@dataclass(frozen=True)
class Job:
    """Replications ``indices`` of one scenario (as JSON) with root ``seed``."""

    tag: Any
    scenario_json: str
    seed: int
    indices: tuple[int, ...]
    keep_log_of: int | None = None
    also: tuple[tuple[Any, str], ...] = ()  # (tag, scenario JSON) differing in SLA only

    @property
    def tags(self) -> list[Any]:
        """The tag of every scenario the job judges: its own, then those of ``also``."""
        return [self.tag, *(t for t, _ in self.also)]

    @property
    def outcomes(self) -> int:
        """How many outcomes the job yields: one per replication and scenario."""
        return len(self.indices) * len(self.tags)


def jobs_for(tagged: list[tuple[Any, Scenario]], seed: int, indices: tuple[int, ...]
             ) -> list[Job]:  # fmt: skip
    """Jobs running replications ``indices`` of every (tag, scenario), one job per distinct
    simulation: scenarios that differ only in SLA settings share their replications, simulated
    once and judged under each SLA (the model never reads the SLA, so the results are those of
    simulating each scenario)."""
    groups: dict[str, list[tuple[Any, Scenario]]] = {}
    for tag, sc in tagged:
        groups.setdefault(simulation_key(sc), []).append((tag, sc))
    return [Job(tag, sc.model_dump_json(), seed, indices,
                also=tuple((t, s.model_dump_json()) for t, s in rest))
            for (tag, sc), *rest in groups.values()]  # fmt: skip


def _chunks(jobs: list[Job], workers: int) -> list[Job]:
    total = sum(len(j.indices) for j in jobs)  # simulations: a job's ``also`` are judged only
    size = max(1, min(10, total // max(1, workers * 4)))
    out = []
    for j in jobs:
        for i in range(0, len(j.indices), size):
            out.append(Job(j.tag, j.scenario_json, j.seed, j.indices[i:i + size], j.keep_log_of,
                           j.also))  # fmt: skip
    return out


def execute(jobs: list[Job], workers: int = 1, dask: str | None = None) -> Iterator[Outcome]:
    """Run every replication of every job; yield outcomes as they complete."""
    if workers < 1:
        raise ScenarioError([Issue("workers", "must be >= 1", workers)], "run request")
    if dask:
        yield from _dask(jobs, dask, workers)
    elif workers == 1:
        for job in jobs:
            for r in job.indices:
                yield from run_chunk(job.scenario_json, job.seed, [r], job.keep_log_of, job.tag,
                                     False, job.also)  # fmt: skip
    else:
        yield from _processes(jobs, workers)


def mp_context() -> mp.context.BaseContext:
    """Start method chosen per call: ``fork`` on Linux (the caller's script is not re-imported,
    so scripts and notebooks need no ``__main__`` guard), ``spawn`` elsewhere. Its processes die
    with their parent (:func:`sla_sim.batch.worker.die_with_parent`), so a killed run or a
    culled notebook kernel leaves no worker behind."""
    return worker_context("fork" if sys.platform.startswith("linux") else "spawn")


#: How many times a run rebuilds its process pool after a worker died (killed, out of memory)
#: before the replications still to do are reported as failed.
MAX_POOL_RESTARTS = 3
#: How the failure of a replication lost with its worker process begins.
WORKER_DIED = "worker process died"


def _processes(jobs: list[Job], workers: int) -> Iterator[Outcome]:
    """Run chunks on a process pool. A worker that dies (``kill -9``, out of memory) breaks
    the pool: the chunks not finished are run again on a fresh pool (replications are
    deterministic, so results are identical), up to :data:`MAX_POOL_RESTARTS` times."""
    pending = _chunks(jobs, workers)
    restarts = 0
    while pending:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(pending)),
                                   mp_context=mp_context())  # fmt: skip
        futures = {pool.submit(run_chunk, c.scenario_json, c.seed, list(c.indices),
                               c.keep_log_of, c.tag, False, c.also): c
                   for c in pending}  # fmt: skip
        pending, died = [], None
        clean = False
        try:
            for fut in as_completed(futures):
                chunk = futures.pop(fut)  # release each chunk's results once yielded
                try:
                    outcomes = fut.result()
                except BrokenProcessPool as err:
                    pending.append(chunk)
                    died = err
                    continue
                yield from outcomes
            clean = True
        finally:
            if not clean:  # interrupted (Ctrl-C, SIGTERM, the consumer stopped): stop at once
                _terminate(pool)
            pool.shutdown(wait=True, cancel_futures=True)
        if pending:
            restarts += 1
            if restarts > MAX_POOL_RESTARTS:
                for chunk in pending:
                    for r in chunk.indices:
                        for tag in chunk.tags:
                            yield ReplicationFailure(tag, r, chunk.seed, f"{WORKER_DIED}"
                                                     f" {restarts} times: {died}")  # fmt: skip
                return
            pending.sort(key=lambda c: c.indices[0])


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop a pool's worker processes now (their running replications are lost; finished ones
    were already handed over). SIGKILL, not SIGTERM: a forked worker inherits the parent's
    SIGTERM handler, which turns the signal into an exception its pool loop catches and
    reports, and the worker went on to its next queued chunk (5 s to stop a sweep)."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            proc.kill()


#: Dask settings for local clusters. Dask's nanny sets MALLOC_TRIM_THRESHOLD_=64 KiB in its
#: workers, which makes the many short-lived numpy buffers of a replication slow to allocate,
#: and its 20 ms event-loop tick takes the GIL from the task thread; both cost ~10 % here.
LOCAL_DASK_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 128 * 1024 * 1024,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "2s",
}


def local_cluster(workers: int) -> Any:
    """A Dask LocalCluster of single-threaded worker processes, tuned for replications."""
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set(LOCAL_DASK_CONFIG):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            dashboard_address=None)  # fmt: skip


def _dask(jobs: list[Job], address: str, workers: int) -> Iterator[Outcome]:
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise ScenarioError([Issue("--dask", "needs dask: pip install 'sla_sim[dask]'",
                                   address)]) from None  # fmt: skip
    cluster = None
    if address == "local":
        cluster = local_cluster(workers)
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout="10s")
        except OSError as err:
            raise ScenarioError([Issue("--dask", f"cannot reach the scheduler ({err})",
                                       address)]) from None  # fmt: skip
    try:
        chunks = _chunks(jobs, max(workers, len(client.scheduler_info()["workers"]) or 1))
        futures = {client.submit(run_chunk, c.scenario_json, c.seed, list(c.indices),
                                 c.keep_log_of, c.tag, False, c.also, pure=False): c
                   for c in chunks}  # fmt: skip
        for fut in dask_completed(list(futures)):
            chunk = futures.pop(fut)  # drop the reference so the cluster can free the result
            try:
                yield from fut.result()
                fut.release()
            except Exception as err:  # a lost worker: report it, keep the rest
                for r in chunk.indices:
                    for tag in chunk.tags:
                        yield ReplicationFailure(tag, r, chunk.seed, f"dask task failed: {err}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
