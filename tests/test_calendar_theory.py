"""Business-hours queueing against an independent reference.

The M/M/c reduction is put on a Monday-Friday 09:00-17:00 UTC calendar. Its semantics are
non-pre-emptive: a rep starts an attempt only while the calendar is open, and an attempt still
running at 17:00 is finished; leads are served first come, first served by ``c`` reps. The
reference below implements exactly that with no sla_sim code at all (its own calendar
arithmetic, its own random numbers): a heap of the reps' free times, and each lead's attempt
starting at the first open instant after both its arrival and the earliest free rep.

Two checks: fed the model's own arrival and service times, the reference reproduces every
attempt start of the model (deterministic); and with independent random numbers, the mean
business-hour wait and the share of leads touched within one business hour agree with the
model within 3.5 standard errors of the difference over independent replications.
"""

from __future__ import annotations

import math
from heapq import heapreplace

import numpy as np
import pytest

from sla_sim.analysis.reductions import mmc_scenario
from sla_sim.events import CODE
from sla_sim.model.funnel import FunnelModel
from sla_sim.scenario import Scenario
from sla_sim.scenario.io import set_path
from sla_sim.streams import Streams, replication_seed

Z = 3.5
LAM, MU, C = 0.5, 1.0, 3  # MQLs per hour (around the clock), attempts per rep-hour, reps
HOURS = 24.0 * 7 * 20  # twenty weeks
OPEN_H, CLOSE_H = 9.0, 17.0
FIRST_WEEKDAY = 3  # model time 0 is Thursday 1 January 2026, 00:00 UTC (Monday = 0)
DAYS = int(HOURS // 24) + 60
# ---------------------------------------------------------------- reference calendar (UTC)
_WEEKDAY = (FIRST_WEEKDAY + np.arange(DAYS)) % 7 < 5
_CUM = np.concatenate(([0.0], np.cumsum(_WEEKDAY * (CLOSE_H - OPEN_H))))


def ref_next_open(t: float) -> float:
    """First instant >= t inside Monday-Friday 09:00-17:00 (hours since Thursday 00:00)."""
    day = math.floor(t / 24.0)
    hour = t - 24.0 * day
    if _WEEKDAY[day] and hour < CLOSE_H:
        return t if hour >= OPEN_H else 24.0 * day + OPEN_H
    day += 1
    while not _WEEKDAY[day]:
        day += 1
    return 24.0 * day + OPEN_H


def ref_business_hours(t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
    """Working hours between t0 and t1 (t0 <= t1), vectorised."""

    def cum(t: np.ndarray) -> np.ndarray:
        day = np.floor(t / 24.0).astype(np.int64)
        inside = np.clip(t - 24.0 * day - OPEN_H, 0.0, CLOSE_H - OPEN_H)
        return _CUM[day] + np.where(_WEEKDAY[day], inside, 0.0)

    return cum(t1) - cum(t0)


def ref_starts(arrivals: np.ndarray, service: np.ndarray, c: int) -> np.ndarray:
    """Attempt start times of FCFS leads with ``c`` non-pre-emptive reps on the calendar."""
    free = [0.0] * c  # each rep's free time (a heap)
    out = np.empty(len(arrivals))
    for i, (a, s) in enumerate(zip(arrivals.tolist(), service.tolist(), strict=True)):
        start = ref_next_open(max(a, free[0]))
        heapreplace(free, start + s)
        out[i] = start
    return out


# ---------------------------------------------------------------- the model under test
def business_hours_mmc() -> Scenario:
    """The M/M/c reduction (UTC horizon from 2026-01-01, no warm-up) on a Mon-Fri 9-17 UTC
    calendar."""
    sc = mmc_scenario(LAM, MU, C, hours=HOURS)
    for path, value in {"teams[0].calendar.always_open": False,
                        "teams[0].calendar.working_days": [0, 1, 2, 3, 4],
                        "teams[0].calendar.start_hour": OPEN_H,
                        "teams[0].calendar.end_hour": CLOSE_H}.items():  # fmt: skip
        sc = set_path(sc, path, value)
    assert sc.teams[0].calendar.timezone == "UTC"
    assert sc.horizon.timezone == "UTC"
    assert sc.horizon.warmup_days == 0
    return sc


ENGINES = ("fast", "simpy")  # both tests run on both engines


def model_trace(sc: Scenario, seed: int, r: int, engine: str
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Per lead in routing order: routed time, attempt start, attempt duration (NaN if the
    attempt had not started by the end of the horizon), simulated on ``engine``."""
    model = FunnelModel(sc.model_copy(update={"engine": engine}),
                        Streams(replication_seed(seed, r)))  # fmt: skip
    cols = model.run().columns()
    assert model.engine == engine
    ev, lead, t = cols["event"], cols["lead"], cols["time_h"]
    n = model.n_leads
    routed, start, work = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    routed[lead[ev == CODE["routed"]]] = t[ev == CODE["routed"]]
    att = ev == CODE["attempt"]
    assert np.bincount(lead[att], minlength=n).max() == 1  # one attempt per lead
    start[lead[att]] = t[att]
    work[lead[att]] = cols["value"][att]
    order = np.argsort(routed, kind="stable")
    return routed[order], start[order], work[order]


@pytest.mark.parametrize("engine", ENGINES)
def test_reference_loop_reproduces_the_models_attempt_starts(engine: str) -> None:
    """Given the model's own arrival (routing) times and attempt durations, the independent
    FCFS loop gives every attempt start of the model, to 1e-9 h: the model serves first come,
    first served, starts attempts only in working hours and finishes those running at 17:00."""
    routed, start, work = model_trace(business_hours_mmc(), seed=3, r=0, engine=engine)
    done = np.isfinite(start)
    k = int(done.sum())
    assert done[:k].all(), "attempts start in routing order"
    assert k > 1500
    want = ref_starts(routed[:k], work[:k], C)
    np.testing.assert_allclose(start[:k], want, rtol=0, atol=1e-9)
    # and the semantics are exercised: night and weekend arrivals wait for 09:00, some
    # attempts run past 17:00, and some leads queue behind busy reps in working hours
    hour = start[:k] % 24.0
    assert (hour == OPEN_H).sum() > 100
    assert ((start[:k] + work[:k]) % 24.0 > CLOSE_H).sum() > 20
    open_arrival = np.array([ref_next_open(a) == a for a in routed[:k].tolist()])
    assert (start[:k][open_arrival] > routed[:k][open_arrival] + 1e-9).sum() > 50


def waits(routed: np.ndarray, start: np.ndarray) -> tuple[float, float]:
    """Mean business-hour wait and share touched within one business hour, of the leads
    routed from week 2 to the last week of the horizon."""
    keep = (routed >= 24.0 * 14) & (routed < HOURS - 24.0 * 7)
    assert np.isfinite(start[keep]).all()
    w = ref_business_hours(routed[keep], start[keep])
    return float(w.mean()), float((w <= 1.0).mean())


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_business_hour_waits_match_the_independent_reference(engine: str) -> None:
    """Over 48 replications each, the model and the reference (own Poisson arrivals and
    exponential services, seed 2026) give the same mean business-hour wait and share touched
    within one business hour, within 3.5 standard errors of the difference; the bands are
    narrower than 10% of the mean wait and 0.03 of the share."""
    sc = business_hours_mmc()
    reps = 48
    model = np.array([waits(*model_trace(sc, seed=17, r=r, engine=engine)[:2])
                      for r in range(reps)])  # fmt: skip
    rng = np.random.default_rng(2026)
    ref = []
    for _ in range(reps):
        arrivals = np.sort(rng.uniform(0.0, HOURS, rng.poisson(LAM * HOURS)))
        service = rng.exponential(1.0 / MU, len(arrivals))
        ref.append(waits(arrivals, ref_starts(arrivals, service, C)))
    ref_a = np.array(ref)
    for j, (name, width) in enumerate((("mean wait (business h)", None), ("P(wait <= 1)", 0.03))):
        a, b = model[:, j], ref_a[:, j]
        diff = a.mean() - b.mean()
        se = math.sqrt(a.var(ddof=1) / reps + b.var(ddof=1) / reps)
        limit = 0.10 * b.mean() if width is None else width
        assert Z * se < limit, f"{name}: band ±{Z * se:.4f} too wide"
        assert abs(diff) < Z * se, f"{name}: model {a.mean():.4f}, reference {b.mean():.4f}"
