"""Cost, profit and CAC in human units: the money table of a run, the profit line of a change,
and the stacked cost chart (by team and channel, per month) shared by the report and the
planner."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sla_sim.report import units as u

if TYPE_CHECKING:
    import altair as alt

    from sla_sim.batch.results import Results

__all__ = ["MONEY_ROWS", "cost_by_month", "cost_chart", "marginal_chart",
           "money_headline_html", "money_table", "profit_line"]

#: The rows of the money table: (metric, label); revenue comes from the KPIs, the rest from
#: the cost metrics (:mod:`sla_sim.metrics.costs`).
MONEY_ROWS = (("revenue", "Revenue"), ("cost_total", "Cost"), ("gross_profit", "Gross profit"),
              ("cac", "CAC (cost per win)"), ("return_on_spend", "Return on spend"),
              ("cost_per_sql", "Cost per SQL"), ("cost_per_mql", "Cost per MQL"),
              ("revenue_per_sdr_month", "Revenue per SDR-month"),
              ("revenue_per_ae_month", "Revenue per AE-month"))  # fmt: skip




def money_table(results: Results, period: str = "total") -> pd.DataFrame | None:
    """Revenue, cost, profit, CAC ... of ``period`` (default the whole measured period): mean,
    P10, P50 and P90 across replications, and in how many replications the value is defined
    (CAC is undefined in a replication without a win); None without cost metrics."""
    costs = results.costs
    if costs is None:
        return None
    cur = results.scenario.currency
    rows = []
    for metric, label in MONEY_ROWS:
        x = results.column(metric, period)
        ok = x[~np.isnan(x)]
        stats = (float(ok.mean()), *np.percentile(ok, [10, 50, 90])) if len(ok) else (
            math.nan,) * 4  # fmt: skip
        rows.append({"Money": label, **{k: u.metric_value(metric, v, cur) for k, v in zip(
            ("Mean", "P10", "P50", "P90"), stats, strict=True)},
            "defined in": f"{len(ok)}/{len(x)}"})  # fmt: skip
    return pd.DataFrame(rows)


def cost_by_month(results: Results) -> pd.DataFrame:
    """Mean cost per month by component (each team, AEs, commission, each channel): columns
    period, component, group (people / marketing), cost."""
    costs = results.costs
    if costs is None:
        return pd.DataFrame(columns=["period", "component", "group", "cost"])
    s = costs.summary()
    s = s[s["period"] != "total"]
    sc = results.scenario
    parts = ([(f"cost_team_{t}", f"SDR team {t}", "people") for t in sc.team_names()]
             + [("cost_ae", "AEs", "people"), ("cost_commission", "commission", "people")]
             + [(f"cost_channel_{c}", f"channel {c}", "marketing")
                for c in sc.channel_names()])  # fmt: skip
    rows = [{"period": r.period, "component": label, "group": group, "cost": r.mean}
            for metric, label, group in parts
            for r in s[s["metric"] == metric].itertuples(index=False)]  # fmt: skip
    return pd.DataFrame(rows)


def cost_chart(results: Results, width: int = 420, height: int = 220) -> alt.Chart:
    """Mean cost per month stacked by team, AEs, commission and channel (Altair)."""
    import altair as alt

    data = cost_by_month(results)
    cur = results.scenario.currency
    return alt.Chart(data, title=f"Cost per month ({cur}, mean over replications)").mark_bar(
    ).encode(
        x=alt.X("period:N", title="month"),
        y=alt.Y("sum(cost):Q", title=f"cost ({cur})", stack="zero"),
        color=alt.Color("component:N", title="cost of"),
        tooltip=["period", "component", "group", alt.Tooltip("cost:Q", format=",.0f")],
    ).properties(width=width, height=height)  # fmt: skip


def profit_line(table: pd.DataFrame, currency: str, what: str = "B - A") -> str:
    """One line on what a change earns: "``what``: +USD 38k revenue, +USD 21k cost, profit
    +USD 17k (95% interval -USD 4k .. +USD 39k)", from a paired-differences table holding
    ``revenue``, ``cost_total`` and ``gross_profit`` (:func:`sla_sim.batch.compare.
    paired_differences`); empty when it holds no profit."""
    t = table.set_index("metric")
    if not {"revenue", "cost_total", "gross_profit"} <= set(t.index):
        return ""
    p = t.loc["gross_profit"]

    def m(x: Any) -> str:
        return u.money(x, currency, signed=True)

    return (f"{what}: {m(t.loc['revenue', 'diff'])} revenue, {m(t.loc['cost_total', 'diff'])}"
            f" cost, profit {m(p['diff'])} (95% interval {m(p['paired_low'])} .."
            f" {m(p['paired_high'])})")


def marginal_chart(table: pd.DataFrame, currency: str) -> alt.Chart:
    """Change in revenue, cost and profit per lever and step (bars, means of the paired
    differences), with the 95% interval of each (whiskers)."""
    import altair as alt

    from sla_sim.batch.marginal import MONEY

    rows = []
    for r in table.to_dict("records"):
        change = f"{r['lever']} {r['step']:+g} ({r['from']:g} -> {r['to']:g})"
        for _, name in MONEY:
            rows.append({"change": change, "measure": name, "mean": r[name],
                         "low": r[f"{name}_low"], "high": r[f"{name}_high"]})
    data = pd.DataFrame(rows).dropna(subset=["mean"])
    base = alt.Chart(data).encode(y=alt.Y("measure:N", title=None, sort=[n for _, n in MONEY]))
    bars = base.mark_bar().encode(
        x=alt.X("mean:Q", title=f"change over the measured period ({currency})"),
        color=alt.Color("measure:N", title=None, sort=[n for _, n in MONEY]),
        tooltip=["change", "measure", alt.Tooltip("mean:Q", format=",.0f"),
                 alt.Tooltip("low:Q", format=",.0f"), alt.Tooltip("high:Q", format=",.0f")])
    whiskers = base.mark_rule(color="black").encode(x="low:Q", x2="high:Q")
    return alt.layer(bars, whiskers).properties(width=380, height=70).facet(
        row=alt.Row("change:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
        title=f"Marginal value (paired, 95% intervals; {currency})")  # fmt: skip


def money_headline_html(results: Results) -> str:
    """The money beside the revenue headline: median cost, gross profit and CAC over the whole
    measured period (HTML fragment; empty without cost metrics)."""
    import html

    if results.costs is None:
        return ""
    cur = results.scenario.currency
    cost, profit, cac = (results.column(m) for m in ("cost_total", "gross_profit", "cac"))
    cac_ok = cac[~np.isnan(cac)]
    cac_text = u.money(float(np.median(cac_ok)), cur) if len(cac_ok) else "undefined (no win)"
    med_cost, med_profit = (html.escape(u.money(float(np.median(x)), cur)) for x in (cost,
                                                                                   profit))
    return (f" &nbsp;·&nbsp; <span class='sla-money'>cost <b>{med_cost}</b>, profit"
            f" <b>{med_profit}</b>, CAC {html.escape(cac_text)} (medians)</span>")
