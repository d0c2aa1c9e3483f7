"""``sla-sim recommend``: the SLA both sides can sign, with the confidence behind every
number (see :mod:`sla_sim.recommend`)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sla_sim.cli.common import (
    EXIT_OK,
    add_common,
    add_scenario_args,
    scenario_from,
    workers_for,
)


def cmd_recommend(args: argparse.Namespace) -> int:
    """Recommend volumes, commitments and headcount; write the exports."""
    from sla_sim.recommend import exports

    if args.schema:
        print(json.dumps(exports.JSON_SCHEMA, indent=2))
        return EXIT_OK
    from sla_sim.batch.store import RunStore
    from sla_sim.recommend.engine import check, recommend

    store = RunStore(args.store)
    if args.out:  # refused before anything runs: never into a run's folder
        store.check_out(args.out)
    scenario = scenario_from(args)
    keep = tuple(args.keep or ())
    workers = workers_for(args, args.reps)
    check(scenario, args.revenue_target, args.confidence, keep, args.reps, args.seed, workers)
    t0 = time.perf_counter()
    rec = recommend(scenario, revenue_target=args.revenue_target, confidence=args.confidence,
                    keep=keep, reps=args.reps, seed=args.seed, workers=workers, dask=args.dask,
                    progress=not args.quiet, sensitivity_reps=args.sensitivity_reps,
                    tornado=not args.no_sensitivity,
                    max_headcount=args.max_headcount)  # fmt: skip
    run_id, folder = exports.keep(rec, store, round(time.perf_counter() - t0, 3))
    print(summary(rec))
    print(f"\nexports -> {folder} (store entry {run_id})")
    if args.out:
        from sla_sim.batch.files import atomic_write_bytes

        out = Path(args.out)
        for item in sorted(folder.rglob("*")):
            if item.is_file() and item.name != "run.json":
                atomic_write_bytes(out / item.relative_to(folder), item.read_bytes())
        print(f"exports -> {out}")
    return EXIT_OK


def summary(rec) -> str:  # rec: Recommendation
    """A short table of the recommendation for the terminal."""
    lines = [f"Recommendation at confidence {rec.request.confidence:g} (P(met) in the worst"
             " month, 95% Wilson interval):", ""]  # fmt: skip
    lines.append(f"  {'side':<10} {'clause':<12} {'target':>12} {'unit':<15} {'P(met)':>7}"
                 f"  interval")  # fmt: skip
    for c in rec.commitments:
        w = c.p_met_min
        p = f"{w.p:.0%}" if w.n else "n/a"
        lines.append(f"  {c.side:<10} {c.clause:<12} {c.target:>12,.4g} {c.unit:<15} {p:>7}"
                     f"  {w.low:.0%}-{w.high:.0%}")  # fmt: skip
    lines.append("")
    for h in rec.headcount:
        lines.append(f"  {h['role']} {h['team']}: analytic {h['analytic']}, simulated"
                     f" {h['simulated']}{' (kept)' if h.get('kept') else ''}")  # fmt: skip
    r = rec.revenue[-1]
    lines.append(f"  revenue per month: P10 {r['p10']:,.0f} P50 {r['p50']:,.0f} P90"
                 f" {r['p90']:,.0f}; P(>= target {r['target']:,.0f}) {r['p_ge_target']:.0%}")
    lines.append(f"  binding clause: {rec.binding}")
    lines.append("")
    lines.append("  menu: first touch within (business h) -> SDRs, P(met)")
    for m in rec.menu:
        sdrs = m["sdrs"] if m["sdrs"] is not None else f"> {m.get('sdrs_more_than')}"
        p = f"{m['p_met']:.0%}" if m.get("p_met") is not None else "-"
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
    p.add_argument("--keep", action="append", default=[], metavar="PATH",
                   help="freeze a lever, e.g. teams[sdr].reps, ae.count, channels,"
                   " sla.mql_commitment_per_month; repeatable")
    p.add_argument("--out", help="also write the exports into this folder")
    p.add_argument("--sensitivity-reps", type=int, default=None, metavar="N",
                   help="replications per sensitivity move (default 8)")
    p.add_argument("--max-headcount", type=int, default=500, metavar="N",
                   help="largest SDR team or AE count a search may reach before the request"
                   " is declared infeasible (default 500)")
    p.add_argument("--no-sensitivity", action="store_true", help="skip the tornado")
    p.add_argument("--schema", action="store_true",
                   help="print the JSON Schema of recommendation.json and exit")
    p.set_defaults(func=cmd_recommend)


__all__ = ["cmd_recommend", "register", "summary"]
