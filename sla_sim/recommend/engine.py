"""``recommend``: the SLA both sides can sign, with the confidence behind every number.

Method (explained in every export):

1. **Analytic first guess** (:mod:`sla_sim.recommend.analytic`): the reverse funnel scales the
   channels' lead volumes to the revenue target; Erlang C (and the lead-slot bound) gives the
   SDRs for the first-touch clause; Little's law on open opportunities gives the AEs.
2. **Volumes by simulation**: the analytic volumes are simulated once (``min_reps``
   replications) and every channel is rescaled by target / simulated mean monthly revenue,
   which adds the nurtured and recycled MQLs the reverse funnel leaves out.
3. **SDR search**: headcount searched around the guess; each candidate is simulated with the
   same seeds (common random numbers) and judged under every first-touch window of the menu
   without re-simulating; a candidate runs replications in steps until the Wilson bounds of
   P(met) of every sales clause in every month settle the question (or ``reps`` is reached).
   The answer is the smallest headcount met, with one fewer simulated and not met.
4. **AE search** the same way on the AE capacity clause (SQLs wait on average at most
   :data:`AE_WAIT_BUSINESS_HOURS` AE business hours for an opportunity, each month).
5. **Commitments** at the final staffing: MQL volume and acceptance rate at a 90 % lower
   confidence bound of the (1 - c) quantile of the worst month (volume per the commitment
   basis), handoff as the tightest window of the menu whose one-sided 90 % Wilson lower bound
   of P(met) clears c in every month (choosing by point estimates among many windows would
   pick one that passed by luck); then P(met) per clause and month with Wilson intervals.
6. **Sensitivity**: a tornado at +-20 % (:mod:`sla_sim.recommend.sensitivity`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sla_sim.analysis import reverse_funnel
from sla_sim.analysis.staffing import bisect_smallest
from sla_sim.batch.replications import DEFAULT_SEED, check_request
from sla_sim.batch.results import package_version, scenario_hash
from sla_sim.errors import MISSING, Issue, ScenarioError
from sla_sim.horizon import window_for
from sla_sim.metrics.costs import expected_monthly_cost
from sla_sim.metrics.numbers import prob
from sla_sim.model.policies import reads_sla
from sla_sim.recommend import (
    analytic,
    budget,
    commitments,
    marginal,
    policy_space,
    revenue,
    sensitivity,
    staffing,
)
from sla_sim.recommend import keep as keeplib
from sla_sim.recommend.budget import (
    FIRST_TOUCH_MENU,
    REVENUE_PASSES,
    SENSITIVITY_REPS,
    VOLUME_PASSES,
)
from sla_sim.recommend.commitments import HANDOFF_MENU, Commitment
from sla_sim.recommend.cost import check_recommend_cost
from sla_sim.recommend.search import (
    STOP_LEVEL,
    CellP,
    Evaluator,
    decide,
    met_matrix,
    per_month,
)
from sla_sim.scenario.io import _index, _split
from sla_sim.scenario.schema import Scenario, SLASpec

#: A volume pass whose rescaling is within this relative step ends the volume stage.
VOLUME_TOLERANCE = 0.02
#: Lowest and highest confidence a request may ask for.
CONFIDENCE_RANGE = (0.5, 0.999)
#: The schema's largest team and AE count.
SCHEMA_MAX = 500
#: Headcount a search may reach before the request is declared infeasible.
MAX_HEADCOUNT = 500
#: Levers the recommender sets, and what ``--keep`` of each freezes.
LEVERS = {
    "teams[*].reps": "SDR headcount of that team",
    "teams[*].work_order": "the whole work policy of every team (headcount only)",
    "teams[*].assignment": "the whole work policy of every team (headcount only)",
    "teams[*].calendar": "weekend/holiday coverage (no rota searched)",
    "teams[*].rep_calendars": "weekend/holiday coverage (no rota searched)",
    "teams[*].max_active_leads": "the active-lead cap",
    "follow_up.cadence_days": "the follow-up cadence",
    "ae.count": "AE headcount",
    "channels[*].leads_per_month": "lead volumes (any channel kept freezes every channel)",
    "sla.mql_commitment_per_month": "marketing's MQL volume commitment",
    "sla.acceptance_rate_min": "marketing's acceptance-rate commitment",
    "sla.handoff_within_hours": "the handoff window",
}


@dataclass(frozen=True)
class Request:
    """What was asked."""

    revenue_target: float
    confidence: float
    keep: tuple[str, ...]
    reps: int
    seed: int
    min_reps: int
    step: int
    sensitivity_reps: int
    first_touch_menu: tuple[float, ...]
    revenue_confidence: float = 0.0  # P(revenue >= target) every month must reach


@dataclass
class Recommendation:
    """Everything the exports need."""

    request: Request
    scenario: Scenario  # the input, with --set applied
    recommended: Scenario  # every recommended setting applied
    commitments: list[Commitment]
    headcount: list[dict[str, Any]]
    volumes: list[dict[str, Any]]
    revenue: list[dict[str, Any]]
    menu: list[dict[str, Any]]
    tornado: list[dict[str, Any]]
    binding: str
    months: list[str]
    facts: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    shortfalls: list[dict[str, Any]] = field(default_factory=list)  # see keep.shortfalls
    revenue_menu: list[dict[str, Any]] = field(default_factory=list)  # see revenue.menu
    policies: dict[str, Any] = field(default_factory=dict)  # screen, plans, chosen, saving
    #: the scenario of each row of ``policies["frontier"]`` (not exported: for re-simulation)
    frontier_scenarios: list[Scenario] = field(default_factory=list)
    #: the plan's revenue, cost and profit per month (see marginal.plan_money)
    money: dict[str, Any] = field(default_factory=dict)
    #: one more / one fewer rep per team and AE: paired changes (see marginal.rep_marginal)
    marginal: list[dict[str, Any]] = field(default_factory=list)


# ------------------------------------------------------------------------- request checks


def _lookup(sc: Scenario, path: str) -> Any:
    """The value at a scenario path, or MISSING."""
    node: Any = sc.model_dump(mode="python")
    for part in _split(path):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list):
            i = _index(node, part)
            if i is None:
                return MISSING
            node = node[i]
        else:
            return MISSING
    return node


def check(sc: Scenario, revenue_target: float | None, confidence: float, keep: tuple[str, ...],
          reps: int, seed: int, workers: int,
          revenue_confidence: float | None = None) -> None:  # fmt: skip
    """Reject a bad request before anything runs, naming every problem."""
    issues: list[Issue] = []
    if revenue_target is not None and not (
            isinstance(revenue_target, (int, float)) and math.isfinite(revenue_target)
            and revenue_target >= 0):
        issues.append(Issue("--revenue-target", "must be a finite amount per month >= 0",
                            revenue_target))  # fmt: skip
    lo, hi = CONFIDENCE_RANGE
    if not (isinstance(confidence, (int, float)) and lo < confidence < hi):
        issues.append(Issue("--confidence", f"must be strictly between {lo} and {hi}",
                            confidence))  # fmt: skip
    if revenue_confidence is not None and not (
            isinstance(revenue_confidence, (int, float)) and 0.5 <= revenue_confidence < hi):
        issues.append(Issue("--revenue-confidence", f"must be in [0.5, {hi})",
                            revenue_confidence))  # fmt: skip
    for path in keep:
        if _lookup(sc, path) is MISSING:
            issues.append(Issue(f"--keep {path}", "names no scenario field (levers: "
                                + ", ".join(LEVERS) + ")", path))  # fmt: skip
    if reps < 2:
        issues.append(Issue("--reps", "must be >= 2 (a recommendation needs replications)",
                            reps))  # fmt: skip
    if issues:
        raise ScenarioError(issues, "recommend request")
    check_request(reps, workers, seed)


# ------------------------------------------------------------------------------ helpers


def _with(sc: Scenario, sdr: dict[str, int] | None = None, ae: int | None = None,
          scale: float | None = None, sla: SLASpec | None = None,
          rota: tuple[str, ...] = ()) -> Scenario:  # fmt: skip
    """``sc`` with these SDRs per team, AEs, lead-volume scale or SLA; the teams named in
    ``rota`` get the weekend rota of their new headcount (a rota is sized to its team), any
    other team with its own ``rep_calendars`` keeps each calendar's share of its reps
    (:func:`~sla_sim.recommend.policy_space.resize_calendars`)."""
    d = sc.model_dump(mode="python")
    if sdr is not None:
        for t in d["teams"]:
            old, t["reps"] = t["reps"], sdr[t["name"]]
            if t["name"] in rota:
                t["rep_calendars"] = policy_space.rota(t, sc.arrivals.weekday_weights)
            elif t["rep_calendars"] and t["reps"] != old:
                t["rep_calendars"] = policy_space.resize_calendars(t["rep_calendars"], t["reps"])
    if ae is not None:
        d["ae"]["count"] = ae
    if scale is not None:
        for ch in d["channels"]:
            ch["leads_per_month"] = ch["leads_per_month"] * scale
    if sla is not None:
        d["sla"] = sla.model_dump(mode="python")
    return Scenario.model_validate(d)


def _sla(sc: Scenario, **update: Any) -> SLASpec:
    return sc.sla.model_copy(update=update)


def _search_min(met: Callable[[int], bool], start: int, lo: int, hi: int, lever: str,
                what: str) -> int:  # fmt: skip
    """Smallest n in [lo, hi] with met(n), starting at ``start``; met(n-1) is evaluated and
    false (unless n == lo). Raises ScenarioError naming the lever when hi is not enough."""
    n = min(max(start, lo), hi)
    if met(n):  # down in doubling steps to a failing value (or lo), then bisect
        good, step = n, 1
        while True:
            m = max(lo, good - step)
            if m == good:
                return good
            if not met(m):
                return bisect_smallest(met, m, good)
            good, step = m, step * 2
    bad, step = n, 1
    while True:
        m = bad + step
        if m > hi:
            if bad < hi and met(hi):
                m = hi
                break
            raise ScenarioError([Issue(lever, f"runs out: no value up to {hi} meets {what}",
                                       hi)], "recommend request")  # fmt: skip
        if met(m):
            break
        bad, step = m, step * 2
    return bisect_smallest(met, bad, m)


# ------------------------------------------------------------------------------- engine


def recommend(sc: Scenario, revenue_target: float | None = None, confidence: float = 0.9,
              keep: tuple[str, ...] = (), reps: int = 40, seed: int = DEFAULT_SEED,
              workers: int = 1, dask: str | None = None, progress: bool = True,
              sensitivity_reps: int | None = None, min_reps: int | None = None,
              first_touch_menu: tuple[float, ...] = FIRST_TOUCH_MENU,
              tornado: bool = True, max_headcount: int = MAX_HEADCOUNT,
              revenue_confidence: float | None = None, cancel: Any = None,
              on_stage: Callable[[str, int, int], None] | None = None) -> Recommendation:
    """Recommend volumes, commitments and headcount (see the module docstring).

    ``revenue_confidence`` (default: ``confidence``) is the share of months in which revenue
    must reach the target, every month. A search that would need more than ``max_headcount``
    SDRs (per team) or AEs raises a ScenarioError naming the lever that runs out. ``cancel``
    (a ``threading.Event``) stops the search at its next batch of replications
    (:class:`~sla_sim.recommend.search.CancelledError`); ``on_stage(name, done, total)`` is called
    as each stage starts. A request over the cost limits (the replications it may simulate,
    at the volumes the revenue target needs) raises a ScenarioError before anything runs
    (:func:`sla_sim.recommend.cost.check_recommend_cost`)."""
    check(sc, revenue_target, confidence, keep, reps, seed, workers, revenue_confidence)
    check_recommend_cost(sc, revenue_target=revenue_target, reps=reps,
                         max_headcount=max_headcount, keep=tuple(keep), workers=workers,
                         sensitivity_reps=sensitivity_reps, tornado=tornado, min_reps=min_reps,
                         menu=tuple(first_touch_menu))  # fmt: skip
    cluster = None
    if dask == "local":  # one local cluster for the whole recommendation, not one per request
        from sla_sim.batch.executors import local_cluster

        cluster = local_cluster(workers)
        dask = cluster.scheduler_address
    ev = Evaluator(seed, workers, dask, progress)
    ev.cancel = cancel
    ok = False
    try:
        rec = _recommend(ev, sc, revenue_target, confidence, keep, reps, seed, progress,
                         sensitivity_reps, min_reps, first_touch_menu, tornado, max_headcount,
                         confidence if revenue_confidence is None else revenue_confidence,
                         on_stage)
        ok = True
        return rec
    finally:
        ev.close(now=not ok)
        if cluster is not None:
            cluster.close()


def _recommend(ev: Evaluator, sc: Scenario, revenue_target: float | None, confidence: float,
               keep: tuple[str, ...], reps: int, seed: int, progress: bool,
               sensitivity_reps: int | None, min_reps: int | None,
               first_touch_menu: tuple[float, ...], tornado: bool,
               max_headcount: int, revenue_confidence: float,
               on_stage: Callable[[str, int, int], None] | None = None
               ) -> Recommendation:  # fmt: skip
    from sla_sim.progress import progress_bar

    c = float(confidence)
    rc = float(revenue_confidence)
    target = sc.sla.revenue_target_per_month if revenue_target is None else float(revenue_target)
    mn = min(reps, min_reps or 10)
    step = max(1, mn)
    sreps = min(reps, sensitivity_reps or max(2, min(reps, SENSITIVITY_REPS)))
    ft_req = sc.sla.first_touch_within_business_hours
    menu_t = tuple(sorted(set(first_touch_menu) | {ft_req}))
    req = Request(target, c, tuple(keep), reps, seed, mn, step, sreps, menu_t, rc)
    kept = keeplib.kept_levers(tuple(keep), sc)
    notes: list[str] = []
    timings: dict[str, float] = {}
    started: dict[str, float] = {}
    stages = ["analytic", "volumes", "sdr", "ae", "commitments"] + (
        ["sensitivity"] if tornado else [])
    bar = progress_bar(total=len(stages), desc="recommend", unit="stage", disable=not progress)

    def stage(name: str) -> None:
        if on_stage is not None:
            on_stage(name, stages.index(name), len(stages))
        ev.stage = name
        bar.set_postfix_str(name)
        started[name] = time.perf_counter()

    def done() -> None:  # a stage run twice (a revenue correction) adds up its time
        timings[ev.stage] = timings.get(ev.stage, 0.0) + time.perf_counter() - started[ev.stage]
        bar.update(1)

    base = sc.model_copy(update={"sla": _sla(sc, revenue_target_per_month=target)})
    # ---- 1. analytic
    stage("analytic")
    scale0 = 1.0 if kept["volumes"] else analytic.volume_scale(base, target)
    sc0 = _with(base, scale=scale0) if scale0 != 1.0 else base
    ae_g = analytic.ae_guess(sc0, c)
    guess_ae = sc0.ae.count if kept["ae"] else ae_g.agents
    rev_analytic = reverse_funnel.reverse(base, target) if not kept["volumes"] else None
    done()

    # ---- 2. volumes: P(revenue >= target) >= rc in every month (month basis of the SLA)
    stage("volumes")
    scale = scale0
    sim_first: float | None = None
    if not kept["volumes"] and target > 0:
        for _ in range(VOLUME_PASSES):
            # generous staffing for these volumes, so that capacity does not hold revenue back
            at = _with(base, scale=scale)
            probe_sdr = {g.team: min(SCHEMA_MAX, max(2 * g.agents, g.agents + 2))
                         for g in analytic.sdr_guess(at, c)}  # fmt: skip
            probe_ae = min(SCHEMA_MAX, max(2, math.ceil(1.5 * analytic.ae_guess(at, c).agents)))
            probe = _with(at, sdr=probe_sdr, ae=probe_ae)
            ev.ensure([(probe, [probe.sla])], mn, desc="volumes")
            rev_p, tgt_p = revenue.revenue_matrix(ev, ev.values(probe, probe.sla, mn))
            if sim_first is None:
                sim_first = float(rev_p.mean())
            mult = revenue.volume_multiplier(rev_p, tgt_p, rc)
            if not math.isfinite(mult):
                raise ScenarioError([Issue("channels", "produce no simulated revenue in some"
                                           " month, so no volume reaches the target",
                                           float(rev_p.mean()))], "recommend request")
            scale *= mult
            if abs(mult - 1) < VOLUME_TOLERANCE:
                break
    sc1 = _with(base, scale=scale) if scale != 1.0 else base
    done()

    def plan_cost(s: Scenario) -> float:
        return expected_monthly_cost(s, target)["cost_total"]

    # stages 3-4 run again (once) when the plan, staffed as searched, misses the revenue
    # confidence: the volume probe had generous staffing, the plan answers slower
    for revenue_pass in range(REVENUE_PASSES):
        # ---- 3. SDR search: policies screened analytically, the short list simulated (common
        # random numbers), the cheapest met plan chosen; then the menu of its windows
        stage("sdr")
        ae_g1 = analytic.ae_guess(sc1, c)
        free = [t.name for t in sc1.teams if t.name not in kept["teams"]]
        fixed = {t.name: t.reps for t in sc1.teams if t.name in kept["teams"]}
        ae_for_sdr = sc1.ae.count if kept["ae"] else max(ae_g1.agents, guess_ae)
        menu_slas = {h: _sla(sc1, first_touch_within_business_hours=h) for h in menu_t}
        hand_slas = {h: _sla(sc1, handoff_within_hours=h) for h in HANDOFF_MENU}
        search = staffing.SdrSearch(ev, sc1, menu_slas, c, mn, reps, step, max_headcount, free,
                                    fixed, lambda s, sdr, ae=ae_for_sdr: _with(s, sdr=sdr, ae=ae),
                                    _search_min, also=list(hand_slas.values()))  # fmt: skip
        own = policy_space.policy_of(sc1, free)
        searched = policy_space.all_policies(sc1, free, kept) if free else [own]
        # the screen prices every policy over every window of the menu, so that the short list
        # does not depend on which window was requested
        screen = staffing.screen(search, searched, menu_t, plan_cost)
        short = staffing.short_list(screen, searched, own)
        plans = []
        ran_out: ScenarioError | None = None
        for p in short:
            try:
                s = search.smallest(p, ft_req) or dict(fixed)
            except ScenarioError as err:
                # a policy that runs out at --max-headcount is no plan, today's included: the
                # request is infeasible only when every short-listed policy runs out
                if p == own:
                    ran_out = err
                    plans.append({**p.as_dict(), "sdrs": None, "staffing": None,
                                  "cost_per_month": None, "met": False, "headcount_only": True,
                                  "runs_out": err.issues[0].rule})  # fmt: skip
                continue
            cost = plan_cost(search.candidate(p, s))
            plans.append({**p.as_dict(), "sdrs": sum(s.values()), "staffing": s,
                          "cost_per_month": cost, "met": search.met(p, s, ft_req),
                          "headcount_only": p == own})  # fmt: skip
        found = [x for x in plans if x["sdrs"] is not None]
        if not found:
            assert ran_out is not None
            issue = ran_out.issues[0]
            others_too = "; every other policy of the short list runs out too" if len(
                short) > 1 else ""
            raise ScenarioError([Issue(issue.path, issue.rule + others_too, issue.value)],
                                "recommend request") from ran_out
        met_plans = [x for x in found if x["met"]] or found[:1]
        order = [p.label for p in searched]  # ties: today's policy, then this order
        best = min(met_plans, key=lambda x: (round(x["cost_per_month"], 6), not x["headcount_only"],
                                             order.index(x["policy"])))
        chosen = next(p for p in short if p.label == best["policy"])
        staff, menu_cap = search.menu(chosen, menu_t, ft_req)
        sdr_star = staff[ft_req]
        assert sdr_star is not None
        sc1 = search.candidate(chosen, sdr_star)
        sdr_g1 = search.guesses[(chosen.label, ft_req)]
        own_plan = next(x for x in plans if x["headcount_only"])
        own_cost = own_plan["cost_per_month"]
        policies = {"screen": screen, "plans": plans, "chosen": chosen.label,
                    "frontier": staffing.frontier(search, ft_req, plan_cost),
                    "headcount_only": own.label, "searched": [p.label for p in searched],
                    "saving_per_month": (None if own_cost is None
                                         else own_cost - best["cost_per_month"]),
                    "chosen_levers": chosen.as_dict(),
                    "levers_searched": ["work order", "assignment mode",
                                        "weekend/holiday coverage", "active-lead cap",
                                        "cadence"]}  # fmt: skip
        policy_note = ""  # the last pass's (a revenue correction searches again)
        if chosen != own:
            instead = (f"{own_plan['sdrs']}" if own_plan["sdrs"] is not None
                       else f"more than {max_headcount} per team (--max-headcount)")
            policy_note = (f"Work policy changed from {own.words} to {chosen.words}: the same"
                           f" clauses with {sum(sdr_star.values())} SDRs instead of"
                           f" {instead}.")
        done()

        # ---- 4. AE search (handoff menu judged on each candidate)
        stage("ae")
        wanted_slas = [sc1.sla, *hand_slas.values()]
        win = window_for(sc1)
        days = np.array([p.hours / 24.0 for p in win.months])

        def met_ae(n: int, sc1: Scenario = sc1, sdr_star: dict[str, int] = sdr_star,
                   wanted: list[SLASpec] = wanted_slas) -> bool:
            cand = _with(sc1, ae=n)

            # the handoff windows are judged on the same replications, unless the plan reads
            # the SLA (deadline_first): then only the final plan is simulated under each
            slas = [sc1.sla] if reads_sla(cand) else wanted

            def cells(k: int) -> list[CellP]:
                ev.ensure([(cand, slas)], k, desc="AE candidates")
                return per_month(commitments.ae_met(ev, ev.values(cand, sc1.sla, k)), STOP_LEVEL)

            return decide(cells, c, mn, reps, step)[0]

        if kept["ae"]:
            ae_star = sc1.ae.count
        else:
            # from the AEs the SDR candidates were simulated with: the first AE candidate is
            # the chosen SDR plan, whose replications (handoff windows judged) are reused
            ae_star = _search_min(met_ae, ae_for_sdr, 1, max_headcount, "ae.count",
                                  f"the AE capacity clause at confidence {c:g}")  # fmt: skip
        final = _with(sc1, ae=ae_star)
        kept_any = keeplib.any_kept(kept)
        ev.ensure([(final, [*wanted_slas, *menu_slas.values(),
                            *(keeplib.day_variants(sc1.sla) if kept_any else [])])], reps,
                  desc="final")  # fmt: skip
        vals = ev.values(final, sc1.sla, reps)
        done()

        rev_f, tgt_f = revenue.revenue_matrix(ev, vals)
        short = commitments.status_of(revenue.met_matrix(rev_f, tgt_f), rc, reps) == "not met"
        if not short or kept["volumes"] or target <= 0 or revenue_pass == REVENUE_PASSES - 1:
            break
        mult = revenue.volume_multiplier(rev_f, tgt_f, rc, mean_bound=True)
        scale *= mult
        notes.append(f"Volumes raised x{mult:.3f} after the staffed plan missed the revenue"
                     f" confidence {prob(rc)} (the volume probe had generous staffing); headcount"
                     " searched again.")
        sc1 = _with(base, scale=scale)

    if policy_note:
        notes.append(policy_note)
    # ---- 5. commitments
    stage("commitments")
    months = ev.months()
    comms, facts_c = commitments.build(ev, final, vals, sc1, kept, c, reps, days,
                                       hand_slas, notes)  # fmt: skip
    recommended = _with(final, sla=facts_c["sla"])
    policies["cost_per_month"] = expected_monthly_cost(recommended, target)
    # the plans were priced with the AEs the SDR search simulated; the table prices them with
    # the plan's AEs, so the chosen row costs what the plan costs (one AE count, one price)
    staffing.reprice(search, [*policies["plans"], *policies["frontier"]],
                     lambda s: plan_cost(_with(s, ae=final.ae.count)))
    own_row = next(x for x in policies["plans"] if x["headcount_only"])
    chosen_row = next(x for x in policies["plans"] if x["policy"] == policies["chosen"])
    if own_row["cost_per_month"] is not None:
        policies["saving_per_month"] = own_row["cost_per_month"] - chosen_row["cost_per_month"]
    rev_m, tgt_m = revenue.revenue_matrix(ev, vals)
    rev_rows = revenue.revenue_rows(rev_m, tgt_m, months, target)
    rev_worst = revenue.worst_month(rev_m, tgt_m) if target > 0 else None
    rev_status = commitments.status_of(revenue.met_matrix(rev_m, tgt_m), rc, reps)
    mqls = np.column_stack([ev.column(vals, "mqls", m) for m in months])
    # the row at the revenue confidence is the plan itself when its volumes were sized to it
    # and reach it: one figure for one thing, not the plan beside an estimate of it
    sized = not kept["volumes"] and target > 0 and rev_status != "not met"
    rev_menu = revenue.menu(rev_m, tgt_m, mqls, sum(ch.leads_per_month for ch in sc1.channels),
                            plan_level=rc if sized else None)
    rise = revenue.warmup_note(rev_m, tgt_m, sc1.horizon.warmup_days,
                               max(ch.cycle_days.mean for ch in sc1.channels))
    if rise and target > 0:
        notes.append(rise)
    # the money of the plan and the marginal value of a rep, on the plan's own replications
    ev.stage = "marginal"
    t_m = time.perf_counter()
    money = marginal.plan_money(ev, final, reps)
    # one rep more or fewer on a team of the weekend rota works that headcount's rota
    rota_teams = tuple(free) if chosen.coverage else ()
    rep_rows = marginal.rep_marginal(ev, final, reps,
                                     lambda s, sdr, ae: _with(s, sdr=sdr, ae=ae, rota=rota_teams))
    timings["marginal"] = time.perf_counter() - t_m
    notes += marginal.paying_notes(rep_rows)
    ev.stage = "commitments"
    started["commitments"] += timings["marginal"]  # not counted twice
    binding_c = min(comms, key=lambda x: x.p_met_min.p if x.p_met_min.n else 2.0)
    binding = binding_c.clause
    shortfalls = keeplib.shortfalls(ev, final, vals, comms, kept, c, reps, days, menu_slas,
                                    rev_m, tgt_m, rc)  # fmt: skip

    headcount = [{"team": g.team, "role": "SDR", "analytic": g.agents,
                  "simulated": sdr_star[g.team], "kept": g.team in kept["teams"],
                  "basis": g.as_dict()} for g in sdr_g1]  # fmt: skip
    headcount.append({"team": "ae", "role": "AE", "analytic": ae_g1.agents, "simulated": ae_star,
                      "kept": kept["ae"], "basis": ae_g1.as_dict()})  # fmt: skip

    volumes = _volumes(sc1, rev_analytic, ev, vals, months, scale0, scale, sim_first)
    volumes[-1]["mqls_needed_for_mean_target"] = facts_c["mqls_needed"]

    menu = []
    for h in menu_t:
        s = staff[h]
        row: dict[str, Any] = {"first_touch_hours": h, "requested": h == ft_req,
                               "policy": chosen.label,
                               "sdr_analytic": sum(search.guess(chosen, h).values())}
        if s is None:
            row |= {"sdrs": None, "sdrs_more_than": menu_cap.get(h), "p_met": None,
                    "p_met_low": None, "p_met_high": None, "revenue_p50": None,
                    "feasible": False}  # fmt: skip
        else:
            # the requested window's row is the plan itself (its AEs, its replications), so it
            # shows the plan's revenue P50 and P(met); the other windows were simulated with
            # the AEs of the SDR search
            cand = final if h == ft_req else search.candidate(chosen, s)
            k = reps if h == ft_req else ev.have(cand, menu_slas[h])
            v = ev.values(cand, menu_slas[h], k)
            cells = per_month(met_matrix(ev, v, "first_touch"))
            worst = min((x for x in cells if x.n), key=lambda x: x.p)
            r = np.column_stack([ev.column(v, "revenue", m) for m in months])
            row |= {"sdrs": sum(s.values()), "aes": cand.ae.count, "p_met": worst.p,
                    "p_met_low": worst.low,
                    "p_met_high": worst.high, "replications": k,
                    "revenue_p50": float(np.median(r)),
                    "feasible": bool(search.met(chosen, s, h))}  # fmt: skip
        menu.append(row)
    done()

    # ---- 6. sensitivity
    tornado_rows: list[dict[str, Any]] = []
    if tornado:
        stage("sensitivity")
        tornado_rows = _tornado(ev, recommended, sreps, days)
        done()
    bar.close()

    t_sims = ev.counter.by_stage
    facts = {
        "seed": seed, "replications": reps, "min_replications": mn, "step": step,
        "sensitivity_replications": sreps, "confidence": c, "revenue_confidence": rc,
        "scenario_hash": scenario_hash(sc), "recommended_hash": scenario_hash(recommended),
        "sla_sim_version": package_version(),
        "seconds_per_stage": {k: round(v, 3) for k, v in timings.items()},
        "replications_simulated": ev.counter.simulated,
        "replications_judged": ev.counter.judged,
        "replications_per_stage": {k: {"simulated": s, "judged": j}
                                   for k, (s, j) in t_sims.items()},
        "interval": "Wilson 95% (reported); one-sided 90% Wilson bounds for the sequential"
                    " stop and for certification",
        "replications_to_certify": commitments.reps_to_certify(c),
        "revenue_status": rev_status,
        "revenue_p_ge_target_worst_month": None if rev_worst is None else rev_worst.p,
        "sdr_decisions": search.decision_rows(),
        # what the request's cost check counted before anything ran (an upper bound per stage)
        "replications_bound": budget.request_bound(
            sc, reps=reps, max_headcount=max_headcount, keep=tuple(keep), min_reps=min_reps,
            sensitivity_reps=sensitivity_reps, tornado=tornado, menu=first_touch_menu,
            revenue_target=target),
    }
    fronts = [search.candidate(search.known[r["policy"]], r["staffing"])
              for r in policies["frontier"]]
    return Recommendation(req, sc, recommended, comms, headcount, volumes, rev_rows, menu,
                          tornado_rows, binding, months, facts, notes, shortfalls, rev_menu,
                          policies, fronts, money, rep_rows)


def _volumes(sc1: Scenario, rev_analytic: Any, ev: Evaluator, vals: np.ndarray,
             months: list[str], scale0: float, scale: float,
             sim_first: float | None) -> list[dict[str, Any]]:  # fmt: skip
    """Per channel: analytic reverse-funnel volumes and the recommended leads per month."""
    out = []
    rf = None if rev_analytic is None else rev_analytic.set_index("channel")
    for ch in sc1.channels:
        row = {"channel": ch.name, "leads_per_month": ch.leads_per_month}
        if rf is not None:
            r = rf.loc[ch.name]
            row |= {"analytic_leads": float(r["leads"]), "analytic_mqls": float(r["mqls"]),
                    "analytic_sqls": float(r["sqls"]), "analytic_wins": float(r["wins"])}
        out.append(row)
    tot = {"channel": "total", "leads_per_month": sum(c.leads_per_month for c in sc1.channels),
           "scale_analytic": scale0, "scale_simulated": scale,
           "simulated_revenue_at_analytic_volumes": sim_first}  # fmt: skip
    for metric in ("mqls", "sqls", "wins", "revenue"):
        tot[f"simulated_{metric}_mean"] = float(np.mean(
            [ev.column(vals, metric, m) for m in months]))
    if rf is not None:
        for k in ("leads", "mqls", "sqls", "wins"):
            tot[f"analytic_{k}"] = float(rf.loc["total", k])
    out.append(tot)
    return out


def _tornado(ev: Evaluator, sc: Scenario, reps: int, days: np.ndarray) -> list[dict[str, Any]]:
    """Revenue P50 and P(first touch met in a month) at each +-20 % move, same seeds."""
    mv = sensitivity.moves(sc)
    wanted = [(sc, [sc.sla])] + [(m.scenario, [m.scenario.sla]) for m in mv if m.scenario]
    ev.ensure(wanted, reps, desc="sensitivity")

    def measure(s: Scenario) -> tuple[float, float]:
        v = ev.values(s, s.sla, reps)
        months = ev.months()
        rev = np.column_stack([ev.column(v, "revenue", m) for m in months])
        ft = met_matrix(ev, v, "first_touch")
        ok = ~np.isnan(ft)
        return sensitivity.revenue_p50(rev), float(ft[ok].mean()) if ok.any() else float("nan")

    r0, p0 = measure(sc)
    rows: dict[str, dict[str, Any]] = {}
    for m in mv:
        row = rows.setdefault(m.name, {"input": m.name, "revenue_p50_base": r0,
                                       "p_first_touch_met_base": p0})  # fmt: skip
        if m.scenario is None:
            row |= {f"factor_{m.direction}": m.factor, f"error_{m.direction}": m.error}
            continue
        r, p = measure(m.scenario)
        row |= {f"factor_{m.direction}": m.factor, f"revenue_p50_{m.direction}": r,
                f"p_first_touch_met_{m.direction}": p}  # fmt: skip
    out = list(rows.values())
    for row in out:
        row["revenue_swing"] = abs(row.get("revenue_p50_high", r0) - row.get("revenue_p50_low",
                                                                               r0))  # fmt: skip
    out.sort(key=lambda r: -r["revenue_swing"])
    return out


__all__ = ["FIRST_TOUCH_MENU", "LEVERS", "Commitment", "Recommendation", "Request", "check",
           "recommend"]
