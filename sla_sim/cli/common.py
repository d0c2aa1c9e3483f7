"""What every ``sla-sim`` command group shares: exit codes, the scenario argument, workers."""

from __future__ import annotations

import argparse

from sla_sim.errors import Issue, ScenarioError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def scenario_from(args: argparse.Namespace):  # -> Scenario
    from sla_sim.scenario.io import load
    from sla_sim.scenario.presets import preset

    if args.scenario and args.preset:
        raise ScenarioError([Issue("--preset", "give a scenario file or --preset, not both",
                                   args.preset)])  # fmt: skip
    if args.scenario:
        return load(args.scenario)
    return preset(args.preset or "default")


def workers_for(args: argparse.Namespace, reps: int) -> int:
    from sla_sim.batch.replications import default_workers

    if args.workers is not None:
        if args.workers < 1:
            raise ScenarioError([Issue("--workers", "must be >= 1", args.workers)])
        return args.workers
    return max(1, min(default_workers(), reps))


def add_common(p: argparse.ArgumentParser, reps: int) -> None:
    p.add_argument("--reps", type=int, default=reps, help=f"replications (default {reps})")
    p.add_argument("--seed", type=int, default=20260101, help="root seed (default 20260101)")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: all cores)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run on Dask: 'local' or a scheduler address tcp://host:8786")
    p.add_argument("--store", help="store folder (default $SLA_SIM_STORE or ./sla_sim_runs)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def add_scenario_args(p: argparse.ArgumentParser) -> None:
    """The positional scenario file and ``--preset`` (give one or neither)."""
    p.add_argument("scenario", nargs="?", help="scenario file (.yaml, .toml, .json)")
    p.add_argument("--preset", help="built-in scenario name (see: sla-sim presets)")
