"""The SimPy funnel model: one replication is one :class:`FunnelModel`."""

from __future__ import annotations

from sla_sim.model.funnel import FunnelModel, horizon_hours

__all__ = ["FunnelModel", "horizon_hours"]
