"""The run store under concurrency and faults: nothing lost, nothing mixed, no traceback.

* ``--force`` starts clean, and a resume refuses chunks of another seed or scenario;
* four ``sla-sim run`` processes on one store, with a reader polling ``RunStore().sql``;
* SIGTERM and ``kill -9`` of the main process leave no process of the run alive, the run lists
  as interrupted with the replications on disk, and ``--resume`` gives the same summary as an
  uninterrupted run;
* a worker killed with ``-9`` costs a retry of its chunk, not the run;
* a full disk (ENOSPC injected on each final file in turn) names the file, leaves no partial
  file under a final name, marks the run incomplete, and a resume completes it.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from proc_util import alive, descendants
from store_util import interrupting_collect

from sla_sim.batch import files as files_mod
from sla_sim.batch import runs
from sla_sim.batch.replications import run_replications
from sla_sim.batch.results import Results
from sla_sim.batch.runs import FLUSH_EVERY, stored_run
from sla_sim.batch.store import RunFolder, RunStore
from sla_sim.errors import ScenarioError
from sla_sim.scenario.io import load, save, set_path
from sla_sim.scenario.schema import Scenario
from tests.conftest import make_tiny

ROOT = Path(__file__).resolve().parents[1]
SEED = 4242
REPS = 30
#: summary.json meta fields that differ between two runs of the same request
TIMING = {"run_id", "created_utc", "wall_seconds", "workers", "executor"}


def small(leads_divisor: float = 10, sdrs: int = 2) -> Scenario:
    """The tiny scenario with a 5-day warm-up, fewer leads and SDRs (~25 ms per replication)."""
    sc = make_tiny({"horizon.warmup_days": 5, "teams[sdr].reps": sdrs})
    for c in sc.channels:
        sc = set_path(sc, f"channels[{c.name}].leads_per_month", c.leads_per_month / leads_divisor)
    return sc


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SLA_SIM_STORE"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sla_sim", *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def _meta(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "run.json").read_text())


def _summary(folder: Path) -> dict[str, Any]:
    s = json.loads((folder / "summary.json").read_text())
    s["meta"] = {k: v for k, v in s["meta"].items() if k not in TIMING}
    return s


def _interrupted(sc: Scenario, store: RunStore, seed: int, monkeypatch: pytest.MonkeyPatch,
                 after: int = FLUSH_EVERY + 2, **kw: Any) -> Path:  # fmt: skip
    """The folder of a run of ``sc`` interrupted after ``after`` replications."""
    with monkeypatch.context() as m:
        m.setattr(runs, "collect", interrupting_collect(after))
        with pytest.raises(KeyboardInterrupt):
            stored_run(sc, reps=REPS, seed=seed, store=store, progress=False, **kw)
    (path,) = [p.parent for p in store.root.glob("*/run.json")] if "out" not in kw else [
        Path(kw["out"])]
    return path


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """The small scenario shared by this module."""
    return small()


@pytest.fixture(scope="module")
def sc_file(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small scenario as a YAML file."""
    return save(scenario, tmp_path_factory.mktemp("sc") / "small.yaml")


@pytest.fixture(scope="module")
def clean(scenario: Scenario) -> dict[int, Results]:
    """In-memory reference runs, by seed (filled on demand)."""
    return {}


def _reference(clean: dict[int, Results], scenario: Scenario, seed: int) -> Results:
    if seed not in clean:
        clean[seed] = run_replications(scenario, reps=REPS, seed=seed, progress=False,
                                       keep_log_of=None)  # fmt: skip
    return clean[seed]


# ---------------------------------------------------------------------------- 1. nothing mixed
def test_force_after_an_interrupted_run_equals_a_clean_run(
        scenario: Scenario, sc_file: Path, clean: dict[int, Results], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`run --seed 2 --out q1 --force` over an interrupted seed-1 run keeps none of its chunks."""
    out = tmp_path / "q1"
    store = RunStore(tmp_path / "store")
    _interrupted(scenario, store, 1, monkeypatch, out=out)
    assert list((out / "chunks").glob("part-*.parquet"))
    done = _cli("run", str(sc_file), "--seed", "2", "--reps", str(REPS), "--out", str(out),
                "--force", "--store", str(store.root), "--quiet", "--no-report", "--workers", "1",
                cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    meta = _meta(out)
    assert (meta["status"], meta["seed"], meta["reps_done"]) == ("complete", 2, REPS)
    np.testing.assert_array_equal(Results.load(out).values,
                                  _reference(clean, scenario, 2).values)  # fmt: skip


def test_force_with_a_shorter_horizon_keeps_no_old_period(
        scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 1-month scenario forced over an interrupted 2-month run has only its own periods."""
    out = tmp_path / "q"
    store = RunStore(tmp_path / "store")
    two = set_path(scenario, "horizon.measure_months", 2)
    _interrupted(two, store, 1, monkeypatch, out=out)
    _, _, res = stored_run(scenario, reps=4, seed=1, store=store, out=out, force=True,
                           progress=False)  # fmt: skip
    assert sorted({p for p, _ in res.keys}) == ["2026-01", "total"]
    assert sorted(pd.read_parquet(out / "replications.parquet")["period"].unique()) == [
        "2026-01", "total"]


def test_resume_refuses_a_chunk_of_another_seed(
        scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk written by a seed-1 run, found in a seed-2 run's folder, stops the resume."""
    s1 = _interrupted(scenario, RunStore(tmp_path / "a"), 1, monkeypatch)
    store = RunStore(tmp_path / "b")
    s2 = _interrupted(scenario, store, 2, monkeypatch, after=3)
    alien = sorted((s1 / "chunks").glob("part-*.parquet"))[0]
    (s2 / "chunks" / "part-000009-0.parquet").write_bytes(alien.read_bytes())
    with pytest.raises(ScenarioError) as info:
        stored_run(resume=_meta(s2)["id"], store=store, progress=False)
    text = str(info.value)
    assert "part-000009-0.parquet" in text
    assert "seed" in text


def test_resume_refuses_an_edited_scenario(scenario: Scenario, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A resume whose scenario.yaml no longer hashes to the run's scenario is refused."""
    store = RunStore(tmp_path)
    folder = _interrupted(scenario, store, 3, monkeypatch)
    save(set_path(scenario, "teams[sdr].reps", 3), folder / "scenario.yaml")
    with pytest.raises(ScenarioError, match="scenario"):
        stored_run(resume=_meta(folder)["id"], store=store, progress=False)


def test_resume_refuses_a_chunk_of_another_metric_set(
        scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk whose metric columns differ from the run's is refused, naming the file."""
    store = RunStore(tmp_path)
    folder = _interrupted(scenario, store, 3, monkeypatch)
    first = sorted((folder / "chunks").glob("part-*.parquet"))[0]
    import pyarrow.parquet as pq

    table = pq.read_table(first)
    pq.write_table(table.drop_columns([table.column_names[3]]), first)
    with pytest.raises(ScenarioError, match=first.name):
        stored_run(resume=_meta(folder)["id"], store=store, progress=False)


def test_resume_refuses_replication_indices_out_of_range(
        scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk holding replications the run never asked for is refused."""
    store = RunStore(tmp_path)
    folder = _interrupted(scenario, store, 3, monkeypatch)
    first = sorted((folder / "chunks").glob("part-*.parquet"))[0]
    df = pd.read_parquet(first)
    df["replication"] += 10_000
    RunFolder(folder).write_chunk(
        [tuple(c.split("|", 1)) for c in df.columns if "|" in c and not c.startswith("state|")],
        df["replication"].tolist(),
        df[[c for c in df.columns if "|" in c and not c.startswith("state|")]].to_numpy(),
        df[[c for c in df.columns if c.startswith("state|")]].rename(
            columns=lambda c: c.removeprefix("state|")).to_dict("records"),
        df["seconds"].tolist(), stamp=_meta(folder) | {"scenario_hash": _meta(folder)[
            "scenario_hash"]})  # fmt: skip
    with pytest.raises(ScenarioError, match="replication"):
        stored_run(resume=_meta(folder)["id"], store=store, progress=False)


# ---------------------------------------------------------------------------- 2. concurrency
RUNS = 4  # processes writing one store at once (two per core of the CI machine)


def test_four_runs_and_a_polling_reader_share_one_store(sc_file: Path, tmp_path: Path) -> None:
    """4 `sla-sim run` on one --store (two per core) plus a reader polling RunStore.sql: all
    complete, listed complete, no traceback anywhere."""
    store = tmp_path / "store"
    stop = tmp_path / "stop"
    reader_code = (
        "import sys, pathlib\n"
        "from sla_sim.batch.store import RunStore\n"
        "s, stop, n = RunStore(sys.argv[1]), pathlib.Path(sys.argv[2]), 0\n"
        "while not stop.exists():\n"
        "    s.sql('select id, status, reps_done from runs')\n"
        "    s.sql('select count(*) from replications')\n"
        "    s.list(); n += 1\n"
        "print(n)\n"
    )
    reader = subprocess.Popen([sys.executable, "-c", reader_code, str(store), str(stop)],
                              cwd=tmp_path, env=_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    procs = [subprocess.Popen([sys.executable, "-m", "sla_sim", "run", str(sc_file), "--reps",
                               "4", "--seed", str(i), "--workers", "1", "--quiet", "--no-report",
                               "--store", str(store)], cwd=tmp_path, env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(RUNS)]  # fmt: skip
    outs = [p.communicate(timeout=300) for p in procs]
    stop.touch()
    r_out, r_err = reader.communicate(timeout=60)
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err
    assert reader.returncode == 0, r_err
    assert "Traceback" not in r_err
    assert int(r_out.strip()) > 0
    listed = RunStore(store).list()
    assert len(listed) == RUNS
    assert set(listed["status"]) == {"complete"}
    assert sorted(listed["seed"].tolist()) == list(range(RUNS))
    assert set(listed["reps_done"]) == {4}
    n = RunStore(store).sql("select count(distinct run_id) as n from replications")
    assert int(n.loc[0, "n"]) == RUNS


def test_catalog_file_of_old_versions_is_not_needed(scenario: Scenario, tmp_path: Path) -> None:
    """An empty or corrupt catalog.duckdb left by an old version breaks nothing."""
    store = RunStore(tmp_path)
    (tmp_path / "catalog.duckdb").write_bytes(b"")
    run_id, _, _ = stored_run(scenario, reps=2, seed=1, store=store, progress=False)
    (tmp_path / "catalog.duckdb").write_bytes(b"garbage" * 100)
    assert store.list()["id"].tolist() == [run_id]
    assert int(store.sql("select count(*) as n from runs").loc[0, "n"]) == 1


# ---------------------------------------------------------------------------- 3. signals


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find worker processes")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "kill-9"])
def test_killing_the_main_process_leaves_nothing_alive_and_resumes_exactly(
        sig: int, tmp_path: Path) -> None:
    """SIGTERM or kill -9 of `sla-sim run`: no process of the run alive after 10 s; the run
    lists as interrupted with the replications on disk; --resume equals an uninterrupted run."""
    reps = 400  # 10-60 ms a replication: seconds of work left when the first chunk lands
    sc_file = save(small(leads_divisor=1, sdrs=10), tmp_path / "sc.yaml")
    store = tmp_path / "store"
    base = ["run", "--seed", "9", "--workers", "2", "--quiet", "--no-report", "--store",
            str(store)]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "sla_sim", *base, str(sc_file), "--reps",
                             str(reps)], cwd=tmp_path, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(store.glob("*/chunks/part-*.parquet")) or len(descendants(proc.pid)) < 2:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"no chunk before exit/timeout (rc {proc.returncode}):\n{out}\n{err}")
        time.sleep(0.01)
    family = descendants(proc.pid)
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err
    if sig == signal.SIGTERM:
        assert proc.returncode == 130, err
    deadline = time.monotonic() + 10
    while any(alive(p) for p in family) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in family if alive(p)], "worker processes outlived the run"

    (row,) = RunStore(store).list().to_dict("records")
    assert row["status"] == "interrupted"
    if sig == signal.SIGTERM:
        assert f"sla-sim run --resume {row['id']}" in err
    on_disk = RunFolder(Path(row["path"])).read_chunks()
    assert on_disk is not None
    assert row["reps_done"] == len(on_disk) > 0
    listed = _cli("runs", "list", "--store", str(store), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "interrupted" in listed.stdout

    done = _cli("run", "--resume", row["id"], "--store", str(store), "--quiet", "--no-report",
                cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    _, fresh, _ = stored_run(load(sc_file), reps=reps, seed=9, workers=1,
                             store=RunStore(tmp_path / "reference"), progress=False)  # fmt: skip
    (resumed,) = [p.parent for p in store.glob("*/summary.json")]
    assert _summary(resumed) == _summary(fresh)


_KILL_MARKER: list[str] = []  # the marker file of the test below (inherited by forked workers)


def dying_run_chunk(scenario_json: str, seed: int, indices: list[int], *a: Any) -> Any:
    """run_chunk that kills its own worker process (as kill -9 would) the first time it is
    given replication 5 (a marker file says it happened)."""
    from sla_sim.batch import worker

    marker = _KILL_MARKER[0]
    if 5 in indices and not os.path.exists(marker):
        Path(marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return worker.run_chunk(scenario_json, seed, indices, *a)


def test_a_killed_worker_costs_a_retry_not_the_run(scenario: Scenario, clean: dict[int, Results],
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker process killed with -9 mid-chunk: its chunk is retried on a fresh worker, the
    run completes and its results equal a clean run's."""
    from sla_sim.batch import executors

    marker = tmp_path / "killed"
    monkeypatch.setattr(sys.modules[__name__], "_KILL_MARKER", [str(marker)])
    monkeypatch.setattr(executors, "run_chunk", dying_run_chunk)
    store = RunStore(tmp_path / "store")
    _, folder, res = stored_run(scenario, reps=REPS, seed=SEED, workers=2, store=store,
                                progress=False)  # fmt: skip
    assert marker.exists(), "the worker was never killed"
    assert _meta(folder)["status"] == "complete"
    np.testing.assert_array_equal(res.values, _reference(clean, scenario, SEED).values)


# ---------------------------------------------------------------------------- 5. disk full
FINAL_FILES = ["summary.json", "replications.parquet", "lead_states.parquet", "events.parquet",
               "report.md", "report.html", "run.json"]  # fmt: skip


def _report(res: Results, folder: Path) -> None:
    """A quick stand-in for the report writer (the CLI's finish step): two files and a chart."""
    (folder / "report.md").write_text(f"# {res.scenario.name}\n\n{res.replications} reps\n")
    (folder / "report.html").write_text(f"<h1>{res.replications} reps</h1>\n" * 1000)
    (folder / "charts").mkdir()
    (folder / "charts" / "a.svg").write_text("<svg/>")


@pytest.mark.parametrize("name", FINAL_FILES)
def test_disk_full_on_a_final_file_names_it_and_the_run_resumes(
        name: str, scenario: Scenario, clean: dict[int, Results], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC while writing ``name`` at the end of a run: the error names the file, no partial
    file is left under a final name (nor a temporary one), the run is not complete, and a
    resume completes it once space is back."""
    store = RunStore(tmp_path)
    real = files_mod._sync

    pending: dict[str, Any] = {}
    real_write_meta = RunFolder.write_meta

    def write_meta(self: RunFolder, meta: dict[str, Any]) -> None:
        pending["status"] = meta.get("status")
        real_write_meta(self, meta)

    def full(tmp: Path, final: Path) -> None:
        # run.json is written all along: the disk fills up when it is to say "complete"
        if final.name == name and (name != "run.json" or pending.get("status") == "complete"):
            data = tmp.read_bytes()
            tmp.write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(tmp, final)

    monkeypatch.setattr(RunFolder, "write_meta", write_meta)
    monkeypatch.setattr(files_mod, "_sync", full)
    with pytest.raises(OSError, match="No space left") as info:
        stored_run(scenario, reps=REPS, seed=SEED, store=store, progress=False,
                   finish=_report)
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC
    assert name in str(info.value.filename), info.value
    (folder,) = [p.parent for p in tmp_path.glob("*/run.json")]
    leftovers = [p.name for p in folder.rglob("*") if ".tmp-" in p.name or "staging" in p.name]
    assert leftovers == []
    if name != "run.json":
        assert not (folder / name).exists()
    (row,) = store.list().to_dict("records")
    assert row["status"] in {"incomplete", "interrupted"}
    assert row["reps_done"] == REPS
    assert name in _meta(folder).get("note", "") or name == "run.json"

    _, _, res = stored_run(resume=row["id"], store=store, progress=False, finish=_report)
    assert _meta(folder)["status"] == "complete"
    for f in FINAL_FILES:
        assert (folder / f).is_file(), f
    np.testing.assert_array_equal(res.values, _reference(clean, scenario, SEED).values)


def test_cli_disk_full_message_names_the_file(tmp_path: Path, sc_file: Path) -> None:
    """Through the CLI, an OSError from a final file prints the file's name and exits 1,
    without a traceback (the injection uses a sitecustomize-free wrapper script)."""
    code = (
        "import errno, os, sys\n"
        "from sla_sim.batch import files as store\n"
        "real = store._sync\n"
        "def full(tmp, final):\n"
        "    if final.name == 'replications.parquet':\n"
        "        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))\n"
        "    real(tmp, final)\n"
        "store._sync = full\n"
        "from sla_sim.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, "run", str(sc_file), "--reps", "3",
                           "--workers", "1", "--quiet", "--no-report", "--store",
                           str(tmp_path / "st")], cwd=tmp_path, env=_env(), capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "No space left on device" in done.stderr
    assert "replications.parquet" in done.stderr
    assert "--resume" in done.stderr
    assert "<id>" not in done.stderr


# ---------------------------------------------------------------------------- 9. small ones
def test_wall_seconds_add_up_over_a_resume(scenario: Scenario, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The time spent before an interruption is kept and added to the resume's."""
    store = RunStore(tmp_path)
    folder = _interrupted(scenario, store, 3, monkeypatch)
    before = _meta(folder)["wall_seconds"]
    assert before is not None
    assert before > 0
    t = time.perf_counter()
    _, _, res = stored_run(resume=_meta(folder)["id"], store=store, progress=False)
    spent = time.perf_counter() - t
    assert before < res.meta["wall_seconds"] <= before + spent + 0.01
    assert res.meta["wall_seconds"] <= _meta(folder)["wall_seconds"] <= before + spent + 0.01
