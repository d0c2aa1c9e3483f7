"""The results report: report.md, a self-contained report.html and the charts behind them.

One list of blocks (headings, paragraphs, lists, tables, charts) is built from a
:class:`~sla_sim.batch.results.Results` and rendered twice: as Markdown that links ``charts/*.png``,
and as one HTML page with inline CSS and the SVG charts inlined, so that it opens offline with
no external request and no JavaScript. :func:`headline_table` is the short table the CLI prints.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sla_sim.metrics.clauses import CLAUSES
from sla_sim.metrics.docs import METRIC_DOCS
from sla_sim.metrics.numbers import DASH, count, money, percent, prob
from sla_sim.report.labels import commitment_labels, display_name

if TYPE_CHECKING:
    from sla_sim.batch.results import Results

__all__ = ["headline_table", "write_report"]

KPIS = (
    ("deal_closure_rate", "Deal closure rate"),
    ("sales_cycle_days_mean", "Sales cycle, days (mean of deals closed)"),
    ("response_hours_p50", "Response, clock hours, median"),
    ("response_hours_p90", "Response, clock hours, P90"),
    ("response_business_hours_p50", "Response, business hours, median"),
    ("response_business_hours_p90", "Response, business hours, P90"),
    ("sdr_utilization", "SDR utilisation"),
    ("ae_utilization", "AE utilisation"),
    ("sdr_queue_mean", "SDR queue, MQLs waiting for a free slot (time-weighted mean)"),
    ("sdr_backlog_mean", "SDR backlog, MQLs assigned but untouched (time-weighted mean)"),
    ("sdr_backlog_age_p90", "SDR backlog age, hours to first attempt, P90"),
    ("sdr_reassigned_rate", "Assignments taken back untouched (reassigned)"),
    ("ae_queue_mean", "AE queue, SQLs (time-weighted mean)"),
)
SHORT = {"mql_volume": "MQL volume", "acceptance": "Acceptance", "handoff": "Handoff",
         "first_touch": "First touch", "attempts": "Attempts", "disposition": "Disposition",
         "revenue_target": "Revenue"}  # fmt: skip
STATES = {"in_flight": "In flight at the end", "won": "Won", "lost": "Lost",
          "disqualified": "Disqualified", "nurture_expired": "Nurture expired"}  # fmt: skip
FUNNEL_METRICS = ("leads_created", "mqls", "sqls", "opportunities", "wins")

Block = tuple[str, Any]


# ---------------------------------------------------------------------------------- formatting
def fmt(x: Any, kind: str, currency: str = "") -> str:
    """Format a number of a kind (money, pct, prob, count) as :mod:`sla_sim.metrics.numbers`
    writes it on every other surface (``USD 6.82M``, ``87.5 %``, ``1,234``); missing values as
    an en dash, a value that is no number as its text."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if np.isnan(v):
        return DASH
    if kind == "money":
        return money(v, currency)
    if kind == "pct":
        return percent(v)
    return prob(v) if kind == "prob" else count(v)


def _seconds(x: Any) -> str:
    """A wall time as the terminal prints it: ``127.5 s`` (an en dash when unknown)."""
    return DASH if not isinstance(x, (int, float)) or x != x else f"{x:.1f} s"


def _rows(results: Results) -> list[dict[str, Any]]:
    """Headline rows (whole measured period) as numbers, with a format kind per row."""
    sc, s = results.scenario, results.summary()
    tot = s[s["period"] == "total"].set_index("metric")

    def stat(metric: str, col: str) -> float:
        return float(tot[col].get(metric, np.nan))

    from sla_sim.batch.breach import clause_risk

    risk = clause_risk(results).set_index("clause")
    labels = commitment_labels(sc)
    spec = [("Revenue", "revenue", stat("revenue_target", "mean"), "revenue_target", "money"),
            ("MQL volume", "mqls", stat("mql_commitment", "mean"), "mql_volume", "count"),
            ("Acceptance rate", "acceptance_rate", sc.sla.acceptance_rate_min, "acceptance",
             "pct")]  # fmt: skip
    spec += [(f"{labels[c]} (compliance)", f"{c}_compliance", sc.sla.lead_compliance_target, c,
              "pct") for c in CLAUSES]  # fmt: skip
    return [{"commitment": label, "metric": metric, "kind": kind,
             **{c: stat(metric, c) for c in ("mean", "p10", "p50", "p90")},
             "target": target, "p_breach": stat(f"{key}_breach", "mean"),
             "p_any_month": float(risk.loc[key, "p_any_month"]),
             "worst_month": risk.loc[key, "worst_month"],
             "p_worst_month": float(risk.loc[key, "p_worst_month"])}
            for label, metric, target, key, kind in spec]  # fmt: skip


#: Column titles of the risk model (:func:`sla_sim.batch.breach.clause_risk`), the same on
#: every surface: a month's breach first, the whole window labelled as such.
RISK_COLUMNS = ("P(some month breached)", "Worst month", "P(whole period breached)")


def risk_cells(r: dict[str, Any], prob: Callable[[Any], str]) -> dict[str, str]:
    """The three risk cells of a headline row, formatted by ``prob``."""
    from sla_sim.report.units import worst_month

    return dict(zip(RISK_COLUMNS, (prob(r["p_any_month"]), worst_month(r), prob(r["p_breach"])),
                    strict=True))


def headline_table(results: Results, formatted: bool = True) -> pd.DataFrame:
    """Revenue, marketing commitments and SLA clauses over the whole measured period: mean,
    P10, P50, P90, target or threshold, and the risk: P(at least one month breaches), the worst
    month, P(the whole period breaches); formatted as text unless told not to."""
    rows = _rows(results)
    if not formatted:
        return pd.DataFrame(rows)
    cur = results.scenario.currency
    cols = {"mean": "Mean", "p10": "P10", "p50": "P50", "p90": "P90"}
    # a share's target is a term of the SLA: written as its label, the P(breach) table and
    # sla.md write it (``20 %``, ``31.7 %``), not as a measured share (``20.0 %``)
    out = [{"Commitment": r["commitment"],
            **{title: fmt(r[k], r["kind"], cur) for k, title in cols.items()},
            "Target": fmt(r["target"], "prob" if r["kind"] == "pct" else r["kind"], cur),
            **risk_cells(r, lambda v: fmt(v, "prob"))} for r in rows]  # fmt: skip
    return pd.DataFrame(out)


def _stats_table(results: Results, items: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    """The KPIs' mean, P10, P50, P90 in their units as ``compare``, the planner and the
    notebooks print the same metric (``2.3 h``, ``38.6 days``, ``59.9 %``), not bare
    ``2.33``."""
    from sla_sim.report.units import metric_value

    s = results.summary()
    tot = s[s["period"] == "total"].set_index("metric")
    rows = []
    for metric, label in items:
        if metric in tot.index:
            r = tot.loc[metric]
            rows.append({"KPI": label, "Unit": METRIC_DOCS[metric][0],
                         **{c.upper() if c != "mean" else "Mean": metric_value(metric, r[c])
                            for c in ("mean", "p10", "p50", "p90")}})  # fmt: skip
    return pd.DataFrame(rows)


def _breach_by_month(results: Results) -> pd.DataFrame:
    s = results.summary()
    s = s[s["metric"].str.endswith("_breach")]
    wide = s.pivot_table(index="period", columns="metric", values="mean", aggfunc="first")
    periods = [*sorted(p for p in wide.index if p != "total"), "total"]
    out = pd.DataFrame({"Period": [p if p != "total" else "Whole period" for p in periods]})
    for key, name in SHORT.items():
        col = wide.get(f"{key}_breach", pd.Series(np.nan, index=wide.index))
        out[name] = [fmt(col.get(p, np.nan), "prob") for p in periods]
    return out


#: Lead outcomes counted in the measured window, in funnel order: (metric, label).
OUTCOMES = (("leads_created", "Leads created"), ("mqls", "MQL episodes started"),
            ("sqls", "Accepted as SQL"), ("opportunities", "Opportunities opened"),
            ("wins", "Won"), ("losses", "Lost"), ("disqualified", "Disqualified after contact"),
            ("recycled", "Recycled to nurture"), ("nurture_expired", "Left nurture (expired)"))


def _outcomes(results: Results) -> pd.DataFrame:
    """What happened to leads inside the measured window (warm-up excluded): the same counts
    as the funnel and the headline, mean and P10-P90 per replication."""
    s = results.summary()
    tot = s[s["period"] == "total"].set_index("metric")
    rows = [{"Outcome": label, "Metric": metric,
             **{c.upper() if c != "mean" else "Mean": fmt(tot.loc[metric, c], "count")
                for c in ("mean", "p10", "p90")}}
            for metric, label in OUTCOMES if metric in tot.index]  # fmt: skip
    return pd.DataFrame(rows)


MEASURED = "measured_"  # prefix of the counts of leads created in the measured window


def _terminal(results: Results) -> pd.DataFrame:
    """Mean final state of the leads created in the measured window (adding up to the funnel's
    leads created) beside that of every lead of the run, warm-up included."""
    mean = results.terminal.drop(columns="replication").mean()
    whole = mean[[k for k in mean.index if not str(k).startswith(MEASURED)]]
    inside = mean[[k for k in mean.index if str(k).startswith(MEASURED)]]
    inside.index = [str(k).removeprefix(MEASURED) for k in inside.index]
    out = pd.DataFrame({"State": [STATES.get(k, k) for k in whole.index]})
    if len(inside):
        n_in = float(inside.sum())
        out["Leads created in the measured window"] = [fmt(inside.get(k, np.nan), "count")
                                                       for k in whole.index]
        out["Share"] = [fmt(inside.get(k, np.nan) / n_in if n_in else np.nan, "pct")
                        for k in whole.index]
    n_all = float(whole.sum())
    out["All leads of the run (warm-up included)"] = [fmt(v, "count") for v in whole]
    out["Share of all"] = [fmt(v / n_all if n_all else np.nan, "pct") for v in whole]
    return out


def _glossary() -> pd.DataFrame:
    used = ["revenue", "revenue_target", "revenue_target_breach", "mqls", "mql_commitment",
            "mql_volume_breach", "acceptance_rate", "acceptance_breach", *FUNNEL_METRICS]
    for c in CLAUSES:
        used += [f"{c}_compliance", f"{c}_breach", f"{c}_pending"]
    used += [m for m, _ in KPIS]
    names = list(dict.fromkeys(m for m in used if m in METRIC_DOCS))
    return pd.DataFrame({"Metric": names, "Unit": [METRIC_DOCS[m][0] for m in names],
                         "Meaning": [METRIC_DOCS[m][1] for m in names]})


# ------------------------------------------------------------------------------------- content
def _charts(results: Results) -> list[tuple[str, str, Callable[[], Any]]]:
    from sla_sim.report import charts as viz  # plotting is imported only when charts are drawn

    r = results
    out = [("revenue_fan", "Revenue by month", lambda: viz.revenue_fan(r)),
           ("breach_probabilities", "Probability of breach", lambda: viz.breach_probabilities(r)),
           ("compliance_distribution", "Clause compliance",
            lambda: viz.compliance_distribution(r)),
           ("funnel", "Funnel", lambda: viz.funnel_chart(r)),
           ("capacity", "Capacity", lambda: viz.capacity_chart(r))]  # fmt: skip
    if r.event_log is not None and len(r.event_log):
        out.append(("response_time", "Response time",
                    lambda: viz.response_time_hist(r.event_log, r.scenario)))
    return out


def _measured_fact(results: Results) -> str:
    """Which months the numbers cover: the scenario's window after its warm-up, or the months
    a measured CRM export covers (its base scenario's horizon is not what was measured)."""
    from sla_sim.report.units import measured_months, period_span

    sc = results.scenario
    h, cur = sc.horizon, sc.currency
    if measured_months(results) == measured_months(sc):
        return (f"Measured: {h.measure_months} month(s) from {h.measure_start.isoformat()}"
                f" after {h.warmup_days} warm-up days ({h.timezone}); money in {cur}")
    return (f"Measured: {period_span(results)}, the months of the data ({h.timezone}); money"
            f" in {cur}")


def _blocks(results: Results, charts: list[tuple[str, str]]) -> list[Block]:
    sc, m, cur = results.scenario, results.meta, results.scenario.currency
    h = sc.horizon
    rows = {r["metric"]: r for r in _rows(results)}
    rev = rows["revenue"]
    p_hit = 1 - rev["p_breach"]
    facts = [f"Replications: {m.get('replications', results.replications)}",
             f"Seed: {m.get('seed', '–')}", f"Scenario hash: {m.get('scenario_hash', '–')}",
             f"sla_sim version: {m.get('sla_sim_version', '–')}",
             f"Created (UTC): {m.get('created_utc', '–')}",
             # one decimal, as the terminal's 'run ...: 4 replications in 127.5 s'
             f"Wall time: {_seconds(m.get('wall_seconds'))} on {m.get('workers', '–')}"
             " worker(s)",
             _measured_fact(results)]  # fmt: skip
    blocks: list[Block] = [("h1", f"SLA simulation report: {display_name(sc.name)}")]
    if sc.description:
        blocks.append(("p", sc.description))
    blocks += [
        ("h2", "Run"), ("ul", facts),
        ("h2", "Headline: whole measured period"),
        ("p", f"Revenue P50 {fmt(rev['p50'], 'money', cur)} (P10 {fmt(rev['p10'], 'money', cur)}"
              f", P90 {fmt(rev['p90'], 'money', cur)}) against a target of"
              f" {fmt(rev['target'], 'money', cur)}. P(revenue ≥ target) = {fmt(p_hit, 'prob')}."),
        ("table", headline_table(results)),
        ("p", "Marketing commits to the MQL volume and the acceptance rate (MQL quality); sales"
              " commits to the per-lead clauses, each met when at least"
              f" {prob(sc.sla.lead_compliance_target)} of MQLs meet it. An SLA is signed and"
              " reviewed per month: P(some month breached) is the share of replications in which"
              " the commitment was missed in at least one measured month, the worst month is the"
              " month most likely to miss it, and P(whole period breached) judges the whole"
              " measured period as one. MQLs whose deadline falls after"
              " the end of observation are pending and count in neither compliance nor breach."),
        *_money_blocks(results),
        ("h2", "KPIs: whole measured period"), ("table", _stats_table(results, KPIS)),
        ("h2", "P(breach) by month"), ("table", _breach_by_month(results)),
        ("h2", "Lead outcomes in the measured window"),
        ("p", "Events inside the measured window only (the warm-up is simulated but not"
              " counted), mean over replications: the same numbers as the funnel chart and the"
              " headline. A deal won in the window may come from a lead created in the warm-up."),
        ("table", _outcomes(results)),
        ("h2", "Lead terminal states"),
        ("p", "Every lead ends in exactly one of these states at the end of the horizon (mean"
              " over replications). The leads created in the measured window add up to the"
              " funnel's leads created; the last columns count every lead of the run, the"
              f" {h.warmup_days} warm-up days' included, so they are larger. A lead created late"
              " in the window may still be in flight."),
        ("table", _terminal(results)),
        ("h2", "Charts"),
    ]  # fmt: skip
    blocks += [("chart", c) for c in charts]
    blocks += [("h2", "Glossary"), ("table", _glossary())]
    return blocks


def _money_blocks(results: Results) -> list[Block]:
    """Cost, profit and CAC (whole period, and cost by component per month), if known."""
    from sla_sim.report.money import cost_by_month, money_table

    table = money_table(results)
    if table is None:
        return []
    cur = results.scenario.currency
    by_month = cost_by_month(results)
    wide = by_month.pivot_table(index="component", columns="period", values="cost",
                                aggfunc="first", sort=False).reset_index()  # fmt: skip
    for col in wide.columns[1:]:
        wide[col] = [fmt(v, "money", cur) for v in wide[col]]
    return [
        ("h2", "Money: whole measured period"),
        ("p", f"Costs in {cur} from the scenario's costs section (or its benchmark defaults):"
              " SDR rep-months on the payroll and hires, AEs and commission on booked revenue,"
              " and a price per lead and fixed spend per channel. Gross profit = revenue -"
              " cost; CAC = cost / wins, undefined in a replication without a win (counted in"
              " 'defined in')."),
        ("table", table),
        ("h2", "Cost per month by component (mean over replications)"),
        ("table", wide.rename(columns={"component": "Cost of"})),
    ]  # fmt: skip


# ----------------------------------------------------------------------------------- rendering
def _md_cell(x: Any) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def _to_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for kind, body in blocks:
        if kind in ("h1", "h2"):
            out.append(f"{'#' * int(kind[1])} {_md_text(body)}")
        elif kind == "p":
            out.append(_md_text(body))
        elif kind == "ul":
            out.append("\n".join(f"- {_md_text(item)}" for item in body))
        elif kind == "table":
            lines = ["| " + " | ".join(map(_md_cell, body.columns)) + " |",
                     "|" + "|".join("---" for _ in body.columns) + "|"]  # fmt: skip
            lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in body.to_numpy()]
            out.append("\n".join(lines))
        elif kind == "chart":
            name, title = body
            out.append(f"### {title}\n\n![{title}](charts/{name}.png)\n\n"
                       f"[SVG](charts/{name}.svg)")  # fmt: skip
    return "\n\n".join(out) + "\n"


def _md_text(text: str) -> str:
    """Text for Markdown with HTML's special characters as entities: a scenario's name or
    description such as ``<script>`` is shown, never run by a viewer that renders HTML."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inline_svg(svg: str, prefix: str) -> str:
    """An SVG made safe to inline in an HTML page: no XML prolog, no namespace URLs, ids
    prefixed so that several charts on one page do not share clip paths, responsive size."""
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r'((?<![\w-])id="|url\(#|href="#)', lambda mo: mo.group(1) + prefix + "-", svg)
    return svg.replace("<svg ", '<svg role="img" style="max-width:100%;height:auto" ', 1)


CSS = """body{font-family:"Helvetica Neue",Helvetica,Arial,sans-serif;color:#1f2933;
max-width:1080px;margin:2rem auto;padding:0 1.5rem;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.3rem}h2{font-size:1.25rem;margin-top:2.2rem;
border-bottom:2px solid #e4e7eb;padding-bottom:.3rem}h3{font-size:1.05rem;margin-top:1.6rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.88rem}
th,td{padding:.35rem .7rem;border-bottom:1px solid #e4e7eb;text-align:right}
th:first-child,td:first-child,td.text,th.text{text-align:left}
th{background:#f5f7fa;font-weight:600}
tr:hover td{background:#fafbfc}ul{padding-left:1.2rem}p{max-width:60rem}
figure{margin:1rem 0 2rem}code{font-size:.85rem}"""


#: Table columns holding words, not numbers: aligned left in the HTML report.
TEXT_COLUMNS = ("Meaning", "Unit", "Metric", "Outcome", "State", "KPI", "Commitment", "Period")


_FIELD = re.compile(r"(?<![\w.])[a-z][a-z0-9]*(?:_[a-z0-9]+|\[\])*(?:\.[a-z][a-z0-9_]*)*"
                    r"(?:_[a-z0-9]+)(?![\w(])|(?<![\w.])[a-z]+(?:\[\])?\.[a-z_]+(?![\w(])")


def _code_spans(escaped: str) -> str:
    """The field and metric names of a glossary cell set as code (a reference for the fields
    of summary.json and the tables), the words around them as text."""
    return _FIELD.sub(lambda m: f"<code>{m.group(0)}</code>", escaped)


def _to_html(blocks: list[Block], svgs: dict[str, str], title: str) -> str:
    e = html.escape
    out: list[str] = []
    for kind, body in blocks:
        if kind in ("h1", "h2", "p"):
            out.append(f"<{kind}>{e(body)}</{kind}>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in body) + "</ul>")
        elif kind == "table":
            code = list(body.columns[:1]) == ["Metric"]  # glossary: metric names as code
            text = [c in TEXT_COLUMNS for c in body.columns]  # prose reads left-aligned
            head = "".join(f"<th class='text'>{e(str(c))}</th>" if t else f"<th>{e(str(c))}</th>"
                           for c, t in zip(body.columns, text, strict=True))  # fmt: skip
            names = [c in ("Metric", "Meaning") for c in body.columns]
            rows = "".join("<tr>" + "".join(
                f"<td><code>{e(str(v))}</code></td>" if j == 0 and code
                else f"<td class='text'>{_code_spans(e(str(v)))}</td>" if names[j]
                else f"<td class='text'>{e(str(v))}</td>" if text[j] else f"<td>{e(str(v))}</td>"
                for j, v in enumerate(row)) + "</tr>" for row in body.to_numpy())  # fmt: skip
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "chart":
            name, ctitle = body
            out.append(f"<h3>{e(ctitle)}</h3><figure>{svgs[name]}</figure>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(title)}</title><style>{CSS}</style></head>\n<body>\n"
            + "\n".join(out) + "\n</body></html>\n")  # fmt: skip


def write_report(results: Results, out_dir: str | Path) -> dict[str, Path]:
    """Write charts/*.svg and charts/*.png, report.md and a self-contained report.html into
    ``out_dir``; return the written files keyed by their path relative to it."""
    import sys

    from sla_sim.batch.files import atomic_write_text

    # jsonschema (altair's spec validator) imports rfc3987_syntax when it is installed, which
    # compiles ~40 grammars for IRI checks no chart spec uses: 2-7 s of every report. Without
    # it jsonschema simply skips the "iri" format.
    if "altair" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    from sla_sim.report import charts as viz

    out = Path(out_dir)
    written: dict[str, Path] = {}
    svgs: dict[str, str] = {}
    charts = _charts(results)
    for name, _title, build in charts:
        svg, png = f"charts/{name}.svg", f"charts/{name}.png"
        written[svg] = viz.save_chart(build(), out / svg)
        text = written[svg].read_text(encoding="utf-8")
        written[png] = viz.svg_file_to_png(text, out / png)  # the same drawing, not redrawn
        svgs[name] = inline_svg(text, name)
    blocks = _blocks(results, [(n, t) for n, t, _ in charts])
    md, page = out / "report.md", out / "report.html"
    atomic_write_text(md, _to_markdown(blocks))
    title = f"SLA simulation report: {display_name(results.scenario.name)}"
    atomic_write_text(page, _to_html(blocks, svgs, title))
    written["report.md"], written["report.html"] = md, page
    return written
