"""Metrics at their boundaries: targets over several months, values exactly on a target, a
clause starting exactly at a month boundary, undefined compliance, AE slots, and an explicit
window.

Written to kill metrics mutants that survived ``bash dev.sh mutate metrics`` (README,
"Mutation testing"). Helpers and the hand-built-log conventions are those of test_metrics.py
(default preset from 2026-01-01 00:00 New York, no warm-up, one team of two reps).
"""

from __future__ import annotations

import math

import pytest
from test_metrics import JAN_H, clause, ev, make_log, metrics, scenario

from sla_sim.horizon import month_window, window_for
from sla_sim.metrics import compute

FEB_H = 28 * 24.0


def test_monthly_commitment_is_multiplied_by_the_months_measured() -> None:
    """On the 'month' basis, over two months the MQL commitment of the whole window is twice
    the monthly one, and each month's is the monthly one."""
    sc = scenario(months=2, sla__mql_commitment_per_month=3.0, sla__mql_commitment_basis="month")
    get = metrics(sc, [ev(0, 10.0, "mql")])
    assert get("mql_commitment", "2026-01") == 3.0
    assert get("mql_commitment", "2026-02") == 3.0
    assert get("mql_commitment") == 6.0


def test_revenue_exactly_on_target_is_not_a_breach() -> None:
    """Booking exactly the month's revenue target meets it."""
    rows = [ev(0, 5.0, "opp_open"), ev(0, 50.0, "won", value=800.0)]
    get = metrics(scenario(sla__revenue_target_per_month=800.0,
                           sla__mql_commitment_basis="month"), rows)
    assert get("revenue_attainment") == 1.0
    assert get("revenue_target_breach") == 0.0


def test_compliance_exactly_on_target_is_not_a_breach() -> None:
    """A clause whose compliance equals lead_compliance_target is not breached."""
    rows = [ev(0, 10.0, "mql"), ev(0, 10.5, "routed"),  # met
            ev(1, 10.0, "mql"), ev(1, 12.0, "routed")]  # breached
    get = metrics(scenario(sla__lead_compliance_target=0.5), rows)
    assert get("handoff_compliance") == 0.5
    assert get("handoff_breach") == 0.0


def test_breach_flag_is_undefined_when_no_clause_is_judged() -> None:
    """A month in which no clause started has undefined compliance and breach flags (NaN), not
    a 0 that would count as 'no breach' in P(breach)."""
    get = metrics(scenario(months=2), [ev(0, 10.0, "mql"), ev(0, 10.5, "routed")])
    assert get("handoff_compliance", "2026-01") == 1.0
    for name in ("handoff", "first_touch", "attempts", "disposition"):
        assert math.isnan(get(f"{name}_compliance", "2026-02")), name
        assert math.isnan(get(f"{name}_breach", "2026-02")), name


def test_clause_starting_exactly_at_a_month_boundary_counts_in_the_new_month() -> None:
    """Periods are [start, end): a clause that starts at February 1st 00:00 is February's."""
    rows = [ev(0, JAN_H, "mql"), ev(0, JAN_H + 0.5, "routed")]
    get = metrics(scenario(months=2), rows)
    assert clause(get, "handoff", "2026-01") == (0, 0, 0)
    assert clause(get, "handoff", "2026-02") == (1, 0, 0)


def test_ae_utilization_divides_by_every_slot() -> None:
    """One opportunity open all month with 2 AEs of 3 open opportunities each (no selling
    time: the slot cap alone) uses 1/6 of the AE slots."""
    rows = [ev(0, 0.0, "opp_open")]
    get = metrics(scenario(ae__count=2, ae__max_open_opportunities=3,
                           ae__selling_hours_per_opportunity=0.0), rows)
    assert get("ae_open_mean") == pytest.approx(1.0)
    assert get("ae_utilization") == pytest.approx(1.0 / 6.0)


def test_compute_measures_the_window_it_is_given() -> None:
    """compute() with an explicit window measures that window, not the scenario's: the first
    ten days of January see one of the two MQLs."""
    sc = scenario()
    log = make_log(sc, [ev(0, 10.0, "mql"), ev(1, 300.0, "mql")])
    window = month_window(window_for(sc).origin, 0.0, 240.0)
    table = compute(log, sc, window).set_index(["period", "metric"])["value"]
    assert table[("total", "mqls")] == 1.0
    full = compute(log, sc).set_index(["period", "metric"])["value"]
    assert full[("total", "mqls")] == 2.0
