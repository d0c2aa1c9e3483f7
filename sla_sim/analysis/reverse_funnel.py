"""The analytic funnel: expected volumes from conversion rates, forward and in reverse.

``forward(scenario)`` gives, per channel and month, the expected first-episode MQLs, reached
MQLs, SQLs, wins and revenue when capacity never binds and every attempt happens exactly on the
cadence at a given response delay. ``reverse(scenario, revenue_per_month)`` answers the
planner's question the other way round: how many leads (and MQLs, SQLs, wins) each month a
revenue target needs at the scenario's mix and rates. The simulation refines both with queues,
calendars, nurture and recycling; ``tests/test_reverse_funnel.py`` checks the forward numbers
against a simulation in which those refinements are switched off.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import integrate, stats
from scipy.special import expit, logit

from sla_sim.errors import Issue, ScenarioError
from sla_sim.model.sdr import contact_curve
from sla_sim.scenario.schema import ChannelSpec, Scenario


def p_mql(ch: ChannelSpec, threshold: float) -> float:
    """P(a new lead of this channel scores at or above the MQL threshold)."""
    return float(stats.beta.sf(threshold / 100.0, ch.score_alpha, ch.score_beta))


def mean_sql_probability(sc: Scenario, ch: ChannelSpec) -> float:
    """E[P(SQL | reached)] over the channel's MQLs (scores above the threshold)."""
    thr = sc.mql_threshold_points / 100.0
    fu = sc.follow_up
    dist = stats.beta(ch.score_alpha, ch.score_beta)
    mass = dist.sf(thr)
    if mass <= 0:
        return float("nan")

    def q(x: float) -> float:
        return float(expit(logit(ch.sql_rate) + fu.score_slope_per_10_points
                           * (100 * x - fu.reference_score_points) / 10.0))

    val, _ = integrate.quad(lambda x: q(x) * dist.pdf(x), thr, 1.0, limit=200)
    return float(val / mass)


def p_reach(sc: Scenario, response_hours: float = 0.0) -> float:
    """P(the cadence reaches the lead) when attempt k happens at
    ``response_hours + 24 * cadence_days[k]`` hours after MQL."""
    curve = contact_curve(sc.follow_up.contact)
    miss = 1.0
    for k, day in enumerate(sc.follow_up.cadence_days):
        miss *= 1.0 - curve(response_hours + 24.0 * day, k)
    return 1.0 - miss


def forward(sc: Scenario, response_hours: float = 0.0) -> pd.DataFrame:
    """Expected monthly volumes per channel (first MQL episode only, no capacity limits)."""
    reach = p_reach(sc, response_hours)
    rows = []
    for ch in sc.channels:
        mqls = ch.leads_per_month * p_mql(ch, sc.mql_threshold_points)
        reached = mqls * reach
        sqls = reached * mean_sql_probability(sc, ch)
        wins = sqls * ch.win_rate
        rows.append({"channel": ch.name, "leads": ch.leads_per_month, "mqls": mqls,
                     "reached": reached, "sqls": sqls, "wins": wins,
                     "revenue": wins * ch.deal_value.mean})  # fmt: skip
    out = pd.DataFrame(rows)
    total = out.drop(columns="channel").sum().to_dict()
    return pd.concat([out, pd.DataFrame([{"channel": "total", **total}])], ignore_index=True)


def reverse(sc: Scenario, revenue_per_month: float | None = None,
            response_hours: float = 0.0) -> pd.DataFrame:  # fmt: skip
    """Leads, MQLs, SQLs and wins per month needed for a revenue target at the scenario's
    channel mix and rates (default target: ``sla.revenue_target_per_month``)."""
    target = sc.sla.revenue_target_per_month if revenue_per_month is None else revenue_per_month
    if not (isinstance(target, (int, float)) and math.isfinite(target) and target >= 0):
        raise ScenarioError([Issue("revenue_per_month", "must be a finite number >= 0",
                                   target)])  # fmt: skip
    fwd = forward(sc, response_hours)
    base = float(fwd.loc[fwd["channel"] == "total", "revenue"].iloc[0])
    if base <= 0:
        raise ScenarioError([Issue("channels", "produce no expected revenue, so no volume"
                                   " reaches the target", base)])  # fmt: skip
    scale = target / base
    out = fwd.copy()
    cols = ["leads", "mqls", "reached", "sqls", "wins", "revenue"]
    out[cols] = out[cols].to_numpy(np.float64) * scale
    out.insert(1, "scale_vs_scenario", scale)
    return out
