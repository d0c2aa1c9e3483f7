"""The ``sla-sim`` command: run, compare, sweep, runs, funnel, dashboard, validate, schema,
presets, init.

Exit codes: 0 success, 1 a run failed, 2 bad input (invalid scenario, file or option), 130
interrupted. Errors are one clear message on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sla_sim.errors import Issue, ScenarioError, SlaSimError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _scenario_from(args: argparse.Namespace):  # -> Scenario
    from sla_sim.presets import preset
    from sla_sim.scenario_io import load

    if args.scenario and args.preset:
        raise ScenarioError([Issue("--preset", "give a scenario file or --preset, not both",
                                   args.preset)])  # fmt: skip
    if args.scenario:
        return load(args.scenario)
    return preset(args.preset or "default")


def _workers(args: argparse.Namespace, reps: int) -> int:
    from sla_sim.montecarlo import default_workers

    if args.workers is not None:
        if args.workers < 1:
            raise ScenarioError([Issue("--workers", "must be >= 1", args.workers)])
        return args.workers
    return max(1, min(default_workers(), reps))


def cmd_run(args: argparse.Namespace) -> int:
    """Simulate a scenario (or resume a stored run) and write its results folder."""
    from sla_sim.montecarlo import ReplicationError
    from sla_sim.runs import parse_precision, stored_run
    from sla_sim.store import RunStore

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
    scenario = None if args.resume else _scenario_from(args)
    workers = _workers(args, args.reps)
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
            progress=not args.quiet, report=not args.no_report, resume=args.resume,
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
    from sla_sim.report import headline_table

    print(headline_table(results).to_string(index=False))
    targets = precision or [parse_precision(p) for p in results.meta.get("precision", [])]
    for t in targets:
        print(t.describe(results.column(t.metric, t.period)))
    print(f"\nrun {run_id}: {results.replications} replications in "
          f"{results.meta['wall_seconds']:.1f} s; results: {folder}")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    """Run two scenarios with common random numbers and print paired differences."""
    from sla_sim.compare import paired_differences, run_pair
    from sla_sim.scenario_io import load

    a, b = load(args.a), load(args.b)
    if args.reps < 2:
        raise ScenarioError([Issue("--reps", "must be >= 2 for a confidence interval",
                                   args.reps)])  # fmt: skip
    ra, rb = run_pair(a, b, reps=args.reps, seed=args.seed, workers=_workers(args, 2 * args.reps),
                      dask=args.dask, progress=not args.quiet)  # fmt: skip
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
    from sla_sim.sweep import parse_param, sweep

    scenario = _scenario_from(args)
    params = dict(parse_param(p) for p in args.param or [])
    table = sweep(scenario, params, reps=args.reps, seed=args.seed, samples=args.samples,
                  workers=_workers(args, args.reps * 4), dask=args.dask,
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


def cmd_runs(args: argparse.Namespace) -> int:
    """List, show or compare stored runs."""
    from sla_sim.store import RunStore

    store = RunStore(args.store)
    if args.runs_command == "list":
        df = store.list()
        if df.empty:
            print(f"no runs in {store.root}")
        else:
            cols = ["id", "status", "scenario_name", "seed", "reps_done", "reps_requested",
                    "created", "path"]  # fmt: skip
            print(df[cols].to_string(index=False))
        return EXIT_OK
    from sla_sim.results import Results

    if args.runs_command == "show":
        folder = store.path_of(args.id)
        meta = json.loads((folder / "run.json").read_text())
        print(json.dumps({k: meta[k] for k in meta if k != "path"}, indent=2))
        if meta["status"] == "complete":
            from sla_sim.report import headline_table

            print(headline_table(Results.load(folder)).to_string(index=False))
        return EXIT_OK
    from sla_sim.compare import paired_differences

    ra, rb = (Results.load(_complete(store, i)) for i in (args.id_a, args.id_b))
    table = paired_differences(ra, rb)
    same = ra.meta.get("seed") == rb.meta.get("seed")
    print(f"{args.id_b} - {args.id_a}" + (" (same seed: paired)" if same else
                                          " (different seeds: read the unpaired CI)"))
    print(table[["metric", "mean_a", "mean_b", "diff", "paired_low", "paired_high",
                 "unpaired_low", "unpaired_high"]].to_string(
        index=False, float_format=lambda v: f"{v:,.4g}"))  # fmt: skip
    return EXIT_OK


def _complete(store, run_id: str) -> Path:  # type: ignore[no-untyped-def]
    folder = store.path_of(run_id)
    meta = json.loads((folder / "run.json").read_text())
    if meta.get("status") != "complete":
        raise ScenarioError([Issue("run id", f"run is {meta.get('status')}, not complete",
                                   run_id)])  # fmt: skip
    return folder


def cmd_funnel(args: argparse.Namespace) -> int:
    """Print the analytic funnel: expected monthly volumes, and what a revenue target needs."""
    from sla_sim.analysis.reverse_funnel import forward, reverse

    scenario = _scenario_from(args)
    fmt = {"float_format": lambda v: f"{v:,.1f}"}
    print(f"Expected per month at the scenario's rates (first MQL episode, no capacity limits,"
          f" first attempt {args.response_hours:g} h after MQL):")
    print(forward(scenario, args.response_hours).to_string(index=False, **fmt))
    target = scenario.sla.revenue_target_per_month if args.target is None else args.target
    print(f"\nNeeded per month for revenue {target:,.0f} {scenario.currency}:")
    print(reverse(scenario, target, args.response_hours).to_string(index=False, **fmt))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a scenario file; print a one-line description when it is valid."""
    from sla_sim.scenario_io import load

    sc = load(args.file)
    reps = sum(t.reps for t in sc.teams)
    leads = sum(c.leads_per_month for c in sc.channels)
    print(f"ok: {args.file}: {sc.name!r}, {len(sc.channels)} channels, {leads:,.0f} leads/month,"
          f" {len(sc.teams)} team(s) with {reps} SDRs, {sc.ae.count} AEs")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of a scenario file."""
    from sla_sim.scenario import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2))
    return EXIT_OK


def cmd_presets(args: argparse.Namespace) -> int:
    """List the built-in scenarios."""
    from sla_sim.presets import PRESETS, preset

    for name in PRESETS:
        sc = preset(name)
        alias = " (alias of mid_market)" if name == "default" else ""
        print(f"{name:<12} {sc.description}{alias}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    """Write a preset out as YAML with every field present, to edit."""
    from sla_sim.presets import preset
    from sla_sim.scenario_io import save

    out = Path(args.out)
    if out.exists() and not args.force:
        raise ScenarioError([Issue("--out", "file exists (use --force to overwrite)", str(out))])
    save(preset(args.preset), out)
    print(f"wrote {out} (preset {args.preset}); check it with: sla-sim validate {out}")
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve the planner panel as a web page (Voilà on 127.0.0.1) until Ctrl-C."""
    from sla_sim.dashboard import serve

    if args.scenario and args.preset:
        raise ScenarioError([Issue("--preset", "give a scenario file or --preset, not both",
                                   args.preset)])  # fmt: skip
    return serve(port=args.port, preset=args.preset or "default", scenario_path=args.scenario,
                 reps=args.reps, open_browser=args.open,
                 workers=args.workers if args.workers is not None else os.cpu_count() or 1
                 )  # fmt: skip


cmp_func = cmd_compare


def _common(p: argparse.ArgumentParser, reps: int) -> None:
    p.add_argument("--reps", type=int, default=reps, help=f"replications (default {reps})")
    p.add_argument("--seed", type=int, default=20260101, help="root seed (default 20260101)")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: all cores)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run on Dask: 'local' or a scheduler address tcp://host:8786")
    p.add_argument("--store", help="store folder (default $SLA_SIM_STORE or ./sla_sim_runs)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``sla-sim``."""
    p = argparse.ArgumentParser(
        prog="sla-sim",
        description="Simulate the marketing-to-sales funnel and its SLA: revenue and SLA-breach"
        " distributions.",
    )
    p.add_argument("--version", action="version", version=_version())
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="simulate a scenario (default: the built-in default)")
    run.add_argument("scenario", nargs="?", help="scenario file (.yaml, .toml, .json)")
    run.add_argument("--preset", help="built-in scenario name (see: sla-sim presets)")
    _common(run, reps=20)
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
    _common(cmp_, reps=50)
    cmp_.add_argument("--out", help="also write the table as CSV")
    cmp_.set_defaults(func=cmp_func)

    swp = sub.add_parser("sweep", help="grid or Latin hypercube over scenario fields")
    swp.add_argument("scenario", nargs="?")
    swp.add_argument("--preset")
    swp.add_argument("--param", action="append", metavar="PATH=VALUES",
                     help="e.g. teams[sdr].reps=6:14 or sla.first_touch_within_business_hours"
                     "=1,2,4,8; repeatable")
    swp.add_argument("--samples", type=int, help="Latin-hypercube points instead of a grid")
    _common(swp, reps=10)
    swp.add_argument("--out", default="sweep.parquet", help="table (.parquet or .csv)")
    swp.set_defaults(func=cmd_sweep)

    runs = sub.add_parser("runs", help="stored runs: list, show ID, compare ID ID")
    runs.add_argument("--store", help="store folder (default $SLA_SIM_STORE or ./sla_sim_runs)")
    rsub = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    rsub.add_parser("list", help="every run in the catalog")
    show = rsub.add_parser("show", help="one run's facts and headline numbers")
    show.add_argument("id")
    rc = rsub.add_parser("compare", help="paired differences between two complete runs")
    rc.add_argument("id_a")
    rc.add_argument("id_b")
    runs.set_defaults(func=cmd_runs)

    fun = sub.add_parser("funnel", help="analytic funnel: volumes, and what a target needs")
    fun.add_argument("scenario", nargs="?")
    fun.add_argument("--preset")
    fun.add_argument("--target", type=float, help="revenue per month (default: the SLA's)")
    fun.add_argument("--response-hours", type=float, default=0.0,
                     help="hours from MQL to the first attempt (default 0)")
    fun.set_defaults(func=cmd_funnel)

    val = sub.add_parser("validate", help="check a scenario file")
    val.add_argument("file")
    val.set_defaults(func=cmd_validate)

    sch = sub.add_parser("schema", help="print the scenario JSON Schema")
    sch.set_defaults(func=cmd_schema)

    pre = sub.add_parser("presets", help="list built-in scenarios")
    pre.set_defaults(func=cmd_presets)

    ini = sub.add_parser("init", help="write a preset to a YAML file to edit")
    ini.add_argument("--preset", default="default")
    ini.add_argument("--out", required=True)
    ini.add_argument("--force", action="store_true")
    ini.set_defaults(func=cmd_init)

    dash = sub.add_parser("dashboard", help="the planner panel in a browser (this machine only)")
    dash.add_argument("scenario", nargs="?", help="scenario file (default: --preset)")
    dash.add_argument("--preset", help="built-in scenario name (default: default)")
    dash.add_argument("--port", type=int, default=8866, help="port on 127.0.0.1 (default 8866)")
    dash.add_argument("--reps", type=int, default=100, help="replications (default 100)")
    dash.add_argument("--workers", type=int, default=None,
                      help="simulation worker processes (default: all cores)")
    dash.add_argument("--open", action="store_true", help="open the page in a web browser")
    dash.set_defaults(func=cmd_dashboard)
    return p


def _version() -> str:
    from sla_sim.results import package_version

    return f"sla-sim {package_version()}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sla-sim`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return func(args)
    except ScenarioError as err:
        print(f"sla-sim: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except SlaSimError as err:
        print(f"sla-sim: failed: {err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("sla-sim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as err:
        print(f"sla-sim: error: {err.strerror or err}: {err.filename or ''}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
