"""Tests of the public API surface of the sla_sim package and of what importing it does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sla_sim

ROOT = Path(__file__).resolve().parents[1]

EXPECTED = {
    "ReconciliationError",
    "Results",
    "Scenario",
    "ScenarioError",
    "SlaSimError",
    "__version__",
    "load_scenario",
    "preset",
    "preset_names",
    "run_replication",
    "run_replications",
    "save_scenario",
}

# Modules that only the report, the notebooks or the CLI need: importing sla_sim must not pay
# for them (nor for the simulation engine, which run_replication imports on first use).
HEAVY = ("altair", "vl_convert", "ipywidgets", "anywidget", "tqdm", "simpy", "dask",
         "duckdb", "sla_sim.report.document", "sla_sim.report.charts", "sla_sim.model", "numba")


def test_all_is_the_expected_set() -> None:
    """sla_sim.__all__ lists exactly the documented public names, without duplicates."""
    assert set(sla_sim.__all__) == EXPECTED
    assert len(sla_sim.__all__) == len(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_public_name_is_importable(name: str) -> None:
    """Each public name is an attribute of sla_sim and survives `from sla_sim import name`."""
    namespace: dict[str, object] = {}
    exec(f"from sla_sim import {name}", namespace)
    assert namespace[name] is getattr(sla_sim, name)


def test_public_objects_are_what_they_claim() -> None:
    """The public errors subclass the right builtins, and the aliases point at scenario_io."""
    from sla_sim.scenario import io as scenario_io

    assert issubclass(sla_sim.ScenarioError, ValueError)
    assert issubclass(sla_sim.ScenarioError, sla_sim.SlaSimError)
    assert issubclass(sla_sim.ReconciliationError, sla_sim.SlaSimError)
    assert sla_sim.load_scenario is scenario_io.load
    assert sla_sim.save_scenario is scenario_io.save
    assert "default" in sla_sim.preset_names()
    assert isinstance(sla_sim.preset(), sla_sim.Scenario)


def test_version_is_a_string() -> None:
    """sla_sim.__version__ is a non-empty string."""
    assert isinstance(sla_sim.__version__, str)
    assert sla_sim.__version__


def test_import_is_light_and_starts_nothing() -> None:
    """A fresh `import sla_sim` starts no thread or child process and imports no UI, report,
    dask, store or simulation-engine module."""
    code = (
        "import json, sys, threading, multiprocessing\n"
        "import sla_sim\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps({'threads': threading.active_count(),"
        " 'children': len(multiprocessing.active_children()),"
        " 'loaded': sorted(m for m in heavy if m in sys.modules)}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=env, timeout=60)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {"threads": 1, "children": 0, "loaded": []}


def test_the_command_line_and_metric_labels_load_no_compiler() -> None:
    """The command line and the metrics' labels (what a refused request reads) import no numba:
    its import alone costs about half a second and 100 MB, and a refusal must stay cheap."""
    code = ("import sys\nimport sla_sim.cli.main, sla_sim.metrics, sla_sim.report.units\n"
            "print('numba' in sys.modules)\n")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=env, timeout=60)  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == "False"


_BAD_CALLS = {
    # reps=True ran one replication; reps=2.5 / "2" and seed="x" were TypeErrors; reps=nan said
    # "too large to estimate"; seed=1.5 started a run whose replication failed
    "reps=True": (lambda sc: sla_sim.run_replications(sc, reps=True), "reps: must be a whole"),
    "reps=2.5": (lambda sc: sla_sim.run_replications(sc, reps=2.5), "reps: must be a whole"),
    "reps='2'": (lambda sc: sla_sim.run_replications(sc, reps="2"), "reps: must be a whole"),
    "reps=nan": (lambda sc: sla_sim.run_replications(sc, reps=float("nan")), "whole number"),
    "seed=1.5": (lambda sc: sla_sim.run_replications(sc, reps=1, seed=1.5), "seed: must be a"
                 " whole number"),
    "seed='x'": (lambda sc: sla_sim.run_replication(sc, "x"), "seed: must be a whole number"),
    "start=-1": (lambda sc: sla_sim.run_replications(sc, reps=1, start=-1), "start: must be"
                 " >= 0"),
    "replication=-1": (lambda sc: sla_sim.run_replication(sc, 1, -1), "replication: must be"
                       " >= 0"),
    # not a Scenario: AttributeError 'str' object has no attribute 'horizon'
    "scenario='default'": (lambda sc: sla_sim.run_replications("default", reps=1),
                           "scenario: must be a Scenario"),
    "scenario=dict": (lambda sc: sla_sim.run_replication({"name": "x"}), "must be a Scenario"),
    "load_scenario(None)": (lambda sc: sla_sim.load_scenario(None), "file: must be the path"),
    "save under a file": (lambda sc: sla_sim.save_scenario(sc, "afile/x.yaml"),
                          "cannot be written: afile is a file"),  # FileExistsError
    "save a dict": (lambda sc: sla_sim.save_scenario({"name": "x"}, "x.yaml"),
                    "scenario: must be a Scenario"),  # AttributeError
    # no event log, in silence
    "keep_log_of=-1": (lambda sc: sla_sim.run_replications(sc, reps=1, keep_log_of=-1),
                       "keep_log_of: must be one of the replications run, 0 .. 0"),
    "keep_log_of=5": (lambda sc: sla_sim.run_replications(sc, reps=2, keep_log_of=5),
                      "keep_log_of: must be one of the replications run, 0 .. 1"),
    # ValueError: missing port number in address 'nope' (distributed)
    "dask='nope'": (lambda sc: sla_sim.run_replications(sc, reps=1, dask="nope"),
                    "--dask: must be 'local' or a scheduler address"),
    # "file: must be an existing scenario file (got 'nope/scenario.yaml')"
    "Results.load('nope')": (lambda sc: sla_sim.Results.load("nope"),
                             "results folder: must be a folder written by Results.save"),
}


@pytest.mark.parametrize("case", list(_BAD_CALLS))
def test_bad_calls_raise_scenario_error_before_any_work(case, tmp_path, monkeypatch) -> None:
    """Bad arguments to the public functions raise ScenarioError naming the argument, the rule
    and the value, before anything is simulated or written."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    call, needle = _BAD_CALLS[case]
    with pytest.raises(sla_sim.ScenarioError, match=None) as err:
        call(sla_sim.preset("default"))
    assert needle in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_default_event_log_on_a_later_block() -> None:
    """``start=3`` with the default ``keep_log_of=0`` runs (no event log), as before."""
    res = sla_sim.run_replications(sla_sim.preset("default"), reps=1, start=3, progress=False)
    assert res.event_log is None
