"""Keep finished work in the run store: the two sides of a comparison and a sweep's table.

``sla-sim run`` streams its replications into a store folder as they finish
(:func:`sla_sim.batch.runs.stored_run`). ``compare`` and ``sweep`` compute in memory (they
share simulations between scenarios); when they are done these functions write what they
produced into new store folders registered in the catalog as complete runs, so that "every
run is kept" holds for them too: ``sla-sim runs list`` shows them, ``runs show`` and ``runs
compare`` read the comparison's sides, and the ``replications`` view covers them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sla_sim.batch import store as st
from sla_sim.batch.files import atomic_write_parquet, atomic_write_text, is_environmental
from sla_sim.batch.results import Results, package_version, scenario_hash
from sla_sim.model.engine import describe as describe_engine
from sla_sim.scenario.schema import Scenario

__all__ = ["SWEEP_TABLE", "keep_results", "keep_sweep", "new_entry"]

SWEEP_TABLE = "sweep.parquet"


def _meta(run_id: str, path: Path, scenario: Scenario, seed: int | None, reps: int,
          wall_seconds: float | None, note: str, **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {"id": run_id, "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "status": st.COMPLETE, "scenario_name": scenario.name,
            "scenario_hash": scenario_hash(scenario), "seed": seed, "reps_requested": reps,
            "reps_done": reps, "path": str(path), "version": package_version(),
            "wall_seconds": wall_seconds, "note": note, "engine": describe_engine(scenario),
            **extra}  # fmt: skip


@contextlib.contextmanager
def new_entry(store: st.RunStore, name: str, scenario: Scenario, seed: int | None, reps: int,
              note: str, out: str | Path | None = None, **extra: Any
              ) -> Iterator[tuple[str, Path, dict[str, Any]]]:  # fmt: skip
    """A new store entry written by a command that computed its results in memory (compare,
    sweep, recommend, measure): yields (id, folder, run.json content) for the block to write
    its files into and to update the content (``note``, ``wall_seconds``).

    The folder is claimed (locked) and listed as ``running`` before anything is written, so a
    process killed meanwhile leaves an entry ``runs list`` shows as interrupted; an exception
    marks it ``interrupted`` (Ctrl-C, SIGTERM) or ``incomplete`` (naming the error), and only
    when the block ends is it marked ``complete``, with the files it wrote listed. ``out`` (a
    folder outside the store) must be new or empty and not inside another run's folder."""
    if out is not None:
        out = store.check_out(out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            from sla_sim.errors import Issue, ScenarioError

            raise ScenarioError([Issue("--out", "must be a new or empty folder", str(out))],
                                "option")  # fmt: skip
    run_id, path = store.new_run_dir(name, out)
    folder = st.RunFolder(path)
    with folder.claim("--out"):
        meta = _meta(run_id, path, scenario, seed, reps, None, note, **extra)
        meta.update(st.this_process(), status=st.RUNNING, reps_done=0)
        folder.write_meta(meta)
        store.register(meta)
        try:
            yield run_id, path, meta
            folder.write_meta({**meta, "status": st.COMPLETE, "reps_done": reps,
                               "files": folder.written()})  # last, after every file
        except BaseException as err:
            if isinstance(err, KeyboardInterrupt):
                meta.update(status=st.INTERRUPTED, note=f"interrupted; {note}")
            elif isinstance(err, OSError):
                what = "environmental failure" if is_environmental(err) else "failed"
                meta.update(status=st.INCOMPLETE, note=f"{what}: {err.strerror or err}:"
                            f" {err.filename or ''}")  # fmt: skip
            else:
                meta.update(status=st.INCOMPLETE, note=f"failed: {type(err).__name__}: {err}")
            meta["files"] = folder.written()
            with contextlib.suppress(OSError):
                folder.write_meta(meta)
            raise
        meta.update(status=st.COMPLETE, reps_done=reps, files=folder.written())


def keep_results(results: Results, store: st.RunStore, note: str = "",
                 finish: Callable[[Results, Path], None] | None = None,
                 kind: str = "run") -> tuple[str, Path]:  # fmt: skip
    """Write finished Results as a complete run of the store (the same files as ``sla-sim
    run``: scenario.yaml, summary.json, replications.parquet, lead_states.parquet, events if
    any) and register it; ``finish(results, folder)`` may add a report. Returns (id, folder)."""
    wall = results.meta.get("wall_seconds")
    with new_entry(store, results.scenario.name, results.scenario,
                   int(results.meta.get("seed", 0)), results.replications, note,
                   kind=kind) as (run_id, path, meta):  # fmt: skip
        meta["wall_seconds"] = None if wall != wall else wall
        results.meta["run_id"] = run_id
        results.save(path)
        if finish is not None:
            finish(results, path)
    return run_id, path


def keep_sweep(table: pd.DataFrame, scenario: Scenario, store: st.RunStore,
               request: dict[str, Any], wall_seconds: float | None = None
               ) -> tuple[str, Path]:  # fmt: skip
    """Write a sweep's tidy table (``sweep.parquet``), its base scenario and its request
    (parameters, replications, seed, samples) as a complete store entry named
    ``<time>-sweep-<scenario>``; returns (id, folder)."""
    from sla_sim.scenario.io import dump_yaml

    points = int(table["point"].nunique()) if "point" in table else 0
    reps = int(request.get("reps", 0))
    note = (f"sweep of {', '.join(request.get('params', []))}: {points} points x {reps}"
            f" replications; table {SWEEP_TABLE}")
    with new_entry(store, f"sweep-{scenario.name}", scenario, int(request.get("seed", 0)), reps,
                   note, kind="sweep", request=request,
                   table=SWEEP_TABLE) as (run_id, path, meta):  # fmt: skip
        meta["wall_seconds"] = wall_seconds
        atomic_write_text(path / "scenario.yaml", dump_yaml(scenario))
        atomic_write_parquet(table, path / SWEEP_TABLE)
    return run_id, path
