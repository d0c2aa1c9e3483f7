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
    # every pass called from Python was loaded (the kernel's _grow* run inside its loop only)
    assert [k for k, v in before.items() if not v and "._grow" not in k] == []
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
