"""The validated scenario: schema and cross-field rules, load/save, presets, reference table.

Stage 1 of the data's journey: everything the model, the metrics and the batch layer read comes
from a :class:`Scenario`. Submodules: :mod:`~sla_sim.scenario.schema` (the pydantic tree),
:mod:`~sla_sim.scenario.rules` (cross-field rules), :mod:`~sla_sim.scenario.io` (files, paths),
:mod:`~sla_sim.scenario.presets`, :mod:`~sla_sim.scenario.reference` (the field table),
:mod:`~sla_sim.scenario.distributions` and :mod:`~sla_sim.scenario.defaults_data`.
"""

from __future__ import annotations

from sla_sim.scenario.schema import (
    AESpec,
    ArrivalProfile,
    Burst,
    ChannelSpec,
    ContactSpec,
    FollowUpSpec,
    HandoffSpec,
    HorizonSpec,
    NurtureSpec,
    RoutingSpec,
    Scenario,
    SLASpec,
    TeamSpec,
)

__all__ = [
    "AESpec",
    "ArrivalProfile",
    "Burst",
    "ChannelSpec",
    "ContactSpec",
    "FollowUpSpec",
    "HandoffSpec",
    "HorizonSpec",
    "NurtureSpec",
    "RoutingSpec",
    "SLASpec",
    "Scenario",
    "TeamSpec",
]
