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
from sla_sim.recommend.engine import FIRST_TOUCH_MENU, Recommendation

#: Version of the recommendation.json layout; bump on any incompatible change.
SCHEMA_VERSION = "1.0"
CSV_COLUMNS = ("side", "clause", "target", "unit", "clock", "period", "p_met", "p_met_low",
               "p_met_high")  # fmt: skip

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
                                          "p_met": _P, "revenue_p50": _NUM,
                                          "feasible": {"type": "boolean"}}}},
        "sensitivity": {"type": "object", "required": ["step", "replications", "inputs"],
                        "properties": {"step": {"type": "number"},
                                       "replications": {"type": "integer"},
                                       "inputs": {"type": "array",
                                                  "items": {"type": "object",
                                                            "required": ["input"]}}}},
        "binding_clause": {"type": "string"},
        "method": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "array", "items": {"type": "string"}},
        "run": {"type": "object",
                "required": ["seed", "replications", "scenario_hash", "sla_sim_version"]},
    },
}

METHOD = [
    "Analytic first guess: reverse funnel (revenue target -> wins -> SQLs -> MQLs -> leads per"
    " channel); SDRs from Erlang C, a fluid week (night and weekend MQLs waiting for the"
    " opening) and lead slots (Little's law); AEs from Little's law on open opportunities"
    " (Poisson quantile).",
    "Volumes: the analytic volumes simulated once; every channel rescaled by target / simulated"
    " mean monthly revenue (adds nurtured and recycled MQLs).",
    "Headcount searched around the guess by simulation with common random numbers; every"
    " first-touch window of the menu and every handoff window judged on the same replications"
    " without re-simulating; each candidate stops on one-sided 90% Wilson bounds of P(met) per"
    " clause and month, or at the replication cap (then the point estimate decides).",
    "Commitments that are distributions (MQL volume, acceptance rate) are set at a 90% lower"
    " confidence bound of the (1 - c) quantile of the worst month (an order statistic); the"
    " handoff window is the tightest whose one-sided 90% Wilson lower bound of P(met) clears c;"
    " P(met) per clause and month is reported with 95% Wilson intervals.",
    "Sensitivity: each input moved -20% and +20% alone, same seeds.",
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
            "how": c.how,
        })  # fmt: skip
    doc = {
        "schema_version": SCHEMA_VERSION,
        "request": {"revenue_target_per_month": req.revenue_target, "confidence": req.confidence,
                    "keep": list(req.keep), "replications": req.reps, "seed": req.seed,
                    "first_touch_menu_hours": list(req.first_touch_menu)},
        "commitments": comms,
        "headcount": rec.headcount,
        "revenue": rec.revenue,
        "volumes": rec.volumes,
        "menu": rec.menu,
        "sensitivity": {"step": 0.2, "replications": req.sensitivity_reps,
                        "inputs": rec.tornado},
        "binding_clause": rec.binding,
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
        out.append({"side": c.side, "clause": c.clause, "target": c.target, "unit": c.unit,
                    "clock": c.clock, "period": c.period, "p_met": w.p if w.n else "",
                    "p_met_low": w.low, "p_met_high": w.high})  # fmt: skip
    return out


def _pct(p: float | None) -> str:
    return "n/a" if p is None or (isinstance(p, float) and math.isnan(p)) else f"{p:.0%}"


def _conf(c: Any) -> str:
    """'P(met) 93% (95% CI 84-97%) in the worst month'."""
    w = c.p_met_min
    if not w.n:
        return "not judged (no leads)"
    return (f"met in {_pct(w.p)} of simulated months in the worst month"
            f" (95% interval {w.low:.0%}-{w.high:.0%})")


def sla_document(rec: Recommendation) -> list[tuple[str, list[Any]]]:
    """The SLA draft as sections of paragraphs (str) and tables (list of rows, first the
    header), shared by the Markdown and HTML renderings."""
    sc, req = rec.recommended, rec.request
    cur = sc.currency
    by = {c.clause: c for c in rec.commitments}
    sla = sc.sla
    conf = f"{req.confidence:.0%}"
    hc = {h["team"]: h for h in rec.headcount}
    rev_all = rec.revenue[-1]
    sections: list[tuple[str, list[Any]]] = []
    sections.append(("Purpose", [
        f"Draft service-level agreement between marketing and sales for '{sc.name}'."
        f" Revenue target: {req.revenue_target:,.0f} {cur} per month. Every commitment below is"
        f" sized so that it is met in at least {conf} of months (simulation, {req.reps}"
        f" replications, seed {req.seed}); the figure after each one is the simulated share of"
        " months in which it was met, in the worst month, with its 95% interval.",
        f"Expected revenue per month: P10 {rev_all['p10']:,.0f}, P50 {rev_all['p50']:,.0f},"
        f" P90 {rev_all['p90']:,.0f} {cur}; P(revenue >= target) {_pct(rev_all['p_ge_target'])}"
        f" (95% interval {rev_all['p_ge_target_low']:.0%}-{rev_all['p_ge_target_high']:.0%}).",
    ]))
    sections.append(("Definitions", [
        f"**MQL** (marketing-qualified lead): a lead whose score reaches"
        f" {sc.mql_threshold_points:g} points (fit and engagement, 0-100), at creation or after"
        " nurturing.",
        "**SQL** (sales-qualified lead): an MQL that sales reached and accepted as an"
        " opportunity candidate; **acceptance rate** = SQLs / (SQLs + disqualified + recycled)"
        " among the MQLs sales dispositioned in the month.",
        "**Business hours**: the owning team's working calendar (time zone, working days,"
        " hours, holidays). **Clock hours/days**: elapsed time.",
    ]))
    m = by["mql_volume"]
    a = by["acceptance"]
    sections.append(("Marketing's commitments", [
        f"1. {m.statement} — {_conf(m)}. Basis '{m.basis}': each month owes the figure x its"
        " days / 30.44 ('day'), x its working days / their monthly mean ('working_day'), or the"
        " flat figure ('month').",
        f"2. {a.statement} — {_conf(a)}.",
    ]))
    h = by["handoff"]
    sections.append(("The handoff", [
        f"{h.statement} — {_conf(h)}. Handoff mode: {sc.handoff.mode}"
        + (f" (every {sc.handoff.batch_every_hours:g} h)" if sc.handoff.batch_every_hours
           else "") + ".",
    ]))
    rows = [["team", "SDRs (analytic)", "SDRs (simulated, recommended)", "routing"]]
    for t in sc.teams:
        rows.append([t.name, str(hc[t.name]["analytic"]), str(t.reps),
                     f"{sc.routing.team_rule} / {sc.routing.rep_rule}, at most"
                     f" {t.max_active_leads} active leads per SDR"])  # fmt: skip
    sections.append(("Lead distribution rules", [
        f"MQLs are routed by team rule '{sc.routing.team_rule}' and rep rule"
        f" '{sc.routing.rep_rule}'. When every SDR holds its maximum of active leads, MQLs wait"
        " in the team's queue (first in, first out).", rows,
    ]))
    f, at, d, ae = by["first_touch"], by["attempts"], by["disposition"], by["ae_capacity"]
    sections.append(("Sales' follow-up and disposition commitments", [
        f"1. {f.statement} — {_conf(f)}.",
        f"2. {at.statement} — {_conf(at)}. Cadence: attempts on days"
        f" {', '.join(f'{x:g}' for x in sc.follow_up.cadence_days)} after the first.",
        f"3. {d.statement} — {_conf(d)}.",
        f"4. {ae.statement} — {_conf(ae)}. AEs: {sc.ae.count} (analytic"
        f" {hc['ae']['analytic']}), at most {sc.ae.max_open_opportunities} open opportunities"
        " each.",
        f"The clause that binds (lowest P(met)): **{rec.binding}**.",
    ]))
    rows = [["clause", "metric", "clock", "data source"]]
    for c in rec.commitments:
        rows.append([c.clause, f"{c.target:g} {c.unit}", c.clock,
                     "CRM lead and activity history (event log: created, mql, routed,"
                     " assigned, attempt, contact, sql/disqualified/recycled, opportunity,"
                     " won/lost)"])  # fmt: skip
    sections.append(("How compliance is measured", [
        f"Per-lead clauses count an MQL as met when the event happens by its deadline, breached"
        f" otherwise; leads whose deadline falls after the end of the data are pending and not"
        f" counted. A month is met when at least {sla.lead_compliance_target:.0%} of that"
        " month's MQLs meet the clause; period clauses (MQL volume, acceptance) compare the"
        " month's total with its commitment.", rows,
    ]))
    sections.append(("Review cadence", [
        "Monthly: both sides review each clause's compliance for the month just closed"
        " (`sla-sim measure` on the CRM export) against the P(met) stated here.",
        "Quarterly: renegotiate targets and headcount (`sla-sim recommend` again with the"
        " recalibrated scenario).",
    ]))
    rows = [["channel", "leads / month (recommended)", "analytic leads", "analytic MQLs",
             "analytic SQLs", "analytic wins"]]  # fmt: skip
    for v in rec.volumes:
        if v["channel"] == "total":
            continue
        rows.append([v["channel"], f"{v['leads_per_month']:,.0f}"] + [
            f"{v[k]:,.1f}" if k in v else "—" for k in ("analytic_leads", "analytic_mqls",
                                                         "analytic_sqls", "analytic_wins")])
    tot = rec.volumes[-1]
    sections.append(("The reverse funnel behind the numbers", [
        f"Reverse funnel scale on lead volumes: analytic {tot['scale_analytic']:.3f}, after"
        f" simulation {tot['scale_simulated']:.3f} (simulated per month: MQLs"
        f" {tot['simulated_mqls_mean']:,.0f}, SQLs {tot['simulated_sqls_mean']:,.0f}, wins"
        f" {tot['simulated_wins_mean']:,.1f}, revenue {tot['simulated_revenue_mean']:,.0f}"
        f" {cur}). The analytic funnel counts first MQL episodes only; the simulation adds"
        " nurtured and recycled MQLs.", rows,
    ]))
    menu = [["first touch within (business h)", "SDRs", "P(met) worst month",
             f"revenue P50 ({cur}/month)"]]  # fmt: skip
    for r in rec.menu:
        sdrs = str(r["sdrs"]) if r["sdrs"] is not None else f"> {r.get('sdrs_more_than')}"
        menu.append([f"{r['first_touch_hours']:g}" + (" (requested)" if r["requested"] else ""),
                     sdrs, _pct(r.get("p_met")),
                     f"{r['revenue_p50']:,.0f}" if r.get("revenue_p50") else "—"])  # fmt: skip
    sections.append(("Trade-off menu", ["SDRs needed for each first-touch window at the same"
                                        " confidence:", menu]))
    sections.append(("Method", [*METHOD, *rec.notes]))
    return sections


def to_markdown(rec: Recommendation) -> str:
    """``sla.md``."""
    out = [f"# Service-level agreement (draft): {rec.recommended.name}", ""]
    for title, items in sla_document(rec):
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


def to_html(rec: Recommendation, svgs: dict[str, str] | None = None) -> str:
    """``sla.html``: the same document, self-contained (charts inline)."""
    e = html.escape

    def text(s: str) -> str:
        parts = e(s).split("**")
        return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))

    body = [f"<h1>Service-level agreement (draft): {e(rec.recommended.name)}</h1>"]
    for title, items in sla_document(rec):
        body.append(f"<h2>{e(title)}</h2>")
        for it in items:
            if isinstance(it, list):
                body.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in it[0]) + "</tr>"
                            + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>"
                                      for r in it[1:]) + "</table>")  # fmt: skip
            else:
                body.append(f"<p>{text(it)}</p>")
    for name, svg in (svgs or {}).items():
        body.append(f"<h2>{e(name)}</h2><div>{svg}</div>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>SLA draft'
            f"</title><style>{style}</style></head><body>\n" + "\n".join(body)
            + "\n</body></html>\n")  # fmt: skip


def write(rec: Recommendation, out_dir: str | Path, charts: bool = True) -> dict[str, Path]:
    """Write every export into ``out_dir``; returns the paths by name. Each file is written to
    a temporary name and renamed into place (a full disk leaves no partial file under a final
    name, and the error names the file)."""
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
    paths["yaml"] = atomic_write_text(out / "recommended.yaml", dump_yaml(rec.recommended))
    svgs: dict[str, str] = {}
    if charts:
        from sla_sim.recommend.charts import save_charts

        svgs = save_charts(rec, out / "charts")
        paths["charts"] = out / "charts"
    paths["md"] = atomic_write_text(out / "sla.md", to_markdown(rec))
    paths["html"] = atomic_write_text(out / "sla.html", to_html(rec, svgs))
    return paths


__all__ = ["CSV_COLUMNS", "FIRST_TOUCH_MENU", "JSON_SCHEMA", "SCHEMA_VERSION", "csv_rows",
           "to_html", "to_json", "to_markdown", "write"]


def keep(rec: Recommendation, store: Any, wall_seconds: float | None = None
         ) -> tuple[str, Path]:  # fmt: skip
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
        write(rec, path)
        atomic_write_text(path / "scenario.yaml", dump_yaml(rec.scenario))
    return run_id, path
