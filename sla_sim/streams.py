"""Seed handling: one SeedSequence per run, one per replication, one named stream per element.

Streams are derived from a name (``"arrivals:inbound"``, ``"contact:paid"``) rather than from
the order in which they are asked for, so adding a channel or changing headcount does not move
any other element's random numbers: scenario A vs B comparisons use common random numbers.

The stream of ``name`` is ``PCG64(SeedSequence(entropy, spawn_key=(*key, crc32(name))))``. A
replication asks for some fifty streams, and numpy's SeedSequence takes tens of microseconds to
mix its entropy; :class:`Streams` mixes the part every stream of the replication shares (its
entropy and spawn key) once, and only the name's word per stream: the same pool, words and
generator state as numpy's, bit for bit (``tests/test_streams.py`` compares them).
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from numpy.random.bit_generator import ISeedSequence

__all__ = ["Streams", "replication_seed"]

# numpy's SeedSequence constants (numpy/random/bit_generator.pyx, after Melissa O'Neill's
# seed_seq_fe): the hash of the pool's entropy words and of its output words
_M32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _XSHIFT, _POOL = 0xCA01F9DD, 0x4973F715, 16, 4


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The SeedSequence of one replication of a run with root ``seed``.

    The same (seed, replication) gives the same sequence on any executor and worker count.
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if replication < 0:
        raise ValueError(f"replication must be >= 0, got {replication}")
    return np.random.SeedSequence(seed, spawn_key=(replication,))


def _words(x: int) -> list[int]:
    """A non-negative integer as 32-bit words, least significant first (0 is one word)."""
    out = [x & _M32]
    x >>= 32
    while x:
        out.append(x & _M32)
        x >>= 32
    return out


class _Pool:
    """SeedSequence's entropy pool being mixed: the pool words and the hash constant."""

    def __init__(self, entropy: list[int]) -> None:
        self.h = _INIT_A
        pool = [self.hash(entropy[i] if i < len(entropy) else 0) for i in range(_POOL)]
        for src in range(_POOL):
            for dst in range(_POOL):
                if src != dst:
                    pool[dst] = _mix(pool[dst], self.hash(pool[src]))
        self.pool = pool
        for word in entropy[_POOL:]:
            self.add(word)

    def hash(self, value: int) -> int:
        value ^= self.h
        self.h = (self.h * _MULT_A) & _M32
        value = (value * self.h) & _M32
        return value ^ (value >> _XSHIFT)

    def add(self, word: int) -> None:
        """Mix one more entropy word into every pool word."""
        pool = self.pool
        for dst in range(_POOL):
            pool[dst] = _mix(pool[dst], self.hash(word))

    def with_word(self, word: int) -> list[int]:
        """The pool words with one more entropy word mixed in (:meth:`add` on a copy), this
        pool unchanged."""
        h, out = self.h, []
        for x in self.pool:
            v = word ^ h  # self.hash(word)
            h = (h * _MULT_A) & _M32
            v = (v * h) & _M32
            r = (_MIX_L * x - _MIX_R * (v ^ (v >> _XSHIFT))) & _M32  # _mix(x, hash)
            out.append(r ^ (r >> _XSHIFT))
        return out

    def copy(self) -> _Pool:
        out = object.__new__(_Pool)
        out.h, out.pool = self.h, list(self.pool)
        return out


def _mix(x: int, y: int) -> int:
    r = (_MIX_L * x - _MIX_R * y) & _M32
    return r ^ (r >> _XSHIFT)


class _Seeded(ISeedSequence):
    """A mixed pool handing its state to a bit generator (SeedSequence.generate_state)."""

    def __init__(self, pool: list[int]) -> None:
        self.pool = pool

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        wide = np.dtype(dtype) == np.dtype(np.uint64)
        n = 2 * n_words if wide else n_words
        pool = self.pool
        if n <= len(_STATE_H):  # the hash constants of each output word, worked out once
            out = []
            for i in range(n):
                h0, h1 = _STATE_H[i]
                v = ((pool[i % _POOL] ^ h0) * h1) & _M32
                out.append(v ^ (v >> _XSHIFT))
        else:
            h, out = _INIT_B, []
            for i in range(n):
                v = pool[i % _POOL] ^ h
                h = (h * _MULT_B) & _M32
                v = (v * h) & _M32
                out.append(v ^ (v >> _XSHIFT))
        if wide:  # pairs of words, the first the low half (numpy reads them little-endian)
            return np.array([out[i] | (out[i + 1] << 32) for i in range(0, len(out), 2)],
                            dtype=np.uint64)  # fmt: skip
        return np.array(out, dtype=np.uint32)


def _state_hashes(n: int) -> tuple[tuple[int, int], ...]:
    """The hash constants before and after each of the first ``n`` output words of
    ``generate_state`` (they depend on nothing but the word's position)."""
    h, out = _INIT_B, []
    for _ in range(n):
        h1 = (h * _MULT_B) & _M32
        out.append((h, h1))
        h = h1
    return tuple(out)


#: hash constants of the first 16 state words (a PCG64 takes 8)
_STATE_H = _state_hashes(16)


class Streams:
    """Named, independent numpy Generators derived from one replication's SeedSequence."""

    def __init__(self, seq: np.random.SeedSequence) -> None:
        self.seq = seq
        self._cache: dict[str, np.random.Generator] = {}
        self._shared: _Pool | None = None

    def _prefix(self) -> _Pool:
        """The pool with the replication's entropy and spawn key mixed in (the entropy padded
        to the pool's size, as SeedSequence does when a spawn key follows)."""
        if self._shared is None:
            run = _words(int(self.seq.entropy))  # type: ignore[arg-type]
            run += [0] * (_POOL - len(run))
            spawn = [w for k in self.seq.spawn_key for w in _words(int(k))]
            self._shared = _Pool(run + spawn)
        return self._shared

    def __call__(self, name: str) -> np.random.Generator:
        """The generator for ``name``; the same object on every call within a replication."""
        rng = self._cache.get(name)
        if rng is None:
            if self.seq.pool_size != _POOL or not isinstance(self.seq.entropy, int):
                child: Any = np.random.SeedSequence(
                    self.seq.entropy, spawn_key=(*self.seq.spawn_key, zlib.crc32(name.encode()))
                )  # the general derivation (another pool size, or entropy as a sequence)
            else:
                child = _Seeded(self._prefix().with_word(zlib.crc32(name.encode())))
            rng = self._cache[name] = np.random.Generator(np.random.PCG64(child))
        return rng
