"""Validation of the funnel model against theory: Erlang C, Little's law, conservation, and
conversions with unlimited capacity equal to the product of the stage rates.

Statistical tests are marked ``slow``. Each uses fixed seeds and a z = 3.5 acceptance band on
standard errors estimated from independent replications (or from binomial variances), and also
asserts that the band is narrow enough for the check to mean something.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
from scipy.special import expit, logit
from scipy.stats import poisson

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
    mmc_scenario,
    unlimited_capacity_scenario,
)
from sla_sim.events import CODE, TERMINAL_EVENT_CODES
from sla_sim.horizon import horizon_hours
from sla_sim.model.funnel import IN_FLIGHT, FunnelModel
from sla_sim.model.reconcile import terminal_counts
from sla_sim.scenario.io import set_path
from sla_sim.scenario.presets import preset, preset_names
from sla_sim.streams import Streams, replication_seed

Z = 3.5
CDF_TIMES = (0.0, 0.5, 1.0, 2.0)
WARMUP_SHARE = 0.1  # share of each replication's leads (by routed time) discarded as warm-up


ENGINES = ("fast", "simpy")  # every simulation test here runs on both engines


def run_log(scenario, seed: int, replication: int, engine: str = "fast"
            ) -> tuple[FunnelModel, dict[str, np.ndarray]]:  # fmt: skip
    """Run one replication on ``engine`` and return the model and the sorted event-log
    columns (the engine really ran: no fallback)."""
    model = FunnelModel(scenario.model_copy(update={"engine": engine}),
                        Streams(replication_seed(seed, replication)))  # fmt: skip
    cols = model.run().columns()
    assert model.engine == engine
    return model, cols


def first_time(cols: dict[str, np.ndarray], event: str, n: int) -> np.ndarray:
    """Per lead, the time of its first ``event`` row (NaN if none); columns are time-sorted."""
    m = cols["event"] == CODE[event]
    lead, t = cols["lead"][m], cols["time_h"][m]
    out = np.full(n, np.nan)
    out[lead[::-1]] = t[::-1]  # later rows first, so the earliest write wins
    return out


def mean_se(x: np.ndarray) -> tuple[float, float]:
    """Mean across replications and its standard error (sd / sqrt(R))."""
    return float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(len(x)))


# ---------------------------------------------------------------------- Erlang C (fast)
def erlang_c_exact(lam: int, mu: int, c: int) -> Fraction:
    """Erlang C from the textbook sum formula, in exact rational arithmetic."""
    a = Fraction(lam, mu)
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.parametrize(("lam", "mu", "c"), [(9, 1, 10), (6, 1, 8), (1, 2, 1), (45, 3, 20)])
def test_erlang_c_matches_exact_sum_formula(lam: int, mu: int, c: int) -> None:
    """Erlang C and the derived M/M/c quantities agree with the exact factorial-sum formula."""
    C = float(erlang_c_exact(lam, mu, c))
    assert erlang_c(lam, mu, c) == pytest.approx(C, rel=1e-12)
    assert mmc_mean_wait(lam, mu, c) == pytest.approx(C / (c * mu - lam), rel=1e-12)
    assert mmc_mean_queue_length(lam, mu, c) == pytest.approx(lam * C / (c * mu - lam), rel=1e-12)
    assert utilisation(lam, mu, c) == pytest.approx(lam / (c * mu))
    assert mmc_wait_cdf(0.0, lam, mu, c) == pytest.approx(1 - C, rel=1e-12)
    t = np.array([-1.0, 0.5, 1.0, 2.0])
    expect = np.where(t >= 0, 1 - C * np.exp(-(c * mu - lam) * np.maximum(t, 0)), 0.0)
    np.testing.assert_allclose(mmc_wait_cdf(t, lam, mu, c), expect, rtol=1e-12)


def test_erlang_c_known_values() -> None:
    """Published reference values: λ=9, μ=1, c=10 gives P(wait) ≈ 0.6687 and E[Wq] ≈ 0.6687 h."""
    assert erlang_c(9, 1, 10) == pytest.approx(0.6687, abs=1e-4)
    assert mmc_mean_wait(9, 1, 10) == pytest.approx(0.6687, abs=1e-4)
    assert erlang_c(0.5, 1, 1) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert mmc_mean_wait(0.5, 1, 1) == pytest.approx(1.0)  # rho / (mu - lam)


def test_erlang_c_stable_for_many_servers() -> None:
    """For thousands of servers Erlang C stays finite and matches a log-space Poisson formula."""
    for lam, c in [(900.0, 1000), (4990.0, 5000)]:
        b_ref = poisson.pmf(c, lam) / poisson.cdf(c, lam)  # Erlang B = P(N=c) / P(N<=c)
        assert erlang_b(lam, c) == pytest.approx(b_ref, rel=1e-9)
        rho = lam / c
        assert erlang_c(lam, 1.0, c) == pytest.approx(b_ref / (1 - rho * (1 - b_ref)), rel=1e-9)
        assert 0.0 < erlang_c(lam, 1.0, c) < 1.0


@pytest.mark.parametrize(
    ("args", "names"),
    [
        ((0.0, 1.0, 2), ("lam", "> 0", "0.0")),
        ((-1.0, 1.0, 2), ("lam", "> 0", "-1.0")),
        ((math.nan, 1.0, 2), ("lam", "finite", "nan")),
        ((1.0, 0.0, 2), ("mu", "> 0", "0.0")),
        ((1.0, math.inf, 2), ("mu", "finite", "inf")),
        ((1.0, 1.0, 0), ("c", ">= 1", "0")),
        ((1.0, 1.0, 2.5), ("c", "integer", "2.5")),
        ((1.0, 1.0, True), ("c", "integer", "True")),
        ((10.0, 1.0, 10), ("lam", "< c*mu", "10.0")),
        ((12.0, 1.0, 10), ("lam", "< c*mu", "12.0")),
    ],
)
def test_erlang_c_input_validation(args: tuple, names: tuple[str, str, str]) -> None:
    """Invalid M/M/c parameters raise ValueError naming the argument, the rule and the value."""
    for fn in (erlang_c, mmc_mean_wait, mmc_mean_queue_length, utilisation):
        with pytest.raises(ValueError, match=r"^" + names[0]) as err:
            fn(*args)
        assert names[1] in str(err.value)
        assert names[2] in str(err.value)
    with pytest.raises(ValueError, match=names[0]):
        mmc_wait_cdf(1.0, *args)


def test_mmc_scenario_structure() -> None:
    """The M/M/c reduction is a valid scenario whose horizon covers the requested hours."""
    sc = mmc_scenario(9.0, 1.0, 10, hours=1000.0, warmup_days=5)
    _, warm, end = horizon_hours(sc)
    assert warm == 5 * 24
    assert 1000.0 <= end - warm < 1000.0 + 31 * 24
    assert sc.teams[0].reps == 10
    assert sc.teams[0].max_active_leads == 1
    assert sc.follow_up.attempt_minutes.mean == pytest.approx(60.0)
    assert measure_months_for(744) == 1
    assert measure_months_for(745) == 2
    for bad in ({"hours": 0}, {"hours": 1e6}, {"c": 0}, {"lam_per_h": -1}):
        kwargs = {"lam_per_h": 9.0, "mu_per_h": 1.0, "c": 10, "hours": 100.0} | bad
        with pytest.raises(ValueError, match=next(iter(bad))):
            mmc_scenario(**kwargs)
    unl = unlimited_capacity_scenario(preset("enterprise"))
    assert all(t.calendar.always_open and t.reps == 500 for t in unl.teams)
    assert unl.channels == preset("enterprise").channels


# ---------------------------------------------------------------------- M/M/c simulation
@dataclass(frozen=True)
class MMCCase:
    """One M/M/c configuration and the size of its experiment."""

    lam: float
    mu: float
    c: int
    n_leads: int  # leads per replication (the first n by routed time)
    reps: int
    seed: int

    @property
    def hours(self) -> float:
        """Horizon long enough for n_leads arrivals with ample margin (10 Poisson sd + 2 days)."""
        return (self.n_leads + 10 * math.sqrt(self.n_leads)) / self.lam + 48.0


CASES = {
    "lam9_c10": MMCCase(lam=9.0, mu=1.0, c=10, n_leads=48_000, reps=48, seed=91),
    "lam6_c8": MMCCase(lam=6.0, mu=1.0, c=8, n_leads=32_000, reps=30, seed=61),
}


@dataclass
class MMCStats:
    """Per-replication statistics of one case (arrays of length reps)."""

    case: MMCCase
    mean_wait: np.ndarray
    cdf: np.ndarray  # reps x len(CDF_TIMES)
    L: np.ndarray  # time-average number waiting over the measured span
    lam_hat: np.ndarray  # routed leads per hour over the span
    W: np.ndarray  # mean routed -> assigned of leads routed in the span


def mmc_replication(case: MMCCase, sc, r: int, engine: str
                    ) -> tuple[float, np.ndarray, float, float, float]:  # fmt: skip
    """Statistics of one replication: mean wait, CDF at CDF_TIMES, and L, λ, W for Little."""
    model, cols = run_log(sc, case.seed, r, engine)
    n = model.n_leads
    routed = first_time(cols, "routed", n)
    assigned = first_time(cols, "assigned", n)
    attempt = first_time(cols, "attempt", n)
    order = np.argsort(routed, kind="stable")
    assert np.isfinite(routed[order[case.n_leads - 1]]), f"rep {r}: fewer than n_leads leads"
    keep = order[int(WARMUP_SHARE * case.n_leads) : case.n_leads]
    wait = attempt[keep] - routed[keep]
    assert np.isfinite(wait).all(), f"rep {r}: a measured lead never got its first attempt"
    # the rep starts the attempt the moment it takes the lead: the two wait definitions agree
    np.testing.assert_array_equal(assigned[keep], attempt[keep])
    cdf = np.array([(wait <= t).mean() for t in CDF_TIMES])
    # Little's law over [a, b]: queue length from +1 at 'routed', -1 at 'assigned'
    a, b = routed[keep[0]], routed[keep[-1]]
    r_t, s_t = routed[np.isfinite(routed)], assigned[np.isfinite(assigned)]
    t = np.concatenate([r_t, s_t])
    step = np.concatenate([np.ones(len(r_t)), -np.ones(len(s_t))])
    o = np.argsort(t, kind="stable")
    t, q = t[o], np.cumsum(step[o])  # q[i] = number waiting just after t[i]
    assert q.min() >= 0
    edges = np.clip(np.append(t, np.inf), a, b)
    area = float(np.sum(q * np.diff(edges)))  # piece i holds q[i] on [t[i], t[i+1]) ∩ [a, b]
    in_span = (routed >= a) & (routed < b)
    return (float(wait.mean()), cdf, area / (b - a), in_span.sum() / (b - a),
            float(np.mean(assigned[in_span] - routed[in_span])))  # fmt: skip


@pytest.fixture(scope="module", params=[(c, e) for c in CASES for e in ENGINES],
                ids=[f"{c}-{e}" for c in CASES for e in ENGINES])  # fmt: skip
def mmc_stats(request: pytest.FixtureRequest) -> MMCStats:
    """Run every replication of one M/M/c case once on one engine; the tests below share the
    results."""
    name, engine = request.param
    case = CASES[name]
    sc = mmc_scenario(case.lam, case.mu, case.c, case.hours)
    rows = [mmc_replication(case, sc, r, engine) for r in range(case.reps)]
    mw, cdf, L, lam_hat, W = (np.array(x) for x in zip(*rows, strict=True))
    return MMCStats(case, mw, cdf, L, lam_hat, W)


@pytest.mark.slow
def test_mmc_mean_wait_matches_erlang_c(mmc_stats: MMCStats) -> None:
    """The simulated mean queue wait agrees with E[Wq] = C / (cμ - λ) within 3.5 SE."""
    k = mmc_stats.case
    theory = mmc_mean_wait(k.lam, k.mu, k.c)
    mean, se = mean_se(mmc_stats.mean_wait)
    assert Z * se < 0.10 * theory, f"experiment too small: ±{Z * se:.4f} h vs {theory:.4f} h"
    assert abs(mean - theory) < Z * se, f"mean wait {mean:.4f} ± {se:.4f} h, theory {theory:.4f}"


@pytest.mark.slow
def test_mmc_wait_cdf_matches_erlang_c(mmc_stats: MMCStats) -> None:
    """P(wait <= t) at t = 0, 0.5, 1, 2 h agrees with 1 - C exp(-(cμ - λ) t) within 3.5 SE."""
    k = mmc_stats.case
    for j, t in enumerate(CDF_TIMES):
        theory = mmc_wait_cdf(t, k.lam, k.mu, k.c)
        mean, se = mean_se(mmc_stats.cdf[:, j])
        assert Z * se < 0.025, f"t={t}: experiment too small, ±{Z * se:.4f}"
        msg = f"P(W<={t}) = {mean:.4f} ± {se:.4f}, theory {theory:.4f}"
        assert abs(mean - theory) < Z * se, msg


@pytest.mark.slow
def test_littles_law_on_sdr_queue(mmc_stats: MMCStats) -> None:
    """The time-average queue length equals λW on the same span, and matches Erlang-C Lq."""
    k = mmc_stats.case
    s = mmc_stats
    diff_mean, diff_se = mean_se(s.L - s.lam_hat * s.W)
    L_mean, L_se = mean_se(s.L)
    # per replication, L and λW differ only by the waits straddling the span ends (mean zero
    # in steady state); across replications the band must resolve a 1% violation of L = λW
    assert Z * diff_se < 0.01 * L_mean, f"experiment too small: ±{Z * diff_se:.2e}"
    assert abs(diff_mean) < Z * diff_se, f"L - λW = {diff_mean:.2e} ± {diff_se:.2e}"
    assert abs(np.mean(s.lam_hat) - k.lam) < Z * np.std(s.lam_hat, ddof=1) / math.sqrt(k.reps)
    Lq = mmc_mean_queue_length(k.lam, k.mu, k.c)
    assert Z * L_se < 0.10 * Lq, f"experiment too small: ±{Z * L_se:.3f} vs Lq {Lq:.3f}"
    assert abs(L_mean - Lq) < Z * L_se, f"L = {L_mean:.4f} ± {L_se:.4f}, Erlang-C Lq {Lq:.4f}"


# ---------------------------------------------------------------------- conservation
@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", preset_names())
def test_conservation_every_preset(name: str, engine: str) -> None:
    """Every lead of every preset ends in at most one terminal state, and the counts add up."""
    model, cols = run_log(preset(name), seed=11, replication=0, engine=engine)  # reconciles
    n = model.n_leads
    ev, lead = cols["event"], cols["lead"]
    created = np.bincount(lead[ev == CODE["created"]], minlength=n)
    assert (created == 1).all()
    is_term = np.isin(ev, TERMINAL_EVENT_CODES)
    per_lead = np.bincount(lead[is_term], minlength=n)
    assert per_lead.max() <= 1
    # a terminal event is its lead's last row (no activity after the end)
    last_row = np.full(n, -1)
    last_row[lead] = np.arange(len(lead))  # later rows overwrite earlier ones
    term_rows = np.flatnonzero(is_term)
    np.testing.assert_array_equal(last_row[lead[term_rows]], term_rows)
    from_log = {code: int((ev == code).sum()) for code in TERMINAL_EVENT_CODES}
    in_flight = n - sum(from_log.values())
    counts = terminal_counts(np.asarray(model.state, dtype=np.int64))
    assert counts == {"in_flight": in_flight, "won": from_log[CODE["won"]],
                      "lost": from_log[CODE["lost"]],
                      "disqualified": from_log[CODE["disqualified"]],
                      "nurture_expired": from_log[CODE["nurture_expired"]]}  # fmt: skip
    assert sum(counts.values()) == n
    assert in_flight == sum(s == IN_FLIGHT for s in model.state)

    def count(code: str) -> int:
        return int((ev == CODE[code]).sum())

    # flow through the stages: each stage receives no more than the previous one produced
    assert count("routed") <= count("mql")
    assert count("assigned") <= count("routed")
    assert count("contact") <= count("attempt")
    assert count("sql") + count("disqualified") <= count("contact")
    assert count("opp_open") <= count("sql")
    assert count("won") + count("lost") <= count("opp_open")
    key = lead.astype(np.int64) * 1000 + cols["episode"]
    ends = np.isin(ev, [CODE["sql"], CODE["disqualified"], CODE["recycled"]])
    assert np.unique(key[ends], return_counts=True)[1].max() <= 1  # one outcome per episode


# ---------------------------------------------------------------------- unlimited capacity
@pytest.fixture(scope="module", params=ENGINES)
def unlimited(request: pytest.FixtureRequest) -> tuple:
    """One nine-month replication of the default preset with unlimited capacity, no warm-up
    (on each engine)."""
    sc = unlimited_capacity_scenario(preset("default"))
    sc = set_path(sc, "horizon.warmup_days", 0)
    sc = set_path(sc, "horizon.measure_months", 9)
    model, cols = run_log(sc, seed=5, replication=0, engine=request.param)
    return sc, model, cols


def binomial_check(hits: int, probs: np.ndarray, what: str, rel_width: float = 0.1) -> None:
    """Observed count vs the sum of per-trial probabilities, within z = 3.5 binomial SE."""
    expected = float(np.sum(probs))
    se = math.sqrt(float(np.sum(probs * (1 - probs))))
    assert Z * se < rel_width * expected, f"{what}: too few trials ({len(probs)})"
    assert abs(hits - expected) < Z * se, f"{what}: {hits} observed, {expected:.1f} ± {se:.1f}"


def p_reach(sc, age_h: np.ndarray, attempt: np.ndarray) -> np.ndarray:
    """The scenario's contact curve, written out independently of the model's code."""
    ct = sc.follow_up.contact
    if ct.shape == "exponential":
        f = 2.0 ** (-age_h / ct.half_life_hours)
    else:
        f = 1.0 / (1.0 + age_h / ct.half_life_hours)
    return ct.attempt_decay**attempt * (ct.p_floor + (ct.p_initial - ct.p_floor) * f)


def episode_key(cols: dict[str, np.ndarray], mask: np.ndarray) -> np.ndarray:
    """(lead, episode) as one integer per selected row."""
    return cols["lead"][mask].astype(np.int64) * 1000 + cols["episode"][mask]


@pytest.mark.slow
def test_unlimited_capacity_has_no_queues(unlimited: tuple) -> None:
    """With unlimited capacity every MQL is assigned when routed and attempts start on cadence."""
    sc, _, cols = unlimited
    ev, t = cols["event"], cols["time_h"]
    routed, assigned = ev == CODE["routed"], ev == CODE["assigned"]
    np.testing.assert_array_equal(episode_key(cols, routed), episode_key(cols, assigned))
    np.testing.assert_array_equal(t[routed], t[assigned])
    att = ev == CODE["attempt"]
    first = att & (cols["attempt"] == 0)
    start = dict(zip(episode_key(cols, first).tolist(), t[first].tolist(), strict=True))
    cadence = np.asarray(sc.follow_up.cadence_days) * 24.0
    due = np.array([start[k] for k in episode_key(cols, att).tolist()])
    due = due + cadence[cols["attempt"][att]]
    late = t[att] - due
    assert late.min() > -1e-9
    assert np.mean(late > 1e-9) < 0.01  # a rep mid-attempt on another lead: minutes, rarely


@pytest.mark.slow
def test_unlimited_capacity_conversions_are_stage_rate_products(unlimited: tuple) -> None:
    """Without queues, contacts, SQLs, disqualifications and wins match their stage rates."""
    sc, model, cols = unlimited
    n, end_h = model.n_leads, model.end_h
    ev, t, lead, ep = cols["event"], cols["time_h"], cols["lead"], cols["episode"]
    channel = model.log.leads["channel"].astype(np.int64)
    score = np.full(n, np.nan)
    created = ev == CODE["created"]
    score[lead[created]] = cols["value"][created]
    fu = sc.follow_up
    sql_rate = np.array([ch.sql_rate for ch in sc.channels])[channel]
    q = expit(logit(sql_rate) + fu.score_slope_per_10_points
              * (score - fu.reference_score_points) / 10.0)  # fmt: skip
    win_rate = np.array([ch.win_rate for ch in sc.channels])[channel]
    mql_at = dict(zip(episode_key(cols, ev == CODE["mql"]).tolist(),
                      t[ev == CODE["mql"]].tolist(), strict=True))  # fmt: skip

    # 1. each attempt that finished reaches the lead with the contact curve's probability
    att = (ev == CODE["attempt"]) & (t + cols["value"] < end_h)
    age = t[att] - np.array([mql_at[k] for k in episode_key(cols, att).tolist()])
    p = p_reach(sc, age, cols["attempt"][att])
    reached = ev == CODE["contact"]
    tried = episode_key(cols, att) * 100 + cols["attempt"][att]
    hits = int(np.isin(tried, episode_key(cols, reached) * 100 + cols["attempt"][reached]).sum())
    binomial_check(hits, p, "contacts per attempt", rel_width=0.05)

    # 2. a reached episode qualifies with the lead's score-adjusted rate
    sqls = int((ev == CODE["sql"]).sum())
    binomial_check(sqls, q[lead[reached]], "P(SQL | reached)")
    # 3. reached but not SQL: disqualified with probability disqualify_share
    not_sql = reached.sum() - sqls
    dq = int((ev == CODE["disqualified"]).sum())
    binomial_check(dq, np.full(not_sql, fu.disqualify_share), "P(disqualified | not SQL)")

    # 4. end to end for first episodes whose whole cadence fits the horizon:
    #    P(SQL) = q * (1 - prod_k (1 - p_reach(ops delay + cadence_k, k)))
    routed1 = (ev == CODE["routed"]) & (ep == 1)
    cadence = np.asarray(fu.cadence_days) * 24.0
    ok = t[routed1] + cadence[-1] + 24.0 < end_h
    leads1 = lead[routed1][ok]
    delay = t[routed1][ok] - np.array([mql_at[k] for k in episode_key(cols, routed1)[ok]])
    k = np.arange(len(cadence))
    miss = np.prod(1.0 - p_reach(sc, delay[:, None] + cadence[None, :], k[None, :]), axis=1)
    sql1 = set(lead[(ev == CODE["sql"]) & (ep == 1)].tolist())
    hits1 = sum(x in sql1 for x in leads1.tolist())
    binomial_check(hits1, q[leads1] * (1.0 - miss), "P(SQL | first-episode MQL)")

    # 5. every SQL opens an opportunity at once, and closed ones are won at the win rate
    np.testing.assert_array_equal(t[ev == CODE["sql"]], t[ev == CODE["opp_open"]])
    closed = np.isin(ev, [CODE["won"], CODE["lost"]])
    binomial_check(
        int((ev == CODE["won"]).sum()), win_rate[lead[closed]], "P(won | closed)", rel_width=0.15
    )
