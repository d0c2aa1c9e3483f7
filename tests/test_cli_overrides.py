"""The command line without friction: ``--set PATH=VALUE``, ``--preset``, ``compare --set-b``,
``base:`` in scenario files, ``compare``/``sweep`` keeping their results in the store, human
units and named periods in the console, ``scenario diff`` and complete ``--help`` texts.

Commands run as a user runs them: ``python -m sla_sim ...`` in a subprocess (the store is the
test's own, from ``$SLA_SIM_STORE`` set by conftest). Simulations use the default preset cut to
a 20-day warm-up and one measured month (``TINY`` below), about half a second a replication.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sla_sim.batch.results import scenario_hash
from sla_sim.scenario.io import diff, load, set_path, validate
from sla_sim.scenario.presets import preset

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--set", "horizon.warmup_days=20", "--set", "horizon.measure_months=1"]
SCI = re.compile(r"\d[eE][+-]\d")  # 6.988e+06: never in console output


def sla_sim(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sla_sim ARGV`` and return the finished process (text output)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "sla_sim", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def tiny(**fields: object) -> object:
    """The default preset with the TINY horizon and the given path=value fields."""
    sc = preset("default")
    for path, value in {"horizon.warmup_days": 20, "horizon.measure_months": 1,
                        **fields}.items():  # fmt: skip
        sc = set_path(sc, path, value)
    return sc


def shown(*argv: str) -> object:
    """The scenario ``sla-sim scenario show ARGV`` prints, validated."""
    proc = sla_sim("scenario", "show", *argv)
    assert proc.returncode == 0, proc.stderr
    return validate(yaml.safe_load(proc.stdout))


# ---------------------------------------------------------------------------------- --set
def test_set_changes_exactly_that_field_and_the_hash() -> None:
    """--set on a good path changes that field and nothing else; the scenario hash changes."""
    base = preset("default")
    changed = shown("--preset", "default", "--set", "teams[sdr].reps=12")
    assert diff(base, changed) == [("teams[sdr].reps", 10, 12)]
    assert scenario_hash(changed) != scenario_hash(base)
    # repeatable, applied in order; YAML values: numbers, lists
    twice = shown("--set", "sla.first_touch_within_business_hours=1", "--set",
                  "follow_up.cadence_days=[0, 2, 5]", "--set",
                  "sla.first_touch_within_business_hours=2")  # fmt: skip
    assert diff(base, twice) == [
        ("follow_up.cadence_days", [0.0, 1.0, 3.0, 6.0, 10.0], [0.0, 2.0, 5.0]),
        ("sla.first_touch_within_business_hours", 4.0, 2.0),
    ]


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["run", "--set", "teams[sdr].repz=12"], ["teams[sdr].repz", "not a scenario field"]),
        (["run", "--set", "teams[nobody].reps=12"], ["teams[nobody].reps", "names no item",
                                                   "items: sdr", "'nobody'"]),
        (["run", "--set", "teams[sdr].reps=-3"], ["teams[sdr].reps", "-3"]),
        (["run", "--set", "teams[sdr].reps"], ["--set", "PATH=VALUE"]),
        (["sweep", "--set", "sla.nope=1", "--param", "teams[sdr].reps=9,10"], ["sla.nope"]),
        (["compare", "--set", "ae.cnt=3", "--set-b", "ae.count=9"], ["ae.cnt"]),
        (["compare", "--set-b", "ae.cnt=3"], ["--set-b", "ae.cnt"]),
        (["scenario", "show", "--set", "channels[tv].leads_per_month=5"],
         ["channels[tv].leads_per_month"]),
    ],
)
def test_set_on_a_bad_path_exits_2_naming_it(argv: list[str], needles: list[str],
                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A bad path, item, value or syntax exits 2 before anything runs, naming the path (the
    console script's own entry point, in this process: one subprocess per case is slow)."""
    from sla_sim.cli.main import main

    monkeypatch.chdir(tmp_path)
    store = tmp_path.parent / f"{tmp_path.name}-store"
    extra = [] if argv[0] == "scenario" else ["--reps", "2", "--store", str(store)]
    assert main([*argv, *extra]) == 2
    err = capsys.readouterr().err
    for needle in needles:
        assert needle in err, (needle, err)
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing written
    assert not store.exists() or not any(store.glob("*/run.json"))


def test_run_with_set_runs_the_changed_scenario(tmp_path: Path) -> None:
    """`run --preset default --set ...` simulates exactly the overridden scenario."""
    out = tmp_path / "out"
    proc = sla_sim("run", "--preset", "default", *TINY, "--set", "teams[sdr].reps=12",
                   "--reps", "2", "--workers", "1", "--quiet", "--no-report", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    ran = load(out / "scenario.yaml")
    assert diff(tiny(), ran) == [("teams[sdr].reps", 10, 12)]
    meta = json.loads((out / "run.json").read_text())
    assert meta["scenario_hash"] == scenario_hash(tiny(**{"teams[sdr].reps": 12}))


# ------------------------------------------------------------------------------- base: NAME
def test_scenario_file_names_a_base_preset(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """`base: default` plus only what differs: lists of named items merge by name."""
    f = tmp_path / "twelve.yaml"
    f.write_text("base: default\nname: twelve_sdrs\nteams:\n  - name: sdr\n    reps: 12\n"
                 "sla:\n  first_touch_within_business_hours: 1\n")  # fmt: skip
    sc = load(f)
    assert diff(preset("default"), sc) == [
        ("name", "mid_market", "twelve_sdrs"),
        ("teams[sdr].reps", 10, 12),
        ("sla.first_touch_within_business_hours", 4.0, 1.0),
    ]
    assert shown(str(f), "--set", "ae.count=9").ae.count == 9
    from sla_sim.cli.main import main

    assert main(["validate", str(f)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: gigantic\nteams:\n  - name: sdr\n    reps: 12\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "base" in err
    assert "gigantic" in err


# ------------------------------------------------------------------------------ compare
def test_compare_default_against_default_with_more_sdrs(tmp_path: Path) -> None:
    """The compare one-liner: B defaults to A, --set-b changes B only; both runs are
    kept in the store; the table is in human units."""
    store = tmp_path / "store"
    proc = sla_sim("compare", "--preset", "default", *TINY, "--set-b", "teams[sdr].reps=12",
                   "--reps", "3", "--workers", "1", "--quiet", "--store", str(store))
    assert proc.returncode == 0, proc.stderr
    assert "USD" in proc.stdout
    assert " %" in proc.stdout
    assert not SCI.search(proc.stdout), proc.stdout
    assert "month 2026-01" in proc.stdout  # the period the table covers
    runs = sla_sim("runs", "--store", str(store), "list")
    assert runs.returncode == 0, runs.stderr
    folders = sorted(p for p in store.iterdir() if (p / "run.json").is_file())
    assert len(folders) == 2, folders
    a, b = (load(p / "scenario.yaml") for p in folders)
    pair = {scenario_hash(a), scenario_hash(b)}
    assert pair == {scenario_hash(tiny()), scenario_hash(tiny(**{"teams[sdr].reps": 12}))}
    for p in folders:
        assert json.loads((p / "run.json").read_text())["status"] == "complete"
        assert (p / "summary.json").is_file()
    assert any((p / "comparison.csv").is_file() for p in folders)


def test_compare_refuses_b_identical_to_a(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a B file or --set-b, B is A: nothing to compare, exit 2 saying how."""
    from sla_sim.cli.main import main

    assert main(["compare", "--preset", "default", "--reps", "2"]) == 2
    assert "--set-b" in capsys.readouterr().err


# -------------------------------------------------------------------------------- sweep
def test_sweep_keeps_its_table_in_the_store(tmp_path: Path) -> None:
    """Without --out the sweep table goes into a store folder, not the working folder."""
    store = tmp_path / "store"
    work = tmp_path / "work"
    work.mkdir()
    proc = sla_sim("sweep", "--preset", "default", *TINY, "--param", "teams[sdr].reps=9,11",
                   "--reps", "1", "--workers", "1", "--quiet", "--store", str(store), cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert list(work.iterdir()) == []
    tables = list(store.glob("*/sweep.parquet"))
    assert len(tables) == 1
    table = pd.read_parquet(tables[0])
    assert sorted(table["teams[sdr].reps"].unique()) == [9, 11]
    assert load(tables[0].parent / "scenario.yaml").horizon.measure_months == 1
    assert str(tables[0]) in proc.stdout
    assert not SCI.search(proc.stdout), proc.stdout
    assert "sweep" in sla_sim("runs", "--store", str(store), "list").stdout


# ------------------------------------------------------------------------- console units
def test_run_headline_names_its_period_and_shows_months(tmp_path: Path) -> None:
    """Headline in human units, naming the months it covers; a P(breach) per month view."""
    proc = sla_sim("run", "--preset", "default", "--set", "horizon.warmup_days=20",
                   "--set", "horizon.measure_months=2", "--reps", "2", "--workers", "1",
                   "--quiet", "--no-report", "--out", str(tmp_path / "o"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "2 months 2026-01..02" in out
    assert "P(breach) by month" in out
    assert "2026-01" in out
    assert "2026-02" in out
    assert re.search(r"USD \d+(\.\d+)?[kM]", out), out
    assert not SCI.search(out), out


# --------------------------------------------------------------------------- scenario diff
def test_scenario_diff_lists_fields_in_paths_and_units(tmp_path: Path) -> None:
    """`scenario diff A B`: one line per differing field, path, both values with units."""
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("base: default\n")
    b.write_text("base: default\nteams:\n  - name: sdr\n    reps: 12\nsla:\n"
                 "  first_touch_within_business_hours: 1\n  revenue_target_per_month: 2500000\n")
    proc = sla_sim("scenario", "diff", str(a), str(b))
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    body = "\n".join(lines)
    assert "teams[sdr].reps" in body
    assert "sla.first_touch_within_business_hours" in body
    assert re.search(r"4 business h\s.*1 business h", body), body
    assert re.search(r"USD 2\.\d+M\s.*USD 2\.50M", body), body
    assert "3 fields differ" in body
    same = sla_sim("scenario", "diff", str(a), "default")  # a preset name works too
    assert same.returncode == 0
    assert "no field differs" in same.stdout
    missing = sla_sim("scenario", "diff", str(a), str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2
    assert "nope.yaml" in missing.stderr


# ---------------------------------------------------------------------------------- --help
def _parsers(parser: argparse.ArgumentParser, name: str = "sla-sim"):  # type: ignore[no-untyped-def]
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_argument_of_every_command_is_described() -> None:
    """Every option and positional of every command has a help text; defaults are stated."""
    from sla_sim.cli.main import build_parser

    missing = []
    for name, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction,
                                   argparse._SubParsersAction)):  # fmt: skip
                continue
            if not (action.help and action.help.strip()) or action.help == argparse.SUPPRESS:
                missing.append(f"{name}: {action.option_strings or action.dest}")
    assert not missing, missing
    helps = {n: p.format_help() for n, p in _parsers(build_parser())}
    out_help = helps["sla-sim sweep"].split("\n  --out OUT", 1)[1][:300]
    assert "default: only in the store" in " ".join(out_help.split())
    for cmd in ("run", "compare", "sweep"):
        text = helps[f"sla-sim {cmd}"]
        assert "--set PATH=VALUE" in text, cmd
        assert "--preset" in text, cmd
    assert "--set-b PATH=VALUE" in helps["sla-sim compare"]
