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
