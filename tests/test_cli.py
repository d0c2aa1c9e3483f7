"""End-to-end tests of the ``sla-sim`` command: outputs, exit codes and error messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sla_sim.cli.main import main


def _small_scenario(path: Path) -> Path:
    """Write the default preset shortened to a 30-day warm-up and one measured month."""
    assert main(["init", "--out", str(path)]) == 0
    data = yaml.safe_load(path.read_text())
    data["horizon"]["warmup_days"] = 30
    data["horizon"]["measure_months"] = 1
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_run_writes_results_folder_and_prints_headline(tmp_path, capsys):
    """`sla-sim run FILE --reps N --out DIR` writes every output and prints the headline table."""
    sc = _small_scenario(tmp_path / "s.yaml")
    out = tmp_path / "out"
    capsys.readouterr()
    code = main(["run", str(sc), "--reps", "2", "--seed", "3", "--out", str(out), "--quiet",
                 "--workers", "1"])  # fmt: skip
    assert code == 0
    for name in ("summary.json", "replications.parquet", "events.parquet", "scenario.yaml",
                 "lead_states.parquet", "report.md", "report.html"):  # fmt: skip
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["meta"]["replications"] == 2
    assert summary["meta"]["seed"] == 3
    revenue = summary["periods"]["total"]["revenue"]
    assert revenue["p10"] <= revenue["p50"] <= revenue["p90"]
    printed = capsys.readouterr().out
    assert "results:" in printed
    assert str(out) in printed


def test_run_refuses_non_empty_out_without_force(tmp_path, capsys):
    """An existing non-empty --out folder is refused with exit 2 unless --force is given."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert main(["run", "--reps", "1", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--out" in err
    assert (out / "keep.txt").read_text() == "x"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["run", "--reps", "0"], "--reps"),
        (["run", "--seed", "-1"], "--seed"),
        (["run", "--workers", "0"], "--workers"),
        (["run", "--preset", "nope"], "preset"),
        (["run", "does_not_exist.yaml"], "does_not_exist.yaml"),
        (["init", "--preset", "nope", "--out", "x.yaml"], "preset"),
    ],
)
def test_bad_requests_exit_2_naming_the_field(argv, needle, capsys, tmp_path, monkeypatch):
    """Invalid options exit with code 2 and a one-paragraph message naming the option."""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err


def test_validate_lists_every_problem(tmp_path, capsys):
    """`sla-sim validate` on a broken file lists each problem with its field path and value."""
    sc = _small_scenario(tmp_path / "s.yaml")
    data = yaml.safe_load(sc.read_text())
    data["channels"][0]["win_rate"] = 1.5
    data["teams"][0]["repz"] = 3
    data["sla"]["attempts_required"] = 0
    sc.write_text(yaml.safe_dump(data))
    assert main(["validate", str(sc)]) == 2
    err = capsys.readouterr().err
    assert "3 problems" in err
    assert "channels[0].win_rate" in err
    assert "1.5" in err
    assert "teams[0].repz" in err
    assert "sla.attempts_required" in err


def test_validate_ok_and_malformed_yaml(tmp_path, capsys):
    """A valid file prints ok; a file that is not YAML is a clear error, not a parser trace."""
    sc = _small_scenario(tmp_path / "s.yaml")
    capsys.readouterr()
    assert main(["validate", str(sc)]) == 0
    assert capsys.readouterr().out.startswith("ok:")
    bad = tmp_path / "bad.yaml"
    bad.write_text("channels: [\n  - name: x\n   oops")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "file: must be valid yaml" in err


def test_schema_is_json_schema_of_scenario(capsys):
    """`sla-sim schema` prints a JSON Schema whose properties are the scenario's fields."""
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"channels", "teams", "sla", "horizon"} <= set(schema["properties"])


def test_presets_and_init_round_trip(tmp_path, capsys):
    """Every listed preset can be written by `init`, validates, and `init` will not overwrite."""
    assert main(["presets"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert {"default", "mid_market", "smb_inbound", "enterprise"} <= set(names)
    for name in names:
        out = tmp_path / f"{name}.yaml"
        assert main(["init", "--preset", name, "--out", str(out)]) == 0
        assert main(["validate", str(out)]) == 0
    assert main(["init", "--preset", "default", "--out", str(tmp_path / "default.yaml")]) == 2


def test_console_entry_point_runs_as_module():
    """`python -m sla_sim --version` runs and exits 0; no command prints help and exits 2."""
    ok = subprocess.run([sys.executable, "-m", "sla_sim", "--version"], capture_output=True,
                        text=True, check=False)  # fmt: skip
    assert ok.returncode == 0
    assert "sla-sim" in ok.stdout
    bare = subprocess.run([sys.executable, "-m", "sla_sim"], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert bare.returncode == 2
    assert "usage" in bare.stderr


def test_funnel_prints_forward_and_reverse(capsys):
    """`sla-sim funnel --target X` prints expected volumes and the volumes X needs."""
    assert main(["funnel", "--target", "1000000"]) == 0
    out = capsys.readouterr().out
    assert "Needed per month for revenue 1,000,000 USD" in out
    assert out.count("total") == 2


def test_funnel_tables_are_in_human_units(capsys):
    """The funnel's tables print money and volumes as every console table does (docs/cli.md:
    ``USD 6.99M``, ``1,234``); revenue was ``1,109,798.5`` and a lead volume ``2,200.0``."""
    assert main(["funnel", "--target", "3000000"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()
            if line.strip().startswith(("inbound", "total"))}  # the last of each: reverse
    assert rows["inbound"][-2:] == ["USD", "1.37M"]
    assert rows["total"][1] == "1.23x"  # scale_vs_scenario
    assert rows["total"][2] == "7,383"  # leads a month
    assert rows["total"][-2:] == ["USD", "3.00M"]
