"""The fast engine against the SimPy reference on staffing, reassignment and extreme-value
cases the drawn mixes of ``tests/test_engine_equivalence.py`` do not reach: before its fix,
each scenario here made the fast engine write a log other than SimPy's, or raise (the last
one raised on both engines). Found by an adversarial sweep; see CHANGELOG.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from sla_sim import preset
from sla_sim.events import CODE
from sla_sim.model.engine import engine_for
from sla_sim.scenario.io import set_path
from tests.both_engines import same_log
from tests.test_engine_equivalence import SHORT, assert_same, overflow_scenario


@pytest.mark.parametrize("rule", ["round_robin", "least_loaded"])
def test_a_hire_after_the_horizon_is_never_given_a_lead(rule: str) -> None:
    """A hire whose start date falls after the horizon (a plan written for a longer run) is
    never on the team: SimPy's routing skips it. The fast engine picked it like any rep (its
    plain rep rule, taken when no join or leave falls inside the horizon), so under
    ``least_loaded`` it took every lead, never worked."""
    sc = preset("default")
    for path, value in {**SHORT, "teams[0].reps": 3, "routing.rep_rule": rule,
                        "teams[0].hires": [{"start": "2027-06-01", "reps": 1}]}.items():
        sc = set_path(sc, path, value)  # fmt: skip
    assert engine_for(sc) == ("fast", "")
    ref, fast = assert_same(sc, 3)
    assert fast.engine == "fast"
    cols = ref.log.columns(sort=False)
    assigned = cols["event"] == CODE["assigned"]
    assert assigned.sum() > 1000
    assert set(np.unique(cols["rep"][assigned]).tolist()) == {0, 1, 2}  # never rep 3


def test_a_lead_escalated_then_handed_over_keeps_its_reassignment_count() -> None:
    """A lead reassigned on ``sdr`` and escalated to ``backup`` (which does not reassign),
    whose rep there leaves before touching it: the hand-over's ``reassigned`` row carries the
    episode's reassignments so far (SimPy's count is the model's, not the team's). The fast
    engine wrote 0 whenever the leaver's team did not reassign."""
    sc = overflow_scenario("due_first", "immediate", "round_robin")
    sc = set_path(set_path(sc, "teams[1].attrition_per_month", 0.9), "teams[1].reps", 3)
    assert engine_for(sc) == ("fast", "")
    ref, fast = assert_same(sc, 7)
    assert fast.engine == "fast"
    cols = ref.log.columns(sort=False)
    handed = (cols["event"] == CODE["reassigned"]) & (cols["team"] == 1)
    assert (cols["value"][handed] > 0).any()


def test_a_slot_cap_beyond_int64_runs_on_the_fast_engine() -> None:
    """``teams[].max_active_leads`` has no upper bound in the schema: a cap of 10**20 (no rep
    ever reaches it) runs on SimPy, and made the fast engine raise OverflowError filling its
    int64 rep table. Now the same log as SimPy's."""
    sc = preset("default")
    for path, value in {**SHORT, "teams[0].max_active_leads": 10**20}.items():
        sc = set_path(sc, path, value)
    assert engine_for(sc) == ("fast", "")
    _ref, fast = assert_same(sc, 3)
    assert fast.engine == "fast"


def test_a_backfill_delay_past_year_9999_means_no_backfill() -> None:
    """``backfill_delay_days`` has no upper bound: 3,000,000 days (a leaver never replaced
    within any horizon) raised OverflowError computing the backfill's start date on both
    engines. Now it runs, on both, as no backfill at all."""
    sc = preset("default")
    for path, value in {**SHORT, "teams[0].attrition_per_month": 0.5,
                        "teams[0].backfill_delay_days": 3e6}.items():  # fmt: skip
        sc = set_path(sc, path, value)
    ref, fast = assert_same(sc, 3)
    assert fast.engine == "fast"
    never = assert_same(set_path(sc, "teams[0].backfill_delay_days", None), 3)[0]
    assert same_log(ref, never) == []


def test_a_ramping_hire_in_year_9999_runs() -> None:
    """A hire dated late in year 9999 with a 60-month ramp (valid: dates are not bounded
    above) raised ValueError on both engines computing ramp steps past the last date; a step
    past year 9999 is after any horizon, never read, and no longer computed."""
    sc = preset("default")
    for path, value in {**SHORT, "teams[0].hires": [{"start": "9999-12-01", "reps": 1}],
                        "teams[0].ramp_by_tenure_month": [0.5] * 60}.items():  # fmt: skip
        sc = set_path(sc, path, value)
    _ref, fast = assert_same(sc, 3)
    assert fast.engine == "fast"
