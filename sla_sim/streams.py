"""Seed handling: one SeedSequence per run, one per replication, one named stream per element.

Streams are derived from a name (``"arrivals:inbound"``, ``"contact:paid"``) rather than from
the order in which they are asked for, so adding a channel or changing headcount does not move
any other element's random numbers: scenario A vs B comparisons use common random numbers.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["Streams", "replication_seed"]


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The SeedSequence of one replication of a run with root ``seed``.

    The same (seed, replication) gives the same sequence on any executor and worker count.
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if replication < 0:
        raise ValueError(f"replication must be >= 0, got {replication}")
    return np.random.SeedSequence(seed, spawn_key=(replication,))


class Streams:
    """Named, independent numpy Generators derived from one replication's SeedSequence."""

    def __init__(self, seq: np.random.SeedSequence) -> None:
        self.seq = seq
        self._cache: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        """The generator for ``name``; the same object on every call within a replication."""
        rng = self._cache.get(name)
        if rng is None:
            child = np.random.SeedSequence(
                self.seq.entropy, spawn_key=(*self.seq.spawn_key, zlib.crc32(name.encode()))
            )
            rng = self._cache[name] = np.random.Generator(np.random.PCG64(child))
        return rng
