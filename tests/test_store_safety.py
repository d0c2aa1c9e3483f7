"""The run store keeps what is not its own and survives being moved, damaged or filled:

* a copied or moved store lists, shows, queries and resumes its runs from the new place and
  never touches the old one (also with id files of older versions, which held absolute paths);
* a damaged run (truncated replications.parquet, malformed run.json) is skipped and named;
* a seed above 2**53 reads back exactly from ``list()`` and ``sql()``;
* ``--force`` removes only what an earlier run listed as its own; no command writes into
  another run's folder; two processes claiming one run folder: exactly one runs;
* a full disk on any export of ``recommend`` or ``measure`` (injected, and a real small tmpfs
  when the tests run as root) leaves no truncated file under a final name, the run not
  ``complete``, and a message naming the file (exit 1);
* an interrupted ``recommend`` or ``measure`` is listed as interrupted, never ``complete``;
* zero leads or zero MQLs run to the end, report included.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from store_util import interrupting_collect

from sla_sim.batch import files as files_mod
from sla_sim.batch import runs
from sla_sim.batch.keep import new_entry
from sla_sim.batch.runs import stored_run
from sla_sim.batch.store import RunFolder, RunStore
from sla_sim.cli.main import main
from sla_sim.errors import ScenarioError
from sla_sim.scenario.io import save, set_path
from sla_sim.scenario.schema import Scenario
from tests.conftest import make_tiny

ROOT = Path(__file__).resolve().parents[1]
BIG_SEED = 9007199254740993  # 2**53 + 1: a float64 reads it as ...992


def small() -> Scenario:
    """The tiny scenario with a 5-day warm-up, a tenth of the leads and 2 SDRs."""
    sc = make_tiny({"horizon.warmup_days": 5, "teams[sdr].reps": 2})
    for c in sc.channels:
        sc = set_path(sc, f"channels[{c.name}].leads_per_month", c.leads_per_month / 10)
    return sc


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SLA_SIM_STORE"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _meta(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "run.json").read_text())


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``root``: content hash and modification time (ns)."""
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                       p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


def _interrupted(sc: Scenario, store: RunStore, monkeypatch: pytest.MonkeyPatch,
                 reps: int = 6, after: int = 3) -> str:  # fmt: skip
    """The id of a run of ``sc`` interrupted after ``after`` of ``reps`` replications."""
    with monkeypatch.context() as m:
        m.setattr(runs, "collect", interrupting_collect(after))
        with pytest.raises(KeyboardInterrupt) as info:
            stored_run(sc, reps=reps, seed=5, store=store, progress=False)
    return info.value.run_id  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return small()


# ---------------------------------------------------------------------------- a store moves
def _legacy_pointers(store: Path) -> None:
    """Rewrite the id files as older versions wrote them: absolute paths."""
    for f in (store / ".runs").iterdir():
        text = f.read_text().strip()
        if not Path(text).is_absolute():
            f.write_text(str((store / text).resolve()))


@pytest.mark.parametrize("legacy", [False, True], ids=["relative-ids", "old-absolute-ids"])
def test_a_copied_then_moved_store_works_from_its_new_place_only(
        legacy: bool, scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """``cp -r st st2; mv st st_old``: st2 lists, shows, queries and resumes its runs, and
    st_old is never read for them nor written."""
    st = tmp_path / "st"
    done, _, _ = stored_run(scenario, reps=2, seed=3, store=RunStore(st), progress=False)
    broken = _interrupted(scenario, RunStore(st), monkeypatch)
    assert all(not Path(f.read_text()).is_absolute() for f in (st / ".runs").iterdir())
    if legacy:
        _legacy_pointers(st)
    shutil.copytree(st, tmp_path / "st2")
    st.rename(tmp_path / "st_old")
    old = tmp_path / "st_old"
    before = _snapshot(old)
    if legacy:  # the pointers name the old place, which exists again under the old name
        shutil.copytree(old, st)
        before_st = _snapshot(st)

    store = RunStore(tmp_path / "st2")
    listed = store.list().set_index("id")
    assert set(listed.index) == {done, broken}
    assert all(Path(p).parent == store.root for p in listed["path"])
    assert listed.loc[done, "status"] == "complete"
    assert listed.loc[broken, "status"] == "interrupted"
    assert listed.loc[broken, "reps_done"] == 3
    n = store.sql("SELECT count(*) AS n FROM replications")["n"].iloc[0]
    assert n == len(pd.read_parquet(store.root / done / "replications.parquet"))
    assert main(["runs", "--store", str(store.root), "show", done]) == 0
    assert "complete" in capsys.readouterr().out
    _, folder, res = stored_run(resume=broken, store=store, progress=False)
    assert folder == store.root / broken
    assert res.replications == 6
    assert _meta(folder)["status"] == "complete"
    assert _meta(folder)["path"] == str(folder)
    assert _snapshot(old) == before
    if legacy:
        assert _snapshot(st) == before_st


# ---------------------------------------------------------------------------- damaged runs
def test_a_damaged_run_is_skipped_and_named(scenario: Scenario, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A truncated replications.parquet leaves the other runs' rows queryable; a run.json with
    a malformed field, or not JSON, is left out of the listing; each is named."""
    store = RunStore(tmp_path / "st")
    good, _, res = stored_run(scenario, reps=2, seed=1, store=store, progress=False)
    cut, cut_dir, _ = stored_run(scenario, reps=2, seed=2, store=store, progress=False)
    bad_field, bad_dir, _ = stored_run(scenario, reps=2, seed=3, store=store, progress=False)
    not_json, nj_dir, _ = stored_run(scenario, reps=2, seed=4, store=store, progress=False)
    data = (cut_dir / "replications.parquet").read_bytes()
    (cut_dir / "replications.parquet").write_bytes(data[: len(data) // 2])
    meta = _meta(bad_dir)
    meta["reps_requested"] = "twenty"
    (bad_dir / "run.json").write_text(json.dumps(meta))
    (nj_dir / "run.json").write_text('{"id": "')

    with pytest.warns(UserWarning, match=bad_field):
        listed = store.list()
    assert set(listed["id"]) == {good, cut}
    assert dict(store.damaged).keys() == {bad_field, not_json}
    assert "reps_requested" in dict(store.damaged)[bad_field]
    with pytest.warns(UserWarning, match=cut):
        got = store.sql("SELECT run_id, count(*) AS n FROM replications GROUP BY run_id")
    assert got.to_dict("records") == [{"run_id": good, "n": len(res.table)}]
    assert cut in dict(store.damaged)

    assert main(["runs", "--store", str(store.root), "list"]) == 0
    out, err = capsys.readouterr()
    assert good in out
    assert cut in out
    for rid in (bad_field, not_json):
        assert f"skipped damaged run {rid}" in err


def test_a_seed_above_2_53_reads_back_exactly(scenario: Scenario, tmp_path: Path) -> None:
    """With a measured run (seed null) in the store, list() and sql() keep the seed exact."""
    store = RunStore(tmp_path / "st")
    run_id, _, _ = stored_run(scenario, reps=2, seed=BIG_SEED, store=store, progress=False)
    with new_entry(store, "measured-x", scenario, None, 1, "measured", kind="measured"):
        pass
    listed = store.list()
    assert len(listed) == 2
    assert listed.set_index("id").loc[run_id, "seed"] == BIG_SEED
    got = store.sql(f"SELECT seed FROM runs WHERE id = '{run_id}'")["seed"].iloc[0]
    assert int(got) == BIG_SEED
    assert store.sql(f"SELECT seed = {BIG_SEED} AS same FROM runs WHERE id = '{run_id}'"
                     )["same"].iloc[0]  # fmt: skip


# ---------------------------------------------------------------------------- what is not ours
def _charts_report(res: Any, folder: Path) -> None:
    """A quick stand-in for the report writer: a report and a chart."""
    (folder / "report.md").write_text(f"{res.replications} reps\n")
    (folder / "charts").mkdir()
    (folder / "charts" / "a.svg").write_text("<svg/>")


def test_force_keeps_files_no_run_wrote(scenario: Scenario, tmp_path: Path) -> None:
    """``--force`` removes only what an earlier run listed in its run.json: a user's files
    stay, and one where a run writes is refused by name, with nothing removed."""
    store = RunStore(tmp_path / "st")
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    (out / "data" / "x.csv").write_text("a,b\n")
    (out / "chunks").mkdir()
    (out / "chunks" / "mine.csv").write_text("keep me")
    (out / "report.md").write_text("my own report")
    with pytest.raises(ScenarioError, match=r"chunks/mine\.csv") as info:
        stored_run(scenario, reps=2, seed=1, store=store, out=out, progress=False, force=True)
    assert "report.md" in str(info.value)
    assert (out / "chunks" / "mine.csv").read_text() == "keep me"
    assert (out / "report.md").read_text() == "my own report"
    assert not (out / "run.json").exists()

    shutil.rmtree(out / "chunks")
    (out / "report.md").unlink()
    first, _, _ = stored_run(scenario, reps=2, seed=1, store=store, out=out, progress=False,
                             force=True, finish=_charts_report)  # fmt: skip
    listed = set(_meta(out)["files"])
    assert {"scenario.yaml", "replications.parquet", "report.md", "charts/a.svg"} <= listed
    assert "notes.txt" not in listed
    (out / "charts" / "user.png").write_bytes(b"a user's chart")
    with pytest.raises(ScenarioError, match=r"charts/user\.png"):
        stored_run(scenario, reps=2, seed=2, store=store, out=out, progress=False, force=True)
    assert _meta(out)["id"] == first  # refused before anything was removed
    (out / "charts" / "user.png").unlink()
    second, _, _ = stored_run(scenario, reps=2, seed=2, store=store, out=out, progress=False,
                              force=True)  # fmt: skip
    assert second != first
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "data" / "x.csv").read_text() == "a,b\n"
    assert not (out / "charts").exists()  # the first run's chart went with it
    assert not (out / "report.md").exists()


def test_cli_force_refusal_names_the_files_and_keeps_them(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "charts").mkdir(parents=True)
    (out / "charts" / "plan.png").write_bytes(b"png")
    (out / "scenario.yaml").write_text("mine: true\n")
    assert main(["run", "--out", str(out), "--force", "--reps", "1", "--quiet",
                 "--store", str(tmp_path / "st")]) == 2  # fmt: skip
    assert (out / "charts" / "plan.png").read_bytes() == b"png"
    assert (out / "scenario.yaml").read_text() == "mine: true\n"


def test_force_never_removes_or_writes_through_a_planted_link(scenario: Scenario,
                                                               tmp_path: Path) -> None:
    """A run's ``charts/`` (or ``chunks/``) replaced by a symbolic link to another run's
    folder: ``--force`` used to remove the other run's charts through it (its run.json lists
    ``charts/...``). Now the link is refused by name with nothing removed, and a resume
    refuses to write through it; a link in place of a listed file is removed, not its
    target."""
    store = RunStore(tmp_path / "st")
    _, victim, _ = stored_run(scenario, reps=2, seed=1, store=store, out=tmp_path / "victim",
                              progress=False, finish=_charts_report)  # fmt: skip
    out = tmp_path / "mine"
    mine, _, _ = stored_run(scenario, reps=2, seed=1, store=store, out=out, progress=False,
                            finish=_charts_report)  # fmt: skip
    chunks = tmp_path / "another_runs_chunks"  # what a run's chunks/part-*.parquet matches
    chunks.mkdir()
    (chunks / "part-000000.parquet").write_bytes(b"not mine")
    before, chunks_before = _snapshot(victim), _snapshot(chunks)
    assert any(k.startswith("charts/") for k in before)
    for linked, target in (("charts", victim / "charts"), ("chunks", chunks)):
        real = out / f"{linked}.real"
        if (out / linked).exists():
            (out / linked).rename(real)
        (out / linked).symlink_to(target, target_is_directory=True)
        with pytest.raises(ScenarioError, match=rf"{linked} \(a symbolic link\)"):
            stored_run(scenario, reps=2, seed=2, store=store, out=out, progress=False,
                       force=True, finish=_charts_report)  # fmt: skip
        assert _snapshot(victim) == before
        assert _snapshot(chunks) == chunks_before
        assert _meta(out)["id"] == mine  # refused before anything was removed
        (out / linked).unlink()
        if real.exists():
            real.rename(out / linked)
    # the folder of a run to resume, with a planted link: refused, nothing written through it
    meta = _meta(out)
    meta["status"] = "interrupted"
    (out / "run.json").write_text(json.dumps(meta))
    shutil.rmtree(out / "charts")
    (out / "charts").symlink_to(victim / "charts", target_is_directory=True)
    with pytest.raises(ScenarioError, match="symbolic link"):
        stored_run(None, store=store, resume=mine, progress=False, finish=_charts_report)
    assert _snapshot(victim) == before
    # a listed file replaced by a link: the link goes, its target stays
    (out / "charts").unlink()
    (out / "report.md").unlink()
    (out / "report.md").symlink_to(victim / "report.md")
    stored_run(scenario, reps=2, seed=3, store=store, out=out, progress=False, force=True)
    assert _snapshot(victim) == before
    assert not (out / "report.md").is_symlink()


def test_force_removes_no_file_by_a_pattern_a_run_never_lists(scenario: Scenario,
                                                              tmp_path: Path) -> None:
    """A run.json whose ``files`` lists ``*`` or ``**/*`` (edited, or planted by someone who
    could write there) used to make ``--force`` remove every file in the folder, the user's
    too. The only pattern a run lists is its chunks'; any other is ignored."""
    store = RunStore(tmp_path / "st")
    out = tmp_path / "out"
    stored_run(scenario, reps=2, seed=1, store=store, out=out, progress=False)
    (out / "notes.txt").write_text("mine")
    (out / "data").mkdir()
    (out / "data" / "x.csv").write_text("a,b\n")
    meta = _meta(out)
    meta["files"] = [*meta["files"], "*", "**/*", "data/*.csv", "note?.txt", "[n]otes.txt"]
    (out / "run.json").write_text(json.dumps(meta))
    stored_run(scenario, reps=2, seed=2, store=store, out=out, progress=False, force=True)
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "data" / "x.csv").read_text() == "a,b\n"


def test_a_file_is_never_written_through_a_link_at_its_temporary_name(tmp_path: Path) -> None:
    """Every export goes to ``.NAME.tmp-PID.EXT`` first, a name anyone who can write in the
    folder can predict: a link planted there used to be written through (the victim's file
    overwritten). Now it is removed first; a link at the final name is replaced, not
    followed."""
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    out = tmp_path / "out"
    out.mkdir()
    (out / f".report.tmp-{os.getpid()}.md").symlink_to(victim)
    (out / "summary.json").symlink_to(victim)
    files_mod.atomic_write_text(out / "report.md", "new report")
    files_mod.atomic_write_text(out / "summary.json", "{}")
    assert victim.read_text() == "mine"
    assert (out / "report.md").read_text() == "new report"
    assert not (out / "summary.json").is_symlink()
    assert sorted(p.name for p in out.iterdir()) == ["report.md", "summary.json"]


@pytest.fixture(scope="module")
def a_run(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(store, folder) of a complete run, and the scenario file beside it."""
    tmp = tmp_path_factory.mktemp("a_run")
    store = RunStore(tmp / "st")
    _, folder, _ = stored_run(scenario, reps=2, seed=1, store=store, progress=False)
    save(scenario, tmp / "small.yaml")
    return store.root, folder


@pytest.mark.parametrize("argv", [
    ["measure", "EXPORT", "--map", "MAP", "--out", "{run}"],
    ["measure", "EXPORT", "--map", "MAP", "--out", "{run}/sub"],
    ["recommend", "--preset", "default", "--out", "{run}"],
    ["recommend", "--preset", "default", "--out", "{run}/charts"],
    ["run", "--reps", "1", "--out", "{run}/sub", "--force"],
    ["calibrate", "EXPORT", "--map", "MAP", "--out", "{run}/scenario.yaml"],
    ["sweep", "--param", "teams[sdr].reps=2,3", "--out", "{run}/sweep.csv"],
    ["compare", "--set-b", "teams[sdr].reps=3", "--out", "{run}/c.csv"],
], ids=["measure-into", "measure-inside", "recommend-into", "recommend-inside", "run-inside",
        "calibrate-inside", "sweep-inside", "compare-inside"])
def test_no_command_writes_into_another_runs_folder(
        argv: list[str], a_run: tuple[Path, Path], export_files: tuple[Path, Path],
        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """Refused with exit 2 naming --out, before any work, and the run is untouched."""
    store, folder = a_run
    before = _snapshot(folder)
    names = {"{run}": str(folder), "EXPORT": str(export_files[0]), "MAP": str(export_files[1])}
    args = [names.get(a, a).replace("{run}", str(folder)) for a in argv]
    assert main([*args, "--store", str(store)] if args[0] != "calibrate" else args) == 2
    err = capsys.readouterr().err
    assert "--out" in err
    assert "the folder of a run" in err
    assert _snapshot(folder) == before


# ---------------------------------------------------------------------------- one at a time
def test_a_claimed_run_folder_refuses_a_second_claim(scenario: Scenario, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store = RunStore(tmp_path / "st")
    rid = _interrupted(scenario, store, monkeypatch)
    with RunFolder(store.path_of(rid)).claim():
        with pytest.raises(ScenarioError, match="in use by another sla-sim process"):
            stored_run(resume=rid, store=store, progress=False)
        with pytest.raises(ScenarioError, match="in use"):
            stored_run(scenario, reps=2, store=store, out=store.path_of(rid), force=True,
                       progress=False)  # fmt: skip
    assert _meta(store.path_of(rid))["status"] == "interrupted"
    _, _, res = stored_run(resume=rid, store=store, progress=False)
    assert res.replications == 6


def _race(cmds: list[list[str]], cwd: Path) -> list[tuple[int, str]]:
    procs = [subprocess.Popen([sys.executable, "-m", "sla_sim", *c], cwd=cwd, env=_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for c in cmds]  # fmt: skip
    return [(p.wait(timeout=240), p.stderr.read() if p.stderr else "") for p in procs]


def test_two_resumes_and_two_runs_into_one_out_at_once(scenario: Scenario, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Started in the same instant: two ``run --resume ID`` and two ``run --out SAME``. Of
    each pair one runs to the end, the other exits 2 at once with a clear message."""
    store = RunStore(tmp_path / "st")
    rid = _interrupted(scenario, store, monkeypatch, reps=60)
    save(scenario, tmp_path / "small.yaml")
    resume = ["run", "--resume", rid, "--store", str(store.root), "--quiet", "--no-report",
              "--workers", "1"]  # fmt: skip
    into = ["run", "small.yaml", "--reps", "6", "--out", "same", "--store", "st", "--quiet",
            "--no-report", "--workers", "1"]  # fmt: skip
    got = _race([resume, resume, into, into], tmp_path)
    resumed, ran = sorted(got[:2]), sorted(got[2:])
    assert [code for code, _ in resumed] == [0, 2], resumed
    assert "in use by another sla-sim process" in resumed[1][1]
    assert _meta(store.path_of(rid))["status"] == "complete"
    assert [code for code, _ in ran] == [0, 2], ran
    assert "in use" in ran[1][1] or "not empty" in ran[1][1]
    assert _meta(tmp_path / "same")["status"] == "complete"
    assert len(store.list()) == 2


# ---------------------------------------------------------------------------- full disk
def _full_on(monkeypatch: pytest.MonkeyPatch, rel: str, root_of: dict[str, Path]) -> None:
    """ENOSPC (after half the file was written) when ``rel`` (a path relative to the run
    folder, ``run.json`` meaning its ``complete`` version) is about to be renamed into place."""
    real = files_mod._sync

    def full(tmp: Path, final: Path) -> None:
        folder = root_of.get("folder")
        hit = folder is not None and final == folder / rel
        if hit and rel == "run.json":
            hit = json.loads(tmp.read_text()).get("status") == "complete"
        if hit:
            data = tmp.read_bytes()
            tmp.write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(tmp, final)

    monkeypatch.setattr(files_mod, "_sync", full)


def _watch_folder(monkeypatch: pytest.MonkeyPatch, store: RunStore) -> dict[str, Path]:
    """Records the folder of the next new store entry."""
    seen: dict[str, Path] = {}
    real = RunStore.new_run_dir

    def new_run_dir(self: RunStore, name: str, out: Any = None) -> tuple[str, Path]:
        rid, path = real(self, name, out)
        seen["folder"] = path
        return rid, path

    monkeypatch.setattr(RunStore, "new_run_dir", new_run_dir)
    return seen


def _not_truncated(folder: Path, failed: str) -> None:
    """The failed file is not under its final name, no temporary file is left, and the entry
    is listed, not complete, with a note naming the file."""
    assert not (folder / failed).exists() or failed == "run.json"
    assert not [p for p in folder.rglob("*") if ".tmp-" in p.name or ".staging-" in str(p)]
    meta = _meta(folder)
    assert meta["status"] != "complete"
    assert failed.split("/")[-1] in meta["note"]


@pytest.fixture(scope="module")
def rec() -> Any:
    """A cheap recommendation of the small scenario (no tornado)."""
    from sla_sim.recommend.engine import recommend

    return recommend(small(), revenue_target=60_000, confidence=0.8, reps=6, seed=11,
                     progress=False, tornado=False, min_reps=4)  # fmt: skip


@pytest.mark.parametrize("name", ["recommendation.json", "recommendation.csv",
                                  "recommended.yaml", "charts/menu.png", "sla.html",
                                  "scenario.yaml", "run.json"])
def test_disk_full_on_a_recommend_export(name: str, rec: Any, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from sla_sim.recommend import exports

    store = RunStore(tmp_path / "st")
    seen = _watch_folder(monkeypatch, store)
    _full_on(monkeypatch, name, seen)
    with pytest.raises(OSError, match="No space left") as info:
        exports.keep(rec, store)
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == str(seen["folder"] / name)
    _not_truncated(seen["folder"], name)
    monkeypatch.undo()
    (row,) = store.list().to_dict("records")
    assert row["status"] == "incomplete"


@pytest.fixture(scope="module")
def export_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(leads file, mapping file) of a CRM export of one simulated month of ``small()``."""
    from sla_sim.crm.export import log_to_export, write_export
    from sla_sim.horizon import horizon_hours
    from sla_sim.model.funnel import FunnelModel
    from sla_sim.streams import Streams, replication_seed

    sc = small()
    log = FunnelModel(sc, Streams(replication_seed(7, 0))).run()
    origin, _, end_h = horizon_hours(sc)
    leads, _, mapping = write_export(log_to_export(log, origin, end_h, sc.horizon.timezone),
                                     tmp_path_factory.mktemp("export"), "csv")  # fmt: skip
    return leads, mapping


@pytest.mark.parametrize("name", ["summary.json", "breakdown.csv", "export.json",
                                  "report.html"])
def test_disk_full_on_a_measure_export(name: str, export_files: tuple[Path, Path],
                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Through the command: exit 1, the message names the file, the run is not complete."""
    store = RunStore(tmp_path / "st")
    seen = _watch_folder(monkeypatch, store)
    _full_on(monkeypatch, name, seen)
    leads, mapping = export_files
    code = main(["measure", str(leads), "--map", str(mapping), "--store", str(store.root)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "No space left on device" in err
    assert str(seen["folder"] / name) in err
    _not_truncated(seen["folder"], name)


def test_interrupted_recommend_and_measure_are_listed_not_complete(
        rec: Any, export_files: tuple[Path, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """SIGTERM (turned into KeyboardInterrupt) while the exports or the report are written:
    the entry is listed as interrupted, never complete."""
    from sla_sim.recommend import charts as rec_charts
    from sla_sim.recommend import exports
    from sla_sim.report import charts as report_charts

    def stop(*_: Any, **__: Any) -> None:
        raise KeyboardInterrupt

    store = RunStore(tmp_path / "st")
    monkeypatch.setattr(rec_charts, "save_charts", stop)
    with pytest.raises(KeyboardInterrupt):
        exports.keep(rec, store)
    monkeypatch.setattr(report_charts, "save_chart", stop)
    leads, mapping = export_files
    assert main(["measure", str(leads), "--map", str(mapping), "--store", str(store.root)]) == 130
    listed = store.list()
    assert sorted(listed["status"]) == ["interrupted", "interrupted"]
    for p in listed["path"]:
        assert not (Path(p) / "report.html").exists()
        assert not (Path(p) / "sla.html").exists()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to see the workers start")
def test_sigterm_stops_a_sweep_at_once(tmp_path: Path) -> None:
    """SIGTERM while a sweep's workers compute: exit 130 within 3 s (it took 5.7 s when the
    workers, which inherit the parent's SIGTERM handler, went on to their next chunk)."""
    import signal
    import time

    from proc_util import descendants

    # 9 points x 80 replications: several seconds of work even on the fast engine (0.02-0.4 s a
    # replication), so the signal lands while the workers compute, not after the sweep is done
    save(make_tiny(), tmp_path / "tiny.yaml")
    p = subprocess.Popen([sys.executable, "-m", "sla_sim", "sweep", "tiny.yaml", "--param",
                          "teams[sdr].reps=6:14", "--reps", "80", "--workers", "2", "--quiet",
                          "--store", "st"], cwd=tmp_path, env=_env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(descendants(p.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # the workers are inside their first chunks
        assert p.poll() is None
        t = time.monotonic()
        p.send_signal(signal.SIGTERM)
        code = p.wait(timeout=30)
        took = time.monotonic() - t
    finally:
        if p.poll() is None:
            p.kill()
    assert code == 130, p.stderr.read() if p.stderr else ""
    assert took < 3.0, took


def _tmpfs(where: Path, size: str = "12m") -> bool:
    where.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                               str(where)], capture_output=True, timeout=30)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root (CI is root)")
def test_a_real_full_disk_during_measure(export_files: tuple[Path, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A store on a nearly full tmpfs: ``measure`` exits 1 naming a file, every file under a
    final name is whole (JSON parses, Parquet reads, PNG ends with IEND, HTML/SVG close),
    and the run is not complete."""
    import pyarrow.parquet as pq

    disk = tmp_path / "disk"
    if not _tmpfs(disk):
        pytest.skip("mount -t tmpfs is not permitted here")
    try:
        leads, mapping = export_files
        filler = disk / "filler"
        stat = os.statvfs(disk)
        free = stat.f_bavail * stat.f_frsize
        filler.write_bytes(b"\0" * (free - 150_000))
        code = main(["measure", str(leads), "--map", str(mapping), "--store", str(disk / "st")])
        err = capsys.readouterr().err
        assert code == 1, err
        assert "No space left on device: " + str(disk / "st") in err
        (folder,) = [p for p in (disk / "st").iterdir() if p.name != ".runs"]
        meta = _meta(folder)
        assert meta["status"] != "complete"
        for f in folder.rglob("*"):
            if not f.is_file():
                continue
            assert ".tmp-" not in f.name
            data = f.read_bytes()
            if f.suffix == ".json":
                json.loads(data)
            elif f.suffix == ".parquet":
                pq.read_metadata(f)
            elif f.suffix == ".png":
                assert data.endswith(b"IEND\xaeB`\x82"), f
            elif f.suffix in (".svg", ".html"):
                assert data.rstrip().endswith((b"</svg>", b"</html>")), f
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True, timeout=30)


# ---------------------------------------------------------------------------- no data
def _no_leads(sc: Scenario) -> Scenario:
    for c in sc.channels:
        sc = set_path(sc, f"channels[{c.name}].leads_per_month", 0)
    return sc


def test_a_run_without_leads_completes_with_its_report(tmp_path: Path) -> None:
    """Clauses with no MQL are undefined (no value), not a crash: the run and its report
    (charts drawn) complete."""
    from sla_sim.report.document import write_report

    _, folder, res = stored_run(_no_leads(small()), reps=2, seed=1, store=RunStore(tmp_path),
                                progress=False, finish=write_report)  # fmt: skip
    assert _meta(folder)["status"] == "complete"
    assert (folder / "report.html").read_text().rstrip().endswith("</html>")
    assert (folder / "charts" / "compliance_distribution.png").is_file()
    assert res.column("leads_created").tolist() == [0, 0]
    assert pd.isna(res.column("first_touch_compliance")).all()


def test_a_run_without_mqls_completes_and_every_chart_builds(tmp_path: Path) -> None:
    """Leads but no MQL (threshold 100, no nurture lift): the run completes and every chart
    of its report is built (the compliance chart used to fail on the empty table)."""
    from sla_sim.report.document import _charts

    sc = set_path(set_path(small(), "mql_threshold_points", 100), "nurture.engage_probability",
                  0)  # fmt: skip
    _, folder, res = stored_run(sc, reps=2, seed=1, store=RunStore(tmp_path), progress=False)
    assert _meta(folder)["status"] == "complete"
    assert res.column("leads_created").min() > 0
    assert res.column("mqls").tolist() == [0, 0]
    assert pd.isna(res.column("first_touch_compliance")).all()
    for name, _, build in _charts(res):
        assert build().to_dict()["$schema"], name


@pytest.mark.parametrize("argv", [
    ["compare", "{sc}", "--set-b", "teams[0].reps=3", "--reps", "2", "--out", "{out}/c.csv"],
    ["sweep", "{sc}", "--param", "teams[0].reps=2,3", "--reps", "1", "--out", "{out}/s.csv"],
    ["sweep", "{sc}", "--param", "teams[0].reps=2,3", "--reps", "1", "--out",
     "{out}/s.parquet"],
    ["recommend", "{sc}", "--reps", "2", "--no-sensitivity", "--out", "{out}"],
], ids=["compare-csv", "sweep-csv", "sweep-parquet", "recommend-folder"])
def test_out_of_compare_sweep_recommend_is_not_overwritten_without_force(
        argv: list[str], scenario: Scenario, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """An existing ``--out`` file (a non-empty folder for recommend) is refused before any
    work without ``--force``, and kept as it was (these three used to write over it)."""
    out = tmp_path / "out"
    out.mkdir()
    for name in ("c.csv", "s.csv", "s.parquet", "recommendation.csv"):
        (out / name).write_text("a user's file\n")
    sc = save(scenario, tmp_path / "sc.yaml")
    args = [a.format(sc=sc, out=out) for a in argv]
    before = _snapshot(out)
    assert main([*args, "--workers", "1", "--quiet", "--store", str(tmp_path / "st")]) == 2
    err = capsys.readouterr().err
    assert "--force" in err, err
    assert _snapshot(out) == before
    assert not (tmp_path / "st").exists()  # refused before anything ran


def test_force_overwrites_the_out_file_of_sweep(scenario: Scenario, tmp_path: Path) -> None:
    sc = save(scenario, tmp_path / "sc.yaml")
    out = tmp_path / "s.csv"
    out.write_text("old\n")
    assert main(["sweep", str(sc), "--param", "teams[0].reps=2,3", "--reps", "1", "--workers",
                 "1", "--quiet", "--out", str(out), "--force",
                 "--store", str(tmp_path / "st")]) == 0  # fmt: skip
    assert out.read_text().startswith("point,")


def test_recommend_never_writes_its_exports_through_a_planted_link(
        scenario: Scenario, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """``recommend --out DIR --force`` with ``DIR/charts`` a link to another folder: refused,
    naming the link, and nothing is written there or in DIR."""
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    (out / "charts").symlink_to(elsewhere, target_is_directory=True)
    sc = save(scenario, tmp_path / "sc.yaml")
    assert main(["recommend", str(sc), "--reps", "2", "--no-sensitivity", "--workers", "1",
                 "--quiet", "--out", str(out), "--force",
                 "--store", str(tmp_path / "st")]) == 2  # fmt: skip
    assert "charts is a symbolic link" in capsys.readouterr().err
    assert [p.name for p in elsewhere.iterdir()] == ["keep.txt"]
    assert [p.name for p in out.iterdir()] == ["charts"]


def test_a_rolling_backtest_never_writes_through_a_planted_link(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """``backtest --origins ... --out DIR --force`` writes each origin's calibration to
    ``DIR/ORIGIN/``; with ``DIR/2026-01-01`` a link to another folder it used to write over
    that folder's ``calibrated.yaml``. Now it is refused by name before the export is read."""
    assert main(["crm", "template", "--out", str(tmp_path / "t"), "--force"]) == 0
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (elsewhere / "calibrated.yaml").write_text("mine\n")
    (out / "2026-01-01").symlink_to(elsewhere, target_is_directory=True)
    capsys.readouterr()
    assert main(["backtest", str(tmp_path / "t" / "leads.csv"), "--map",
                 str(tmp_path / "t" / "mapping.yaml"), "--origins", "2026-01-01:2026-01-01",
                 "--reps", "2", "--out", str(out), "--force", "--quiet"]) == 2  # fmt: skip
    assert "2026-01-01 is a symbolic link" in capsys.readouterr().err
    assert (elsewhere / "calibrated.yaml").read_text() == "mine\n"
    assert [p.name for p in out.iterdir()] == ["2026-01-01"]


@pytest.mark.parametrize("command", ["init", "crm map", "crm template"])
def test_small_writers_replace_a_link_never_write_through_it(
        command: str, tmp_path: Path) -> None:  # fmt: skip
    """``init --out``, ``crm map --out`` and ``crm template --out`` wrote their files by
    opening the final name, so a symbolic link there (even a dangling one, which ``exists()``
    does not see) was written through, into its target. Now every file is renamed into place:
    the link is replaced (with --force) or refused (without), its target never touched."""
    victim = tmp_path / "victim.yaml"
    victim.write_text("mine\n")
    dangling = tmp_path / "nowhere" / "created.yaml"
    (tmp_path / "nowhere").mkdir()
    assert main(["crm", "template", "--out", str(tmp_path / "t"), "--force"]) == 0
    leads = str(tmp_path / "t" / "leads.csv")
    if command == "crm template":
        out = tmp_path / "tpl"
        out.mkdir()
        (out / "mapping.yaml").symlink_to(victim)
        argv = ["crm", "template", "--out", str(out), "--force"]
        written = out / "mapping.yaml"
    else:
        written = tmp_path / "out.yaml"
        written.symlink_to(victim)
        argv = (["init", "--out", str(written), "--force"] if command == "init" else
                ["crm", "map", leads, "--out", str(written), "--force"])  # fmt: skip
    assert main(argv) == 0
    assert victim.read_text() == "mine\n"
    assert not written.is_symlink()
    if command != "crm template":  # a dangling link is refused without --force
        written.unlink()
        written.symlink_to(dangling)
        assert main(argv[:-1]) == 2
        assert not dangling.exists()
