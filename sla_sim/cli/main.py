"""The ``sla-sim`` command: the parser, built from one module per command group, and the
error-to-exit-code mapping.

Exit codes: 0 success, 1 a run failed or the machine failed it (disk full), 2 bad input
(invalid scenario, file or option), 130 interrupted. Errors are one clear message on stderr,
never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence

from sla_sim.cli import crm, dashboard, marginal, recommend, runs, scenario, simulate
from sla_sim.cli.arguments import check_arguments
from sla_sim.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, limits_from
from sla_sim.cli.terminal import safe_terminal
from sla_sim.errors import ScenarioError, SlaSimError, clear_interrupt, note_interrupt

# Each group's register(sub) adds its commands; the order is the order of `sla-sim --help`.
GROUPS = (simulate, marginal, runs, scenario, recommend, crm, dashboard)


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
    """Entry point of the ``sla-sim`` command; returns the exit code.

    SIGTERM is handled like Ctrl-C (finished replications are kept, workers stop, exit 130);
    a closed output pipe (``sla-sim ... | head``) ends the command quietly; control characters
    in anything printed (a scenario name, a value in a message) are shown escaped
    (:mod:`sla_sim.cli.terminal`).
    """
    with safe_terminal():
        return _main(argv)


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """``parser.parse_args``, but an unknown option is refused by the command it was given to,
    with that command's usage and the nearest options (``sla-sim run --presett default`` showed
    the top-level usage, ``sla-sim [-h] [--version] COMMAND ...``, and no hint)."""
    import difflib

    args, extras = parser.parse_known_args(argv)
    if not extras:
        return args
    command = parser
    while True:  # down to the (sub-)command that was given: run, runs show, crm map...
        action = next((a for a in command._actions
                       if isinstance(a, argparse._SubParsersAction)), None)  # fmt: skip
        name = getattr(args, action.dest, None) if action is not None else None
        if action is None or name not in action.choices:
            break
        command = action.choices[name]
    known = [o for a in command._actions for o in a.option_strings]
    near = [m for x in extras if x.startswith("-")
            for m in difflib.get_close_matches(x.split("=")[0], known, n=1, cutoff=0.75)]
    hint = f" (did you mean {', '.join(dict.fromkeys(near))}?)" if near else ""
    command.error(f"unrecognized arguments: {' '.join(extras)}{hint}")


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parse(parser, argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        check_arguments(parser, args)
        with _sigterm_as_interrupt(), limits_from(args):
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
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK
    except OSError as err:
        from sla_sim.batch.files import is_environmental

        if is_environmental(err):  # disk full, I/O error: the machine's fault, not the input's
            print(f"sla-sim: failed: {err.strerror or err}: {err.filename or ''}",
                  file=sys.stderr)  # fmt: skip
            return EXIT_FAILED
        print(f"sla-sim: error: {err.strerror or err}: {err.filename or ''}", file=sys.stderr)
        return EXIT_USAGE
    except RecursionError:
        print("sla-sim: error: input nested too deep", file=sys.stderr)
        return EXIT_USAGE
    finally:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _quiet_stdout()


def _quiet_stdout() -> None:
    """The reader of stdout went away: send what is left to /dev/null (Python would otherwise
    complain about the pipe once more at exit)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While a command runs, SIGTERM raises KeyboardInterrupt (as Ctrl-C does); both are also
    noted (:func:`sla_sim.errors.note_interrupt`) for the replications to see between runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: object) -> None:
        note_interrupt()  # looked at between replications too (see sla_sim.errors)
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, interrupt)
    # Ctrl-C the same way, unless this process was started with SIGINT ignored (a background job)
    old_int = signal.getsignal(signal.SIGINT)
    if old_int is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
        if old_int is signal.default_int_handler:
            signal.signal(signal.SIGINT, old_int)
        clear_interrupt()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
