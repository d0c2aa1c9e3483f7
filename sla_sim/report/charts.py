"""Chart builders: Results (or an event log) in, a styled Altair chart out.

Every builder is pure: it reads summaries, builds a chart and returns it, with no widgets, no
I/O and no change to Altair's global renderers or themes. Style (one palette, fonts, titles) is
applied per chart by :func:`_style`. Only :func:`save_chart` writes files: SVG and PNG are
rendered offline by vl-convert, and HTML is written with Vega inlined, so nothing is fetched.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import altair as alt
import numpy as np
import pandas as pd

from sla_sim.metrics.clauses import CLAUSES
from sla_sim.report.labels import COMMITMENTS, commitment_labels
from sla_sim.report.units import metric_value, n_replications, percent, prob

if TYPE_CHECKING:
    from sla_sim.batch.results import Results
    from sla_sim.scenario.schema import Scenario

__all__ = [
    "COMMITMENTS",
    "breach_heatmap",
    "breach_probabilities",
    "capacity_chart",
    "commitment_labels",
    "compliance_distribution",
    "funnel_chart",
    "response_hours",
    "response_time_hist",
    "revenue_fan",
    "risk_colour",
    "save_chart",
    "sweep_heatmap",
]

Chart: TypeAlias = alt.Chart | alt.LayerChart | alt.FacetChart | alt.HConcatChart

FONT = "Helvetica Neue, Helvetica, Arial, Liberation Sans, DejaVu Sans, sans-serif"
INK, MUTED, GRID = "#1f2933", "#616e7c", "#e4e7eb"
BLUE, BAND, SLATE, RED = "#2f6db5", "#b7cfee", "#52606d", "#c43c39"
SIDE_COLORS = {"Marketing": "#2f6db5", "Handoff": "#e08a2c", "Sales": "#3a9b6b",
               "Revenue": "#8a5fb0"}  # fmt: skip
ROLE_COLORS = {"SDR": "#2f6db5", "AE": "#e08a2c"}
WAITING = {"SDR queue": "#616e7c", "SDR backlog": "#b5452f"}  # MQLs waiting, two kinds

FUNNEL = (("leads_created", "Leads"), ("mqls", "MQLs"), ("sqls", "SQLs"),
          ("opportunities", "Opportunities"), ("wins", "Wins"))  # fmt: skip


#: A percentage axis or legend label with the space every table puts before '%' (``25 %``):
#: d3's ``%`` format writes ``25%``, beside the bars' own ``25 %``.
PCT_LABEL = "replace(datum.label, '%', ' %')"

def _style(chart: Chart) -> Chart:
    """Apply the house style (font, colours, axes, titles) to a top-level chart built by this
    module, in place, and return it.

    One top-level ``config`` is set: the chained ``configure_*`` calls would deep-copy the
    chart, inline data included, once per call.
    """
    chart.config = alt.Config(
        font=FONT, background="white", padding=12,
        view=alt.ViewConfig(stroke=None),
        axis=alt.AxisConfig(labelColor=INK, titleColor=INK, gridColor=GRID, domainColor=MUTED,
                            tickColor=MUTED, labelFontSize=11, titleFontSize=12,
                            titleFontWeight="normal", titlePadding=8),
        title=alt.TitleConfig(fontSize=15, fontWeight="bold", color=INK, anchor="start",
                              subtitleColor=MUTED, subtitleFontSize=11, offset=12),
        header=alt.HeaderConfig(labelFont=FONT, titleFont=FONT),
        legend=alt.LegendConfig(labelColor=INK, titleColor=INK, labelFontSize=11,
                                titleFontSize=11, orient="bottom", symbolStrokeWidth=2),
    )
    return chart


def _title(text: str, *subtitle: str) -> alt.TitleParams:
    return alt.TitleParams(text, subtitle=list(subtitle) or None)


def _subtitle(text: str) -> alt.TitleParams:
    """Title of one panel inside a compound chart."""
    return alt.TitleParams(text, fontSize=13)


def _period_text(period: str) -> str:
    return "whole measured period" if period == "total" else period


def _stats(results: Results, metrics: list[str], period: str | None = None) -> pd.DataFrame:
    """Summary rows of ``metrics`` for one period, or for every month when period is None."""
    s = results.summary()
    s = s[s["metric"].isin(metrics)]
    s = s[s["period"] != "total"] if period is None else s[s["period"] == period]
    return s.sort_values(["period", "metric"]).reset_index(drop=True)


def _money_axis(title: str) -> alt.Axis:
    """Axis with compact money labels (2.5M, 800k; billions as B)."""
    expr = "replace(format(datum.value, '.3~s'), 'G', 'B')"
    return alt.Axis(title=title, labelExpr=expr, tickCount=6)


def revenue_fan(results: Results) -> alt.LayerChart:
    """Monthly revenue: P10–P90 band, P50 line, mean (dashed) and revenue target."""
    cur, n = results.scenario.currency, results.replications
    s = _stats(results, ["revenue", "revenue_target"])
    band = s[s["metric"] == "revenue"].assign(band="Middle 80 % of replications (P10–P90)")
    target = s[s["metric"] == "revenue_target"].set_index("period")["mean"]
    lines = pd.concat([
        band.assign(series="Median (P50)", value=band["p50"]),
        band.assign(series="Mean", value=band["mean"]),
        band.assign(series="Target", value=band["period"].map(target).to_numpy()),
    ])[["period", "series", "value"]]  # fmt: skip
    x = alt.X("period:O", title="Month", axis=alt.Axis(labelAngle=0))
    area = alt.Chart(band).mark_area(opacity=0.55).encode(
        x=x, y=alt.Y("p10:Q", axis=_money_axis(f"Revenue booked ({cur})")), y2=alt.Y2("p90:Q"),
        fill=alt.Fill("band:N", scale=alt.Scale(range=[BAND]), legend=alt.Legend(title=None)),
        tooltip=[alt.Tooltip("period:O", title="Month")] + [
            alt.Tooltip(f"{c}:Q", title=f"{c.upper()} ({cur})", format=",.0f")
            for c in ("p10", "p50", "p90")],
    )  # fmt: skip
    series = ["Median (P50)", "Mean", "Target"]
    line = alt.Chart(lines).mark_line(point=True, strokeWidth=2.5).encode(
        x=x, y=alt.Y("value:Q"),
        color=alt.Color("series:N", scale=alt.Scale(domain=series, range=[BLUE, SLATE, RED]),
                        legend=alt.Legend(title=None, symbolType="stroke")),
        strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(
            domain=series, range=[[1, 0], [6, 4], [2, 3]]), legend=alt.Legend(title=None)),
        tooltip=[alt.Tooltip("period:O"), alt.Tooltip("series:N"),
                 alt.Tooltip("value:Q", format=",.0f", title=cur)],
    )  # fmt: skip
    chart = alt.layer(area, line).properties(
        width=520, height=300,
        title=_title(f"Revenue by month ({cur})", f"Band: P10–P90 across {n_replications(n)}; "
                     "target: the revenue target of each month"),
    )  # fmt: skip
    return _style(chart)


def breach_probabilities(results: Results, period: str = "any_month") -> alt.FacetChart:
    """Horizontal bars of P(breach) for every SLA commitment, grouped by side and coloured
    by risk (:data:`RISK_BANDS`: below 10 %, 10 to 50 %, 50 % or more).

    ``period`` ``any_month`` (the default, the risk model of every surface): the share of
    replications in which the commitment was missed in at least one measured month; a month
    label: that month; ``total``: the whole measured period judged as one."""
    from sla_sim.batch.breach import clause_risk

    labels = commitment_labels(results.scenario)
    if period == "any_month":
        p = clause_risk(results).set_index("clause")["p_any_month"]
        means = pd.Series({f"{k}_breach": p.get(k, np.nan) for _, k in COMMITMENTS})
    else:
        means = _stats(results, [f"{k}_breach" for _, k in COMMITMENTS], period)
        means = means.set_index("metric")["mean"]
    df = pd.DataFrame([{"side": side, "commitment": labels[k], "metric": f"{k}_breach",
                        "p_breach": float(means.get(f"{k}_breach", np.nan))}
                       for side, k in COMMITMENTS])  # fmt: skip
    df["risk"] = [risk_band(p) for p in df["p_breach"]]
    # a commitment the data cannot judge (a CRM export without its fields) says so: no bar
    # that could read as 0 %
    df["label"] = [prob(p) if p == p else "not measurable"
                   for p in df["p_breach"]]  # fmt: skip
    df["label_at"] = df["p_breach"].fillna(0.0)
    y = alt.Y("commitment:N", sort=list(df["commitment"]), title=None,
              axis=alt.Axis(labelLimit=260, minExtent=200, domain=False, ticks=False,
                            labelPadding=6))
    x = alt.X("p_breach:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(
        format="%", labelExpr=PCT_LABEL, values=[0, 0.25, 0.5, 0.75, 1],
        title="Probability of breach"))
    base = alt.Chart().encode(y=y, x=x)
    track = base.mark_bar(height=16, color="#f0f2f5").encode(x=alt.datum(1), x2=alt.datum(0))
    bars = base.mark_bar(height=16, cornerRadiusEnd=2).encode(
        color=alt.Color("risk:N", title="Risk of breach", scale=alt.Scale(
            domain=[b[1] for b in RISK_BANDS], range=[b[2] for b in RISK_BANDS]),
            legend=alt.Legend(orient="bottom", direction="horizontal", symbolType="square")),
        tooltip=[alt.Tooltip("side:N"), alt.Tooltip("commitment:N"),
                 alt.Tooltip("label:N", title="P(breach)"), alt.Tooltip("risk:N")])
    text = base.mark_text(align="left", dx=5, color=INK, fontSize=11).encode(
        x=alt.X("label_at:Q"), text=alt.Text("label:N"))
    header = alt.Header(title=None, labelOrient="top", labelAngle=0, labelAnchor="start",
                        labelFontSize=12, labelFontWeight="bold", labelColor=INK, labelPadding=0)
    chart = alt.layer(track, bars, text, data=df).properties(
        width=420, height=alt.Step(26)).facet(
        row=alt.Row("side:N", sort=list(SIDE_COLORS), header=header), spacing=10,
        title=_title("Probability of breaching each SLA commitment",
                     (f"Share of {n_replications(results.replications)} in which the commitment"
                      " was missed in at least one measured month" if period == "any_month"
                      else f"{_period_text(period)}; share of"
                      f" {n_replications(results.replications)} in which the commitment was"
                      " missed")),
    ).resolve_scale(y="independent")  # fmt: skip
    return _style(chart)


def compliance_distribution(results: Results, period: str = "total") -> alt.LayerChart:
    """Per clause, compliance in each replication (ticks), P10–P90 (bar), P50 (dot), target."""
    labels = commitment_labels(results.scenario)
    target = results.scenario.sla.lead_compliance_target
    t = results.table
    t = t[(t["period"] == period) & t["metric"].isin([f"{c}_compliance" for c in CLAUSES])]
    t = t.dropna(subset=["value"]).assign(
        clause=lambda d: d["metric"].str.removesuffix("_compliance").map(labels),
        share=lambda d: [percent(v) for v in d["value"]])  # as the headline prints it
    g = t.groupby("clause")["value"]  # no measurable clause: an empty frame, not a crash
    q = pd.DataFrame({"clause": list(g.groups), "p10": g.quantile(0.1).to_numpy(),
                      "p50": g.quantile(0.5).to_numpy(), "p90": g.quantile(0.9).to_numpy()})
    q["p50_text"] = [percent(v) for v in q["p50"]]
    order = [labels[c] for c in CLAUSES]
    lo = max(0.0, min(float(t["value"].min()) if len(t) else 1.0, target) - 0.03)
    xs = alt.Scale(domain=[lo, 1.0], nice=False, zero=False)
    y = alt.Y("clause:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    x = alt.X("p10:Q", scale=xs, axis=alt.Axis(format="%", labelExpr=PCT_LABEL,
                                               title="Share of MQLs meeting clause"))
    rng = alt.Chart(q).mark_bar(height=14, color=BAND, cornerRadius=2).encode(
        y=y, x=x, x2=alt.X2("p90"))
    ticks = alt.Chart(t).mark_tick(color=BLUE, thickness=1.5, size=20, opacity=0.7).encode(
        y=y, x=alt.X("value:Q", scale=xs),
        tooltip=[alt.Tooltip("clause:N"), alt.Tooltip("replication:O"),
                 alt.Tooltip("share:N", title="compliance")])
    med = alt.Chart(q).mark_point(filled=True, size=70, color=INK, shape="diamond").encode(
        y=y, x=alt.X("p50:Q"),
        tooltip=[alt.Tooltip("clause:N"), alt.Tooltip("p50_text:N", title="P50")])
    ref = pd.DataFrame({"target": [target], "label": [f"Target {prob(target)}"]})
    rule = alt.Chart(ref).mark_rule(color=RED, strokeDash=[5, 3], strokeWidth=2).encode(
        x=alt.X("target:Q"))
    rtext = alt.Chart(ref).mark_text(color=RED, align="left", dx=4, dy=-6, y=0).encode(
        x=alt.X("target:Q"), text=alt.Text("label:N"))
    chart = alt.layer(rng, ticks, med, rule, rtext).properties(
        width=420, height=alt.Step(36), title=_title(
            "SLA clause compliance across replications",
            f"{_period_text(period)}; tick = one replication, bar = P10–P90, diamond = P50"))
    return _style(chart)


def response_hours(event_log_df: pd.DataFrame) -> pd.Series:
    """Clock hours from MQL to the first attempt, one value per touched (lead, episode)."""
    keys = [c for c in ("replication", "lead", "episode") if c in event_log_df.columns]
    ev = event_log_df["event"].astype(str)
    mql = event_log_df[ev == "mql"].groupby(keys)["time_h"].min()
    first = event_log_df[(ev == "attempt") & (event_log_df["attempt"] == 0)]
    delta = first.groupby(keys)["time_h"].min() - mql
    return delta.dropna().rename("response_hours")


def _nice_step(raw: float) -> float:
    """Smallest 1, 2, 2.5 or 5 x 10^k at least ``raw``."""
    k = 10.0 ** np.floor(np.log10(raw))
    return float(next(m * k for m in (1, 2, 2.5, 5, 10) if m * k >= raw))


def measured_only(event_log_df: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The events of the MQL episodes that began inside the measured window (the warm-up is
    simulated, never reported), as the funnel and the headline count them."""
    from sla_sim.horizon import window_for

    w = window_for(scenario)
    keys = [c for c in ("replication", "lead", "episode") if c in event_log_df.columns]
    mql = event_log_df[event_log_df["event"].astype(str) == "mql"]
    inside = mql[(mql["time_h"] >= w.start_h) & (mql["time_h"] < w.end_h)][keys]
    return event_log_df.merge(inside.drop_duplicates(), on=keys, how="inner")


def response_time_hist(event_log_df: pd.DataFrame, scenario: Scenario) -> alt.LayerChart:
    """Histogram of clock hours MQL → first attempt, with median, P90 and the SLA marked: the
    MQLs of the measured window in the first replication."""
    h = response_hours(measured_only(event_log_df, scenario))
    sla = scenario.sla.first_touch_within_business_hours
    p50, p90, p99 = (float(h.quantile(q)) if len(h) else 0.0 for q in (0.5, 0.9, 0.99))
    step = _nice_step(max(p99, sla, 1e-3) / 40)
    edges = np.arange(0.0, max(p99, sla) + step, step)
    counts, _ = np.histogram(h[h <= p99], bins=edges)
    bins = pd.DataFrame({"start": edges[:-1], "end": edges[1:], "count": counts})
    bars = alt.Chart(bins).mark_bar(color=BLUE, opacity=0.85, binSpacing=1).encode(
        x=alt.X("start:Q", bin="binned", title="Clock hours from MQL to first attempt",
                scale=alt.Scale(domain=[0, float(edges[-1])], nice=False)),
        x2=alt.X2("end:Q"), y=alt.Y("count:Q", title="MQLs"),
        tooltip=[alt.Tooltip("start:Q", title="from h"), alt.Tooltip("end:Q", title="to h"),
                 alt.Tooltip("count:Q", title="MQLs")])  # fmt: skip
    names = [f"SLA: {sla:g} business h", f"Median: {p50:.1f} h", f"P90: {p90:.1f} h"]
    marks = pd.DataFrame({"x": [sla, p50, p90], "marker": names})
    rules = alt.Chart(marks).mark_rule(strokeWidth=2).encode(
        x=alt.X("x:Q"), tooltip=[alt.Tooltip("marker:N")],
        color=alt.Color("marker:N", sort=names, legend=alt.Legend(title=None, symbolType="stroke"),
                        scale=alt.Scale(domain=names, range=[RED, INK, SLATE])),
        strokeDash=alt.StrokeDash("marker:N", sort=names, legend=alt.Legend(title=None),
                                  scale=alt.Scale(domain=names, range=[[6, 3], [1, 0], [2, 2]])))
    chart = alt.layer(bars, rules).properties(width=520, height=260, title=_title(
        "Response time, MQL → first attempt (clock hours)",
        f"{len(h):,} touched MQLs of the measured window in one replication; median"
        f" {p50:.1f} h, P90 {p90:.1f} h"
        f" (clock hours); axis cut at P99 = {p99:.0f} h",
        "The SLA is in business hours on the team calendar: nights and weekends count here"
        " but not there."))
    return _style(chart)


def funnel_chart(results: Results, period: str = "total") -> alt.LayerChart:
    """Mean count at each funnel stage with the conversion between consecutive stages."""
    means = _stats(results, [m for m, _ in FUNNEL], period).set_index("metric")["mean"]
    df = pd.DataFrame({"stage": [lab for _, lab in FUNNEL],
                       "mean": [float(means.get(m, np.nan)) for m, _ in FUNNEL]})
    prev = df["mean"].shift()
    df["conversion"] = [f"↓ {percent(c)} of {p}" if pd.notna(c) else "" for c, p in
                        zip(df["mean"] / prev, df["stage"].shift(), strict=True)]  # fmt: skip
    y = alt.Y("stage:N", sort=list(df["stage"]), title=None,
              scale=alt.Scale(paddingInner=0.55), axis=alt.Axis(labelFontSize=12))
    base = alt.Chart(df).encode(y=y)
    bars = base.mark_bar(color=BLUE, cornerRadiusEnd=2).encode(
        x=alt.X("mean:Q", title="Mean count per replication"),
        tooltip=[alt.Tooltip("stage:N"), alt.Tooltip("mean:Q", format=",.1f")])
    counts = base.mark_text(align="left", dx=5, color=INK, fontSize=11, fontWeight="bold").encode(
        x=alt.X("mean:Q"), text=alt.Text("mean:Q", format=",.0f"))
    conv = base.mark_text(align="left", dx=4, dy=-25, color=SLATE, fontSize=11,
                          fontStyle="italic").encode(x=alt.XValue(0),
                                                           text=alt.Text("conversion:N"))
    chart = alt.layer(bars, counts, conv).properties(width=480, height=alt.Step(56), title=_title(
        "Funnel: mean volume per stage", f"{_period_text(period)}; {results.replications}"
        " replications; % = stage volume over the previous stage's volume"))
    return _style(chart)


def capacity_chart(results: Results) -> alt.HConcatChart:
    """SDR and AE utilisation by month (P50, P10–P90 whiskers) beside the MQLs waiting for an
    SDR: for a free slot (queue) and assigned but untouched (backlog, if measured)."""
    names = {"sdr_utilization": "SDR", "ae_utilization": "AE", "sdr_queue_mean": "SDR queue",
             "sdr_backlog_mean": "SDR backlog"}  # fmt: skip
    s = _stats(results, list(names)).assign(role=lambda d: d["metric"].map(names))
    for c in ("p10", "p50", "p90"):  # as the report's tables print them: 87.3 %, 24
        s[f"{c}_text"] = [metric_value(m, v) for m, v in zip(s["metric"], s[c], strict=True)]
    x = alt.X("period:O", title="Month", axis=alt.Axis(labelAngle=0))
    tip = [alt.Tooltip("period:O"), alt.Tooltip("role:N")] + [
        alt.Tooltip(f"{c}_text:N", title=c.upper()) for c in ("p10", "p50", "p90")]  # fmt: skip
    colour = alt.Color("role:N", title=None, scale=alt.Scale(
        domain=list(ROLE_COLORS), range=list(ROLE_COLORS.values())))
    u = s[~s["role"].isin(WAITING)]
    umax = max(1.0, float(u["p90"].max())) if len(u) else 1.0  # over 1: stretched by shrinkage
    util = alt.Chart(u).encode(x=x, xOffset=alt.XOffset(
        "role:N", sort=list(ROLE_COLORS)), color=colour, tooltip=tip)
    util = alt.layer(
        util.mark_rule(strokeWidth=2).encode(y=alt.Y("p10:Q", title="Utilisation (P50, P10–P90)",
            scale=alt.Scale(domain=[0, umax]), axis=alt.Axis(format="%", labelExpr=PCT_LABEL)),
            y2=alt.Y2("p90:Q")),
        util.mark_point(filled=True, size=80, opacity=1).encode(y=alt.Y("p50:Q")),
    ).properties(width=300, height=240, title=_subtitle("SDR and AE utilisation"))  # fmt: skip
    q = s[s["role"].isin(WAITING)]
    qmax = max(1.0, float(q["p90"].max()) * 1.1) if len(q) else 1.0
    wait_colour = alt.Color("role:N", title=None, scale=alt.Scale(
        domain=list(WAITING), range=list(WAITING.values())))
    queue = alt.Chart(q).encode(x=x, xOffset=alt.XOffset("role:N", sort=list(WAITING)),
                                color=wait_colour, tooltip=tip)
    queue = alt.layer(
        queue.mark_rule(strokeWidth=2).encode(y=alt.Y(
            "p10:Q", title="MQLs waiting for an SDR (time-weighted mean)",
            scale=alt.Scale(domain=[0, qmax])), y2=alt.Y2("p90:Q")),
        queue.mark_point(filled=True, size=80, opacity=1).encode(y=alt.Y("p50:Q")),
    ).properties(width=220, height=240, title=_subtitle(
        "SDR queue (no free slot) and backlog (assigned, untouched)"))  # fmt: skip
    chart = alt.hconcat(util, queue, spacing=40, title=_title(
        "Capacity by month", f"Dot = P50, whisker = P10–P90 across {results.replications}"
        " replications")).resolve_scale(color="independent")
    return _style(chart)


def save_chart(chart: Chart, path: str | Path) -> Path:
    """Save by extension (.png at scale 2, .svg, or .html with Vega inlined); creates folders."""
    p = Path(path)
    ext = p.suffix.lower()
    options = {".png": {"scale_factor": 2}, ".svg": {}, ".html": {"inline": True}}
    if ext not in options:
        raise ValueError(f"unsupported chart file extension {ext or '(none)'!r} for {p}:"
                         " use .png, .svg or .html")  # fmt: skip
    from sla_sim.batch.files import atomic_write

    # a temporary name keeping the extension, renamed into place (never a partial chart)
    return atomic_write(p, lambda tmp: chart.save(str(tmp), **options[ext]))


def svg_file_to_png(svg: str, path: str | Path, scale: float = 2.0) -> Path:
    """Rasterise an SVG drawn by :func:`save_chart` into a PNG (scale 2, as ``save_chart``),
    without compiling the chart a second time."""
    import vl_convert as vlc

    from sla_sim.batch.store import atomic_write_bytes

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(p, vlc.svg_to_png(svg, scale=scale))  # never a truncated PNG
    return p


def sweep_heatmap(table: pd.DataFrame, x: str, y: str, metric: str, title: str,
                  x_title: str | None = None, y_title: str | None = None,
                  met: bool = False) -> alt.LayerChart:  # fmt: skip
    """Heatmap over two swept parameters of a 0/1 metric's mean for the whole period:
    P(breach), or P(met) = 1 - mean when ``met`` (e.g. P(revenue >= target)).

    ``table`` is a sweep table (sla_sim.batch.sweep.sweep): parameter columns ``x`` and ``y``, then
    period, metric, value. Combine two heatmaps with ``.resolve_scale(color="independent")``.
    """
    t = table[(table["period"] == "total") & (table["metric"] == metric)]
    if t.empty:
        raise ValueError(f"the sweep table has no rows for metric {metric!r}")
    g = t.groupby([x, y], as_index=False)["value"].mean()
    g = g.rename(columns={x: "x", y: "y"})
    g["p"] = 1 - g["value"] if met else g["value"]
    # coloured by the risk of a miss, with the bands of the planner's breach bars: a 60 %
    # chance of meeting the target is a 40 % risk (medium), never a reassuring dark green
    g["risk"] = [risk_band(v) for v in g["value"]]
    g["label"] = [prob(v) for v in g["p"]]  # as every table prints a probability: 40 %, <0.1 %
    x_title, y_title = x_title or x, y_title or y
    base = alt.Chart(g).encode(x=alt.X("x:O", title=x_title, axis=alt.Axis(labelAngle=0)),
                               y=alt.Y("y:O", title=y_title, sort="descending"))
    cells = base.mark_rect().encode(
        color=alt.Color("risk:N", title="Risk of a miss", scale=alt.Scale(
            domain=[b[1] for b in RISK_BANDS], range=[b[2] for b in RISK_BANDS]),
            legend=alt.Legend(orient="bottom", direction="horizontal", symbolType="square")),
        tooltip=[alt.Tooltip("x:O", title=x_title), alt.Tooltip("y:O", title=y_title),
                 alt.Tooltip("label:N", title=title),
                 alt.Tooltip("risk:N", title="Risk of a miss")])  # fmt: skip
    text = base.mark_text(fontSize=12, color="white", fontWeight="bold").encode(
        text=alt.Text("label:N"))
    return (cells + text).properties(width=300, height=220, title=title)


#: Risk bands of a breach probability: (upper bound, label, colour); a bar is coloured by the
#: band its P(breach) falls in, whatever side of the SLA it belongs to.
RISK_BANDS = ((0.10, "low: below 10 %", "#3a9b6b"), (0.50, "medium: 10 to 50 %", "#e08a2c"),
              (float("inf"), "high: 50 % or more", "#c43c39"))  # fmt: skip


def risk_band(p: float) -> str:
    """The risk band label of a breach probability (``low``/``medium``/``high``...)."""
    if p != p:  # NaN: no data
        return RISK_BANDS[0][1]
    return next(label for upper, label, _ in RISK_BANDS if p < upper)


def risk_colour(p: float) -> str:
    """The colour a breach probability is drawn in."""
    return {label: colour for _, label, colour in RISK_BANDS}[risk_band(p)]


def breach_heatmap(results: Results) -> alt.LayerChart:
    """P(breach) of every SLA commitment in each measured month: a commitment x month grid,
    darker = likelier (a commitment met over the whole period can still break in one month)."""
    labels = commitment_labels(results.scenario)
    s = _stats(results, [f"{k}_breach" for _, k in COMMITMENTS])
    means = s.set_index(["period", "metric"])["mean"]
    months = sorted(s["period"].unique())
    df = pd.DataFrame([{"commitment": labels[k], "side": side, "month": m,
                        "p_breach": float(means.get((m, f"{k}_breach"), np.nan))}
                       for side, k in COMMITMENTS for m in months])  # fmt: skip
    df["cell"] = [prob(p) for p in df["p_breach"]]  # as the P(breach) by month table prints it
    base = alt.Chart(df).encode(
        x=alt.X("month:O", title="Month", axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("commitment:N", sort=[labels[k] for _, k in COMMITMENTS], title=None,
                axis=alt.Axis(labelLimit=260)))  # fmt: skip
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color("p_breach:Q", title="P(breach)", scale=alt.Scale(
            domain=[0, 0.1, 0.5, 1], range=["#f4f6f8", "#fbe3c2", "#eb9a5a", "#c43c39"]),
            legend=alt.Legend(format="%", labelExpr=PCT_LABEL, values=[0, 0.1, 0.5, 1],
                              gradientLength=160)),
        tooltip=[alt.Tooltip("side:N"), alt.Tooltip("commitment:N"), alt.Tooltip("month:O"),
                 alt.Tooltip("cell:N", title="P(breach)")])  # fmt: skip
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("cell:N"),
        color=alt.condition("datum.p_breach >= 0.5", alt.value("white"), alt.value(INK)))
    chart = alt.layer(cells, text).properties(
        width=alt.Step(76), height=alt.Step(26), title=_title(
            "Probability of breach by month",
            f"share of {n_replications(results.replications)} in which the commitment was missed"
            " that month"))  # fmt: skip
    return _style(chart)
