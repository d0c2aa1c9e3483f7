"""Where replications run: in this process, in local worker processes, or on a Dask cluster.

Every executor runs the same task (:func:`sla_sim.batch.worker.run_chunk`) on the same replication
indices with the same seed, so results are identical whichever is used. Results are yielded as
they complete; a replication that raises is yielded as a ReplicationFailure (with its seed) and
the others go on.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import sys
from collections.abc import Iterable, Iterator
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


def chunk_size(total: int, workers: int) -> int:
    """Replications per task: about four tasks per worker, at most ten replications each."""
    return max(1, min(10, total // max(1, workers * 4)))


def iter_chunks(jobs: Iterable[Job], size: int) -> Iterator[Job]:
    """The jobs cut into tasks of at most ``size`` replications, made as they are asked for."""
    for j in jobs:
        for i in range(0, len(j.indices), size):
            yield Job(j.tag, j.scenario_json, j.seed, j.indices[i:i + size], j.keep_log_of,
                      j.also)  # fmt: skip


def _chunks(jobs: list[Job], workers: int) -> list[Job]:
    total = sum(len(j.indices) for j in jobs)  # simulations: a job's ``also`` are judged only
    return list(iter_chunks(jobs, chunk_size(total, workers)))


def execute(jobs: Iterable[Job], workers: int = 1, dask: str | None = None,
            total: int | None = None) -> Iterator[Outcome]:
    """Run every replication of every job; yield outcomes as they complete.

    ``jobs`` may be a lazy iterable (a sweep's grid): tasks are made and submitted a few per
    worker at a time, as earlier ones complete. ``total``: the simulations the jobs hold
    (counted from a list when not given), which sets the size of a task.
    """
    if workers < 1:
        raise ScenarioError([Issue("workers", "must be >= 1", workers)], "run request")
    if total is None:
        jobs = list(jobs)
        total = sum(len(j.indices) for j in jobs)
    if dask:
        yield from _dask(jobs, dask, workers, total)
    elif workers == 1:
        for job in jobs:
            for r in job.indices:
                yield from run_chunk(job.scenario_json, job.seed, [r], job.keep_log_of, job.tag,
                                     False, job.also)  # fmt: skip
    else:
        yield from _processes(iter_chunks(jobs, chunk_size(total, workers)), workers)


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


#: Tasks kept submitted per worker while more are made (a lazy job list is not materialised).
IN_FLIGHT_PER_WORKER = 4


def _processes(chunks: Iterator[Job], workers: int) -> Iterator[Outcome]:
    """Run tasks on a process pool, a few per worker in flight. A worker that dies (``kill
    -9``, out of memory) breaks the pool: the tasks not finished are run again on a fresh pool
    (replications are deterministic, so results are identical), up to
    :data:`MAX_POOL_RESTARTS` times."""
    from sla_sim.batch.worker import warm_up

    retry: list[Job] = []
    restarts = 0
    window = workers * IN_FLIGHT_PER_WORKER
    warm_up()  # load the compiled code once, before the workers fork (they inherit it)
    while True:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp_context())
        futures: dict[Any, Job] = {}
        died = None
        clean = False
        try:
            try:
                _fill(pool, futures, retry, chunks, window)
                while futures:
                    fut = next(as_completed(futures))
                    chunk = futures.pop(fut)  # release each task's results once yielded
                    try:
                        outcomes = fut.result()
                    except BrokenProcessPool:
                        retry.append(chunk)
                        raise
                    yield from outcomes
                    _fill(pool, futures, retry, chunks, window)
            except BrokenProcessPool as err:
                # a worker died: found by a task's result, or by ``submit`` when the pool was
                # marked broken between two results (the chunk it refused is back in ``retry``)
                died = err
                retry.extend(futures.values())
                futures.clear()
            clean = True
        finally:
            if not clean:  # interrupted (Ctrl-C, SIGTERM, the consumer stopped): stop at once
                _terminate(pool)
            pool.shutdown(wait=True, cancel_futures=True)
        if died is None:
            return
        restarts += 1
        retry.sort(key=lambda c: c.indices[0])
        if restarts > MAX_POOL_RESTARTS:
            for chunk in [*retry, *chunks]:
                yield from _lost(chunk, f"{WORKER_DIED} {restarts} times: {died}")
            return


def _fill(pool: ProcessPoolExecutor, futures: dict[Any, Job], retry: list[Job],
          chunks: Iterator[Job], window: int) -> None:
    """Submit tasks (those to run again first) until ``window`` are in flight. A pool already
    broken raises :class:`BrokenProcessPool` with the refused task put back first in
    ``retry``."""
    while len(futures) < window:
        chunk = retry.pop(0) if retry else next(chunks, None)
        if chunk is None:
            return
        try:
            fut = pool.submit(run_chunk, chunk.scenario_json, chunk.seed, list(chunk.indices),
                              chunk.keep_log_of, chunk.tag, False, chunk.also)  # fmt: skip
        except BrokenProcessPool:
            retry.insert(0, chunk)  # a worker died since the last result: run it on the next
            raise
        futures[fut] = chunk


def _lost(chunk: Job, why: str) -> Iterator[ReplicationFailure]:
    """Every replication of a task that could not be run, as failures."""
    for r in chunk.indices:
        for tag in chunk.tags:
            yield ReplicationFailure(tag, r, chunk.seed, why)


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
    """A Dask LocalCluster of single-threaded worker processes, tuned for replications, whose
    workers die with this process and leave Ctrl-C to it (like the process pool's)."""
    import dask
    from dask.distributed import Client, LocalCluster

    from sla_sim.batch.dask_plugin import LikePoolWorkers

    with dask.config.set(LOCAL_DASK_CONFIG):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)  # fmt: skip
    # every worker, also one restarted later (a worker lost meanwhile gets it on restart)
    with Client(cluster) as client, contextlib.suppress(OSError):
        client.register_plugin(LikePoolWorkers())
        warm_workers(client)
    return cluster


#: Schedulers (by id) whose workers this process has asked to warm up (the scheduler keeps the
#: plugin and gives it to every worker that joins later, so once per scheduler is enough).
_WARMED: set[str] = set()


def warm_workers(client: Any) -> None:
    """Have every worker of ``client``'s cluster, also one (re)started later, load the fast
    engine's compiled code at set-up (:class:`~sla_sim.batch.dask_plugin.WarmFastEngine`);
    returns once the workers there now have (at once if this process asked that scheduler
    before)."""
    from sla_sim.batch.dask_plugin import WarmFastEngine

    scheduler = str(client.scheduler_info().get("id", ""))  # unique per scheduler started
    if not scheduler or scheduler not in _WARMED:
        client.register_plugin(WarmFastEngine())
        _WARMED.add(scheduler)


#: How many times a Dask task lost with its worker (killed, out of memory, a dropped
#: connection) is submitted again before its replications are reported as failed.
MAX_DASK_RETRIES = MAX_POOL_RESTARTS


def _connect(address: str) -> Any:
    """A Dask client of the scheduler at ``address``, or one clear error naming --dask."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise ScenarioError([Issue("--dask", "needs dask: pip install 'sla_sim[dask]'",
                                   address)]) from None  # fmt: skip
    try:
        return Client(address, timeout="10s")
    except OSError as err:
        raise ScenarioError([Issue("--dask", f"cannot reach the scheduler ({err})",
                                   address)]) from None  # fmt: skip
    except (ValueError, TypeError) as err:  # 'nope': distributed's ValueError, a traceback
        raise ScenarioError([Issue("--dask", f"must be 'local' or a scheduler address such"
                                   f" as tcp://host:8786 ({err})", address)]) from None


def check_scheduler(address: str | None) -> None:
    """Refuse an unreachable or malformed ``--dask`` scheduler before anything is written (a
    run's store entry, its folder); ``local`` and no Dask need no check."""
    if address and address != "local":
        _connect(address).close()


def _dask(jobs: Iterable[Job], address: str, workers: int, total: int) -> Iterator[Outcome]:
    """Run tasks on Dask, a few per worker in flight. A task lost with its worker is submitted
    again (up to :data:`MAX_DASK_RETRIES` times; replications are deterministic, so results
    are identical); the workers of a local cluster die with this process and leave Ctrl-C
    to it (:func:`sla_sim.batch.worker.leave_signals_to_parent`)."""
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
        client = _connect(address)
        with contextlib.suppress(OSError):  # a worker lost meanwhile warms up on restart
            warm_workers(client)
    try:
        n = max(workers, len(client.scheduler_info()["workers"]) or 1)
        chunks = iter_chunks(jobs, chunk_size(total, n))
        futures: dict[Any, tuple[Job, int]] = {}

        def submit(chunk: Job, tries: int) -> Any:
            fut = client.submit(run_chunk, chunk.scenario_json, chunk.seed, list(chunk.indices),
                                chunk.keep_log_of, chunk.tag, False, chunk.also, pure=False)
            futures[fut] = (chunk, tries)
            return fut

        first = [submit(c, 0) for c in itertools.islice(chunks, n * IN_FLIGHT_PER_WORKER)]
        running = dask_completed(first)
        for fut in running:
            chunk, tries = futures.pop(fut)  # drop the reference so the cluster can free it
            try:
                outcomes = fut.result()
            except Exception as err:  # run_chunk reports its own errors: the task was lost
                if tries < MAX_DASK_RETRIES:
                    running.add(submit(chunk, tries + 1))
                else:
                    yield from _lost(chunk, f"dask task lost {tries + 1} times: {err}")
                continue
            fut.release()
            yield from outcomes
            nxt = next(chunks, None)
            if nxt is not None:
                running.add(submit(nxt, 0))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
