"""Readable names of the SLA commitments, quoting a scenario's terms (no plotting imports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
        "acceptance": f"Acceptance rate ≥ {s.acceptance_rate_min:.0%}",
        "handoff": f"Handoff ≤ {s.handoff_within_hours:g} h",
        "first_touch": f"First touch ≤ {s.first_touch_within_business_hours:g} business h",
        "attempts": f"{s.attempts_required} attempts ≤ {s.attempts_within_days:g} days",
        "disposition": f"Disposition ≤ {s.disposition_within_days:g} days",
        "revenue_target": "Revenue ≥ target",
    }


#: Readable words for the code values a planner picks or reads (one table for every surface).
CHOICE_LABELS: dict[str, str] = {
    # work order of a team
    "due_first": "Earliest due attempt first",
    "new_first": "New MQLs before follow-ups",
    "deadline_first": "Nearest SLA deadline first",
    # assignment
    "immediate": "Assigned to a rep at once",
    "pull": "Shared team queue (reps pull)",
    # handoff
    "realtime": "Real time",
    "batch": "In batches",
    # built-in scenarios
    "default": "Mid-market B2B (default)",
    "mid_market": "Mid-market B2B",
    "smb_inbound": "SMB inbound",
    "enterprise": "Enterprise",
}


def choice_label(value: object) -> str:
    """The words for a code value (unchanged when it has none)."""
    return CHOICE_LABELS.get(str(value), str(value))


def display_name(name: str) -> str:
    """A scenario's one display name, the same in the picker, the report and every title:
    a built-in scenario's words, or the scenario's own name with spaces for underscores."""
    if name in CHOICE_LABELS and name != "default":
        return CHOICE_LABELS[name]
    return name.replace("_", " ")
