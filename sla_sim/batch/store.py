"""The results store: every run is a self-describing folder; the folder is the truth.

Layout of a store (default ``./sla_sim_runs``, or ``$SLA_SIM_STORE``)::

    .runs/<run id>           one small file per run: the path of its folder (reserves the id)
    <run id>/                a run folder (or anywhere else, given ``--out``)
        run.json             status (running / complete / incomplete / interrupted), request,
                             the pid and host of the process running it, a heartbeat
        scenario.yaml        the scenario exactly as run
        chunks/part-*.parquet  finished replications, written as they stream in, each stamped
                             with the scenario hash, seed and metric set that produced it
        replications.parquet, lead_states.parquet, summary.json, events.parquet, report.*
                             written when the run completes

There is no shared database file: :meth:`RunStore.list` reads the ``run.json`` files and
:meth:`RunStore.sql` queries them (and the Parquet tables of complete runs) with an in-memory
DuckDB, so any number of runs can write to one store while notebooks read it, and a reader never
blocks or breaks a writer. Every file is written to a temporary name, flushed to disk and
renamed into place, so a reader never sees half a file and a full disk leaves no partial file
under a final name (the error names the file); ``run.json`` says ``complete`` only after every
final file exists. A run whose process died (``kill -9``, power cut) still says ``running`` in
its ``run.json``: the listing checks the recorded pid and shows it as ``interrupted``, with
``reps_done`` counted from the chunks on disk. An interrupted or incomplete run keeps its
finished chunks and can be resumed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sla_sim.errors import Issue, ScenarioError

STORE_ENV = "SLA_SIM_STORE"
DEFAULT_STORE = "sla_sim_runs"
COMPLETE, RUNNING, INCOMPLETE, INTERRUPTED = "complete", "running", "incomplete", "interrupted"
#: Columns of :meth:`RunStore.list` (and of the ``runs`` view of :meth:`RunStore.sql`).
COLUMNS = ["id", "created", "status", "scenario_name", "scenario_hash", "seed", "reps_requested",
           "reps_done", "path", "version", "wall_seconds", "note"]  # fmt: skip
#: A run on another host whose heartbeat is older than this is listed as interrupted.
STALE_HEARTBEAT_S = 3600.0
#: Files a run writes into its folder (removed by a forced restart; nothing else is touched).
RUN_FILES = ("run.json", "scenario.yaml", "summary.json", "replications.parquet",
             "lead_states.parquet", "events.parquet", "report.md", "report.html")  # fmt: skip
RUN_DIRS = ("chunks", "charts")
_IDS = ".runs"
_STAMP_KEY = b"sla_sim"


# ---------------------------------------------------------------------------- atomic files
def _sync(tmp: Path, final: Path) -> None:
    """Flush a written temporary file to the disk before it is renamed to ``final`` (where a
    full disk shows up when the writer buffered)."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _named(err: OSError, path: Path) -> OSError:
    """The same error, naming the final file it was writing."""
    new = type(err)(err.errno, err.strerror or str(err)) if err.errno else OSError(str(err))
    new.filename = str(path)
    if new.strerror is None:
        new.strerror = str(err)
    return new


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """Call ``write(tmp)`` on a temporary name beside ``path``, flush it to disk and rename it
    into place. On any error the temporary file is removed and an OSError names ``path``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        _sync(tmp, path)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise _named(err, path) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame to Parquet atomically."""
    atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))


@contextlib.contextmanager
def staged(folder: Path) -> Iterator[Path]:
    """A private staging folder inside ``folder``: whatever is written there is moved into
    ``folder`` (same relative paths, each file flushed and renamed) when the block ends, or
    removed if it raises. Used for files written by code that does not write atomically."""
    stage = folder / f".staging-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    try:
        yield stage
        for f in sorted(p for p in stage.rglob("*") if p.is_file()):
            final = folder / f.relative_to(stage)
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
                _sync(f, final)
                os.replace(f, final)
            except OSError as err:
                raise _named(err, final) from err
    finally:
        shutil.rmtree(stage, ignore_errors=True)


# ---------------------------------------------------------------------------- liveness
def this_process() -> dict[str, Any]:
    """What identifies the running process in run.json: pid, its start time, host, heartbeat."""
    return {"pid": os.getpid(), "pid_started": _start_time(os.getpid()),
            "host": socket.gethostname(), "heartbeat": _now()}  # fmt: skip


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def is_alive(meta: dict[str, Any]) -> bool:
    """Whether the process recorded in a running run's run.json is still running it."""
    pid, host = meta.get("pid"), meta.get("host")
    if not isinstance(pid, int) or host is None:
        return True  # written by an older version: nothing to check against
    if host != socket.gethostname():
        try:
            beat = datetime.fromisoformat(str(meta.get("heartbeat")))
        except ValueError:
            return False
        return (datetime.now(UTC) - beat).total_seconds() < STALE_HEARTBEAT_S
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = meta.get("pid_started")
    if started is not None and Path("/proc").is_dir():
        now = _start_time(pid)
        if now is None or now != started:
            return False
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


# ---------------------------------------------------------------------------- the store
class RunStore:
    """A folder of runs. There is no shared catalog file: the run folders are read directly."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root or os.environ.get(STORE_ENV) or DEFAULT_STORE).resolve()
        self.ids = self.root / _IDS

    # ------------------------------------------------------------------ runs
    def register(self, meta: dict[str, Any]) -> None:
        """Make sure the store knows where the run's folder is (its run.json is the record)."""
        pointer = self.ids / str(meta["id"])
        if not pointer.is_file():
            self.ids.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(pointer, str(meta["path"]).encode())

    def _folders(self) -> dict[str, Path]:
        """Every run id with its folder: the id files, then folders holding a run.json."""
        out: dict[str, Path] = {}
        if self.ids.is_dir():
            for f in self.ids.iterdir():
                if not f.name.startswith("."):
                    with contextlib.suppress(OSError):
                        out[f.name] = Path(f.read_text().strip())
        if self.root.is_dir():
            for f in self.root.glob("*/run.json"):
                out.setdefault(f.parent.name, f.parent)
        return out

    def _row(self, run_id: str, folder: Path) -> dict[str, Any] | None:
        try:
            meta = json.loads((folder / "run.json").read_text())
        except (OSError, ValueError):
            return None  # reserved, not started yet, or another process is replacing it
        if not isinstance(meta, dict) or meta.get("id") != run_id:
            return None  # the folder was reused by a newer run (--out ... --force)
        row = {k: meta.get(k) for k in COLUMNS}
        row["path"] = str(folder)
        if row["status"] != COMPLETE:
            if row["status"] == RUNNING and not is_alive(meta):
                row["status"] = INTERRUPTED
            row["reps_done"] = RunFolder(folder).count_chunked(default=row["reps_done"])
        return row

    def list(self) -> pd.DataFrame:
        """All runs, newest first: the run.json of every run folder, with ``status`` checked
        (a ``running`` run whose process is gone is ``interrupted``) and, for runs not
        complete, ``reps_done`` counted from the chunks on disk."""
        rows = [r for rid, p in self._folders().items() if (r := self._row(rid, p)) is not None]
        df = pd.DataFrame(rows, columns=COLUMNS)
        if df["seed"].map(lambda s: s is None or (isinstance(s, int) and s < 2**63)).all():
            df["seed"] = pd.array(df["seed"], dtype="Int64")
        for col in ("reps_requested", "reps_done"):
            df[col] = pd.array(df[col], dtype="Int64")
        df["wall_seconds"] = pd.to_numeric(df["wall_seconds"], errors="coerce")
        return df.sort_values(["created", "id"], ascending=False, ignore_index=True,
                              na_position="last")  # fmt: skip

    def path_of(self, run_id: str) -> Path:
        """Folder of a run."""
        folders = self._folders()
        if run_id in folders and (folders[run_id] / "run.json").is_file():
            return folders[run_id]
        raise ScenarioError([Issue("run id", f"names no run in the store {self.root} (see:"
                                   " sla-sim runs list)", run_id)], "run id")  # fmt: skip

    def new_run_dir(self, scenario_name: str, out: str | Path | None = None) -> tuple[str, Path]:
        """A fresh run id and its folder (inside the store unless ``out`` is given).

        The id is reserved by creating its id file exclusively, so concurrent runs never share
        one."""
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{_slug(scenario_name)}"
        self.ids.mkdir(parents=True, exist_ok=True)
        n = 1
        while True:
            run_id = base if n == 1 else f"{base}-{n}"
            n += 1
            if (self.root / run_id).exists():
                continue
            path = Path(out).resolve() if out else self.root / run_id
            try:
                fd = os.open(self.ids / run_id, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(path))
            path.mkdir(parents=True, exist_ok=True)
            return run_id, path

    def forget(self, run_id: str) -> None:
        """Drop a run's id file (its folder was taken over by another run)."""
        (self.ids / run_id).unlink(missing_ok=True)

    def sql(self, query: str) -> pd.DataFrame:
        """Run SQL (DuckDB, in memory) over the store. Views: ``runs`` (:meth:`list`) and
        ``replications`` (every complete run's tidy table, with a ``run_id`` column).

        Reads only: any number of readers and runs can use a store at the same time."""
        import duckdb

        runs = self.list()
        for attempt in range(3):
            con = duckdb.connect()
            try:
                con.register("runs_table", runs)
                con.execute("CREATE VIEW runs AS SELECT * FROM runs_table")
                done = runs[runs["status"] == COMPLETE]
                parts = [f"SELECT {_lit(rid)} AS run_id, * FROM read_parquet("
                         f"{_lit(str(Path(p) / 'replications.parquet'))})"
                         for rid, p in zip(done["id"], done["path"], strict=True)
                         if (Path(p) / "replications.parquet").is_file()]  # fmt: skip
                view = (" UNION ALL BY NAME ".join(parts) if parts else
                        "SELECT NULL::VARCHAR AS run_id, NULL::BIGINT AS replication,"
                        " NULL::VARCHAR AS period, NULL::VARCHAR AS metric,"
                        " NULL::DOUBLE AS value WHERE false")  # fmt: skip
                con.execute(f"CREATE VIEW replications AS {view}")
                return con.execute(query).df()
            except duckdb.IOException:
                if attempt == 2:
                    raise
                runs = self.list()  # a run folder changed under us (re-run with --force)
                time.sleep(0.05)
            finally:
                con.close()
        raise AssertionError("unreachable")


# ---------------------------------------------------------------------------- one run
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
                                       str(self.path))], "run")  # fmt: skip
        try:
            meta = json.loads(f.read_text())
        except ValueError as err:
            raise ScenarioError([Issue("run", f"run.json is not valid JSON ({err})",
                                       str(f))], "run") from None  # fmt: skip
        return meta

    def write_meta(self, meta: dict[str, Any]) -> None:
        """Replace run.json atomically."""
        atomic_write_bytes(self.path / "run.json", (json.dumps(meta, indent=2) + "\n").encode())

    def clear(self) -> None:
        """Remove every file a run writes here (a forced restart); other files stay."""
        for name in RUN_FILES:
            (self.path / name).unlink(missing_ok=True)
        for name in RUN_DIRS:
            shutil.rmtree(self.path / name, ignore_errors=True)
        for p in self.path.glob(".*tmp-*"):
            p.unlink(missing_ok=True)
        for p in self.path.glob(".staging-*"):
            shutil.rmtree(p, ignore_errors=True)

    def write_chunk(self, keys: list[tuple[str, str]], replications: list[int],
                    values: np.ndarray, terminal: list[dict[str, int]],
                    seconds: list[float], stamp: dict[str, Any] | None = None,
                    drivers: list[dict[tuple[str, str], float]] | None = None
                    ) -> Path:  # fmt: skip
        """Persist finished replications (wide: one row each) as one new chunk file, stamped
        with ``stamp`` (scenario hash, seed) and the hash of its metric set; ``drivers`` (the
        cost drivers of each replication) become ``cost|period|driver`` columns."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.chunks.mkdir(exist_ok=True)
        df = pd.DataFrame(values, columns=[f"{p}|{m}" for p, m in keys])
        df.insert(0, "replication", replications)
        df.insert(1, "seconds", seconds)
        for k in terminal[0]:
            df[f"state|{k}"] = [t[k] for t in terminal]
        if drivers and all(drivers):
            for p, d in drivers[0]:
                df[f"{COST_PREFIX}{p}|{d}"] = [x[(p, d)] for x in drivers]
        info = {"scenario_hash": (stamp or {}).get("scenario_hash"),
                "seed": (stamp or {}).get("seed"), "metrics": metric_set_hash(keys)}  # fmt: skip
        table = pa.Table.from_pandas(df, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               _STAMP_KEY: json.dumps(info).encode()})
        n = len(list(self.chunks.glob("part-*.parquet")))
        while True:
            path = self.chunks / f"part-{n:06d}-{min(replications)}.parquet"
            if not path.exists():
                break
            n += 1
        atomic_write(path, lambda tmp: pq.write_table(table, tmp))
        return path

    def chunk_files(self) -> list[Path]:
        """The finished chunk files, in order."""
        return sorted(self.chunks.glob("part-*.parquet")) if self.chunks.is_dir() else []

    def count_chunked(self, default: Any = None) -> Any:
        """Distinct replications in the chunks on disk (``default`` if they cannot be read)."""
        files = self.chunk_files()
        if not files:
            return default
        import pyarrow.parquet as pq

        seen: set[int] = set()
        try:
            for f in files:
                seen.update(pq.read_table(f, columns=["replication"]).column(0).to_pylist())
        except (OSError, ValueError, KeyError):
            return default
        return len(seen)

    def read_chunks(self, expect: dict[str, Any] | None = None) -> pd.DataFrame | None:
        """Every finished replication so far (wide), or None.

        With ``expect`` (``scenario_hash``, ``seed``, ``max_replication``), every chunk must
        carry the same scenario hash and seed, the same metric columns as the others and
        replication numbers below ``max_replication``; a chunk that does not is refused with a
        ScenarioError naming it (results of different requests are never mixed)."""
        import pyarrow.parquet as pq

        files = self.chunk_files()
        if not files:
            return None
        frames, columns = [], None
        for f in files:
            try:
                table = pq.read_table(f)
            except (OSError, ValueError) as err:
                raise ScenarioError([Issue(f"chunk {f}", f"cannot be read ({err}); start the run"
                                           " again with --force", str(f))], "run") from None
            df = table.to_pandas()
            if expect is not None:
                _check_chunk(f, table.schema.metadata or {}, df, expect)
                if columns is not None and list(df.columns) != columns:
                    raise ScenarioError([Issue(f"chunk {f}", "has other metric columns than the"
                                               f" run's first chunk {files[0].name}; start the"
                                               " run again with --force", f.name)], "run")
            columns = columns or list(df.columns)
            frames.append(df)
        df = pd.concat(frames, ignore_index=True)
        return df.drop_duplicates("replication").sort_values("replication", ignore_index=True)


#: Prefix of the cost-driver columns of a chunk (``cost|2026-01|leads_paid``).
COST_PREFIX = "cost|"


def metric_columns(columns: Any) -> list[str]:
    """The ``period|metric`` columns of a chunk table (not lead states, not cost drivers)."""
    return [c for c in columns if "|" in c and not c.startswith(("state|", COST_PREFIX))]


def metric_set_hash(keys: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> str:
    """A short hash of a replication's (period, metric) keys, in order."""
    return hashlib.sha256(json.dumps([list(k) for k in keys]).encode()).hexdigest()[:12]


def _check_chunk(f: Path, metadata: dict[bytes, bytes], df: pd.DataFrame,
                 expect: dict[str, Any]) -> None:  # fmt: skip
    again = "; it belongs to another request: start the run again with --force"
    try:
        info = json.loads(metadata[_STAMP_KEY])
    except (KeyError, ValueError):
        raise ScenarioError([Issue(f"chunk {f}", "carries no scenario hash and seed" + again,
                                   f.name)], "run") from None  # fmt: skip
    issues = []
    for key in ("scenario_hash", "seed"):
        if info.get(key) != expect.get(key):
            issues.append(Issue(f"chunk {f}", f"was made with {key.replace('_', ' ')}"
                                f" {info.get(key)}, this run has {expect.get(key)}" + again,
                                f.name))  # fmt: skip
    keys = [tuple(c.split("|", 1)) for c in metric_columns(df.columns)]
    if info.get("metrics") != metric_set_hash(keys):
        issues.append(Issue(f"chunk {f}", "holds another metric set than it was written with"
                            + again, f.name))  # fmt: skip
    reps = df["replication"]
    top = expect.get("max_replication")
    if len(reps) and (reps.min() < 0 or (top is not None and reps.max() >= top)):
        issues.append(Issue(f"chunk {f}", f"holds replication numbers outside 0..{top}" + again,
                            f"{reps.min()}..{reps.max()}"))  # fmt: skip
    if issues:
        raise ScenarioError(issues, "run")


def _lit(text: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def _slug(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower())
    return keep.strip("-")[:40] or "run"
