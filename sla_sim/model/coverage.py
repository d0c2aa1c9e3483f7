"""Which scenario fields the fast engine covers: every field of every spec class of the schema
is declared in exactly one of three lists, and a field in none of them makes a scenario that
sets it fall back to SimPy.

* :data:`FAST`: the fast engine runs the field as SimPy does (its compiled loop reads it, or the
  set-up both engines share does: arrivals, first episodes, draws, calendars). A field here
  that holds specs is walked into, so each of their fields is judged in turn.
* :data:`OUTSIDE`: no event loop reads the field (labels, prices, the SLA terms only the
  metrics measure); a field here that holds specs covers them whole.
* :data:`SIMPY_ONLY`: only the SimPy model follows the field; set away from its default it
  sends the scenario to SimPy (none today: every policy runs on the fast engine).

The lists are keyed by spec class name, as the schema's classes are shared between places
(``CalendarSpec`` is the marketing, team, rep and AE calendar; the distributions are every
random quantity). A field added to the schema and not declared anywhere also sends the
scenario to SimPy when set away from its default, and fails ``tests/test_engine_coverage.py``
(:func:`undeclared`), so whoever adds it decides which list it belongs to.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel

__all__ = ["FAST", "OUTSIDE", "SIMPY_ONLY", "spec_classes", "undeclared", "unknown_fields"]

_CALENDAR = ("timezone", "working_days", "start_hour", "end_hour", "holidays", "always_open")

#: fields the fast engine runs (read by its loop or by the set-up shared with SimPy)
FAST: dict[str, tuple[str, ...]] = {
    "Scenario": ("horizon", "channels", "arrivals", "mql_threshold_points", "nurture",
                 "handoff", "marketing_calendar", "routing", "teams", "follow_up", "ae", "sla",
                 "engine"),
    "HorizonSpec": ("measure_start", "measure_months", "warmup_days", "timezone"),
    "ChannelSpec": ("name", "leads_per_month", "segment_mix", "score_alpha", "score_beta",
                    "sql_rate", "win_rate", "cycle_days", "deal_value"),
    "ArrivalProfile": ("weekday_weights", "hour_weights", "month_weights", "daily_volume_cv",
                       "bursts"),
    "Burst": ("channel", "start_day", "duration_days", "multiplier"),
    "NurtureSpec": ("touch_interval_days", "engage_probability", "score_lift_points",
                    "max_days", "recycle_score_points"),
    "HandoffSpec": ("mode", "ops_delay_hours", "batch_every_hours", "batch_local_hours"),
    "CalendarSpec": _CALENDAR,
    "RoutingSpec": ("team_rule", "rep_rule", "priority_by", "priority_order",
                    "skip_unavailable"),
    "TeamSpec": ("name", "reps", "calendar", "shrinkage", "max_active_leads", "channels",
                 "segments", "assignment", "work_order", "reassign_after_business_hours",
                 "max_reassignments", "hires", "ramp_by_tenure_month", "attrition_per_month",
                 "backfill_delay_days", "pto_days_per_year", "rep_calendars", "overflow_team"),
    "HireSpec": ("start", "reps"),
    "FollowUpSpec": ("cadence_days", "attempt_minutes", "contact", "score_slope_per_10_points",
                     "reference_score_points", "disqualify_share"),
    "ContactSpec": ("p_initial", "p_floor", "half_life_hours", "shape", "attempt_decay"),
    "AESpec": ("count", "max_open_opportunities", "selling_hours_per_opportunity",
               "selling_share", "calendar"),
    # the terms deadline_first orders by (sla_sim.model.policies.PolicyState, the kernel's PF)
    "SLASpec": ("first_touch_from", "first_touch_within_business_hours", "attempts_required",
                "attempts_within_days"),
    # every random quantity is drawn by the set-up both engines share
    "Constant": ("kind", "value"),
    "Exponential": ("kind", "mean"),
    "LogNormal": ("kind", "mean", "cv"),
    "Gamma": ("kind", "mean", "cv"),
    "Uniform": ("kind", "low", "high"),
    "Triangular": ("kind", "low", "mode", "high"),
    "Weibull": ("kind", "mean", "shape"),
    "Empirical": ("kind", "values"),
}  # fmt: skip

#: fields no event loop reads: labels, prices, the SLA terms only the metrics measure
OUTSIDE: dict[str, tuple[str, ...]] = {
    "Scenario": ("name", "description", "currency", "costs"),
    "SLASpec": ("mql_commitment_per_month", "mql_commitment_basis", "acceptance_rate_min",
                "handoff_within_hours", "disposition_within_days", "lead_compliance_target",
                "revenue_target_per_month"),
    # prices (sla_sim.scenario.costs): the model never reads them
    "CostsSpec": ("teams", "ae", "channels"),
    "TeamCostSpec": ("name", "rep_cost_per_month_amount", "hire_cost_amount",
                     "ramp_cost_amount"),
    "AECostSpec": ("rep_cost_per_month_amount", "commission_share"),
    "ChannelCostSpec": ("name", "cost_per_lead_amount", "fixed_per_month_amount"),
}  # fmt: skip

#: fields only the SimPy model follows (set away from their defaults: the scenario runs there)
SIMPY_ONLY: dict[str, tuple[str, ...]] = {}


def _declared(cls: str, name: str) -> list[str]:
    """The lists that declare field ``name`` of spec class ``cls``."""
    return [k for k, d in (("FAST", FAST), ("OUTSIDE", OUTSIDE), ("SIMPY_ONLY", SIMPY_ONLY))
            if name in d.get(cls, ())]  # fmt: skip


def _specs_in(annotation: Any) -> list[type[BaseModel]]:
    """The spec classes a field's annotation holds (alone, in a list or dict, in a union)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out += [c for c in _specs_in(arg) if c not in out]
    return out


def spec_classes(root: type[BaseModel]) -> list[type[BaseModel]]:
    """Every spec class reachable from ``root`` through its fields' annotations, ``root``
    first (each once)."""
    seen: list[type[BaseModel]] = [root]
    for cls in seen:  # grows as it goes: a breadth-first walk
        for field in cls.model_fields.values():
            seen += [c for c in _specs_in(field.annotation) if c not in seen]
    return seen


def undeclared(root: type[BaseModel]) -> list[str]:
    """``Class.field`` of every field of the schema under ``root`` declared in no list or in
    more than one, and of every declared field the schema does not have (a stale entry)."""
    out = []
    classes = spec_classes(root)
    names = {c.__name__ for c in classes}
    if len(names) < len(classes):  # the lists are keyed by name: one class per name
        out += sorted({f"{c.__name__} (two classes of this name)" for c in classes
                       if sum(d.__name__ == c.__name__ for d in classes) > 1})  # fmt: skip
    for cls in classes:
        for name in cls.model_fields:
            lists = _declared(cls.__name__, name)
            if len(lists) != 1:
                why = "in no list" if not lists else f"in {' and '.join(lists)}"
                out.append(f"{cls.__name__}.{name} ({why})")
    fields = {f"{c.__name__}.{n}" for c in classes for n in c.model_fields}
    for d in (FAST, OUTSIDE, SIMPY_ONLY):
        for cls_name, declared in d.items():
            out += [f"{cls_name}.{n} (declared, not in the schema)" for n in declared
                    if cls_name not in names or f"{cls_name}.{n}" not in fields]  # fmt: skip
    return out


def _items(value: Any, path: str) -> list[tuple[str, BaseModel]]:
    """The specs a field's value holds, with their paths (``teams[0]``, ``ae``)."""
    if isinstance(value, BaseModel):
        return [(path, value)]
    if isinstance(value, list | tuple):
        return [(f"{path}[{i}]", v) for i, v in enumerate(value) if isinstance(v, BaseModel)]
    if isinstance(value, dict):
        return [(f"{path}[{k!r}]", v) for k, v in value.items() if isinstance(v, BaseModel)]
    return []


def unknown_fields(spec: BaseModel, where: str = "") -> list[str]:
    """Paths of the fields of ``spec`` (a scenario) set away from their defaults that the fast
    engine does not run: SimPy-only fields and fields no list declares; fields the fast engine
    runs are walked into, fields outside the event loop skipped."""
    out = []
    cls = type(spec)
    for name, field in cls.model_fields.items():
        path = f"{where}.{name}" if where else name
        lists = _declared(cls.__name__, name)
        value = getattr(spec, name)
        if lists == ["FAST"]:
            for at, sub in _items(value, path):
                out += unknown_fields(sub, at)
        elif lists != ["OUTSIDE"] and value != field.get_default(call_default_factory=True):
            out.append(path)
    return out

