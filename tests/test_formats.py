"""One number, one way on every screen: the revenue-confidence menu of ``recommend`` agrees
with the plan it recommends, and the recommendation's probabilities read as ``run`` prints
them (``87.5 %``), through :mod:`sla_sim.metrics.numbers`."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sla_sim.recommend import revenue


def _sample(seed: int = 3, reps: int = 40, months: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    tgt = np.full((reps, months), 1_000_000.0)
    rev = rng.normal(1.25, 0.15, size=(reps, months)) * tgt
    return rev, tgt


def test_the_menu_row_at_the_plans_confidence_is_the_plan() -> None:
    """The menu listed 7,455 leads a month at 90 % beside a plan, recommended at 90 %, of 7,153
    (the row was the plan's revenue rescaled, with a spread inflated by its standard error):
    two numbers for one thing. Now that row is the plan (factor 1, its leads, MQLs, revenue)
    and the other rows say they are estimates."""
    rev, tgt = _sample()
    mqls = np.full(rev.shape, 1_900.0)
    rows = revenue.menu(rev, tgt, mqls, 7_153.0, plan_level=0.9)
    by = {r["revenue_confidence"]: r for r in rows}
    assert list(by) == [0.5, 0.75, 0.9]
    plan = by[0.9]
    assert plan["leads_per_month"] == 7_153.0
    assert plan["volume_factor"] == 1.0
    assert plan["mqls_per_month"] == pytest.approx(1_900.0)
    assert plan["revenue_mean_per_month"] == pytest.approx(float(rev.mean()))
    assert plan["plan"] is True
    assert plan["how"] == revenue.PLAN_ROW
    # the estimate at the plan's level would have been another figure
    assert revenue.volume_multiplier(rev, tgt, 0.9) != pytest.approx(1.0, abs=1e-3)
    base = revenue.volume_multiplier(rev, tgt, 0.9)
    for rc in (0.5, 0.75):
        assert by[rc]["plan"] is False
        assert by[rc]["how"] == revenue.RELATIVE_ROW
        assert by[rc]["leads_per_month"] == pytest.approx(
            7_153.0 * revenue.volume_multiplier(rev, tgt, rc) / base)
    text = revenue.menu_text(rows)
    assert "90 % -> 7,153 leads/month (the plan)" in text
    assert "50 % -> " in text
    assert text.count("(estimate)") == 2


def test_a_plan_level_off_the_menu_is_added_and_no_plan_means_estimates_only() -> None:
    rev, tgt = _sample()
    mqls = np.full(rev.shape, 1_900.0)
    rows = revenue.menu(rev, tgt, mqls, 7_000.0, plan_level=0.8)
    assert [r["revenue_confidence"] for r in rows] == [0.5, 0.75, 0.8, 0.9]
    assert [r["plan"] for r in rows] == [False, False, True, False]
    leads = [r["leads_per_month"] for r in rows]
    assert leads == sorted(leads)  # through the plan's own figure
    # a plan with more volume than the estimate at a higher level asks: the menu still grows
    big = revenue.menu(rev, tgt, mqls, 9_000.0, plan_level=0.8)
    assert [r["leads_per_month"] for r in big] == sorted(r["leads_per_month"] for r in big)
    assert big[3]["leads_per_month"] > 9_000.0
    kept = revenue.menu(rev, tgt, mqls, 7_000.0)  # volumes kept or the plan misses: estimates
    assert [r["revenue_confidence"] for r in kept] == [0.5, 0.75, 0.9]
    assert not any(r["plan"] for r in kept)


def test_the_acceptance_label_states_the_term_as_sla_md_does() -> None:
    """A run of a recommended plan (acceptance_rate_min 0.3172) labelled its row 'Acceptance
    rate ≥ 32%' while the plan's sla.md signs 'At least 31.7 % of the MQLs'; both print the
    share with :func:`sla_sim.metrics.numbers.prob` now."""
    from sla_sim.recommend.commitments import term_text
    from sla_sim.report.labels import commitment_labels
    from sla_sim.scenario.io import set_path
    from sla_sim.scenario.presets import preset

    sc = set_path(preset("default"), "sla.acceptance_rate_min", 0.3172)
    assert commitment_labels(sc)["acceptance"] == "Acceptance rate ≥ 31.7 %"
    assert commitment_labels(sc)["acceptance"].endswith(term_text(0.3172, "share"))


def test_the_planners_recommend_note_states_the_acceptance_term_as_sla_md() -> None:
    """The planner's note after Recommend listed 'acceptance minimum 0.2 -> 0.3172' while the
    terminal and sla.md of the same recommendation say 31.7 %."""
    from sla_sim.planner.panel import recommendation_changes
    from sla_sim.scenario.io import set_path
    from sla_sim.scenario.presets import preset

    before = preset("default")
    after = set_path(before, "sla.acceptance_rate_min", 0.3172)
    shown = recommendation_changes(before, after)["marketing"]
    assert "acceptance minimum 20 % -> 31.7 %" in shown, shown


def test_the_precision_line_prints_in_the_metrics_unit() -> None:
    """`run --precision` printed 'revenue[total]: mean 7.104e+06, 95% CI half-width 1.2e+05
    (1.69% of the mean)': scientific notation and a share without the space every other screen
    puts before '%'. Now the mean and half-width read as the headline prints the metric, the
    relative half-width as a percentage with two decimals (as fine as a 2% target needs)."""
    from sla_sim.batch.runs import parse_precision
    from sla_sim.metrics.numbers import metric_value

    x = np.array([7.0e6, 7.2e6, 7.1e6, 7.15e6])
    line = parse_precision("revenue=2%").describe(x, "USD")
    assert line.startswith(f"revenue[total]: mean {metric_value('revenue', x.mean(), 'USD')},")
    assert "e+0" not in line
    assert "95% CI half-width USD " in line
    rel = float(line.split("(")[1].split(" %")[0])
    assert rel == pytest.approx(100 * parse_precision("revenue=2%").half_width(x) / x.mean(),
                                abs=0.005)  # fmt: skip
    assert " % of the mean)" in line
    ratio = parse_precision("first_touch_compliance=0.01").describe(
        np.array([0.86, 0.88, 0.87, 0.875]))
    assert "mean 87.1 %," in ratio  # a ratio as the headline's Mean column prints it
    assert " pp (" in ratio  # its half-width in percentage points


#: A share formatted with Python's own '%' (``f"{x:.0%}"``: ``71%``, no space) in code that
#: prints to people; :func:`sla_sim.metrics.numbers.prob` and ``percent`` write ``71.4 %``.
_RAW_PERCENT = re.compile(r"\{[^{}]*:[^{}:]*\.\d+%\}?")


def test_no_screen_formats_a_share_with_pythons_percent() -> None:
    """`backtest` printed 'coverage of P10-P90: 71% of 28 judged', notebook 05 'coverage
    P10-P90: 71%', `run --precision` '(1.69% of the mean)': Python's '%' format beside the
    '71.4 %' of every other screen. No module of sla_sim and no notebook formats a share so
    (JSON and CSV keep raw numbers; Altair's d3 formats are not Python's)."""
    root = Path(__file__).resolve().parents[1]
    found = []
    for path in [*sorted((root / "sla_sim").rglob("*.py")),
                 *sorted((root / "notebooks").glob("*.ipynb"))]:  # fmt: skip
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(root)}: {m.group(0)}" for m in _RAW_PERCENT.finditer(text)]
    assert found == []


def test_the_backtests_band_sources_print_as_shares() -> None:
    """`backtest` printed 'band sources (share of variance): {'trend': 0.137, 'parameters':
    0.382, 'simulation': 0.481}', a Python dict of shares; now each share as every screen
    prints one."""
    from sla_sim.cli.crm import _band_sources

    assert _band_sources({"trend": 0.137, "parameters": 0.382, "simulation": 0.481}) == (
        "trend 13.7 %, parameters 38.2 %, simulation 48.1 %")
    assert _band_sources(None) == "–"


def test_calibrate_states_p_ever_won_as_notebook_05(capsys: pytest.CaptureFixture[str]) -> None:
    """`calibrate` printed 'P(ever won) 0.1324' where notebook 05 prints 'cure model P(ever
    won): 13.2 %' for the same calibration."""
    from types import SimpleNamespace

    from sla_sim.cli.crm import _print_models
    from sla_sim.metrics.numbers import prob

    cal = SimpleNamespace(checks={"won_cure_model": {
        "from": "mql_at", "p_ever_won": 0.1324, "events": 476, "censored": 3314}})
    _print_models(cal)
    out = capsys.readouterr().out
    assert f"(P(ever won) {prob(0.1324)}, 476 wins, 3,314 censored at the export)" in out
    assert "0.1324" not in out
