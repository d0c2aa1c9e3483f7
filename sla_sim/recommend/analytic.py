"""The analytic first guess: volumes from the reverse funnel, SDRs from Erlang C, AEs from
Little's law.

Everything here is closed-form and takes milliseconds; the simulation then confirms and refines
it (:mod:`sla_sim.recommend.search`). The approximations, stated so the output can explain them:

* **Volumes.** :func:`sla_sim.analysis.reverse_funnel.reverse` scales every channel's leads so
  that the expected revenue of first MQL episodes equals the target. It ignores nurtured and
  recycled MQLs, so the simulation corrects the scale once (see the engine).
* **SDRs (first touch).** All MQLs of a month are offered to the team during its working hours
  (a lead arriving at night waits for the opening, and its business-hour clock has not started).
  Arrival rate ``lam`` = MQLs per working hour; each MQL brings the expected attempts of the
  cadence (until reached) of ``attempt_minutes / (1 - shrinkage)`` each, so the offered load is
  ``a = lam * work_h``. The fewest agents with Erlang C service level
  ``P(wait <= T) >= lead_compliance_target`` is the queueing guess. A second bound comes from
  the lead slots: active leads (Little's law: MQLs per day x days a lead stays with its SDR)
  must fit in ``reps * max_active_leads`` with probability ``coverage`` (Poisson). The guess is
  the larger of the two.
* **AEs.** Open opportunities = SQLs per day x mean cycle days (Little); the AEs whose
  ``max_open_opportunities`` hold that Poisson number with probability ``coverage``. With
  selling time, at least the square-root staffing of the selling hours' offered load: SQLs per
  AE business hour x the business hours each opportunity takes
  (``selling_hours_per_opportunity / selling_share``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sla_sim.analysis import reverse_funnel, staffing
from sla_sim.model.sdr import contact_curve
from sla_sim.scenario.schema import Scenario

#: Mean days per month (the unit of ``leads_per_month``).
DAYS_PER_MONTH = 365.25 / 12
WEEKS_PER_MONTH = DAYS_PER_MONTH / 7


@dataclass(frozen=True)
class SdrGuess:
    """The analytic SDR headcount of one team and the numbers behind it."""

    team: str
    mqls_per_month: float
    working_hours_per_month: float
    attempts_per_mql: float
    work_hours_per_mql: float
    offered_load_erlangs: float
    erlang_c_agents: int
    service_level_at_guess: float
    active_days_per_lead: float
    slot_agents: int
    fluid_agents: int
    fluid_compliance_at_guess: float
    agents: int

    def as_dict(self) -> dict[str, float | int | str]:
        """Plain fields, for the JSON export."""
        return asdict(self)


@dataclass(frozen=True)
class AeGuess:
    """The analytic AE headcount and the numbers behind it."""

    sqls_per_month: float
    cycle_days_mean: float
    open_opportunities_mean: float
    agents: int
    selling_load_aes: float = 0.0  # AEs the selling hours keep busy (offered load)

    def as_dict(self) -> dict[str, float | int]:
        """Plain fields, for the JSON export."""
        return asdict(self)


def attempts_and_active_days(sc: Scenario, response_hours: float) -> tuple[float, float]:
    """Expected attempts per MQL and days a lead stays with its SDR, when attempt k happens
    ``response_hours + 24 cadence_days[k]`` hours after the MQL and the cadence stops at the
    first reach."""
    curve = contact_curve(sc.follow_up.contact)
    cadence = sc.follow_up.cadence_days
    still, attempts, days = 1.0, 0.0, 0.0
    for k, day in enumerate(cadence):
        attempts += still
        p = curve(response_hours + 24.0 * day, k)
        days += still * p * day
        still *= 1.0 - p
    days += still * cadence[-1]
    return attempts, days + response_hours / 24.0


def team_shares(sc: Scenario) -> list[float]:
    """Share of the MQL flow each team receives (by channel or segment routing; even split of
    a team rule's ambiguity)."""
    n = len(sc.teams)
    if n == 1 or sc.routing.team_rule == "single":
        return [1.0] + [0.0] * (n - 1)
    by_ch = mqls_by_channel(sc)
    total = sum(by_ch[c.name] for c in sc.channels) or 1.0
    shares = [0.0] * n
    for ch in sc.channels:
        if sc.routing.team_rule == "by_channel":
            owners = [i for i, t in enumerate(sc.teams) if ch.name in t.channels] or [0]
            for i in owners:
                shares[i] += by_ch[ch.name] / total / len(owners)
        else:
            for seg, w in ch.segment_mix.items():
                owners = [i for i, t in enumerate(sc.teams) if seg in t.segments] or [0]
                for i in owners:
                    shares[i] += by_ch[ch.name] / total * w / len(owners)
    return shares


def mqls_by_channel(sc: Scenario) -> dict[str, float]:
    """Expected new MQLs per month of each channel (leads x P(score >= threshold)): the MQL
    rows of :func:`sla_sim.analysis.reverse_funnel.forward` without its SQL integrals, which
    take most of its time and which the SDR guess does not read."""
    return {ch.name: ch.leads_per_month * reverse_funnel.p_mql(ch, sc.mql_threshold_points)
            for ch in sc.channels}


def sdr_guess(sc: Scenario, coverage: float) -> list[SdrGuess]:
    """The analytic SDRs per team for the scenario's first-touch clause."""
    sla = sc.sla
    mqls = sum(mqls_by_channel(sc).values())
    minutes = sc.follow_up.attempt_minutes.mean
    out = []
    for team, share in zip(sc.teams, team_shares(sc), strict=True):
        m = mqls * share
        hours = team.calendar.weekly_hours * WEEKS_PER_MONTH
        attempts, active_days = attempts_and_active_days(sc, sla.first_touch_within_business_hours)
        work_h = attempts * minutes / 60.0 / (1.0 - team.shrinkage)
        if m <= 0:
            out.append(SdrGuess(team.name, 0.0, hours, attempts, work_h, 0.0, 1, 1.0,
                                active_days, 1, 1, 1.0, 1))  # fmt: skip
            continue
        lam = m / hours
        load = staffing.offered_load(lam, work_h)
        # agents on duty on the thinnest working day of the team calendar (a weekend rota
        # takes some reps off on weekdays): the total that keeps the queueing bound on duty
        n_q = math.ceil(queue_bound(team, load, sla.first_touch_within_business_hours, work_h,
                                    sla.lead_compliance_target) / weekday_duty(team) - 1e-9)
        active = staffing.littles_law_open(m / DAYS_PER_MONTH, active_days)
        n_s = staffing.servers_for_open_items(active, team.max_active_leads, coverage)
        attempt_h = minutes / 60.0 / (1.0 - team.shrinkage)
        fluid = fluid_week(sc, team, m, attempt_h, attempts,
                           sla.first_touch_within_business_hours)  # fmt: skip
        n_f = _smallest(lambda n, f=fluid: f(n) >= sla.lead_compliance_target, max(n_q, n_s))
        n = max(n_q, n_s, n_f)
        out.append(SdrGuess(team.name, m, hours, attempts, work_h, load, n_q,
                            staffing.service_level(load, n, sla.first_touch_within_business_hours,
                                                   work_h), active_days, n_s, n_f, fluid(n), n))

    return out


def queue_bound(team: Any, load: float, within_bh: float, work_h: float,
                target: float) -> int:  # fmt: skip
    """The queueing bound of a team's SDRs, by assignment mode: ``pull`` is one shared queue
    (Erlang C, M/M/c); ``immediate`` gives each rep a private backlog by round robin, so each
    rep is an M/M/1 queue at ``load / n`` (no pooling): the fewest ``n`` whose single-server
    service level P(wait <= T) reaches the target."""
    if team.assignment == "pull":
        return staffing.agents_for_service_level(load, within_bh, work_h, target)

    def ok(n: int) -> bool:
        return load / n < 1 and staffing.service_level(load / n, 1, within_bh, work_h) >= target

    return _smallest(ok, max(1, math.ceil(load)))


def _smallest(ok: Callable[[int], bool], start: int, cap: int = 5000) -> int:
    """Smallest n >= start with ok(n) (monotone), ``cap`` if none up to it: doubling steps,
    then bisection (a few calls of ``ok`` instead of one per value)."""
    n = max(1, start)
    if ok(n):
        return n
    step = 1
    while True:
        m = min(cap, n + step)
        if ok(m):
            return staffing.bisect_smallest(ok, n, m)
        if m >= cap:
            return cap
        n, step = m, step * 2


#: Time step of the fluid week, hours.
FLUID_STEP_H = 0.1


def weekly_fluid_compliance(sc: Scenario, team: Any, mqls_per_month: float, reps: int,
                            attempt_h: float, attempts: float, within_bh: float) -> float:
    """Share of first touches within ``within_bh`` business hours in a deterministic (fluid)
    week with ``reps`` SDRs (see :func:`fluid_week`)."""
    return fluid_week(sc, team, mqls_per_month, attempt_h, attempts, within_bh)(reps)


def fluid_week(sc: Scenario, team: Any, mqls_per_month: float, attempt_h: float,
               attempts: float, within_bh: float) -> Callable[[int], float]:
    """The share of first touches within ``within_bh`` business hours in a deterministic
    (fluid) week, as a function of the team's reps: MQLs arrive at the scenario's weekday x hour
    profile, the reps on duty (team calendar, or each rep's calendar of a rota) work, follow-up
    attempts take their share of the capacity, and first touches are served first come first
    served. This is what Erlang C misses: the MQLs of nights and weekends waiting for the
    opening. Four weeks are run so the backlog is periodic; the third is measured (the fourth
    serves its weekend). The team's work order decides what the first touches wait behind:
    under ``due_first`` every follow-up joins the same queue when it falls due (those due over
    the weekend are served on Monday morning before the weekend's new MQLs); under
    ``new_first`` and ``deadline_first`` first touches go first. The arrays are built once;
    each call runs only the queue."""
    a = sc.arrivals
    step = FLUID_STEP_H
    t = np.arange(0.0, 4 * 168.0, step)
    wd = (t // 24).astype(int) % 7
    hr = (t % 24).astype(int)
    w = np.asarray(a.weekday_weights)[wd] / np.mean(a.weekday_weights) * (
        np.asarray(a.hour_weights)[hr] / np.mean(a.hour_weights))
    rate = mqls_per_month / (DAYS_PER_MONTH * 24.0) * w  # MQLs per hour
    open_ = _open(team.calendar, t)  # the SLA clock runs on the team calendar
    per_rep = duty(team, t) / attempt_h * step  # attempts one rep can start per step
    other = np.zeros_like(rate)
    if team.work_order == "due_first":
        # follow-ups join the one queue when due (cadence days after the MQL, scaled to the
        # expected attempts), so those due over a weekend are served on Monday before the
        # weekend's new MQLs: the first touches wait behind them
        shares = _follow_up_shares(sc, attempts)
        for day, share in zip(sc.follow_up.cadence_days[1:], shares, strict=False):
            other += np.roll(rate, round(24.0 * day / step)) * share
    # new_first / deadline_first: first touches are started before any follow-up (the
    # follow-ups take the capacity left; the Erlang C bound keeps the total load below it)

    def compliance(reps: int) -> float:
        return _fifo_compliance(t, step, rate, other, reps * per_rep, open_, within_bh)

    return compliance


def _open(cal: Any, t: np.ndarray) -> np.ndarray:
    """Whether calendar ``cal`` is open at each hour ``t`` of the fluid weeks (from Monday
    00:00; time zones and holidays are not modelled here)."""
    if cal.always_open:
        return np.ones_like(t, dtype=bool)
    wd, hod = (t // 24).astype(int) % 7, t % 24
    return np.isin(wd, cal.working_days) & (hod >= cal.start_hour) & (hod < cal.end_hour)


def duty(team: Any, t: np.ndarray) -> np.ndarray:
    """Share of a team's reps working at each hour ``t``: the team calendar, or the mean over
    ``rep_calendars`` (a weekend rota: some reps work Wednesday to Sunday)."""
    cals = team.rep_calendars or [team.calendar]
    return np.mean([_open(c, t) for c in cals], axis=0)


def weekday_duty(team: Any) -> float:
    """Share of a team's reps working on the thinnest working day of the team calendar (1.0
    without rep calendars)."""
    if not team.rep_calendars or team.calendar.always_open:
        return 1.0
    days = team.calendar.working_days
    return max(1e-9, min(sum(c.always_open or d in c.working_days for c in team.rep_calendars)
                         for d in days) / len(team.rep_calendars))  # fmt: skip


def _follow_up_shares(sc: Scenario, attempts: float) -> list[float]:
    """Expected follow-up attempts at each cadence step after the first, per MQL (the share
    still unreached), scaled so that they add up to ``attempts - 1``."""
    curve = contact_curve(sc.follow_up.contact)
    still, out = 1.0, []
    for k, day in enumerate(sc.follow_up.cadence_days):
        if k:
            out.append(still)
        still *= 1.0 - curve(24.0 * day, k)
    total = sum(out)
    return [x * max(attempts - 1.0, 0.0) / total for x in out] if total > 0 else out


def _fifo_compliance(t: np.ndarray, step: float, rate: np.ndarray, other: np.ndarray,
                     cap: np.ndarray, open_: np.ndarray, within_bh: float) -> float:
    """Share of first touches (arriving at ``rate`` per hour) started within ``within_bh``
    business hours when they share one first-come-first-served queue with ``other`` work
    (per hour) and the capacity ``cap`` per step; the third of four weeks is measured."""
    total = rate + other
    arrived = np.cumsum(total * step)
    # the backlog after each step, b_i = max(0, b_(i-1) + arrivals_i - capacity_i) (Lindley),
    # in closed form: S_i - min(0, min_(k<=i) S_k) with S the cumulative arrivals - capacity
    net = np.cumsum(total * step - cap)
    backlog = net - np.minimum.accumulate(np.minimum(net, 0.0))
    served = arrived - backlog  # served so far = arrived so far - still waiting
    bh = np.cumsum(open_ * step)  # business hours elapsed
    week = (t >= 2 * 168.0) & (t < 3 * 168.0)
    # the lead that arrived when the cumulative count reached x is served when served hits x
    idx = np.searchsorted(served, arrived[week], side="left")
    ok = idx < len(t)
    wait = np.full(int(week.sum()), np.inf)
    wait[ok] = bh[idx[ok]] - bh[week][ok]
    weights = rate[week]
    return float(np.sum(weights * (wait <= within_bh)) / np.sum(weights))


def ae_guess(sc: Scenario, coverage: float) -> AeGuess:
    """The analytic AE count: Little's law on open opportunities, Poisson quantile; with
    selling time, at least square-root staffing on the selling hours' offered load (SQLs per
    AE business hour x business hours each takes)."""
    fwd = reverse_funnel.forward(sc)
    by = fwd.set_index("channel")
    sqls = float(by.loc["total", "sqls"])
    cycle = sum(float(by.loc[c.name, "sqls"]) * c.cycle_days.mean for c in sc.channels)
    cycle = cycle / sqls if sqls > 0 else 0.0
    open_mean = staffing.littles_law_open(sqls / DAYS_PER_MONTH, cycle)
    n = staffing.servers_for_open_items(open_mean, sc.ae.max_open_opportunities, coverage)
    work_bh = sc.ae.work_business_hours
    load = sqls * work_bh / (sc.ae.calendar.weekly_hours * WEEKS_PER_MONTH)
    if load > 0:
        n = max(n, staffing.square_root_staffing(load, 1 - coverage))
    return AeGuess(sqls, cycle, open_mean, n, load)


def volume_scale(sc: Scenario, revenue_per_month: float) -> float:
    """The reverse funnel's scale on every channel's leads for a monthly revenue target."""
    rev = reverse_funnel.reverse(sc, revenue_per_month)
    return float(rev["scale_vs_scenario"].iloc[0])


def sdr_guess_for(sc: Scenario, hours: float, coverage: float) -> int:
    """Total analytic SDRs for a first-touch clause of ``hours`` business hours."""
    alt = sc.model_copy(update={"sla": sc.sla.model_copy(
        update={"first_touch_within_business_hours": hours})})
    return sum(g.agents for g in sdr_guess(alt, coverage))


def safe_ceil(x: float) -> int:
    """``ceil`` that tolerates float noise just above an integer."""
    return math.ceil(x - 1e-9)
