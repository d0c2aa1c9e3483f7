"""SDR headcount by simulation, for each work policy of the short list.

A *policy* is what every free SDR team does with its time: its ``work_order`` (due_first,
new_first, deadline_first), its ``assignment`` mode (immediate private backlogs, or one pulled
team queue), its **weekend/holiday coverage** (today's calendars, or a rota: some reps work
Wednesday to Sunday and on holidays, the same five days a week and the same cost), its
**active-lead cap** (``max_active_leads`` x 1 or x 2) and its **follow-up cadence** (today's
``cadence_days``, or every attempt due in half the days). A number in the SLA changes judgement
only; a policy changes behaviour, so the recommender searches it beside headcount:

1. **Screen** (milliseconds each): every policy's analytic SDRs (:mod:`sla_sim.recommend.analytic`
   reads the work order, the assignment mode, the reps on duty per hour of a rota, the lead slots
   and the cadence's attempts) for every window of the menu, priced per month with the
   scenario's ``costs`` at the same lead volumes (what a cadence does to revenue is measured
   by the plan's revenue check, which raises the volumes if it falls short); the cheapest
   :data:`SHORT_LIST` other than the scenario's own go on with it.
2. **Simulate** each short-listed policy's headcount for the requested first-touch window,
   every candidate with the same seeds (common random numbers); the smallest headcount met.
3. **Choose** the cheapest met plan; the scenario's own policy gives the *headcount-only* plan.

Each first-touch window is searched from its own analytic guess, so a window's answer does not
depend on which window was requested: the plan and the menu of another request agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sla_sim.errors import Issue, ScenarioError
from sla_sim.model.policies import reads_sla
from sla_sim.recommend import analytic, policy_space
from sla_sim.recommend.policy_space import (
    ASSIGNMENTS,
    CADENCE_FACTORS,
    CAP_FACTORS,
    COVERAGES,
    SHORT_LIST,
    WORK_ORDERS,
    Policy,
    all_policies,
    policy_of,
    rota,
)
from sla_sim.recommend.search import (
    SALES_CLAUSES,
    STOP_LEVEL,
    CellP,
    Evaluator,
    decide,
    met_matrix,
    per_month,
)
from sla_sim.scenario.schema import Scenario, SLASpec

#: The schema's largest team (``teams[].reps``).
SCHEMA_MAX_TEAM = 500
#: Tighter first-touch windows of the menu are searched up to this many times the largest
#: analytic guess of the menu; beyond it the menu reports "more than".
MENU_CAP_FACTOR = 2


@dataclass
class SdrSearch:
    """Searches SDR headcount per (policy, first-touch window), remembering every decision.

    ``with_staff(sc, sdr)`` builds a candidate scenario from SDRs per team; ``monthly_cost``
    prices a scenario per month; ``fixed`` are kept teams' headcounts."""

    ev: Evaluator
    base: Scenario
    menu_slas: dict[float, SLASpec]
    c: float
    min_reps: int
    reps: int
    step: int
    max_headcount: int
    free: list[str]
    fixed: dict[str, int]
    with_staff: Callable[[Scenario, dict[str, int]], Scenario]
    search_min: Callable[..., int]
    decisions: dict[tuple[str, tuple[tuple[str, int], ...], float], tuple[bool, int]] = field(
        default_factory=dict)
    guesses: dict[tuple[str, float], list[Any]] = field(default_factory=dict)
    #: more SLA variants judged on every candidate's replications (the handoff windows: the
    #: AE search then starts on the chosen plan's replications instead of simulating it again)
    also: list[SLASpec] = field(default_factory=list)
    known: dict[str, Policy] = field(default_factory=dict)
    _scenarios: dict[str, Scenario] = field(default_factory=dict)

    def scenario(self, p: Policy) -> Scenario:
        """The base scenario under policy ``p``."""
        self.known[p.label] = p
        if p.label not in self._scenarios:
            self._scenarios[p.label] = p.apply(self.base, self.free) if self.free else self.base
        return self._scenarios[p.label]

    def guess(self, p: Policy, h: float) -> dict[str, int]:
        """Analytic SDRs per team for window ``h`` under ``p``."""
        key = (p.label, h)
        if key not in self.guesses:
            sc = self.scenario(p).model_copy(update={"sla": self.menu_slas[h]})
            self.guesses[key] = analytic.sdr_guess(sc, self.c)
        return {g.team: g.agents for g in self.guesses[key]}

    def candidate(self, p: Policy, sdr: dict[str, int]) -> Scenario:
        """The candidate scenario of ``p`` with these SDRs (a rota sized to them)."""
        if not p.coverage or not self.free:
            return self.with_staff(self.scenario(p), sdr)
        return p.apply(self.with_staff(self.scenario(Policy(
            p.work_order, p.assignment, "", p.cap, p.cadence)), sdr), self.free)

    def met(self, p: Policy, sdr: dict[str, int], h: float) -> bool:
        """Whether every sales clause is met at window ``h`` (sequential, cached)."""
        key = (p.label, tuple(sorted(sdr.items())), h)
        if key not in self.decisions:
            cand = self.candidate(p, sdr)
            # every window is judged on the same replications, unless the policy reads the SLA
            # (deadline_first): then each window is a simulation of its own, run when asked
            slas = ([self.menu_slas[h]] if reads_sla(cand)
                    else [*self.menu_slas.values(), *self.also])  # fmt: skip

            def cells(k: int) -> list[CellP]:
                self.ev.ensure([(cand, slas)], k, desc="SDR candidates")
                vals = self.ev.values(cand, self.menu_slas[h], k)
                return [x for cl in SALES_CLAUSES
                        for x in per_month(met_matrix(self.ev, vals, cl), STOP_LEVEL)]

            self.decisions[key] = decide(cells, self.c, self.min_reps, self.reps, self.step)
        return self.decisions[key][0]

    def smallest(self, p: Policy, h: float, cap: int | None = None) -> dict[str, int] | None:
        """The fewest SDRs meeting window ``h`` under ``p`` (every free team moved by the same
        step from its own guess); kept teams fixed. None when ``cap`` (total) is reached; a
        ScenarioError naming the lever when ``max_headcount`` is."""
        g = self.guess(p, h)
        if not self.free:
            return dict(self.fixed) if self.met(p, self.fixed, h) else None

        def staff(d: int) -> dict[str, int]:
            return {**{n: max(1, g[n] + d) for n in self.free}, **self.fixed}

        top = max(g[n] for n in self.free)
        lo_d = 1 - min(g[n] for n in self.free)
        hi_d = self.max_headcount - top if cap is None else min(self.max_headcount - top,
                                                                max(cap - top, 0))
        lever = f"teams[{self.free[0]}].reps"
        what = (f"the sales clauses with first touch within {h:g} business hours at confidence"
                f" {self.c:g} (policy {p.label})")
        try:
            d = self.search_min(lambda d: self.met(p, staff(d), h), 0, lo_d, hi_d, lever, what)
        except ScenarioError as err:
            if cap is None:  # named by the team's headcount it reached, not the step from the guess
                top_n = max(staff(hi_d)[n] for n in self.free)
                raise ScenarioError([Issue(lever, f"runs out: no value up to {top_n} meets"
                                           f" {what}", top_n)], "recommend request") from err
            return None
        return staff(d)

    def menu(self, p: Policy, windows: tuple[float, ...], requested: float
             ) -> tuple[dict[float, dict[str, int] | None], dict[float, int]]:  # fmt: skip
        """The SDRs of every window under ``p``, never fewer for a tighter window; and the
        totals beyond which a window was not searched."""
        cap_team = MENU_CAP_FACTOR * max(max(self.guess(p, h).values()) for h in windows)
        staff: dict[float, dict[str, int] | None] = {}
        caps: dict[float, int] = {}
        for h in sorted(windows):
            cap = None if h == requested else cap_team
            if cap is not None:
                caps[h] = cap * max(1, len(self.free)) + sum(self.fixed.values())
            staff[h] = self.smallest(p, h, cap)
            if h == requested and staff[h] is None:  # kept teams that miss: keep them
                staff[h] = dict(self.fixed)
        run_max: dict[str, int] | None = None
        for h in sorted(windows, reverse=True):  # loosest first, carry the running maximum
            s = staff[h]
            if s is not None and self.free:
                if run_max is None or sum(s.values()) >= sum(run_max.values()):
                    run_max = s
                staff[h] = run_max
        return staff, caps

    def decision_rows(self) -> list[dict[str, Any]]:
        """Every decision made: policy, staffing, window, met, replications."""
        return [{"policy": pl, "sdrs": sum(dict(s).values()), "staffing": dict(s),
                 "first_touch_hours": h, "met": m, "replications": k}
                for (pl, s, h), (m, k) in sorted(self.decisions.items())]


def frontier(search: SdrSearch, h: float, monthly_cost: Callable[[Scenario], float]
             ) -> list[dict[str, Any]]:  # fmt: skip
    """Cost versus confidence of every plan simulated for window ``h``: per (policy, SDRs),
    the monthly cost and the worst P(met) over the sales clauses and months (point estimate on
    the replications its decision used), cheapest first."""
    rows = []
    for (pl, staff, hh), (met, k) in search.decisions.items():
        if hh != h:
            continue
        p = search.known[pl]
        cand = search.candidate(p, dict(staff))
        vals = search.ev.values(cand, search.menu_slas[h], k)
        worst = min(x.p for cl in SALES_CLAUSES
                    for x in per_month(met_matrix(search.ev, vals, cl)) if x.n)
        rows.append({**p.as_dict(), "sdrs": sum(dict(staff).values()), "staffing": dict(staff),
                     "cost_per_month": monthly_cost(cand), "p_met_worst": worst,
                     "replications": k, "met": met})  # fmt: skip
    rows.sort(key=lambda r: (r["cost_per_month"], r["policy"]))
    return rows


def reprice(search: SdrSearch, rows: list[dict[str, Any]],
            monthly_cost: Callable[[Scenario], float]) -> None:
    """Set ``cost_per_month`` of every plan row (policy, staffing) to ``monthly_cost`` of its
    candidate; a row without staffing (a policy that ran out) keeps None."""
    for r in rows:
        if r.get("staffing"):
            r["cost_per_month"] = monthly_cost(search.candidate(search.known[r["policy"]],
                                                                dict(r["staffing"])))


def screen(search: SdrSearch, policies: list[Policy], windows: tuple[float, ...],
           monthly_cost: Callable[[Scenario], float]) -> list[dict[str, Any]]:  # fmt: skip
    """Every policy's analytic SDRs per first-touch window and the plan's monthly cost summed
    over the windows (the rank does not depend on the window requested), cheapest first."""
    rows = []
    order = _twin_order(policies)
    for p in policies:
        staffs = {h: {**search.guess(p, h), **search.fixed} for h in windows}
        # priced at no more than the schema's largest team (a window no team can carry)
        priced = [{k: min(v, SCHEMA_MAX_TEAM) for k, v in s.items()} for s in staffs.values()]
        rows.append({**p.as_dict(),
                     "sdrs_analytic": {f"{h:g}": sum(s.values()) for h, s in staffs.items()},
                     "cost_per_month_analytic": sum(monthly_cost(search.candidate(p, s))
                                                    for s in priced) / len(windows)})
    rows.sort(key=lambda r: (round(r["cost_per_month_analytic"], 6), order[r["policy"]]))
    return rows


def _twin_order(policies: list[Policy]) -> dict[str, float]:
    """Tie-break of the screen: the order of ``policies``, but a ``deadline_first`` policy
    right after its ``new_first`` twin (the same other levers), which the screen prices alike
    (see :func:`short_list`), so that the two are short-listed together."""
    index = {p.label: float(i) for i, p in enumerate(policies)}
    out = {}
    for p in policies:
        twin = replace(p, work_order="new_first").label
        out[p.label] = (index[twin] + 0.5 if p.work_order == "deadline_first" and twin in index
                        else index[p.label])  # fmt: skip
    return out


def short_list(rows: list[dict[str, Any]], policies: list[Policy], own: Policy,
               size: int | None = None) -> list[Policy]:  # fmt: skip
    """The policies simulated: ``own``, then the ``size`` (default
    :data:`~sla_sim.recommend.policy_space.SHORT_LIST`, read when called, as the cost check
    reads it) cheapest others of the screen ``rows`` (:func:`screen`), in the order of
    ``policies``.

    The screen cannot tell ``deadline_first`` from ``new_first`` (its fluid week serves first
    touches first under both; both rank the first touches of one window by arrival, which is
    the order of their deadlines), so the two tie, and the screen's tie-break puts
    ``deadline_first`` right after its ``new_first`` twin (:func:`_twin_order`): whenever a
    ``new_first`` policy is the screen's cheapest other, its ``deadline_first`` twin is
    simulated too, and the simulation tells them apart. (Ordered as the policies are listed,
    a ``new_first / immediate`` and a ``new_first / pull`` that tie, as they do when the
    lead-slot bound sets both, took the short list and no ``deadline_first`` was simulated.)"""
    n = policy_space.SHORT_LIST if size is None else size
    others = [r["policy"] for r in rows if r["policy"] != own.label][:n]
    return [own, *[p for p in policies if p.label in others]]


__all__ = ["ASSIGNMENTS", "CADENCE_FACTORS", "CAP_FACTORS", "COVERAGES", "MENU_CAP_FACTOR",
           "SHORT_LIST", "WORK_ORDERS", "Policy", "SdrSearch", "all_policies", "frontier",
           "policy_of", "reprice", "rota", "screen", "short_list"]
