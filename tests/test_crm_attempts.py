"""Conversion by attempt number (life table with censoring) on known truth and on UCI bank."""

from __future__ import annotations

import math
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from sla_sim.crm.attempts import attempt_hazard


def test_recovers_a_known_geometric_decay_of_the_odds() -> None:
    rng = np.random.default_rng(4)
    p1, decay, n = 0.12, 0.8, 40_000
    planned = rng.integers(1, 9, n)  # calls planned before giving up (censoring)
    attempts = np.empty(n, np.int64)
    won = np.zeros(n, bool)
    for i in range(n):
        for k in range(1, planned[i] + 1):
            odds = p1 / (1 - p1) * decay ** (k - 1)
            if rng.random() < odds / (1 + odds):
                attempts[i], won[i] = k, True
                break
        else:
            attempts[i] = planned[i]
    f = attempt_hazard(attempts, won)
    lo, hi = f.odds_decay_ci
    assert lo <= decay <= hi, (f.odds_decay, f.odds_decay_ci)
    assert abs(f.p_first - p1) < 3 * math.sqrt(p1 * (1 - p1) / n)
    # "converted among those who got exactly k calls" is not the hazard: at one call it
    # leaves out everyone called again after a first failure
    exact = pd.Series(won).groupby(attempts).mean()
    assert exact.loc[1] - f.table.set_index("attempt").loc[1, "hazard"] > 0.05


def test_uci_bank_hazard_by_attempt() -> None:
    path = resources.files("sla_sim.data").joinpath("uci_bank", "bank-additional.csv")
    d = pd.read_csv(str(path), sep=";")
    f = attempt_hazard(d["campaign"].to_numpy(), (d["y"] == "yes").to_numpy())
    t = f.table.set_index("attempt")
    assert t.loc[1, "at_risk"] == len(d)
    assert t.loc[1, "converted"] == int(((d["campaign"] == 1) & (d["y"] == "yes")).sum())
    assert (t["low"] <= t["hazard"]).all()
    assert (t["hazard"] <= t["high"]).all()
    # the odds of a conversion fall with each further call, with an interval below 1
    assert f.odds_decay_ci[1] < 1.0
    with pytest.raises(ValueError, match="attempts"):
        attempt_hazard(np.array([0, 1]), np.array([True, False]))
