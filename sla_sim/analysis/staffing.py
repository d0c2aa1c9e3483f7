"""Analytic staffing: Erlang C service level, square-root staffing and Little's law.

These are the closed forms behind the recommender's first guess (the simulation decides).

* **Offered load** ``a = lam / mu`` erlangs: arrivals per hour times mean handle hours.
* **Erlang C** (M/M/c, first come first served; :mod:`sla_sim.analysis.queueing`): the
  probability of waiting ``C(a, c)`` and the **service level**, the share answered within
  ``t``: ``SL(t) = 1 - C exp(-(c - a) t / h)`` with ``h = 1 / mu`` the mean handle time.
  The published worked example (100 contacts per 30 minutes, 3 minutes' handle time, answer
  within 20 s, target 80 %) needs 14 agents: SL 0.8884, P(wait) 0.1741 (tests/test_staffing.py).
* **Square-root staffing** (Halfin & Whitt 1981): ``c = ceil(a + beta sqrt(a))`` where ``beta``
  solves ``alpha = [1 + beta Phi(beta) / phi(beta)]^-1`` for a target P(wait) ``alpha``
  (``alpha = 0.2`` gives ``beta = 1.0615``). It is asymptotically exact in heavy traffic and
  matches the exact Erlang C minimum for loads 10, 100 and 1000 at ``alpha = 0.2``.
* **Little's law** ``L = lam W``: open opportunities = SQLs per day x mean cycle days. With
  Poisson arrivals and no waiting (M/G/inf) the number open is Poisson(L) whatever the cycle
  distribution, so the slots that hold it with probability ``q`` are its ``q`` quantile.

Times and rates share one unit (hours in sla_sim) unless a name says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real

from scipy import optimize, stats

from sla_sim.analysis.queueing import erlang_c

__all__ = [
    "agents_for_p_wait",
    "agents_for_service_level",
    "halfin_whitt_beta",
    "littles_law_open",
    "offered_load",
    "p_wait",
    "servers_for_open_items",
    "service_level",
    "square_root_staffing",
]

#: Hard cap on the agents a search tries: a load needing more is reported, not searched forever.
MAX_AGENTS = 1_000_000


def _positive(name: str, value: float, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(value)


def _probability(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value < 1:
        raise ValueError(f"{name} must be a probability strictly between 0 and 1, got {value!r}")
    return float(value)


def offered_load(arrivals_per_hour: float, handle_hours: float) -> float:
    """Offered load in erlangs: arrivals per hour x mean handle time in hours."""
    return _positive("arrivals_per_hour", arrivals_per_hour) * _positive("handle_hours",
                                                                          handle_hours)


def p_wait(load_erlangs: float, agents: int) -> float:
    """Erlang C probability of waiting for ``load_erlangs`` offered to ``agents`` servers
    (1.0 when the queue is unstable, ``agents <= load``)."""
    a = _positive("load_erlangs", load_erlangs)
    if agents <= a:
        return 1.0
    return erlang_c(a, 1.0, int(agents))


def service_level(load_erlangs: float, agents: int, answer_within: float,
                  handle_time: float) -> float:  # fmt: skip
    """Share of arrivals whose wait is at most ``answer_within`` (same unit as ``handle_time``):
    ``1 - C exp(-(c - a) t / h)``; 0.0 when the queue is unstable (``agents <= load``)."""
    a = _positive("load_erlangs", load_erlangs)
    t = _positive("answer_within", answer_within, allow_zero=True)
    h = _positive("handle_time", handle_time)
    if agents <= a:
        return 0.0
    c = erlang_c(a, 1.0, int(agents))
    return 1.0 - c * math.exp(-(agents - a) * t / h)


def _smallest(ok: Callable[[int], bool], start: int) -> int:
    """Smallest integer n >= start with ok(n), for ok monotone in n."""
    lo = max(1, start)
    if ok(lo):
        return lo
    hi = lo + 1
    while not ok(hi):
        lo, hi = hi, min(MAX_AGENTS, 2 * hi)
        if lo >= MAX_AGENTS:
            raise ValueError(f"no staffing up to {MAX_AGENTS} agents meets the target")
    return bisect_smallest(ok, lo, hi)


def bisect_smallest(ok: Callable[[int], bool], bad: int, good: int) -> int:
    """Smallest n in (bad, good] with ok(n), given ok(bad) false, ok(good) true and ok
    monotone in n (bisection: about log2(good - bad) calls of ok)."""
    while good - bad > 1:
        mid = (good + bad) // 2
        if ok(mid):
            good = mid
        else:
            bad = mid
    return good


def agents_for_service_level(load_erlangs: float, answer_within: float, handle_time: float,
                             target: float) -> int:  # fmt: skip
    """Fewest agents whose Erlang C service level reaches ``target`` (e.g. 0.8 within 20 s)."""
    a = _positive("load_erlangs", load_erlangs)
    target = _probability("target", target)
    return _smallest(lambda n: service_level(a, n, answer_within, handle_time) >= target,
                     math.floor(a) + 1)


def agents_for_p_wait(load_erlangs: float, alpha: float) -> int:
    """Fewest agents whose Erlang C probability of waiting is at most ``alpha`` (exact)."""
    a = _positive("load_erlangs", load_erlangs)
    alpha = _probability("alpha", alpha)
    return _smallest(lambda n: p_wait(a, n) <= alpha, math.floor(a) + 1)


def halfin_whitt_beta(alpha: float) -> float:
    """The square-root staffing factor ``beta`` for a target P(wait) ``alpha``: the root of
    ``alpha = 1 / (1 + beta Phi(beta) / phi(beta))`` (Halfin-Whitt heavy-traffic limit)."""
    alpha = _probability("alpha", alpha)

    def gap(b: float) -> float:
        # phi/Phi ratio written with logs so large beta does not underflow
        ratio = math.exp(stats.norm.logcdf(b) - stats.norm.logpdf(b))
        return 1.0 / (1.0 + b * ratio) - alpha

    return float(optimize.brentq(gap, 1e-12, 20.0, xtol=1e-12))


def square_root_staffing(load_erlangs: float, alpha: float) -> int:
    """Agents by square-root staffing: ``ceil(a + beta(alpha) sqrt(a))``."""
    a = _positive("load_erlangs", load_erlangs)
    return max(1, math.ceil(a + halfin_whitt_beta(alpha) * math.sqrt(a) - 1e-12))


def littles_law_open(arrivals_per_time: float, mean_time_in_system: float) -> float:
    """Little's law: mean number in the system ``L = lam W`` (units of ``lam`` and ``W`` agree)."""
    return _positive("arrivals_per_time", arrivals_per_time, allow_zero=True) * _positive(
        "mean_time_in_system", mean_time_in_system, allow_zero=True)


def servers_for_open_items(mean_open: float, slots_per_server: int, coverage: float) -> int:
    """Servers (e.g. AEs) of ``slots_per_server`` slots each so that the number open, Poisson
    with mean ``mean_open`` (M/G/inf with Little's ``L``), fits with probability ``coverage``."""
    mean_open = _positive("mean_open", mean_open, allow_zero=True)
    if isinstance(slots_per_server, bool) or not isinstance(slots_per_server, int) or (
            slots_per_server < 1):
        raise ValueError(f"slots_per_server must be an integer >= 1, got {slots_per_server!r}")
    coverage = _probability("coverage", coverage)
    need = float(stats.poisson.ppf(coverage, mean_open)) if mean_open > 0 else 0.0
    return max(1, math.ceil(need / slots_per_server))
