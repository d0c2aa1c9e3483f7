"""The ``sla-sim`` command: the parser, built from one module per command group, and the
error-to-exit-code mapping.

Exit codes: 0 success, 1 a run failed, 2 bad input (invalid scenario, file or option), 130
interrupted. Errors are one clear message on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from sla_sim.cli import dashboard, runs, scenario, simulate
from sla_sim.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from sla_sim.errors import ScenarioError, SlaSimError

# Each group's register(sub) adds its commands; the order is the order of `sla-sim --help`.
GROUPS = (simulate, runs, scenario, dashboard)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``sla-sim``."""
    p = argparse.ArgumentParser(
        prog="sla-sim",
        description="Simulate the marketing-to-sales funnel and its SLA: revenue and SLA-breach"
        " distributions.",
    )
    p.add_argument("--version", action="version", version=_version())
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return p


def _version() -> str:
    from sla_sim.batch.results import package_version

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
