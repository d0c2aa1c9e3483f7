"""One risk model on every surface: a clause breached in some months but never over the whole
measured period is reported with a non-zero risk by the panel headline, the report, the console
and the breach chart, all in the same words and the same number."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sla_sim.batch.breach import clause_risk, riskiest
from sla_sim.batch.replications import run_replications
from sla_sim.batch.results import Results
from sla_sim.report.units import month_name, prob

REPS = 4


@pytest.fixture(scope="module")
def monthly_only(tiny_factory: Any) -> tuple[Results, str]:
    """Two measured months; first touch breached in the second month of replications 0 and 1
    (and in no other month), while every other clause and the whole period are never breached."""
    sc = tiny_factory({"horizon.measure_months": 2})
    res = run_replications(sc, reps=REPS, seed=3, workers=1)
    table = res.table.copy()
    breach = table["metric"].str.endswith("_breach") & (table["metric"] != "revenue_target_breach")
    table.loc[breach, "value"] = 0.0
    months = [p for p in dict.fromkeys(table["period"]) if p != "total"]
    second = months[1]
    hit = ((table["metric"] == "first_touch_breach") & (table["period"] == second)
           & (table["replication"].isin([0, 1])))  # fmt: skip
    table.loc[hit, "value"] = 1.0
    return Results.from_table(sc, table, res.terminal, res.meta), second


def test_clause_risk_separates_month_and_whole_period(monthly_only):
    res, second = monthly_only
    risk = clause_risk(res).set_index("clause")
    ft = risk.loc["first_touch"]
    assert ft["p_any_month"] == pytest.approx(0.5)
    assert ft["worst_month"] == second
    assert ft["p_worst_month"] == pytest.approx(0.5)
    assert ft["p_window"] == 0.0
    assert risk.loc["attempts", "p_any_month"] == 0.0
    assert riskiest(clause_risk(res))["clause"] == "first_touch"


def test_every_surface_reports_the_monthly_risk(monthly_only, tmp_path, capsys):
    """Panel headline, report (Markdown), console headline and the breach bars all carry the
    50 % monthly risk of first touch, though the whole period was never breached."""
    pytest.importorskip("ipywidgets")
    from sla_sim.cli.tables import headline
    from sla_sim.planner.panel import headline_html
    from sla_sim.report import charts as viz
    from sla_sim.report.document import write_report

    res, second = monthly_only
    words = f"breached in at least one month in {prob(0.5)}"
    assert words in headline_html(res)
    assert f"(worst month {month_name(second)}: {prob(0.5)})" in headline_html(res)

    console = headline(res)
    row = next(line for line in console.splitlines() if line.startswith("First touch"))
    assert f"{month_name(second)}: {prob(0.5)}" in row
    assert "P(some month breached)" in console
    assert "P(whole period breached)" in console

    md = write_report(res, tmp_path)["report.md"].read_text(encoding="utf-8")
    ft_row = next(line for line in md.splitlines() if line.startswith("| First touch"))
    assert prob(0.5) in ft_row

    bars = viz.breach_probabilities(res).to_dict()["datasets"]
    values = next(v for v in bars.values() if any("commitment" in r for r in v))
    ft = next(r for r in values if r["metric"] == "first_touch_breach")
    assert ft["p_breach"] == pytest.approx(0.5)
    assert np.isclose(next(r for r in values if r["metric"] == "attempts_breach")["p_breach"], 0)


def test_compare_and_sweep_report_the_monthly_risk(monthly_only):
    """`compare` (paired differences, the planner's comparison too) and `sweep` state the 50 %
    monthly risk of first touch beside the whole period's 0 %, in the run's words: both showed
    only the whole period ('P(first touch breach) 0 %', 'P(first-touch breach) 0 %') where the
    run of the same scenario said 'P(some month breached) 50 %'."""
    import pandas as pd

    from sla_sim.batch.compare import paired_differences
    from sla_sim.cli.tables import comparison, sweep_summary

    res, _ = monthly_only
    table = paired_differences(res, res).set_index("metric")
    assert table.loc["first_touch_breach_any_month", "mean_a"] == pytest.approx(0.5)
    assert table.loc["first_touch_breach", "mean_a"] == 0.0
    row = next(ln for ln in comparison(table.reset_index(), "USD").splitlines()
               if ln.startswith("P(first touch breached in some month)"))  # fmt: skip
    assert row.split()[6:10] == ["50", "%", "50", "%"]  # A and B

    long = pd.concat([res.table.assign(**{"teams[sdr].reps": n}) for n in (3, 4)])
    text = sweep_summary(long, ["teams[sdr].reps"], "USD").splitlines()
    header = text[1]
    assert "First touch P(some month breached)" in header
    assert "First touch P(whole period breached)" in header
    for line in text[2:]:
        cells = line.split()
        assert cells[-4:] == ["50", "%", "0", "%"], line


def test_the_notebooks_sweep_table_is_the_terminals() -> None:
    """The notebooks' sweep table (report.readable.sweep_table) has the measures `sla-sim
    sweep` prints, from the same function: it had no cost or profit and only the whole
    period's first-touch risk, computed by a second copy of the code."""
    import pandas as pd

    from sla_sim.cli.tables import sweep_summary
    from sla_sim.report.readable import sweep_table

    rows = []
    for reps in (3, 4):
        for r in range(2):
            for period, ft, profit in (("2026-01", 0.0, 10.0), ("2026-02", float(r), 20.0),
                                       ("total", 0.0, 30.0 + reps)):  # fmt: skip
                for metric, value in (("revenue", 100.0 + reps), ("revenue_target_breach", 0.0),
                                      ("first_touch_breach", ft), ("gross_profit", profit),
                                      ("cost_total", 70.0)):  # fmt: skip
                    rows.append({"teams[sdr].reps": reps, "replication": r, "period": period,
                                 "metric": metric, "value": value})
    long = pd.DataFrame(rows)
    notebook = sweep_table(long, ["teams[sdr].reps"], "USD")
    terminal = sweep_summary(long, ["teams[sdr].reps"], "USD").splitlines()
    measures = list(notebook.columns[1:])
    assert "First touch P(some month breached)" in measures
    assert "Profit vs first point (95% CI)" in measures
    assert list(notebook["First touch P(some month breached)"]) == ["50 %", "50 %"]
    assert list(notebook["First touch P(whole period breached)"]) == ["0 %", "0 %"]
    for title in measures:
        assert title in terminal[1]
    for row, line in zip(notebook.to_dict("records"), terminal[2:], strict=True):
        for title in measures:
            assert row[title] in line, (title, line)
