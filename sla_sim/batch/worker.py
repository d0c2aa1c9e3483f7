"""Task functions run by worker processes (local pool or Dask).

Kept light on purpose: Dask workers re-import the module that defines a task, so heavy imports
happen inside the functions, once per worker process.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sla_sim.errors import interrupt_pending


@dataclass
class ReplicationResult:
    """Metrics of one replication (aligned on ``keys``), lead terminal counts, optional log."""

    tag: Any
    replication: int
    keys: tuple[tuple[str, str], ...]
    values: Any  # numpy float64 array aligned with keys
    terminal: dict[str, int]
    seconds: float
    log: Any = field(default=None, repr=False)  # EventLog when kept
    remembered: bool = False  # re-judged on a remembered measurement, not simulated
    drivers: dict[tuple[str, str], float] = field(default_factory=dict, repr=False)
    # what the costs multiply (sla_sim.metrics.costs.cost_drivers), kept apart from the KPIs

    @property
    def metrics(self) -> Any:
        """The metrics as a tidy (period, metric, value) DataFrame."""
        import pandas as pd

        return pd.DataFrame(
            {"period": [k[0] for k in self.keys], "metric": [k[1] for k in self.keys],
             "value": self.values}
        )  # fmt: skip


@dataclass
class ReplicationFailure:
    """A replication that raised: enough to reproduce it alone."""

    tag: Any
    replication: int
    seed: int
    error: str
    traceback: str = field(default="", repr=False)


def run_one(scenario: Any, seed: int, replication: int, keep_log: bool = False,
            tag: Any = None, remember: bool = False) -> ReplicationResult:  # fmt: skip
    """Simulate one replication of a validated Scenario and compute its metrics.

    Automatic garbage collection is paused for the whole replication: the model leaves no
    reference cycles, so everything it allocates is freed by reference counting when this
    returns.

    ``remember=True`` keeps the replication's :class:`~sla_sim.metrics.Measurement` in this
    process (a few recent ones, see :data:`REMEMBERED`): asked again for the same scenario up
    to its SLA, seed and replication, it re-judges the SLA without simulating, since the model
    never reads the SLA. Results are identical either way.
    """
    from sla_sim.model.calls import gc_paused

    with gc_paused():
        return _run_one(scenario, seed, replication, keep_log, tag, remember)


def warm_up() -> None:
    """Set up this process for replications: load (or, the first time on a machine, compile
    and cache) all compiled code a replication runs — the fast engine's event loop and the
    compiled passes around it (:func:`sla_sim.model.funnel.warm_up`,
    :mod:`sla_sim.model.passes`) and the metrics' compiled passes
    (:func:`sla_sim.metrics.kernels.warm_up`) — and keep freed memory for the next replication
    (:func:`keep_freed_memory`). Called at set-up (pools before they fork, planner and Dask
    workers) so that no replication pays it; later calls return at once."""
    from sla_sim.metrics.kernels import warm_up as warm_metrics
    from sla_sim.model.funnel import warm_up as warm_engine

    keep_freed_memory()
    warm_engine()
    warm_metrics()


#: glibc ``mallopt`` parameters (malloc.h): M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: freed memory this process keeps for its next allocations, and the size from which a block
#: gets its own mapping (glibc's largest default, 32 MiB, fixed instead of adapting)
KEEP_FREED_BYTES, OWN_MAPPING_BYTES = 256 << 20, 32 << 20


def keep_freed_memory() -> bool:
    """Let this process's C allocator (glibc) keep the memory a replication frees for the next
    one, instead of returning it to the system and faulting it in again (zeroed) at the next
    replication; ``False`` where there is no glibc ``mallopt`` (nothing changes there).

    A default replication allocates and frees some tens of MiB of numpy arrays; with glibc's
    adaptive thresholds, how much of it goes back to the system varies from process to process:
    up to about 2,000 page faults and 5 ms of system time per replication, against 20 faults
    and 0.2 ms with these settings. The process's peak memory is that of one replication either
    way. The same numbers either way.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        mallopt = None
    if mallopt is None:
        return False
    return bool(mallopt(_M_TRIM_THRESHOLD, KEEP_FREED_BYTES)) and bool(
        mallopt(_M_MMAP_THRESHOLD, OWN_MAPPING_BYTES))


#: Prefix of the lead terminal counts that cover only the leads created in the measured window
#: (``measured_won`` ...; the unprefixed counts cover every lead of the run, warm-up included).
MEASURED_PREFIX = "measured_"

#: How many measured replications a process remembers (``run_one(remember=True)``); each is
#: about 1.5 MB on the default scenario. The planner gives each worker the same replication
#: numbers every time, so a worker remembers its share of a whole evaluation.
REMEMBERED = 64
_MEMORY: OrderedDict[tuple[str, int, int], tuple[Any, dict[str, int], Any, dict]] = OrderedDict()


def simulation_key(scenario: Any) -> str:
    """What the simulation of a scenario depends on: everything but its costs and its SLA,
    unless a team orders its work by SLA deadlines (:func:`sla_sim.model.policies.reads_sla`)."""
    import hashlib

    from sla_sim.model.policies import reads_sla

    # costs never change what is simulated (they price it afterwards)
    exclude = {"costs"} if reads_sla(scenario) else {"sla", "costs"}
    return hashlib.sha256(scenario.model_dump_json(exclude=exclude).encode()).hexdigest()


def _run_one(scenario: Any, seed: int, replication: int, keep_log: bool, tag: Any,
             remember: bool) -> ReplicationResult:  # fmt: skip
    import numpy as np

    from sla_sim import metrics
    from sla_sim.horizon import window_for
    from sla_sim.metrics.costs import capacity_plan, cost_drivers
    from sla_sim.model.funnel import FunnelModel
    from sla_sim.model.reconcile import terminal_counts
    from sla_sim.streams import Streams, replication_seed

    t0 = time.perf_counter()
    key = (simulation_key(scenario), seed, replication) if remember else None
    known = _MEMORY.get(key) if key is not None else None
    remembered = known is not None and (known[2] is not None or not keep_log)
    if remembered:
        _MEMORY.move_to_end(key)
        measured, terminal, log, drivers = known  # type: ignore[misc]
    else:
        model = FunnelModel(scenario, Streams(replication_seed(seed, replication)))
        log = model.run()
        measured = metrics.measure(log, scenario)
        # the capacity plan re-expanded from fresh streams: the same draws the model made
        plan = capacity_plan(scenario, Streams(replication_seed(seed, replication)))
        drivers = cost_drivers(log, scenario, plan, measured.window)
        states = model.states
        terminal = terminal_counts(states)
        # the same for the leads created in the measured window (the funnel's leads_created):
        # the report sets these beside the funnel, the whole run's beside the warm-up
        start_h = window_for(scenario).start_h
        inside = terminal_counts(states[log.leads["created_h"] >= start_h])
        terminal.update({f"{MEASURED_PREFIX}{k}": v for k, v in inside.items()})
        if key is not None:
            _MEMORY[key] = (measured, terminal, log if keep_log else None, drivers)
            while len(_MEMORY) > REMEMBERED:
                _MEMORY.popitem(last=False)
    rows = measured.rows(scenario.sla)  # the rows of measured.table(), without a DataFrame
    keys = tuple((period, metric) for period, metric, _ in rows)
    values = np.fromiter((v for _, _, v in rows), dtype=np.float64, count=len(rows))
    return ReplicationResult(tag, replication, keys, values,
                             dict(terminal), time.perf_counter() - t0,
                             log if keep_log else None, remembered, drivers)  # fmt: skip


_SCENARIO_CACHE: dict[str, Any] = {}


def _scenario(scenario_json: str) -> Any:
    """The validated Scenario of a JSON text (a few recent ones are kept parsed)."""
    from sla_sim.scenario.schema import Scenario

    scenario = _SCENARIO_CACHE.get(scenario_json)
    if scenario is None:
        if len(_SCENARIO_CACHE) >= 16:
            _SCENARIO_CACHE.clear()
        scenario = _SCENARIO_CACHE[scenario_json] = Scenario.model_validate_json(scenario_json)
    return scenario


def run_chunk(scenario_json: str, seed: int, indices: list[int], keep_log_of: int | None,
              tag: Any = None, remember: bool = False,
              also: tuple[tuple[Any, str], ...] = ()
              ) -> list[ReplicationResult | ReplicationFailure]:  # fmt: skip
    """Worker entry point: several replications of a scenario given as JSON.

    A replication that raises becomes a ReplicationFailure; the others still run.
    ``remember``: see :func:`run_one`. ``also``: (tag, scenario JSON) of scenarios that
    differ from this one in their SLA only; each replication is simulated once and judged
    under every one of them too (one result per tag and replication).
    """
    scenario = _scenario(scenario_json)
    others = [(t, _scenario(j)) for t, j in also]
    forget = simulation_key(scenario) if others and not remember else None
    out: list[ReplicationResult | ReplicationFailure] = []
    for r in indices:
        for t, sc in [(tag, scenario), *others]:
            try:
                out.append(run_one(sc, seed, r, keep_log=(r == keep_log_of and t == tag),
                                   tag=t, remember=remember or bool(others)))  # fmt: skip
            except Exception as err:  # reported with its seed, never swallowed
                if interrupt_pending() or _interrupted(err):
                    raise KeyboardInterrupt from err  # Ctrl-C seen through numba's dispatcher
                out.append(ReplicationFailure(t, r, seed, f"{type(err).__name__}: {err}",
                                              traceback.format_exc()))  # fmt: skip
            if interrupt_pending():  # a Ctrl-C the compiled code's dispatcher swallowed
                raise KeyboardInterrupt
        if forget is not None:  # remembered only to judge the others: forget it now
            _MEMORY.pop((forget, seed, r), None)
    return out


def _interrupted(err: BaseException) -> bool:
    """Whether ``err`` wraps a KeyboardInterrupt (numba's dispatcher reports an interrupt that
    arrived while it was running Python code as a SystemError caused by it)."""
    seen: set[int] = set()
    e: BaseException | None = err
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


# ---------------------------------------------------------------------------- process lifetime
#: How often a worker process checks that the process that started it is still there (s).
PARENT_CHECK_S = 0.5


def die_with_parent(interval: float = PARENT_CHECK_S) -> None:
    """Exit this (worker) process as soon as its parent is gone.

    A daemon thread compares ``os.getppid()`` with the parent seen at start: when the parent
    dies (``kill -9``, a crash, a Jupyter kernel being culled) the worker is re-parented and
    exits within ``interval`` seconds instead of waiting for work forever on a dead pipe.
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="sla-sim-parent-watch", daemon=True).start()


def leave_signals_to_parent() -> None:
    """In a worker process: ignore SIGINT and take SIGTERM's default action.

    Ctrl-C in a terminal sends SIGINT to the whole process group; the parent alone decides
    to stop (it keeps finished replications and terminates its workers), so a worker neither
    raises KeyboardInterrupt nor prints its traceback. A fork-started worker also inherits the
    parent's Python SIGTERM handler (which raises KeyboardInterrupt): SIGTERM from the parent
    ends it quietly instead.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def plain_output_streams() -> None:
    """In a fork-started worker: write ``sys.stdout``/``sys.stderr`` straight to file
    descriptors 1 and 2 through new stream objects.

    A worker forked from a Jupyter kernel (the planner panel, a notebook's batch run) inherits
    the kernel's output streams, whose buffer lock and message socket belong to the kernel's
    I/O thread. That thread does not exist in the child: if it held the lock at the moment of
    the fork, the worker's first warning or print would wait for it forever, and the
    evaluation with it. Plain streams on the same descriptors take no inherited lock (the
    kernel's own capture of descriptors 1 and 2, where enabled, still collects the text).
    """
    import io
    import sys

    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        try:
            if isinstance(stream, io.TextIOWrapper) and stream.fileno() == fd:
                continue  # already a plain stream on its descriptor (a terminal, a pipe, a file)
        except (OSError, ValueError):  # no descriptor behind it (an in-memory capture)
            pass
        try:
            setattr(sys, name, open(fd, "w", buffering=1, closefd=False,  # noqa: SIM115
                                    encoding="utf-8", errors="replace"))  # fmt: skip
        except OSError:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


class _ForkWorker(mp.get_context("fork").Process if hasattr(os, "fork")  # type: ignore[misc]
                  else mp.get_context("spawn").Process):  # fmt: skip
    """A fork-started worker process that dies with its parent and leaves Ctrl-C to it."""

    def run(self) -> None:
        plain_output_streams()
        leave_signals_to_parent()
        die_with_parent()
        super().run()


class _SpawnWorker(mp.get_context("spawn").Process):  # type: ignore[misc]
    """A spawn-started worker process that dies with its parent and leaves Ctrl-C to it."""

    def run(self) -> None:
        leave_signals_to_parent()
        die_with_parent()
        super().run()


def worker_context(method: str) -> mp.context.BaseContext:
    """A multiprocessing context (``fork`` or ``spawn``) whose processes die with their parent
    (see :func:`die_with_parent`); pools made from it need no other clean-up on a crash."""
    base = mp.get_context(method)
    proc = _ForkWorker if method == "fork" else _SpawnWorker
    ctx_type = type(f"{type(base).__name__}DyingWithParent", (type(base),), {"Process": proc})
    return ctx_type()  # type: ignore[no-any-return]
