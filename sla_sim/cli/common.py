"""What every ``sla-sim`` command group shares: exit codes, the scenario argument, workers."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from sla_sim.errors import Issue, ScenarioError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_SEED = 20260101


def scenario_from(args: argparse.Namespace):  # -> Scenario
    """The scenario a command names: its scenario file or ``--preset`` (default: the default
    preset), then its ``--set PATH=VALUE`` overrides, if the command has that option."""
    from sla_sim.scenario.io import load
    from sla_sim.scenario.presets import preset

    if args.scenario and args.preset:
        raise ScenarioError([Issue("--preset", "give a scenario file or --preset, not both",
                                   args.preset)])  # fmt: skip
    if args.scenario:
        refuse_preset_as_file(args.scenario)
    scenario = load(args.scenario) if args.scenario else preset(args.preset or "default")
    if getattr(args, "engine", None):
        scenario = scenario.model_copy(update={"engine": args.engine})
    return with_overrides(scenario, getattr(args, "set", None))


def refuse_preset_as_file(text: str, name: str = "scenario", advice: str = "") -> None:
    """``sla-sim run enterprise`` (no such file): the built-in scenario goes with ``--preset``
    (it said only "file: must be an existing scenario file (got 'enterprise')")."""
    from sla_sim.scenario.presets import preset_names

    if not Path(text).exists() and text in preset_names():
        advice = advice or f"give it as --preset {text}"
        raise ScenarioError([Issue(name, f"is a built-in scenario, not a file: {advice}",
                                   text)])  # fmt: skip


def with_overrides(scenario, assignments, option: str = "--set"):  # -> Scenario
    """The scenario with ``--set PATH=VALUE`` overrides applied in order (none: unchanged).
    A bad path or value is a ScenarioError naming the option and the path (exit 2)."""
    if not assignments:
        return scenario
    from sla_sim.scenario.io import apply_assignments

    return apply_assignments(scenario, assignments, option)


def workers_for(args: argparse.Namespace, reps: int) -> int:
    from sla_sim.batch.replications import default_workers

    cores = default_workers()
    if args.workers is not None:
        if args.workers < 1:
            raise ScenarioError([Issue("--workers", "must be >= 1", args.workers)], "option")
        if args.workers > cores and not getattr(args, "dask", None):
            print(f"sla-sim: warning: {args.workers} workers on {cores} core(s): each worker"
                  " takes memory and the extra ones add no speed", file=sys.stderr)  # fmt: skip
        return args.workers
    return max(1, min(cores, reps))


@contextlib.contextmanager
def limits_from(args: argparse.Namespace) -> Iterator[None]:
    """While a command runs, ``--max-memory-gb`` / ``--max-cpu-hours`` override the limit
    settings (:mod:`sla_sim.batch.limits`); the environment is restored afterwards."""
    from sla_sim.batch.limits import CPU_ENV, MEMORY_ENV

    given = {MEMORY_ENV: getattr(args, "max_memory_gb", None),
             CPU_ENV: getattr(args, "max_cpu_hours", None)}  # fmt: skip
    old = {k: os.environ.get(k) for k in given}
    try:
        for (k, v), flag in zip(given.items(), ("--max-memory-gb", "--max-cpu-hours"),
                                strict=True):  # fmt: skip
            if v is not None:
                if not (math.isfinite(v) and v > 0):
                    raise_option(flag, "must be a positive number", v)
                os.environ[k] = repr(v)
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check_reps_seed(reps: int, seed: int, minimum: int = 1, what: str = "request") -> None:
    """Refuse ``--reps`` below ``minimum`` and a ``--seed`` outside 0 .. 2**63-1 (exit 2)."""
    issues = []
    if reps < minimum:
        issues.append(Issue("--reps", f"must be >= {minimum}", reps))
    if not 0 <= seed < 2**63:
        issues.append(Issue("--seed", "must be in 0 .. 2**63-1", seed))
    if issues:
        raise ScenarioError(issues, what)


def with_months(scenario, months: int):  # -> Scenario
    """The scenario measured over ``months`` months (for a cost estimate: not validated)."""
    return scenario.model_copy(update={"horizon": scenario.horizon.model_copy(
        update={"measure_months": months})})


def raise_option(flag: str, rule: str, value: object) -> None:
    """Raise the ScenarioError of one bad command-line option."""
    raise ScenarioError([Issue(flag, rule, value)], "option")


def check_out_file(out: str | Path, force: bool) -> None:
    """Refuse, before any work, an ``--out`` file that exists (unless ``force``) or is a
    folder. A file written is renamed into place, so a symbolic link there is replaced, never
    followed."""
    path = Path(out)
    if path.is_dir() and not path.is_symlink():
        raise_option("--out", "is a folder, not a file", str(out))
    if (path.exists() or path.is_symlink()) and not force:
        raise_option("--out", "file exists (use --force to overwrite)", str(out))


def check_out_folder(out: str | Path, force: bool) -> None:
    """Refuse, before any work, an ``--out`` folder that is a file, or exists and is not
    empty (unless ``force``: then files of the same names are written over, nothing else is
    touched)."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise_option("--out", "is a file, not a folder", str(out))
    if path.is_dir() and any(path.iterdir()) and not force:
        raise_option("--out", "folder exists and is not empty (use --force)", str(out))


def add_common(p: argparse.ArgumentParser, reps: int) -> None:
    p.add_argument("--reps", type=int, default=reps, help=f"replications (default {reps})")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED,
                   help=f"root seed (default {DEFAULT_SEED})")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: all cores)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run on Dask: 'local' or a scheduler address tcp://host:8786")
    p.add_argument("--store", help="store folder (default $SLA_SIM_STORE or ./sla_sim_runs)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    add_limit_args(p)


def add_limit_args(p: argparse.ArgumentParser) -> None:
    """``--max-memory-gb`` and ``--max-cpu-hours``: raise the cost limits for one command
    (read by :func:`limits_from`)."""
    p.add_argument("--max-memory-gb", type=float, default=None, metavar="GB",
                   help="refuse requests estimated to need more memory (default"
                   " $SLA_SIM_MAX_MEMORY_GB, or 80%% of this machine's, at most 16)")
    p.add_argument("--max-cpu-hours", type=float, default=None, metavar="H",
                   help="refuse requests estimated to need more CPU time (default"
                   " $SLA_SIM_MAX_CPU_HOURS, or 24)")


SET_HELP = ("change one scenario field, e.g. teams[sdr].reps=12 or"
            " sla.first_touch_within_business_hours=1; list items by name or index; the value"
            " is read as YAML (12, 0.5, [0, 1, 3], null, text); repeatable, applied in order;"
            " a bad path or value exits 2 naming it")


def add_scenario_args(p: argparse.ArgumentParser, overrides: bool = True) -> None:
    """The positional scenario file and ``--preset`` (give one or neither), and, unless told
    not to, ``--set PATH=VALUE`` (read back by :func:`scenario_from`). Every command group
    that takes a scenario calls this (run, compare, sweep, funnel, recommend, measure...)."""
    p.add_argument("scenario", nargs="?",
                   help="scenario file (.yaml, .toml, .json); it may name a built-in scenario"
                   " to start from with 'base: NAME' and give only what differs (default:"
                   " --preset)")  # fmt: skip
    p.add_argument("--preset", metavar="NAME",
                   help="built-in scenario instead of a file: default, mid_market,"
                   " smb_inbound, enterprise (see: sla-sim presets; default: default)")
    p.add_argument("--engine", choices=("fast", "simpy"), default=None,
                   help="event-loop engine (sets the scenario's 'engine'): fast (compiled,"
                   " the default; SimPy where it does not cover the scenario) or simpy (the"
                   " reference); both give the same results")
    if overrides:
        add_set_args(p)


def add_set_args(p: argparse.ArgumentParser, flag: str = "--set", help_text: str = SET_HELP
                 ) -> None:  # fmt: skip
    """A repeatable ``PATH=VALUE`` option (``--set``; ``compare`` adds ``--set-b``)."""
    p.add_argument(flag, dest=flag.lstrip("-").replace("-", "_"), action="append", default=[],
                   metavar="PATH=VALUE", help=help_text)
