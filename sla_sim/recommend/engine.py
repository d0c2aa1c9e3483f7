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
   :data:`AE_WAIT_DAYS` day for an opportunity slot, each month).
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
from sla_sim.recommend import analytic, sensitivity
from sla_sim.recommend.search import (
    SALES_CLAUSES,
    STOP_LEVEL,
    CellP,
    Evaluator,
    cell_p,
    decide,
    met_matrix,
    per_month,
)
from sla_sim.scenario.io import _index, _split
from sla_sim.scenario.schema import Scenario, SLASpec

#: First-touch windows of the trade-off menu, business hours (issue 10).
FIRST_TOUCH_MENU = (0.5, 1.0, 2.0, 4.0, 8.0)
#: Handoff windows tried for marketing's handoff commitment, clock hours.
HANDOFF_MENU = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 24.0)
#: The AE capacity clause: mean days an SQL waits for an AE with a free opportunity slot.
AE_WAIT_DAYS = 1.0
#: Lowest and highest confidence a request may ask for.
CONFIDENCE_RANGE = (0.5, 0.999)
#: Replications per sensitivity move (common random numbers make the differences precise).
SENSITIVITY_REPS = 8
#: Tighter first-touch windows of the menu are searched up to this many times the SDRs of
#: the requested window; beyond it the menu reports "more than".
MENU_CAP_FACTOR = 2
#: The schema's largest team and AE count.
SCHEMA_MAX = 500
#: Headcount a search may reach before the request is declared infeasible.
MAX_HEADCOUNT = 500
#: Levers the recommender sets, and what ``--keep`` of each freezes.
LEVERS = {
    "teams[*].reps": "SDR headcount of that team",
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


@dataclass
class Commitment:
    """One commitment: who owes it, what, and how often it is met per month."""

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

    @property
    def p_met_min(self) -> CellP:
        """The month with the lowest P(met) (the binding month)."""
        judged = [c for c in self.p_met if c.n > 0]
        return min(judged, key=lambda c: c.p) if judged else CellP(0, 0, 0.0, 1.0)


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
          reps: int, seed: int, workers: int) -> None:  # fmt: skip
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


def _kept(keep: tuple[str, ...], sc: Scenario) -> dict[str, Any]:
    """Which levers are frozen."""
    parts = [_split(p) for p in keep]
    teams = set()
    for p in parts:
        if p[0] == "teams" and (len(p) == 1 or (len(p) >= 2 and p[-1] in ("reps", p[1]))):
            names = [t.name for t in sc.teams] if len(p) == 1 else [
                sc.teams[_index([t.model_dump() for t in sc.teams], p[1])].name]
            teams.update(names)
    return {
        "teams": teams,
        "ae": any(p[:2] == ["ae", "count"] or p == ["ae"] for p in parts),
        "volumes": any(p[0] == "channels" and (len(p) <= 2 or p[-1] == "leads_per_month")
                       for p in parts),
        "mql": any(p[:2] in (["sla", "mql_commitment_per_month"], ["sla"]) for p in parts),
        "acceptance": any(p[:2] in (["sla", "acceptance_rate_min"], ["sla"]) for p in parts),
        "handoff": any(p[:2] in (["sla", "handoff_within_hours"], ["sla"]) for p in parts),
    }


# ------------------------------------------------------------------------------ helpers


def _with(sc: Scenario, sdr: dict[str, int] | None = None, ae: int | None = None,
          scale: float | None = None, sla: SLASpec | None = None) -> Scenario:  # fmt: skip
    d = sc.model_dump(mode="python")
    if sdr is not None:
        for t in d["teams"]:
            t["reps"] = sdr[t["name"]]
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
              tornado: bool = True, max_headcount: int = MAX_HEADCOUNT) -> Recommendation:
    """Recommend volumes, commitments and headcount (see the module docstring).

    A search that would need more than ``max_headcount`` SDRs (per team) or AEs raises a
    ScenarioError naming the lever that runs out."""
    check(sc, revenue_target, confidence, keep, reps, seed, workers)
    cluster = None
    if dask == "local":  # one local cluster for the whole recommendation, not one per request
        from sla_sim.batch.executors import local_cluster

        cluster = local_cluster(workers)
        dask = cluster.scheduler_address
    ev = Evaluator(seed, workers, dask, progress)
    ok = False
    try:
        rec = _recommend(ev, sc, revenue_target, confidence, keep, reps, seed, progress,
                         sensitivity_reps, min_reps, first_touch_menu, tornado, max_headcount)
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
               max_headcount: int) -> Recommendation:  # fmt: skip
    from sla_sim.progress import progress_bar

    c = float(confidence)
    target = sc.sla.revenue_target_per_month if revenue_target is None else float(revenue_target)
    mn = min(reps, min_reps or 10)
    step = max(1, mn)
    sreps = min(reps, sensitivity_reps or max(2, min(reps, SENSITIVITY_REPS)))
    ft_req = sc.sla.first_touch_within_business_hours
    menu_t = tuple(sorted(set(first_touch_menu) | {ft_req}))
    req = Request(target, c, tuple(keep), reps, seed, mn, step, sreps, menu_t)
    kept = _kept(tuple(keep), sc)
    notes: list[str] = []
    timings: dict[str, float] = {}
    stages = ["analytic", "volumes", "sdr", "ae", "commitments"] + (
        ["sensitivity"] if tornado else [])
    bar = progress_bar(total=len(stages), desc="recommend", unit="stage", disable=not progress)

    def stage(name: str) -> None:
        ev.stage = name
        bar.set_postfix_str(name)
        timings[name] = time.perf_counter()

    def done() -> None:
        timings[ev.stage] = time.perf_counter() - timings[ev.stage]
        bar.update(1)

    base = sc.model_copy(update={"sla": _sla(sc, revenue_target_per_month=target)})
    # ---- 1. analytic
    stage("analytic")
    scale0 = 1.0 if kept["volumes"] else analytic.volume_scale(base, target)
    sc0 = _with(base, scale=scale0) if scale0 != 1.0 else base
    sdr_g = analytic.sdr_guess(sc0, c)
    ae_g = analytic.ae_guess(sc0, c)
    guess_sdr = {g.team: (t.reps if t.name in kept["teams"] else g.agents)
                 for g, t in zip(sdr_g, sc0.teams, strict=True)}  # fmt: skip
    guess_ae = sc0.ae.count if kept["ae"] else ae_g.agents
    rev_analytic = reverse_funnel.reverse(base, target) if not kept["volumes"] else None
    done()

    # ---- 2. volumes
    stage("volumes")
    scale = scale0
    sim_first: float | None = None
    if not kept["volumes"] and target > 0:
        # generous staffing, so that capacity does not hold revenue back
        probe = _with(sc0, sdr={k: min(SCHEMA_MAX, max(2 * v, v + 2))
                                for k, v in guess_sdr.items()},
                      ae=min(SCHEMA_MAX, max(2, math.ceil(1.5 * guess_ae))))
        ev.ensure([(probe, [probe.sla])], mn, desc="volumes")
        vals = ev.values(probe, probe.sla, mn)
        monthly = np.column_stack([ev.column(vals, "revenue", m) for m in ev.months()])
        sim_first = float(monthly.mean())
        if sim_first > 0:
            scale = scale0 * target / sim_first
        else:
            raise ScenarioError([Issue("channels", "produce no simulated revenue, so no volume"
                                       " reaches the target", sim_first)], "recommend request")
    sc1 = _with(base, scale=scale) if scale != 1.0 else base
    done()

    # ---- 3. SDR search (every first-touch window of the menu judged on each candidate)
    stage("sdr")
    sdr_g1 = analytic.sdr_guess(sc1, c)
    ae_g1 = analytic.ae_guess(sc1, c)
    guess1 = {g.team: g.agents for g in sdr_g1}
    free = [t.name for t in sc1.teams if t.name not in kept["teams"]]
    fixed = {t.name: t.reps for t in sc1.teams if t.name in kept["teams"]}
    ae_for_sdr = sc1.ae.count if kept["ae"] else max(ae_g1.agents, guess_ae)
    menu_slas = {h: _sla(sc1, first_touch_within_business_hours=h) for h in menu_t}

    def sdr_of(d: int) -> dict[str, int]:
        return {**{n: max(1, guess1[n] + d) for n in free}, **fixed}

    def guess_total(d: int) -> int:
        return sum(sdr_of(d).values())

    def cand_sdr(d: int) -> Scenario:
        return _with(sc1, sdr=sdr_of(d), ae=ae_for_sdr)

    def sales_cells(cand: Scenario, sla: SLASpec, k: int) -> list[CellP]:
        ev.ensure([(cand, list(menu_slas.values()))], k, desc="SDR candidates")
        vals = ev.values(cand, sla, k)
        return [cell for cl in SALES_CLAUSES
                for cell in per_month(met_matrix(ev, vals, cl), STOP_LEVEL)]

    decisions: dict[tuple[int, float], tuple[bool, int]] = {}

    def met_sdr(d: int, h: float) -> bool:
        if (d, h) not in decisions:
            cand = cand_sdr(d)
            decisions[(d, h)] = decide(lambda k: sales_cells(cand, menu_slas[h], k), c, mn,
                                       reps, step)  # fmt: skip
        return decisions[(d, h)][0]

    lo_d = 1 - min((guess1[n] for n in free), default=1)
    hi_d = max_headcount - max((guess1[n] for n in free), default=0)
    sdr_delta: dict[float, int | None] = dict.fromkeys(menu_t, 0)
    menu_cap: int | None = None
    if free:
        lever = f"teams[{free[0]}].reps"
        what = "the sales clauses with first touch within {:g} business hours at confidence {:g}"
        # the requested window first, from the analytic guess
        sdr_delta[ft_req] = _search_min(lambda d: met_sdr(d, ft_req), 0, lo_d, hi_d, lever,
                                        what.format(ft_req, c))  # fmt: skip
        star = sdr_delta[ft_req]
        # looser windows need no more: search down from the answer; tighter ones up to
        # MENU_CAP_FACTOR x the answer (beyond that the menu says "more than")
        menu_cap = min(hi_d, guess_total(star) * MENU_CAP_FACTOR - sum(guess1[n] for n in free))
        for h in menu_t:
            if h == ft_req:
                continue
            try:
                sdr_delta[h] = _search_min(lambda d, h=h: met_sdr(d, h), star, lo_d,
                                           star if h > ft_req else menu_cap, lever,
                                           what.format(h, c))  # fmt: skip
            except ScenarioError:
                sdr_delta[h] = None
    # never fewer SDRs for a tighter window: loosest first, carry the running maximum
    run_max: int | None = None
    for h in sorted(menu_t, reverse=True):
        d = sdr_delta[h]
        if d is not None:
            run_max = d if run_max is None else max(run_max, d)
            sdr_delta[h] = run_max
    d_star = sdr_delta[ft_req]
    assert d_star is not None
    sdr_star = sdr_of(d_star)
    done()

    # ---- 4. AE search (handoff menu judged on each candidate)
    stage("ae")
    hand_slas = {h: _sla(sc1, handoff_within_hours=h) for h in HANDOFF_MENU}
    wanted_slas = [sc1.sla, *hand_slas.values()]
    win = window_for(sc1)
    days = np.array([p.hours / 24.0 for p in win.months])

    def ae_cells(cand: Scenario, k: int) -> list[CellP]:
        ev.ensure([(cand, wanted_slas)], k, desc="AE candidates")
        return per_month(_ae_met(ev, ev.values(cand, sc1.sla, k), days), STOP_LEVEL)

    def met_ae(n: int) -> bool:
        cand = _with(sc1, sdr=sdr_star, ae=n)
        return decide(lambda k: ae_cells(cand, k), c, mn, reps, step)[0]

    if kept["ae"]:
        ae_star = sc1.ae.count
    else:
        ae_star = _search_min(met_ae, ae_g1.agents, 1, max_headcount, "ae.count",
                              f"the AE capacity clause at confidence {c:g}")  # fmt: skip
    final = _with(sc1, sdr=sdr_star, ae=ae_star)
    ev.ensure([(final, wanted_slas)], reps, desc="final")
    vals = ev.values(final, sc1.sla, reps)
    done()

    # ---- 5. commitments
    stage("commitments")
    months = ev.months()
    mqls = np.column_stack([ev.column(vals, "mqls", m) for m in months])
    basis_factor = np.array([ev.column(vals, "mql_commitment", m)[0] for m in months]) / max(
        sc1.sla.mql_commitment_per_month, 1e-300)
    if sc1.sla.mql_commitment_per_month <= 0:
        basis_factor = np.array([p.hours / (analytic.DAYS_PER_MONTH * 24) for p in win.months])
    if kept["mql"]:
        mql_c = sc1.sla.mql_commitment_per_month
    else:
        norm = mqls / basis_factor
        mql_c = float(math.floor(min(quantile_lower_bound(norm[:, j], 1 - c)
                                     for j in range(len(months)))))  # fmt: skip
    acc = np.column_stack([ev.column(vals, "acceptance_rate", m) for m in months])
    if kept["acceptance"]:
        acc_c = sc1.sla.acceptance_rate_min
    else:
        acc_c = math.floor(100 * min(quantile_lower_bound(acc[:, j], 1 - c)
                                     for j in range(len(months)))) / 100  # fmt: skip
    hand_met = {h: per_month(met_matrix(ev, ev.values(final, s, reps), "handoff"))
                for h, s in hand_slas.items()}  # fmt: skip
    if kept["handoff"]:
        hand_c = sc1.sla.handoff_within_hours
        hand_cells = per_month(met_matrix(ev, vals, "handoff"))
    else:
        # the tightest window whose one-sided lower bound clears c in every month (a point
        # estimate would pick, among many windows, one that passed by luck)
        ok = [h for h in HANDOFF_MENU if all(x.low >= c for x in per_month(met_matrix(
            ev, ev.values(final, hand_slas[h], reps), "handoff"), STOP_LEVEL) if x.n)]
        hand_c = ok[0] if ok else HANDOFF_MENU[-1]
        if not ok and all(x.p >= c for x in hand_met[hand_c] if x.n):
            notes.append(f"The handoff window of {hand_c:g} h is met in every simulated month, but"
                         f" {reps} replications cannot show P(met) >= {c:g} with 90% confidence:"
                         " increase --reps for a tighter handoff commitment.")
        elif not ok:
            notes.append(f"No handoff window up to {HANDOFF_MENU[-1]:g} h is met with P >= {c:g};"
                         " the ops delay (handoff.ops_delay_hours) or batch cadence binds.")
        hand_cells = hand_met[hand_c]
    rec_sla = _sla(sc1, mql_commitment_per_month=mql_c, acceptance_rate_min=acc_c,
                   handoff_within_hours=hand_c)  # fmt: skip
    recommended = _with(final, sla=rec_sla)
    mql_ind = (mqls >= mql_c * basis_factor).astype(float)
    acc_ind = np.where(np.isnan(acc), np.nan, (acc >= acc_c).astype(float))
    sla = rec_sla
    basis = getattr(sla, "mql_commitment_basis", "month")
    clk_ft = "business hours of the owning team's calendar"
    comms = [
        Commitment("marketing", "mql_volume",
                   f"Marketing delivers at least {mql_c:,.0f} MQLs per month"
                   f" (scaled to each month by the '{basis}' basis).", mql_c, "MQLs", "calendar",
                   "month", basis, per_month(mql_ind), months,
                   f"90% lower confidence bound of the {1 - c:.0%} quantile of simulated"
                   " monthly MQLs (per the basis), worst month"),
        Commitment("marketing", "acceptance",
                   f"At least {acc_c:.0%} of the MQLs sales dispositions in a month are accepted"
                   " as SQLs.", acc_c, "share", "calendar", "month", "share of dispositioned"
                   " MQLs", per_month(acc_ind), months,
                   f"90% lower confidence bound of the {1 - c:.0%} quantile of simulated"
                   " monthly acceptance, worst month"),
        Commitment("handoff", "handoff",
                   f"{sla.lead_compliance_target:.0%} of MQLs are routed to sales within"
                   f" {hand_c:g} clock hours.", hand_c, "hours", "clock hours", "month",
                   "per lead", hand_cells, months, "tightest window of the menu whose one-sided"
                   " 90% Wilson lower bound of P(met) is >= c in every month"),
    ]
    for cl, tgt, unit, clock, text in (
        ("first_touch", sla.first_touch_within_business_hours, "business hours", clk_ft,
         f"{sla.lead_compliance_target:.0%} of MQLs get a first attempt within"
         f" {sla.first_touch_within_business_hours:g} business hours of the"
         f" {sla.first_touch_from}."),
        ("attempts", sla.attempts_within_days, "days", "clock days",
         f"{sla.lead_compliance_target:.0%} of MQLs get {sla.attempts_required} attempts (or are"
         f" reached sooner) within {sla.attempts_within_days:g} days."),
        ("disposition", sla.disposition_within_days, "days", "clock days",
         f"{sla.lead_compliance_target:.0%} of MQLs are dispositioned within"
         f" {sla.disposition_within_days:g} days."),
    ):
        comms.append(Commitment("sales", cl, text, tgt, unit, clock, "month", "per lead",
                                per_month(met_matrix(ev, vals, cl)), months,
                                "requested term; SDR headcount searched to meet it"))  # fmt: skip
    comms.append(Commitment(
        "sales", "ae_capacity", f"SQLs wait on average at most {AE_WAIT_DAYS:g} day for an AE"
        " with a free opportunity slot.", AE_WAIT_DAYS, "days", "clock days", "month",
        "mean over the month's SQLs (Little's law on the AE queue)",
        per_month(_ae_met(ev, vals, days)), months, "AE headcount searched to meet it"))
    binding_c = min(comms, key=lambda x: x.p_met_min.p if x.p_met_min.n else 2.0)
    binding = binding_c.clause

    rev = np.column_stack([ev.column(vals, "revenue", m) for m in months])
    revenue = []
    for j, m in enumerate([*months, "per month (pooled)"]):
        x = rev[:, j] if j < len(months) else rev.ravel()
        p10, p50, p90 = np.percentile(x, [10, 50, 90])
        cp = cell_p((x >= target).astype(float))
        revenue.append({"period": m, "p10": float(p10), "p50": float(p50), "p90": float(p90),
                        "mean": float(x.mean()), "target": target, "p_ge_target": cp.p,
                        "p_ge_target_low": cp.low, "p_ge_target_high": cp.high})  # fmt: skip

    headcount = [{"team": g.team, "role": "SDR", "analytic": g.agents,
                  "simulated": sdr_star[g.team], "kept": g.team in kept["teams"],
                  "basis": g.as_dict()} for g in sdr_g1]  # fmt: skip
    headcount.append({"team": "ae", "role": "AE", "analytic": ae_g1.agents, "simulated": ae_star,
                      "kept": kept["ae"], "basis": ae_g1.as_dict()})  # fmt: skip

    volumes = _volumes(sc1, rev_analytic, ev, vals, months, scale0, scale, sim_first)

    menu = []
    for h in menu_t:
        d = sdr_delta[h]
        row: dict[str, Any] = {"first_touch_hours": h, "requested": h == ft_req,
                               "sdr_analytic": analytic.sdr_guess_for(sc1, h, c)}
        if d is None:
            more = None if menu_cap is None else guess_total(menu_cap)
            row |= {"sdrs": None, "sdrs_more_than": more, "p_met": None, "p_met_low": None,
                    "p_met_high": None, "revenue_p50": None, "feasible": False}  # fmt: skip
        else:
            cand = cand_sdr(d)
            k = ev.have(cand, menu_slas[h])
            v = ev.values(cand, menu_slas[h], k)
            cells = per_month(met_matrix(ev, v, "first_touch"))
            worst = min((x for x in cells if x.n), key=lambda x: x.p)
            r = np.column_stack([ev.column(v, "revenue", m) for m in months])
            row |= {"sdrs": sum(sdr_of(d).values()), "p_met": worst.p, "p_met_low": worst.low,
                    "p_met_high": worst.high, "replications": k,
                    "revenue_p50": float(np.median(r)), "feasible": True}  # fmt: skip
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
    judged_all = ev.counter.judged
    facts = {
        "seed": seed, "replications": reps, "min_replications": mn, "step": step,
        "sensitivity_replications": sreps, "confidence": c,
        "scenario_hash": scenario_hash(sc), "recommended_hash": scenario_hash(recommended),
        "sla_sim_version": package_version(),
        "seconds_per_stage": {k: round(v, 3) for k, v in timings.items()},
        "replications_simulated": ev.counter.simulated,
        "replications_judged": judged_all,
        "replications_per_stage": {k: {"simulated": s, "judged": j}
                                   for k, (s, j) in t_sims.items()},
        "interval": "Wilson 95% (reported); one-sided 90% Wilson bounds for the sequential"
                    " stop",
        "sdr_decisions": [{"sdrs": sum(sdr_of(d).values()), "first_touch_hours": h,
                           "met": m, "replications": k}
                          for (d, h), (m, k) in sorted(decisions.items())],
    }
    return Recommendation(req, sc, recommended, comms, headcount, volumes, revenue, menu,
                          tornado_rows, binding, months, facts, notes)


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


def _ae_met(ev: Evaluator, vals: np.ndarray, days: np.ndarray) -> np.ndarray:
    """(replications x months) 1 if SQLs waited on average at most AE_WAIT_DAYS for an AE."""
    months = ev.months()
    q = np.column_stack([ev.column(vals, "ae_queue_mean", m) for m in months])
    sqls = np.column_stack([ev.column(vals, "sqls", m) for m in months])
    with np.errstate(divide="ignore", invalid="ignore"):
        wait = np.where(sqls > 0, q * days / sqls, 0.0)  # Little: W = L / lambda
    return (wait <= AE_WAIT_DAYS).astype(float)


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
