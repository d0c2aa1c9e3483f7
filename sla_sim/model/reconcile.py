"""End-of-run conservation check: every lead ends in exactly one terminal state."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sla_sim.errors import ReconciliationError
from sla_sim.events import CODE, TERMINAL_STATES

if TYPE_CHECKING:
    from sla_sim.model.funnel import FunnelModel

# state index (see funnel.IN_FLIGHT ...) -> terminal event code
_STATE_EVENT = {1: CODE["won"], 2: CODE["lost"], 3: CODE["disqualified"],
                4: CODE["nurture_expired"]}  # fmt: skip


def terminal_counts(states: np.ndarray) -> dict[str, int]:
    """Number of leads in each terminal state."""
    counts = np.bincount(states, minlength=len(TERMINAL_STATES))
    return {name: int(counts[i]) for i, name in enumerate(TERMINAL_STATES)}


def reconcile(model: FunnelModel) -> dict[str, int]:
    """Check that counts reconcile between the lead states and the event log; return counts.

    Raises ReconciliationError naming the first inconsistency found.
    """
    states = np.asarray(model.state, dtype=np.int64)
    n = model.n_leads
    if len(states) != n or (n and (states.min() < 0 or states.max() >= len(TERMINAL_STATES))):
        raise ReconciliationError("a lead has no valid terminal state")
    cols = model.log.columns(sort=False)
    created = cols["lead"][cols["event"] == CODE["created"]]
    if len(created) != n or len(np.unique(created)) != n:
        raise ReconciliationError(f"{len(created)} 'created' events for {n} leads")
    expected = np.full(n, -1)
    for state, code in _STATE_EVENT.items():
        expected[states == state] = code
    is_term = np.isin(cols["event"], list(_STATE_EVENT.values()))
    term_leads = cols["lead"][is_term]
    per_lead = np.bincount(term_leads, minlength=n)
    if n and per_lead.max() > 1:
        bad = int(np.argmax(per_lead))
        raise ReconciliationError(f"lead {bad} has {per_lead[bad]} terminal events")
    got = np.full(n, -1)
    got[term_leads] = cols["event"][is_term]
    mismatch = np.flatnonzero(got != expected)
    if len(mismatch):
        lead = int(mismatch[0])
        raise ReconciliationError(
            f"lead {lead}: state {TERMINAL_STATES[states[lead]]!r} but terminal event code "
            f"{got[lead]} in the log ({len(mismatch)} leads disagree)"
        )
    counts = terminal_counts(states)
    if sum(counts.values()) != n:
        raise ReconciliationError(f"terminal states sum to {sum(counts.values())}, not {n}")
    return counts
