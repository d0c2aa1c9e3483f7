"""The lead draws' segment pick (``sla_sim.model.leads.choose``) is numpy's ``Generator.choice``
with shares: the same picks from the same uniforms, and the stream left in the same state."""

from __future__ import annotations

import numpy as np
import pytest

from sla_sim.model.leads import CHOOSE_MAX, choose


def _both(seed: int, values: list[int], p: np.ndarray, n: int) -> None:
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    got = choose(a, values, p, n)
    want = np.asarray(b.choice(values, size=n, p=p), dtype=np.int64)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)
    assert a.bit_generator.state == b.bit_generator.state  # the same draws consumed


@pytest.mark.parametrize("k", [1, 2, 3, 5, CHOOSE_MAX, CHOOSE_MAX + 3])
def test_choose_picks_what_choice_picks(k: int) -> None:
    rng = np.random.default_rng(k)
    for trial in range(40):
        w = rng.random(k) ** 3  # uneven shares, some near zero
        if trial % 4 == 0 and k > 1:
            w[rng.integers(k)] = 0.0  # a share of exactly zero is never picked
        p = w / w.sum()
        values = [int(v) for v in rng.permutation(k) + 2]
        for n in (0, 1, 7, 5000):
            _both(1000 * k + trial, values, p, n)


def test_choose_on_shares_at_the_cdfs_edges() -> None:
    # shares whose cumulative sums land on uniforms' grid (ties with u: searchsorted "right")
    for p in ([0.5, 0.5], [0.25, 0.25, 0.5], [1.0], [0.0, 1.0], [1.0, 0.0], [0.1] * 10,
              [1 / 3, 1 / 3, 1 / 3], [0.2, 0.3, 0.5]):
        _both(7, list(range(len(p))), np.asarray(p), 20_000)


def test_choose_leaves_bad_shares_to_choice() -> None:
    rng = np.random.default_rng(0)
    for p in ([0.5, 0.6], [-0.1, 1.1], [np.nan, 1.0]):
        with pytest.raises(ValueError, match="Probabilities"):
            choose(rng, [0, 1], np.asarray(p), 10)
