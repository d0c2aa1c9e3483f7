"""Analytic references for validating the funnel model: queueing formulas and reductions.

:mod:`sla_sim.analysis.queueing` gives Erlang-C (M/M/c) numbers; :mod:`sla_sim.analysis.reductions`
builds scenarios that reduce the funnel to cases with those known answers.
"""

from __future__ import annotations

from sla_sim.analysis.queueing import (
    erlang_b,
    erlang_c,
    mmc_mean_queue_length,
    mmc_mean_wait,
    mmc_wait_cdf,
    utilisation,
)
from sla_sim.analysis.reductions import (
    measure_months_for,
    measure_span_hours,
    mmc_scenario,
    unlimited_capacity_scenario,
)

__all__ = [
    "erlang_b",
    "erlang_c",
    "measure_months_for",
    "measure_span_hours",
    "mmc_mean_queue_length",
    "mmc_mean_wait",
    "mmc_scenario",
    "mmc_wait_cdf",
    "unlimited_capacity_scenario",
    "utilisation",
]
