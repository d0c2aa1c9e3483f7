"""``sla-sim recommend``: the SLA both sides can sign, with the confidence behind every
number (see :mod:`sla_sim.recommend`)."""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from sla_sim.cli.common import (
    EXIT_OK,
    add_common,
    add_scenario_args,
    check_out_folder,
    check_reps_seed,
    raise_option,
    scenario_from,
    workers_for,
)

#: Largest --max-headcount (the schema's bound on a team's reps and on ae.count).
MAX_HEADCOUNT_BOUND = 500


def check_options(args: argparse.Namespace) -> None:
    """Refuse bad options before anything runs. The cost of the request (the replications it
    may simulate, stage by stage, at the volumes the revenue target scales the channels to)
    is checked by :func:`sla_sim.recommend.engine.recommend` itself, before any work
    (:func:`sla_sim.recommend.cost.check_recommend_cost`)."""
    check_reps_seed(args.reps, args.seed, 2, "recommend request")
    target = args.revenue_target
    if target is not None and not (math.isfinite(target) and 0 <= target <= 1e15):
        raise_option("--revenue-target", "must be a finite amount per month in 0 .. 1e15",
                     target)  # fmt: skip
    if not 1 <= args.max_headcount <= MAX_HEADCOUNT_BOUND:
        raise_option("--max-headcount", f"must be in 1 .. {MAX_HEADCOUNT_BOUND}",
                     args.max_headcount)  # fmt: skip
    if args.sensitivity_reps is not None and args.sensitivity_reps < 1:
        raise_option("--sensitivity-reps", "must be >= 1", args.sensitivity_reps)


def cmd_recommend(args: argparse.Namespace) -> int:
    """Recommend volumes, commitments and headcount; write the exports."""
    if args.schema:
        given = [name for dest, (name, default) in args.schema_ignores.items()
                 if getattr(args, dest, default) != default]  # fmt: skip
        if given:  # they were ignored in silence (--preset nope printed the schema)
            raise_option("--schema", "prints the JSON Schema of recommendation.json and nothing"
                         f" else; drop {', '.join(given)}", True)
        from sla_sim.recommend.exports import JSON_SCHEMA

        print(json.dumps(JSON_SCHEMA, indent=2))
        return EXIT_OK
    from sla_sim.batch.store import RunStore

    store = RunStore(args.store)
    if args.out:  # refused before anything runs: never into a run's folder, never over
        store.check_out(args.out)  # files without --force
        check_out_folder(args.out, args.force)
    scenario = scenario_from(args)
    keep = tuple(args.keep or ())
    workers = workers_for(args, args.reps)
    check_options(args)
    from sla_sim.recommend import exports
    from sla_sim.recommend.engine import check, recommend

    check(scenario, args.revenue_target, args.confidence, keep, args.reps, args.seed, workers,
          args.revenue_confidence)
    mapping = None
    if args.crm_mapping:
        from sla_sim.crm.mapping import load_mapping

        mapping = load_mapping(args.crm_mapping).columns
    t0 = time.perf_counter()
    rec = recommend(scenario, revenue_target=args.revenue_target, confidence=args.confidence,
                    keep=keep, reps=args.reps, seed=args.seed, workers=workers, dask=args.dask,
                    progress=not args.quiet, sensitivity_reps=args.sensitivity_reps,
                    tornado=not args.no_sensitivity, max_headcount=args.max_headcount,
                    revenue_confidence=args.revenue_confidence)  # fmt: skip
    run_id, folder = exports.keep(rec, store, round(time.perf_counter() - t0, 3), mapping)
    print(summary(rec))
    print(f"\nexports -> {folder} (store entry {run_id})")
    if args.out:
        from sla_sim.batch.files import atomic_write_bytes, linked_on_the_way

        out = Path(args.out)
        items = [i for i in sorted(folder.rglob("*")) if i.is_file() and i.name != "run.json"]
        for item in items:  # nothing written through a link planted in --out
            if (linked := linked_on_the_way(out, item.relative_to(folder))) is not None:
                raise_option("--out", f"{linked.relative_to(out)} is a symbolic link; the"
                             " exports are never written through one", str(out))
        for item in items:
            atomic_write_bytes(out / item.relative_to(folder), item.read_bytes())
        print(f"exports -> {out}")
    return EXIT_OK


def money_lines(money: dict | None, marginal: list | None,
                policies: dict | None = None) -> list[str]:  # fmt: skip
    """The plan's money, the marginal value of a rep and the plan's cost at the revenue target
    as the terminal prints them (from a Recommendation or its recommendation.json alike; empty
    without money)."""
    if not money:
        return []
    from sla_sim.recommend.marginal import marginal_table, money_sentence, target_cost_sentence

    lines = [f"  money {money_sentence(money)}"]
    table = marginal_table(marginal or [])
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines.append("  marginal value of a rep (paired, same seeds; money per month):")
    lines += ["    " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in table]  # fmt: skip
    if cost := target_cost_sentence(policies, money["currency"]):
        lines.append(f"  {cost}")  # the priced cost, as sla.md and the planner state it
    return lines


def summary(rec) -> str:  # rec: Recommendation
    """A short table of the recommendation for the terminal."""
    from sla_sim.recommend.commitments import term_text
    from sla_sim.recommend.revenue import menu_text
    from sla_sim.report.units import prob, prob_interval

    # the confidence as sla.md and the planner state it (90 %), not the option's 0.9
    lines = [f"Recommendation at confidence {prob(rec.request.confidence)} (P(met) in the worst"
             " month, 95% Wilson interval):", ""]  # fmt: skip

    rows = []
    for c in rec.commitments:
        w = c.p_met_min
        # the term as sla.md states it (31 % of the MQLs reached, not 0.31; 1,933 MQLs)
        target = term_text(c.target, c.unit).removesuffix(f" {c.unit}")
        rows.append((c, target, prob(w.p) if w.n else "n/a",
                     prob_interval(w.low, w.high) if w.n else "-"))
    wi = max([len("interval"), *(len(r[3]) for r in rows)])
    lines.append(f"  {'side':<10} {'clause':<12} {'target':>12} {'unit':<15} {'P(met)':>7}"
                 f"  {'interval':<{wi}}  status")  # fmt: skip

    for c, target, p, interval in rows:
        lines.append(f"  {c.side:<10} {c.clause:<12} {target:>12} {c.unit:<15} {p:>7}"
                     f"  {interval:<{wi}}  {c.status}")  # fmt: skip
    lines.append("")
    for h in rec.headcount:
        lines.append(f"  {h['role']} {h['team']}: analytic {h['analytic']}, simulated"
                     f" {h['simulated']}{' (kept)' if h.get('kept') else ''}")  # fmt: skip
    r = rec.revenue[-1]
    lines.append(f"  revenue per month ({rec.recommended.currency}): P10 {r['p10']:,.0f} P50"
                 f" {r['p50']:,.0f} P90 {r['p90']:,.0f}; P(>= target {r['target']:,.0f})"
                 f" {prob(r['p_ge_target'])}")
    worst = min(rec.revenue[:-1], key=lambda x: x["p_ge_target"])
    lines.append(f"  P(revenue >= the month's target) in the worst month ({worst['period']}):"
                 f" {prob(worst['p_ge_target'])}; {rec.facts['revenue_status']} at revenue"
                 f" confidence {prob(rec.facts['revenue_confidence'])}")
    lines.append(f"  binding clause: {rec.binding}")
    lines += money_lines(rec.money, rec.marginal, rec.policies)
    for s in rec.shortfalls:
        lines.append(f"  short: {s['statement']}")
    if rec.revenue_menu:
        lines.append("  volumes per revenue confidence: " + menu_text(rec.revenue_menu))
    lines.append("")
    lines.append("  menu: first touch within (business h) -> SDRs, P(met)")
    for m in rec.menu:
        sdrs = m["sdrs"] if m["sdrs"] is not None else f"> {m.get('sdrs_more_than')}"
        p = prob(m["p_met"]) if m.get("p_met") is not None else "-"
        lines.append(f"    {m['first_touch_hours']:>4g} h -> {sdrs}, {p}")
    f = rec.facts
    lines.append("")
    lines.append(f"  replications simulated {f['replications_simulated']}, judged"
                 f" {f['replications_judged']}; seconds per stage {f['seconds_per_stage']}")
    for note in rec.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``recommend``."""
    p = sub.add_parser(
        "recommend", help="recommended targets for both sides, with their confidence",
        description="Recommend what marketing and sales commit to (MQL volume, acceptance,"
        " handoff, first touch, attempts, disposition) and the SDR/AE headcount, so that each"
        " commitment is met in at least --confidence of months. Analytic first guess (reverse"
        " funnel, Erlang C, Little's law), then simulation with common random numbers.")
    add_scenario_args(p)
    add_common(p, reps=40)
    p.add_argument("--revenue-target", type=float, default=None, metavar="AMOUNT_PER_MONTH",
                   help="revenue target per month (default: the scenario's"
                   " sla.revenue_target_per_month)")
    p.add_argument("--confidence", type=float, default=0.9,
                   help="P(met per month) every commitment must reach, in (0.5, 0.999)"
                   " (default 0.9)")
    p.add_argument("--revenue-confidence", type=float, default=None, metavar="P",
                   help="share of months in which revenue must reach the target, every month,"
                   " in [0.5, 0.999) (default: --confidence)")
    p.add_argument("--crm-mapping", default=None, metavar="FILE_OR_PRESET",
                   help="name each clause's CRM fields by this mapping's columns in sla.md"
                   " (a YAML file or preset:NAME, as for sla-sim crm)")
    p.add_argument("--keep", action="append", default=[], metavar="PATH",
                   help="freeze a lever, e.g. teams[sdr].reps, ae.count, channels,"
                   " sla.mql_commitment_per_month; repeatable. Clauses the kept levers cannot"
                   " carry are named with the tightest terms they do")
    p.add_argument("--out", help="also write the exports into this folder")
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty --out (files of the same names are replaced)")
    p.add_argument("--sensitivity-reps", type=int, default=None, metavar="N",
                   help="replications per sensitivity move (default 8)")
    p.add_argument("--max-headcount", type=int, default=500, metavar="N",
                   help="largest SDR team or AE count a search may reach before the request"
                   " is declared infeasible, 1 .. 500 (default 500)")
    p.add_argument("--no-sensitivity", action="store_true", help="skip the tornado")
    p.add_argument("--schema", action="store_true",
                   help="print the JSON Schema of recommendation.json and exit")
    p.set_defaults(func=cmd_recommend, schema_ignores={
        a.dest: (a.option_strings[0] if a.option_strings else "the scenario file", a.default)
        for a in p._actions if a.dest not in ("help", "schema")})  # fmt: skip


__all__ = ["cmd_recommend", "money_lines", "register", "summary"]
