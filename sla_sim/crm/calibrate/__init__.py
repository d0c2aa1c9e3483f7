"""Calibrate a scenario from a CRM export, with right-censoring handled.

Every parameter the export identifies is fitted with a 95% interval and its provenance (the
fields and counts it rests on, the method); every other parameter keeps the base scenario's
value and is listed as such. Leads still open at ``exported_at`` are censored observations:

- conversion of opportunities to won / lost / still open is a competing-risks problem:
  Aalen-Johansen cumulative incidence (:func:`~sla_sim.crm.survival.aalen_johansen`); the win
  rate is the won share of the closed incidence at the longest follow-up;
- durations (sales cycle, handoff delay) are censored maximum-likelihood fits
  (:func:`~sla_sim.crm.survival.censored_fit`); with no lost outcomes at all (a table of won
  deals only), a mixture cure model gives P(ever won) and the time to win;
- the naive estimates (won / all SQLs, cycle of closed deals only) are computed too and shown
  beside the censored ones in ``calibration.json`` - never used.

What comes from where (scenario path: export fields):

=====================================  ===========================================
channels[*].leads_per_month            created_at, channel (exposure to exported_at)
arrivals.weekday/hour_weights          created_at (local time)
arrivals.daily_volume_cv               created_at per day and channel
channels[*].score_alpha/beta           score;  mql_threshold_points: score, mql_at
channels[*].segment_mix                segment
handoff.ops_delay_hours                mql_at, routed_at (realtime handoff)
follow_up.contact.*                    activities: time since MQL, attempt number, outcome
follow_up.attempt_minutes              activity_duration_minutes
channels[*].sql_rate, score slope      reached leads' dispositions (sql_at vs disqualified /
                                       recycled), score
follow_up.disqualify_share             disqualified_at vs recycled_at of reached leads
channels[*].win_rate                   opportunity_opened_at, closed_at, stage
channels[*].cycle_days                 opportunity_opened_at, closed_at (censored)
channels[*].deal_value                 amount of won deals
teams[*].reps, calendar hours          activity owners and times (or lead owners)
ae.count                               opportunity_owner
ae.selling_hours_per_opportunity       0 when opportunity_owner counts the AEs (see
                                       :meth:`.capacity.Capacity.free_selling_hours`)
=====================================  ===========================================

The steps live in one module each, by what they estimate: :mod:`.volumes` (volumes and
profiles), :mod:`.timing`, :mod:`.outcomes` (with censoring), :mod:`.capacity`, and
:mod:`.scenario` (the calibrated scenario); :mod:`.common` holds what they share.
"""

from __future__ import annotations

from sla_sim.crm.calibrate.capacity import Capacity
from sla_sim.crm.calibrate.common import Calibration, Estimate
from sla_sim.crm.calibrate.outcomes import (
    Outcomes,
    cycle_for_time_to_win,
    fit_won_curve,
    match_won_curve,
)
from sla_sim.crm.calibrate.scenario import Build, write_calibration
from sla_sim.crm.calibrate.timing import Timing
from sla_sim.crm.calibrate.volumes import Volumes
from sla_sim.crm.load import CrmExport
from sla_sim.scenario import Scenario

__all__ = ["Calibration", "Estimate", "calibrate", "cycle_for_time_to_win", "fit_won_curve",
           "match_won_curve", "write_calibration"]


# ---------------------------------------------------------------------------------- calibrate
def calibrate(export: CrmExport, base: Scenario, name: str | None = None) -> Calibration:
    """Fit every parameter ``export`` identifies onto a copy of ``base`` (see the module doc)."""
    cal = _Calibrator(export, base)
    cal.run()
    sc = cal.build(name or f"{base.name}_calibrated")
    sc = cal.free_selling_hours(sc)  # before the won-curve probe: it simulates the AEs too
    if getattr(cal, "cure", None) is not None and "sql_at" not in cal.H:
        sc = cal.match_won_curve(sc, name or f"{base.name}_calibrated")
    return Calibration(sc, cal.est, cal.kept(), cal.naive, export.report(), cal.checks)


class _Calibrator(Volumes, Timing, Outcomes, Capacity, Build):
    """Every step of the calibration, by what it estimates (one module each)."""
