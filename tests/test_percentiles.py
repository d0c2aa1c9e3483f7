"""``sla_sim.stats.percentiles`` gives ``np.percentile``'s default method bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sla_sim.stats import percentiles

QS = [(50, 90), (90,), (50,), (10, 50, 90), (2.5, 97.5), (0, 100)]


def _same(got: list[float], want: np.ndarray) -> bool:
    return all((math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) ==
               math.copysign(1, b)) for a, b in zip(got, want.tolist(), strict=True))  # fmt: skip


@pytest.mark.parametrize("q", QS, ids=str)
def test_percentiles_equal_numpys_bit_for_bit(q: tuple[float, ...]) -> None:
    """On 600 samples of 1-60 values (skewed, rounded to ties, small integers, with a NaN),
    every percentile equals numpy's to the last bit."""
    rng = np.random.default_rng(20261207)
    for i in range(600):
        n = int(rng.integers(1, 61))
        x = rng.lognormal(0.0, 2.0, n)
        if i % 3 == 0:
            x = np.round(x, 1)
        if i % 7 == 0:
            x = rng.integers(0, 5, n).astype(float)
        if i % 11 == 0:
            x[rng.integers(0, n)] = np.nan
        assert _same(percentiles(x, q), np.percentile(x, list(q))), (x.tolist(), q)


def test_percentiles_leave_the_sample_alone() -> None:
    x = np.array([3.0, 1.0, 2.0])
    assert percentiles(x, (50,)) == [2.0]
    assert x.tolist() == [3.0, 1.0, 2.0]
