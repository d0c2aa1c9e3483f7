"""``sla-sim measure | calibrate | backtest | review`` and ``sla-sim crm template``: from a CRM
export (a lead table, an optional activity table, a YAML mapping) to real SLA compliance, a
calibrated scenario, a backtest and the monthly review."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sla_sim.cli.common import (
    EXIT_OK,
    add_limit_args,
    add_scenario_args,
    check_reps_seed,
    raise_option,
    with_months,
)

__all__ = ["register"]


def _export(args: argparse.Namespace):  # -> CrmExport
    from sla_sim.crm.load import load_export

    exp = load_export(args.export, args.map, activities=args.activities)
    for what, n in exp.incomplete.items():
        print(f"sla-sim: note: {n:,} {what}", file=sys.stderr)
    return exp


def _base(spec: str | None):  # -> Scenario
    from sla_sim.scenario.io import load
    from sla_sim.scenario.presets import preset

    if spec is None:
        return preset("default")
    if Path(spec).is_file():
        return load(spec)
    return preset(spec)


def _out_dir(args: argparse.Namespace, default: str) -> Path:
    out = Path(args.out or default)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise_option("--out", "folder exists and is not empty (use --force)", str(out))
    out.mkdir(parents=True, exist_ok=True)
    return out


def cmd_measure(args: argparse.Namespace) -> int:
    """Real SLA compliance of an export, stored as a 'measured' run."""
    from sla_sim.batch.store import RunStore
    from sla_sim.cli.common import scenario_from
    from sla_sim.crm.measure import measure_export, store_measured

    sc = scenario_from(args)
    exp = _export(args)
    me = measure_export(exp, sc, start=args.start, end=args.end)
    run_id, path = store_measured(me, RunStore(args.store), out=args.out)
    if not args.no_report:
        from sla_sim.report.document import write_report

        write_report(me.results, path)
    t = me.table[me.table["period"] == "total"].set_index("metric")["value"]
    print(f"measured {exp.n_leads:,} leads to {exp.exported_at:%Y-%m-%d %H:%M} UTC"
          f" -> run {run_id} ({path})")  # fmt: skip
    for clause in ("handoff", "first_touch", "attempts", "disposition"):
        c = t.get(f"{clause}_compliance")
        print(f"  {clause:12s} compliance {c:7.1%}   met {t[f'{clause}_met']:,.0f}"
              f"  breached {t[f'{clause}_breached']:,.0f}  pending {t[f'{clause}_pending']:,.0f}"
              if c == c else f"  {clause:12s} not measurable from this export")
    for m in exp.mapping.missing_costs(exp.activities is not None):
        print(f"  missing {m['field']}: no {m['metrics']}", file=sys.stderr)
    return EXIT_OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit a scenario to an export (censoring handled); write it and calibration.json."""
    from sla_sim.crm.calibrate import calibrate, write_calibration

    exp = _export(args)
    cal = calibrate(exp, _base(args.base), name=args.name)
    path, js = write_calibration(cal, args.out)
    print(f"calibrated {len(cal.estimates)} parameters from {exp.n_leads:,} leads -> {path}"
          f" and {js.name}")  # fmt: skip
    for path, b in cal.checks.get("applied_at_the_schema_bound", {}).items():
        print(f"  {path}: estimate {b['estimate']:g} outside the allowed range {b['allowed']};"
              f" applied {b['applied']:g}", file=sys.stderr)
    for k in cal.not_identified:
        print(f"  kept from {k['kept_from']}: {k['parameter']} ({k['reason']})")
    return EXIT_OK


#: Most months ``backtest --test-months`` may simulate (the schema's measured-months bound).
MAX_TEST_MONTHS = 24


def _check_simulation(sc, reps: int, seed: int, months: int) -> None:  # sc: Scenario
    """Refuse bad --reps/--seed and a simulation over the cost limits before the export is
    read (the estimate uses the scenario's volumes over ``months`` measured months)."""
    from sla_sim.batch.limits import check_cost

    check_reps_seed(reps, seed, 2, "simulation request")
    check_cost(with_months(sc, months), reps, 1)


def cmd_backtest(args: argparse.Namespace) -> int:
    """Calibrate before a date, simulate after it, compare with what happened."""
    if not 1 <= args.test_months <= MAX_TEST_MONTHS:
        raise_option("--test-months", f"must be in 1 .. {MAX_TEST_MONTHS}", args.test_months)
    base = _base(args.base)
    _check_simulation(base, args.reps, args.seed, args.test_months)  # before the heavy imports
    from sla_sim.crm import charts
    from sla_sim.crm.backtest import FOLLOW_UP_MONTHS, backtest
    from sla_sim.crm.calibrate import write_calibration

    _check_simulation(base, args.reps, args.seed, args.test_months + FOLLOW_UP_MONTHS)
    exp = _export(args)
    bt = backtest(exp, base, args.train_until, args.test_months, reps=args.reps,
                  seed=args.seed, progress=not args.quiet)  # fmt: skip
    out = _out_dir(args, "backtest")
    write_calibration(bt.calibration, out / "calibrated.yaml")
    (out / "backtest.json").write_text(json.dumps(bt.as_dict(), indent=2) + "\n")
    charts.save(charts.backtest_chart(bt.table), out / "backtest")
    d = bt.as_dict()
    print(f"backtest: trained until {d['train_until']}, tested {', '.join(d['test_months'])};"
          f" observed inside P10-P90 for {d['coverage_p10_p90']:.0%} of the judged metrics"
          f" -> {out}")  # fmt: skip
    for r in bt.table.itertuples():
        flag = {True: "inside", False: "OUTSIDE", None: "not judged"}[r.inside]
        print(f"  {r.metric:24s} {r.period:8s} observed {r.observed:10.4g}"
              f"  P10-P90 [{r.p10:.4g}, {r.p90:.4g}]  {flag}")
    return EXIT_OK


def cmd_review(args: argparse.Namespace) -> int:
    """A month's actual compliance placed in the simulated distribution."""
    from sla_sim.scenario.io import load

    sc = load(args.scenario)
    _check_simulation(sc, args.reps, args.seed, 1)
    from sla_sim.crm import charts
    from sla_sim.crm.review import review

    exp = _export(args)
    rv = review(exp, sc, args.month, reps=args.reps, seed=args.seed,
                progress=not args.quiet)  # fmt: skip
    out = _out_dir(args, f"review-{rv.month}")
    (out / "review.json").write_text(json.dumps(rv.as_dict(), indent=2) + "\n")
    charts.save(charts.review_chart(rv), out / "review")
    print(f"review of {rv.month} against {args.scenario} ({args.reps} simulated months)"
          f" -> {out}")  # fmt: skip
    for r in rv.table.itertuples():
        pct = f"P{100 * r.percentile:.0f}" if r.percentile == r.percentile else "-"
        print(f"  {r.side:9s} {r.metric:28s} {r.actual:12.4g}  {pct:>4s}  {r.verdict}")
    return EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    """Write an example mapping and a small example export."""
    from sla_sim.crm.template import write_template

    out = _out_dir(args, "crm_template")
    for p in write_template(out):
        print(p)
    return EXIT_OK


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("export", help="lead table (.csv or .parquet)")
    p.add_argument("--map", required=True, metavar="M",
                   help="mapping file (YAML), or preset:NAME (olist, salesforce, hubspot)")
    p.add_argument("--activities", metavar="FILE",
                   help="activity table (default: the mapping's activity_file, if any)")


class _Intermixed(argparse.ArgumentParser):
    """A parser that accepts positionals after options (``measure EXPORT --map M SCENARIO``)."""

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def]
        if getattr(self, "_inside", False):
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def register(sub: argparse._SubParsersAction) -> None:
    """Add measure, calibrate, backtest, review and crm (template)."""
    m = sub.add_parser("measure", help="real SLA compliance of a CRM export (a 'measured' run)")
    _export_args(m)
    add_scenario_args(m)
    m.add_argument("--from", dest="start", metavar="DATE", help="measure from this date")
    m.add_argument("--to", dest="end", metavar="DATE", help="measure until this date")
    m.add_argument("--out", help="results folder (default: a new folder in the store)")
    m.add_argument("--store", help="store folder (default $SLA_SIM_STORE or ./sla_sim_runs)")
    m.add_argument("--no-report", action="store_true", help="skip report.md/html and charts")
    m.set_defaults(func=cmd_measure)
    m.__class__ = _Intermixed

    c = sub.add_parser("calibrate", help="fit a scenario to a CRM export (censoring handled)")
    _export_args(c)
    c.add_argument("--out", required=True, help="scenario YAML to write (calibration.json"
                   " goes beside it)")
    c.add_argument("--base", metavar="PRESET_OR_FILE",
                   help="scenario whose values are kept where the export says nothing"
                   " (default: default)")
    c.add_argument("--name", help="name of the calibrated scenario")
    c.set_defaults(func=cmd_calibrate)

    b = sub.add_parser("backtest", help="calibrate before a date, simulate after, compare")
    _export_args(b)
    b.add_argument("--train-until", required=True, metavar="DATE",
                   help="calibrate on leads created before this date (YYYY-MM-DD)")
    b.add_argument("--test-months", type=int, default=1, metavar="N",
                   help="months after --train-until to simulate and compare (default 1)")
    b.add_argument("--base", metavar="PRESET_OR_FILE",
                   help="scenario whose values are kept where the export says nothing"
                   " (default: default)")  # fmt: skip
    b.add_argument("--reps", type=int, default=40, help="replications (default 40)")
    b.add_argument("--seed", type=int, default=20260101, help="root seed (default 20260101)")
    b.add_argument("--out", help="output folder (default ./backtest)")
    b.add_argument("--force", action="store_true", help="write into a non-empty --out")
    b.add_argument("--quiet", action="store_true", help="no progress output")
    add_limit_args(b)
    b.set_defaults(func=cmd_backtest)

    r = sub.add_parser("review", help="a month's compliance in the simulated distribution")
    _export_args(r)
    r.add_argument("--scenario", required=True, help="scenario file to hold the month to")
    r.add_argument("--month", required=True, metavar="YYYY-MM",
                   help="the month of the export to review")
    r.add_argument("--reps", type=int, default=100, help="replications (default 100)")
    r.add_argument("--seed", type=int, default=20260101, help="root seed (default 20260101)")
    r.add_argument("--out", help="output folder (default ./review-YYYY-MM)")
    r.add_argument("--force", action="store_true", help="write into a non-empty --out")
    r.add_argument("--quiet", action="store_true", help="no progress output")
    add_limit_args(r)
    r.set_defaults(func=cmd_review)

    g = sub.add_parser("crm", help="CRM helpers: 'crm template' writes an example mapping"
                       " and export")  # fmt: skip
    gs = g.add_subparsers(dest="crm_command", metavar="SUBCOMMAND")
    t = gs.add_parser("template", help="write an example mapping and a small example export")
    t.add_argument("--out", help="folder (default ./crm_template)")
    t.add_argument("--force", action="store_true", help="write into a non-empty --out")
    t.set_defaults(func=cmd_template)
