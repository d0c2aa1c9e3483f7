"""Conversion probability by attempt number, from a table of call counts and outcomes.

Some exports hold no activity timestamps, only how many attempts each prospect received and
whether the last one converted (UCI bank telemarketing: ``campaign`` contacts, ``y``). That is
a discrete-time survival table: a prospect converted at attempt ``k`` was at risk at attempts
1..k; one who never converted after ``n`` attempts was at risk at 1..n and then left (censored).
The hazard at attempt ``k`` is conversions at ``k`` / prospects still at risk at ``k`` (life
table, Wilson interval). A logistic regression of the per-attempt outcomes on ``k - 1`` gives
the factor by which the odds fall per further attempt (the scenario's
``follow_up.contact.attempt_decay`` multiplies the reach probability per attempt, a close
analogue when probabilities are small), with a Wald interval.

The rate "converted among prospects who received exactly k calls" (used for the shipped
defaults) answers another question: it conditions on the number of calls, which itself
depends on the outcome (calling stops at a success).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from sla_sim.stats import wilson_interval

__all__ = ["AttemptFit", "attempt_hazard"]

_Z = 1.959963984540054


@dataclass
class AttemptFit:
    """Per-attempt hazard table and the fitted decay of the odds per attempt."""

    table: pd.DataFrame  # attempt, at_risk, converted, hazard, low, high
    p_first: float  # fitted conversion probability at the first attempt
    odds_decay: float  # odds multiplied by this per further attempt
    odds_decay_ci: tuple[float, float]
    prospects: int


def attempt_hazard(attempts: np.ndarray, converted: np.ndarray,
                   max_attempt: int = 10) -> AttemptFit:  # fmt: skip
    """Life table of conversion by attempt (attempts >= 1 per prospect; ``converted``: the
    last attempt converted) and the logistic decay fit over attempts 1..``max_attempt``."""
    n = np.asarray(attempts, dtype=np.int64)
    y = np.asarray(converted, dtype=bool)
    if len(n) != len(y) or len(n) == 0 or (n < 1).any():
        raise ValueError("attempts must be >= 1, one per prospect, beside converted")
    ks = np.arange(1, max_attempt + 1)
    at_risk = np.array([(n >= k).sum() for k in ks])
    conv = np.array([((n == k) & y).sum() for k in ks])
    rows = []
    for k, r, c in zip(ks, at_risk, conv, strict=True):
        if r == 0:
            break
        lo, hi = wilson_interval(int(c), int(r))
        rows.append({"attempt": int(k), "at_risk": int(r), "converted": int(c),
                     "hazard": c / r, "low": lo, "high": hi})  # fmt: skip
    table = pd.DataFrame(rows)
    # logistic regression on binomial cells (attempt k: at_risk trials, converted successes)
    x = table["attempt"].to_numpy(float) - 1
    t = table["at_risk"].to_numpy(float)
    s = table["converted"].to_numpy(float)
    X = np.column_stack([np.ones_like(x), x])
    beta = np.array([special.logit(max(s.sum() / t.sum(), 1e-6)), 0.0])
    for _ in range(100):  # Newton-Raphson
        p = special.expit(X @ beta)
        g = X.T @ (s - t * p)
        H = X.T @ (X * (t * p * (1 - p))[:, None])
        step = np.linalg.solve(H, g)
        beta += step
        if np.abs(step).max() < 1e-12:
            break
    se = math.sqrt(float(np.linalg.inv(H)[1, 1]))
    return AttemptFit(table, float(special.expit(beta[0])), math.exp(beta[1]),
                      (math.exp(beta[1] - _Z * se), math.exp(beta[1] + _Z * se)), len(n))
