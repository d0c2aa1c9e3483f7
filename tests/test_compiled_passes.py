"""The compiled passes around the event loop (sla_sim.model.passes) and the metrics' (sla_sim.
metrics.kernels) give what the numpy code they replace gives, and no replication compiles any
of them once a process is set up (sla_sim.batch.worker.warm_up)."""

from __future__ import annotations

import numpy as np
import pytest
from numba.core.registry import CPUDispatcher

from sla_sim.errors import ReconciliationError
from sla_sim.events import CODE, COLUMNS, EVENTS, EventLog, rows_by_event
from sla_sim.model import passes


def _dispatchers() -> dict[str, CPUDispatcher]:
    """Every compiled function of the modules a replication runs (those inlined into others
    are never compiled alone)."""
    from sla_sim.metrics import kernels as metric_kernels
    from sla_sim.model import kernel

    return {f"{mod.__name__}.{name}": obj for mod in (kernel, passes, metric_kernels)
            for name, obj in vars(mod).items() if isinstance(obj, CPUDispatcher)
            and obj.targetoptions.get("inline") != "always"}  # fmt: skip


@pytest.mark.parametrize("name", ["default", "smb_inbound", "enterprise"])
def test_no_replication_compiles_after_set_up(name: str) -> None:
    """After warm_up, a replication (model, metrics, tables) adds no compiled signature to any
    pass: each was loaded at set-up with the argument types a replication gives it."""
    from sla_sim.batch.worker import run_one, warm_up
    from sla_sim.scenario.presets import preset, preset_names

    if name not in preset_names():
        pytest.skip(f"no preset {name}")
    warm_up()
    before = {k: len(d.signatures) for k, d in _dispatchers().items()}
    # every pass called from Python was loaded (private helpers, e.g. the kernel's _grow*, run
    # inside other compiled code only)
    assert [k for k, v in before.items() if not v and not k.rsplit(".", 1)[1].startswith("_")
            ] == []  # fmt: skip
    assert len(before) >= 10
    sc = preset(name).model_copy(deep=True)
    sc.horizon.measure_months = 2
    run_one(sc, 7, 0)
    after = {k: len(d.signatures) for k, d in _dispatchers().items()}
    assert after == before


def _log(parts_with_matrix: bool) -> EventLog:
    rng = np.random.default_rng(11)
    log = EventLog(["web"], ["smb"], ["sdr"])
    log.add_many(np.arange(5), 0, rng.random(5), "created", value=rng.random(5))
    log.add_many(np.array([1, 3]), 1, np.array([0.5, 0.2]), "mql", team=np.array([0, 0]))
    n = 40
    ints = np.column_stack([rng.integers(0, 5, n), rng.integers(0, 3, n),
                            rng.integers(-2, len(EVENTS) + 2, n), rng.integers(-1, 2, n),
                            rng.integers(-1, 70000, n), rng.integers(-1, 4, n)])  # fmt: skip
    floats = np.column_stack([rng.random(n), rng.random(n)])
    if parts_with_matrix:
        log.add_columns(np.ascontiguousarray(ints, dtype=np.int64), floats)
    log.rows.append((2, 1, 0.7, CODE["sql"], 0, 1, -1, np.nan))
    return log


def test_log_columns_and_rows_per_event_are_numpy_s() -> None:
    """The compiled builder gives the columns numpy concatenates (types, order, casts that
    wrap) and the positions of each event's rows; codes outside the events are in no list."""
    for matrix in (True, False):
        plain, fast = _log(matrix), _log(matrix)
        fast.builder = passes.log_columns
        want, got = plain.columns(sort=False), fast.columns(sort=False)
        for c in COLUMNS:
            assert got[c].dtype == want[c].dtype, c
            np.testing.assert_array_equal(got[c], want[c], err_msg=c)
        for a, b in zip(fast.event_rows(), rows_by_event(want["event"]), strict=True):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype


class _Model:
    def __init__(self, log: EventLog, n: int) -> None:
        self.log, self.n_leads = log, n


def test_reconciliation_names_the_same_inconsistency() -> None:
    """A log that reconciles passes the compiled check; one that does not raises the numpy
    checks' error, naming the first inconsistency."""
    from sla_sim.model.reconcile import reconcile

    def model(states: list[int], terminal: list[tuple[int, str]]) -> _Model:
        log = EventLog(["web"], ["smb"], ["sdr"])
        log.builder = passes.log_columns
        n = len(states)
        log.add_many(np.arange(n), 0, np.zeros(n), "created")
        for lead, event in terminal:
            log.add_many(np.array([lead]), 1, np.array([1.0]), event)
        return _Model(log, n)

    ok = model([1, 0, 3], [(0, "won"), (2, "disqualified")])
    assert reconcile(ok, np.array([1, 0, 3]))["won"] == 1
    with pytest.raises(ReconciliationError, match="lead 0 has 2 terminal events"):
        reconcile(model([1, 0], [(0, "won"), (0, "lost")]), np.array([1, 0]))
    with pytest.raises(ReconciliationError, match="lead 1: state 'lost'"):
        reconcile(model([1, 2], [(0, "won"), (1, "won")]), np.array([1, 2]))


def _random_cols(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """A log's columns with few leads, episodes and times, so that keys and times tie often."""
    events = [CODE[e] for e in ("assigned", "attempt", "reassigned", "routed", "contact")]
    t = rng.integers(0, 6, n).astype(np.float64)
    t[rng.random(n) < 0.05] = np.nan
    return {"lead": rng.integers(0, 7, n).astype(np.int64),
            "episode": rng.integers(0, 3, n).astype(np.int32), "time_h": t,
            "event": rng.choice(events, n).astype(np.int16),
            "team": rng.integers(0, 2, n).astype(np.int16),
            "rep": rng.integers(0, 3, n).astype(np.int32),
            "attempt": rng.integers(0, 3, n).astype(np.int16), "value": rng.random(n)}


def test_assignments_are_paired_as_numpy_pairs_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled pairing (sort by lead, then by key and time within it) gives numpy's
    assignments: same order, starts, ends (NaN times last, ties in row-kind order)."""
    from sla_sim.metrics import backlog

    rng = np.random.default_rng(3)
    for n in (0, 1, 5, 60, 400):
        for _ in range(20):
            cols = _random_cols(rng, n)
            by_event = rows_by_event(cols["event"])
            assert backlog._pair_compiled(cols, *(by_event[CODE[e]] for e in (
                "reassigned", "assigned", "attempt"))) is not None  # fmt: skip
            got = backlog.assignments(cols, by_event)
            with monkeypatch.context() as m:
                m.setattr(backlog, "_pair_compiled", lambda *a: None)
                want = backlog.assignments(cols, by_event)
            for f in ("key", "start", "end", "team", "rep"):
                np.testing.assert_array_equal(getattr(got, f), getattr(want, f), err_msg=f)
                assert getattr(got, f).dtype == getattr(want, f).dtype, f


def test_the_compiled_sum_is_numpy_s_bit_for_bit() -> None:
    """The metrics' compiled sums (level means, busy hours) add as np.sum does (pairwise):
    the same bits at every length, across the block and halving boundaries."""
    from sla_sim.metrics.kernels import np_sum

    rng = np.random.default_rng(8)
    for n in [*range(0, 300), 511, 1000, 4097, 8192, 8193, 20001]:
        a = rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 6, n)
        assert np_sum(a) == np.sum(a), n


def test_levels_and_busy_hours_are_numpy_s() -> None:
    """A level (ties, NaN) measured over windows, and the busy hours of attempt spans on a
    calendar and on the clock, give the numpy code's numbers exactly."""
    from datetime import UTC, datetime

    from sla_sim.calendar import CalendarSpec, shared_calendar
    from sla_sim.metrics.capacity import AttemptSpans, Level

    rng = np.random.default_rng(9)
    windows = [(0.0, 50.0), (3.0, 3.0), (7.5, 31.0), (-5.0, 400.0), (12.0, 13.0)]
    for n in (0, 1, 9, 200, 3000):
        up = np.round(rng.random(n) * 60, 1)
        down = np.round(up + rng.random(n) * 10, 1)[rng.random(n) < 0.8]
        down[rng.random(len(down)) < 0.05] = np.nan
        fast = Level(up, down)
        assert fast.compiled
        plain = object.__new__(Level)  # the numpy code's times and levels
        plain.compiled = False
        d, u = np.sort(down), np.sort(up)
        times = np.concatenate([d, u])
        order = np.argsort(times, kind="stable")
        plain.times = times[order]
        plain.level = np.cumsum(np.concatenate([np.full(len(d), -1.0), np.ones(len(u))])[order])
        np.testing.assert_array_equal(fast.times, plain.times)
        np.testing.assert_array_equal(fast.level, plain.level)
        for t0, t1 in windows:
            np.testing.assert_equal(fast.mean_max(t0, t1), plain.mean_max(t0, t1))
    cal = shared_calendar(CalendarSpec(timezone="Europe/Paris"), datetime(2026, 1, 5, tzinfo=UTC),
                          24 * 30.0)  # fmt: skip
    clock = shared_calendar(CalendarSpec(timezone="UTC", always_open=True),
                            datetime(2026, 1, 5, tzinfo=UTC), 24 * 30.0)  # fmt: skip
    start = rng.random(500) * 700
    cols = {"time_h": start, "value": rng.random(500) * 3, "team": rng.integers(0, 2, 500),
            "event": np.full(500, CODE["attempt"])}  # fmt: skip
    spans = AttemptSpans(cols, [cal, clock])

    def numpy_busy_hours(t0: float, t1: float) -> float:  # the numpy code it replaced
        total = 0.0
        for c, (start, end), cum in zip(spans.calendars, spans.spans, spans.cum, strict=True):
            s, e = np.maximum(start, t0), np.minimum(end, t1)
            k = e > s
            if not k.any():
                continue
            if cum is None:
                total += float((e[k] - s[k]).sum())
                continue
            c0, c1 = c.cum_hours_many(np.asarray([t0, t1]))
            total += float((np.where(end[k] <= t1, cum[1][k], c1)
                            - np.where(start[k] >= t0, cum[0][k], c0)).sum())  # fmt: skip
        return total

    assert [spans.busy_hours(*w) for w in windows] == [numpy_busy_hours(*w) for w in windows]


def test_business_hours_added_are_the_calendar_s() -> None:
    """The compiled addition of business hours gives the calendar's own vectorised answer:
    times before, inside, between and after its intervals, NaN, and zero hours."""
    from datetime import UTC, datetime

    from sla_sim.calendar import CalendarSpec, shared_calendar
    from sla_sim.metrics.capacity import add_business_hours

    cal = shared_calendar(CalendarSpec(timezone="America/New_York"),
                          datetime(2026, 3, 2, tzinfo=UTC), 24 * 40.0)  # fmt: skip
    rng = np.random.default_rng(4)
    t = np.concatenate([rng.random(3000) * 24 * 45 - 24, cal.starts[:5], cal.ends[:5],
                        [np.nan, -5.0, 1e6]])  # fmt: skip
    for h in (0.0, 0.5, 4.0, 37.25, 300.0):
        hs = np.full(len(t), h)
        hs[::7] = 0.0
        np.testing.assert_array_equal(add_business_hours(cal, t, hs),
                                      cal.add_business_hours_many(t, hs))  # fmt: skip


def test_nurture_delays_are_numpy_s() -> None:
    """The compiled nurture passes give numpy's delays from the same negative-binomial draws:
    scores far below, just below, at and above the threshold, on a multiple of the lift,
    every touch count, and several nurture specs (a list of scores takes the numpy code)."""
    from sla_sim.model.nurture import nurture_delays
    from sla_sim.scenario.schema import NurtureSpec

    rng = np.random.default_rng(9)
    scores = np.concatenate([rng.random(4000) * 100, [60.0, 52.0, 44.0, 59.999999, 60.0000001,
                                                       0.0, -30.0, 100.0, 12.5]])  # fmt: skip
    specs = [NurtureSpec(), NurtureSpec(touch_interval_days=3.5, engage_probability=0.3,
                                        score_lift_points=2.5, max_days=40.0),
             NurtureSpec(engage_probability=1.0, score_lift_points=0.7, max_days=365.0)]
    for spec in specs:
        for threshold in (60.0, 60, 7.25):
            got = nurture_delays(scores, threshold, spec, np.random.default_rng(3))
            want = nurture_delays(scores.tolist(), threshold, spec, np.random.default_rng(3))
            np.testing.assert_array_equal(got, want)
            assert np.isfinite(got).any()  # both outcomes occur
            assert np.isinf(got).any()
    _, ok = passes.nurture_need(np.asarray([1.0, np.nan]), 60.0, 8.0)
    assert not ok  # a score numpy would cast its own way: the numpy code decides


def test_arrival_times_are_numpy_s() -> None:
    """The hours' times filled in one compiled pass are numpy's repeat and add (hours with
    none, one and many arrivals, uniforms at 0 and just below 1), and a channel's arrival
    times, sorted and cut, numpy's (cuts inside, at and past the last hour)."""
    from sla_sim.model.arrivals import draw_channel_arrivals
    from sla_sim.scenario.presets import preset
    from sla_sim.streams import Streams, replication_seed

    rng = np.random.default_rng(11)
    for _ in range(30):
        counts = rng.poisson(rng.choice([0.2, 1.5, 6.0]), size=rng.integers(0, 3000))
        u = rng.random(int(counts.sum()))
        if len(u):
            u[rng.integers(len(u), size=min(len(u), 20))] = 1.0 - 2.0**-53
            u[rng.integers(len(u), size=min(len(u), 20))] = 0.0
        bins = np.repeat(np.arange(len(counts), dtype=np.float64), counts)
        np.testing.assert_array_equal(passes.hour_times(counts.astype(np.int64), u), bins + u)

    class Numpy:  # a stream whose poisson counts take the numpy code (not int64)
        def __init__(self, rng: np.random.Generator) -> None:
            self.rng = rng

        def poisson(self, lam: np.ndarray) -> np.ndarray:
            return self.rng.poisson(lam).astype(np.int32)

        def __getattr__(self, name: str) -> object:
            return getattr(self.rng, name)

    from sla_sim.model import arrivals
    from sla_sim.model.funnel import FunnelModel

    sc = preset("default")
    model = FunnelModel(sc, Streams(replication_seed(1, 0)))
    grid = arrivals.hour_grid(model.origin, int(np.ceil(model.end_h)))
    profile = arrivals.base_profile(sc, grid)
    for end_h in (model.end_h, model.end_h - 100.5, 24.0 * 30, float(len(profile))):
        for c in range(len(sc.channels)):
            got = draw_channel_arrivals(sc, c, profile, grid, Streams(replication_seed(4, c)),
                                        end_h)  # fmt: skip
            seq = Streams(replication_seed(4, c))
            want = draw_channel_arrivals(sc, c, profile, grid,
                                         lambda name, seq=seq: Numpy(seq(name)), end_h)  # type: ignore[arg-type]
            np.testing.assert_array_equal(got, want)
            assert len(got) > 100


def test_event_counts_per_bin_are_numpy_s() -> None:
    """Each wanted code's times counted per bin as numpy counts them (``searchsorted`` of the
    edges, side "right"; NaN in the last bin), with few edges (one comparison each) and many
    (a binary search), times on the edges, codes unwanted and outside the table."""
    from sla_sim.metrics.kernels import _FEW_EDGES, code_bin_counts

    rng = np.random.default_rng(5)
    n = 20_000
    code = rng.integers(-2, 14, size=n).astype(np.int16)
    for m in (1, 4, _FEW_EDGES, _FEW_EDGES + 1, 60):
        edges = np.sort(rng.random(m) * 1000.0)
        t = rng.random(n) * 1100.0 - 50.0
        t[::97] = np.nan
        t[1::89] = edges[rng.integers(m, size=len(t[1::89]))]  # exactly on an edge
        wanted = rng.random(12) < 0.6
        got = code_bin_counts(code, t, edges, wanted)
        want = np.zeros((12, m + 1), dtype=np.int64)
        for k in np.flatnonzero(wanted):
            x = t[code == k]
            bins = np.where(np.isnan(x), m, np.searchsorted(edges, x, side="right"))
            want[k] = np.bincount(bins, minlength=m + 1)
        np.testing.assert_array_equal(got, want)


def test_first_rows_of_episodes_are_the_sorted_search_s() -> None:
    """The dense (lead, episode) table finds what the stable sort of the episode keys and a
    binary search per key find: repeated episodes (the first row counts), episodes with no
    reference row, no reference rows at all; leads outside the table's reach go back to
    the sort (rows about a rep: lead -1)."""
    from sla_sim import metrics as mx
    from sla_sim.metrics.episodes import episode_keys

    rng = np.random.default_rng(8)
    for lo in (0, -1):
        n = 6000
        cols = {"lead": rng.integers(lo, 900, size=n).astype(np.int64),
                "episode": rng.integers(0, 4, size=n).astype(np.int32)}  # fmt: skip
        t = rng.random(n) * 100
        for n_ref in (0, 1, 50, 2500):
            ref = np.sort(rng.choice(n, size=n_ref, replace=False)).astype(np.intp)
            rows = rng.integers(0, n, size=3000).astype(np.intp)
            found = mx._first_rows(cols, ref, rows)
            assert (found is None) == (lo < 0)
            want = mx._episode_time(episode_keys(cols, rows), episode_keys(cols, ref), t[ref])
            np.testing.assert_array_equal(mx._episode_time_of_rows(cols, rows, ref, t[ref]), want)
            np.testing.assert_array_equal(
                mx._has_row(cols, rows, ref),
                mx._isin(episode_keys(cols, rows), episode_keys(cols, ref)))  # fmt: skip
            if found is not None and n_ref:
                assert (found >= 0).any()
                assert (found < 0).any()


def test_clause_statuses_are_numpy_s() -> None:
    """The compiled judge gives numpy's statuses: not started, met on and before the
    deadline, breached, pending, NaN deadlines, an observation end on a deadline."""
    from sla_sim.metrics import clauses

    rng = np.random.default_rng(2)
    n = 5000
    start, deadline, done = (np.round(rng.random(n) * 50, 1) for _ in range(3))
    start[::7], done[::3], deadline[::11] = np.nan, np.nan, np.nan
    deadline[1::13] = done[1::13]  # done exactly at the deadline
    seen: set[int] = set()
    for observed in (25.0, float(deadline[5]), np.inf, 0.0):
        got = clauses.judge(start, deadline, done, observed)
        strided = [np.repeat(a, 2)[::2] for a in (start, deadline, done)]  # numpy's code
        want = clauses.judge(*strided, observed)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
        seen |= {int(x) for x in np.unique(got)}
    assert seen == {0, 1, 2, 3}


def test_business_hours_to_each_time_are_the_calendar_s() -> None:
    """The compiled business hours to each time (the interval found where the previous time's
    was, one further, or by a search) are the calendar's own: times in order, in reverse, at
    random, on the intervals' starts and ends, before the first and after the last, NaN."""
    from datetime import UTC, datetime

    from sla_sim.calendar import CalendarSpec, shared_calendar
    from sla_sim.metrics.capacity import cum_hours_many

    cal = shared_calendar(CalendarSpec(timezone="Europe/Berlin"),
                          datetime(2026, 3, 2, tzinfo=UTC), 24 * 40.0)  # fmt: skip
    assert not cal.always_open
    rng = np.random.default_rng(6)
    edges = np.concatenate([cal.starts, cal.ends, [-3.0, 0.0, 1e5, np.nan]])
    for t in (np.sort(rng.random(5000) * 24 * 42 - 24), rng.random(5000) * 24 * 42 - 24,
              np.sort(edges), edges, np.sort(rng.random(3000) * 24 * 42)[::-1],
              np.repeat(cal.starts[3:9], 5), np.empty(0)):  # fmt: skip
        np.testing.assert_array_equal(cum_hours_many(cal, t), cal.cum_hours_many(t))


def test_business_hours_added_to_times_in_order_are_the_calendar_s() -> None:
    """The same for times in order and in reverse (the searches start where the previous
    time's ended), with hours that land on, before and past intervals' ends."""
    from datetime import UTC, datetime

    from sla_sim.calendar import CalendarSpec, shared_calendar
    from sla_sim.metrics.capacity import add_business_hours

    cal = shared_calendar(CalendarSpec(timezone="Asia/Tokyo"),
                          datetime(2026, 3, 2, tzinfo=UTC), 24 * 40.0)  # fmt: skip
    rng = np.random.default_rng(12)
    base = np.sort(np.concatenate([rng.random(4000) * 24 * 45 - 24, cal.starts, cal.ends]))
    for t in (base, base[::-1].copy(), np.repeat(base[::50], 3)):
        for hs in (np.full(len(t), 4.0), rng.random(len(t)) * 30, np.zeros(len(t)),
                   np.where(rng.random(len(t)) < 0.5, 8.0, 0.25)):  # fmt: skip
            np.testing.assert_array_equal(add_business_hours(cal, t, hs),
                                          cal.add_business_hours_many(t, hs))  # fmt: skip
