"""Simulation side of the recommender: candidates share common random numbers, SLA-only
variants are re-judged without re-simulating, and each candidate runs only as many
replications as its decision needs (a sequential stop on Wilson bounds of P(met per month)).

A *candidate* is a scenario up to its SLA (what the model simulates); its *variants* are SLAs
judged on the same simulated replications (``executors.jobs_for`` groups them, so one
replication is simulated once and measured under every SLA). Replication ``i`` of every
candidate uses the same seed (``SeedSequence(seed, spawn_key=(i,))``): the candidates differ
only where their settings differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sla_sim.batch.executors import Job, execute, jobs_for, mp_context
from sla_sim.batch.executors import _chunks as chunks_of
from sla_sim.batch.executors import _terminate as terminate
from sla_sim.batch.replications import ReplicationError, collect
from sla_sim.batch.worker import (
    ReplicationFailure,
    ReplicationResult,
    run_chunk,
    simulation_key,
)
from sla_sim.errors import SlaSimError
from sla_sim.metrics import TOTAL
from sla_sim.scenario.schema import Scenario, SLASpec
from sla_sim.stats import wilson_interval

#: Per-lead clauses the SDR headcount must carry, and their sides.
SALES_CLAUSES = ("first_touch", "attempts", "disposition")
#: Confidence level of the Wilson intervals reported with every P(met).
INTERVAL_LEVEL = 0.95
#: Two-sided level of the Wilson bounds the sequential stop uses: 0.8 gives one-sided 90 %
#: bounds, so a candidate met in all of its first 20 replications stops as met at c = 0.9.
STOP_LEVEL = 0.8


class CancelledError(SlaSimError, RuntimeError):
    """Raised inside a recommendation when its ``cancel`` event is set (between batches of
    replications): the caller asked to stop; nothing is returned."""


@dataclass
class Counter:
    """How many replications were simulated and how many judged (simulated or re-judged)."""

    simulated: int = 0
    judged: int = 0
    by_stage: dict[str, tuple[int, int]] = field(default_factory=dict)

    def add(self, stage: str, simulated: int, judged: int) -> None:
        """Count a batch of work done for ``stage``."""
        self.simulated += simulated
        self.judged += judged
        s, j = self.by_stage.get(stage, (0, 0))
        self.by_stage[stage] = (s + simulated, j + judged)


class Evaluator:
    """Runs and remembers replications of candidates under SLA variants.

    ``values(sc, sla)`` is a (replications x keys) array of the metrics of ``sc`` simulated and
    judged under ``sla``; rows are replications 0, 1, ... in order.
    """

    def __init__(self, seed: int, workers: int = 1, dask: str | None = None,
                 progress: bool = True) -> None:  # fmt: skip
        self.seed, self.workers, self.dask, self.progress = seed, workers, dask, progress
        self.keys: list[tuple[str, str]] | None = None
        self._col: dict[tuple[str, str], int] = {}
        self._data: dict[tuple[str, str], dict[int, np.ndarray]] = {}
        self.counter = Counter()
        self.stage = "search"
        self._pool: ProcessPoolExecutor | None = None
        self.cancel: Any = None  # a threading.Event: set it to stop at the next batch

    @staticmethod
    def tag(sc: Scenario, sla: SLASpec) -> tuple[str, str]:
        """Cache key of a candidate under an SLA."""
        return simulation_key(sc), sla.model_dump_json()

    def have(self, sc: Scenario, sla: SLASpec) -> int:
        """Replications 0..n-1 available for ``sc`` under ``sla`` (n)."""
        got = self._data.get(self.tag(sc, sla), {})
        n = 0
        while n in got:
            n += 1
        return n

    def ensure(self, wanted: Sequence[tuple[Scenario, Sequence[SLASpec]]], reps: int,
               desc: str = "") -> None:  # fmt: skip
        """Make replications 0..reps-1 of every (candidate, SLAs) available, simulating each
        candidate once per missing replication and judging it under each of its SLAs.
        Raises :class:`CancelledError` when the ``cancel`` event is set."""
        if self.cancel is not None and self.cancel.is_set():
            raise CancelledError("recommendation cancelled")
        by_missing: dict[tuple[int, ...], list[tuple[tuple[str, str], Scenario]]] = {}
        for sc, slas in wanted:
            for sla in slas:
                tag = self.tag(sc, sla)
                got = self._data.setdefault(tag, {})
                missing = tuple(i for i in range(reps) if i not in got)
                if missing:
                    variant = sc.model_copy(update={"sla": sla})
                    by_missing.setdefault(missing, []).append((tag, variant))
        jobs = []
        for missing, tagged in by_missing.items():
            # one job per simulation key: SLA variants of a candidate share its replications
            seen: dict[tuple[str, str], Scenario] = dict(tagged)
            jobs += jobs_for(list(seen.items()), self.seed, missing)
        if not jobs:
            return
        total = sum(j.outcomes for j in jobs)
        simulated = sum(len(j.indices) for j in jobs)
        if self.dask or self.workers == 1:
            outcomes = execute(jobs, min(self.workers, max(1, simulated)), self.dask)
            done, failed = collect(outcomes, progress=self.progress, total=total, desc=desc)
        else:
            try:
                done, failed = collect(self._pooled(jobs), progress=self.progress, total=total,
                                       desc=desc)  # fmt: skip
            except BrokenProcessPool:  # a worker died: the executors' own restart logic
                self.close()
                done, failed = collect(execute(jobs, self.workers), progress=self.progress,
                                       total=total, desc=desc)  # fmt: skip
        if failed:
            raise ReplicationError(failed)
        for r in done:
            if self.keys is None:
                self.keys = list(r.keys)
                self._col = {k: i for i, k in enumerate(self.keys)}
            self._data[r.tag][r.replication] = r.values
        self.counter.add(self.stage, simulated, total)

    def _pooled(self, jobs: list[Job]) -> Iterator[ReplicationResult | ReplicationFailure]:
        """Run jobs on one process pool kept for the whole recommendation (a search makes
        dozens of small requests; a pool per request would fork the workers each time)."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=mp_context())
        futures = [self._pool.submit(run_chunk, c.scenario_json, c.seed, list(c.indices),
                                     c.keep_log_of, c.tag, False, c.also)
                   for c in chunks_of(jobs, self.workers)]  # fmt: skip
        clean = False
        try:
            for fut in as_completed(futures):
                yield from fut.result()
            clean = True
        finally:
            if not clean:
                for fut in futures:
                    fut.cancel()

    def close(self, now: bool = False) -> None:
        """Shut the kept process pool down (``now``: stop its workers at once)."""
        if self._pool is not None:
            if now:
                terminate(self._pool)
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def values(self, sc: Scenario, sla: SLASpec, reps: int | None = None) -> np.ndarray:
        """(replications x keys) metrics of the first ``reps`` replications (all available)."""
        n = self.have(sc, sla) if reps is None else reps
        got = self._data[self.tag(sc, sla)]
        return np.vstack([got[i] for i in range(n)])

    def column(self, values: np.ndarray, metric: str, period: str) -> np.ndarray:
        """One metric of one period across replications."""
        return values[:, self._col[(period, metric)]]

    def months(self) -> list[str]:
        """Month labels of the measured window, in order."""
        assert self.keys is not None
        return [p for p in dict.fromkeys(p for p, _ in self.keys) if p != TOTAL]


def met_matrix(ev: Evaluator, values: np.ndarray, clause: str) -> np.ndarray:
    """(replications x months) 1.0 met, 0.0 breached, NaN not judged, for one clause."""
    cols = [ev.column(values, f"{clause}_breach", m) for m in ev.months()]
    return 1.0 - np.column_stack(cols)


@dataclass(frozen=True)
class CellP:
    """P(met) of one clause in one month: successes, trials and the Wilson interval."""

    met: int
    n: int
    low: float
    high: float

    @property
    def p(self) -> float:
        """The point estimate (NaN when never judged)."""
        return self.met / self.n if self.n else float("nan")


def cell_p(indicator: np.ndarray, level: float = INTERVAL_LEVEL) -> CellP:
    """P(met) of a 0/1 (NaN = not judged) indicator column, with its Wilson interval."""
    ok = ~np.isnan(indicator)
    met, n = int(indicator[ok].sum()), int(ok.sum())
    low, high = wilson_interval(met, n, level)
    return CellP(met, n, low, high)


def per_month(ind: np.ndarray, level: float = INTERVAL_LEVEL) -> list[CellP]:
    """P(met) per month (columns) of an indicator matrix."""
    return [cell_p(ind[:, j], level) for j in range(ind.shape[1])]


def reps_to_certify(c: float) -> int:
    """Replications that certify ``c`` when every one of them meets the clause: the smallest
    n with the one-sided 90 % Wilson lower bound of n/n, n / (n + z^2), at least ``c``."""
    import math

    from scipy import stats

    z = float(stats.norm.ppf(0.5 + STOP_LEVEL / 2))
    return math.ceil(z * z * c / (1 - c) - 1e-9)


def decide(cells_at: Callable[[int], list[CellP]], confidence: float, min_reps: int,
           max_reps: int, step: int) -> tuple[bool, int]:  # fmt: skip
    """Sequential decision on "every cell has P(met) >= confidence", looking at the first
    k = min_reps, min_reps+step, ..., max_reps replications (and at :func:`reps_to_certify`,
    the first count that can certify a candidate met in all of them, when it falls between
    two of these): stop *met* once every Wilson lower
    bound (at :data:`STOP_LEVEL`; ``cells_at`` computes them) is >= confidence, *not met* once
    some upper bound is < confidence; at max_reps decide
    by the point estimates. A pure function of the replications, so with common random numbers
    it is monotone: a looser clause is met whenever a tighter one is."""
    k = min_reps
    certify = reps_to_certify(confidence)  # no lower bound clears c before this many
    while True:
        cells = [c for c in cells_at(k) if c.n > 0]  # a clause never judged cannot fail
        if all(c.low >= confidence for c in cells):
            return True, k
        if any(c.high < confidence for c in cells):
            return False, k
        if k >= max_reps:
            return all(c.p >= confidence for c in cells), k
        nxt = k + step
        if k < certify < nxt:  # look again as soon as a met candidate can be certified
            nxt = certify
        k = min(max_reps, nxt)
