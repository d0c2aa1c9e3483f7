"""Readable names of the SLA commitments, quoting a scenario's terms (no plotting imports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sla_sim.metrics.numbers import prob
from sla_sim.scenario.labels import CHOICE_LABELS, choice_label, display_name

__all__ = ["CHOICE_LABELS", "COMMITMENTS", "choice_label", "commitment_labels", "display_name"]

if TYPE_CHECKING:
    from sla_sim.scenario.schema import Scenario

#: SLA commitments by side: (side, commitment key); ``<key>_breach`` is the 0/1 metric.
COMMITMENTS: tuple[tuple[str, str], ...] = (
    ("Marketing", "mql_volume"), ("Marketing", "acceptance"), ("Handoff", "handoff"),
    ("Sales", "first_touch"), ("Sales", "attempts"), ("Sales", "disposition"),
    ("Revenue", "revenue_target"),
)  # fmt: skip


def commitment_labels(scenario: Scenario) -> dict[str, str]:
    """Readable label of each commitment key, quoting the scenario's SLA terms."""
    s = scenario.sla
    return {
        "mql_volume": f"MQL volume ≥ {s.mql_commitment_per_month:,.0f}/month",
        "acceptance": f"Acceptance rate ≥ {prob(s.acceptance_rate_min)}",
        "handoff": f"Handoff ≤ {s.handoff_within_hours:g} h",
        "first_touch": f"First touch ≤ {s.first_touch_within_business_hours:g} business h",
        "attempts": f"{s.attempts_required} attempts ≤ {s.attempts_within_days:g} days",
        "disposition": f"Disposition ≤ {s.disposition_within_days:g} days",
        "revenue_target": "Revenue ≥ target",
    }

