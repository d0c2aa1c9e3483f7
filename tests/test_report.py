"""Tests of the chart builders (sla_sim.report.charts) and the results report
(sla_sim.report.document)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sla_sim import run_replications
from sla_sim.batch.results import Results
from sla_sim.metrics.clauses import CLAUSES
from sla_sim.report import charts as viz
from sla_sim.report.document import headline_table, write_report
from sla_sim.report.labels import display_name
from sla_sim.report.units import money, percent, prob

URL_REF = re.compile(r"""(?:src|href)\s*=\s*["']?\s*https?://""", re.IGNORECASE)


@pytest.fixture(scope="module")
def results(tiny_factory) -> Results:
    """Three replications of the default preset cut to a 30-day warm-up and two months."""
    sc = tiny_factory({"horizon.warmup_days": 30, "horizon.measure_months": 2})
    return run_replications(sc, reps=3, seed=7, progress=False)


@pytest.fixture(scope="module")
def report_dir(results, tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """A report written once for the module, with the dict write_report returned."""
    out = tmp_path_factory.mktemp("report")
    return out, write_report(results, out)


def _summary(results: Results, period: str = "total") -> pd.DataFrame:
    s = results.summary()
    return s[s["period"] == period].set_index("metric")


def _data(chart) -> pd.DataFrame:
    """Every inline dataset of a chart, validated by to_dict(), as one DataFrame."""
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    frames = [pd.DataFrame(rows) for rows in spec.get("datasets", {}).values()]
    return pd.concat(frames, ignore_index=True)


def test_revenue_fan_holds_summary_quantiles(results):
    """The fan chart's P10/P50/P90 and target per month equal the summary's."""
    d = _data(viz.revenue_fan(results))
    s = results.summary()
    months = sorted(p for p in s["period"].unique() if p != "total")
    rev = s[s["metric"] == "revenue"].set_index("period")
    band = d.dropna(subset=["p50"]).drop_duplicates("period").set_index("period")
    assert sorted(band.index) == months
    for q in ("p10", "p50", "p90"):
        np.testing.assert_allclose(band.loc[months, q], rev.loc[months, q])
    target = d[d["series"] == "Target"].set_index("period")["value"]
    tgt = s[s["metric"] == "revenue_target"].set_index("period")["mean"]
    np.testing.assert_allclose(target.loc[months], tgt.loc[months])


def test_breach_probabilities_are_breach_means(results):
    """Each bar of the breach chart is the share of replications with a breach in at least one
    month (by default), or the mean of its 0/1 breach metric for the period asked."""
    months = [p for p in dict.fromkeys(results.table["period"]) if p != "total"]
    d = _data(viz.breach_probabilities(results)).set_index("metric")
    assert set(d["side"]) == {"Marketing", "Handoff", "Sales", "Revenue"}
    for _, key in viz.COMMITMENTS:
        per_month = np.column_stack([results.column(f"{key}_breach", m) for m in months])
        any_month = np.nanmax(np.nan_to_num(per_month, nan=0.0), axis=1).mean()
        assert d.loc[f"{key}_breach", "p_breach"] == pytest.approx(any_month)
    whole = _data(viz.breach_probabilities(results, "total")).set_index("metric")
    tot = _summary(results)
    for _, key in viz.COMMITMENTS:
        assert whole.loc[f"{key}_breach", "p_breach"] == pytest.approx(
            tot.loc[f"{key}_breach", "mean"])


def test_compliance_distribution_has_every_replication_and_the_target(results):
    """The compliance chart carries one value per replication and clause plus the target rule."""
    d = _data(viz.compliance_distribution(results))
    per_rep = d.dropna(subset=["value"])
    for clause in CLAUSES:
        got = per_rep[per_rep["metric"] == f"{clause}_compliance"]["value"].sort_values()
        want = results.metric(f"{clause}_compliance").dropna().sort_values()
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy())
    target = d["target"].dropna().unique()
    assert list(target) == [results.scenario.sla.lead_compliance_target]


def test_response_hours_on_a_hand_made_log():
    """Response hours are first attempt (attempt 0) minus MQL per (lead, episode), untouched
    MQLs dropped."""
    log = pd.DataFrame({
        "lead": [1, 1, 1, 2, 2, 2, 3],
        "episode": [1, 1, 1, 1, 1, 1, 1],
        "time_h": [1.0, 3.5, 9.0, 10.0, 11.0, 20.0, 30.0],
        "event": pd.Categorical(["mql", "attempt", "attempt", "mql", "attempt", "attempt", "mql"]),
        "attempt": [-1, 0, 1, -1, 0, 1, -1],
    })  # fmt: skip
    h = viz.response_hours(log)
    assert h.to_dict() == {(1, 1): 2.5, (2, 1): 1.0}


def test_response_time_hist_counts_responses_up_to_p99(results):
    """The histogram counts every touched MQL of the measured window (as the funnel does) up to
    the 99th percentile and marks the SLA."""
    d = _data(viz.response_time_hist(results.event_log, results.scenario))
    h = viz.response_hours(viz.measured_only(results.event_log, results.scenario))
    everything = viz.response_hours(results.event_log)
    assert 0 < len(h) < len(everything)  # the warm-up's MQLs are left out
    rep = int(results.event_log["replication"].iloc[0])
    table = results.table
    mqls_in_window = table[(table["metric"] == "mqls") & (table["period"] == "total")
                           & (table["replication"] == rep)]  # fmt: skip
    assert len(h) <= float(mqls_in_window["value"].iloc[0])
    assert (h >= 0).all()
    assert d["count"].sum() == int((h <= h.quantile(0.99)).sum())
    sla = results.scenario.sla.first_touch_within_business_hours
    assert sla in set(d["x"].dropna())


def test_funnel_chart_holds_stage_means(results):
    """The funnel bars are the mean of each stage metric, with conversion labels."""
    d = _data(viz.funnel_chart(results)).set_index("stage")
    tot = _summary(results)
    assert list(d.index) == ["Leads", "MQLs", "SQLs", "Opportunities", "Wins"]
    assert d.loc["MQLs", "mean"] == pytest.approx(tot.loc["mqls", "mean"])
    assert d.loc["Wins", "mean"] == pytest.approx(tot.loc["wins", "mean"])
    conv = tot.loc["mqls", "mean"] / tot.loc["leads_created", "mean"]
    assert d.loc["MQLs", "conversion"] == f"↓ {conv * 100:.1f} % of Leads"  # as the tables


def test_capacity_chart_holds_monthly_utilisation(results):
    """The capacity chart carries P50 SDR and AE utilisation and the SDR queue per month."""
    d = _data(viz.capacity_chart(results))
    s = results.summary()
    for metric in ("sdr_utilization", "ae_utilization", "sdr_queue_mean"):
        got = d[d["metric"] == metric].set_index("period")["p50"]
        want = s[(s["metric"] == metric) & (s["period"] != "total")].set_index("period")["p50"]
        np.testing.assert_allclose(got.sort_index(), want.sort_index())


def test_save_chart_writes_each_format(results, tmp_path):
    """save_chart writes PNG, SVG and offline HTML, creating missing folders."""
    chart = viz.funnel_chart(results)
    png = viz.save_chart(chart, tmp_path / "a" / "b" / "funnel.png")
    svg = viz.save_chart(chart, tmp_path / "funnel.svg")
    page = viz.save_chart(chart, tmp_path / "funnel.html")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svg.read_text()
    assert not URL_REF.search(page.read_text())


def test_save_chart_rejects_unknown_extension(results, tmp_path):
    """save_chart refuses .jpg with a message naming the extension, writing nothing."""
    with pytest.raises(ValueError, match=r"'\.jpg'"):
        viz.save_chart(viz.funnel_chart(results), tmp_path / "x" / "chart.jpg")
    assert not (tmp_path / "x").exists()


def test_write_report_writes_report_and_charts(report_dir):
    """write_report writes report.md, report.html and an SVG and a PNG of every chart."""
    out, written = report_dir
    names = ["revenue_fan", "breach_probabilities", "compliance_distribution", "funnel",
             "capacity", "response_time"]  # fmt: skip
    expected = {"report.md", "report.html"} | {f"charts/{n}.{e}" for n in names
                                               for e in ("svg", "png")}  # fmt: skip
    assert set(written) == expected
    for rel, path in written.items():
        assert path == out / rel
        assert path.stat().st_size > 0
    md = (out / "report.md").read_text()
    for n in names:
        assert f"(charts/{n}.png)" in md


def test_report_html_is_self_contained(report_dir):
    """report.html inlines its SVG charts and references no http(s) URL, scripts or images."""
    page = (report_dir[0] / "report.html").read_text()
    assert page.count("<svg") == 6
    assert not URL_REF.search(page)
    for forbidden in ("http://", "https://", "<script", "<img", "<link"):
        assert forbidden not in page


def test_report_md_headline_numbers_match_summary(results, report_dir):
    """The numbers in report.md are the summary's, in the money and percent formats of every
    surface (:mod:`sla_sim.report.units`)."""
    md = (report_dir[0] / "report.md").read_text()
    tot, cur = _summary(results), results.scenario.currency
    assert display_name(results.scenario.name) in md.splitlines()[0]
    m = {q: money(tot.loc["revenue", q], cur) for q in ("p10", "p50", "p90")}
    assert f"Revenue P50 {m['p50']} (P10 {m['p10']}, P90 {m['p90']})" in md
    assert f"target of {money(tot.loc['revenue_target', 'mean'], cur)}" in md
    p_hit = 1 - tot.loc["revenue_target_breach", "mean"]
    assert f"P(revenue ≥ target) = {prob(p_hit)}" in md
    for clause in CLAUSES:
        row = next(line for line in md.splitlines() if line.startswith("| ")
                   and viz.commitment_labels(results.scenario)[clause] in line)  # fmt: skip
        for col in ("mean", "p10", "p90"):
            assert percent(tot.loc[f"{clause}_compliance", col]) in row
    assert f"| {percent(tot.loc['deal_closure_rate', 'mean'])} |" in md
    for state, mean in results.terminal.drop(columns="replication").mean().items():
        assert f"{mean:,.0f}" in md, state


def test_headline_table_numbers_and_text(results):
    """headline_table gives the summary's numbers raw, or as text for the CLI."""
    raw = headline_table(results, formatted=False).set_index("metric")
    tot = _summary(results)
    assert raw.loc["revenue", "p50"] == pytest.approx(tot.loc["revenue", "p50"])
    assert raw.loc["revenue", "p_breach"] == pytest.approx(tot.loc["revenue_target_breach", "mean"])
    assert raw.loc["first_touch_compliance", "target"] == (
        results.scenario.sla.lead_compliance_target)
    text = headline_table(results)
    assert list(text.columns) == ["Commitment", "Mean", "P10", "P50", "P90", "Target",
                                  "P(some month breached)", "Worst month",
                                  "P(whole period breached)"]
    assert len(text) == 3 + len(CLAUSES)
    assert text.iloc[0]["P50"] == money(tot.loc["revenue", "p50"], results.scenario.currency)


def test_a_shares_target_reads_as_its_term(results, report_dir):
    """The headline's Target column showed '20.0 %' for the acceptance minimum the P(breach)
    table labels 'Acceptance rate ≥ 20 %' (and '85.0 %' for the compliance target the note
    below it states as 'at least 85 % of MQLs'): a term of the SLA prints as its label and
    sla.md write it, through :func:`sla_sim.metrics.numbers.prob`, on the terminal and in the
    report alike."""
    from sla_sim.cli.tables import breach_by_month, headline
    from sla_sim.report.labels import commitment_labels

    sla = results.scenario.sla
    text = headline_table(results).set_index("Commitment")
    acceptance = prob(sla.acceptance_rate_min)
    assert text.loc["Acceptance rate", "Target"] == acceptance
    assert commitment_labels(results.scenario)["acceptance"] == f"Acceptance rate ≥ {acceptance}"
    compliance = [c for c in text.index if c.endswith("(compliance)")]
    assert compliance
    assert set(text.loc[compliance, "Target"]) == {prob(sla.lead_compliance_target)}
    md = (report_dir[0] / "report.md").read_text(encoding="utf-8")
    assert f"| {prob(sla.lead_compliance_target)} |" in md
    assert f"at least {prob(sla.lead_compliance_target)} of MQLs" in md
    assert f"Acceptance rate ≥ {acceptance}" in breach_by_month(results)
    assert f" {acceptance} " in headline(results)


def test_the_kpis_read_in_their_units_as_compare_prints_them(results, report_dir):
    """The report's KPI table wrote the median response as '2.33' (and the sales cycle
    '38.6') where `compare` and the planner print the same metric as '2.3 h' ('38.6 days'):
    both go through :func:`sla_sim.report.units.metric_value` now."""
    from sla_sim.report.units import metric_value

    tot = _summary(results)
    md = (report_dir[0] / "report.md").read_text(encoding="utf-8")
    kpis = md[md.index("## KPIs"):].split("\n## ")[0]
    for metric in ("response_hours_p50", "response_business_hours_p90", "sales_cycle_days_mean",
                   "sdr_backlog_age_p90", "sdr_utilization"):  # fmt: skip
        if metric in tot.index:
            assert f"| {metric_value(metric, tot.loc[metric, 'mean'])} |" in kpis, metric
    assert " h |" in kpis
    assert " days |" in kpis


def test_the_wall_time_reads_as_the_terminal_prints_it(results, report_dir):
    """report.md said 'Wall time: 127.505 s' where the terminal's last line of the same run
    says 'in 127.5 s'."""
    md = (report_dir[0] / "report.md").read_text(encoding="utf-8")
    assert f"Wall time: {results.meta['wall_seconds']:.1f} s on" in md
    assert re.search(r"Wall time: \d+\.\d s on", md)


def test_the_charts_percentages_have_the_tables_space(report_dir):
    """The breach chart's axis read '25%' under bars labelled '25 %', and so did the compliance
    and capacity axes and the heatmap's legend (d3's '%' format): every percentage drawn now
    has the space of the tables."""
    charts = report_dir[0] / "charts"
    for name in ("breach_probabilities", "compliance_distribution", "capacity"):
        svg = (charts / f"{name}.svg").read_text(encoding="utf-8")
        drawn = re.findall(r">([^<>]*%)</text>", svg)
        assert drawn, name
        assert not [t for t in drawn if re.search(r"\d%", t)], (name, drawn)
    assert ">50 %</text>" in (charts / "breach_probabilities.svg").read_text(encoding="utf-8")


def test_one_headline_on_the_terminal_the_report_and_the_notebooks(results, report_dir):
    """The headline of `run` (terminal), report.md and the notebooks' headline_table is one
    table with one rounding: the report and the notebooks wrote revenue as USD 7,009,987 where
    the terminal and the report's own money table wrote USD 7.01M."""
    from sla_sim.cli.tables import headline
    from sla_sim.cli.tables import money as money_text

    text = headline_table(results)
    terminal = headline(results).splitlines()
    md = (report_dir[0] / "report.md").read_text()
    for row in text.to_dict("records"):
        cells = [str(v) for v in row.values()]
        line = next(ln for ln in terminal if ln.startswith(cells[0] + " "))
        assert line.split() == " ".join(cells).split(), row
        assert "| " + " | ".join(cells) + " |" in md, row
    rev = text.iloc[0]["Mean"]
    assert rev == money(_summary(results).loc["revenue", "mean"], results.scenario.currency)
    assert rev in money_text(results)  # the money table's revenue, the same text


def test_report_without_event_log_skips_response_chart(results, tmp_path):
    """Without an event log the report has no response-time chart and still renders."""
    no_log = copy.copy(results)
    no_log.event_log = None
    written = write_report(no_log, tmp_path)
    assert not any("response_time" in k for k in written)
    assert (tmp_path / "report.html").read_text().count("<svg") == 5


def test_results_save_leaves_the_report_to_the_caller(results, tmp_path):
    """Results.save writes the data files only; write_report adds report.md and report.html."""
    results.save(tmp_path / "run")
    assert (tmp_path / "run" / "summary.json").exists()
    assert not (tmp_path / "run" / "report.md").exists()
    write_report(results, tmp_path / "run")
    assert (tmp_path / "run" / "report.md").exists()
    assert (tmp_path / "run" / "report.html").exists()
