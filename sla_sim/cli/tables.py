"""Console tables in human units: the headline of a run, P(breach) by month, a comparison
and a sweep, each naming the period it covers (numbers formatted by
:mod:`sla_sim.report.units`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from sla_sim.report import units as u

if TYPE_CHECKING:
    from sla_sim.batch.results import Results
    from sla_sim.scenario.schema import Scenario


# label columns, aligned left; numbers right
LEFT = ("Side", "Commitment", "Metric", "Money", "Change", "Verdict", "Origin", "Month")


def _text(df: pd.DataFrame) -> str:
    """A plain-text table: label columns aligned left, values right, two spaces apart."""
    cols = [str(c) for c in df.columns]
    cells = [[str(v) for v in row] for row in df.to_numpy()]
    widths = [max([len(c), *(len(r[j]) for r in cells)]) for j, c in enumerate(cols)]

    def line(values: list[str]) -> str:
        return "  ".join(v.ljust(w) if c in LEFT else v.rjust(w)
                         for v, w, c in zip(values, widths, cols, strict=True)).rstrip()

    return "\n".join([line(cols), *(line(r) for r in cells)])


def headline(results: Results) -> str:
    """Revenue, marketing commitments and SLA clauses over the whole measured period, in
    human units (the report's and the notebooks' table), under a line naming the months and
    the replications."""
    from sla_sim.report.document import headline_table

    sc = results.scenario
    title = (f"Whole measured period, {u.period_span(results)} ({sc.horizon.timezone}):"
             f" {u.n_replications(results.replications)}")
    return f"{title}\n{_text(headline_table(results))}"


def money(results: Results) -> str:
    """Revenue, cost, gross profit, CAC and return on spend over the whole measured period
    (empty when the run has no cost metrics)."""
    from sla_sim.report.money import money_table

    df = money_table(results)
    if df is None:
        return ""
    return (f"Money, whole measured period ({results.scenario.currency}; costs from the"
            f" scenario's costs section or its defaults):\n{_text(df)}")


def breach_by_month(results: Results) -> str:
    """P(breach) of every commitment in each measured month and over the whole period: a
    commitment met over the quarter can still be breached in one month."""
    from sla_sim.report.labels import COMMITMENTS, commitment_labels

    s = results.summary()
    means = s.set_index(["period", "metric"])["mean"]
    months = [p for p in dict.fromkeys(s["period"]) if p != "total"]
    labels = commitment_labels(results.scenario)
    rows = []
    for side, key in COMMITMENTS:
        row = {"Side": side, "Commitment": labels[key]}
        for p in [*months, "total"]:
            v = means.get((p, f"{key}_breach"), math.nan)
            row[p if p != "total" else "Whole period"] = u.prob(v)
        rows.append(row)
    title = (f"P(breach) by month: share of {u.n_replications(results.replications)} in which each"
             " commitment was missed in that month")
    return f"{title}\n{_text(pd.DataFrame(rows))}"


def comparison(table: pd.DataFrame, currency: str,
               scenario: Scenario | Results | None = None) -> str:  # fmt: skip
    """Paired differences B - A (from :func:`sla_sim.batch.compare.paired_differences`) in
    human units; ``*`` marks a material difference: its paired 95% interval excludes zero and
    it is at least as large as :func:`sla_sim.report.units.material` asks. The title names the
    months of ``scenario`` (a scenario's horizon, or the months a run's results measured)."""
    df = u.comparison_table(table, currency)
    df.pop("significant")
    df["Metric"] = [f"{m} *" if s else m for m, s in zip(df["Metric"], df.pop("material"),
                                                         strict=True)]  # fmt: skip
    df = df.rename(columns={"A": "A (mean)", "B": "B (mean)"})
    span = f" ({u.period_span(scenario)})" if scenario is not None else ""
    from sla_sim.report.money import profit_line

    line = profit_line(table, currency)
    return (f"Whole measured period{span}, means over replications; * = material: the paired"
            " 95% interval excludes 0 and the change is at least 1 percentage point (or 1 % of"
            " A)\n" + _text(df) + (f"\n\n{line}" if line else ""))


def sweep_summary(table: pd.DataFrame, names: list[str], currency: str,
                  scenario: Scenario | None = None) -> str:  # fmt: skip
    """Per sweep point: the measures of :func:`sla_sim.report.readable.sweep_measures` (the
    notebooks' sweep table too) beside the parameters as given, whole period."""
    from sla_sim.report.readable import sweep_measures, sweep_points

    points = sweep_points(table, names)
    out = pd.concat([points[names].astype(str), sweep_measures(table, names, currency)], axis=1)
    span = f" ({u.period_span(scenario)})" if scenario is not None else ""
    return f"Whole measured period{span}, mean over replications per point\n{_text(out)}"


def review(table: pd.DataFrame, currency: str) -> str:
    """The monthly review's verdicts (:class:`sla_sim.crm.review.Review` ``.table``) in human
    units, as every other screen writes each metric: its label, the month's value, its
    percentile among the simulated months, the simulated P5-P95 and the verdict."""
    rows = [{"Side": r.side, "Metric": u.metric_label(r.metric),
             "Actual": u.metric_value(r.metric, r.actual, currency),
             "Percentile": u.DASH if r.percentile != r.percentile else
             f"P{100 * r.percentile:.0f}",
             "Simulated P5 .. P95": u.DASH if r.p5 != r.p5 else
             f"{u.metric_value(r.metric, r.p5, currency)} .. "
             f"{u.metric_value(r.metric, r.p95, currency)}",
             "Verdict": r.verdict} for r in table.itertuples()]  # fmt: skip
    return _text(pd.DataFrame(rows))


def backtest(table: pd.DataFrame, currency: str) -> str:
    """A backtest's observations (``Backtest.table``, or a rolling backtest's with its
    ``origin`` and ``naive`` columns) in human units: label, month, observed, the simulated
    P10 .. P90 (and P50 and the naive forecast when rolling), the verdict."""
    rolling = "origin" in table.columns

    def v(metric: str, x: Any) -> str:
        return u.metric_value(metric, x, currency)

    rows = []
    for r in table.itertuples():
        flag = {True: "inside", False: "OUTSIDE", None: "not judged"}[r.inside]
        base = " (base win model, not identified)" if isinstance(r.from_base, str) else ""
        row = {"Origin": r.origin} if rolling else {}
        row |= {"Metric": u.metric_label(r.metric), "Month": r.period,
                "Observed": v(r.metric, r.observed)}
        if rolling:
            row["P50"] = v(r.metric, r.p50)
        row["P10 .. P90"] = f"{v(r.metric, r.p10)} .. {v(r.metric, r.p90)}"
        if rolling:
            row["Naive"] = v(r.metric, r.naive)
        row["Verdict"] = flag + base
        rows.append(row)
    return _text(pd.DataFrame(rows))

