"""The MQL share per channel, identified by MQL dates alone (no score column needed).

A lead that is an MQL within a minute of its creation scored at or above the threshold when it
arrived; its share among a channel's leads is a plain binomial proportion (its status is known
at creation, so censoring does not touch it). An MQL dated later came back through nurture.
The scenario reproduces the share by its score distribution: ``score_alpha`` is solved so that
P(100 x Beta(alpha, beta) >= threshold) equals the share, ``score_beta`` and the threshold (not
identified without scores) kept. When the export holds no later MQL at all, nurture
re-qualification is switched off: the model must not add MQLs the data never had.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

__all__ = ["IMMEDIATE_H", "NURTURE_EVIDENCE", "alpha_for_share", "mql_counts", "p_mql"]

IMMEDIATE_H = 1 / 60  # an MQL date within a minute of creation: MQL at creation (hours)
NURTURE_EVIDENCE = 0.01  # later MQLs below this share of all MQLs: no nurture re-qualification


def p_mql(alpha: float, beta: float, threshold_points: float) -> float:
    """P(a lead is an MQL at creation): P(100 x Beta(alpha, beta) >= threshold)."""
    return float(stats.beta.sf(threshold_points / 100, alpha, beta))


def alpha_for_share(share: float, beta: float, threshold_points: float) -> float:
    """``alpha`` with P(100 x Beta(alpha, beta) >= threshold) = ``share`` (0 < share < 1)."""
    if not 0.0 < share < 1.0:
        raise ValueError(f"MQL share must lie strictly between 0 and 1, got {share}")
    lo, hi = 1e-4, 1e4
    f = lambda a: p_mql(a, beta, threshold_points) - share  # noqa: E731 - increasing in a
    share_lo, share_hi = f(lo) + share, f(hi) + share
    if share <= share_lo:
        return lo
    if share >= share_hi:
        return hi
    return float(optimize.brentq(f, lo, hi, xtol=1e-10))


def mql_counts(created_h: np.ndarray, mql_h: np.ndarray, channel: np.ndarray,
               n_channels: int) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
    """Per channel: leads, MQLs at creation; and the number of MQLs dated later."""
    imm = np.isfinite(mql_h) & (np.abs(mql_h - created_h) < IMMEDIATE_H)
    later = np.isfinite(mql_h) & ~imm
    n = np.bincount(channel, minlength=n_channels)
    k = np.bincount(channel[imm], minlength=n_channels)
    return n, k, int(later.sum())
