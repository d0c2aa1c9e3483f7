"""Bad arguments every command shares are refused before any work, exit 2, one message naming
the option, the rule and the value: an empty value (it was taken as "not given" and the
default used in silence), an output under a file, a store that is a file, options that
contradict each other or would be ignored."""

from __future__ import annotations

import re

import pytest

from sla_sim.cli.main import main

SMALL = ["--reps", "1", "--workers", "1", "--quiet"]
SWEEP = ["sweep", "--preset", "default", "--param", "teams[sdr].reps=8:9", *SMALL]


@pytest.mark.parametrize(("argv", "needle"), [
    # empty values: the default was used in silence (a run in the store, ./crm_template...)
    (["run", "--preset", "default", "--out", "", *SMALL], "--out: must not be empty"),
    (["run", "--preset", "default", "--store", "", *SMALL], "--store: must not be empty"),
    (["run", "--preset", "default", "--dask", "", *SMALL], "--dask: must not be empty"),
    (["run", "--preset", "default", "--dask", "nope", *SMALL],  # distributed's ValueError
     "--dask: must be 'local' or a scheduler address such as tcp://host:8786 (got 'nope')"),
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


@pytest.mark.parametrize(("argv", "env", "needle"), [
    # inf: OverflowError traceback, exit 1
    (["--max-input-mb", "inf"], {}, "--max-input-mb: must be a finite number > 0 (got inf)"),
    ([], {"SLA_SIM_MAX_INPUT_MB": "inf"}, "SLA_SIM_MAX_INPUT_MB: must be a finite number"),
    # a folder was "file not found"
    (["--map", "a_folder"], {}, "--map: is a folder, not a mapping file (got 'a_folder')"),
    (["a_folder"], {}, "export: is a folder, not a file (got 'a_folder')"),
    # malformed YAML: four lines ending "(got None)", headed "invalid scenario mapping"
    (["--map", "bad.yaml"], {}, "invalid mapping bad.yaml: 1 problem\n  - (mapping): not valid"
     " YAML at line 2, column 1: expected the node content, but found '<stream end>' (got"
     " 'bad.yaml')\n"),
    (["--map", "unknown.yaml"], {}, "error: invalid mapping unknown.yaml: 2 problems"),
], ids=["max-input-mb inf", "SLA_SIM_MAX_INPUT_MB inf", "map folder", "export folder",
        "mapping bad yaml", "mapping unknown key"])
def test_bad_crm_inputs(argv, env, needle, tmp_path, monkeypatch, capsys):
    """A bad CRM input or limit is one message naming it, exit 2, before the export is read."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLA_SIM_MAX_INPUT_MB", raising=False)
    assert main(["crm", "template", "--out", "t"]) == 0
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "bad.yaml").write_text("columns: [\n")
    (tmp_path / "unknown.yaml").write_text("columns: {lead_id: x}\nfoo: 1\n")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    if not argv or argv[0].startswith("--max"):
        argv = ["t/leads.csv", "--map", "t/mapping.yaml", *argv]
    elif argv[0] == "--map":
        argv = ["t/leads.csv", *argv]
    else:
        argv = [*argv, "--map", "t/mapping.yaml"]
    assert main(["measure", *argv, "--no-report"]) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err
    assert not (tmp_path / "sla_sim_runs").exists()


@pytest.mark.parametrize("day", ["notadate", "NaT", "2026-01-01T00:00+99:00"])
def test_backtest_train_until_not_a_date(day, tmp_path, monkeypatch, capsys):
    """``backtest --train-until notadate`` was a pandas traceback (exit 1)."""
    monkeypatch.chdir(tmp_path)
    assert main(["crm", "template", "--out", "t"]) == 0
    capsys.readouterr()
    argv = ["backtest", "t/leads.csv", "--map", "t/mapping.yaml", "--train-until", day,
            "--out", "bt", "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"--train-until: must be a date YYYY-MM-DD (got '{day}')" in err
    assert "Traceback" not in err
    assert not (tmp_path / "bt").exists()


@pytest.mark.parametrize(("argv", "needle"), [
    (["run", "--reps", "100000000", "--max-memory-gb", "16"],
     "about 1,073 GB of memory and 30,144 CPU-hours"),  # was 1.07e+03 GB, 3.01e+04 CPU-hours
    (["dashboard", "--max-kernels", "10000", "--max-memory-gb", "16"],
     "would need about 5,407 GB"),  # was 5.41e+03 GB, after "10000 pages at once fit"
])
def test_cost_limit_messages_in_plain_numbers(argv, needle, tmp_path, monkeypatch, capsys):
    """A request over the cost limits is refused in plain numbers (no 1.07e+03), and the
    dashboard never says its pages fit the memory limit just before refusing them."""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert not re.search(r"\d[eE][+-]\d", err), err
    assert "pages at once fit" not in err
    assert not (tmp_path / "sla_sim_runs").exists()


def test_precision_unknown_metric_suggests_names(tmp_path, monkeypatch, capsys):
    """``--precision revenu=2%`` named a Python dict (sla_sim.metrics.METRIC_DOCS); it suggests
    the closest metric names and the page that describes them."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--reps", "1", "--quiet", "--precision", "revenu=2%"]) == 2
    err = capsys.readouterr().err
    assert "--precision: names no metric (did you mean revenue" in err
    assert "docs/metrics.md" in err
    assert "METRIC_DOCS" not in err


@pytest.mark.parametrize(("argv", "needle"), [
    # by name and by index: one field, the later --param replaced the earlier in silence
    ([*SWEEP, "--param", "teams[0].reps=10:11"],
     "--param teams[0].reps: is the same field as --param teams[sdr].reps"),
    # the grid's size named as "got 1" (the replications)
    (["sweep", "--preset", "default", "--param", "teams[sdr].reps=8:100000", "--reps", "1",
      "--max-cpu-hours", "24"], "--param (grid size): the request would need"),
    # the second copy was drafted as an opportunity table "without a join key"
    (["crm", "map", "leads.csv", "./leads.csv", "--out", "m.yaml"],
     "FILE: is given twice: give each table once, the lead table first (got './leads.csv')"),
])
def test_contradictory_requests(argv, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "leads.csv").write_text("Lead ID,Created\n1,2026-01-02\n")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err
    if "grid size" in needle:
        assert "(got 99993)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leads.csv"]


def test_runs_compare_a_run_with_itself(tmp_path, monkeypatch, capsys):
    """``runs compare ID ID`` printed a table of zeros as a comparison."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLA_SIM_STORE", raising=False)
    assert main(["run", "--set", "horizon.measure_months=1", "--set", "horizon.warmup_days=20",
                 "--reps", "1", "--workers", "1", "--quiet", "--no-report"]) == 0
    (rid,) = [p.name for p in (tmp_path / "sla_sim_runs").iterdir() if not p.name.startswith(".")]
    capsys.readouterr()
    assert main(["runs", "compare", rid, rid]) == 2
    assert f"names the same run as A and B: give two different runs (got '{rid}')" in (
        capsys.readouterr().err)


def test_crm_map_of_the_template_pair(tmp_path, monkeypatch, capsys):
    """``crm map leads.csv activities.csv`` on ``crm template``'s own export: the activity table
    (a lead id, no creation date) was taken for the lead table and the command refused,
    advising the swapped order, which then failed too."""
    monkeypatch.chdir(tmp_path)
    assert main(["crm", "template", "--out", "t"]) == 0
    assert main(["crm", "map", "t/leads.csv", "t/activities.csv", "--out", "m.yaml"]) == 0
    text = (tmp_path / "m.yaml").read_text()
    assert "activity_at: Activity Date" in text
    assert main(["measure", "t/leads.csv", "--map", "m.yaml", "--no-report"]) == 0
    assert "give the lead table first" not in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "needle"), [
    (["scenario", "show", "--set", "horizon.measure_start=2026-02-30"],
     "--set horizon.measure_start: Input should be a valid date or datetime"),
    (["run", "--set", "horizon.measure_start=2026-13-01", "--reps", "1", "--quiet"],
     "(got '2026-13-01')"),
    (["measure", "leads.csv", "--map", "dated.yaml"],
     "invalid mapping dated.yaml: 1 problem\n  - (mapping): holds a date that does not exist"
     " (month must be in 1..12)"),
], ids=["--set Feb 30", "--set month 13", "mapping month 13"])
def test_dates_that_do_not_exist(argv, needle, tmp_path, monkeypatch, capsys):
    """A date that does not exist in --set or a mapping was a ValueError traceback (exit 1):
    YAML reads 2026-13-01 as a date and fails in its constructor."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "leads.csv").write_text("Lead ID,Created\n1,2026-01-02\n")
    (tmp_path / "dated.yaml").write_text("columns: {lead_id: Lead ID, created_at: Created}\n"
                                         "exported_at: 2026-13-01\n")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err


def test_funnel_target_bounded_like_recommend(capsys):
    """``funnel --target 1e300`` printed a table of 300-digit numbers (exit 0)."""
    assert main(["funnel", "--target", "1e300"]) == 2
    assert "--target: must be a finite amount per month in 0 .. 1e15" in capsys.readouterr().err
    assert main(["funnel", "--target", "1e15"]) == 0


@pytest.mark.parametrize("argv", [["init", "--out", "st/run1/x.yaml"],
                                  ["crm", "map", "leads.csv", "--out", "st/run1/m.yaml"]],
                         ids=["init", "crm map"])
def test_no_file_written_into_a_run_folder(argv, tmp_path, monkeypatch, capsys):
    """``init`` and ``crm map`` wrote their file beside a run's run.json (every other command
    refuses an --out inside a run's folder)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "leads.csv").write_text("Lead ID,Created\n1,2026-01-02\n")
    run = tmp_path / "st" / "run1"
    run.mkdir(parents=True)
    (run / "run.json").write_text("{}")
    assert main(argv) == 2
    assert "the folder of a run (it holds run.json)" in capsys.readouterr().err
    assert sorted(p.name for p in run.iterdir()) == ["run.json"]


def test_unreachable_scheduler_leaves_no_run_entry(tmp_path, monkeypatch, capsys):
    """`run --dask tcp://host:port` with no scheduler there was refused only after the run's
    store entry was written: `runs list` then showed an incomplete run of 0 replications."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "store"
    code = main(["run", "--preset", "default", "--dask", f"tcp://127.0.0.1:{port}",
                 "--store", str(store), *SMALL])  # fmt: skip
    assert code == 2
    assert "--dask: cannot reach the scheduler" in capsys.readouterr().err
    assert not store.exists() or not any(store.iterdir())


def test_recommend_schema_with_other_options(tmp_path, monkeypatch, capsys):
    """`recommend --schema` printed the schema and ignored the rest in silence (`--preset
    nope --out x` exited 0); alone it still prints the schema."""
    import json

    monkeypatch.chdir(tmp_path)
    assert main(["recommend", "--schema", "--preset", "nope", "--out", "x"]) == 2
    err = capsys.readouterr().err
    assert "--schema: prints the JSON Schema of recommendation.json and nothing else; drop" \
        " --preset, --out" in err
    assert not (tmp_path / "x").exists()
    assert main(["recommend", "--schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "sla-sim recommendation"
