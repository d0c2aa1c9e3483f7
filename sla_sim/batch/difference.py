"""What two scenarios differ in, said plainly: SLA terms only (judgement), or behaviour.

A number written into the SLA changes how the results are judged, not what happens: two
scenarios that differ only in ``sla`` simulate identically (one simulation serves both, see
:func:`sla_sim.batch.worker.simulation_key`). A policy (work order, priority, pull or
reassignment), a capacity change (reps, hires, ramp, attrition, days off, calendars) or any
other field changes the simulated behaviour. The one exception is ``work_order:
deadline_first``, which orders work by the SLA's deadlines: there the SLA terms change
behaviour too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sla_sim.batch.worker import simulation_key
from sla_sim.scenario.schema import Scenario

__all__ = ["SLA_ONLY", "changed_paths", "describe_difference"]

SLA_ONLY = "SLA terms only: the simulated behaviour is identical"
#: team and routing fields that are policies (they change what reps do, not how many there are)
POLICY_FIELDS = ("assignment", "work_order", "reassign_after_business_hours",
                 "max_reassignments", "overflow_team", "priority_by", "priority_order",
                 "skip_unavailable")  # fmt: skip
#: team fields that are capacity
CAPACITY_FIELDS = ("reps", "hires", "ramp_by_tenure_month", "attrition_per_month",
                   "backfill_delay_days", "pto_days_per_year", "rep_calendars",
                   "max_active_leads", "shrinkage", "calendar")  # fmt: skip
_LABEL_ONLY = ("name", "description")


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, v in enumerate(value):
            _flatten(v, f"{prefix}[{i}]", out)
    else:
        out[prefix] = value


def _flat(sc: Scenario) -> dict[str, Any]:
    """Every leaf of a scenario by path (``teams[0].reps`` style)."""
    out: dict[str, Any] = {}
    _flatten(sc.model_dump(mode="json"), "", out)
    return out


def _changed(fa: dict[str, Any], fb: dict[str, Any]) -> list[str]:
    return sorted(p for p in fa.keys() | fb.keys()
                  if p not in _LABEL_ONLY and fa.get(p, ...) != fb.get(p, ...))  # fmt: skip


def changed_paths(a: Scenario, b: Scenario) -> list[str]:
    """Field paths whose values differ between ``a`` and ``b`` (``teams[0].reps`` style),
    labels (name, description) left out."""
    return _changed(_flat(a), _flat(b))


def _kind(path: str) -> str:
    if path.startswith("sla."):
        return "SLA terms"
    leaf = path.split(".")[1] if path.startswith(("teams[", "routing.")) else ""
    if leaf.split("[")[0] in POLICY_FIELDS:
        return "policy"
    if leaf.split("[")[0] in CAPACITY_FIELDS or path.startswith("ae."):
        return "capacity"
    return "other settings"


def _named(path: str, sc: Scenario) -> str:
    """``teams[0].reps`` -> ``teams[sdr].reps`` (list items by their name, as ``--set`` takes
    them)."""
    import re

    m = re.match(r"(teams|channels)\[(\d+)\](.*)", path)
    if m:
        items = getattr(sc, m.group(1))
        i = int(m.group(2))
        if i < len(items):
            return f"{m.group(1)}[{items[i].name}]{m.group(3)}"
    return path


def describe_difference(a: Scenario, b: Scenario,
                        label: Callable[[str], str] | None = None) -> str:
    """One sentence on what B changes from A: "SLA terms only: the simulated behaviour is
    identical (...)" or which policy, capacity and other fields change the behaviour.

    Fields are named by path (``teams[sdr].reps``), or by ``label(path)`` when given (the
    planner passes readable names), each with its values in A and B."""
    fa, fb = _flat(a), _flat(b)
    paths = _changed(fa, fb)
    if not paths:
        return "A and B are the same scenario (labels aside)."
    groups: dict[str, list[str]] = {}
    for p in paths:
        groups.setdefault(_kind(p), []).append(p)

    def shown_value(flat: dict[str, Any], path: str) -> str:
        value = flat.get(path, "none")
        many = isinstance(value, list) and len(value) > 4
        return f"{len(value)} items" if many else str(value)

    def name(path: str) -> str:
        readable = _named(path, b)
        if label is None:
            return readable
        from sla_sim.scenario.labels import choice_label

        return (f"{label(readable)} {choice_label(shown_value(fa, path))} →"
                f" {choice_label(shown_value(fb, path))}")

    def listed(kind: str) -> str:
        names = [name(p) for p in groups[kind]]
        shown = ", ".join(names[:6]) + (f", +{len(names) - 6} more" if len(names) > 6 else "")
        return f"{kind} ({shown})"

    if list(groups) == ["SLA terms"]:
        if simulation_key(a) == simulation_key(b):
            return f"{SLA_ONLY}; only the judgement differs: {listed('SLA terms')}."
        return ("SLA terms only, but a team orders its work by the nearest SLA deadline, so"
                " the simulated behaviour differs too: "
                f"{listed('SLA terms')}.")  # fmt: skip
    order = [k for k in ("policy", "capacity", "other settings", "SLA terms") if k in groups]
    return "Behaviour differs: " + "; ".join(listed(k) for k in order) + "."
