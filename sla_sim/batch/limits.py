"""What a request may cost: memory and CPU time estimated before anything runs.

A request (``run``, ``compare``, ``sweep``, a notebook call) is refused with a
:class:`~sla_sim.errors.ScenarioError` naming the field that makes it too big when its
estimate is above a limit. The limits are settings the user can raise:

* ``SLA_SIM_MAX_MEMORY_GB`` (or ``--max-memory-gb``): memory the request may take at once,
  all worker processes together (default: 80 % of this machine's memory, at most 16 GB);
* ``SLA_SIM_MAX_CPU_HOURS`` (or ``--max-cpu-hours``): simulated CPU time of the whole request
  (default 24 CPU-hours).

The estimate is deliberately simple and errs high. Its constants were measured on the default
preset (3 measured months, 90-day warm-up, Python 3.11, one core of a 2-core machine): about
24 microseconds and 1.5 to 2.5 kB of peak memory per simulated lead, a worker process of about
200 MB before it simulates anything, and one float per period and metric per replication kept
for the results table.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from sla_sim.errors import Issue, ScenarioError

__all__ = ["Estimate", "Limits", "check_cost", "estimate", "leads_per_replication"]

MEMORY_ENV = "SLA_SIM_MAX_MEMORY_GB"
CPU_ENV = "SLA_SIM_MAX_CPU_HOURS"
DEFAULT_MAX_MEMORY_GB = 16.0
DEFAULT_MAX_CPU_HOURS = 24.0

#: Measured on the default preset (see the module docstring); rounded up.
CPU_SECONDS_PER_LEAD = 30e-6
BYTES_PER_LEAD = 3_000
WORKER_BASE_BYTES = 200 * 2**20
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

    def describe(self) -> str:
        """One line for a message."""
        return (f"about {self.memory_bytes / 2**30:,.3g} GB of memory and"
                f" {self.cpu_seconds / 3600:,.3g} CPU-hours ({self.replications:,.0f} replications"
                f" of {self.leads_per_replication:,.0f} leads)")  # fmt: skip


def leads_per_replication(scenario: object) -> float:
    """Leads simulated by one replication: monthly leads of every channel over the warm-up and
    the measured months (seasonality and campaigns average out; the estimate errs high)."""
    horizon = scenario.horizon  # type: ignore[attr-defined]
    months = horizon.measure_months + horizon.warmup_days / DAYS_PER_MONTH
    total = 0.0
    for c in scenario.channels:  # type: ignore[attr-defined]
        total += float(c.leads_per_month)
    return total * months


def estimate(scenario: object, replications: float, workers: int = 1, scenarios: int = 1,
             points: float = 0) -> Estimate:  # fmt: skip
    """The cost of ``replications`` of each of ``scenarios`` like ``scenario`` on ``workers``
    processes (``points``: sweep points validated before running)."""
    leads = leads_per_replication(scenario)
    months = scenario.horizon.measure_months  # type: ignore[attr-defined]
    per_rep_bytes = WORKER_BASE_BYTES + BYTES_PER_LEAD * leads
    concurrent = max(1, min(workers, replications * scenarios))
    n = replications * scenarios
    results = n * METRICS_PER_PERIOD * (months + 1) * BYTES_PER_RESULT_VALUE
    cpu = n * (0.01 + CPU_SECONDS_PER_LEAD * leads) + points * SECONDS_PER_POINT
    return Estimate(concurrent * per_rep_bytes + results, cpu, leads, n)


def check_cost(scenario: object, replications: float, workers: int = 1, scenarios: int = 1,
               points: float = 0, field: str = "--reps", limits: Limits | None = None
               ) -> Estimate:  # fmt: skip
    """Refuse a request whose estimate is above the limits, naming what makes it big.

    ``field`` names the option that sets the size of the request (``--reps``, ``--samples``...).
    Returns the estimate when the request is within the limits.
    """
    limits = limits or Limits.current()
    est = estimate(scenario, replications, workers, scenarios, points)
    issues = []
    one_rep = WORKER_BASE_BYTES + BYTES_PER_LEAD * est.leads_per_replication
    raise_mem = (f"raise the limit ({limits.memory_gb:g} GB) with --max-memory-gb or"
                 f" ${MEMORY_ENV}")  # fmt: skip
    raise_cpu = (f"raise the limit ({limits.cpu_hours:g} CPU-hours) with --max-cpu-hours or"
                 f" ${CPU_ENV}")  # fmt: skip
    if not math.isfinite(est.memory_bytes) or not math.isfinite(est.cpu_seconds):
        issues.append(Issue(field, "the request is too large to estimate", replications))
    elif one_rep > limits.memory_gb * 2**30:
        issues.append(Issue("channels[].leads_per_month",
                            f"one replication would simulate {est.leads_per_replication:,.0f}"
                            f" leads and need about {one_rep / 2**30:,.3g} GB; lower the leads"
                            f" or the horizon, or {raise_mem}",
                            est.leads_per_replication))  # fmt: skip
    elif est.memory_bytes > limits.memory_gb * 2**30:
        what = "--workers" if workers > 1 and one_rep * workers > limits.memory_gb * 2**30 / 2 \
            else field
        issues.append(Issue(what, f"the request would need {est.describe()}; {raise_mem}",
                            workers if what == "--workers" else replications))  # fmt: skip
    if not issues and est.cpu_seconds > limits.cpu_hours * 3600:
        issues.append(Issue(field, f"the request would need {est.describe()}; {raise_cpu}",
                            replications))  # fmt: skip
    if issues:
        raise ScenarioError(issues, "request (over the cost limits)")
    return est


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
