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
import fcntl
import hashlib
import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sla_sim.batch.files import (
    atomic_write,
    atomic_write_bytes,
    atomic_write_parquet,
    linked_on_the_way,
    staged,
)
from sla_sim.errors import Issue, ScenarioError

__all__ = ["COLUMNS", "COMPLETE", "INCOMPLETE", "INTERRUPTED", "RUNNING", "RunFolder", "RunStore",
           "atomic_write", "atomic_write_bytes", "atomic_write_parquet", "is_alive",
           "metric_set_hash", "staged", "this_process"]  # fmt: skip

STORE_ENV = "SLA_SIM_STORE"
DEFAULT_STORE = "sla_sim_runs"
COMPLETE, RUNNING, INCOMPLETE, INTERRUPTED = "complete", "running", "incomplete", "interrupted"
#: Columns of :meth:`RunStore.list` (and of the ``runs`` view of :meth:`RunStore.sql`).
COLUMNS = ["id", "created", "status", "scenario_name", "scenario_hash", "seed", "reps_requested",
           "reps_done", "path", "version", "wall_seconds", "note"]  # fmt: skip
#: A run on another host whose heartbeat is older than this is listed as interrupted.
STALE_HEARTBEAT_S = 3600.0
#: Files a run writes into its folder; a file of these names (or anything under ``chunks/`` or
#: ``charts/``) that no earlier run listed as its own is "in the way" of a new run.
RUN_FILES = ("run.json", "scenario.yaml", "summary.json", "replications.parquet",
             "lead_states.parquet", "events.parquet", "report.md", "report.html")  # fmt: skip
RUN_DIRS = ("chunks", "charts")
#: The chunk files a run streams (listed in run.json's ``files`` as this pattern).
CHUNK_GLOB = "chunks/part-*.parquet"
#: What a run.json of an older version (no ``files`` list) counts as its run's own files.
LEGACY_FILES = (*RUN_FILES[1:], CHUNK_GLOB, "charts/*.svg", "charts/*.png")
#: The only patterns a list of a run's own files may hold (any other is ignored: never "*").
OWN_PATTERNS = frozenset(f for f in LEGACY_FILES if "*" in f)
_STATUSES = (COMPLETE, RUNNING, INCOMPLETE, INTERRUPTED)
#: run.json fields of the listing and the types they must have (None is always allowed).
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "created": (str,), "scenario_name": (str,), "scenario_hash": (str,), "seed": (int,),
    "reps_requested": (int,), "reps_done": (int,), "version": (str,),
    "wall_seconds": (int, float), "note": (str,)}  # fmt: skip
_IDS = ".runs"
_STAMP_KEY = b"sla_sim"


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
    """A folder of runs. There is no shared catalog file: the run folders are read directly.

    The store can be moved or copied: a run id resolves to the folder of that name inside the
    store when it holds the run; the id file ``.runs/<id>`` holds a path relative to the store
    for a folder inside it and an absolute path only for a folder outside it (``--out``).
    Id files of older versions (absolute paths) are read the same way: the folder inside the
    store wins, and a path into the same id's folder of another store (the place this store
    was copied from) is never followed.

    Runs whose run.json cannot be read or has a malformed field are skipped by :meth:`list`
    and :meth:`sql` and named in :attr:`damaged` (id, reason), with a warning."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root or os.environ.get(STORE_ENV) or DEFAULT_STORE).resolve()
        if self.root.exists() and not self.root.is_dir():  # it listed "no runs" in silence
            raise ScenarioError([Issue(f"store (--store or ${STORE_ENV})", "is a file, not a"
                                       " folder", str(self.root))], "option")  # fmt: skip
        self.ids = self.root / _IDS
        #: (run id, reason) of each damaged run skipped by the last :meth:`list` or :meth:`sql`
        self.damaged: list[tuple[str, str]] = []

    # ------------------------------------------------------------------ runs
    def _pointer(self, path: Path) -> str:
        """What an id file holds: the folder relative to the store, or absolute outside it."""
        path = Path(path).resolve()
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def register(self, meta: dict[str, Any]) -> None:
        """Make sure the store knows where the run's folder is (its run.json is the record)."""
        pointer = self.ids / str(meta["id"])
        if not pointer.is_file():
            self.ids.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(pointer, self._pointer(Path(meta["path"])).encode())

    def _resolve(self, run_id: str, text: str) -> Path | None:
        """The folder an id file names (None: one of another store, never followed)."""
        inside = self.root / run_id
        if (inside / "run.json").is_file():
            return inside  # the folder present in this store wins
        p = Path(text)
        if not p.is_absolute():
            return self.root / p
        if p.name == run_id and p.parent != self.root and (p.parent / _IDS / run_id).is_file():
            return None  # the store this one was copied from: never read or written from here
        return p

    def _folders(self) -> dict[str, Path]:
        """Every run id with its folder: the id files, then folders holding a run.json."""
        out: dict[str, Path] = {}
        if self.ids.is_dir():
            for f in self.ids.iterdir():
                if not f.name.startswith("."):
                    with contextlib.suppress(OSError):
                        if (p := self._resolve(f.name, f.read_text().strip())) is not None:
                            out[f.name] = p
        if self.root.is_dir():
            for f in self.root.glob("*/run.json"):
                out.setdefault(f.parent.name, f.parent)
        return out

    def _row(self, run_id: str, folder: Path) -> dict[str, Any] | None:
        try:
            text = (folder / "run.json").read_text()
        except OSError:
            return None  # reserved, not started yet
        try:
            meta = json.loads(text)
        except ValueError as err:
            return self._damage(run_id, f"run.json is not valid JSON ({err})")
        if not isinstance(meta, dict):
            return self._damage(run_id, "run.json is not a JSON object")
        if meta.get("id") != run_id:
            return None  # the folder was reused by a newer run (--out ... --force)
        if (why := _malformed(meta)) is not None:
            return self._damage(run_id, why)
        row = {k: meta.get(k) for k in COLUMNS}
        row["path"] = str(folder)
        if row["status"] != COMPLETE:
            if row["status"] == RUNNING and not is_alive(meta):
                row["status"] = INTERRUPTED
            row["reps_done"] = RunFolder(folder).count_chunked(default=row["reps_done"])
        return row

    def _damage(self, run_id: str, reason: str) -> None:
        self.damaged.append((run_id, reason))
        return None

    def _warn_damaged(self) -> None:
        if self.damaged:
            import warnings

            warnings.warn("skipped damaged run(s) of the store " + str(self.root) + ": "
                          + "; ".join(f"{rid}: {why}" for rid, why in self.damaged),
                          UserWarning, stacklevel=3)  # fmt: skip

    def list(self) -> pd.DataFrame:
        """All runs, newest first: the run.json of every run folder, with ``status`` checked
        (a ``running`` run whose process is gone is ``interrupted``) and, for runs not
        complete, ``reps_done`` counted from the chunks on disk. A damaged run is skipped,
        named in :attr:`damaged` and in a warning."""
        df = self._list()
        self._warn_damaged()
        return df

    def _list(self) -> pd.DataFrame:
        self.damaged = []
        rows = [r for rid, p in self._folders().items() if (r := self._row(rid, p)) is not None]
        return _frame(rows)

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
                fh.write(self._pointer(path))
            path.mkdir(parents=True, exist_ok=True)
            return run_id, path

    def forget(self, run_id: str) -> None:
        """Drop a run's id file (its folder was taken over by another run)."""
        (self.ids / run_id).unlink(missing_ok=True)

    def check_out(self, out: str | Path, option: str = "--out", take_over: bool = False
                  ) -> Path:  # fmt: skip
        """Refuse an output folder that is the store itself, its id folder, a run's folder
        (unless ``take_over``: ``run --out DIR --force``) or inside one (no command writes into
        another run's folder); returns it resolved."""
        path = Path(out).resolve()
        for up in [path, *path.parents]:
            if up == self.root and path in (self.root, self.ids):
                raise ScenarioError([Issue(option, "is the run store itself; choose a folder"
                                           " of its own", str(out))], "option")  # fmt: skip
            if (up != path or not take_over) and (up / "run.json").is_file():
                where = "is" if up == path else f"is inside ({up})"
                raise ScenarioError([Issue(option, f"{where} the folder of a run (it holds"
                                           " run.json); no command writes into another run's"
                                           " folder", str(out))], "option")  # fmt: skip
        return path

    def sql(self, query: str) -> pd.DataFrame:
        """Run SQL (DuckDB, in memory) over the store. Views: ``runs`` (:meth:`list`) and
        ``replications`` (every complete run's tidy table, with a ``run_id`` column). A run
        whose replications.parquet cannot be read is left out of ``replications`` and named
        in :attr:`damaged`.

        Reads only: any number of readers and runs can use a store at the same time."""
        import duckdb

        for attempt in range(3):
            runs = self._list()
            parts = self._replication_parts(runs)
            self._warn_damaged()
            con = duckdb.connect()
            try:
                con.register("runs_table", runs)
                con.execute("CREATE VIEW runs AS SELECT * FROM runs_table")
                view = (" UNION ALL BY NAME ".join(parts) if parts else
                        "SELECT NULL::VARCHAR AS run_id, NULL::BIGINT AS replication,"
                        " NULL::VARCHAR AS period, NULL::VARCHAR AS metric,"
                        " NULL::DOUBLE AS value WHERE false")  # fmt: skip
                con.execute(f"CREATE VIEW replications AS {view}")
                return con.execute(query).df()
            except (duckdb.IOException, duckdb.InvalidInputException):
                if attempt == 2:
                    raise
                time.sleep(0.05)  # a run folder changed under us (re-run with --force)
            finally:
                con.close()
        raise AssertionError("unreachable")

    def _replication_parts(self, runs: pd.DataFrame) -> list[str]:
        """One SELECT per complete run whose replications.parquet reads (others: damaged)."""
        import pyarrow.parquet as pq

        parts = []
        done = runs[runs["status"] == COMPLETE]
        for rid, p in zip(done["id"], done["path"], strict=True):
            f = Path(p) / "replications.parquet"
            if not f.is_file():
                continue
            try:
                pq.read_metadata(f)
            except (OSError, ValueError) as err:
                self.damaged.append((rid, f"replications.parquet cannot be read ({err})"))
                continue
            parts.append(f"SELECT {_lit(rid)} AS run_id, * FROM read_parquet({_lit(str(f))})")
        return parts


def _malformed(meta: dict[str, Any]) -> str | None:
    """Why a run.json's listed fields are unusable (None: they are fine)."""
    if meta.get("status") not in _STATUSES:
        return f"run.json field 'status' is {meta.get('status')!r}, not one of {_STATUSES}"
    for key, types in _FIELD_TYPES.items():
        v = meta.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, types)):
            kind = " or ".join(t.__name__ for t in types)
            return f"run.json field {key!r} is {v!r}, not {kind}"
    return None


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The listing's rows as a table: integers stay exact integers (a seed above 2**53 too)."""
    df = pd.DataFrame(rows, columns=COLUMNS)
    seeds = [r["seed"] for r in rows]  # from the rows: a column with a None is float64
    if all(s is None or -(2**63) <= s < 2**63 for s in seeds):
        df["seed"] = pd.array(seeds, dtype="Int64")
    else:
        df["seed"] = pd.Series(seeds, dtype=object)
    for col in ("reps_requested", "reps_done"):
        df[col] = pd.array([r[col] for r in rows], dtype="Int64")
    df["wall_seconds"] = pd.to_numeric(df["wall_seconds"], errors="coerce")
    return df.sort_values(["created", "id"], ascending=False, ignore_index=True,
                          na_position="last")  # fmt: skip


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

    @contextlib.contextmanager
    def claim(self, option: str = "--out") -> Iterator[None]:
        """Hold an exclusive lock on the folder (``flock`` on the folder itself, released when
        the process ends however it ends) for the block: a second process claiming it at the
        same time is refused at once with a ScenarioError naming ``option``."""
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ScenarioError([Issue(option, "the run folder is in use by another sla-sim"
                                           " process right now; wait for it to end (see:"
                                           " sla-sim runs list)", str(self.path))],
                                    "run request") from None  # fmt: skip
            yield
        finally:
            os.close(fd)  # releases the lock

    def own_files(self, meta: dict[str, Any] | None = None) -> list[Path]:
        """The files an earlier run of this tool wrote here, as listed in its run.json
        (``files``; an older run.json without the list: the files every run writes)."""
        if meta is None:
            return []
        listed = meta.get("files")
        entries = LEGACY_FILES if listed is None else listed
        if not isinstance(entries, (list, tuple)):
            return []
        out: list[Path] = []
        for entry in entries:
            if not isinstance(entry, str) or not entry or Path(entry).is_absolute() or \
                    ".." in Path(entry).parts:  # fmt: skip
                continue  # never anything outside the folder
            if any(c in entry for c in "*?[") and entry not in OWN_PATTERNS:
                continue  # only the patterns this tool writes; never "*" or "**/*"
            hits = self.path.glob(entry) if entry in OWN_PATTERNS else [self.path / entry]
            # reached through real folders only: a link planted between could point into
            # another run's folder, or anywhere
            out += [p for p in hits if (p.is_file() or p.is_symlink())
                    and linked_on_the_way(self.path, p.relative_to(self.path)) is None]
        return out

    def linked_dirs(self) -> list[str]:
        """The folders a run writes into (``chunks/``, ``charts/``) that are symbolic links
        here: a run never writes or removes anything through them."""
        return [d for d in RUN_DIRS if (self.path / d).is_symlink()]

    def remove_own(self, meta: dict[str, Any] | None) -> None:
        """Remove what an earlier run of this tool wrote here (:meth:`own_files`, its run.json,
        its temporary and staging leftovers, then its folders if left empty); anything else
        stays."""
        for p in self.own_files(meta):
            p.unlink(missing_ok=True)
        if meta is not None:
            (self.path / "run.json").unlink(missing_ok=True)
        linked = set(self.linked_dirs())
        for sub in (self.path, *(self.path / d for d in RUN_DIRS if d not in linked)):
            for p in sub.glob(".*.tmp-*"):
                p.unlink(missing_ok=True)
        for p in self.path.glob(".staging-*"):
            shutil.rmtree(p, ignore_errors=True)
        for d in RUN_DIRS:
            with contextlib.suppress(OSError):
                (self.path / d).rmdir()  # only if empty

    def in_the_way(self) -> list[str]:
        """Files here that a run would write over (relative paths): its file names, anything
        under ``chunks/`` or ``charts/``."""
        found = [n for n in RUN_FILES if (self.path / n).exists()]
        for d in RUN_DIRS:
            if (self.path / d).is_symlink():
                found.append(f"{d} (a symbolic link)")
            elif (self.path / d).is_dir():
                found += [p.relative_to(self.path).as_posix()
                          for p in sorted((self.path / d).rglob("*")) if not p.is_dir()]
            elif (self.path / d).exists():
                found.append(d)
        return found

    def written(self) -> list[str]:
        """Every file now in the folder except run.json and temporary names (relative paths):
        what a run that started in an empty folder wrote there."""
        return sorted(p.relative_to(self.path).as_posix() for p in self.path.rglob("*")
                      if p.is_file() and p.name != "run.json" and ".tmp-" not in p.name
                      and ".staging-" not in p.as_posix())  # fmt: skip

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
