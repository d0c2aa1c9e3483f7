"""Run a policy test's scenario on the SimPy reference and, where the fast engine covers it,
on the fast engine too, requiring the same event log.

The policy tests pin the behaviour of :mod:`sla_sim.model.policies` (and judge its mutants:
``bash dev.sh mutate model_policies``), so they read the SimPy run; the fast engine, which now
runs work orders, pull assignment, priority classes, reassignment, overflow teams and every
staffing plan (hires, ramp, attrition and backfills included), must write the same log row for
row.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sla_sim.model.engine import engine_for
from sla_sim.model.funnel import FunnelModel
from sla_sim.scenario.schema import Scenario


def same_log(a: FunnelModel, b: FunnelModel) -> list[str]:
    """The columns (recorded order) and lead states on which two runs differ."""
    ca, cb = a.log.columns(sort=False), b.log.columns(sort=False)
    out = [name for name in ca if not np.array_equal(
        ca[name], cb[name], equal_nan=ca[name].dtype.kind == "f")]  # fmt: skip
    if not np.array_equal(np.asarray(a.state), np.asarray(b.state)):
        out.append("lead states")
    return out


def run_reference(sc: Scenario, make: Callable[[Scenario], FunnelModel]) -> FunnelModel:
    """``make(sc)`` run on SimPy (returned); also on the fast engine when it covers ``sc``,
    whose log must be the same."""
    ref = make(sc.model_copy(update={"engine": "simpy"}))
    ref.run()
    if engine_for(sc)[0] == "fast":
        fast = make(sc.model_copy(update={"engine": "fast"}))
        fast.run()
        assert fast.engine == "fast"
        assert same_log(ref, fast) == [], f"the fast engine differs: {same_log(ref, fast)}"
    return ref
