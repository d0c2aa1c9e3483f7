"""Scenario builders that reduce the funnel to cases with known answers.

* :func:`mmc_scenario` turns the SDR stage into an M/M/c queue: Poisson MQLs, ``c`` reps that
  work one lead at a time on a 24/7 calendar, one exponential attempt per lead that always
  reaches the lead, FIFO queueing for a free rep. A lead's queue wait is then the time from its
  ``routed`` event to its first ``attempt`` event (equivalently to its ``assigned`` event), and
  its distribution is given by Erlang C (:mod:`sla_sim.analysis.queueing`).
* :func:`unlimited_capacity_scenario` keeps a scenario's funnel (arrivals, scores, contact and
  qualification rates, cadence, sales economics) but removes every capacity limit, so that
  conversions can be checked against the product of the stage rates.

Both return ordinary validated :class:`~sla_sim.scenario.schema.Scenario` objects, run like
any other.
"""

from __future__ import annotations

import datetime as dt
import math
from numbers import Integral, Real
from typing import Any

from sla_sim.calendar import CalendarSpec
from sla_sim.model.arrivals import HOURS_PER_MONTH
from sla_sim.scenario.distributions import Constant, Exponential
from sla_sim.scenario.io import validate
from sla_sim.scenario.schema import (
    AESpec,
    ArrivalProfile,
    ChannelSpec,
    ContactSpec,
    FollowUpSpec,
    HandoffSpec,
    HorizonSpec,
    Scenario,
    SLASpec,
    TeamSpec,
)

__all__ = [
    "MMC_MEASURE_START",
    "UNLIMITED_AES",
    "UNLIMITED_REPS",
    "UNLIMITED_SLOTS",
    "measure_months_for",
    "measure_span_hours",
    "mmc_scenario",
    "unlimited_capacity_scenario",
]

MMC_MEASURE_START = dt.date(2026, 1, 1)
"""First measured day of every M/M/c scenario (UTC, so no daylight-saving hour is lost)."""
MAX_MEASURE_MONTHS = 24  # HorizonSpec.measure_months upper bound
MAX_REPS = 500  # TeamSpec.reps / AESpec.count upper bound
UNLIMITED_REPS = MAX_REPS
UNLIMITED_AES = MAX_REPS
UNLIMITED_SLOTS = 1_000_000
"""Leads per SDR and open opportunities per AE in :func:`unlimited_capacity_scenario`."""


def _add_months(d: dt.date, months: int) -> dt.date:
    m = d.month - 1 + months
    return d.replace(year=d.year + m // 12, month=m % 12 + 1)


def measure_span_hours(months: int, start: dt.date = MMC_MEASURE_START) -> float:
    """Hours in ``months`` whole calendar months from ``start`` (UTC: 24 h a day)."""
    return float((_add_months(start, months) - start).days * 24)


def measure_months_for(hours: float, start: dt.date = MMC_MEASURE_START) -> int:
    """Smallest number of whole calendar months from ``start`` spanning at least ``hours``.

    The horizon schema counts the measured period in whole months, so a requested span is
    rounded *up* to the next month end: the result covers ``hours`` plus less than one month
    (at most 744 h more). Raises ValueError beyond the schema's 24 months.
    """
    if isinstance(hours, bool) or not isinstance(hours, Real) or not math.isfinite(hours):
        raise ValueError(f"hours must be a finite number, got {hours!r}")
    if hours <= 0:
        raise ValueError(f"hours must be > 0, got {hours!r}")
    for m in range(1, MAX_MEASURE_MONTHS + 1):
        if measure_span_hours(m, start) >= hours:
            return m
    span = measure_span_hours(MAX_MEASURE_MONTHS, start)
    raise ValueError(
        f"hours must be <= {span} (the {MAX_MEASURE_MONTHS}-month maximum horizon from"
        f" {start}), got {hours!r}"
    )


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return float(value)


def mmc_scenario(
    lam_per_h: float, mu_per_h: float, c: int, hours: float, warmup_days: int = 0
) -> Scenario:
    """A scenario whose SDR stage is an M/M/c queue with arrival rate ``lam_per_h`` MQLs per
    hour, ``c`` reps and mean service ``1 / mu_per_h`` hours.

    Horizon: ``warmup_days`` simulated days, then a measured period of
    ``measure_months_for(hours)`` whole months starting 2026-01-01 in UTC, i.e. ``hours``
    rounded up to a month end. The whole run (warm-up included) is the M/M/c queue started
    empty; the warm-up only moves the start of what sla_sim's metrics call the measured window.

    The reduction, field by field: one channel with ``leads_per_month = lam * HOURS_PER_MONTH``
    and flat weekday/hour/month profiles, no day-to-day over-dispersion and no bursts (so
    arrivals are a homogeneous Poisson process); every lead is an MQL at creation
    (``mql_threshold_points = 0``) and is routed at once (real-time handoff, zero ops delay);
    one team of ``c`` reps on an always-open calendar with no shrinkage and
    ``max_active_leads = 1`` (a rep works one lead at a time, the others wait in the team's
    FIFO queue); one attempt per lead taking ``Exponential(mean = 60 / mu)`` minutes and always
    reaching the lead (``p_initial = p_floor = 1``, ``attempt_decay = 1``); a reached lead is
    disqualified (``disqualify_share = 1``, score slope 0, ``sql_rate = 1e-9``), so it frees the
    rep and never re-enters the queue as a recycled episode; the AE pool is effectively
    unlimited. ``sla.attempts_required`` is 1 (the schema requires it to be at most the number
    of attempts); the other SLA fields keep their defaults.

    Arrival stability (``lam < c mu``) is not required: an overloaded queue is a valid
    simulation, it just has no steady state to compare with.
    """
    lam = _positive("lam_per_h", lam_per_h)
    mu = _positive("mu_per_h", mu_per_h)
    if isinstance(c, bool) or not isinstance(c, Integral) or not 1 <= c <= MAX_REPS:
        raise ValueError(f"c must be an integer in [1, {MAX_REPS}], got {c!r}")
    if isinstance(warmup_days, bool) or not isinstance(warmup_days, Integral) or warmup_days < 0:
        raise ValueError(f"warmup_days must be an integer >= 0, got {warmup_days!r}")
    months = measure_months_for(hours)
    open_utc = CalendarSpec(timezone="UTC", always_open=True)
    channel = ChannelSpec(
        name="mql", leads_per_month=lam * HOURS_PER_MONTH, score_alpha=1.0, score_beta=1.0,
        sql_rate=1e-9, win_rate=0.5, cycle_days=Constant(value=1.0),
        deal_value=Constant(value=0.0),
    )  # fmt: skip
    return Scenario(
        name=f"mmc_lam{lam:g}_mu{mu:g}_c{int(c)}",
        description=f"M/M/c reduction: Poisson MQLs at {lam:g}/h, {int(c)} reps each working"
        f" one lead at a time, exponential service with mean {60 / mu:g} min, FIFO queue.",
        horizon=HorizonSpec(measure_start=MMC_MEASURE_START, measure_months=months,
                            warmup_days=int(warmup_days), timezone="UTC"),
        channels=[channel],
        arrivals=ArrivalProfile(weekday_weights=[1.0] * 7, hour_weights=[1.0] * 24,
                                month_weights=[1.0] * 12, daily_volume_cv=0.0, bursts=[]),
        mql_threshold_points=0.0,
        handoff=HandoffSpec(mode="realtime", ops_delay_hours=Constant(value=0.0)),
        marketing_calendar=open_utc,
        teams=[TeamSpec(name="sdr", reps=int(c), calendar=open_utc, shrinkage=0.0,
                        max_active_leads=1)],
        follow_up=FollowUpSpec(
            cadence_days=[0.0], attempt_minutes=Exponential(mean=60.0 / mu),
            contact=ContactSpec(p_initial=1.0, p_floor=1.0, attempt_decay=1.0),
            score_slope_per_10_points=0.0, disqualify_share=1.0,
        ),
        ae=AESpec(count=UNLIMITED_AES, max_open_opportunities=UNLIMITED_SLOTS),
        sla=SLASpec(attempts_required=1),
    )  # fmt: skip


def unlimited_capacity_scenario(base: Scenario) -> Scenario:
    """``base`` with effectively unlimited SDR and AE capacity; the funnel is unchanged.

    Every team gets the schema maximum of reps (500), ``UNLIMITED_SLOTS`` leads per rep, no
    shrinkage and an always-open calendar (same time zone); the AE pool gets 500 AEs with
    ``UNLIMITED_SLOTS`` open opportunities each and no selling time. Nothing ever queues, so an
    MQL's first attempt starts when it is routed (a rep can still be mid-attempt on another lead
    for a few minutes, which is rare with 500 reps), later attempts start exactly on the
    cadence, and SQLs open an opportunity at once. Arrivals, scores, nurture, handoff, contact
    curve, cadence, qualification and sales economics are those of ``base``.
    """
    data = base.model_dump(mode="python")
    data["name"] = f"{base.name}_unlimited"
    for team in data["teams"]:
        team["reps"] = UNLIMITED_REPS
        team["max_active_leads"] = UNLIMITED_SLOTS
        team["shrinkage"] = 0.0
        team["calendar"]["always_open"] = True
    data["ae"] = {"count": UNLIMITED_AES, "max_open_opportunities": UNLIMITED_SLOTS,
                  "selling_hours_per_opportunity": 0.0}
    return validate(data)
