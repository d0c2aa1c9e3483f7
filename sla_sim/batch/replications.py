"""Replications: seeds, executors (serial, local processes, Dask) and progress.

Replication ``i`` of a run with root ``seed`` always uses ``SeedSequence(seed, spawn_key=(i,))``,
so results are identical whatever the executor or number of workers, and two scenarios run with
the same seed share common random numbers (see :mod:`sla_sim.streams`).

Worker processes are started with ``fork`` on Linux and ``spawn`` elsewhere, chosen per call and
never at import. With ``spawn`` (macOS, Windows) a script must guard its entry point with
``if __name__ == "__main__":``; the task function lives in :mod:`sla_sim.batch.worker`, so notebooks
work either way. Results stream in and are aggregated as they arrive: per-lead event logs are
not kept, except the one of ``keep_log_of``.
"""

from __future__ import annotations

import numbers
import os
import time
from collections.abc import Callable, Iterable

from sla_sim.batch.executors import WORKER_DIED, Job, execute
from sla_sim.batch.limits import check_cost
from sla_sim.batch.results import Results
from sla_sim.batch.worker import ReplicationFailure, ReplicationResult, run_one
from sla_sim.errors import Issue, ScenarioError, SlaSimError
from sla_sim.scenario.schema import Scenario

__all__ = [
    "DEFAULT_SEED",
    "ReplicationError",
    "ReplicationResult",
    "default_workers",
    "run_replication",
    "run_replications",
]

DEFAULT_SEED = 20260101


class ReplicationError(SlaSimError, RuntimeError):
    """Replications raised; each failure carries its seed and index so it can be re-run alone.

    ``results`` holds the replications that did complete (None if none did).
    """

    def __init__(self, failures: list[ReplicationFailure], results: Results | None = None):
        self.failures, self.results = failures, results
        lines = [f"{len(failures)} replication(s) failed:"]
        for f in failures[:10]:
            lines.append(f"  replication {f.replication} (seed {f.seed}): {f.error}")
        if len(failures) > 10:
            lines.append(f"  ... and {len(failures) - 10} more")
        raised = [f for f in failures if not f.error.startswith(WORKER_DIED)]
        if raised:
            f0 = raised[0]
            lines.append(f"  reproduce one alone: sla_sim.run_replication(scenario,"
                         f" seed={f0.seed}, replication={f0.replication})")  # fmt: skip
        else:
            lines.append("  worker processes kept dying (killed, or out of memory?): try fewer"
                         " --workers or a smaller scenario, then resume")  # fmt: skip
        super().__init__("\n".join(lines))


def run_replication(
    scenario: Scenario, seed: int = DEFAULT_SEED, replication: int = 0, keep_log: bool = False
) -> ReplicationResult:
    """Simulate one replication and compute its metrics (``.metrics`` is a tidy table)."""
    check_request(1, 1, seed, scenario, first=replication)
    check_cost(scenario, 1, 1)
    return run_one(scenario, seed, replication, keep_log=keep_log)


def _whole(value: object) -> bool:
    """A whole number (Python or NumPy), not a bool, a float or a string."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


_NOT_GIVEN = object()


def check_request(reps: int, workers: int, seed: int, scenario: object = _NOT_GIVEN,
                  first: int = 0, first_name: str = "replication") -> None:  # fmt: skip
    """Reject impossible run requests before anything runs: counts that are not whole numbers
    (``reps=2.5``, ``seed="7"``, ``reps=True`` were a TypeError, a failed replication or one
    replication), out of range, and (when given) a scenario that is not a :class:`Scenario`."""
    issues = []
    if scenario is not _NOT_GIVEN and not isinstance(scenario, Scenario):
        issues.append(Issue("scenario", "must be a Scenario (from preset(), load_scenario() or"
                            " Scenario.model_validate(dict))", type(scenario).__name__))
    for name, value, low in (("reps", reps, 1), ("workers", workers, 1),
                             (first_name, first, 0)):  # fmt: skip
        if not _whole(value):
            issues.append(Issue(name, "must be a whole number", value))
        elif value < low:
            issues.append(Issue(name, f"must be >= {low}", value))
    if not _whole(seed):
        issues.append(Issue("seed", "must be a whole number in 0 .. 2**63-1", seed))
    elif not 0 <= seed < 2**63:
        issues.append(Issue("seed", "must be in 0 .. 2**63-1", seed))
    if issues:
        raise ScenarioError(issues, "run request")


def collect(
    outcomes: Iterable[ReplicationResult | ReplicationFailure],
    on_result: Callable[[ReplicationResult], None] | None = None,
    progress: bool = True,
    total: int | None = None,
    desc: str = "",
    keep: bool = True,
) -> tuple[list[ReplicationResult], list[ReplicationFailure]]:
    """Drain outcomes with a tqdm progress bar (a widget in Jupyter); split successes/failures.

    Successes are returned only when ``keep`` (with ``keep=False`` each is handed to
    ``on_result`` and released, so memory stays flat however many replications run).
    """
    from sla_sim.progress import progress_bar

    done: list[ReplicationResult] = []
    failed: list[ReplicationFailure] = []
    # in a notebook the finished bar is left as text; in a terminal it is cleared when done
    with progress_bar(total=total, desc=desc, unit="rep", disable=not progress,
                      leave=None) as bar:  # fmt: skip
        for out in outcomes:
            if isinstance(out, ReplicationFailure):
                failed.append(out)
            else:
                if keep:
                    done.append(out)
                if on_result is not None:
                    on_result(out)
            bar.update(1)
    return done, failed


def run_replications(
    scenario: Scenario,
    reps: int = 20,
    seed: int = DEFAULT_SEED,
    workers: int = 1,
    progress: bool = True,
    keep_log_of: int | None = 0,
    dask: str | None = None,
    start: int = 0,
) -> Results:
    """Run replications ``start .. start+reps-1`` and gather them into :class:`Results`.

    ``workers > 1`` uses local processes, ``dask="local"`` a local Dask cluster and
    ``dask="tcp://host:8786"`` an existing one; results are identical to a serial run. The
    event log of replication ``keep_log_of`` is kept (None keeps none). If some replications
    raise, a ReplicationError lists them with their seeds and carries the others as ``.results``.
    """
    check_request(reps, workers, seed, scenario, first=start, first_name="start")
    default_log = keep_log_of == 0 and start > 0  # the default, on a later block: no log
    if keep_log_of is not None and not default_log and not (
            _whole(keep_log_of) and start <= keep_log_of < start + reps):  # fmt: skip
        raise ScenarioError([Issue("keep_log_of", f"must be one of the replications run,"
                                   f" {start} .. {start + reps - 1}, or None (no event log)",
                                   keep_log_of)], "run request")  # no log, in silence
    check_cost(scenario, reps, min(workers, reps))
    workers = min(workers, reps)
    t0 = time.perf_counter()
    job = Job(None, scenario.model_dump_json(), seed, tuple(range(start, start + reps)),
              keep_log_of)  # fmt: skip
    done, failed = collect(execute([job], workers, dask), progress=progress, total=reps,
                           desc=scenario.name.replace("_", " "))  # fmt: skip
    results = None
    if done:
        results = Results.from_replications(
            scenario, seed, done, wall_seconds=time.perf_counter() - t0, workers=workers,
            extra_meta={"executor": f"dask:{dask}" if dask else "processes" if workers > 1
                        else "serial"}, failures=failed,
        )  # fmt: skip
    if failed:
        raise ReplicationError(failed, results)
    assert results is not None
    return results


def default_workers() -> int:
    """Cores available to this process."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
