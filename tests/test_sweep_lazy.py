"""The sweep grid is generated lazily: a point is computed from its number, and jobs are made
a block at a time as the workers take them, never the whole grid at once."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from sla_sim.batch import sweep as sweep_module
from sla_sim.batch.sweep import Stepped, _axes, grid_point, parse_param
from tests.conftest import make_tiny


def test_grid_point_is_the_product_order() -> None:
    """Point i of the grid is the i-th tuple of itertools.product over the axes."""
    params = dict(parse_param(p) for p in ["a=1:3", "b=x,y", "c=0:10:5"])
    axes = _axes(params)
    assert [grid_point(axes, i) for i in range(18)] == list(itertools.product(*axes))
    big = _axes(dict([parse_param("a=1:100000000"), parse_param("b=0:1:0.000001")]))
    assert isinstance(big[0], range)  # never listed
    assert isinstance(big[1], Stepped)
    assert len(big[1]) == 1_000_001
    assert grid_point(big, 100_000_000 * 1_000_001 - 1) == (100_000_000, 1.0)


class _StopError(Exception):
    pass


def test_jobs_are_made_as_the_workers_take_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the first replication of a 40-point sweep comes back, only the first block of
    points has been made into jobs (every point was validated before)."""
    monkeypatch.setattr(sweep_module, "POINTS_PER_BLOCK", 4)
    made: list[int] = []
    real_jobs_for = sweep_module.jobs_for

    def jobs_for(tagged: list[tuple[int, Any]], *args: Any) -> Any:
        made.extend(t for t, _ in tagged)
        return real_jobs_for(tagged, *args)

    def collect(outcomes: Any, **_: Any) -> Any:
        next(iter(outcomes))
        raise _StopError

    monkeypatch.setattr(sweep_module, "jobs_for", jobs_for)
    monkeypatch.setattr(sweep_module, "collect", collect)
    with pytest.raises(_StopError):
        sweep_module.sweep(make_tiny({"horizon.warmup_days": 3}),
                           dict([parse_param("sla.first_touch_within_business_hours=1:40")]),
                           reps=1, workers=1, progress=False)  # fmt: skip
    assert made == [0, 1, 2, 3]


def test_the_process_pool_draws_jobs_a_few_per_worker() -> None:
    """A lazy job list run on 2 processes: when the first outcome is back, at most 4 tasks per
    worker have been drawn from it, not all 40."""
    from sla_sim.batch.executors import IN_FLIGHT_PER_WORKER, execute, jobs_for

    sc = make_tiny({"horizon.warmup_days": 3})
    drawn: list[int] = []

    def jobs() -> Any:
        for i in range(40):
            drawn.append(i)
            yield from jobs_for([(i, sc)], 1, (0,))

    outcomes = execute(jobs(), workers=2, total=40)
    next(outcomes)
    assert len(drawn) <= 2 * IN_FLIGHT_PER_WORKER + 1
    outcomes.close()  # the consumer stops: the pool is stopped at once
