"""Interval estimates used across the stages: t intervals of a mean, Wilson and
Clopper–Pearson intervals of a proportion; percentiles of a sample."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["clopper_pearson_interval", "percentiles", "t_half_width", "t_interval",
           "wilson_interval"]


def t_half_width(x: np.ndarray, level: float = 0.95) -> float:
    """Half-width of the t confidence interval of the mean of ``x`` (NaNs ignored; NaN when
    fewer than two values)."""
    x = x[~np.isnan(x)]
    if len(x) < 2:
        return math.nan
    from scipy import stats  # loaded on first use: a refused request never needs it

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
    from scipy import stats

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
    from scipy import stats

    a = (1 - level) / 2
    lo = 0.0 if successes == 0 else float(stats.beta.ppf(a, successes, n - successes + 1))
    hi = 1.0 if successes == n else float(stats.beta.ppf(1 - a, successes + 1, n - successes))
    return lo, hi


def percentiles(x: np.ndarray, q: tuple[float, ...]) -> list[float]:
    """``np.percentile(x, q)`` of a non-empty 1-D float array, bit for bit, without its
    overhead (about 60 µs a call; the metrics take a dozen per replication): numpy's default
    method ('linear', Hyndman & Fan's 7th) from one partition of a copy of ``x``; NaN for every
    ``q`` if ``x`` holds a NaN, as numpy gives."""
    n = len(x)
    virtual = [(n - 1) * (p / 100) for p in q]  # numpy: (n - 1) * (q / 100), in float64
    low = [math.floor(v) for v in virtual]
    kth = sorted({k for lo in low for k in (lo, lo + 1) if k < n - 1} | {n - 1})
    part = np.partition(x, kth)
    if math.isnan(part[-1]):  # NaNs are partitioned last
        return [math.nan] * len(q)
    out = []
    for v, lo in zip(virtual, low, strict=True):
        if v >= n - 1:  # at or past the last value: the largest
            out.append(float(part[-1]))
            continue
        a, b = float(part[lo]), float(part[lo + 1])
        t = v - lo
        d = b - a  # numpy's _lerp: from the nearer end
        out.append(b - d * (1 - t) if t >= 0.5 else a + d * t)
    return out

