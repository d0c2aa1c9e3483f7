"""``sla-sim run``, ``compare`` and ``sweep``: simulate scenarios."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sla_sim.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    add_common,
    scenario_from,
    workers_for,
)
from sla_sim.errors import Issue, ScenarioError


def cmd_run(args: argparse.Namespace) -> int:
    """Simulate a scenario (or resume a stored run) and write its results folder."""
    from sla_sim.batch.replications import ReplicationError
    from sla_sim.batch.runs import parse_precision, stored_run
    from sla_sim.batch.store import RunStore
    from sla_sim.report.document import write_report

    issues = []
    if args.reps < 1:
        issues.append(Issue("--reps", "must be >= 1", args.reps))
    if args.seed < 0:
        issues.append(Issue("--seed", "must be >= 0", args.seed))
    if args.workers is not None and args.workers < 1:
        issues.append(Issue("--workers", "must be >= 1", args.workers))
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and any(out.iterdir()) and not args.force:
        issues.append(Issue("--out", "folder exists and is not empty (use --force)", str(out)))
    if issues:
        raise ScenarioError(issues, "run request")
    precision = [parse_precision(p) for p in args.precision or []]
    scenario = None if args.resume else scenario_from(args)
    workers = workers_for(args, args.reps)
    if not args.quiet:
        what = f"resuming {args.resume}" if args.resume else (
            f"{scenario.name}: {args.reps} replications, seed {args.seed}")  # type: ignore[union-attr]
        where = f"dask {args.dask}" if args.dask else f"{workers} worker(s)"
        print(f"sla-sim: {what}, {where}", file=sys.stderr)
    store = RunStore(args.store)
    try:
        run_id, folder, results = stored_run(
            scenario, reps=args.reps, seed=args.seed, workers=workers, dask=args.dask,
            store=store, out=out, precision=precision, max_reps=args.max_reps,
            progress=not args.quiet, resume=args.resume,
            finish=None if args.no_report else write_report,
        )  # fmt: skip
    except KeyboardInterrupt:
        print("sla-sim: interrupted; finished replications are kept. Resume with:"
              " sla-sim run --resume <id> (see: sla-sim runs list)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ReplicationError as err:
        print(f"sla-sim: failed: {err}\nfinished replications are kept; after fixing the cause"
              " resume with: sla-sim run --resume <id> (see: sla-sim runs list)",
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    from sla_sim.report.document import headline_table

    print(headline_table(results).to_string(index=False))
    targets = precision or [parse_precision(p) for p in results.meta.get("precision", [])]
    for t in targets:
        print(t.describe(results.column(t.metric, t.period)))
    print(f"\nrun {run_id}: {results.replications} replications in "
          f"{results.meta['wall_seconds']:.1f} s; results: {folder}")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    """Run two scenarios with common random numbers and print paired differences."""
    from sla_sim.batch.compare import paired_differences, run_pair
    from sla_sim.scenario.io import load

    a, b = load(args.a), load(args.b)
    if args.reps < 2:
        raise ScenarioError([Issue("--reps", "must be >= 2 for a confidence interval",
                                   args.reps)])  # fmt: skip
    ra, rb = run_pair(a, b, reps=args.reps, seed=args.seed,
                      workers=workers_for(args, 2 * args.reps), dask=args.dask,
                      progress=not args.quiet)  # fmt: skip
    table = paired_differences(ra, rb)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, index=False)
    show = table[["metric", "mean_a", "mean_b", "diff", "paired_low", "paired_high",
                  "unpaired_low", "unpaired_high"]]  # fmt: skip
    print(f"B - A over {args.reps} paired replications (common random numbers), 95% CIs:")
    print(show.to_string(index=False, float_format=lambda v: f"{v:,.4g}"))
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a grid or Latin hypercube over scenario fields; write one tidy table."""
    from sla_sim.batch.sweep import parse_param, sweep

    scenario = scenario_from(args)
    params = dict(parse_param(p) for p in args.param or [])
    table = sweep(scenario, params, reps=args.reps, seed=args.seed, samples=args.samples,
                  workers=workers_for(args, args.reps * 4), dask=args.dask,
                  progress=not args.quiet)  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        table.to_csv(out, index=False)
    else:
        table.to_parquet(out, index=False)
    names = list(params)
    tot = table[(table["period"] == "total") & (table["metric"].isin(
        ["revenue", "first_touch_breach", "revenue_target_breach"]))]
    print(tot.pivot_table(index=names, columns="metric", values="value", aggfunc="mean",
                          observed=True).to_string(float_format=lambda v: f"{v:,.4g}"))
    print(f"\n{len(table):,} rows -> {out}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``sla-sim`` parser."""
    run = sub.add_parser("run", help="simulate a scenario (default: the built-in default)")
    run.add_argument("scenario", nargs="?", help="scenario file (.yaml, .toml, .json)")
    run.add_argument("--preset", help="built-in scenario name (see: sla-sim presets)")
    add_common(run, reps=20)
    run.add_argument("--out", help="results folder (default: a new folder in the store)")
    run.add_argument("--force", action="store_true", help="write into a non-empty --out")
    run.add_argument("--precision", action="append", metavar="METRIC=TARGET",
                     help="add replications until the 95%% CI half-width of METRIC is within"
                     " TARGET (e.g. revenue=2%%); repeatable")
    run.add_argument("--max-reps", type=int, default=10_000,
                     help="cap on replications with --precision (default 10000)")
    run.add_argument("--resume", metavar="ID", help="complete an interrupted run")
    run.add_argument("--no-report", action="store_true", help="skip report.md/report.html")
    run.set_defaults(func=cmd_run)

    cmp_ = sub.add_parser("compare", help="scenario A vs B with common random numbers")
    cmp_.add_argument("a")
    cmp_.add_argument("b")
    add_common(cmp_, reps=50)
    cmp_.add_argument("--out", help="also write the table as CSV")
    cmp_.set_defaults(func=cmd_compare)

    swp = sub.add_parser("sweep", help="grid or Latin hypercube over scenario fields")
    swp.add_argument("scenario", nargs="?")
    swp.add_argument("--preset")
    swp.add_argument("--param", action="append", metavar="PATH=VALUES",
                     help="e.g. teams[sdr].reps=6:14 or sla.first_touch_within_business_hours"
                     "=1,2,4,8; repeatable")
    swp.add_argument("--samples", type=int, help="Latin-hypercube points instead of a grid")
    add_common(swp, reps=10)
    swp.add_argument("--out", default="sweep.parquet", help="table (.parquet or .csv)")
    swp.set_defaults(func=cmd_sweep)
