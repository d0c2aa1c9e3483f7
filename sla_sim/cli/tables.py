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


LEFT = ("Side", "Commitment", "Metric")  # label columns, aligned left; numbers right


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
    human units, under a line naming the months and the replications."""
    from sla_sim.report.document import headline_table, risk_cells

    sc = results.scenario
    cur = sc.currency
    raw = headline_table(results, formatted=False)
    rows = []
    for r in raw.to_dict("records"):
        kind, metric = r["kind"], r["metric"]

        def f(v: Any, kind: str = kind, metric: str = metric) -> str:
            if kind == "money":
                return u.money(v, cur)
            if kind == "pct":
                return u.percent(v)
            return u.count(v) if kind == "count" else u.metric_value(metric, v, cur)

        rows.append({"Commitment": r["commitment"], "Mean": f(r["mean"]), "P10": f(r["p10"]),
                     "P50": f(r["p50"]), "P90": f(r["p90"]), "Target": f(r["target"]),
                     **risk_cells(r, u.prob)})  # fmt: skip
    title = (f"Whole measured period, {u.period_span(sc)} ({sc.horizon.timezone}):"
             f" {results.replications} replications")
    return f"{title}\n{_text(pd.DataFrame(rows))}"


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
    title = (f"P(breach) by month: share of {results.replications} replications in which each"
             " commitment was missed in that month")
    return f"{title}\n{_text(pd.DataFrame(rows))}"


def comparison(table: pd.DataFrame, currency: str, scenario: Scenario | None = None) -> str:
    """Paired differences B - A (from :func:`sla_sim.batch.compare.paired_differences`) in
    human units; ``*`` marks a material difference: its paired 95% interval excludes zero and
    it is at least as large as :func:`sla_sim.report.units.material` asks."""
    df = u.comparison_table(table, currency)
    df.pop("significant")
    df["Metric"] = [f"{m} *" if s else m for m, s in zip(df["Metric"], df.pop("material"),
                                                         strict=True)]  # fmt: skip
    df = df.rename(columns={"A": "A (mean)", "B": "B (mean)"})
    span = f" ({u.period_span(scenario)})" if scenario is not None else ""
    return (f"Whole measured period{span}, means over replications; * = material: the paired"
            " 95% interval excludes 0 and the change is at least 1 percentage point (or 1 % of"
            " A)\n" + _text(df))


def sweep_summary(table: pd.DataFrame, names: list[str], currency: str,
                  scenario: Scenario | None = None) -> str:  # fmt: skip
    """Per sweep point: mean revenue and P(breach) of revenue and first touch, whole period."""
    tot = table[(table["period"] == "total") & (table["metric"].isin(
        ["revenue", "first_touch_breach", "revenue_target_breach"]))]
    wide = tot.pivot_table(index=names, columns="metric", values="value", aggfunc="mean",
                           observed=True).reset_index()  # fmt: skip
    out = wide[names].astype(str)
    out["Revenue (mean)"] = [u.money(v, currency) for v in wide.get("revenue", [])]
    out["P(revenue below target)"] = [u.prob(v) for v in wide.get("revenue_target_breach", [])]
    out["P(first-touch breach)"] = [u.prob(v) for v in wide.get("first_touch_breach", [])]
    span = f" ({u.period_span(scenario)})" if scenario is not None else ""
    return f"Whole measured period{span}, mean over replications per point\n{_text(out)}"
