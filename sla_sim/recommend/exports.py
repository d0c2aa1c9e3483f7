"""Exports of a recommendation: recommendation.json (versioned, with a JSON Schema),
recommendation.csv (one row per commitment, for a CRM admin), sla.md / sla.html (the draft SLA
document), recommended.yaml (valid input to ``sla-sim run``) and charts (offline SVG/PNG)."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from sla_sim.batch.safe_csv import write_rows
from sla_sim.recommend.document import sections
from sla_sim.recommend.engine import FIRST_TOUCH_MENU, Recommendation
from sla_sim.scenario.labels import display_name
from sla_sim.scenario.schema import Scenario

#: Headings of the charts in sla.html.
CHART_TITLES = {"menu": "Trade-off menu", "tornado": "Sensitivity",
                "p_met": "P(met) per clause and month", "frontier": "Cost versus confidence"}
#: Version of the recommendation.json layout; bump on any incompatible change.
SCHEMA_VERSION = "2.1"
CSV_COLUMNS = ("side", "clause", "target", "unit", "share", "clock", "period", "p_met",
               "p_met_low", "p_met_high", "status")  # fmt: skip
#: Clauses judged per lead: the month is met when this share of its MQLs meets the term.
PER_LEAD = ("handoff", "first_touch", "attempts", "disposition")

_NUM = {"type": ["number", "null"]}
_P = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_CELL = {"type": "object", "required": ["month", "p_met", "p_met_low", "p_met_high", "n"],
         "properties": {"month": {"type": "string"}, "p_met": _P, "p_met_low": _P,
                        "p_met_high": _P, "n": {"type": "integer", "minimum": 0}}}  # fmt: skip

JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "sla-sim recommendation",
    "type": "object",
    "required": ["schema_version", "request", "commitments", "headcount", "revenue", "volumes",
                 "menu", "sensitivity", "binding_clause", "run"],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "request": {
            "type": "object",
            "required": ["revenue_target_per_month", "confidence", "keep", "replications",
                         "seed"],
            "properties": {
                "revenue_target_per_month": {"type": "number", "minimum": 0},
                "confidence": {"type": "number", "exclusiveMinimum": 0.5,
                               "exclusiveMaximum": 0.999},
                "keep": {"type": "array", "items": {"type": "string"}},
                "replications": {"type": "integer", "minimum": 2},
                "seed": {"type": "integer", "minimum": 0},
                "first_touch_menu_hours": {"type": "array", "items": {"type": "number"}},
                "revenue_confidence": {"type": "number", "minimum": 0.5, "maximum": 1},
            },
        },
        "commitments": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object",
                "required": ["side", "clause", "statement", "target", "unit", "clock", "period",
                             "basis", "p_met", "p_met_low", "p_met_high", "p_met_per_month",
                             "how"],
                "additionalProperties": False,
                "properties": {
                    "side": {"enum": ["marketing", "handoff", "sales"]},
                    "clause": {"type": "string"},
                    "statement": {"type": "string"},
                    "target": {"type": "number"},
                    "unit": {"type": "string"},
                    "clock": {"type": "string"},
                    "period": {"type": "string"},
                    "basis": {"type": "string"},
                    "p_met": _P, "p_met_low": _P, "p_met_high": _P,
                    "p_met_per_month": {"type": "array", "items": _CELL},
                    "how": {"type": "string"},
                    "status": {"type": "string"},
                },
            },
        },
        "headcount": {
            "type": "array",
            "items": {"type": "object", "required": ["team", "role", "analytic", "simulated"],
                      "properties": {"team": {"type": "string"}, "role": {"enum": ["SDR", "AE"]},
                                     "analytic": {"type": "integer", "minimum": 1},
                                     "simulated": {"type": "integer", "minimum": 1},
                                     "kept": {"type": "boolean"}, "basis": {"type": "object"}}},
        },
        "revenue": {
            "type": "array",
            "items": {"type": "object",
                      "required": ["period", "p10", "p50", "p90", "target", "p_ge_target"],
                      "properties": {"period": {"type": "string"}, "p10": _NUM, "p50": _NUM,
                                     "p90": _NUM, "mean": _NUM, "target": _NUM,
                                     "p_ge_target": _P, "p_ge_target_low": _P,
                                     "p_ge_target_high": _P}},
        },
        "volumes": {"type": "array", "items": {"type": "object", "required": ["channel"]}},
        "menu": {"type": "array",
                 "items": {"type": "object", "required": ["first_touch_hours", "sdrs", "feasible"],
                           "properties": {"first_touch_hours": {"type": "number"},
                                          "sdrs": {"type": ["integer", "null"]},
                                          "aes": {"type": "integer"},
                                          "p_met": _P, "revenue_p50": _NUM,
                                          "feasible": {"type": "boolean"}}}},
        "sensitivity": {"type": "object", "required": ["step", "replications", "inputs"],
                        "properties": {"step": {"type": "number"},
                                       "replications": {"type": "integer"},
                                       "inputs": {"type": "array",
                                                  "items": {"type": "object",
                                                            "required": ["input"]}}}},
        "binding_clause": {"type": "string"},
        "shortfalls": {"type": "array", "items": {"type": "object",
                                                  "required": ["clause", "status",
                                                               "statement"]}},
        "policies": {"type": "object"},
        "money": {"type": "object",
                  "required": ["replications", "currency", "revenue_per_month_mean",
                               "cost_per_month_mean", "profit_per_month_mean"],
                  "properties": {"replications": {"type": "integer"},
                                 "currency": {"type": "string"},
                                 "revenue_per_month_mean": _NUM, "cost_per_month_mean": _NUM,
                                 "profit_per_month_mean": _NUM,
                                 "cost_components": {"type": "object"}}},
        "marginal": {"type": "array",
                     "items": {"type": "object",
                               "required": ["lever", "from", "to", "step", "possible"],
                               "properties": {"lever": {"type": "string"},
                                              "from": {"type": "integer"},
                                              "to": {"type": "integer"},
                                              "step": {"enum": [1, -1]},
                                              "possible": {"type": "boolean"},
                                              "revenue_per_month": _NUM,
                                              "cost_per_month": _NUM,
                                              "profit_per_month": _NUM,
                                              "profit_per_month_low": _NUM,
                                              "profit_per_month_high": _NUM,
                                              "sales_p_met_worst": _P,
                                              "ae_capacity_p_met_worst": _P,
                                              "revenue_p_ge_target_worst": _P}}},
        "revenue_menu": {"type": "array",
                         "items": {"type": "object",
                                   "required": ["revenue_confidence", "leads_per_month"]}},
        "method": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "array", "items": {"type": "string"}},
        "run": {"type": "object",
                "required": ["seed", "replications", "scenario_hash", "sla_sim_version"]},
    },
}

METHOD = [
    "Analytic first guess: reverse funnel (revenue target -> wins -> SQLs -> MQLs -> leads per"
    " channel); SDRs from Erlang C (one shared queue under pull assignment, a private M/M/1"
    " backlog per rep under immediate assignment), a fluid week (night and weekend MQLs waiting"
    " for the opening; when the earliest due attempt goes first, the follow-ups due over the"
    " weekend are served before Monday's new MQLs) and lead slots (Little's law); AEs from"
    " Little's law on open opportunities (Poisson quantile) and square-root staffing on the"
    " selling hours (SQLs per AE business hour x business hours each).",
    "Volumes: simulated with generous staffing and rescaled (twice) so that P(revenue >="
    " target) reaches the revenue confidence in every month, the target following the MQL"
    " commitment's month basis (mean revenue grows like the volume, its spread like its square"
    " root); when the staffed plan then misses it (it answers slower than the probe), volumes"
    " are raised once more, sized on the one-sided 90% lower bound of the plan's mean revenue"
    " (its own replications flatter it), and the headcount searched again; the final"
    " P(revenue >= target) is measured on the plan.",
    "Headcount searched by simulation with common random numbers; every first-touch window of"
    " the menu is searched from its own analytic guess (so a window's answer does not depend on"
    " the window requested) and every handoff window judged on the same replications without"
    " re-simulating; each candidate stops on one-sided 90% Wilson bounds of P(met) per clause"
    " and month, or at the replication cap (then the point estimate decides).",
    "Commitments that are distributions (MQL volume, acceptance rate over the MQLs sales"
    " reached) are set at a 90% lower confidence bound of the (1 - c) quantile of the worst"
    " month (an order statistic); the handoff window is the tightest whose one-sided 90% Wilson"
    " lower bound of P(met) clears c (else the tightest met in every simulated month, reported"
    " as not certified). A commitment is 'met' only when that bound clears c in every month;"
    " otherwise 'not certified at N replications' or 'not met'. P(met) per clause and month is"
    " reported with 95% Wilson intervals.",
    "Money: revenue per month simulated; cost per month priced by the scenario's costs"
    " section at each replication's revenue (people, AEs, commission, leads); profit = revenue"
    " - cost. The marginal value of a rep: the plan with one SDR more and one fewer on each"
    " team, and one AE more and one fewer, on the plan's replications (same seeds): paired"
    " changes per month with 95% t intervals, and each variant's worst-month P(met).",
    "Sensitivity: each input moved -20 % and +20 % alone, same seeds.",
]


def _clean(x: Any) -> Any:
    """JSON-safe: NaN/inf become null, numpy scalars plain numbers."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def to_json(rec: Recommendation) -> dict[str, Any]:
    """The recommendation as the JSON document described by :data:`JSON_SCHEMA`."""
    req = rec.request
    comms = []
    for c in rec.commitments:
        w = c.p_met_min
        comms.append({
            "side": c.side, "clause": c.clause, "statement": c.statement, "target": c.target,
            "unit": c.unit, "clock": c.clock, "period": c.period, "basis": c.basis,
            "p_met": w.p if w.n else None, "p_met_low": w.low, "p_met_high": w.high,
            "p_met_per_month": [{"month": m, "p_met": x.p if x.n else None, "p_met_low": x.low,
                                 "p_met_high": x.high, "n": x.n}
                                for m, x in zip(c.months, c.p_met, strict=True)],
            "how": c.how, "status": c.status,
        })  # fmt: skip
    doc = {
        "schema_version": SCHEMA_VERSION,
        "request": {"revenue_target_per_month": req.revenue_target, "confidence": req.confidence,
                    "keep": list(req.keep), "replications": req.reps, "seed": req.seed,
                    "first_touch_menu_hours": list(req.first_touch_menu),
                    "revenue_confidence": req.revenue_confidence},
        "commitments": comms,
        "headcount": rec.headcount,
        "revenue": rec.revenue,
        "volumes": rec.volumes,
        "menu": rec.menu,
        "sensitivity": {"step": 0.2, "replications": req.sensitivity_reps,
                        "inputs": rec.tornado},
        "binding_clause": rec.binding,
        "shortfalls": rec.shortfalls,
        "revenue_menu": rec.revenue_menu,
        "policies": rec.policies,
        "money": rec.money,
        "marginal": rec.marginal,
        "method": METHOD,
        "notes": rec.notes,
        "run": rec.facts,
    }  # fmt: skip
    return _clean(doc)


def csv_rows(rec: Recommendation) -> list[dict[str, Any]]:
    """One row per commitment, the columns of :data:`CSV_COLUMNS` (P(met) of the worst month)."""
    out = []
    for c in rec.commitments:
        w = c.p_met_min
        share = rec.recommended.sla.lead_compliance_target if c.clause in PER_LEAD else ""
        out.append({"side": c.side, "clause": c.clause, "target": c.target, "unit": c.unit,
                    "share": share, "clock": c.clock, "period": c.period,
                    "p_met": w.p if w.n else "", "p_met_low": w.low, "p_met_high": w.high,
                    "status": c.status})  # fmt: skip
    return out


def sla_document(rec: Recommendation, mapping: dict[str, str] | None = None
                 ) -> list[tuple[str, list[Any]]]:  # fmt: skip
    """The SLA document as sections of paragraphs (str) and tables (list of rows, first the
    header), shared by the Markdown and HTML renderings; the method is the appendix."""
    out = sections(rec, mapping)
    out.append(("Appendix: method", [*METHOD, *rec.notes]))
    return out


def to_markdown(rec: Recommendation, mapping: dict[str, str] | None = None) -> str:
    """``sla.md``."""
    out = [f"# Service-level agreement (draft): {display_name(rec.recommended.name)}", ""]
    for title, items in sla_document(rec, mapping):
        out += [f"## {title}", ""]
        for it in items:
            if isinstance(it, list):
                out.append("| " + " | ".join(it[0]) + " |")
                out.append("|" + "---|" * len(it[0]))
                out += ["| " + " | ".join(r) + " |" for r in it[1:]]
            else:
                out.append(it)
            out.append("")
    return "\n".join(out)


def to_html(rec: Recommendation, svgs: dict[str, str] | None = None,
            mapping: dict[str, str] | None = None) -> str:
    """``sla.html``: the same document, self-contained (charts inline)."""
    e = html.escape

    def text(s: str) -> str:
        parts = e(s).split("**")
        bold = "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))
        code = bold.split("`")  # CRM field names are set as code, as in sla.md
        return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(code))

    body = [f"<h1>Service-level agreement (draft): {e(display_name(rec.recommended.name))}</h1>"]
    for title, items in sla_document(rec, mapping):
        body.append(f"<h2>{e(title)}</h2>")
        for it in items:
            if isinstance(it, list):
                body.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in it[0]) + "</tr>"
                            + "".join("<tr>" + "".join(f"<td>{text(c)}</td>" for c in r) + "</tr>"
                                      for r in it[1:]) + "</table>")  # fmt: skip
            else:
                body.append(f"<p>{text(it)}</p>")
    for name, svg in (svgs or {}).items():
        body.append(f"<h2>{e(CHART_TITLES.get(name, name))}</h2><div>{svg}</div>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>SLA draft'
            f"</title><style>{style}</style></head><body>\n" + "\n".join(body)
            + "\n</body></html>\n")  # fmt: skip


def write(rec: Recommendation, out_dir: str | Path, charts: bool = True,
          mapping: dict[str, str] | None = None) -> dict[str, Path]:
    """Write every export into ``out_dir`` (``mapping``: canonical CRM field -> export column,
    to name each clause's fields in the SLA document); returns the paths by name. Each file is
    written to a temporary name and renamed into place (a full disk leaves no partial file
    under a final name, and the error names the file)."""
    from sla_sim.batch.files import atomic_write_text
    from sla_sim.scenario.io import dump_yaml

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    doc = to_json(rec)
    paths["json"] = atomic_write_text(out / "recommendation.json", json.dumps(doc, indent=2))
    paths["schema"] = atomic_write_text(out / "recommendation.schema.json",
                                        json.dumps(JSON_SCHEMA, indent=2))  # fmt: skip
    paths["csv"] = write_rows(out / "recommendation.csv", CSV_COLUMNS, csv_rows(rec))
    paths["yaml"] = atomic_write_text(out / "recommended.yaml",
                                      dump_yaml(recommended_scenario(rec)))
    svgs: dict[str, str] = {}
    if charts:
        from sla_sim.recommend.charts import save_charts

        svgs = save_charts(rec, out / "charts")
        paths["charts"] = out / "charts"
    paths["md"] = atomic_write_text(out / "sla.md", to_markdown(rec, mapping))
    paths["html"] = atomic_write_text(out / "sla.html", to_html(rec, svgs, mapping))
    return paths


def recommended_scenario(rec: Recommendation) -> Scenario:
    """The recommended scenario with a description of this plan (not the input's)."""
    sc = rec.recommended
    sdrs = ", ".join(f"{t.reps} SDRs ({t.name}, {t.work_order}, {t.assignment})"
                     for t in sc.teams)  # fmt: skip
    text = (f"Recommended plan (sla-sim recommend, confidence {rec.request.confidence:g}, seed"
            f" {rec.request.seed}): {sdrs}; {sc.ae.count} AEs;"
            f" {sum(c.leads_per_month for c in sc.channels):,.0f} leads per month; revenue"
            f" target {rec.request.revenue_target:,.0f} {sc.currency} per month.")
    return sc.model_copy(update={"description": text})


__all__ = ["CSV_COLUMNS", "FIRST_TOUCH_MENU", "JSON_SCHEMA", "SCHEMA_VERSION", "csv_rows",
           "to_html", "to_json", "to_markdown", "write"]


def keep(rec: Recommendation, store: Any, wall_seconds: float | None = None,
         mapping: dict[str, str] | None = None) -> tuple[str, Path]:  # fmt: skip
    """Write the exports into a new folder of the run store (kind ``recommend``), with the
    input scenario, and register it; returns (id, folder)."""
    from sla_sim.batch.files import atomic_write_text
    from sla_sim.batch.keep import new_entry
    from sla_sim.scenario.io import dump_yaml

    req = rec.request
    note = (f"recommend at confidence {req.confidence:g}: binding clause {rec.binding};"
            f" {rec.facts['replications_simulated']} replications simulated")
    with new_entry(store, f"recommend-{rec.scenario.name}", rec.scenario, req.seed, req.reps,
                   note, kind="recommend", table="recommendation.json",
                   request={"revenue_target": req.revenue_target,
                            "confidence": req.confidence,
                            "keep": list(req.keep)}) as (run_id, path, meta):  # fmt: skip
        meta["wall_seconds"] = wall_seconds
        write(rec, path, mapping=mapping)
        atomic_write_text(path / "scenario.yaml", dump_yaml(rec.scenario))
    return run_id, path
