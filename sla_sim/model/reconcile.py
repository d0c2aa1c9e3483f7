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
# the same as a lookup table indexed by state (-1: in flight, no terminal event expected)
_EXPECTED_CODE = np.array([_STATE_EVENT.get(s, -1) for s in range(len(TERMINAL_STATES))],
                          dtype=np.int64)
_TERMINAL_CODES = np.array(list(_STATE_EVENT.values()), dtype=np.int64)


def _all_distinct(values: np.ndarray) -> bool:
    """Whether the integer ``values`` are pairwise distinct (a count per value when they lie
    in ``[0, len(values))``, as lead ids do; a sort otherwise)."""
    n = len(values)
    if n == 0:
        return True
    if values.min() >= 0 and values.max() < n:
        return bool(np.bincount(values, minlength=n).max() <= 1)
    return len(np.unique(values)) == n


def terminal_counts(states: np.ndarray) -> dict[str, int]:
    """Number of leads in each terminal state."""
    counts = np.bincount(states, minlength=len(TERMINAL_STATES))
    return {name: int(counts[i]) for i, name in enumerate(TERMINAL_STATES)}


def reconcile(model: FunnelModel, states: np.ndarray | None = None) -> dict[str, int]:
    """Check that counts reconcile between the lead states (``model.state``, or ``states``
    given as an int array) and the event log; return counts.

    Raises ReconciliationError naming the first inconsistency found.
    """
    if states is None:
        states = np.asarray(model.state, dtype=np.int64)
    n = model.n_leads
    if len(states) != n or (n and (states.min() < 0 or states.max() >= len(TERMINAL_STATES))):
        raise ReconciliationError("a lead has no valid terminal state")
    log = model.log
    leads = log.columns(sort=False)["lead"]
    by_event = log.event_rows()
    from sla_sim.model.passes import reconciled  # numba: loaded on first use

    if reconciled(np.asarray(states, dtype=np.int64), _EXPECTED_CODE,
                  np.asarray(leads, dtype=np.int64), *(np.asarray(by_event[code], dtype=np.intp)
                  for code in (CODE["created"], *_STATE_EVENT.values())),
                  _TERMINAL_CODES):  # fmt: skip
        return terminal_counts(states)  # one pass found nothing to report
    # otherwise the same checks by numpy, which name the first inconsistency
    created = leads[by_event[CODE["created"]]]
    if len(created) != n or not _all_distinct(created):
        raise ReconciliationError(f"{len(created)} 'created' events for {n} leads")
    expected = _EXPECTED_CODE[states]
    term_rows = [by_event[code] for code in _STATE_EVENT.values()]
    term_leads = np.concatenate([leads[rows] for rows in term_rows])
    per_lead = np.bincount(term_leads, minlength=n)
    if n and per_lead.max() > 1:
        bad = int(np.argmax(per_lead))
        raise ReconciliationError(f"lead {bad} has {per_lead[bad]} terminal events")
    got = np.full(n, -1)
    for code, rows in zip(_STATE_EVENT.values(), term_rows, strict=True):
        got[leads[rows]] = code  # each lead has at most one terminal row (checked above)
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
