"""Notebooks 01-03 speak the dashboard's words, write nothing into notebooks/ and reopen
without "model not found": a finished progress bar is left as text, not as a widget."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from ci_env import require

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks"
OURS = ("01_what_if.ipynb", "02_monte_carlo.ipynb", "03_compare_scenarios.ipynb")
ALL = (*OURS, "04_recommend.ipynb", "05_from_crm.ipynb")
WIDGET = "application/vnd.jupyter.widget-view+json"


def _cells(name: str) -> list[dict[str, Any]]:
    return json.loads((NB / name).read_text(encoding="utf-8"))["cells"]


def _source(cell: dict[str, Any]) -> str:
    return "".join(cell["source"])


@pytest.mark.parametrize("name", ALL)
def test_outputs_default_to_the_store_not_the_notebook_folder(name: str) -> None:
    """No parameter points a folder into notebooks/: charts, runs, exports go to the run store
    (a relative folder name as a default would be created beside the notebook)."""
    params = _source(next(c for c in _cells(name) if c["cell_type"] == "code"))
    for line in params.splitlines():
        name_, _, value = line.partition("#")[0].partition("=")
        if name_.strip() in {"OUT", "STORE", "CHARTS_DIR"}:
            assert value.strip() == "None", (name, line)
    for folder in ("planner_charts", "sla_sim_runs", "recommendation", "crm_out"):
        assert f'"{folder}"' not in params, (name, folder)
        assert f"'{folder}'" not in params, (name, folder)


def test_notebooks_use_the_dashboards_words() -> None:
    """The panel's picker is "Scenario", and the notebook says so (it said "Preset")."""
    require("ipywidgets", "pip install -e .[notebook]")
    from sla_sim.planner.panel import PlannerPanel

    panel = PlannerPanel(reps=2, workers=1)
    labels = {panel.preset_picker.description, panel.baseline_button.description,
              panel.save_button.description, panel.scenario_button.description}  # fmt: skip
    assert labels == {"Scenario", "Set as baseline", "Save charts", "Save as scenario"}
    text = "\n".join(_source(c) for c in _cells("01_what_if.ipynb") if c["cell_type"] == "markdown")
    assert "**Preset**" not in text
    for label in labels:
        assert f"**{label}**" in text, label


@pytest.mark.slow
@pytest.mark.notebooks
def test_monte_carlo_notebook_writes_nothing_beside_it_and_reopens(tmp_path: Path) -> None:
    """02 run as a user runs it (kernel in the notebook's folder, no $SLA_SIM_STORE): the folder
    holds only the notebook afterwards, the run lands in sla_sim_runs/ beside it, and every
    progress bar is left as text: no output shows a widget."""
    nbformat = require("nbformat", "pip install -e .[dev]")
    nbclient = require("nbclient", "pip install -e .[dev]")
    require("ipykernel", "pip install -e .[dev]")
    folder = tmp_path / "project" / "notebooks"
    folder.mkdir(parents=True)
    shutil.copy(NB / "02_monte_carlo.ipynb", folder)
    nb = nbformat.read(folder / "02_monte_carlo.ipynb", as_version=4)
    nb.cells[1].source += ('\nOVERRIDES = {"horizon.warmup_days": 30, "horizon.measure_months": 1}'
                           "\nREPS = 3\nWORKERS = 1\nSWEEP_REPS = 1\n"
                           'SWEEP = {"teams[sdr].reps": [8, 12],'
                           ' "sla.first_touch_within_business_hours": [1, 4]}\n')  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "SLA_SIM_STORE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)  # the kernel inherits this environment
        client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                         resources={"metadata": {"path": str(folder)}})
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert sorted(p.name for p in folder.iterdir()) == ["02_monte_carlo.ipynb"]
    assert list((tmp_path / "project" / "sla_sim_runs").glob("*/run.json"))
    # JupyterLab saves no widget state by default (and never a closed widget's), so a widget
    # left in an output reopens as "model not found": the finished bars must be text
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    widgets = [o for o in outputs if WIDGET in o.get("data", {})]
    assert not widgets, f"{len(widgets)} widget output(s) would reopen as 'model not found'"
    texts = [o["data"].get("text/plain", "") for o in outputs if "data" in o]
    bars = [t for t in texts if re.search(r"100%\|.*\| 3/3 \[", t)]
    assert bars, "the batch run's finished progress bar stays, as text"
