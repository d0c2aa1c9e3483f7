"""What a request may cost: memory and CPU time estimated before anything runs.

A request (``run``, ``compare``, ``sweep``, ``recommend``, ``review``, ``backtest``, a
notebook call) is refused with a :class:`~sla_sim.errors.ScenarioError` naming the field that
makes it too big when its estimate is above a limit. Every input that scales work counts: the
channels' monthly leads, campaign bursts (multiplier x duration, overlaps multiplied), the reps
of every team (hires, backfills), the replications asked for, and targets that scale volumes
(the caller passes the scaled scenario and names the target). The limits are settings the user
can raise (docs/limits.md):

* ``SLA_SIM_MAX_MEMORY_GB`` (or ``--max-memory-gb``): memory the request may take at once,
  all worker processes together (default: 80 % of this machine's memory, at most 16 GB);
* ``SLA_SIM_MAX_CPU_HOURS`` (or ``--max-cpu-hours``): simulated CPU time of the whole request
  (default 24 CPU-hours).

The estimate is deliberately simple and errs high. Its constants were measured on the default
preset (3 measured months, 90-day warm-up, Python 3.11, one core of a 2-core machine): about
24 microseconds and 1.5 to 2.5 kB of peak memory per simulated lead, a worker process of about
200 MB before it simulates anything, and one float per period and metric per replication kept
for the results table. Reps were measured with 2,000 to 10,000 hired SDRs on the shortened
default scenario (51 days): about 4 microseconds and 430 bytes per rep and simulated day
(working calendars, presence rows, the rep's process).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
from dataclasses import dataclass
from typing import Any

from sla_sim.errors import Issue, ScenarioError
from sla_sim.horizon import horizon_hours

__all__ = ["Estimate", "Limits", "check_cost", "check_workers", "estimate", "leads_per_replication",
           "rep_days_per_replication", "work_sources"]

MEMORY_ENV = "SLA_SIM_MAX_MEMORY_GB"
CPU_ENV = "SLA_SIM_MAX_CPU_HOURS"
DEFAULT_MAX_MEMORY_GB = 16.0
DEFAULT_MAX_CPU_HOURS = 24.0

#: Measured on the default preset (see the module docstring); rounded up.
CPU_SECONDS_PER_LEAD = 30e-6
BYTES_PER_LEAD = 3_000
WORKER_BASE_BYTES = 200 * 2**20
#: Measured with thousands of hired reps (see the module docstring); rounded up.
CPU_SECONDS_PER_REP_DAY = 6e-6
BYTES_PER_REP_DAY = 600
#: Periods x metrics kept per replication: about 51 metrics per period, tidy rows of ~48 bytes.
BYTES_PER_RESULT_VALUE = 48
METRICS_PER_PERIOD = 60
#: Seconds to validate one sweep point before anything runs.
SECONDS_PER_POINT = 0.01
DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class Limits:
    """The most a request may cost: memory at once (GB) and CPU time in all (CPU-hours)."""

    memory_gb: float
    cpu_hours: float

    @classmethod
    def current(cls) -> Limits:
        """The limits from the environment (``SLA_SIM_MAX_MEMORY_GB``, ``SLA_SIM_MAX_CPU_HOURS``)
        or the defaults."""
        return cls(_env_float(MEMORY_ENV, _default_memory_gb()),
                   _env_float(CPU_ENV, DEFAULT_MAX_CPU_HOURS))  # fmt: skip


@dataclass(frozen=True)
class Estimate:
    """What a request is expected to cost."""

    memory_bytes: float
    cpu_seconds: float
    leads_per_replication: float
    replications: float
    rep_days: float = 0.0

    @property
    def one_replication_bytes(self) -> float:
        """Peak memory of one worker simulating one replication."""
        return (WORKER_BASE_BYTES + BYTES_PER_LEAD * self.leads_per_replication
                + BYTES_PER_REP_DAY * self.rep_days)  # fmt: skip

    @property
    def one_replication_seconds(self) -> float:
        """CPU time of one replication."""
        return (0.01 + CPU_SECONDS_PER_LEAD * self.leads_per_replication
                + CPU_SECONDS_PER_REP_DAY * self.rep_days)  # fmt: skip

    def describe(self) -> str:
        """One line for a message."""
        return (f"about {about(self.memory_bytes / 2**30)} GB of memory and"
                f" {about(self.cpu_seconds / 3600)} CPU-hours ({self.replications:,.0f}"
                f" replications of {self.leads_per_replication:,.0f} leads and {self.rep_days:,.0f}"
                " rep-days)")  # fmt: skip


def about(x: float) -> str:
    """A size or a time for a message: three significant digits, never scientific notation
    (``1,074`` GB, not ``1.07e+03``; ``0.0002``, not ``2e-04``)."""
    if not math.isfinite(x):
        return f"{x}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    text = f"{x:.3g}"
    return f"{x:.6f}".rstrip("0").rstrip(".") if "e" in text else text


def _days(scenario: object) -> float:
    """Simulated days of one replication (warm-up and measured months)."""
    return horizon_hours(scenario)[2] / 24.0


def work_sources(scenario: object) -> list[tuple[str, float, float, float]]:
    """What makes one replication big: (field, its value, leads, rep-days) per source.

    Sources are each channel's ``leads_per_month`` (the leads it brings at rate 1), each
    campaign burst (the extra leads it brings, overlapping bursts of a channel multiplied as
    the model does), each team's ``reps`` and each team's ``hires`` (with backfills of
    leavers, all counted present for the whole horizon: the estimate errs high).
    """
    days = _days(scenario)
    out: list[tuple[str, float, float, float]] = []
    bursts = list(scenario.arrivals.bursts)  # type: ignore[attr-defined]
    season = season_factor(scenario)
    for i, c in enumerate(scenario.channels):  # type: ignore[attr-defined]
        per_day = float(c.leads_per_month) / DAYS_PER_MONTH * season
        out.append((f"channels[{i}].leads_per_month", c.leads_per_month, per_day * days, 0.0))
        mine = [(j, b) for j, b in enumerate(bursts) if b.channel == c.name]
        extra = _burst_extra(mine, days)
        for j, x in extra.items():
            out.append((f"arrivals.bursts[{j}].multiplier", bursts[j].multiplier, per_day * x,
                        0.0))  # fmt: skip
    months = days / DAYS_PER_MONTH
    for i, t in enumerate(scenario.teams):  # type: ignore[attr-defined]
        backfill = 1.0 + (t.attrition_per_month * months
                          if t.backfill_delay_days is not None else 0.0)  # fmt: skip
        out.append((f"teams[{i}].reps", t.reps, 0.0, t.reps * backfill * days))
        hired = sum(h.reps for h in t.hires)
        if hired:
            out.append((f"teams[{i}].hires", hired, 0.0, hired * backfill * days))
    return out


def season_factor(scenario: object) -> float:
    """The mean of ``arrivals.month_weights`` (normalised to mean 1 over the year, as the
    model uses them) over the calendar months the horizon covers, each by its days: a horizon
    shorter than a year inside the heavy months simulates up to 12 times the channels' volume
    (the weekday and hour weights average out over the days and weeks of any horizon)."""
    weights = [float(w) for w in scenario.arrivals.month_weights]  # type: ignore[attr-defined]
    mean = sum(weights) / len(weights)
    if mean <= 0 or not math.isfinite(mean) or max(weights) == min(weights):
        return 1.0
    origin, _start, end_h = horizon_hours(scenario)
    day, last = origin.date(), (origin + dt.timedelta(hours=end_h)).date()
    covered = total = 0.0
    while day < last:  # month by month (at most 12 x 9,999 steps)
        nxt = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        n = (min(nxt, last) - day).days
        covered += n * weights[day.month - 1] / mean
        total += n
        day = nxt
    return covered / total if total else 1.0


def _burst_extra(bursts: list[tuple[int, Any]], days: float) -> dict[int, float]:
    """Extra days of channel volume each burst adds inside [0, days): between consecutive
    burst edges the active multipliers multiply (as in the model); a segment's extra is put
    on its largest multiplier, the one to lower."""
    clip = [(j, min(max(b.start_day, 0.0), days),
             min(max(b.start_day + b.duration_days, 0.0), days), float(b.multiplier))
            for j, b in bursts]  # fmt: skip
    edges = sorted({e for _, lo, hi, _ in clip for e in (lo, hi)})
    extra: dict[int, float] = {}
    for lo, hi in itertools.pairwise(edges):
        active = [(m, j) for j, a, b, m in clip if a <= lo and b >= hi]
        gain = (math.prod(m for m, _ in active) - 1.0) * (hi - lo) if active else 0.0
        if gain > 0:
            j = max(active)[1]
            extra[j] = extra.get(j, 0.0) + gain
    return extra


def leads_per_replication(scenario: object) -> float:
    """Leads simulated by one replication: monthly leads of every channel over the warm-up and
    the measured months, weighted by the seasonality of the months covered
    (:func:`season_factor`), plus what campaign bursts add."""
    return sum(s[2] for s in work_sources(scenario))


def rep_days_per_replication(scenario: object) -> float:
    """Rep-days simulated by one replication: every team's reps, hires and backfills."""
    return sum(s[3] for s in work_sources(scenario))


def estimate(scenario: object, replications: float, workers: int = 1, scenarios: int = 1,
             points: float = 0) -> Estimate:  # fmt: skip
    """The cost of ``replications`` of each of ``scenarios`` like ``scenario`` on ``workers``
    processes (``points``: sweep points validated before running)."""
    sources = work_sources(scenario)
    one = Estimate(0.0, 0.0, sum(s[2] for s in sources), 1.0, sum(s[3] for s in sources))
    months = scenario.horizon.measure_months  # type: ignore[attr-defined]
    concurrent = max(1, min(workers, replications * scenarios))
    n = replications * scenarios
    results = n * METRICS_PER_PERIOD * (months + 1) * BYTES_PER_RESULT_VALUE
    cpu = n * one.one_replication_seconds + points * SECONDS_PER_POINT
    return Estimate(concurrent * one.one_replication_bytes + results, cpu,
                    one.leads_per_replication, n, one.rep_days)  # fmt: skip


def check_cost(scenario: object, replications: float, workers: int = 1, scenarios: int = 1,
               points: float = 0, field: str = "--reps", limits: Limits | None = None,
               size: tuple[str, object] | None = None, value: object = None
               ) -> Estimate:  # fmt: skip
    """Refuse a request whose estimate is above the limits, naming what makes it big.

    ``field`` names the option that sets the number of replications (``--reps``,
    ``--samples``...; its ``value`` is shown, by default ``replications``). When one
    replication alone is over a limit, the scenario input that contributes most is named (a
    channel's leads, a burst, a team's hires...), or ``size`` (option, value) when the caller
    scaled the scenario's volumes from an option (``--revenue-target``).
    Returns the estimate when the request is within the limits.
    """
    limits = limits or Limits.current()
    est = estimate(scenario, replications, workers, scenarios, points)
    mem_cap, cpu_cap = limits.memory_gb * 2**30, limits.cpu_hours * 3600
    raise_mem = (f"raise the limit ({limits.memory_gb:g} GB) with --max-memory-gb or"
                 f" ${MEMORY_ENV}")  # fmt: skip
    raise_cpu = (f"raise the limit ({limits.cpu_hours:g} CPU-hours) with --max-cpu-hours or"
                 f" ${CPU_ENV}")  # fmt: skip
    one_mem, one_cpu = est.one_replication_bytes, est.one_replication_seconds
    value = replications if value is None else value
    issue = None
    if not all(map(math.isfinite, (one_mem, one_cpu))):
        what, got = size or _biggest(scenario, math.isinf(est.leads_per_replication))
        issue = Issue(what, "the request is too large to estimate; " + raise_mem, got)
    elif not all(map(math.isfinite, (est.memory_bytes, est.cpu_seconds))):
        issue = Issue(field, "the request is too large to estimate; " + raise_cpu, value)
    elif one_mem > mem_cap or one_cpu > cpu_cap:
        by_leads = BYTES_PER_LEAD * est.leads_per_replication >= BYTES_PER_REP_DAY * est.rep_days
        what, got = size if size is not None and by_leads else _biggest(scenario, by_leads)
        need = (f"{about(one_mem / 2**30)} GB; lower it or the horizon, or {raise_mem}"
                if one_mem > mem_cap else
                f"{about(one_cpu / 3600)} CPU-hours; lower it or the horizon, or {raise_cpu}")
        issue = Issue(what, f"one replication would simulate {est.leads_per_replication:,.0f}"
                      f" leads and {est.rep_days:,.0f} rep-days and need about {need}",
                      got)  # fmt: skip
    elif est.memory_bytes > mem_cap:
        what = "--workers" if workers > 1 and one_mem * workers > mem_cap / 2 else field
        most = _biggest(scenario, BYTES_PER_LEAD * est.leads_per_replication
                        >= BYTES_PER_REP_DAY * est.rep_days)[0]  # fmt: skip
        issue = Issue(what, f"the request would need {est.describe()}, one replication about"
                      f" {about(one_mem / 2**30)} GB (most of it from {most}); lower them, or"
                      f" {raise_mem}", workers if what == "--workers" else value)  # fmt: skip
    elif est.cpu_seconds > cpu_cap:
        issue = Issue(field, f"the request would need {est.describe()}; {raise_cpu}", value)
    if issue is not None:
        raise ScenarioError([issue], "request (over the cost limits)")
    return est


def check_workers(workers: int, field: str = "--workers", limits: Limits | None = None) -> None:
    """Refuse ``workers`` worker processes whose base memory alone (:data:`WORKER_BASE_BYTES`
    each) is over the memory limit, before any starts (a pool kept alive, such as the
    planner's, starts every worker whatever the replications)."""
    limit = (limits or Limits.current()).memory_gb
    if workers * WORKER_BASE_BYTES > limit * 2**30:
        raise ScenarioError([Issue(field, f"{workers:,} worker processes would need about"
                                   f" {about(workers * WORKER_BASE_BYTES / 2**30)} GB before"
                                   " simulating anything; lower it, or raise the limit"
                                   f" ({limit:g} GB) with --max-memory-gb or ${MEMORY_ENV}",
                                   workers)], "request (over the cost limits)")  # fmt: skip


def _biggest(scenario: object, by_leads: bool) -> tuple[str, float]:
    """The scenario input that adds the most leads (or rep-days): (field, value)."""
    k = 2 if by_leads else 3
    path, value, *_ = max(work_sources(scenario), key=lambda s: s[k])
    return path, value


def _default_memory_gb() -> float:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return DEFAULT_MAX_MEMORY_GB
    return min(DEFAULT_MAX_MEMORY_GB, 0.8 * total)


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ScenarioError([Issue(f"${name}", "must be a positive number", raw)], "setting")
    return value
