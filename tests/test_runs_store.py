"""The run store: streamed chunks, listing and SQL over run folders, resume after Ctrl-C,
precision targets, `runs` CLI."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from store_util import interrupting_collect

from sla_sim.batch import runs
from sla_sim.batch.replications import run_replications
from sla_sim.batch.results import Results
from sla_sim.batch.runs import FLUSH_EVERY, parse_precision, stored_run
from sla_sim.batch.store import RunFolder, RunStore
from sla_sim.cli.main import main
from sla_sim.errors import ScenarioError
from sla_sim.scenario.io import load, save, set_path
from sla_sim.scenario.schema import Scenario
from tests.conftest import make_tiny

ROOT = Path(__file__).resolve().parents[1]
SEED = 777
REPS = 30


def small(leads_divisor: float = 10, sdrs: int = 2) -> Scenario:
    """The tiny scenario with a 5-day warm-up, fewer leads and SDRs (~25 ms per replication)."""
    sc = make_tiny({"horizon.warmup_days": 5, "teams[sdr].reps": sdrs})
    for c in sc.channels:
        sc = set_path(sc, f"channels[{c.name}].leads_per_month", c.leads_per_month / leads_divisor)
    return sc


def _run(sc: Scenario, store: RunStore, reps: int = REPS, **kw: Any) -> tuple[str, Path, Results]:
    return stored_run(sc, reps=reps, seed=kw.pop("seed", SEED), store=store, progress=False,
                      **kw)  # fmt: skip


def _meta(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "run.json").read_text())


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """The small scenario shared by this module."""
    return small()


@pytest.fixture(scope="module")
def reference(scenario: Scenario) -> Results:
    """REPS replications of the small scenario run in memory (no store)."""
    return run_replications(scenario, reps=REPS, seed=SEED, progress=False)


@pytest.fixture(scope="module")
def completed(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[RunStore, str, Path, Results]:  # fmt: skip
    """One complete stored run of REPS replications in a fresh store."""
    store = RunStore(tmp_path_factory.mktemp("store"))
    return (store, *_run(scenario, store))


# ---------------------------------------------------------------------------- a complete run
def test_complete_run_folder_has_every_final_file(completed: Any) -> None:
    """A complete run says so in run.json and has its final files, no chunks and no temp files."""
    store, run_id, folder, _ = completed
    meta = _meta(folder)
    assert (meta["id"], meta["status"], meta["seed"]) == (run_id, "complete", SEED)
    assert meta["reps_done"] == meta["reps_requested"] == REPS
    assert Path(meta["path"]) == folder
    assert folder.parent == store.root
    for name in ("scenario.yaml", "summary.json", "replications.parquet", "lead_states.parquet",
                 "events.parquet"):  # fmt: skip
        assert (folder / name).is_file(), name
    assert not (folder / "chunks").exists()
    assert not list(folder.rglob(".*tmp-*"))
    assert not (folder / "report.md").exists()  # no finish hook: no report


def test_catalog_lists_the_run_and_sql_counts_its_rows(completed: Any) -> None:
    """RunStore.list shows the run and SQL over ``replications`` counts replication x key rows."""
    store, run_id, _, res = completed
    listed = store.list()
    assert listed["id"].tolist() == [run_id]
    assert listed.loc[0, "status"] == "complete"
    assert listed.loc[0, "reps_done"] == REPS
    n = store.sql("SELECT count(*) AS n, count(DISTINCT replication) AS r, min(run_id) AS id"
                  " FROM replications")  # fmt: skip
    assert (int(n.loc[0, "n"]), int(n.loc[0, "r"]), n.loc[0, "id"]) == (
        REPS * len(res.keys), REPS, run_id)


def test_loaded_results_equal_returned_and_in_memory_results(completed: Any,
                                                             reference: Results) -> None:
    """Results.load of the folder, the returned Results and an in-memory run are identical."""
    _, _, folder, res = completed
    loaded = Results.load(folder)
    for other in (loaded, reference):
        assert other.keys == res.keys
        np.testing.assert_array_equal(other.replication_ids, res.replication_ids)
        np.testing.assert_array_equal(other.values, res.values)
        pd.testing.assert_frame_equal(other.terminal, res.terminal, check_dtype=False)
    assert reference.event_log is not None
    assert res.event_log is not None
    assert res.event_log.equals(reference.event_log)


def test_resuming_a_complete_run_is_refused(completed: Any) -> None:
    """``resume`` of a complete run raises ScenarioError naming --resume."""
    store, run_id, _, _ = completed
    with pytest.raises(ScenarioError, match="--resume"):
        stored_run(resume=run_id, store=store, progress=False)


# ---------------------------------------------------------------------------- interruption
def test_interrupted_run_keeps_chunks_and_resume_equals_fresh_run(
        scenario: Scenario, completed: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C after k results leaves k replications in chunks; resume completes it identically."""
    k = FLUSH_EVERY + 2  # one flush while running, one at the interruption
    store = RunStore(tmp_path / "store")
    monkeypatch.setattr(runs, "collect", interrupting_collect(k))
    with pytest.raises(KeyboardInterrupt):
        _run(scenario, store)
    monkeypatch.undo()
    (row,) = store.list().to_dict("records")
    folder = Path(row["path"])
    meta = _meta(folder)
    assert (row["status"], meta["status"]) == ("interrupted", "interrupted")
    assert meta["reps_done"] == row["reps_done"] == k
    assert f"resume with: sla-sim run --resume {row['id']}" in meta["note"]
    assert len(list((folder / "chunks").glob("part-*.parquet"))) == 2
    wide = RunFolder(folder).read_chunks()
    assert wide is not None
    assert wide["replication"].tolist() == list(range(k))
    assert not (folder / "replications.parquet").exists()

    run_id, folder2, res = stored_run(resume=row["id"], store=store, progress=False)  # fmt: skip
    assert (run_id, folder2) == (row["id"], folder)
    assert _meta(folder)["status"] == "complete"
    assert _meta(folder)["reps_done"] == REPS
    fresh = completed[3]
    np.testing.assert_array_equal(res.replication_ids, fresh.replication_ids)
    np.testing.assert_array_equal(res.values, fresh.values)
    np.testing.assert_array_equal(Results.load(folder).values, fresh.values)


def test_failed_replication_leaves_an_incomplete_run_that_resumes(
        scenario: Scenario, completed: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A raising replication keeps the others in chunks; after the fix, resume completes it."""
    from sla_sim.batch import worker
    from sla_sim.batch.replications import ReplicationError

    real = worker.run_one

    def flaky(sc: Any, seed: int, r: int, keep_log: bool = False, tag: Any = None,
              remember: bool = False) -> Any:  # fmt: skip
        if r == 7:
            raise RuntimeError("boom")
        return real(sc, seed, r, keep_log=keep_log, tag=tag, remember=remember)

    store = RunStore(tmp_path)
    monkeypatch.setattr(worker, "run_one", flaky)
    with pytest.raises(ReplicationError) as info:
        _run(scenario, store)
    monkeypatch.undo()
    assert [(f.replication, f.seed) for f in info.value.failures] == [(7, SEED)]
    partial = info.value.results
    assert partial is not None
    assert 7 not in partial.replication_ids
    assert partial.replications == REPS - 1
    (row,) = store.list().to_dict("records")
    assert (row["status"], row["reps_done"]) == ("incomplete", REPS - 1)
    assert "1 replication(s) failed" in _meta(Path(row["path"]))["note"]
    _, _, res = stored_run(resume=row["id"], store=store, progress=False)
    np.testing.assert_array_equal(res.values, completed[3].values)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SLA_SIM_STORE"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _ctrl_c_as_in_a_terminal() -> None:
    """In the child: SIGINT's default action, as a command started in a terminal has it (a job
    started in the background by a non-interactive shell, such as a test run with ``&``,
    inherits SIGINT ignored, and so would its children)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_real_ctrl_c_exits_130_and_resume_completes(tmp_path: Path) -> None:
    """SIGINT to ``python -m sla_sim run`` exits 130 leaving an incomplete run; resume ends it."""
    # the first chunk lands after 25 replications; the other 375 (10-60 ms each on the fast
    # engine, about 4 s or more) leave time to interrupt
    reps = 400
    sc_file = save(small(leads_divisor=1, sdrs=10), tmp_path / "sc.yaml")
    store = tmp_path / "store"
    base = [sys.executable, "-m", "sla_sim", "run"]
    proc = subprocess.Popen(
        [*base, str(sc_file), "--reps", str(reps), "--seed", "5", "--workers", "1", "--quiet",
         "--no-report", "--store", str(store)],
        cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=_ctrl_c_as_in_a_terminal,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not list(store.glob("*/chunks/part-*.parquet")):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"no chunk before exit/timeout (rc {proc.returncode}):\n{out}\n{err}")
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err
    (folder,) = [p.parent for p in store.glob("*/run.json")]
    meta = _meta(folder)
    assert meta["status"] == "interrupted"
    assert FLUSH_EVERY <= meta["reps_done"] < reps

    done = subprocess.run([*base, "--resume", meta["id"], "--store", str(store), "--quiet",
                           "--no-report"], cwd=tmp_path, env=_env(), capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"run {meta['id']}: {reps} replications" in done.stdout
    final = _meta(folder)
    assert (final["status"], final["reps_done"]) == ("complete", reps)
    expected = run_replications(load(sc_file), reps=reps, seed=5, workers=2, progress=False,
                                keep_log_of=None)  # fmt: skip
    np.testing.assert_array_equal(Results.load(folder).values, expected.values)


def test_half_written_chunk_files_are_ignored(tmp_path: Path) -> None:
    """read_chunks skips temporary files of an unfinished write and de-duplicates replications."""
    folder = RunFolder(tmp_path)
    keys = [("total", "revenue"), ("total", "wins")]
    term = [{"won": 1}, {"won": 2}]
    folder.write_chunk(keys, [0, 1], np.array([[1.0, 2.0], [3.0, 4.0]]), term, [0.1, 0.2])
    (folder.chunks / ".part-000001-2.parquet.tmp-123").write_bytes(b"PAR1 half a file")
    (folder.chunks / "part-000001-2.parquet.tmp-123").write_bytes(b"not parquet either")
    second = folder.write_chunk(keys, [1, 2], np.array([[3.0, 4.0], [5.0, 6.0]]), term,
                                [0.2, 0.3])  # fmt: skip
    assert second.name == "part-000001-1.parquet"
    wide = folder.read_chunks()
    assert wide is not None
    assert wide["replication"].tolist() == [0, 1, 2]
    np.testing.assert_array_equal(wide[["total|revenue", "total|wins"]].to_numpy(),
                                  [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert wide["state|won"].tolist() == [1, 2, 2]


def test_read_chunks_of_a_folder_without_chunks_is_none(tmp_path: Path) -> None:
    """A run folder with no chunk yet (only temp files) reads as None, not as an error."""
    folder = RunFolder(tmp_path)
    assert folder.read_chunks() is None
    folder.chunks.mkdir()
    (folder.chunks / ".part-000000-0.parquet.tmp-9").write_bytes(b"x")
    assert folder.read_chunks() is None


# ---------------------------------------------------------------------------- precision
@pytest.mark.parametrize(
    ("spec", "fields"),
    [
        ("revenue=2%", ("revenue", "total", 0.02, True)),
        ("first_touch_compliance=0.01", ("first_touch_compliance", "total", 0.01, False)),
        ("revenue@2026-02=5%", ("revenue", "2026-02", 0.05, True)),
        (" wins=1.5e1 ", ("wins", "total", 15.0, False)),
    ],
)
def test_parse_precision_fields(spec: str, fields: tuple[Any, ...]) -> None:
    """parse_precision reads metric, period (default total), value and relative flag."""
    t = parse_precision(spec)
    assert (t.metric, t.period, t.relative) == (fields[0], fields[1], fields[3])
    assert t.value == pytest.approx(fields[2], rel=1e-15)


@pytest.mark.parametrize("spec", ["revenue", "revenue=", "=2%", "revenue=0", "revenue=0%",
                                  "revenue=-1", "Revenue=2%", "revenue=2%%", "revenue@=2%",
                                  "revenue=2 %"])  # fmt: skip
def test_malformed_precision_names_the_option(spec: str) -> None:
    """A malformed or non-positive precision spec raises ScenarioError naming --precision."""
    with pytest.raises(ScenarioError) as info:
        parse_precision(spec)
    assert [i.path for i in info.value.issues] == ["--precision"]


@pytest.mark.parametrize("spec", ["revenue=1e", "revenue=1.2.3", "revenue=+-"])
def test_non_numeric_precision_value_is_a_scenario_error(spec: str) -> None:
    """A precision value that matches the pattern but is no number raises ScenarioError."""
    with pytest.raises(ScenarioError, match="--precision"):
        parse_precision(spec)


def test_cli_non_numeric_precision_exits_2(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """`sla-sim run --precision revenue=1e` exits 2 with a message naming --precision."""
    code = main(["run", "--precision", "revenue=1e", "--store", str(tmp_path), "--quiet"])
    assert code == 2
    assert "--precision" in capsys.readouterr().err


def test_precision_run_stops_when_target_met(scenario: Scenario, tmp_path: Path) -> None:
    """A run with a reachable target adds replications until its 95% half-width is within it."""
    t = parse_precision("mqls=3%")  # CV of mqls is ~8%: needs ~30 replications, more than 5
    _, folder, res = _run(scenario, RunStore(tmp_path), reps=5, precision=[t], max_reps=400)
    x = res.column("mqls")
    assert 5 < res.replications < 400
    assert t.half_width(x) <= t.allowed(x)
    assert "target met" in _meta(folder)["note"]
    assert _meta(folder)["precision"] == ["mqls@total=3%"]
    np.testing.assert_array_equal(res.replication_ids, np.arange(res.replications))


def test_precision_run_stops_at_max_reps(scenario: Scenario, tmp_path: Path) -> None:
    """An unreachable target stops at max_reps and says it was not met."""
    t = parse_precision("mqls=0.01%")
    _, folder, res = _run(scenario, RunStore(tmp_path), reps=4, precision=[t], max_reps=9)
    x = res.column("mqls")
    assert res.replications == 9
    assert t.half_width(x) > t.allowed(x)
    assert "target NOT met" in _meta(folder)["note"]


def test_precision_on_unknown_metric_fails_before_running(
        scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown precision metric is refused naming --precision; nothing runs or registers."""
    monkeypatch.setattr(runs, "execute", lambda *a, **k: pytest.fail("replications ran"))
    store = RunStore(tmp_path)
    with pytest.raises(ScenarioError, match="--precision"):
        _run(scenario, store, reps=2, precision=[parse_precision("no_such_metric=2%")])
    with pytest.raises(ScenarioError, match="--max-reps"):
        _run(scenario, store, reps=5, max_reps=4)
    assert store.list().empty


def test_precision_on_unknown_period_fails_before_running(scenario: Scenario,
                                                          tmp_path: Path) -> None:
    """A precision period outside the measured window is refused naming --precision, cleanly."""
    store = RunStore(tmp_path)
    with pytest.raises(ScenarioError, match="--precision"):
        _run(scenario, store, reps=2, precision=[parse_precision("revenue@1999-01=5%")])
    assert "running" not in store.list()["status"].tolist()


# ---------------------------------------------------------------------------- memory
def test_stored_run_streams_without_event_logs(scenario: Scenario, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers return no event logs, chunks hold <= FLUSH_EVERY replications, only log 0 kept."""
    logs, sizes = [], []
    real_collect, real_write = runs.collect, RunFolder.write_chunk

    def spy_outcomes(outcomes: Any) -> Any:
        for o in outcomes:
            logs.append(getattr(o, "log", None))
            yield o

    def collect(outcomes: Any, *a: Any, **k: Any) -> Any:
        return real_collect(spy_outcomes(outcomes), *a, **k)

    def write_chunk(self: RunFolder, keys: Any, replications: list[int], *a: Any) -> Path:
        sizes.append(len(replications))
        return real_write(self, keys, replications, *a)

    monkeypatch.setattr(runs, "collect", collect)
    monkeypatch.setattr(RunFolder, "write_chunk", write_chunk)
    _, _, res = _run(scenario, RunStore(tmp_path), reps=REPS)
    assert len(logs) == REPS
    assert all(log is None for log in logs)
    assert sum(sizes) == REPS
    assert max(sizes) <= FLUSH_EVERY
    assert res.event_log is not None
    assert set(res.event_log["replication"]) == {0}


def test_flushed_replications_are_released(scenario: Scenario, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """After each flush at most FLUSH_EVERY replication results are still alive."""
    refs: list[weakref.ref] = []
    alive: list[int] = []
    real_add, real_flush = runs._Sink.add, runs._Sink.flush

    def add(self: Any, r: Any) -> None:
        refs.append(weakref.ref(r))
        real_add(self, r)

    def flush(self: Any) -> None:
        real_flush(self)
        gc.collect()
        alive.append(sum(ref() is not None for ref in refs))

    monkeypatch.setattr(runs._Sink, "add", add)
    monkeypatch.setattr(runs._Sink, "flush", flush)
    _run(scenario, RunStore(tmp_path), reps=2 * FLUSH_EVERY + 5)
    assert len(refs) == 2 * FLUSH_EVERY + 5
    assert max(alive) <= FLUSH_EVERY, alive


# ---------------------------------------------------------------------------- store edge cases
def test_runs_with_out_folders_get_distinct_ids(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs written to different --out folders within one second get different ids."""
    import sla_sim.batch.store as store_mod

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Frozen:
            return cls(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    monkeypatch.setattr(store_mod, "datetime", Frozen)
    store = RunStore(tmp_path / "store")
    a, _ = store.new_run_dir("x", out=tmp_path / "a")
    b, _ = store.new_run_dir("x", out=tmp_path / "b")
    assert a != b


def test_sql_works_in_a_store_whose_path_has_a_quote(scenario: Scenario, tmp_path: Path) -> None:
    """The replications view works when the store folder name contains an apostrophe."""
    store = RunStore(tmp_path / "o'brien")
    _, _, res = _run(scenario, store, reps=2)
    n = store.sql("SELECT count(*) AS n FROM replications").loc[0, "n"]
    assert int(n) == 2 * len(res.keys)


# ---------------------------------------------------------------------------- runs CLI
@pytest.fixture(scope="module")
def two_runs(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, str, str]:  # fmt: skip
    """A store with run A (2 SDRs) and run B (3 SDRs), both complete with the same seed."""
    root = tmp_path_factory.mktemp("cli-store")
    store = RunStore(root)
    a = _run(scenario, store, reps=4)[0]
    b = _run(set_path(scenario, "teams[sdr].reps", 3), store, reps=4)[0]
    return root, a, b


def test_runs_list_shows_both_runs(two_runs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """`sla-sim runs list` prints one line per run with its id, status and replications."""
    root, a, b = two_runs
    assert main(["runs", "--store", str(root), "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:6] == ["id", "status", "scenario_name", "seed", "reps_done",
                                    "reps_requested"]  # fmt: skip
    rows = {ln.split()[0]: ln.split()[1:6] for ln in lines[1:]}
    expected = ["complete", "mid_market", str(SEED), "4", "4"]
    assert rows == {a: expected, b: expected}


def test_runs_list_of_an_empty_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`sla-sim runs list` on an empty store says there are no runs."""
    assert main(["runs", "--store", str(tmp_path), "list"]) == 0
    assert capsys.readouterr().out.startswith("no runs in ")


def test_runs_show_prints_facts_and_headline(two_runs: Any,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """`sla-sim runs show ID` prints run.json (without path) then the headline table."""
    root, a, _ = two_runs
    assert main(["runs", "--store", str(root), "show", a]) == 0
    out = capsys.readouterr().out
    facts, end = json.JSONDecoder().raw_decode(out)
    assert (facts["id"], facts["status"], facts["reps_done"], facts["seed"]) == (
        a, "complete", 4, SEED)
    assert "path" not in facts
    assert "P(breach)" in out[end:]
    assert "Commitment" in out[end:]


def test_runs_compare_prints_paired_differences(two_runs: Any,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`sla-sim runs compare A B` says the runs are paired and prints B - A per metric, in
    human units."""
    import re

    from sla_sim.batch.compare import paired_differences
    from sla_sim.report.units import metric_diff, metric_label

    root, a, b = two_runs
    assert main(["runs", "--store", str(root), "compare", a, b]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{b} - {a} (same seed: paired)"
    store = RunStore(root)
    table = paired_differences(Results.load(store.path_of(a)), Results.load(store.path_of(b)))
    body = "\n".join(lines[1:])
    for row in table.itertuples():  # each metric by its label, B - A in its unit
        line = next(ln for ln in lines if ln.startswith(metric_label(row.metric) + " "))
        assert metric_diff(row.metric, row.diff, "USD") in line, line
    assert not re.search(r"\d[eE][+-]\d", body)


@pytest.mark.parametrize("action", [["show", "nope-123"], ["compare", "A", "nope-123"]])
def test_runs_unknown_id_exits_2_naming_it(two_runs: Any, action: list[str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown run id exits 2 with a message naming the id."""
    root, a, _ = two_runs
    argv = ["runs", "--store", str(root), *[a if x == "A" else x for x in action]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "nope-123" in err
    assert "run id" in err
    assert "Traceback" not in err


def test_runs_compare_refuses_an_incomplete_run(scenario: Scenario, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`runs compare` with an incomplete run exits 2 saying it is not complete."""
    store = RunStore(tmp_path)
    a = _run(scenario, store, reps=2)[0]
    monkeypatch.setattr(runs, "collect", interrupting_collect(1))
    with pytest.raises(KeyboardInterrupt):
        _run(scenario, store, reps=2)
    b = next(i for i in store.list()["id"] if i != a)
    assert main(["runs", "--store", str(tmp_path), "compare", a, b]) == 2
    err = capsys.readouterr().err
    assert "run is interrupted, not complete" in err
    assert b in err
