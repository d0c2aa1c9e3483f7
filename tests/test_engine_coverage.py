"""The fast engine's coverage of the scenario schema is exhaustive: every field of every spec
class reachable from :class:`~sla_sim.scenario.schema.Scenario` is declared in exactly one
list of :mod:`sla_sim.model.coverage` (run by the fast engine, outside the event loop, or
SimPy only), so a field added to the schema fails this test until someone decides; and at run
time a field no list declares, anywhere in the scenario (a calendar, a hire, a distribution,
a burst: sections the old per-section check never looked into), sends the scenario to SimPy
when set away from its default."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import Field, create_model

from sla_sim.model import coverage
from sla_sim.model.coverage import spec_classes, undeclared, unknown_fields
from sla_sim.model.engine import engine_for
from sla_sim.scenario.io import set_path
from sla_sim.scenario.schema import AESpec, Scenario


def test_every_field_of_the_schema_is_declared_once() -> None:
    """Adding a field to any spec class of the schema without declaring it fails here."""
    names = {c.__name__ for c in spec_classes(Scenario)}
    # the walk reaches the nested classes: calendars, hires, bursts, distributions, costs
    assert {"CalendarSpec", "HireSpec", "Burst", "Gamma", "Empirical", "TeamCostSpec"} <= names
    assert undeclared(Scenario) == []


def test_a_new_field_anywhere_is_caught() -> None:
    """A schema with one more field (at the top, or in a nested spec class) is reported; so is
    a field declared twice, or declared but gone from the schema."""
    top = create_model("Scenario", __base__=Scenario, dummy=(int, Field(default=0)))
    assert undeclared(top) == ["Scenario.dummy (in no list)"]
    ae = create_model("AESpec", __base__=AESpec, dummy=(int, Field(default=0)))
    nested = create_model("Scenario", __base__=Scenario, ae=(ae, Field(default_factory=ae)))
    assert undeclared(nested) == ["AESpec.dummy (in no list)"]
    twin = create_model("HorizonSpec", __base__=AESpec)  # the lists are keyed by class name
    clash = create_model("Scenario", __base__=Scenario, ae=(twin, Field(default_factory=twin)))
    assert "HorizonSpec (two classes of this name)" in undeclared(clash)


def test_a_field_declared_twice_or_gone_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(coverage.OUTSIDE, "AESpec", ("count", "gone"))
    assert undeclared(Scenario) == ["AESpec.count (in FAST and OUTSIDE)",
                                    "AESpec.gone (declared, not in the schema)"]


@pytest.mark.parametrize(("cls", "field", "path", "value", "where"), [
    ("CalendarSpec", "holidays", "teams.0.calendar.holidays", [dt.date(2026, 1, 2)],
     "teams[0].calendar.holidays"),
    ("HireSpec", "reps", "teams.0.hires", [{"start": "2026-01-05", "reps": 2}],
     "teams[0].hires[0].reps"),
    ("Weibull", "shape", "follow_up.attempt_minutes", {"kind": "weibull", "mean": 9,
                                                      "shape": 1.5},
     "follow_up.attempt_minutes.shape"),  # a required field: any value is away from default
    ("CalendarSpec", "start_hour", "ae.calendar.start_hour", 7.0, "ae.calendar.start_hour"),
])  # fmt: skip
def test_an_undeclared_nested_field_set_away_from_its_default_falls_back(
        monkeypatch: pytest.MonkeyPatch, tiny_factory: Any, cls: str, field: str, path: str,
        value: Any, where: str) -> None:  # fmt: skip
    """A field of a nested spec class the fast engine does not declare (as if it were new)
    sends a scenario that sets it to SimPy, naming where it is set, while one that leaves it
    at its default runs fast; the same when the field is declared SimPy-only."""
    sc = set_path(tiny_factory(None), path, value)
    assert engine_for(sc) == ("fast", "")
    monkeypatch.setitem(coverage.FAST, cls, tuple(f for f in coverage.FAST[cls] if f != field))
    assert unknown_fields(sc) == [where]
    assert engine_for(sc) == ("simpy", f"fallback: the fast engine does not cover {where}")
    assert engine_for(tiny_factory(None)) == ("fast", "")
    monkeypatch.setitem(coverage.SIMPY_ONLY, cls, (field,))
    assert engine_for(sc)[0] == "simpy"
    assert engine_for(tiny_factory(None)) == ("fast", "")


def test_fields_outside_the_event_loop_never_fall_back(tiny_factory: Any) -> None:
    """Prices and the SLA terms only the metrics measure are outside the event loop."""
    sc = tiny_factory({"sla.acceptance_rate_min": 0.5, "description": "x",
                       "costs.ae.commission_share": 0.2})  # fmt: skip
    assert engine_for(sc) == ("fast", "")
