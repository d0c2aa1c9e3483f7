"""``sla-sim marginal``: what one more and one fewer of each lever earns and costs."""

from __future__ import annotations

import argparse
import math

import pandas as pd

from sla_sim.cli.common import (
    EXIT_OK,
    add_common,
    add_scenario_args,
    check_reps_seed,
    scenario_from,
    workers_for,
)


def marginal_text(table: pd.DataFrame, currency: str) -> str:
    """The marginal table in human units: per lever and step the paired change in revenue,
    cost and profit (95% interval) and in each clause's P(met in a month)."""
    from sla_sim.batch.marginal import CLAUSES
    from sla_sim.cli.tables import _text
    from sla_sim.report import units as u

    def m(x: float) -> str:
        return u.money(x, currency, signed=True)

    rows = []
    for r in table.to_dict("records"):
        row = {"Change": f"{r['lever']} {r['from']:g} -> {r['to']:g}"}
        if r["note"]:
            row["Revenue"] = r["note"]
            rows.append(row)
            continue
        row.update({"Revenue": m(r["revenue"]), "Cost": m(r["cost"]), "Profit": m(r["profit"]),
                    "Profit 95% CI": f"{m(r['profit_low'])} .. {m(r['profit_high'])}",
                    "unpaired ±": u.money(r["profit_unpaired_half_width"], currency)})
        for _, label in CLAUSES:
            d = r[f"p_met {label} change"]
            row[f"P(met) {label}"] = u.DASH if math.isnan(d) else u.points(d, signed=True)
        rows.append(row)
    return _text(pd.DataFrame(rows).fillna(""))


def cmd_marginal(args: argparse.Namespace) -> int:
    """Run the base and each lever at +/- step with common random numbers; print and keep the
    table and its chart in the run store."""
    from sla_sim.batch.keep import keep_results
    from sla_sim.batch.marginal import marginal
    from sla_sim.batch.safe_csv import write_csv
    from sla_sim.batch.store import RunStore
    from sla_sim.report import units as u
    from sla_sim.report.charts import save_chart
    from sla_sim.report.money import marginal_chart

    check_reps_seed(args.reps, args.seed)  # named as options (--reps), before the scenario
    scenario = scenario_from(args)
    study = marginal(scenario, args.lever or [], step=args.step, reps=args.reps, seed=args.seed,
                     workers=workers_for(args, args.reps * 3), dask=args.dask,
                     progress=not args.quiet)  # fmt: skip
    store = RunStore(args.store)
    base_id, folder = keep_results(study.results["base"], store, note="marginal: base",
                                   kind="marginal")  # fmt: skip
    for tag, res in study.results.items():
        if tag != "base":
            keep_results(res, store, note=f"marginal: {tag}, against {base_id}", kind="marginal")
    write_csv(study.table, folder / "marginal.csv")
    for ext in ("png", "svg"):
        save_chart(marginal_chart(study.table, scenario.currency), folder / f"marginal.{ext}")
    print(f"Marginal value over the whole measured period ({u.period_span(scenario)}),"
          f" {args.reps} paired replications (common random numbers); money in"
          f" {scenario.currency}; P(met) = change in the share of months each clause is met:")
    print(marginal_text(study.table, scenario.currency))
    print(f"\nkept in the store {store.root}: base = {base_id} (table and chart:"
          f" {folder / 'marginal.csv'}, {folder / 'marginal.png'})")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``marginal`` to the ``sla-sim`` parser."""
    p = sub.add_parser(
        "marginal", help="what one more / one fewer of each lever earns and costs",
        description="Run the scenario and, for each --lever, the scenario with that field one"
        " step higher and one step lower, all on the same seeds (common random numbers): the"
        " change in revenue, cost and profit with paired 95% intervals and the change in"
        " each clause's P(met in a month). Example: sla-sim marginal --preset default --lever"
        " 'teams[sdr].reps' --lever ae.count")  # fmt: skip
    add_scenario_args(p)
    p.add_argument("--lever", action="append", metavar="PATH",
                   help="a numeric scenario field, e.g. teams[sdr].reps or ae.count; repeatable")
    p.add_argument("--step", type=float, default=1.0, help="size of the change (default 1)")
    add_common(p, reps=30)
    p.set_defaults(func=cmd_marginal)
