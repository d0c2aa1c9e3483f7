"""One-at-a-time sensitivity (a tornado): each input moved by -20 % and +20 % with common
random numbers, its effect on monthly revenue P50 and on P(first touch met in a month).

The ten inputs and how each is moved (every channel, team or distribution alike):

=======================  ==============================================================
lead volume              ``channels[*].leads_per_month`` x factor
MQL share                the MQL threshold moved so that the share of new leads scoring
                         above it is x factor (solved on the scores' Beta distributions)
contact half-life        ``follow_up.contact.half_life_hours`` x factor
initial contact prob.    ``follow_up.contact.p_initial`` x factor (at most 1)
SQL rate                 ``channels[*].sql_rate`` x factor (at most 0.999)
win rate                 ``channels[*].win_rate`` x factor (at most 1)
deal value               every ``channels[*].deal_value`` scaled by factor
cycle length             every ``channels[*].cycle_days`` scaled by factor
attempt minutes          ``follow_up.attempt_minutes`` scaled by factor
shrinkage                ``teams[*].shrinkage`` x factor (at most 0.95)
=======================  ==============================================================

A move that a bound cuts short is reported with the factor actually applied, never silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sla_sim.errors import ScenarioError
from sla_sim.scenario.schema import Scenario

STEP = 0.2


def scale_distribution(d: dict[str, Any], f: float) -> dict[str, Any]:
    """A distribution spec (as a dict) with every location parameter multiplied by ``f``
    (coefficients of variation and shapes unchanged, so the whole law scales)."""
    out = dict(d)
    for k in ("value", "mean", "low", "high", "mode"):
        if k in out and out[k] is not None:
            out[k] = out[k] * f
    if "values" in out:
        out["values"] = [v * f for v in out["values"]]
    return out


def _mql_share(sc: Scenario, threshold: float) -> float:
    total = sum(c.leads_per_month for c in sc.channels)
    from sla_sim.analysis.reverse_funnel import p_mql  # scipy: loaded on first use

    return sum(c.leads_per_month * p_mql(c, threshold) for c in sc.channels) / total


def _threshold_for_share(sc: Scenario, share: float) -> float:
    lo, hi = _mql_share(sc, 100.0), _mql_share(sc, 0.0)
    share = min(max(share, lo), hi)
    from scipy import optimize  # loaded on first use (the cost check imports this module)

    return float(optimize.brentq(lambda t: _mql_share(sc, t) - share, 0.0, 100.0, xtol=1e-6))


Mover = Callable[[dict[str, Any], Scenario, float], float]


def _channels(field: str, cap: float | None = None) -> Mover:
    def move(d: dict[str, Any], sc: Scenario, f: float) -> float:
        applied = f
        for ch in d["channels"]:
            v = ch[field] * f
            if cap is not None and v > cap:
                applied = min(applied, cap / ch[field])
                v = cap
            ch[field] = v
        return applied
    return move


def _channel_dist(field: str) -> Mover:
    def move(d: dict[str, Any], sc: Scenario, f: float) -> float:
        for ch in d["channels"]:
            ch[field] = scale_distribution(ch[field], f)
        return f
    return move


def _mql_share_move(d: dict[str, Any], sc: Scenario, f: float) -> float:
    base = _mql_share(sc, sc.mql_threshold_points)
    thr = _threshold_for_share(sc, base * f)
    d["mql_threshold_points"] = thr
    return _mql_share(sc, thr) / base


def _contact(field: str, cap: float | None = None) -> Mover:
    def move(d: dict[str, Any], sc: Scenario, f: float) -> float:
        c = d["follow_up"]["contact"]
        v = c[field] * f
        applied = f if cap is None or v <= cap else cap / c[field]
        c[field] = v if cap is None else min(v, cap)
        return applied
    return move


def _attempt_minutes(d: dict[str, Any], sc: Scenario, f: float) -> float:
    d["follow_up"]["attempt_minutes"] = scale_distribution(d["follow_up"]["attempt_minutes"], f)
    return f


def _shrinkage(d: dict[str, Any], sc: Scenario, f: float) -> float:
    applied = f
    for t in d["teams"]:
        v = t["shrinkage"] * f
        if v > 0.95:
            applied = min(applied, 0.95 / t["shrinkage"])
            v = 0.95
        t["shrinkage"] = v
    return applied


INPUTS: dict[str, Mover] = {
    "lead volume": _channels("leads_per_month"),
    "MQL share": _mql_share_move,
    "contact half-life": _contact("half_life_hours"),
    "initial contact probability": _contact("p_initial", cap=1.0),
    "SQL rate": _channels("sql_rate", cap=0.999),
    "win rate": _channels("win_rate", cap=1.0),
    "deal value": _channel_dist("deal_value"),
    "cycle length": _channel_dist("cycle_days"),
    "attempt minutes": _attempt_minutes,
    "shrinkage": _shrinkage,
}


@dataclass(frozen=True)
class Move:
    """One input moved one way: the scenario (None if the move is invalid) and the factor."""

    name: str
    direction: str  # "low" or "high"
    factor: float
    scenario: Scenario | None
    error: str = ""


def moves(sc: Scenario, step: float = STEP) -> list[Move]:
    """Every input moved down and up by ``step`` (validated scenarios)."""
    out = []
    for name, mover in INPUTS.items():
        for direction, f in (("low", 1.0 - step), ("high", 1.0 + step)):
            d = sc.model_dump(mode="python")
            applied = mover(d, sc, f)
            try:
                moved = Scenario.model_validate(d)
                out.append(Move(name, direction, float(applied), moved))
            except (ScenarioError, ValueError) as err:
                out.append(Move(name, direction, float(applied), None,
                                str(err).splitlines()[0]))  # fmt: skip
    return out


def revenue_p50(monthly: np.ndarray) -> float:
    """Median monthly revenue pooled over months and replications."""
    return float(np.median(monthly))
