"""Random draws for the MQL episodes of recycled leads, taken from pre-drawn chunks.

Recycled leads re-enter nurture at the same score (``recycle_score_points`` below the threshold),
so their re-qualification delays, like their new attempt draws, can be drawn in vectorised
chunks from the ``recycle`` stream and handed out one episode at a time.
"""

from __future__ import annotations

import numpy as np

from sla_sim.model.nurture import nurture_delays
from sla_sim.scenario.schema import Scenario

CHUNK = 1024


class RecycleDraws:
    """Sequential per-episode draws for recycled leads (deterministic for a given stream)."""

    def __init__(self, sc: Scenario, rng: np.random.Generator, n_attempts: int) -> None:
        self.sc = sc
        self.rng = rng
        self.A = n_attempts
        self.i = CHUNK  # force a refill on first use

    def chunk(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The next :data:`CHUNK` episodes' draws from the stream, as arrays: nurture delays
        (h), uniforms (CHUNK x A+2), work hours (CHUNK x A) and ops delays (h)."""
        sc, rng, A = self.sc, self.rng, self.A
        start = np.full(CHUNK, sc.mql_threshold_points - sc.nurture.recycle_score_points)
        delay = nurture_delays(start, sc.mql_threshold_points, sc.nurture, rng)
        # drawn now (the stream's order is fixed), read only for the few leads that re-qualify
        u = rng.random((CHUNK, A + 2))
        work = sc.follow_up.attempt_minutes.sample(rng, CHUNK * A)
        work /= 60.0  # minutes to hours, in place
        ops = np.asarray(sc.handoff.ops_delay_hours.sample(rng, CHUNK))
        return delay, u, work.reshape(CHUNK, A), ops

    def _refill(self) -> None:
        delay, self.u, self.work, self.ops = self.chunk()
        self.delay = delay.tolist()
        self.i = 0

    def next(self) -> tuple[float, int]:
        """The next recycled lead's nurture delay (hours; ``inf`` if it never re-qualifies)
        and the handle of its episode draws (see :meth:`episode`)."""
        if self.i == CHUNK:
            self._refill()
        i = self.i
        self.i += 1
        return self.delay[i], i

    def episode(self, handle: int) -> tuple[list[float], list[float], float]:
        """For a lead that re-qualifies (``handle`` from the latest :meth:`next`): A+2
        uniforms [contact x A, qualify, disqualify], work hours x A, and the ops delay (h)."""
        return self.u[handle].tolist(), self.work[handle].tolist(), float(self.ops[handle])
