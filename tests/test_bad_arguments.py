"""Bad arguments every command shares are refused before any work, exit 2, one message naming
the option, the rule and the value: an empty value (it was taken as "not given" and the
default used in silence), an output under a file, a store that is a file, options that
contradict each other or would be ignored."""

from __future__ import annotations

import pytest

from sla_sim.cli.main import main

SMALL = ["--reps", "1", "--workers", "1", "--quiet"]
SWEEP = ["sweep", "--preset", "default", "--param", "teams[sdr].reps=8:9", *SMALL]


@pytest.mark.parametrize(("argv", "needle"), [
    # empty values: the default was used in silence (a run in the store, ./crm_template...)
    (["run", "--preset", "default", "--out", "", *SMALL], "--out: must not be empty"),
    (["run", "--preset", "default", "--store", "", *SMALL], "--store: must not be empty"),
    (["run", "--preset", "default", "--dask", "", *SMALL], "--dask: must not be empty"),
    (["run", "", *SMALL], "scenario: must not be empty"),
    (["crm", "template", "--out", ""], "--out: must not be empty"),
    (["measure", "--sample", "olist", "--map", ""], "--map: must not be empty"),
    (["backtest", "--sample", "olist", "--origins", "2018-03-01:2018-03-01", "--out", " "],
     "--out: must not be empty"),
    # a file where a folder has to be: the work ran, then "Not a directory: .x.tmp-123.csv"
    (["run", "--preset", "default", "--out", "afile/sub", *SMALL],
     "--out: cannot be written: afile is a file, not a folder (got 'afile/sub')"),
    (["compare", "--preset", "default", "--set-b", "teams[sdr].reps=12", "--reps", "2",
      "--workers", "1", "--quiet", "--out", "afile/x.csv"], "--out: cannot be written"),
    ([*SWEEP, "--out", "afile/x.parquet"], "--out: cannot be written"),
    (["init", "--out", "afile/x.yaml"], "--out: cannot be written"),
    (["run", "--preset", "default", "--store", "afile", *SMALL],
     "--store: is a file, not a folder"),
    (["runs", "list", "--store", "afile"], "--store: is a file, not a folder"),  # "no runs"
    (["crm", "template", "--out", "afile", "--force"], "--out: is a file, not a folder"),
    # the wrong kind of output, named by --out (it named a temporary file, after the work)
    (["init", "--out", "a_folder", "--force"], "--out: must end in .yaml, .yml or .json"),
    (["init", "--out", "x.txt"], "--out: must end in .yaml, .yml or .json (the scenario's"
                                 " format) (got 'x.txt')"),
    (["calibrate", "--sample", "olist", "--out", "c.txt"], "--out: must end in .yaml"),
    (["crm", "map", "leads.csv", "--out", "a_folder", "--force"],
     "--out: is a folder, not a file"),
    # contradictions: the later --param replaced the earlier; --resume ignored the rest
    ([*SWEEP, "--param", "teams[sdr].reps=10:11"],
     "--param teams[sdr].reps: is given more than once"),
    (["run", "--resume", "some-id", "--preset", "default", "--reps", "5"],
     "drop --preset, --reps (got 'some-id')"),
    (["marginal", "--lever", "ae.count", "--reps", "0"], "--reps: must be >= 1 (got 0)"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_refused_before_any_work(argv, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLA_SIM_STORE", raising=False)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "leads.csv").write_text("Lead ID,Created\n1,2026-01-02\n")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_folder", "afile", "leads.csv"]
    assert (tmp_path / "afile").read_text() == "x"
    assert not any((tmp_path / "a_folder").iterdir())


def test_store_from_the_environment_that_is_a_file(tmp_path, monkeypatch, capsys):
    """$SLA_SIM_STORE naming a file is refused as such (``runs list`` said "no runs")."""
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("SLA_SIM_STORE", str(tmp_path / "afile"))
    assert main(["runs", "list"]) == 2
    assert "$SLA_SIM_STORE): is a file, not a folder" in capsys.readouterr().err
