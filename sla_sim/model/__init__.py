"""The SimPy funnel model: one replication is one :class:`FunnelModel`."""

from __future__ import annotations

from sla_sim.model.funnel import FunnelModel

__all__ = ["FunnelModel"]
