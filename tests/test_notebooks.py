"""The notebooks: committed clean (no outputs), and each runs top to bottom headless.

Each notebook's first code cell is tagged ``parameters``; the run appends fast values to it (a
few replications on a 30-day warm-up and one measured month), as papermill would, then executes
the notebook with nbclient in a temporary working folder and checks what it produced: the
panel's charts as SVG in the saved widget state, SVG chart outputs, the tables.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from ci_env import require

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FAST_HORIZON = {"horizon.warmup_days": 30, "horizon.measure_months": 1}
FAST = {
    "01_what_if.ipynb": {"OVERRIDES": FAST_HORIZON, "REPS": 4, "WORKERS": 2,
                         "CHARTS_DIR": "charts"},
    "02_monte_carlo.ipynb": {
        "OVERRIDES": FAST_HORIZON, "REPS": 4, "WORKERS": 2, "STORE": "store",
        "SWEEP": {"teams[sdr].reps": [8, 12], "sla.first_touch_within_business_hours": [1, 4]},
        "SWEEP_REPS": 2,
    },
    "03_compare_scenarios.ipynb": {"OVERRIDES": FAST_HORIZON, "REPS": 3, "WORKERS": 2},
    "04_recommend.ipynb": {"OVERRIDES": FAST_HORIZON, "REPS": 6, "MIN_REPS": 6, "SENS_REPS": 2,
                           "WORKERS": 2},
    "05_from_crm.ipynb": {"BACKTEST_REPS": 3, "REVIEW_REPS": 4},
}  # fmt: skip


def _need(module: str) -> Any:
    """Import a test dependency; skip without it, but fail on CI (where it must be installed)."""
    return require(module, "pip install -e .[dev]")


def _read(path: Path) -> Any:
    nbformat = _need("nbformat")
    return nbformat.read(path, as_version=4)


def _parameters_cell(nb: Any) -> Any:
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code cell"
    assert "parameters" in code[0].metadata.get("tags", []), (
        "the first code cell must be tagged 'parameters'"
    )
    return code[0]


def test_the_notebooks_exist() -> None:
    """The what-if and Monte Carlo notebooks are committed, and every one has fast values."""
    names = {p.name for p in NOTEBOOKS}
    assert {"01_what_if.ipynb", "02_monte_carlo.ipynb"} <= names
    assert names <= set(FAST), f"add fast parameter values for {names - set(FAST)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_clean(path: Path) -> None:
    """No outputs, no execution counts, no saved widget state; a tagged parameters cell first;
    charts never use Altair's default (CDN) renderer."""
    nb = _read(path)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has outputs: strip them"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"
    assert "widgets" not in nb.metadata, f"{path.name} stores widget state: strip it"
    _parameters_cell(nb)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    if "import altair" in source:
        assert 'alt.renderers.enable("svg")' in source, (
            f"{path.name} uses Altair without the offline SVG renderer"
        )


def _execute(path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    _need("ipykernel")
    nbclient = _need("nbclient")
    nb = _read(path)
    cell = _parameters_cell(nb)
    fast = "\n".join(f"{k} = {v!r}" for k, v in FAST[path.name].items())
    cell.source += f"\n\n# fast values for the test run\n{fast}\n"
    # the kernel imports this checkout's sla_sim even when it is not installed
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))  # fmt: skip
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})  # fmt: skip
    client.execute()
    return nb


def _outputs(nb: Any) -> list[Any]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _no_errors_or_cdn(nb: Any) -> None:
    outs = _outputs(nb)
    errors = [o for o in outs if o.output_type == "error"]
    assert not errors, errors
    text = str(outs)
    for bad in ("cdn.jsdelivr", "Error loading script", "application/vnd.vegalite"):
        assert bad not in text, f"an output needs the network: {bad}"


def _speaks_words(nb: Any) -> None:
    """What a reader sees in the outputs (HTML tables, SVG charts, printed text, the saved
    panel's HTML) holds no code name and no scientific notation, and no warning was printed."""
    from words import code_words, visible_text

    seen = []
    for out in _outputs(nb):
        data = out.get("data", {})
        if out.output_type == "stream":
            assert out.name != "stderr" or "Warning" not in out.text, out.text
            seen.append(out.text)
        for kind in ("text/html", "image/svg+xml"):
            if kind in data:
                seen.append(visible_text(data[kind]))
        if "text/html" not in data and "text/plain" in data:
            seen.append(data["text/plain"])
    for state in _widget_states(nb):
        if isinstance(state.get("value"), str) and "sla-" in str(state.get("_dom_classes")):
            seen.append(visible_text(state["value"]))
    found = code_words("\n".join(seen))
    assert not found, f"code names or scientific notation on screen: {found}"


def _widget_states(nb: Any) -> list[dict[str, Any]]:
    saved = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return [m["state"] for m in saved.get("state", {}).values()]


def _widget(nb: Any, css_class: str) -> dict[str, Any]:
    hits = [s for s in _widget_states(nb) if css_class in s.get("_dom_classes", [])]
    assert len(hits) == 1, f"expected one widget with class {css_class}, found {len(hits)}"
    return hits[0]


def test_what_if_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """01: the panel draws every chart as SVG, finishes, compares with the baseline, saves."""
    nb = _execute(ROOT / "notebooks" / "01_what_if.ipynb", tmp_path, monkeypatch)
    _no_errors_or_cdn(nb)
    for name in ("revenue", "breach", "response", "funnel", "capacity", "compliance"):
        assert "<svg" in _widget(nb, f"sla-chart-{name}")["value"], name
    status = _widget(nb, "sla-status")["value"]
    assert "data-final='1'" in status
    assert "data-reps='4'" in status
    assert _widget(nb, "sla-message")["value"] == ""
    assert "Current vs baseline" in _widget(nb, "sla-compare")["value"]
    plain = "\n".join(o.get("data", {}).get("text/plain", "") for o in _outputs(nb))
    assert "SDR utilisation" in plain  # the paired-differences table, in words and units
    assert "sdr_utilization" not in plain
    assert not re.search(r"\d[eE][+-]\d", plain), plain
    saved = {p.suffix for p in (tmp_path / "charts").iterdir()}
    assert saved == {".png", ".svg", ".html"}
    _speaks_words(nb)


def test_monte_carlo_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """02: a stored run, distributions, SVG charts (incl. the heatmaps) and catalog queries."""
    nb = _execute(ROOT / "notebooks" / "02_monte_carlo.ipynb", tmp_path, monkeypatch)
    _no_errors_or_cdn(nb)
    svgs = [o.data["image/svg+xml"] for o in _outputs(nb) if "image/svg+xml" in o.get("data", {})]
    assert len(svgs) >= 4  # revenue fan, breach bars, compliance, heatmaps
    assert all("<svg" in s for s in svgs)
    assert "P(revenue ≥ target)" in svgs[-1]
    assert "P(first-touch SLA breached)" in svgs[-1]
    shown = str(_outputs(nb))
    assert "P(revenue ≥ target)" in shown  # the revenue table
    assert "P(some month breached)" in shown  # the one risk model
    assert "complete" in shown  # the runs query
    assert "P(revenue below target)" in shown  # the replications query
    # one format per quantity: the heatmaps' cells print '40 %' as the tables do (d3 wrote
    # '40%'), the query's mean revenue 'USD 7.10M' as run does (it wrote '7,104,263')
    assert re.search(r">\d+(\.\d)? %<", svgs[-1])
    assert not re.search(r">\d+(\.\d)?%<", svgs[-1])
    query = next(str(o.data) for o in _outputs(nb) if "P(revenue below target)" in str(
        o.get("data", {})))  # fmt: skip
    assert "USD " in query
    assert not re.search(r"\d,\d{3},\d{3}", query), query[:500]
    assert list((tmp_path / "store").glob("*/run.json"))  # the run folder is the record
    _speaks_words(nb)


@pytest.mark.skipif(not (ROOT / "notebooks" / "03_compare_scenarios.ipynb").exists(),
                    reason="no scenario comparison notebook")  # fmt: skip
def test_compare_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """03: paired differences of A and B, with both intervals."""
    nb = _execute(ROOT / "notebooks" / "03_compare_scenarios.ipynb", tmp_path, monkeypatch)
    _no_errors_or_cdn(nb)
    shown = str(_outputs(nb))
    assert "95 % interval, paired" in shown
    assert "Paired width ÷ unpaired" in shown
    _speaks_words(nb)


def test_recommend_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """04: a recommendation, its menu and tornado as SVG, a second confidence, the exports (in
    the run store by default, nothing beside the notebook)."""
    here = tmp_path / "notebooks"
    here.mkdir()
    monkeypatch.setenv("SLA_SIM_STORE", str(tmp_path / "store"))
    nb = _execute(ROOT / "notebooks" / "04_recommend.ipynb", here, monkeypatch)
    _no_errors_or_cdn(nb)
    svgs = [o.data["image/svg+xml"] for o in _outputs(nb) if "image/svg+xml" in o.get("data", {})]
    assert len(svgs) == 3  # menu, P(met) per clause and month, tornado
    shown = str(_outputs(nb))
    assert "binding clause" in shown
    assert "First-touch window" in shown
    assert "P(met), worst month, at 90 %" in shown  # as units.prob prints it
    # money and the marginal value of a rep: the rows the terminal and sla.md print
    assert "per month, mean of 6 replications (USD): revenue" in shown
    assert "profit 95% interval" in shown
    assert "SDRs (sdr)" in shown
    assert "AEs" in shown
    _speaks_words(nb)
    assert list(here.iterdir()) == []
    (out,) = (tmp_path / "store").glob("recommendation-*")
    assert {"recommendation.json", "recommendation.csv", "sla.md", "sla.html",
            "recommended.yaml"} <= {p.name for p in out.iterdir()}


def test_from_crm_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """05: the Olist export measured, calibrated (cure model), backtested and reviewed; runs
    and files in the run store by default, nothing beside the notebook."""
    here = tmp_path / "notebooks"
    here.mkdir()
    monkeypatch.setenv("SLA_SIM_STORE", str(tmp_path / "store"))
    nb = _execute(ROOT / "notebooks" / "05_from_crm.ipynb", here, monkeypatch)
    _no_errors_or_cdn(nb)
    svgs = [o.data["image/svg+xml"] for o in _outputs(nb) if "image/svg+xml" in o.get("data", {})]
    assert len(svgs) == 2  # backtest and review small multiples
    text = str(_outputs(nb))
    assert "coverage P10-P90" in text
    assert "cure model P(ever won)" in text
    assert "within normal variation" in text or "outside" in text
    assert list(here.iterdir()) == []
    assert list((tmp_path / "store").glob("*/summary.json"))  # the measured run
    assert {"olist_calibrated.yaml", "calibration.json", "backtest.svg", "review.png"} <= {
        p.name for p in (tmp_path / "store" / "crm_out").iterdir()}
    _speaks_words(nb)
