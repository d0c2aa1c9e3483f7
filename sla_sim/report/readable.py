"""Tables for people: the distributions the notebooks show, in words and units.

Each function returns a small pandas DataFrame of text (readable labels as the index, numbers
in their units, probabilities as ``23 %``), in the same words and with the same risk model as
the planner and the report. The raw numbers stay in :mod:`sla_sim.batch.breach`,
:class:`sla_sim.batch.results.Results` and the run store.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from sla_sim.report import units as u
from sla_sim.report.labels import COMMITMENTS, commitment_labels

if TYPE_CHECKING:
    from sla_sim.batch.results import Results

__all__ = ["comparison", "frame", "revenue_table", "risk_table", "sentence", "sweep_measures",
           "sweep_points", "sweep_table", "words"]


def _period(label: str) -> str:
    return "Whole period" if label == "total" else u.month_name(label)


def revenue_table(results: Results) -> pd.DataFrame:
    """Per month and for the whole period: revenue P10 / P50 / P90, the target and
    P(revenue ≥ target)."""
    from sla_sim.batch.breach import revenue_distribution

    cur = results.scenario.currency
    rows = [{"Period": _period(r["period"]),
             "Revenue P10": u.money(r["revenue_p10"], cur),
             "Median (P50)": u.money(r["revenue_p50"], cur),
             "Revenue P90": u.money(r["revenue_p90"], cur),
             "Target": u.money(r["target"], cur),
             "P(revenue ≥ target)": u.prob(r["p_meet_target"])}
            for r in revenue_distribution(results).to_dict("records")]  # fmt: skip
    return pd.DataFrame(rows).set_index("Period")


def risk_table(results: Results) -> pd.DataFrame:
    """The one risk model per commitment: P(some month breached), the worst month, P(the whole
    period breached), and for per-lead clauses the middle 80 % of the compliance rate."""
    from sla_sim.batch.breach import breach_distributions, clause_risk

    labels = commitment_labels(results.scenario)
    risk = clause_risk(results).set_index("clause")
    spread = breach_distributions(results).query("period == 'total'").set_index("clause")
    rows = []
    for side, key in COMMITMENTS:
        r = risk.loc[key]
        low, high = (spread.loc[key].get("compliance_p10"), spread.loc[key].get("compliance_p90"))
        rows.append({"Commitment": labels[key], "Side": side,
                     "P(some month breached)": u.prob(r["p_any_month"]),
                     "Worst month": u.worst_month(r),
                     "P(whole period breached)": u.prob(r["p_window"]),
                     "Compliance, middle 80 %": (f"{u.percent(low)} – {u.percent(high)}"
                                                 if pd.notna(low) else u.DASH)})  # fmt: skip
    return pd.DataFrame(rows).set_index("Commitment")


def sweep_table(table: pd.DataFrame, names: list[str], currency: str,
                titles: dict[str, str] | None = None) -> pd.DataFrame:
    """Per sweep point: the parameters under ``titles`` (their readable names) and the
    measures of :func:`sweep_measures`, the columns `sla-sim sweep` prints."""
    points = sweep_points(table, names)
    titles = titles or {}
    out = pd.DataFrame({titles.get(n, u.field_label(n)): [u.field_value(n, v, currency)
                                                           for v in points[n]] for n in names})
    return pd.concat([out, sweep_measures(table, names, currency)], axis=1)


def sweep_points(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The sweep's points (their parameter values), sorted: the order of the rows of
    :func:`sweep_measures`."""
    tot = table[table["period"] == "total"]
    return tot[names].drop_duplicates().sort_values(names).reset_index(drop=True)


def sweep_measures(table: pd.DataFrame, names: list[str], currency: str) -> pd.DataFrame:
    """Per sweep point, in the order of the points sorted (whole period, mean over its
    replications): revenue, P(revenue below target), first touch's risk in the run's words
    (P(some month breached), P(whole period breached)) and, when the table holds costs, the
    mean cost and profit and the paired profit difference from the first point."""
    tot = table[(table["period"] == "total") & table["metric"].isin(
        ["revenue", "first_touch_breach", "revenue_target_breach"])]
    wide = tot.pivot_table(index=names, columns="metric", values="value", aggfunc="mean",
                           observed=True)  # fmt: skip
    out = pd.DataFrame({
        "Revenue (mean)": [u.money(v, currency) for v in wide["revenue"]],
        "P(revenue below target, whole period)": [
            u.prob(v) for v in wide["revenue_target_breach"]],
        "First touch P(some month breached)": [
            u.prob(v) for v in _any_month(table, names, "first_touch_breach").reindex(
                wide.index)],
        "First touch P(whole period breached)": [u.prob(v) for v in wide["first_touch_breach"]],
    })  # fmt: skip
    if "gross_profit" in set(table["metric"]):
        out = pd.concat([out, _sweep_money(table, names, currency)], axis=1)
    return out


def _any_month(table: pd.DataFrame, names: list[str], metric: str) -> pd.Series:
    """Per sweep point: P(``metric`` breached in some measured month), the mean over
    replications of :func:`sla_sim.batch.breach.any_month` (as the run's headline states it)."""
    from sla_sim.batch.breach import any_month

    monthly = table[(table["period"] != "total") & (table["metric"] == metric)]
    wide = monthly.pivot_table(index=[*names, "replication"], columns="period", values="value",
                               aggfunc="first", observed=True, dropna=False)  # fmt: skip
    per_rep = pd.Series(any_month(wide.to_numpy()), index=wide.index)
    return per_rep.groupby(level=names, observed=True).mean()


def _sweep_money(table: pd.DataFrame, names: list[str], currency: str) -> pd.DataFrame:
    """Per sweep point (in the order of ``sweep_summary``): mean cost and profit, and the
    profit difference from the first point, paired on replications (common random numbers),
    with its 95% interval."""
    from sla_sim.stats import t_interval

    tot = table[(table["period"] == "total")
                & table["metric"].isin(["cost_total", "gross_profit"])]  # fmt: skip
    wide = tot.pivot_table(index=[*names, "replication"], columns="metric", values="value",
                           aggfunc="first", observed=True)  # fmt: skip
    points = list(dict.fromkeys(wide.index.droplevel("replication")))
    points.sort()
    base = wide.loc[points[0]]["gross_profit"] if points else None
    def sm(x: float) -> str:
        return u.money(x, currency, signed=True)

    rows = []
    for pt in points:
        w = wide.loc[pt]
        d = (w["gross_profit"] - base).dropna()
        lo, hi = t_interval(d.to_numpy(), 0.95) if len(d) else (math.nan, math.nan)
        rows.append({"Cost (mean)": u.money(w["cost_total"].mean(), currency),
                     "Profit (mean)": u.money(w["gross_profit"].mean(), currency),
                     "Profit vs first point (95% CI)": u.DASH if pt == points[0] else
                     f"{sm(d.mean())} ({sm(lo)} .. {sm(hi)})"})  # fmt: skip
    return pd.DataFrame(rows)


def comparison(table: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Paired differences B − A in units, with what common random numbers bought: the paired
    interval's width as a share of the unpaired one's, and whether the change is material."""
    df = u.comparison_table(table, currency)
    out = pd.DataFrame({
        "A (mean)": df["A"], "B (mean)": df["B"], "B − A": df["B − A"],
        "95 % interval, paired": df["95% CI, paired"],
        "95 % interval, unpaired": df["95% CI, unpaired"],
        "Paired width ÷ unpaired": [u.percent(x, 0) for x in table["width_ratio"]],
        "Material": ["yes" if m else "" for m in df["material"]],
    })  # fmt: skip
    out.index = pd.Index(df["Metric"], name="Metric")
    return out


#: Column names of the CRM and analysis tables, in words.
_COLUMNS = {"p5": "P5", "p10": "P10", "p50": "P50", "p90": "P90", "p95": "P95",
            "observed": "Observed", "actual": "Actual", "naive": "Naive forecast",
            "inside": "Inside P10–P90", "percentile": "Percentile among simulated months",
            "value": "Value", "low": "Low", "high": "High", "period": "Period",
            "share_trend": "Band share: trend", "share_parameters": "Band share: parameters",
            "share_simulation": "Band share: simulation", "path": "Parameter",
            "from_base": "From the base (not identified)"}  # fmt: skip
#: Columns holding a metric's value (formatted in the metric's unit).
_VALUES = ("p5", "p10", "p50", "p90", "p95", "observed", "actual", "naive", "value", "low",
           "high")  # fmt: skip


def words(name: object) -> str:
    """A metric, scenario field or column name in words: metric labels, field labels, else
    underscores as spaces (``closed_at`` -> ``Closed at``)."""
    from sla_sim.metrics.docs import METRIC_LABELS

    text = str(name)
    if " " in text:  # already words (a sentence that may quote a file name)
        return text
    if text in METRIC_LABELS:
        return METRIC_LABELS[text]
    if text in _COLUMNS:
        return _COLUMNS[text]
    if "." in text or "[" in text:
        return u.field_label(text).replace("_", " ")
    return text.replace("_", " ").capitalize() if "_" in text else text


def frame(df: pd.DataFrame, currency: str = "", key: str | None = None) -> pd.DataFrame:
    """Any table of the analysis and CRM APIs in words and units: column and row names in
    words, months as names, each metric's values in its unit (``key``: the column naming the
    metric of each row; found by itself when it is ``metric`` or ``path``), shares as
    percentages, missing values as a dash, booleans as yes/no."""
    from sla_sim.metrics.docs import METRIC_DOCS

    key = key or next((c for c in ("metric", "path") if c in df.columns), None)
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        vals = df[col]
        if col == key:
            out[words(col)] = [words(v) for v in vals]
        elif col == "period":
            out[words(col)] = [_period(v) if v != "cohort" else "Cohort" for v in vals]
        elif col in _VALUES and key is not None and key in df.columns:
            out[words(col)] = [u.metric_value(str(m), v, currency)
                               if str(m) in METRIC_DOCS else _plain(v)
                               for m, v in zip(df[key], vals, strict=True)]  # fmt: skip
        elif col in METRIC_DOCS:
            out[words(col)] = [u.metric_value(col, v, currency) for v in vals]
        elif col.startswith("share_") or col == "percentile":
            out[words(col)] = [u.percent(v, 0) for v in vals]
        else:
            out[words(col)] = [_plain(v) for v in vals]
    if df.index.name:
        out.index = pd.Index([_period(v) if df.index.name == "period" else words(v)
                              for v in df.index], name=words(df.index.name))
    first = out.columns[0]
    return out.set_index(first) if key is not None and words(key) == first else out


def _plain(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return u.DASH
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return u.count(v) if abs(v) >= 10 else f"{v:,.3g}"
    if isinstance(v, str):
        return words(v) if "_" in v and " " not in v else v
    return str(v)


def sentence(text: str) -> str:
    """A message that quotes field names (``closed_at before created_at``) in words; file
    names stay as they are."""
    import re

    return re.sub(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w./-])",
                  lambda m: m.group(0).replace("_", " "), str(text))
