"""Erlang-C (M/M/c) reference numbers for checking the simulated SDR queue against theory.

An M/M/c queue has Poisson arrivals at rate ``lam``, ``c`` identical servers and exponential
service at rate ``mu`` per server, served first come first served. With offered load
``a = lam / mu`` and utilisation ``rho = a / c < 1``:

* Erlang C, the probability that an arrival waits: ``C = B / (1 - rho (1 - B))`` where ``B`` is
  the Erlang-B blocking probability, computed with the recursion
  ``B_0 = 1, B_k = a B_{k-1} / (k + a B_{k-1})`` (every term lies in [0, 1], so it neither
  overflows nor loses precision for large ``c``, unlike the textbook factorial sum);
* the waiting time in queue is 0 with probability ``1 - C`` and otherwise exponential with rate
  ``c mu - lam``: ``P(Wq <= t) = 1 - C exp(-(c mu - lam) t)``, ``E[Wq] = C / (c mu - lam)``;
* Little's law gives the mean number waiting, ``Lq = lam E[Wq]``.

Rates are per unit of time (per hour in sla_sim) and times are in the same unit.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "erlang_b",
    "erlang_c",
    "mmc_mean_queue_length",
    "mmc_mean_wait",
    "mmc_wait_cdf",
    "utilisation",
]


def _check(lam: float, mu: float, c: int) -> tuple[float, float, int]:
    """Validate M/M/c parameters; raise ValueError naming the argument, the rule and the value."""
    for name, value in (("lam", lam), ("mu", mu)):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ValueError(f"{name} must be a real number, got {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    if isinstance(c, bool) or not isinstance(c, Integral):
        raise ValueError(f"c must be an integer number of servers, got {c!r}")
    if c < 1:
        raise ValueError(f"c must be >= 1, got {c!r}")
    lam, mu, c = float(lam), float(mu), int(c)
    if lam >= c * mu:
        raise ValueError(
            f"lam must be < c*mu for a stable queue (utilisation < 1), got lam={lam!r} with"
            f" c*mu={c * mu!r}"
        )
    return lam, mu, c


def utilisation(lam: float, mu: float, c: int) -> float:
    """Server utilisation ``rho = lam / (c mu)``, the long-run share of time a server is busy."""
    lam, mu, c = _check(lam, mu, c)
    return lam / (c * mu)


def erlang_b(a: float, c: int) -> float:
    """Erlang-B blocking probability for offered load ``a`` (erlangs) on ``c`` servers.

    Uses the stable recursion ``B_k = a B_{k-1} / (k + a B_{k-1})``; valid for any ``a > 0``.
    """
    if isinstance(a, bool) or not isinstance(a, Real) or not math.isfinite(a) or a <= 0:
        raise ValueError(f"a must be finite and > 0, got {a!r}")
    if isinstance(c, bool) or not isinstance(c, Integral) or c < 1:
        raise ValueError(f"c must be an integer >= 1, got {c!r}")
    b = 1.0
    for k in range(1, int(c) + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(lam: float, mu: float, c: int) -> float:
    """Erlang C: probability that an arrival has to wait (all ``c`` servers busy), P(Wq > 0)."""
    lam, mu, c = _check(lam, mu, c)
    a = lam / mu
    rho = a / c
    b = erlang_b(a, c)
    return b / (1.0 - rho * (1.0 - b))


def mmc_mean_wait(lam: float, mu: float, c: int) -> float:
    """Mean waiting time in queue, ``E[Wq] = C / (c mu - lam)`` (time units of 1/``lam``)."""
    lam, mu, c = _check(lam, mu, c)
    return erlang_c(lam, mu, c) / (c * mu - lam)


def mmc_wait_cdf(t: ArrayLike, lam: float, mu: float, c: int) -> float | NDArray[np.float64]:
    """``P(Wq <= t) = 1 - C exp(-(c mu - lam) t)`` for ``t >= 0`` (0 for ``t < 0``).

    ``t`` may be a scalar (a float is returned) or an array (an array of the same shape).
    At ``t = 0`` this is ``1 - C``, the probability of not waiting at all.
    """
    lam, mu, c = _check(lam, mu, c)
    ta = np.asarray(t, dtype=np.float64)
    if np.isnan(ta).any():
        raise ValueError(f"t must not be NaN, got {t!r}")
    C = erlang_c(lam, mu, c)
    out = np.where(ta >= 0, 1.0 - C * np.exp(-(c * mu - lam) * np.maximum(ta, 0.0)), 0.0)
    return float(out) if out.ndim == 0 else out


def mmc_mean_queue_length(lam: float, mu: float, c: int) -> float:
    """Time-average number waiting in queue (not in service), ``Lq = lam E[Wq]``."""
    lam, mu, c = _check(lam, mu, c)
    return lam * mmc_mean_wait(lam, mu, c)
