"""``--keep``: which levers a request freezes, and what the kept levers cannot carry.

With a lever kept (today's SDR team, today's AEs, today's volumes), some clause may not be met
at the requested confidence. :func:`shortfalls` names each such clause with its P(met) in the
worst month, and the tightest term of the same clause that the kept plan does meet (judged on
the same replications, or on a re-judged SLA variant with the same seeds), plus
P(revenue >= target) and the monthly revenue the plan reaches with the revenue confidence.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sla_sim.metrics.numbers import prob
from sla_sim.recommend.commitments import (
    CLAUSE_WORDS,
    HANDOFF_MENU,
    Commitment,
    ae_wait_hours,
    status_of,
    term_text,
)
from sla_sim.recommend.search import Evaluator, met_matrix
from sla_sim.scenario.io import _index, _split
from sla_sim.scenario.schema import Scenario, SLASpec

#: Day windows tried for the attempts and disposition clauses of a kept plan.
DAYS_MENU = (1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 14.0, 21.0, 30.0, 45.0, 60.0)


def kept_levers(keep: tuple[str, ...], sc: Scenario) -> dict[str, Any]:
    """Which levers are frozen: team names (``teams``), and flags ``ae``, ``volumes``,
    ``mql``, ``acceptance``, ``handoff``, and the policy levers ``policy`` (work order and
    assignment), ``coverage`` (a team's calendar or rep calendars), ``cap``
    (``max_active_leads``), ``cadence`` (``follow_up`` or its ``cadence_days``).
    ``teams[NAME]``, ``teams[NAME].reps`` and ``teams`` freeze SDR headcount; ``ae`` and
    ``ae.count`` the AEs; ``channels`` or any channel's ``leads_per_month`` every volume;
    ``sla`` or its field the commitment."""
    parts = [_split(p) for p in keep]
    teams: set[str] = set()
    names = [t.name for t in sc.teams]
    for p in parts:
        if p[0] != "teams":
            continue
        if len(p) == 1:
            teams.update(names)
        elif len(p) == 2 or p[2] == "reps":
            i = _index([t.model_dump() for t in sc.teams], p[1])
            if i is not None:
                teams.add(names[i])
    return {
        "teams": teams,
        "ae": any(p[:2] == ["ae", "count"] or p == ["ae"] for p in parts),
        "volumes": any(p[0] == "channels" and (len(p) <= 2 or p[-1] == "leads_per_month")
                       for p in parts),
        "mql": any(p[:2] in (["sla", "mql_commitment_per_month"], ["sla"]) for p in parts),
        "acceptance": any(p[:2] in (["sla", "acceptance_rate_min"], ["sla"]) for p in parts),
        "handoff": any(p[:2] in (["sla", "handoff_within_hours"], ["sla"]) for p in parts),
        "policy": any(p[0] == "teams" and len(p) == 3 and p[2] in ("work_order", "assignment")
                      for p in parts),
        "coverage": any(p[0] == "teams" and len(p) >= 3 and p[2] in ("calendar",
                                                                     "rep_calendars")
                        for p in parts),
        "cap": any(p[0] == "teams" and len(p) == 3 and p[2] == "max_active_leads"
                   for p in parts),
        "cadence": any(p[:2] in (["follow_up"], ["follow_up", "cadence_days"]) for p in parts),
    }


def any_kept(kept: dict[str, Any]) -> bool:
    """Whether SDRs, AEs or volumes are kept (the plan may then fall short of a clause, so the
    final replications are also judged under :func:`day_variants`)."""
    return bool(kept["teams"] or kept["ae"] or kept["volumes"])


def day_variants(sla: SLASpec) -> list[SLASpec]:
    """The SLA variants :func:`shortfalls` judges for the attempts and disposition clauses
    (add them to the final replications when a lever is kept, so they are judged, not
    simulated again)."""
    return [sla.model_copy(update={f"{cl}_within_days": d})
            for cl in ("attempts", "disposition") for d in DAYS_MENU]


def _tightest_days(ev: Evaluator, final: Scenario, clause: str, field: str, c: float,
                   reps: int) -> float | None:  # fmt: skip
    """The tightest day window of ``clause`` met (certified or in every simulated month)."""
    variants = {d: final.sla.model_copy(update={field: d}) for d in DAYS_MENU}
    ev.ensure([(final, day_variants(final.sla))], reps, desc=f"{clause} terms")
    for d, sla in variants.items():
        if status_of(met_matrix(ev, ev.values(final, sla, reps), clause), c, reps) != "not met":
            return d
    return None


def shortfalls(ev: Evaluator, final: Scenario, vals: np.ndarray, comms: list[Commitment],
               kept: dict[str, Any], c: float, reps: int, days: np.ndarray,
               menu_slas: dict[float, SLASpec], rev: np.ndarray, tgt: np.ndarray,
               rc: float) -> list[dict[str, Any]]:  # fmt: skip
    """Each clause the plan does not meet at ``c`` (and revenue, at ``rc``), with the tightest
    term the plan meets. Empty when everything is met and certified."""
    levers = sorted(kept["teams"]) + [k for k in ("ae", "volumes", "mql", "acceptance",
                                                  "handoff") if kept[k]]  # fmt: skip
    out: list[dict[str, Any]] = []
    for cm in comms:
        if cm.status == "met":
            continue
        tight: float | None = None
        if cm.clause == "first_touch":
            tight = next((h for h in sorted(menu_slas) if status_of(met_matrix(
                ev, ev.values(final, menu_slas[h], reps), "first_touch"), c, reps) != "not met"),
                None)  # fmt: skip
        elif cm.clause in ("attempts", "disposition"):
            if cm.status != "not met" and not any_kept(kept):
                # met on the point estimates, only not certified, and the day variants were
                # not judged on the final replications: its own term, without re-simulating
                tight = cm.target
            else:
                tight = _tightest_days(ev, final, cm.clause, f"{cm.clause}_within_days", c,
                                       reps)  # fmt: skip
        elif cm.clause == "handoff":
            tight = next((h for h in HANDOFF_MENU if status_of(met_matrix(
                ev, ev.values(final, final.sla.model_copy(update={"handoff_within_hours": h}),
                              reps), "handoff"), c, reps) != "not met"), None)  # fmt: skip
        elif cm.clause == "ae_capacity":
            w = ae_wait_hours(ev, vals)
            tight = math.ceil(2 * float(np.max(np.quantile(w, c, axis=0)))) / 2
        w = cm.p_met_min
        out.append({"clause": cm.clause, "side": cm.side, "status": cm.status,
                    "p_met_worst_month": w.p if w.n else None, "term": cm.target,
                    "unit": cm.unit, "tightest_term_met": tight, "kept": levers,
                    "statement": _say(cm, tight, c)})  # fmt: skip
    met = (rev >= tgt).astype(float)
    rev_status = status_of(met, rc, reps)
    if rev_status != "met" and (tgt > 0).any():
        ratio = rev / np.where(tgt > 0, tgt, np.nan)
        reach = float(np.nanmin(np.quantile(ratio, 1 - rc, axis=0)) * np.nanmean(tgt))
        worst = float(np.min(met.mean(axis=0)))
        out.append({"clause": "revenue", "side": "both", "status": rev_status,
                    "p_met_worst_month": worst, "term": float(np.nanmean(tgt)),
                    "unit": "revenue per month", "tightest_term_met": reach, "kept": levers,
                    "statement": f"Revenue reaches the target in {prob(worst)} of simulated"
                                 f" months in the worst month ({rev_status}); the plan reaches"
                                 f" {reach:,.0f} {final.currency} per month in {prob(rc)} of"
                                 " simulated months in every month."})  # fmt: skip
    return out


def _say(cm: Commitment, tight: float | None, c: float) -> str:
    """One sentence: the clause, how often it is met, and the tightest term that is."""
    w = cm.p_met_min
    name = CLAUSE_WORDS.get(cm.clause, cm.clause)
    head = (f"{name} at {term_text(cm.target, cm.unit)}: met in {prob(w.p)} of simulated months"
            f" in the worst month ({cm.status})") if w.n else f"{name}: not judged"
    if tight is None:
        return head + f"; no term of the menu is met at {prob(c)}."
    return head + f"; the tightest term met at {prob(c)} is {term_text(tight, cm.unit)}."


__all__ = ["DAYS_MENU", "any_kept", "day_variants", "kept_levers", "shortfalls"]
