"""The ``sla-sim`` command: run, validate, schema, presets, init.

Exit codes: 0 success, 1 a run failed, 2 bad input (invalid scenario, file or option), 130
interrupted. Errors are one clear message on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
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


def cmd_run(args: argparse.Namespace) -> int:
    """Simulate a scenario for N replications and write the results folder."""
    from sla_sim.montecarlo import default_workers, run_replications

    scenario = _scenario_from(args)
    issues = []
    if args.reps < 1:
        issues.append(Issue("--reps", "must be >= 1", args.reps))
    if args.seed < 0:
        issues.append(Issue("--seed", "must be >= 0", args.seed))
    if args.workers is not None and args.workers < 1:
        issues.append(Issue("--workers", "must be >= 1", args.workers))
    out = Path(args.out) if args.out else Path("results") / (
        f"{scenario.name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    )
    if out.exists() and any(out.iterdir()) and not args.force:
        issues.append(Issue("--out", "folder exists and is not empty (use --force)", str(out)))
    if issues:
        raise ScenarioError(issues, "run request")
    workers = args.workers or min(default_workers(), args.reps)
    if not args.quiet:
        print(f"sla-sim: {scenario.name}: {args.reps} replications, seed {args.seed}, "
              f"{workers} worker(s)", file=sys.stderr)  # fmt: skip
    results = run_replications(scenario, reps=args.reps, seed=args.seed, workers=workers,
                               progress=not args.quiet)  # fmt: skip
    results.save(out, report=not args.no_report)
    from sla_sim.report import headline_table

    table = headline_table(results)
    print(table.to_string(index=False))
    print(f"\nresults: {out}  ({results.meta['wall_seconds']:.1f} s)")
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
    run.add_argument("--reps", type=int, default=20, help="replications (default 20)")
    run.add_argument("--seed", type=int, default=20260101, help="root seed (default 20260101)")
    run.add_argument("--workers", type=int, default=None,
                     help="local worker processes (default: all cores)")
    run.add_argument("--out", help="results folder (default results/<name>-<time>)")
    run.add_argument("--force", action="store_true", help="write into a non-empty --out")
    run.add_argument("--no-report", action="store_true", help="skip report.md/report.html")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.set_defaults(func=cmd_run)

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
