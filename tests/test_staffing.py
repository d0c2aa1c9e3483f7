"""Analytic staffing against published worked examples (Erlang C, square-root staffing)."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from sla_sim.analysis import staffing as st

# The published Erlang C worked example: 100 contacts per 30 minutes, 3 minutes' mean handle
# time, answer within 20 seconds, 80 % target.
LOAD = st.offered_load(100 / 30, 3.0)  # per minute x minutes = 10 erlangs
WITHIN_MIN, HANDLE_MIN = 20 / 60, 3.0


def test_offered_load_of_the_worked_example() -> None:
    assert pytest.approx(10.0) == LOAD


def test_worked_example_needs_14_agents() -> None:
    assert st.agents_for_service_level(LOAD, WITHIN_MIN, HANDLE_MIN, 0.8) == 14
    assert st.service_level(LOAD, 14, WITHIN_MIN, HANDLE_MIN) == pytest.approx(0.8884, abs=5e-5)
    assert st.p_wait(LOAD, 14) == pytest.approx(0.1741, abs=5e-5)


@pytest.mark.parametrize(("agents", "published"),
                         [(11, 0.3896), (12, 0.6402), (13, 0.7956), (15, 0.9415)])
def test_service_level_table(agents: int, published: float) -> None:
    assert st.service_level(LOAD, agents, WITHIN_MIN, HANDLE_MIN) == pytest.approx(
        published, abs=5e-5)


def test_unstable_queue_has_no_service() -> None:
    assert st.service_level(LOAD, 10, WITHIN_MIN, HANDLE_MIN) == 0.0
    assert st.p_wait(LOAD, 9) == 1.0


def test_halfin_whitt_beta_for_p_wait_0_2() -> None:
    beta = st.halfin_whitt_beta(0.2)
    assert beta == pytest.approx(1.0615, abs=1e-4)
    # the defining equation holds at the root
    assert 1 / (1 + beta * stats.norm.cdf(beta) / stats.norm.pdf(beta)) == pytest.approx(0.2)


@pytest.mark.parametrize(("load", "agents"), [(10, 14), (100, 111), (1000, 1034)])
def test_square_root_staffing_equals_exact_erlang_c(load: float, agents: int) -> None:
    assert st.square_root_staffing(load, 0.2) == agents
    assert st.agents_for_p_wait(load, 0.2) == agents
    # minimal: one fewer agent waits more often than the target
    assert st.p_wait(load, agents - 1) > 0.2 >= st.p_wait(load, agents)


def test_staffing_is_monotone_in_load_and_target() -> None:
    loads = [1, 2, 5, 10, 20, 50]
    needs = [st.agents_for_service_level(a, 0.1, 1.0, 0.85) for a in loads]
    assert needs == sorted(needs)
    by_target = [st.agents_for_service_level(10, 0.1, 1.0, t) for t in (0.5, 0.8, 0.9, 0.99)]
    assert by_target == sorted(by_target)


def test_littles_law_and_open_item_servers() -> None:
    assert st.littles_law_open(3.0, 40.0) == pytest.approx(120.0)
    # Poisson(120) 90% quantile is 134; 80 slots per server -> 2 servers
    assert stats.poisson.ppf(0.9, 120) == 134
    assert st.servers_for_open_items(120.0, 80, 0.9) == 2
    assert st.servers_for_open_items(120.0, 10, 0.9) == 14
    assert st.servers_for_open_items(0.0, 10, 0.9) == 1


@pytest.mark.parametrize(("call", "word"), [
    (lambda: st.offered_load(-1, 3), "arrivals_per_hour"),
    (lambda: st.offered_load(1, math.nan), "handle_hours"),
    (lambda: st.agents_for_service_level(10, 0.1, 1.0, 1.0), "target"),
    (lambda: st.halfin_whitt_beta(0.0), "alpha"),
    (lambda: st.servers_for_open_items(10, 0, 0.9), "slots_per_server"),
])
def test_bad_arguments_name_the_argument(call, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        call()
