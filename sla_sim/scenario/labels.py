"""Readable words for the code values of a scenario (work orders, assignment, routing,
bases, built-in scenario names): the one table every surface uses, from the model's own
exports up to the planner."""

from __future__ import annotations

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
    # routing
    "single": "one team",
    "by_channel": "a team per channel",
    "by_segment": "a team per segment",
    "round_robin": "round robin",
    "least_loaded": "least loaded rep first",
    # the MQL commitment's basis
    "day": "per calendar day",
    "working_day": "per working day",
    "month": "a flat monthly figure",
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
