"""The results store: every run is a self-describing folder, registered in a DuckDB catalog.

Layout of a store (default ``./sla_sim_runs``, or ``$SLA_SIM_STORE``)::

    catalog.duckdb           table ``runs``: one row per run (id, status, scenario, seed, ...)
    <run id>/                a run folder (or anywhere else, given ``--out``)
        run.json             status (running / complete / incomplete), request, meta
        scenario.yaml        the scenario exactly as run
        chunks/part-*.parquet  finished replications, written as they stream in
        replications.parquet, lead_states.parquet, summary.json, events.parquet, report.*
                             written when the run completes

Every file is written to a temporary name and renamed into place, so a reader never sees half a
file; ``run.json`` says ``complete`` only after every final file exists. An interrupted run keeps
its finished chunks and can be resumed.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sla_sim.errors import Issue, ScenarioError

STORE_ENV = "SLA_SIM_STORE"
DEFAULT_STORE = "sla_sim_runs"
COMPLETE, RUNNING, INCOMPLETE = "complete", "running", "incomplete"

_COLUMNS = """id VARCHAR PRIMARY KEY, created VARCHAR, status VARCHAR, scenario_name VARCHAR,
scenario_hash VARCHAR, seed BIGINT, reps_requested INTEGER, reps_done INTEGER,
path VARCHAR, version VARCHAR, wall_seconds DOUBLE, note VARCHAR"""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def atomic_write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame to Parquet atomically."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


class RunStore:
    """A folder of runs with a DuckDB catalog."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root or os.environ.get(STORE_ENV) or DEFAULT_STORE).resolve()
        self.catalog = self.root / "catalog.duckdb"

    # ------------------------------------------------------------------ catalog
    def _connect(self, read_only: bool = False) -> Any:
        import duckdb

        self.root.mkdir(parents=True, exist_ok=True)
        if read_only and not self.catalog.exists():
            read_only = False
        con = duckdb.connect(str(self.catalog), read_only=read_only)
        if not read_only:
            con.execute(f"CREATE TABLE IF NOT EXISTS runs ({_COLUMNS})")
        return con

    def register(self, meta: dict[str, Any]) -> None:
        """Insert or update a run's catalog row from its run.json content."""
        row = [meta.get(k) for k in ("id", "created", "status", "scenario_name",
                                     "scenario_hash", "seed", "reps_requested", "reps_done",
                                     "path", "version", "wall_seconds", "note")]  # fmt: skip
        con = self._connect()
        try:
            con.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row)
        finally:
            con.close()

    def list(self) -> pd.DataFrame:
        """All runs, newest first."""
        con = self._connect(read_only=True)
        try:
            return con.execute("SELECT * FROM runs ORDER BY created DESC, id DESC").df()
        finally:
            con.close()

    def path_of(self, run_id: str) -> Path:
        """Folder of a run, from the catalog (or the store folder of that name)."""
        con = self._connect(read_only=True)
        try:
            hit = con.execute("SELECT path FROM runs WHERE id = ?", [run_id]).fetchone()
        finally:
            con.close()
        if hit:
            return Path(hit[0])
        guess = self.root / run_id
        if (guess / "run.json").is_file():
            return guess
        raise ScenarioError([Issue("run id", f"is not in the catalog {self.catalog}", run_id)])

    def new_run_dir(self, scenario_name: str, out: str | Path | None = None) -> tuple[str, Path]:
        """A fresh run id and its folder (inside the store unless ``out`` is given)."""
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{_slug(scenario_name)}"
        run_id, n = base, 1
        while (self.root / run_id).exists() or self._known(run_id):
            n += 1
            run_id = f"{base}-{n}"
        path = Path(out).resolve() if out else self.root / run_id
        path.mkdir(parents=True, exist_ok=True)
        self.register({"id": run_id, "created": datetime.now(UTC).isoformat(timespec="seconds"),
                       "status": RUNNING, "scenario_name": scenario_name,
                       "path": str(path)})  # reserve the id at once  # fmt: skip
        return run_id, path

    def _known(self, run_id: str) -> bool:
        if not self.catalog.exists():
            return False
        con = self._connect(read_only=True)
        try:
            return con.execute("SELECT 1 FROM runs WHERE id = ?", [run_id]).fetchone() is not None
        finally:
            con.close()

    def sql(self, query: str) -> pd.DataFrame:
        """Run SQL over the catalog. Views: ``runs``; ``replications`` (every complete run's
        tidy table, with a ``run_id`` column)."""
        con = self._connect()
        try:
            paths = con.execute("SELECT id, path FROM runs WHERE status = ?",
                                [COMPLETE]).fetchall()  # fmt: skip
            parts = [f"SELECT {_lit(rid)} AS run_id, * FROM read_parquet("
                     f"{_lit(str(Path(p) / 'replications.parquet'))})"
                     for rid, p in paths if (Path(p) / "replications.parquet").exists()]
            if parts:
                con.execute("CREATE OR REPLACE TEMP VIEW replications AS "
                            + " UNION ALL BY NAME ".join(parts))  # fmt: skip
            return con.execute(query).df()
        finally:
            con.close()


class RunFolder:
    """One run's folder: status file, streamed chunks, final files."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.chunks = self.path / "chunks"

    def read_meta(self) -> dict[str, Any]:
        """The run.json content."""
        f = self.path / "run.json"
        if not f.is_file():
            raise ScenarioError([Issue("run", "has no run.json (not a run folder)",
                                       str(self.path))])  # fmt: skip
        return json.loads(f.read_text())

    def write_meta(self, meta: dict[str, Any]) -> None:
        """Replace run.json atomically."""
        atomic_write_bytes(self.path / "run.json", (json.dumps(meta, indent=2) + "\n").encode())

    def write_chunk(self, keys: list[tuple[str, str]], replications: list[int],
                    values: np.ndarray, terminal: list[dict[str, int]],
                    seconds: list[float]) -> Path:  # fmt: skip
        """Persist finished replications (wide: one row each) as one new chunk file."""
        self.chunks.mkdir(exist_ok=True)
        df = pd.DataFrame(values, columns=[f"{p}|{m}" for p, m in keys])
        df.insert(0, "replication", replications)
        df.insert(1, "seconds", seconds)
        for k in terminal[0]:
            df[f"state|{k}"] = [t[k] for t in terminal]
        n = len(list(self.chunks.glob("part-*.parquet")))
        path = self.chunks / f"part-{n:06d}-{min(replications)}.parquet"
        atomic_write_parquet(df, path)
        return path

    def read_chunks(self) -> pd.DataFrame | None:
        """Every finished replication so far (wide), or None."""
        files = sorted(self.chunks.glob("part-*.parquet")) if self.chunks.is_dir() else []
        if not files:
            return None
        df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        return df.drop_duplicates("replication").sort_values("replication", ignore_index=True)


def _lit(text: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def _slug(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower())
    return keep.strip("-")[:40] or "run"
