"""Words, not code, on every rendered surface: the panel's HTML and charts and the HTML report
show no snake_case field name and no number in scientific notation; the scanner itself finds
both; an invalid planner setting names the lever that was moved."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from words import code_words, visible_text

from sla_sim.batch.replications import run_replications
from sla_sim.errors import ScenarioError
from sla_sim.report.document import write_report


def test_scanner_finds_code_and_scientific_notation():
    page = ("<p>target = revenue_target_per_month, 2.277860e+06 and teams[0].reps;"
            " <code>first_touch_breach</code> is a field</p><script>var a_b = 1e5</script>")
    assert code_words(visible_text(page)) == ["2.277860e+06", "revenue_target_per_month",
                                              "teams[0].reps"]
    assert code_words("Revenue USD 7.02M, P(breach) 23 %, report.html, sla_sim_runs/") == []


@pytest.fixture(scope="module")
def results(tiny_factory: Any) -> Any:
    return run_replications(tiny_factory(None), reps=3, seed=11, workers=1)


def test_report_html_speaks_words(results, tmp_path):
    page = write_report(results, tmp_path)["report.html"].read_text(encoding="utf-8")
    assert code_words(visible_text(page)) == []


def _texts(widget: Any) -> Iterator[str]:
    """Every text a widget tree shows: HTML values (charts are inline SVG), descriptions,
    placeholders and the labels of the options of pickers."""
    import ipywidgets as w

    if isinstance(widget, w.HTML | w.HTMLMath | w.Label):
        yield widget.value
    for attr in ("description", "placeholder", "tooltip"):
        value = getattr(widget, attr, None)
        if isinstance(value, str):
            yield value
    labels = getattr(widget, "_options_labels", None)
    if labels:
        yield from labels
    for child in getattr(widget, "children", ()):
        yield from _texts(child)


@pytest.fixture(scope="module")
def panel(tiny_factory: Any) -> Iterator[Any]:
    """A panel on the short default scenario after a full evaluation (3 replications)."""
    pytest.importorskip("ipywidgets")
    from sla_sim.planner.engine import Planner
    from sla_sim.planner.panel import PlannerPanel

    planner = Planner(reps=3, workers=1)
    try:
        panel = PlannerPanel(scenario=tiny_factory(None), planner=planner)
        panel.refresh()
        yield panel
    finally:
        planner.close()


def test_panel_speaks_words(panel):
    """The panel after a full evaluation: headline, charts, levers, pickers, status."""
    assert panel.results is not None
    text = "\n".join(visible_text(t) for t in _texts(panel.widget))
    assert "Revenue" in text
    assert code_words(text) == []


def test_an_sla_lever_says_which_policy_acts(panel):
    """Moving only an SLA term re-judges the same leads (revenue cannot change): the panel says
    so and names the policy levers that would make the SLA act; a headcount change does not."""
    revenue = panel.results.column("revenue").copy()
    panel.set_values(first_touch=panel.controls["first_touch"].value + 1)
    panel.refresh()
    assert (panel.results.column("revenue") == revenue).all()
    assert "a policy acts" in panel.hint.value
    assert "Work order" in panel.hint.value
    panel.set_values(sdr_count=panel.controls["sdr_count"].value + 2)
    panel.refresh()
    assert panel.hint.value == ""


def test_progress_gives_the_time_left(panel, monkeypatch):
    """Between updates the status counts replications and estimates the time left from the
    pace so far; nothing is shown once the evaluation is complete."""
    import sla_sim.planner.panel as mod

    now = [1000.0]
    monkeypatch.setattr(mod.time, "perf_counter", lambda: now[0])
    panel._changed_at = 990.0  # 10 s since the change
    panel._progress(20, 100)
    assert "20 / 100 replications" in panel.eta.value
    assert "about 40 s left" in panel.eta.value
    now[0] = 1100.0
    panel._show_eta()  # the one-second ticker: the estimate follows the clock
    assert "about 7 min left" in panel.eta.value
    panel._progress(100, 100)
    assert panel.eta.value == ""
    assert mod.time_left(3 * 3600 + 120) == "3 h 2 min"


def test_invalid_setting_names_the_moved_lever():
    """Moving the cadence below the attempts the SLA owes names the cadence lever (and the
    value it was moved to), and the lever it conflicts with by its label."""
    from sla_sim.planner.engine import apply_levers, levers_for
    from sla_sim.scenario.presets import preset

    sc = preset("default")
    levers = levers_for(sc)
    owed = sc.sla.attempts_required
    with pytest.raises(ScenarioError) as err:
        apply_levers(sc, levers, {"attempts": owed - 1})
    (issue,) = err.value.issues
    assert issue.path == "Attempts in the cadence"
    assert issue.value == owed - 1
    assert f"Attempts owed by the SLA (now {owed})" in issue.rule
    with pytest.raises(ScenarioError) as err:
        apply_levers(sc, levers, {"attempts_required": 9})
    (issue,) = err.value.issues
    assert issue.path.startswith("Attempts owed by the SLA")
    assert issue.value == 9


def test_material_difference_is_detectable_and_large():
    """A compare row is highlighted only when its paired interval excludes zero and the change
    is material: 0.8 fewer MQLs out of 5,000 is detectable but not material; 1 pp of first-touch
    compliance, or 2 % of revenue, is."""
    import pandas as pd

    from sla_sim.report.units import comparison_table, material

    assert not material("mqls", -0.8, 5_000)
    assert material("mqls", -60, 5_000)
    assert material("first_touch_compliance", 0.012, 0.9)
    assert not material("first_touch_compliance", 0.004, 0.9)
    assert material("revenue", 140_000, 7_000_000)
    rows = pd.DataFrame([
        {"metric": "mqls", "mean_a": 5_000.0, "mean_b": 4_999.2, "diff": -0.8,
         "paired_low": -1.0, "paired_high": -0.6, "unpaired_low": -90.0, "unpaired_high": 88.0},
        {"metric": "revenue", "mean_a": 7e6, "mean_b": 7.14e6, "diff": 1.4e5,
         "paired_low": 1e5, "paired_high": 1.8e5, "unpaired_low": -2e5, "unpaired_high": 4.8e5},
        {"metric": "revenue", "mean_a": 7e6, "mean_b": 7.14e6, "diff": 1.4e5,
         "paired_low": -1e4, "paired_high": 2.9e5, "unpaired_low": -2e5, "unpaired_high": 4.8e5},
    ])  # fmt: skip
    table = comparison_table(rows, "USD")
    assert list(table["significant"]) == [True, True, False]
    assert list(table["material"]) == [False, True, False]
