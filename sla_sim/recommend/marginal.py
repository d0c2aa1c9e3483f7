"""Money of a recommendation: the plan's revenue, cost and profit per month, and the marginal
value of one more and one fewer rep (each SDR team, and the AEs).

Every variant (the plan with one rep more or fewer on one team) runs the plan's own
replications with the same seeds (common random numbers), so each change is a paired
difference: its mean per month and a 95% t interval over the replications. Cost is priced per
replication as :func:`~sla_sim.metrics.costs.expected_monthly_cost` of the scenario at that
replication's mean monthly revenue (headcount, AEs, leads at their planned volume, commission on
the revenue): the lead volumes are the same in every variant, so the cost of a change is its
payroll and the commission on the revenue it moves. Each variant also says what it does to
the SLA: the worst P(met) of the sales clauses (first touch, attempts, disposition), of the AE
capacity clause, and of revenue >= the month's target, over the measured months.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from sla_sim.metrics.costs import expected_monthly_cost
from sla_sim.metrics.numbers import prob
from sla_sim.recommend.commitments import ae_met
from sla_sim.recommend.search import SALES_CLAUSES, Evaluator, met_matrix, per_month
from sla_sim.scenario.schema import Scenario
from sla_sim.stats import t_interval

#: Two-sided level of the intervals of the money changes.
MONEY_LEVEL = 0.95


def _revenue(ev: Evaluator, vals: np.ndarray) -> np.ndarray:
    """Revenue per replication (rows) and measured month (columns)."""
    return np.column_stack([ev.column(vals, "revenue", m) for m in ev.months()])


def _priced(sc: Scenario, rev: np.ndarray) -> dict[str, np.ndarray]:
    """Revenue, cost and profit of ``sc`` for each monthly revenue in ``rev``: the cost is
    linear in revenue (the fixed costs, and the commission on revenue)."""
    fixed = expected_monthly_cost(sc, 0.0)["cost_total"]
    share = expected_monthly_cost(sc, 1.0)["cost_total"] - fixed  # commission per unit
    cost = fixed + share * rev
    return {"revenue": rev, "cost": cost, "profit": rev - cost}


def _money(ev: Evaluator, sc: Scenario, vals: np.ndarray) -> dict[str, np.ndarray]:
    """Per replication: mean monthly revenue, cost and profit of ``sc``."""
    return _priced(sc, _revenue(ev, vals).mean(axis=1))


def _worst(cells: list[Any]) -> float | None:
    judged = [x.p for x in cells if x.n]
    return min(judged) if judged else None


def _clauses(ev: Evaluator, vals: np.ndarray) -> dict[str, float | None]:
    """Worst-month P(met) of the sales clauses, the AE capacity clause and the revenue target."""
    sales = [x for cl in SALES_CLAUSES for x in per_month(met_matrix(ev, vals, cl))]
    rev_t = np.column_stack([(ev.column(vals, "revenue", m) >= ev.column(vals, "revenue_target",
                                                                          m)).astype(float)
                             for m in ev.months()])  # fmt: skip
    return {"sales_p_met_worst": _worst(sales),
            "ae_capacity_p_met_worst": _worst(per_month(ae_met(ev, vals))),
            "revenue_p_ge_target_worst": _worst(per_month(rev_t))}


def plan_money(ev: Evaluator, plan: Scenario, reps: int) -> dict[str, Any]:
    """The plan's revenue, cost and profit per month (mean; P10 and P90 over the simulated
    months, replications x months pooled, as the revenue line ``revenue[-1]`` states them) and
    its cost by component (:func:`expected_monthly_cost` at the mean revenue)."""
    m = _priced(plan, _revenue(ev, ev.values(plan, plan.sla, reps)))
    out: dict[str, Any] = {"replications": reps, "currency": plan.currency}
    for k, x in m.items():
        out[f"{k}_per_month_mean"] = float(x.mean())
        out[f"{k}_per_month_p10"], out[f"{k}_per_month_p90"] = (
            float(v) for v in np.percentile(x.ravel(), [10, 90]))
    out["cost_components"] = expected_monthly_cost(plan, float(m["revenue"].mean()))
    return out


def rep_marginal(ev: Evaluator, plan: Scenario, reps: int,
                 with_staff: Callable[[Scenario, dict[str, int] | None, int | None], Scenario]
                 ) -> list[dict[str, Any]]:  # fmt: skip
    """One row per lever (``teams[NAME].reps`` of each team, ``ae.count``) and step (+1, -1):
    the paired change per month in revenue, cost and profit with 95% intervals, and the
    variant's worst-month P(met) (see the module docstring). ``with_staff(sc, sdr, ae)``
    builds a variant; a step below one rep is reported as not possible."""
    sdr = {t.name: t.reps for t in plan.teams}
    variants: list[tuple[str, int, int, Scenario | None]] = []
    for team, n in sdr.items():
        for step in (1, -1):
            ok = n + step >= 1
            variants.append((f"teams[{team}].reps", n, step,
                             with_staff(plan, {**sdr, team: n + step}, None) if ok else None))
    for step in (1, -1):
        n = plan.ae.count
        variants.append(("ae.count", n, step,
                         with_staff(plan, None, n + step) if n + step >= 1 else None))
    ev.ensure([(v, [plan.sla]) for *_, v in variants if v is not None], reps,
              desc="marginal value of a rep")  # fmt: skip
    base = _money(ev, plan, ev.values(plan, plan.sla, reps))
    rows = []
    for lever, n, step, v in variants:
        row: dict[str, Any] = {"lever": lever, "from": n, "to": n + step, "step": step,
                               "replications": reps}  # fmt: skip
        if v is None:
            rows.append(row | {"possible": False, "note": "not possible: fewer than one rep"})
            continue
        vals = ev.values(v, plan.sla, reps)
        m = _money(ev, v, vals)
        row["possible"] = True
        for k in ("revenue", "cost", "profit"):
            d = m[k] - base[k]
            row[f"{k}_per_month"] = float(d.mean())
            row[f"{k}_per_month_low"], row[f"{k}_per_month_high"] = t_interval(d, MONEY_LEVEL)
        rows.append(row | _clauses(ev, vals))
    return rows


def _pct(p: float | None) -> str:
    return "-" if p is None or not math.isfinite(p) else prob(p)


def money_sentence(money: dict[str, Any]) -> str:
    """The plan's money in one line (the terminal, the SLA document and the planner print this
    one): the cost is priced at each replication's simulated revenue (its commission), unlike
    :func:`target_cost_sentence`'s, priced at the revenue target."""
    cur = money["currency"]
    return (f"per month, mean of {money['replications']} replications ({cur}): revenue"
            f" {money['revenue_per_month_mean']:,.0f}, cost at that revenue"
            f" {money['cost_per_month_mean']:,.0f},"
            f" profit {money['profit_per_month_mean']:,.0f} (a month's P10"
            f" {money['profit_per_month_p10']:,.0f}, P90 {money['profit_per_month_p90']:,.0f})")


def target_cost_sentence(policies: dict[str, Any] | None, currency: str) -> str:
    """The plan's cost priced before simulating, at the revenue target, in one sentence (the
    terminal, the SLA document and the planner print this one, beside :func:`money_sentence`'s
    cost at the simulated revenue: the two differ by the commission on revenue above or below
    the target); empty when the work policy was not searched."""
    total = ((policies or {}).get("cost_per_month") or {}).get("cost_total")
    if total is None or not math.isfinite(total):
        return ""
    return (f"Cost of the plan at the revenue target: {total:,.0f} {currency} per month (people,"
            " AEs, marketing's leads at their planned volumes, commission on the target itself;"
            " the scenario's costs section).")


#: Header of the marginal-value table (the terminal and the SLA document).
MARGINAL_HEADER = ["change", "revenue / month", "cost / month", "profit / month",
                   "profit 95% interval", "sales clauses P(met), worst month",
                   "AE capacity P(met), worst month", "P(revenue >= target), worst month"]


def _who(row: dict[str, Any]) -> str:
    """The rep a row adds or removes, in words ("SDRs (london)", "AEs")."""
    if row["lever"] == "ae.count":
        return "AEs"
    return f"SDRs ({row['lever'].removeprefix('teams[').removesuffix('].reps')})"


def paying_notes(rows: list[dict[str, Any]]) -> list[str]:
    """A note for each rep more whose profit interval lies above 0: the cheapest plan that
    meets the SLA is not always the most profitable."""
    return [f"One more rep pays for itself: {_who(r)} {r['from']} -> {r['to']}, profit"
            f" {r['profit_per_month']:+,.0f} per month (95% interval"
            f" {r['profit_per_month_low']:+,.0f} .. {r['profit_per_month_high']:+,.0f}); the plan"
            " is the cheapest that meets the SLA, not the most profitable."
            for r in rows if r.get("possible") and r["step"] == 1
            and r["profit_per_month_low"] > 0]


def marginal_table(rows: list[dict[str, Any]]) -> list[list[str]]:
    """The rows of :func:`rep_marginal` as text, header first (one formatting for every
    screen)."""
    out = [MARGINAL_HEADER]
    for r in rows:
        change = f"{_who(r)} {r['from']} -> {r['to']}"
        if not r.get("possible"):
            out.append([change, r.get("note", "not possible"), "", "", "", "", "", ""])
            continue
        out.append([change, f"{r['revenue_per_month']:+,.0f}", f"{r['cost_per_month']:+,.0f}",
                    f"{r['profit_per_month']:+,.0f}",
                    f"{r['profit_per_month_low']:+,.0f} .. {r['profit_per_month_high']:+,.0f}",
                    _pct(r["sales_p_met_worst"]), _pct(r["ae_capacity_p_met_worst"]),
                    _pct(r["revenue_p_ge_target_worst"])])
    return out


__all__ = ["MARGINAL_HEADER", "MONEY_LEVEL", "marginal_table", "money_sentence", "paying_notes",
           "plan_money", "rep_marginal"]
