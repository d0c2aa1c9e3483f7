"""Keep finished work in the run store: the two sides of a comparison and a sweep's table.

``sla-sim run`` streams its replications into a store folder as they finish
(:func:`sla_sim.batch.runs.stored_run`). ``compare`` and ``sweep`` compute in memory (they
share simulations between scenarios); when they are done these functions write what they
produced into new store folders registered in the catalog as complete runs, so that "every
run is kept" holds for them too: ``sla-sim runs list`` shows them, ``runs show`` and ``runs
compare`` read the comparison's sides, and the ``replications`` view covers them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sla_sim.batch.results import Results, package_version, scenario_hash
from sla_sim.batch.store import COMPLETE, RunFolder, RunStore, atomic_write_parquet
from sla_sim.model.engine import describe as describe_engine
from sla_sim.scenario.schema import Scenario

__all__ = ["SWEEP_TABLE", "keep_results", "keep_sweep"]

SWEEP_TABLE = "sweep.parquet"


def _meta(run_id: str, path: Path, scenario: Scenario, seed: int, reps: int,
          wall_seconds: float | None, note: str, **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {"id": run_id, "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "status": COMPLETE, "scenario_name": scenario.name,
            "scenario_hash": scenario_hash(scenario), "seed": seed, "reps_requested": reps,
            "reps_done": reps, "path": str(path), "version": package_version(),
            "wall_seconds": wall_seconds, "note": note, "engine": describe_engine(scenario),
            **extra}  # fmt: skip


def keep_results(results: Results, store: RunStore, note: str = "",
                 finish: Callable[[Results, Path], None] | None = None,
                 kind: str = "run") -> tuple[str, Path]:  # fmt: skip
    """Write finished Results as a complete run of the store (the same files as ``sla-sim
    run``: scenario.yaml, summary.json, replications.parquet, lead_states.parquet, events if
    any) and register it; ``finish(results, folder)`` may add a report. Returns (id, folder)."""
    run_id, path = store.new_run_dir(results.scenario.name)
    results.meta["run_id"] = run_id
    results.save(path)
    if finish is not None:
        finish(results, path)
    wall = results.meta.get("wall_seconds")
    meta = _meta(run_id, path, results.scenario, int(results.meta.get("seed", 0)),
                 results.replications, None if wall != wall else wall, note,
                 kind=kind)  # fmt: skip
    RunFolder(path).write_meta(meta)
    store.register(meta)
    return run_id, path


def keep_sweep(table: pd.DataFrame, scenario: Scenario, store: RunStore,
               request: dict[str, Any], wall_seconds: float | None = None
               ) -> tuple[str, Path]:  # fmt: skip
    """Write a sweep's tidy table (``sweep.parquet``), its base scenario and its request
    (parameters, replications, seed, samples) as a complete store entry named
    ``<time>-sweep-<scenario>``; returns (id, folder)."""
    from sla_sim.scenario.io import save

    run_id, path = store.new_run_dir(f"sweep-{scenario.name}")
    save(scenario, path / "scenario.yaml")
    atomic_write_parquet(table, path / SWEEP_TABLE)
    points = int(table["point"].nunique()) if "point" in table else 0
    reps = int(request.get("reps", 0))
    note = (f"sweep of {', '.join(request.get('params', []))}: {points} points x {reps}"
            f" replications; table {SWEEP_TABLE}")
    meta = _meta(run_id, path, scenario, int(request.get("seed", 0)), reps, wall_seconds,
                 note, kind="sweep", request=request, table=SWEEP_TABLE)  # fmt: skip
    RunFolder(path).write_meta(meta)
    store.register(meta)
    return run_id, path
