"""``sla-sim run``, ``compare`` and ``sweep``: simulate scenarios."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sla_sim.cli.common import (
    DEFAULT_SEED,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    add_common,
    add_scenario_args,
    add_set_args,
    check_out_file,
    refuse_preset_as_file,
    scenario_from,
    with_overrides,
    workers_for,
)
from sla_sim.errors import Issue, ScenarioError

RUN_REPS = 20  # run's default --reps


def cmd_run(args: argparse.Namespace) -> int:
    """Simulate a scenario (or resume a stored run) and write its results folder."""
    from sla_sim.batch.limits import check_cost

    issues = []
    if args.reps < 1:
        issues.append(Issue("--reps", "must be >= 1", args.reps))
    if not 0 <= args.seed < 2**63:
        issues.append(Issue("--seed", "must be in 0 .. 2**63-1", args.seed))
    if args.workers is not None and args.workers < 1:
        issues.append(Issue("--workers", "must be >= 1", args.workers))
    max_reps = args.max_reps if args.max_reps is not None else max(10_000, args.reps)
    if args.max_reps is not None and args.max_reps < args.reps:
        issues.append(Issue("--max-reps", f"must be >= --reps ({args.reps})", args.max_reps))
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not out.is_dir():
        issues.append(Issue("--out", "is a file, not a folder", str(out)))
    elif out is not None and out.exists() and any(out.iterdir()) and not args.force:
        issues.append(Issue("--out", "folder exists and is not empty (use --force)", str(out)))
    if args.resume and (ignored := _ignored_by_resume(args)):
        issues.append(Issue("--resume", "continues the stored run with its own scenario, seed,"
                            f" replications and folder; drop {', '.join(ignored)}",
                            args.resume))  # fmt: skip
    if issues:
        raise ScenarioError(issues, "run request")
    scenario = None if args.resume else scenario_from(args)
    workers = workers_for(args, args.reps)
    if scenario is not None:  # refuse an oversized request before the heavy imports
        check_cost(scenario, max_reps if args.precision else args.reps, min(workers, args.reps))
    from sla_sim.batch.replications import ReplicationError
    from sla_sim.batch.runs import parse_precision, stored_run
    from sla_sim.batch.store import RunStore
    from sla_sim.report.document import write_report

    precision = [parse_precision(p) for p in args.precision or []]
    if not args.quiet:
        what = f"resuming {args.resume}" if args.resume else (
            f"{scenario.name}: {args.reps} replications, seed {args.seed}")  # type: ignore[union-attr]
        where = f"dask {args.dask}" if args.dask else f"{workers} worker(s)"
        print(f"sla-sim: {what}, {where}", file=sys.stderr)
    if args.dask:  # an unreachable scheduler is refused before the run's entry is written
        from sla_sim.batch.executors import check_scheduler

        check_scheduler(args.dask)
    store = RunStore(args.store)
    resume_hint = "resume with: sla-sim run --resume {id}" + (
        f" --store {args.store}" if args.store else "")
    try:
        run_id, folder, results = stored_run(
            scenario, reps=args.reps, seed=args.seed, workers=workers, dask=args.dask,
            store=store, out=out, precision=precision, max_reps=max_reps,
            progress=not args.quiet, resume=args.resume,
            finish=None if args.no_report else write_report, force=args.force,
        )  # fmt: skip
    except KeyboardInterrupt as err:
        rid = getattr(err, "run_id", None)
        hint = resume_hint.format(id=rid) if rid else "see: sla-sim runs list"
        print(f"sla-sim: interrupted; finished replications are kept; {hint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ReplicationError as err:
        rid = getattr(err, "run_id", None)
        hint = resume_hint.format(id=rid) if rid else "see: sla-sim runs list"
        print(f"sla-sim: failed: {err}\nfinished replications are kept; after fixing the cause"
              f" {hint}", file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    except OSError as err:
        rid = getattr(err, "run_id", None)
        if rid is None:
            raise
        hint = resume_hint.format(id=rid)
        print(f"sla-sim: failed: {err.strerror or err}: {err.filename or ''}\nthe run is kept"
              f" incomplete; once the cause is fixed (e.g. space freed) {hint}",
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    from sla_sim.cli.tables import breach_by_month, headline, money
    from sla_sim.report.units import n_replications

    print(headline(results))
    print()
    if text := money(results):
        print(text)
        print()
    print(breach_by_month(results))
    targets = precision or [parse_precision(p) for p in results.meta.get("precision", [])]
    for t in targets:
        print(t.describe(results.column(t.metric, t.period), results.scenario.currency))
    print(f"\nrun {run_id}: {n_replications(results.replications)} in "
          f"{results.meta['wall_seconds']:.1f} s; results: {folder}")
    return EXIT_OK


def _ignored_by_resume(args: argparse.Namespace) -> list[str]:
    """The options of ``run`` that ``--resume`` would ignore (they were, in silence)."""
    given = {"the scenario file": args.scenario, "--preset": args.preset, "--set": args.set,
             "--engine": args.engine, "--out": args.out, "--precision": args.precision,
             "--max-reps": args.max_reps, "--reps": args.reps != RUN_REPS,
             "--seed": args.seed != DEFAULT_SEED}  # fmt: skip
    return [name for name, value in given.items() if value]


def _pair(args: argparse.Namespace):  # -> tuple[Scenario, Scenario]
    """A and B of ``compare``: A is the file or preset; B is the B file, else A; ``--set``
    changes both, ``--set-b`` only B. B identical to A is refused (nothing to compare)."""
    from sla_sim.batch.results import scenario_hash
    from sla_sim.scenario.io import load

    if args.preset and args.scenario and not args.b:  # A is the preset: the one file is B
        args.b, args.scenario = args.scenario, None  # (it was "not both" --preset and A)
    a = scenario_from(args)
    if args.b:
        refuse_preset_as_file(args.b, "B", f"write it out with sla-sim init --preset {args.b}"
                              f" --out {args.b}.yaml, or change A with --set-b")
    b = with_overrides(load(args.b), args.set) if args.b else a
    b = with_overrides(b, args.set_b, "--set-b")
    if scenario_hash(a) == scenario_hash(b):
        raise ScenarioError([Issue("--set-b", "B is the same scenario as A: give a B file or"
                                   " change B with --set-b PATH=VALUE (e.g. --set-b"
                                   " 'teams[sdr].reps=12')", args.b or "(none)")],
                            "compare request")  # fmt: skip
    return a, b


def cmd_compare(args: argparse.Namespace) -> int:
    """Run two scenarios with common random numbers, print paired differences in human
    units and keep both sides in the run store."""
    from sla_sim.batch.limits import check_cost, leads_per_replication

    if args.reps < 2:
        raise ScenarioError([Issue("--reps", "must be >= 2 for a confidence interval",
                                   args.reps)])  # fmt: skip
    a, b = _pair(args)
    if args.out:  # never into a run's folder, never over a file without --force
        from sla_sim.batch.store import RunStore

        RunStore(args.store).check_out(args.out)
        check_out_file(args.out, args.force)
    # refuse an oversized request before the heavy imports (run_pair checks it again)
    check_cost(max((a, b), key=leads_per_replication), args.reps,
               workers_for(args, 2 * args.reps), scenarios=2)  # fmt: skip
    from sla_sim.batch.compare import paired_differences, run_pair
    from sla_sim.batch.keep import keep_results
    from sla_sim.batch.store import RunStore
    from sla_sim.cli.tables import comparison

    ra, rb = run_pair(a, b, reps=args.reps, seed=args.seed,
                      workers=workers_for(args, 2 * args.reps), dask=args.dask,
                      progress=not args.quiet)  # fmt: skip
    table = paired_differences(ra, rb)
    store = RunStore(args.store)
    from sla_sim.batch.results import Results
    from sla_sim.batch.safe_csv import write_csv

    def finish_a(res: Results, folder: Path) -> None:
        if args.report:
            from sla_sim.report.document import write_report

            write_report(res, folder)

    def finish_b(res: Results, folder: Path) -> None:
        finish_a(res, folder)
        write_csv(table, folder / "comparison.csv")

    id_a, _ = keep_results(ra, store, note="compare: side A", finish=finish_a, kind="compare")
    id_b, folder_b = keep_results(rb, store, note=f"compare: side B, against {id_a}",
                                  finish=finish_b, kind="compare")  # fmt: skip
    if args.out:
        write_csv(table, args.out)
    from sla_sim.batch.difference import describe_difference

    print(describe_difference(a, b))
    print(f"B - A over {args.reps} paired replications (common random numbers), 95% CIs:")
    print(comparison(table, a.currency, a))
    print(f"\nkept in the store {store.root}: A = {id_a}, B = {id_b} (table:"
          f" {folder_b / 'comparison.csv'}); again with: sla-sim runs compare {id_a} {id_b}")
    return EXIT_OK


def _one_param_per_field(scenario, paths: list[str]) -> None:
    """Refuse two ``--param`` of one field (``teams[sdr].reps`` and ``teams[0].reps`` too):
    the later replaced the earlier in silence."""
    from sla_sim.scenario.io import canonical_path

    seen: dict[str, str] = {}
    for path in paths:
        key = canonical_path(scenario, path)
        if key in seen:
            same = "is given more than once" if seen[key] == path else (
                f"is the same field as --param {seen[key]}")
            raise ScenarioError([Issue(f"--param {path}", f"{same}: give each field once,"
                                       " with all its values", path)], "option")  # fmt: skip
        seen[key] = path


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a grid or Latin hypercube over scenario fields; keep the tidy table in the store
    (and write it to --out if given)."""
    import time

    from sla_sim.batch.keep import keep_sweep
    from sla_sim.batch.safe_csv import write_csv
    from sla_sim.batch.store import RunStore
    from sla_sim.batch.sweep import parse_param, sweep
    from sla_sim.cli.tables import sweep_summary

    out = Path(args.out) if args.out is not None else None  # default: only in the store
    if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
        raise ScenarioError([Issue("--out", "must end in .parquet or .csv (the table's format)",
                                   str(out))], "option")  # fmt: skip
    if out is not None:  # never into a run's folder, never over a file without --force
        RunStore(args.store).check_out(out)
        check_out_file(out, args.force)
    scenario = scenario_from(args)
    parsed = [parse_param(p) for p in args.param or []]
    _one_param_per_field(scenario, [path for path, _ in parsed])
    params = dict(parsed)
    t0 = time.perf_counter()
    table = sweep(scenario, params, reps=args.reps, seed=args.seed, samples=args.samples,
                  workers=workers_for(args, args.reps * 4), dask=args.dask,
                  progress=not args.quiet)  # fmt: skip
    request = {"params": list(args.param or []), "reps": args.reps, "seed": args.seed,
               "samples": args.samples}  # fmt: skip
    run_id, folder = keep_sweep(table, scenario, RunStore(args.store), request,
                                round(time.perf_counter() - t0, 3))  # fmt: skip
    names = list(params)
    print(sweep_summary(table, names, scenario.currency, scenario))
    print(f"\n{len(table):,} rows -> {folder / 'sweep.parquet'} (store entry {run_id})")
    if out is not None:
        from sla_sim.batch.files import atomic_write_parquet
        from sla_sim.batch.safe_csv import write_csv

        if out.suffix.lower() == ".csv":
            write_csv(table, out)
        else:
            atomic_write_parquet(table, out)
        print(f"{len(table):,} rows -> {out}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``sla-sim`` parser."""
    run = sub.add_parser("run", help="simulate a scenario (default: the built-in default)")
    add_scenario_args(run)
    add_common(run, reps=RUN_REPS)
    run.add_argument("--out", help="results folder (default: a new folder in the store)")
    run.add_argument("--force", action="store_true",
                     help="start afresh in a non-empty --out (the run there is removed)")
    run.add_argument("--precision", action="append", metavar="METRIC=TARGET",
                     help="add replications until the 95%% CI half-width of METRIC is within"
                     " TARGET (e.g. revenue=2%%); repeatable")
    run.add_argument("--max-reps", type=int, default=None,
                     help="cap on replications with --precision (default 10000, or --reps)")
    run.add_argument("--resume", metavar="ID",
                     help="complete an interrupted run (its id: see sla-sim runs list)")
    run.add_argument("--no-report", action="store_true", help="skip report.md/report.html")
    run.set_defaults(func=cmd_run)

    cmp_ = sub.add_parser(
        "compare", help="scenario A vs B with common random numbers",
        description="Run A and B on the same seeds and print B - A with paired and unpaired"
        " 95% intervals. B defaults to A: `sla-sim compare --preset default --set-b"
        " 'teams[sdr].reps=12'` compares the default with 12 SDRs. Both sides are kept in the"
        " run store (sla-sim runs list).")  # fmt: skip
    cmp_.add_argument("scenario", nargs="?", metavar="A",
                      help="scenario file of A (default: --preset)")
    cmp_.add_argument("b", nargs="?", metavar="B",
                      help="scenario file of B (default: A, changed by --set-b); with"
                      " --preset, the one file given is B")
    cmp_.add_argument("--preset", metavar="NAME",
                      help="built-in scenario for A instead of a file (see: sla-sim presets;"
                      " default: default)")  # fmt: skip
    add_set_args(cmp_, help_text="change a field of both A and B, e.g."
                 " horizon.measure_months=1 (value read as YAML); repeatable")
    add_set_args(cmp_, "--set-b", help_text="change a field of B only, e.g."
                 " teams[sdr].reps=12 or sla.first_touch_within_business_hours=1; repeatable")
    add_common(cmp_, reps=50)
    cmp_.add_argument("--out", help="also write the table of differences as CSV here")
    cmp_.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    cmp_.add_argument("--report", action="store_true",
                      help="also write report.md/report.html for A and B in the store")
    cmp_.set_defaults(func=cmd_compare)

    swp = sub.add_parser("sweep", help="grid or Latin hypercube over scenario fields")
    add_scenario_args(swp)
    swp.add_argument("--param", action="append", metavar="PATH=VALUES",
                     help="e.g. teams[sdr].reps=6:14 or sla.first_touch_within_business_hours"
                     "=1,2,4,8; repeatable")
    swp.add_argument("--samples", type=int,
                     help="this many Latin-hypercube points instead of the full grid")
    add_common(swp, reps=10)
    swp.add_argument("--out", default=None,
                     help="also write the table here (.parquet or .csv); default: only in the"
                     " store, as <store>/<time>-sweep-<scenario>/sweep.parquet")
    swp.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    swp.set_defaults(func=cmd_sweep)
