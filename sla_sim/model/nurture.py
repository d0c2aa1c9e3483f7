"""Nurturing: drip touches that may lift a lead's score until it crosses the MQL threshold.

A lead at score ``s`` below threshold ``T`` needs ``k = ceil((T - s) / lift)`` engaging touches.
Touches come every ``touch_interval_days``; each engages with probability ``p``. The touch on
which the k-th engagement happens is ``k + NegBin(k, p)``; if that is within the maximum stay the
lead becomes an MQL then, otherwise it expires when the stay ends. This is exact and vectorised.
"""

from __future__ import annotations

import math

import numpy as np

from sla_sim.scenario.schema import NurtureSpec


def nurture_delays(
    scores: np.ndarray, threshold: float, spec: NurtureSpec, rng: np.random.Generator
) -> np.ndarray:
    """Hours from entering nurture to becoming an MQL (``inf`` if the lead expires first)."""
    n = len(scores)
    touches_allowed = math.floor(spec.max_days / spec.touch_interval_days + 1e-9)
    if n == 0 or touches_allowed == 0 or spec.engage_probability == 0:
        return np.full(n, np.inf)
    if isinstance(scores, np.ndarray) and scores.dtype == np.float64 and scores.ndim == 1:
        from sla_sim.model.passes import nurture_hours, nurture_need  # numba: on first use

        need, ok = nurture_need(np.ascontiguousarray(scores), float(threshold),
                                float(spec.score_lift_points))  # fmt: skip
        if ok:  # the same numbers in two compiled passes around numpy's draw
            extra = rng.negative_binomial(need, spec.engage_probability)
            return nurture_hours(need, extra, touches_allowed, float(spec.touch_interval_days))
    need = np.ceil((threshold - np.asarray(scores)) / spec.score_lift_points).astype(np.int64)
    need = np.maximum(need, 1)
    out = np.full(n, np.inf)
    touch = need + rng.negative_binomial(need, spec.engage_probability)
    ok = touch <= touches_allowed
    out[ok] = touch[ok] * spec.touch_interval_days * 24.0
    return out


def expiry_hours(spec: NurtureSpec) -> float:
    """Hours a lead stays in nurture before it expires."""
    return spec.max_days * 24.0
