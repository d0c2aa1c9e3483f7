"""Stored runs: replications streamed to a run folder, sequential precision, resume.

``stored_run`` is what ``sla-sim run`` does: it creates the run folder, streams finished
replications to Parquet chunks as they arrive (memory stays flat however many replications),
keeps going until the requested replications are done or every ``--precision`` target is met,
then writes the final results folder. Ctrl-C (or SIGTERM, which the CLI turns into Ctrl-C), a
failed replication or a full disk leaves the finished chunks in place;
``stored_run(..., resume=ID)`` completes the run. A resume reads only chunks stamped with the
run's scenario hash and seed, with its metric set and replication numbers, and checks that
replication 0 computed afresh equals the stored one; ``force=True`` over an existing ``out``
folder removes the previous run's files first, so nothing of it is reused.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sla_sim.batch.executors import Job, execute
from sla_sim.batch.files import atomic_write_text
from sla_sim.batch.limits import check_cost
from sla_sim.batch.replications import ReplicationError, check_request, collect
from sla_sim.batch.results import Results, package_version, scenario_hash
from sla_sim.batch.store import (
    CHUNK_GLOB,
    COMPLETE,
    INCOMPLETE,
    INTERRUPTED,
    RUNNING,
    RunFolder,
    RunStore,
    is_alive,
    metric_set_hash,
    staged,
    this_process,
)
from sla_sim.batch.worker import ReplicationFailure, ReplicationResult, run_one
from sla_sim.errors import Issue, ScenarioError
from sla_sim.metrics.numbers import DASH
from sla_sim.model.engine import describe as describe_engine
from sla_sim.scenario.schema import Scenario
from sla_sim.stats import t_half_width

FLUSH_EVERY = 25  # replications per chunk file
FLUSH_SECONDS = 10.0


@dataclass(frozen=True)
class PrecisionTarget:
    """Keep adding replications until the 95% CI half-width of a metric's mean is within
    ``value`` (a fraction of the mean when ``relative``, else in the metric's unit)."""

    metric: str
    period: str
    value: float
    relative: bool

    def half_width(self, x: np.ndarray) -> float:
        """95% t-interval half-width of the mean of ``x`` (NaNs ignored; inf below 2 values)."""
        hw = t_half_width(x, 0.95)
        return math.inf if math.isnan(hw) else hw

    def allowed(self, x: np.ndarray) -> float:
        """The half-width allowed for these values."""
        return self.value * abs(float(np.nanmean(x))) if self.relative else self.value

    def describe(self, x: np.ndarray, currency: str = "") -> str:
        """A one-line statement of the precision reached, in the metric's unit as every other
        screen prints it (``mean USD 7.10M, 95% CI half-width USD 57.3k (0.81 % of the
        mean)``; a ratio's half-width in percentage points); the relative half-width with two
        decimals, as fine as a ``--precision`` target like ``2%`` needs to be judged by eye."""
        from sla_sim.metrics.numbers import metric_diff, metric_value, percent

        hw, mean = self.half_width(x), float(np.nanmean(x))
        rel = f" ({percent(hw / abs(mean), 2)} of the mean)" if mean and math.isfinite(hw) else ""
        half = metric_diff(self.metric, hw, currency, signed=False) if math.isfinite(hw) else DASH
        ok = "met" if hw <= self.allowed(x) else "NOT met"
        return (f"{self.metric}[{self.period}]: mean {metric_value(self.metric, mean, currency)},"
                f" 95% CI half-width {half}{rel} after {np.sum(~np.isnan(x))} replications"
                f" - target {ok}")


_PRECISION = re.compile(r"^(?P<metric>[a-z0-9_]+)(@(?P<period>[\w-]+))?="
                        r"(?P<v>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
                        r"(?P<pct>%?)$")  # fmt: skip


def parse_precision(spec: str) -> PrecisionTarget:
    """``revenue=2%`` (relative), ``first_touch_compliance=0.01`` (absolute),
    ``revenue@2026-02=5%`` (one period; default ``total``)."""
    m = _PRECISION.match(spec.strip())
    if not m:
        raise ScenarioError([Issue("--precision", "must be METRIC[@PERIOD]=VALUE[%]", spec)])
    v = float(m["v"]) / (100 if m["pct"] else 1)
    if not v > 0:
        raise ScenarioError([Issue("--precision", "the target must be > 0", spec)])
    return PrecisionTarget(m["metric"], m["period"] or "total", v, bool(m["pct"]))


def _next_total(done: int, targets: list[PrecisionTarget], res: Results, cap: int) -> int:
    """How many replications in all to aim for next (``done`` when every target is met)."""
    need = done
    for t in targets:
        x = res.column(t.metric, t.period)
        hw, allowed = t.half_width(x), t.allowed(x)
        if hw > allowed:
            if not math.isfinite(hw) or allowed <= 0:
                guess = done * 2
            else:
                guess = math.ceil(done * (hw / allowed) ** 2 * 1.1)
            need = max(need, min(max(guess, done + 2), done * 4))
    return min(need, cap)


class _Sink:
    """Buffers finished replications and flushes them to chunk files (stamped with the run's
    scenario hash and seed); after each flush ``on_flush`` runs (the heartbeat)."""

    def __init__(self, folder: RunFolder, stamp: dict[str, Any] | None = None,
                 on_flush: Callable[[], None] | None = None) -> None:  # fmt: skip
        self.folder = folder
        self.stamp = stamp
        self.on_flush = on_flush
        self.buf: list[ReplicationResult] = []
        self.last = time.monotonic()
        self.keys: list[tuple[str, str]] | None = None

    def add(self, r: ReplicationResult) -> None:
        self.keys = self.keys or list(r.keys)
        if list(r.keys) != self.keys:
            raise ScenarioError([Issue("replication", "produced another metric set than the"
                                       " run's first replication", r.replication)], "run")
        self.buf.append(r)
        if len(self.buf) >= FLUSH_EVERY or time.monotonic() - self.last > FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.buf and self.keys is not None:
            self.folder.write_chunk(self.keys, [r.replication for r in self.buf],
                                    np.vstack([r.values for r in self.buf]),
                                    [r.terminal for r in self.buf],
                                    [r.seconds for r in self.buf], self.stamp,
                                    [r.drivers for r in self.buf])  # fmt: skip
            if self.on_flush is not None:
                self.on_flush()
        self.buf = []
        self.last = time.monotonic()


def results_from_chunks(scenario: Scenario, wide: pd.DataFrame, meta: dict[str, Any]) -> Results:
    """Results from the wide chunk table of a run folder."""
    from sla_sim.batch.store import COST_PREFIX, metric_columns

    metric_cols = metric_columns(wide.columns)
    keys = [tuple(c.split("|", 1)) for c in metric_cols]
    terminal = wide[["replication"] + [c for c in wide.columns if c.startswith("state|")]]
    terminal = terminal.rename(columns=lambda c: c.removeprefix("state|"))
    cost_cols = [c for c in wide.columns if c.startswith(COST_PREFIX)]
    drivers = None
    if cost_cols:  # back to one row per replication x period x driver
        long = wide[["replication", *cost_cols]].melt(id_vars="replication", var_name="key")
        parts = long["key"].str.removeprefix(COST_PREFIX).str.split("|", n=1, expand=True)
        drivers = pd.DataFrame({"replication": long["replication"], "period": parts[0],
                                "driver": parts[1], "value": long["value"]})  # fmt: skip
    return Results(scenario, keys, wide["replication"].to_numpy(),  # type: ignore[arg-type]
                   wide[metric_cols].to_numpy(np.float64), terminal, meta, drivers=drivers)


def stored_run(
    scenario: Scenario | None = None,
    reps: int = 20,
    seed: int = 20260101,
    workers: int = 1,
    dask: str | None = None,
    store: RunStore | None = None,
    out: str | Path | None = None,
    precision: list[PrecisionTarget] | None = None,
    max_reps: int = 10_000,
    progress: bool = True,
    resume: str | None = None,
    finish: Callable[[Results, Path], None] | None = None,
    force: bool = False,
) -> tuple[str, Path, Results]:
    """Run (or resume) a stored run; returns (run id, folder, Results).

    ``finish(results, folder)``, if given, runs after the results are saved and before the run
    is marked complete (the CLI writes the report there); what it writes is staged and moved
    into the run folder file by file, so it is never left half-written. ``out`` must not hold
    another run unless ``force``, which first removes that run's files. The request's cost is
    checked against the limits (:mod:`sla_sim.batch.limits`) before anything runs.

    The run folder is claimed with an exclusive lock (:meth:`RunFolder.claim`) before any
    work: a second ``resume`` of the same run, or a second run into the same ``out``, started
    while this one runs is refused at once. ``out`` must not be inside another run's folder.

    An exception raised by the run carries its id as ``err.run_id`` (for a resume message).
    """
    with contextlib.ExitStack() as hold:
        return _stored_run(hold, scenario, reps, seed, workers, dask, store or RunStore(), out,
                           precision, max_reps, progress, resume, finish, force)  # fmt: skip


def _stored_run(hold: contextlib.ExitStack, scenario: Scenario | None, reps: int, seed: int,
                workers: int, dask: str | None, store: RunStore, out: str | Path | None,
                precision: list[PrecisionTarget] | None, max_reps: int, progress: bool,
                resume: str | None, finish: Callable[[Results, Path], None] | None,
                force: bool) -> tuple[str, Path, Results]:  # fmt: skip
    if resume:
        folder = RunFolder(store.path_of(resume))
        hold.enter_context(folder.claim("--resume"))
        if linked := ", ".join(folder.linked_dirs()):
            raise ScenarioError([Issue("--resume", f"the run's folder has {linked} as a"
                                       " symbolic link; a run never writes through one",
                                       resume)])  # fmt: skip
        meta = folder.read_meta()
        if meta.get("kind", "run") != "run":
            raise ScenarioError([Issue("--resume", f"is a {meta.get('kind')} entry, not a"
                                       " simulated run; run its command again instead",
                                       resume)])  # fmt: skip
        meta["path"] = str(folder.path)  # where it is now (the store may have moved)
        if meta.get("status") == COMPLETE:
            raise ScenarioError([Issue("--resume", "run is already complete", resume)])
        if meta.get("status") == RUNNING and is_alive(meta):
            raise ScenarioError([Issue("--resume", f"run is still running (pid {meta.get('pid')}"
                                       f" on {meta.get('host')})", resume)])  # fmt: skip
        from sla_sim.batch.results import scenario_hash as hash_of
        from sla_sim.scenario.io import load

        scenario = load(folder.path / "scenario.yaml")
        if hash_of(scenario) != meta.get("scenario_hash"):
            raise ScenarioError([Issue("--resume", "the run's scenario.yaml was changed since the"
                                       f" run started (hash {hash_of(scenario)}, the run's"
                                       f" {meta.get('scenario_hash')}); start a new run instead",
                                       resume)])  # fmt: skip
        seed, reps = int(meta["seed"]), int(meta["reps_requested"])
        precision = [parse_precision(p) for p in meta.get("precision", [])]
        max_reps = int(meta.get("max_reps", max_reps))
        run_id = meta["id"]
        check_cost(scenario, max_reps if precision else reps, min(workers, reps), field="--resume")
    else:
        if scenario is None:
            raise ScenarioError([Issue("scenario", "is required unless resuming", None)])
        check_request(reps, workers, seed)
        precision = precision or []
        if max_reps < reps:
            raise ScenarioError([Issue("--max-reps", f"must be >= --reps ({reps})", max_reps)])
        for t in precision:  # fail before running anything on an unknown metric or period
            _check_metric(t, scenario)
        check_cost(scenario, max_reps if precision else reps, min(workers, reps))
        if out is not None:
            out = store.check_out(out, take_over=True)
            hold.enter_context(RunFolder(out).claim("--out"))
            replaced = _take_over(store, out, force)
        run_id, path = store.new_run_dir(scenario.name, out)
        if out is not None and replaced:
            store.forget(replaced)  # after the new id is reserved: never the same id again
        folder = RunFolder(path)
        if out is None:
            hold.enter_context(folder.claim("--out"))
        from sla_sim.scenario.io import dump_yaml

        atomic_write_text(folder.path / "scenario.yaml", dump_yaml(scenario))
        meta = {
            "id": run_id, "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "status": RUNNING, "scenario_name": scenario.name,
            "scenario_hash": scenario_hash(scenario), "seed": seed, "reps_requested": reps,
            "reps_done": 0, "path": str(folder.path), "version": package_version(),
            "wall_seconds": None, "note": "", "max_reps": max_reps,
            "files": ["scenario.yaml", CHUNK_GLOB],
            "engine": describe_engine(scenario),
            "precision": [f"{t.metric}@{t.period}={t.value * (100 if t.relative else 1):g}"
                          f"{'%' if t.relative else ''}" for t in precision],
        }  # fmt: skip
    assert scenario is not None
    meta.update(this_process(), status=RUNNING, note="")
    folder.write_meta(meta)
    store.register(meta)
    t0 = time.perf_counter()
    before = float(meta.get("wall_seconds") or 0)
    expect = {"scenario_hash": meta["scenario_hash"], "seed": seed,
              "max_replication": max(reps, max_reps if precision else reps)}  # fmt: skip

    def heartbeat() -> None:
        meta["reps_done"] = folder.count_chunked(default=meta.get("reps_done"))
        meta["heartbeat"] = this_process()["heartbeat"]
        meta["wall_seconds"] = round(before + time.perf_counter() - t0, 3)
        folder.write_meta(meta)

    sink = _Sink(folder, {"scenario_hash": meta["scenario_hash"], "seed": seed}, heartbeat)
    try:
        failures = _replicate(scenario, seed, reps, workers, dask, precision, max_reps,
                              progress, folder, sink, run_id, meta, expect)  # fmt: skip
        wide = folder.read_chunks(expect)
        meta["reps_done"] = 0 if wide is None else len(wide)
        meta["wall_seconds"] = round(before + time.perf_counter() - t0, 3)
        if failures or wide is None:
            _finish_incomplete(folder, meta, f"{len(failures)} replication(s) failed")
            partial = results_from_chunks(scenario, wide, meta) if wide is not None else None
            raise ReplicationError(failures, partial)
        res = results_from_chunks(scenario, wide, _final_meta(meta, scenario, seed, workers,
                                                              dask, precision))  # fmt: skip
        first = run_one(scenario, seed, 0, keep_log=True)
        _check_reproduces(res, first, folder)
        res.event_log = first.log.to_frame().assign(replication=0)
        own = set(meta.get("files") or []) | {"scenario.yaml", CHUNK_GLOB}
        meta["files"] = sorted(own | set(res.saved_files()))  # listed before they are written
        folder.write_meta(meta)
        res.save(folder.path)
        if finish is not None:
            moved: list[str] = []
            try:
                with staged(folder.path, moved) as stage:
                    finish(res, stage)
            finally:
                meta["files"] = sorted(set(meta["files"]) | set(moved))
        meta["status"] = COMPLETE
        meta["note"] = "; ".join(t.describe(res.column(t.metric, t.period), scenario.currency)
                                 for t in precision)  # fmt: skip
        meta["wall_seconds"] = round(before + time.perf_counter() - t0, 3)
        folder.write_meta(meta)
    except ReplicationError as err:
        err.run_id = run_id  # type: ignore[attr-defined]
        raise
    except BaseException as err:  # Ctrl-C or any failure: keep what finished, say so
        err.run_id = run_id  # type: ignore[attr-defined]
        with contextlib.suppress(OSError):  # a full disk: the resume runs these again
            sink.flush()
        meta["wall_seconds"] = round(before + time.perf_counter() - t0, 3)
        if isinstance(err, KeyboardInterrupt):
            _finish_incomplete(folder, meta, "interrupted", INTERRUPTED)
        elif isinstance(err, OSError):
            _finish_incomplete(folder, meta, f"failed: {err.strerror or err}: {err.filename}")
        else:
            _finish_incomplete(folder, meta, f"failed: {type(err).__name__}: {err}")
        raise
    for f in folder.chunk_files():
        f.unlink()
    if folder.chunks.is_dir() and not any(folder.chunks.iterdir()):
        folder.chunks.rmdir()
    return run_id, folder.path, res


def _take_over(store: RunStore, out: Path, force: bool) -> str | None:
    """Make ``out`` ready for a new run. Without ``force`` it must be empty. With ``force``,
    the files an earlier run of this tool listed in its run.json are removed (so none of its
    chunks is counted as done); anything else stays, and a file the new run would write over
    that no earlier run listed is refused, naming it. Returns the id of the run replaced."""
    if not out.exists():
        return None
    if not out.is_dir():
        raise ScenarioError([Issue("--out", "is a file, not a folder", str(out))], "run request")
    folder = RunFolder(out)
    if not force and any(out.iterdir()):
        raise ScenarioError([Issue("--out", "folder exists and is not empty (use --force to"
                                   " start afresh)", str(out))], "run request")  # fmt: skip
    old = None
    if (out / "run.json").is_file():
        try:
            old = folder.read_meta()
        except ScenarioError:
            old = None
        if not isinstance(old, dict):
            old = None
    if old is not None and old.get("status") == RUNNING and is_alive(old):
        raise ScenarioError([Issue("--out", f"holds a run that is still running (pid"
                                   f" {old.get('pid')})", str(out))], "run request")  # fmt: skip
    own = set(folder.own_files(old))
    # run.json is replaced (an earlier run's, or a damaged one that names no files)
    blocked = [f for f in folder.in_the_way() if f != "run.json" and out / f not in own]
    if blocked:
        shown = ", ".join(blocked[:10]) + (f" and {len(blocked) - 10} more" if len(blocked) > 10
                                           else "")  # fmt: skip
        raise ScenarioError([Issue("--out", "holds files no earlier run of sla-sim wrote, where"
                                   f" a run writes: {shown}; move them away (--force removes"
                                   " only an earlier run's own files)", str(out))],
                            "run request")  # fmt: skip
    folder.remove_own(old)
    return str(old["id"]) if old is not None and old.get("id") else None


def _check_reproduces(res: Results, first: ReplicationResult, folder: RunFolder) -> None:
    """Replication 0 computed afresh must have the stored metric set and, when stored, the
    same values: chunks of another version, scenario or seed are never mixed in silently."""
    if metric_set_hash(list(first.keys)) != metric_set_hash(list(res.keys)):
        raise ScenarioError([Issue(f"chunks in {folder.chunks}", "hold another metric set than"
                                   " this version of sla_sim computes; start the run again with"
                                   " --force", None)], "run")  # fmt: skip
    hit = np.flatnonzero(res.replication_ids == 0)
    if len(hit) and not np.array_equal(res.values[hit[0]], first.values, equal_nan=True):
        raise ScenarioError([Issue(f"chunks in {folder.chunks}", "replication 0 stored there"
                                   " differs from replication 0 computed now (another version,"
                                   " scenario or seed); start the run again with --force",
                                   None)], "run")  # fmt: skip


def _replicate(scenario: Scenario, seed: int, reps: int, workers: int, dask: str | None,
               precision: list[PrecisionTarget], max_reps: int, progress: bool,
               folder: RunFolder, sink: _Sink, run_id: str, meta: dict[str, Any],
               expect: dict[str, Any]) -> list[ReplicationFailure]:  # fmt: skip
    """Run missing replications (and more while a precision target is unmet)."""
    failures: list[ReplicationFailure] = []
    payload = scenario.model_dump_json()
    target = reps
    while True:
        wide = folder.read_chunks(expect)
        done_ids = set() if wide is None else set(wide["replication"].tolist())
        todo = [r for r in range(target) if r not in done_ids]
        if todo:
            job = Job(None, payload, seed, tuple(todo))
            label = f"{scenario.name.replace('_', ' ')} [{run_id}]"
            _, failed = collect(execute([job], min(workers, len(todo)), dask), sink.add,
                                progress, len(todo), label, keep=False)  # fmt: skip
            sink.flush()
            failures += failed
            if failed:
                return failures
        wide = folder.read_chunks(expect)
        if wide is None or not precision:
            return failures
        res = results_from_chunks(scenario, wide, meta)
        nxt = _next_total(len(wide), precision, res, max_reps)
        if nxt <= len(wide) or nxt <= target:
            return failures
        target = nxt


def _final_meta(meta: dict[str, Any], scenario: Scenario, seed: int, workers: int,
                dask: str | None, precision: list[PrecisionTarget]) -> dict[str, Any]:  # fmt: skip
    out = {
        "run_id": meta["id"], "scenario_name": scenario.name,
        "scenario_hash": scenario_hash(scenario), "seed": seed,
        "replications": meta["reps_done"], "replications_requested": meta["reps_requested"],
        "sla_sim_version": package_version(), "created_utc": meta["created"],
        "wall_seconds": meta["wall_seconds"], "workers": workers,
        "executor": f"dask:{dask}" if dask else "processes" if workers > 1 else "serial",
        "currency": scenario.currency, "precision": meta.get("precision", []),
    }  # fmt: skip
    return out


def _finish_incomplete(folder: RunFolder, meta: dict[str, Any], note: str,
                       status: str = INCOMPLETE) -> None:  # fmt: skip
    """Mark the run incomplete (or interrupted) with the replications on disk and a note.
    If even run.json cannot be written (a full disk), it keeps saying ``running`` and the
    listing shows the run as interrupted once this process is gone."""
    meta["reps_done"] = folder.count_chunked(default=0)
    meta["status"] = status
    meta["note"] = f"{note}; resume with: sla-sim run --resume {meta['id']}"
    with contextlib.suppress(OSError):
        folder.write_meta(meta)


def _check_metric(t: PrecisionTarget, scenario: Scenario) -> None:
    from sla_sim.metrics import METRIC_DOCS, window_for

    if t.metric not in METRIC_DOCS:  # it pointed a command-line user at a Python dict
        import difflib

        close = difflib.get_close_matches(t.metric, list(METRIC_DOCS), n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ScenarioError([Issue("--precision", f"names no metric ({hint}metric names:"
                                   " docs/metrics.md, e.g. revenue, first_touch_compliance)",
                                   t.metric)])  # fmt: skip
    periods = [p.label for p in window_for(scenario).periods]
    if t.period not in periods:
        raise ScenarioError([Issue("--precision", f"period must be one of {', '.join(periods)}",
                                   t.period)])  # fmt: skip
