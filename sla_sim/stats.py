"""Interval estimates used across the stages: t intervals of a mean, Wilson and
Clopper–Pearson intervals of a proportion."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["clopper_pearson_interval", "t_half_width", "t_interval", "wilson_interval"]


def t_half_width(x: np.ndarray, level: float = 0.95) -> float:
    """Half-width of the t confidence interval of the mean of ``x`` (NaNs ignored; NaN when
    fewer than two values)."""
    x = x[~np.isnan(x)]
    if len(x) < 2:
        return math.nan
    return float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))


def t_interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The t confidence interval of the mean of ``x`` ((NaN, NaN) when fewer than two values)."""
    hw = t_half_width(x, level)
    if math.isnan(hw):
        return math.nan, math.nan
    mean = float(np.nanmean(x))
    return mean - hw, mean + hw


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (``(0, 1)`` when ``n`` is 0)."""
    if n <= 0:
        return 0.0, 1.0
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def clopper_pearson_interval(successes: int, n: int, level: float = 0.95
                             ) -> tuple[float, float]:  # fmt: skip
    """Exact (Clopper–Pearson) interval of a binomial proportion (``(0, 1)`` when ``n`` is 0)."""
    if n <= 0:
        return 0.0, 1.0
    a = (1 - level) / 2
    lo = 0.0 if successes == 0 else float(stats.beta.ppf(a, successes, n - successes + 1))
    hi = 1.0 if successes == n else float(stats.beta.ppf(1 - a, successes + 1, n - successes))
    return lo, hi
