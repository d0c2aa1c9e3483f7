"""The named streams are numpy's: ``Streams(seq)(name)`` draws exactly what
``PCG64(SeedSequence(entropy, spawn_key=(*key, crc32(name))))`` draws, though it mixes the
replication's shared entropy once instead of once per stream."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from sla_sim.streams import Streams, _Pool, _Seeded, replication_seed


def _numpy_stream(seq: np.random.SeedSequence, name: str) -> np.random.Generator:
    child = np.random.SeedSequence(seq.entropy,
                                   spawn_key=(*seq.spawn_key, zlib.crc32(name.encode())))
    return np.random.Generator(np.random.PCG64(child))


@pytest.mark.parametrize("seed", [0, 1, 7, 20260101, 2**32 - 1, 2**32, 2**100 + 3, 2**200])
def test_every_stream_draws_what_numpy_derives(seed: int) -> None:
    """Seeds of one to seven 32-bit words, replications of one and two words, names short,
    long and not ASCII: the same first draws as numpy's derivation."""
    for rep in (0, 1, 999, 2**32 + 1):
        streams = Streams(replication_seed(seed, rep))
        for name in ("arrivals:inbound", "contact:paid", "recycle", "", "é" * 40):
            got = streams(name)
            assert got is streams(name)  # one generator per name and replication
            np.testing.assert_array_equal(got.random(4),
                                          _numpy_stream(streams.seq, name).random(4))


def test_the_pool_and_its_state_words_are_numpys() -> None:
    """The mixed pool and the 32-bit state words equal SeedSequence's own."""
    seq = np.random.SeedSequence(12345, spawn_key=(3, 77))
    ours = _Seeded(_Pool([12345, 0, 0, 0, 3, 77]).pool)
    np.testing.assert_array_equal(np.asarray(ours.pool, dtype=np.uint32), seq.pool)
    for n in (1, 4, 9):
        np.testing.assert_array_equal(ours.generate_state(n), seq.generate_state(n))
        np.testing.assert_array_equal(ours.generate_state(n, np.uint64),
                                      seq.generate_state(n, np.uint64))


def test_a_sequence_entropy_takes_numpys_own_derivation() -> None:
    """Entropy given as a list of words (not an int) is derived by numpy itself."""
    seq = np.random.SeedSequence([5, 6, 7, 8, 9], spawn_key=(2,))
    np.testing.assert_array_equal(Streams(seq)("x").random(3), _numpy_stream(seq, "x").random(3))


def test_a_name_mixed_into_a_copy_is_add_on_a_copy() -> None:
    """``_Pool.with_word`` (the name's word mixed in per stream) is ``copy().add``, and leaves
    the shared pool as it was."""
    shared = _Pool([20260101, 0, 0, 0, 5])
    before = (shared.h, list(shared.pool))
    for name in ("arrivals:inbound", "recycle", ""):
        word = zlib.crc32(name.encode())
        want = shared.copy()
        want.add(word)
        assert shared.with_word(word) == want.pool
    assert (shared.h, shared.pool) == before
