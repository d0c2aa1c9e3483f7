"""What a plan costs and earns: cost, profit, CAC and revenue per rep, per month and in total.

Costs are inputs (the scenario's ``costs`` section, in its currency); what they multiply is
measured per replication:

* **rep-months** of each SDR team: the capacity plan's reps on the payroll, each from its join
  to its departure (a rep on a day off or outside working hours is still paid), as calendar
  months of the scenario's time zone (a rep on the team for all of a 31-day month is one
  rep-month, for 15 of its days 15/31);
* **hires** of each team: reps joining inside the period (``teams[].hires`` and backfills);
* **leads** created per channel in the period (from the event log's leads table);
* **revenue** booked on the close date, and MQLs, SQLs and wins, from the metrics table.

Cost of a period = for each team rep-months x ``rep_cost_per_month_amount`` + hires x
(``hire_cost_amount`` + ``ramp_cost_amount``); AEs: ``ae.count`` x months x
``ae.rep_cost_per_month_amount`` + ``commission_share`` x revenue; for each channel leads x
``cost_per_lead_amount`` + months x ``fixed_per_month_amount``. Ratios whose denominator is 0
(CAC in a month with no win) are undefined: NaN, never infinite or 0.

The drivers (:func:`cost_drivers`) do not depend on the costs section, so one simulation can be
costed under any prices (:func:`cost_rows`); ``Results.costs``
(:mod:`sla_sim.batch.results`) holds the cost metrics of every replication of a run;
:func:`expected_monthly_cost` gives the cost of a scenario's plan before any simulation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from sla_sim.horizon import TOTAL, elapsed_hours, horizon_hours, month_hours, window_for

if TYPE_CHECKING:
    from sla_sim.events import EventLog
    from sla_sim.horizon import Window
    from sla_sim.scenario.schema import Scenario
    from sla_sim.streams import Streams

__all__ = ["COST_METRICS", "Presence", "capacity_plan", "cost_drivers", "cost_keys",
           "cost_rows", "expected_monthly_cost"]

#: Metrics of every scenario (per team and per channel ones are named by :func:`cost_keys`).
COST_METRICS = ("cost_ae", "cost_commission", "cost_people", "cost_marketing", "cost_total",
                "gross_profit", "return_on_spend", "cost_per_mql", "cost_per_sql",
                "cac", "revenue_per_ae_month", "revenue_per_sdr_month")  # fmt: skip

#: Each rep's presence on a team: (join, leave) in model hours; -inf / inf when open-ended.
Presence = dict[int, list[tuple[float, float]]]


def capacity_plan(scenario: Scenario, streams: Streams | None = None) -> Presence:
    """Who is on each team's payroll when: (join_h, leave_h) per rep, by team index.

    A team without a staffing plan has its ``reps`` for the whole horizon. With a plan and the
    replication's ``streams``, the plan is expanded exactly as the model expands it
    (:class:`~sla_sim.model.staffing.Staffing`: same named streams, so the same departures and
    backfills); without ``streams`` (a CRM log) only the certain part is used: the ``reps`` and
    each hire from local midnight of its start date, with no departures.
    """
    from sla_sim.model.staffing import Staffing, has_staffing_plan

    origin, _, end_h = horizon_hours(scenario)
    out: Presence = {}
    for ti, team in enumerate(scenario.teams):
        if streams is not None and has_staffing_plan(team):
            staff = Staffing(scenario, ti, origin, end_h, streams)
            out[ti] = [(p.join_h, p.leave_h) for p in staff.plans]
            continue
        from datetime import datetime
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(team.calendar.timezone)
        joins = [elapsed_hours(origin, datetime(h.start.year, h.start.month, h.start.day,
                                                tzinfo=tz))
                 for h in team.hires for _ in range(h.reps)]  # fmt: skip
        out[ti] = [(-math.inf, math.inf)] * team.reps + [(j, math.inf) for j in joins]
    return out


def cost_drivers(log: EventLog, scenario: Scenario, plan: Presence | None = None,
                 window: Window | None = None) -> dict[tuple[str, str], float]:  # fmt: skip
    """What the costs multiply, per period of the window (months, then ``total``):
    ``months``, ``leads_<channel>``, ``rep_months_<team>`` and ``hires_<team>``.

    ``plan`` is the replication's :func:`capacity_plan` (default: its certain part).
    """
    win = window or window_for(scenario)
    plan = plan if plan is not None else capacity_plan(scenario)
    created = log.leads.get("created_h", np.empty(0))
    channel = log.leads.get("channel", np.empty(0, dtype=np.int16))
    out: dict[tuple[str, str], float] = {}
    for p in win.months:
        mh = month_hours(win.origin, p)
        out[(p.label, "months")] = p.hours / mh
        inside = (created >= p.start_h) & (created < p.end_h)
        for ci, name in enumerate(scenario.channel_names()):
            out[(p.label, f"leads_{name}")] = float(np.count_nonzero(inside & (channel == ci)))
        for ti, name in enumerate(scenario.team_names()):
            spans = np.asarray(plan[ti], dtype=np.float64).reshape(-1, 2)
            lo, hi = np.maximum(spans[:, 0], p.start_h), np.minimum(spans[:, 1], p.end_h)
            out[(p.label, f"rep_months_{name}")] = float(np.clip(hi - lo, 0, None).sum() / mh)
            joined = (spans[:, 0] >= p.start_h) & (spans[:, 0] < p.end_h)
            out[(p.label, f"hires_{name}")] = float(np.count_nonzero(joined))
    for name in dict.fromkeys(n for _, n in out):
        out[(TOTAL, name)] = sum(out[(p.label, name)] for p in win.months)
    return out


def cost_keys(scenario: Scenario) -> list[str]:
    """The cost metrics of a scenario, in table order: per team, per channel, then
    :data:`COST_METRICS`."""
    return ([f"cost_team_{t}" for t in scenario.team_names()]
            + [f"cost_channel_{c}" for c in scenario.channel_names()] + list(COST_METRICS))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0 (undefined, never inf or 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def cost_rows(drivers: Mapping[tuple[str, str], np.ndarray | float],
              metrics: Mapping[tuple[str, str], np.ndarray | float], scenario: Scenario,
              periods: list[str]) -> dict[tuple[str, str], np.ndarray]:  # fmt: skip
    """The cost metrics of ``periods`` under ``scenario.costs``: (period, metric) -> values.

    ``drivers`` are :func:`cost_drivers`' (scalars, or arrays with one value per
    replication); ``metrics`` hold ``revenue``, ``mqls``, ``sqls`` and ``wins`` per period.
    """
    c = scenario.costs
    out: dict[tuple[str, str], np.ndarray] = {}
    for p in periods:

        def d(name: str, p: str = p) -> np.ndarray:
            return np.asarray(drivers[(p, name)], dtype=np.float64)

        months = d("months")
        revenue = np.asarray(metrics[(p, "revenue")], dtype=np.float64)
        people = np.zeros_like(revenue)
        for team in scenario.team_names():
            tc = c.team(team)
            v = (d(f"rep_months_{team}") * tc.rep_cost_per_month_amount
                 + d(f"hires_{team}") * (tc.hire_cost_amount + tc.ramp_cost_amount))
            out[(p, f"cost_team_{team}")] = v + 0.0 * revenue
            people = people + v
        marketing = np.zeros_like(revenue)
        for ch in scenario.channel_names():
            cc = c.channel(ch)
            v = d(f"leads_{ch}") * cc.cost_per_lead_amount + months * cc.fixed_per_month_amount
            out[(p, f"cost_channel_{ch}")] = v + 0.0 * revenue
            marketing = marketing + v
        ae = months * scenario.ae.count * c.ae.rep_cost_per_month_amount + 0.0 * revenue
        commission = c.ae.commission_share * revenue
        people = people + ae + commission
        total = people + marketing
        sdr_months = sum((d(f"rep_months_{t}") for t in scenario.team_names()),
                         start=np.zeros_like(revenue))  # fmt: skip
        for name, value in (
            ("cost_ae", ae), ("cost_commission", commission), ("cost_people", people),
            ("cost_marketing", marketing), ("cost_total", total),
            ("gross_profit", revenue - total), ("return_on_spend", _ratio(revenue, total)),
            ("cost_per_mql", _ratio(total, np.asarray(metrics[(p, "mqls")], np.float64))),
            ("cost_per_sql", _ratio(total, np.asarray(metrics[(p, "sqls")], np.float64))),
            ("cac", _ratio(total, np.asarray(metrics[(p, "wins")], np.float64))),
            ("revenue_per_ae_month", _ratio(revenue, months * scenario.ae.count)),
            ("revenue_per_sdr_month", _ratio(revenue, sdr_months)),
        ):  # fmt: skip
            out[(p, name)] = value
    return out


def expected_monthly_cost(scenario: Scenario, revenue_per_month: float = 0.0
                          ) -> dict[str, float]:  # fmt: skip
    """The plan's cost per month of the measured window before simulating, in currency:
    ``cost_team_<team>``, ``cost_channel_<channel>``, ``cost_ae``, ``cost_commission`` and
    ``cost_total``.

    Headcount is the certain part of the capacity plan (reps, and hires from their start
    dates; no attrition), leads are ``leads_per_month`` per channel (the mean the arrival
    process is scaled to), commission is ``commission_share`` x ``revenue_per_month``.
    """
    win = window_for(scenario)
    plan = capacity_plan(scenario)
    n = win.n_months
    c = scenario.costs
    out: dict[str, float] = {}
    for ti, team in enumerate(scenario.team_names()):
        tc = c.team(team)
        spans = np.asarray(plan[ti], dtype=np.float64).reshape(-1, 2)
        rep_months = 0.0
        for p in win.months:
            lo, hi = np.maximum(spans[:, 0], p.start_h), np.minimum(spans[:, 1], p.end_h)
            rep_months += float(np.clip(hi - lo, 0, None).sum()) / month_hours(win.origin, p)
        hires = float(np.count_nonzero((spans[:, 0] >= win.start_h) & (spans[:, 0] < win.end_h)))
        out[f"cost_team_{team}"] = (rep_months * tc.rep_cost_per_month_amount + hires * (
            tc.hire_cost_amount + tc.ramp_cost_amount)) / n
    for ch in scenario.channels:
        cc = c.channel(ch.name)
        out[f"cost_channel_{ch.name}"] = (ch.leads_per_month * cc.cost_per_lead_amount
                                          + cc.fixed_per_month_amount)
    out["cost_ae"] = scenario.ae.count * c.ae.rep_cost_per_month_amount
    out["cost_commission"] = c.ae.commission_share * revenue_per_month
    out["cost_total"] = sum(out.values())
    return out
