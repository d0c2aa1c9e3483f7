"""The commitments of a recommendation, each with P(met) per month and a certification.

A commitment is *met* only when its one-sided 90 % Wilson lower bound of P(met) clears the
confidence ``c`` in every month (:func:`status_of`); a commitment whose simulated months all
reach ``c`` but whose bound does not is "not certified at N replications", and the run facts
say how many replications would certify it (:func:`reps_to_certify`). Nothing is loosened to
make a commitment pass: at confidence 0.99 the handoff window is chosen on the point estimate
and reported uncertified rather than widened to the loosest window of the menu.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sla_sim.horizon import window_for
from sla_sim.metrics import basis_months
from sla_sim.metrics.docs import CLAUSE_LABELS
from sla_sim.metrics.numbers import prob
from sla_sim.recommend.search import (
    STOP_LEVEL,
    CellP,
    Evaluator,
    met_matrix,
    per_month,
    reps_to_certify,
)
from sla_sim.scenario.schema import Scenario, SLASpec

#: The AE capacity clause: mean AE business hours (``ae.calendar``) an SQL waits for its
#: opportunity to open (an AE free to sell, with a free opportunity slot): one working day.
AE_WAIT_BUSINESS_HOURS = 8.0
#: Handoff windows tried for marketing's handoff commitment, clock hours.
HANDOFF_MENU = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 24.0)


#: The clauses of a recommendation in words (chart and document labels).
CLAUSE_WORDS = CLAUSE_LABELS


@dataclass
class Commitment:
    """One commitment: who owes it, what, how often it is met per month, and whether the
    simulation certifies it (``status``: 'met', 'not certified at N replications', 'not met')."""

    side: str
    clause: str
    statement: str
    target: float
    unit: str
    clock: str
    period: str
    basis: str
    p_met: list[CellP]  # one per month
    months: list[str]
    how: str
    status: str = "met"

    @property
    def p_met_min(self) -> CellP:
        """The month with the lowest P(met) (the binding month)."""
        judged = [c for c in self.p_met if c.n > 0]
        return min(judged, key=lambda c: c.p) if judged else CellP(0, 0, 0.0, 1.0)

    @property
    def certified(self) -> bool:
        """True when the lower confidence bound clears the confidence in every month."""
        return self.status == "met"


def status_of(ind: np.ndarray, c: float, reps: int) -> str:
    """'met' when every month's one-sided 90 % Wilson lower bound of P(met) is >= ``c``;
    'not certified at N replications' when every point estimate is, but not every bound;
    'not met' otherwise (``ind``: replications x months, 1 met, 0 breached, NaN not judged)."""
    cells = [x for x in per_month(ind, STOP_LEVEL) if x.n]
    if all(x.low >= c for x in cells):
        return "met"
    if all(x.p >= c for x in cells):
        return f"not certified at {reps} replications"
    return "not met"


def quantile_lower_bound(x: np.ndarray, q: float, level: float = 0.9) -> float:
    """A distribution-free lower confidence bound (at ``level``) of the ``q`` quantile of the
    values ``x`` (NaN ignored): the k-th smallest, with the largest k such that
    P(Binomial(n, q) >= k) >= level, so that with probability >= level it lies below the
    true quantile. Falls back to the smallest value when n is too small for that level."""
    from scipy import stats

    v = np.sort(x[~np.isnan(x)])
    if not len(v):
        return float("nan")
    k = 1
    while k < len(v) and stats.binom.sf(k, len(v), q) >= level:  # P(B >= k+1)
        k += 1
    return float(v[k - 1])


def ae_wait_hours(ev: Evaluator, vals: np.ndarray) -> np.ndarray:
    """(replications x months) mean AE business hours the month's SQLs waited for their
    opportunity to open (0 in a month without SQLs)."""
    w = np.column_stack([ev.column(vals, "ae_wait_business_hours_mean", m)
                         for m in ev.months()])  # fmt: skip
    return np.where(np.isnan(w), 0.0, w)


def ae_met(ev: Evaluator, vals: np.ndarray) -> np.ndarray:
    """(replications x months) 1 if SQLs waited on average at most AE_WAIT_BUSINESS_HOURS."""
    return (ae_wait_hours(ev, vals) <= AE_WAIT_BUSINESS_HOURS).astype(float)


def build(ev: Evaluator, final: Scenario, vals: np.ndarray, sc1: Scenario, kept: dict[str, Any],
          c: float, reps: int, days: np.ndarray, hand_slas: dict[float, SLASpec],
          notes: list[str]
          ) -> tuple[list[Commitment], dict[str, Any]]:  # fmt: skip
    """Every commitment at the final staffing, and facts: the recommended SLA (``sla``) and
    the MQLs per month the revenue target needs on average (``mqls_needed``)."""
    months = ev.months()
    mqls = np.column_stack([ev.column(vals, "mqls", m) for m in months])
    win = window_for(sc1)
    basis_factor = np.array([basis_months(win, sc1, p)[sc1.sla.mql_commitment_basis]
                             for p in win.months])  # fmt: skip
    norm = mqls / basis_factor
    rev = np.column_stack([ev.column(vals, "revenue", m) for m in months])
    tgt = np.column_stack([ev.column(vals, "revenue_target", m) for m in months])
    # the MQLs the target needs on average: simulated MQLs per unit of revenue x the target
    mqls_needed = (float(norm.mean() * (tgt / basis_factor).mean() / (rev / basis_factor).mean())
                   if rev.mean() > 0 and tgt.mean() > 0 else 0.0)
    if kept["mql"]:
        mql_c = sc1.sla.mql_commitment_per_month
    else:
        mql_c = float(math.floor(min(quantile_lower_bound(norm[:, j], 1 - c)
                                     for j in range(len(months)))))  # fmt: skip
        if mql_c < mqls_needed:
            notes.append(f"The MQL commitment the simulation supports at {c:g} ({mql_c:,.0f})"
                         f" is below the {mqls_needed:,.0f} MQLs per month the revenue target"
                         " needs on average: marketing could meet it while revenue misses.")
    acc = np.column_stack([ev.column(vals, "acceptance_rate", m) for m in months])
    if kept["acceptance"]:
        acc_c = sc1.sla.acceptance_rate_min
    else:
        acc_c = math.floor(100 * min(quantile_lower_bound(acc[:, j], 1 - c)
                                     for j in range(len(months)))) / 100  # fmt: skip
    hand_ind = {h: met_matrix(ev, ev.values(final, s, reps), "handoff")
                for h, s in hand_slas.items()}  # fmt: skip
    if kept["handoff"]:
        hand_c = sc1.sla.handoff_within_hours
        hand_i = met_matrix(ev, vals, "handoff")
    else:
        # the tightest certified window; else the tightest met in the point estimate (more
        # replications would certify it), never a looser one because the bound is short
        cert = [h for h in HANDOFF_MENU if status_of(hand_ind[h], c, reps) == "met"]
        point = [h for h in HANDOFF_MENU if status_of(hand_ind[h], c, reps) != "not met"]
        hand_c = cert[0] if cert else point[0] if point else HANDOFF_MENU[-1]
        if not point:
            notes.append(f"No handoff window up to {HANDOFF_MENU[-1]:g} h is met with P >= {c:g};"
                         " the ops delay (handoff.ops_delay_hours) or batch cadence binds.")
        hand_i = hand_ind[hand_c]
    sla = sc1.sla.model_copy(update={"mql_commitment_per_month": mql_c,
                                     "acceptance_rate_min": acc_c,
                                     "handoff_within_hours": hand_c})  # fmt: skip
    mql_ind = (mqls >= mql_c * basis_factor).astype(float)
    acc_ind = np.where(np.isnan(acc), np.nan, (acc >= acc_c).astype(float))
    basis = sla.mql_commitment_basis
    share = prob(sla.lead_compliance_target)
    clk_ft = "business hours of the owning team's calendar"
    hour_word = "clock hour" if hand_c == 1 else "clock hours"
    rows: list[tuple[str, str, str, float, str, str, str, np.ndarray, str]] = [
        ("marketing", "mql_volume", f"Marketing delivers at least {mql_c:,.0f} MQLs per month"
         f" (scaled to each month by the '{basis}' basis).", mql_c, "MQLs", "calendar", basis,
         mql_ind, f"90% lower confidence bound of the {prob(1 - c)} quantile of simulated monthly"
         " MQLs (per the basis), worst month"),
        ("marketing", "acceptance", f"At least {prob(acc_c)} of the MQLs sales reached and"
         " dispositioned in a month are accepted as SQLs.", acc_c, "share", "calendar",
         "share of reached, dispositioned MQLs", acc_ind, f"90% lower confidence bound of the"
         f" {prob(1 - c)} quantile of simulated monthly acceptance, worst month"),
        ("handoff", "handoff", f"{share} of MQLs are routed to sales within {hand_c:g}"
         f" {hour_word}.", hand_c, "hours", "clock hours", "per lead", hand_i,
         "tightest window of the menu whose one-sided 90% Wilson lower bound of P(met) is >= c"
         " in every month (else the tightest met in every simulated month, not certified)"),
        ("sales", "first_touch", f"{share} of MQLs get a first attempt within"
         f" {sla.first_touch_within_business_hours:g} business hours of the"
         f" {'MQL time' if sla.first_touch_from == 'mql' else 'assignment'}.",
         sla.first_touch_within_business_hours, "business hours", clk_ft, "per lead",
         met_matrix(ev, vals, "first_touch"), "requested term; SDR headcount searched to meet it"),
        ("sales", "attempts", f"{share} of MQLs get {sla.attempts_required} attempts (or are"
         f" reached sooner) within {sla.attempts_within_days:g} days.",
         sla.attempts_within_days, "days", "clock days", "per lead",
         met_matrix(ev, vals, "attempts"), "requested term; SDR headcount searched to meet it"),
        ("sales", "disposition", f"{share} of MQLs are dispositioned within"
         f" {sla.disposition_within_days:g} days.", sla.disposition_within_days, "days",
         "clock days", "per lead", met_matrix(ev, vals, "disposition"),
         "requested term; SDR headcount searched to meet it"),
        ("sales", "ae_capacity", f"SQLs wait on average at most {AE_WAIT_BUSINESS_HOURS:g} AE"
         " business hours for their opportunity to open (an AE free to sell).",
         AE_WAIT_BUSINESS_HOURS, "business hours", "AE business hours",
         "mean over the month's SQLs", ae_met(ev, vals),
         "AE headcount searched to meet it"),
    ]
    comms = [Commitment(side, cl, text, tgt_v, unit, clock, "month", basis_txt, per_month(ind),
                        months, how, status_of(ind, c, reps))
             for side, cl, text, tgt_v, unit, clock, basis_txt, ind, how in rows]  # fmt: skip
    return comms, {"sla": sla, "mqls_needed": mqls_needed}


def term_text(value: float, unit: str) -> str:
    """A commitment's term as the SLA document states it, on every screen: ``31 %`` for a
    share, ``1,933 MQLs``, ``4 business hours``."""
    if unit == "share":
        return prob(value)
    if unit == "MQLs":
        return f"{value:,.0f} MQLs"
    return f"{value:g} {unit}"


__all__ = ["AE_WAIT_BUSINESS_HOURS", "HANDOFF_MENU", "Commitment", "ae_met", "ae_wait_hours",
           "build", "quantile_lower_bound", "reps_to_certify", "status_of", "term_text"]
