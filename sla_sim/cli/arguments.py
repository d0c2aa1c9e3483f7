"""Checks every command makes on its raw arguments before any work: no empty value (an empty
``--out``, ``--map`` or scenario was taken as "not given" and the default used in silence), and
no output path (``--out``, ``--store``) with a file where a folder has to be."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from sla_sim.errors import Issue, ScenarioError
from sla_sim.scenario.io import file_on_the_way

#: destinations that name a place the command writes into
_WRITTEN = ("out", "store")
#: ``--dask``: a local cluster, or a scheduler's address with its port (a run started before
#: ``--dask nope`` ended in distributed's ValueError traceback)
DASK_ADDRESS = re.compile(r"local|(?:(?:tcp|tls|ws|wss|ucx|inproc)://)?"
                          r"(?:\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]]+):\d+/?")


def option_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """dest -> what the user typed for it: the long option (``--out``) or the positional's
    metavar (``EXPORT``), across every sub-command."""
    names: dict[str, str] = {}
    for action in parser._actions:  # argparse has no public walk of its actions
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                for dest, name in option_names(sub).items():
                    names.setdefault(dest, name)
        elif action.option_strings:
            names.setdefault(action.dest, max(action.option_strings, key=len))
        elif action.dest not in (argparse.SUPPRESS, "func"):
            names.setdefault(action.dest, str(action.metavar or action.dest))
    return names


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse (exit 2, every problem at once) an empty or blank value of any option or
    argument, and an ``--out`` / ``--store`` under a file or a ``--store`` that is a file."""
    names = option_names(parser)
    issues = []
    for dest, value in vars(args).items():
        items = value if isinstance(value, list) else [value]
        blank = [v for v in items if isinstance(v, str) and not v.strip()]
        if blank:
            issues.append(Issue(names.get(dest, dest), "must not be empty", blank[0]))
    for dest in _WRITTEN:
        value = getattr(args, dest, None)
        if not (isinstance(value, str) and value.strip()):
            continue
        flag = names.get(dest, dest)
        blocker = file_on_the_way(Path(value))
        if blocker is not None:
            issues.append(Issue(flag, f"cannot be written: {blocker} is a file, not a folder",
                                value))  # fmt: skip
        elif dest == "store" and Path(value).exists() and not Path(value).is_dir():
            issues.append(Issue(flag, "is a file, not a folder", value))
    dask = getattr(args, "dask", None)
    if isinstance(dask, str) and dask.strip() and not DASK_ADDRESS.fullmatch(dask):
        issues.append(Issue("--dask", "must be 'local' or a scheduler address such as"
                            " tcp://host:8786", dask))  # fmt: skip
    if issues:
        raise ScenarioError(issues, "option")
