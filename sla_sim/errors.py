"""Exceptions raised by sla_sim.

Every error a user can cause is a :class:`SlaSimError`. Errors about input also subclass the
builtin a caller would naturally catch (``ValueError``), and carry the list of individual
problems so that a CLI or a notebook can show all of them at once.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Any

__all__ = ["MISSING", "Issue", "ReconciliationError", "ScenarioError", "SlaSimError"]


def _short_repr() -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxlevel, r.maxlist, r.maxtuple, r.maxdict, r.maxset = 3, 6, 6, 6, 6
    r.maxstring, r.maxother, r.maxlong = 80, 80, 40
    return r


_SHORT = _short_repr()

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
        shown = _SHORT.repr(self.value)  # bounded work however big or nested the value
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
        elif source.lower().endswith((".yaml", ".yml", ".toml", ".json")):
            head = f"invalid scenario {source}"
        else:
            head = f"invalid {source}"
        n = len(self.issues)
        lines = [f"{head}: {n} problem{'s' if n != 1 else ''}"]
        lines += [f"  - {issue}" for issue in self.issues]
        super().__init__("\n".join(lines))


class ReconciliationError(SlaSimError, RuntimeError):
    """Lead counts do not reconcile at the end of a run: a lead was lost or counted twice."""
