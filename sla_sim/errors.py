"""Exceptions raised by sla_sim.

Every error a user can cause is a :class:`SlaSimError`. Errors about input also subclass the
builtin a caller would naturally catch (``ValueError``), and carry the list of individual
problems so that a CLI or a notebook can show all of them at once.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

__all__ = ["MISSING", "Issue", "ReconciliationError", "ScenarioError", "SlaSimError",
           "clear_interrupt", "interrupt_pending", "note_interrupt"]

#: Set by the command line's Ctrl-C/SIGTERM handler, cleared when the command ends. A
#: KeyboardInterrupt raised while a compiled (numba) function is being dispatched can be
#: cleared or turned into a SystemError inside the dispatcher; replications look at this flag
#: between runs, so that one Ctrl-C always stops the work.
_INTERRUPT = threading.Event()


#: C0 controls but tab, newline and carriage return; DEL; C1 controls (ESC is 0x1b, CSI 0x9b).
UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every control character shown as ``\\xNN`` (user strings echoed to a
    terminal can never recolour, hide or rewrite what it shows)."""
    return UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def note_interrupt() -> None:
    """Record that the user asked to stop (Ctrl-C or SIGTERM)."""
    _INTERRUPT.set()


def interrupt_pending() -> bool:
    """Whether the user asked to stop since :func:`clear_interrupt`."""
    return _INTERRUPT.is_set()


def clear_interrupt() -> None:
    """Forget an earlier request to stop (a command has ended)."""
    _INTERRUPT.clear()


def _short(value: Any, limit: int = 80, depth: int = 4) -> str:
    """``repr(value)`` cut after about ``limit`` characters, without building the whole repr
    of a huge or deeply nested value (a YAML alias bomb): containers stop once long enough."""
    if isinstance(value, str):
        return repr(value[: limit + 1])
    if isinstance(value, (dict, list, tuple)):
        is_dict = isinstance(value, dict)
        ends = "{}" if is_dict else "[]" if isinstance(value, list) else "()"
        if depth == 0:
            return f"{ends[0]}...{ends[1]}"
        parts: list[str] = []
        used = 0
        for item in value.items() if is_dict else value:
            text = (f"{_short(item[0], limit, depth - 1)}: {_short(item[1], limit, depth - 1)}"
                    if is_dict else _short(item, limit, depth - 1))  # fmt: skip
            parts.append(text)
            used += len(text) + 2
            if used > limit:
                parts.append("...")
                break
        return ends[0] + ", ".join(parts) + ends[1]
    return repr(value)


MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()


class SlaSimError(Exception):
    """Base class of every error sla_sim raises on purpose."""


@dataclass(frozen=True)
class Issue:
    """One problem with an input: where it is, which rule it breaks, and the offending value."""

    path: str
    rule: str
    value: Any = None

    def __str__(self) -> str:
        if self.value is MISSING:
            return f"{self.path}: {self.rule}"
        if isinstance(self.value, (str, PurePath)):  # a file path, a name: up to 300
            text = str(self.value)  # characters; beyond, the middle goes (a path keeps its
            if len(text) > 300:  # file name)
                text = text[:148] + "..." + text[-149:]
            shown = repr(text)
        else:  # a number, a list, a mapping: its beginning, with bounded work however big
            shown = _short(self.value)  # or nested the value
            if len(shown) > 80:
                shown = shown[:77] + "..."
        return f"{self.path}: {self.rule} (got {shown})"


class ScenarioError(SlaSimError, ValueError):
    """A scenario (or a request about one) is invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: list[Issue], source: str | None = None) -> None:
        self.issues = list(issues)
        self.source = source
        if source is None:
            paths = {i.path for i in self.issues}
            if paths and all(p.startswith("--") for p in paths):
                head = "invalid option"
            elif paths == {"run id"}:
                head = "invalid run id"
            else:
                head = "invalid scenario"
        elif source.lower().endswith((".yaml", ".yml", ".toml", ".json")) and not (
                source.startswith(("mapping ", "export ", "draft "))):  # not "scenario mapping"
            head = f"invalid scenario {source}"
        else:
            head = f"invalid {source}"
        n = len(self.issues)
        lines = [f"{head}: {n} problem{'s' if n != 1 else ''}"]
        lines += [f"  - {issue}" for issue in self.issues]
        super().__init__("\n".join(lines))


class ReconciliationError(SlaSimError, RuntimeError):
    """Lead counts do not reconcile at the end of a run: a lead was lost or counted twice."""
