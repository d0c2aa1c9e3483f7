"""Parameter sweeps: a grid or a Latin hypercube over scenario fields, one tidy table out.

Parameters are scenario field paths (``teams[sdr].reps``, ``teams.sdr.reps`` or
``teams[0].reps``) with values ``a:b`` (integers a..b), ``a:b:step``, or ``v1,v2,...``. The
grid is generated lazily (a point is computed from its number); every point is validated before
anything runs. All points use the same seed, so they share common
random numbers and differences between points are not blurred by sampling noise. Points that
differ only in SLA settings are simulated once and judged under each SLA.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sla_sim.batch.executors import Job, execute, jobs_for
from sla_sim.batch.limits import check_cost
from sla_sim.batch.replications import DEFAULT_SEED, ReplicationError, check_request, collect
from sla_sim.errors import Issue, ScenarioError
from sla_sim.scenario.io import set_path
from sla_sim.scenario.schema import Scenario

_NUM = r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"


class Stepped(Sequence[Any]):
    """The values ``a, a + step, ...`` up to ``b`` of a stepped axis (``a:b:step``), computed
    when asked for, never listed (so the grid's cost is checked before anything is made)."""

    def __init__(self, a: float, step: float, count: int, integer: bool) -> None:
        self.a, self.step, self.count, self.integer = a, step, count, integer

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(self.count))]
        if k < 0:
            k += self.count
        if not 0 <= k < self.count:
            raise IndexError(k)
        v = self.a + k * self.step
        return round(v) if self.integer else float(v)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, Stepped)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.a, self.step, self.count, self.integer))

    def __repr__(self) -> str:
        return f"Stepped({self.a!r}, {self.step!r}, {self.count!r}, {self.integer!r})"


def parse_param(spec: str) -> tuple[str, Sequence[Any] | tuple[float, float, bool]]:
    """``PATH=VALUES`` → (path, explicit values) or (path, (low, high, integer)) for ranges.

    ``a:b`` with integers is every integer from a to b; ``a:b:step`` a stepped range
    (:class:`Stepped`, computed, never listed); a comma list its values (numbers where they
    parse, else strings).
    """
    if "=" not in spec:
        raise ScenarioError([Issue("--param", "must be PATH=a:b, PATH=a:b:step or PATH=v1,v2",
                                   spec)])  # fmt: skip
    path, raw = (s.strip() for s in spec.split("=", 1))
    if not path or not raw:
        raise ScenarioError([Issue("--param", "needs a path and values", spec)])
    m = re.fullmatch(rf"({_NUM}):({_NUM})(?::({_NUM}))?", raw)
    if m:
        lo, hi, step = m.group(1), m.group(2), m.group(3)
        integer = all(re.fullmatch(r"-?\d+", x) for x in (lo, hi) + ((step,) if step else ()))
        a, b = float(lo), float(hi)
        if b < a:
            raise ScenarioError([Issue(f"--param {path}", "range end must be >= start", raw)])
        if step is not None:
            s = float(step)
            if s <= 0:
                raise ScenarioError([Issue(f"--param {path}", "step must be > 0", raw)])
            count = math.floor((b - a) / s + 0.5) + 1  # counted, never listed
            return path, Stepped(a, s, count, bool(integer))
        return path, (a, b, integer)
    if re.fullmatch(rf"{_NUM}\s*(?:-|\.\.|–)\s*{_NUM}", raw) or ";" in raw:  # 8-14, 1;2;4
        raise ScenarioError([Issue(f"--param {path}", "a range is written a:b (e.g. 8:14) or"
                                   " a:b:step, a list v1,v2,v3", raw)])  # fmt: skip
    values: list[Any] = []
    for v in raw.split(","):
        v = v.strip()
        values.append(_number(v))
    return path, values


def _number(v: str) -> Any:
    if re.fullmatch(r"-?\d+", v):
        return int(v)
    if re.fullmatch(_NUM, v):
        return float(v)
    return v


def grid_size(params: dict[str, Sequence[Any] | tuple[float, float, bool]]) -> int:
    """How many points the full grid of ``params`` has (computed, not listed)."""
    n = 1
    for spec in params.values():
        n *= int(spec[1] - spec[0]) + 1 if isinstance(spec, tuple) else len(spec)
    return n


def _axes(params: dict[str, Sequence[Any] | tuple[float, float, bool]]) -> list[Sequence[Any]]:
    """The values of each grid axis (an integer range stays a ``range``: never listed)."""
    axes: list[Sequence[Any]] = []
    for p, spec in params.items():
        if isinstance(spec, tuple):
            a, b, integer = spec
            if not integer:
                raise ScenarioError([Issue(f"--param {p}", "a float range a:b needs a step"
                                           " (a:b:step) or --samples", f"{a}:{b}")])
            axes.append(range(int(a), int(b) + 1))
        else:
            axes.append(spec)
    return axes


def grid_point(axes: list[Sequence[Any]], i: int) -> tuple[Any, ...]:
    """Point ``i`` of the full grid, in ``itertools.product`` order (last axis fastest)."""
    out = []
    for ax in reversed(axes):
        i, k = divmod(i, len(ax))
        out.append(ax[k])
    return tuple(reversed(out))


def design(params: dict[str, Sequence[Any] | tuple[float, float, bool]], samples: int | None = None,
           seed: int = DEFAULT_SEED) -> pd.DataFrame:  # fmt: skip
    """The sweep points as a table: the full grid, or ``samples`` Latin-hypercube points.
    (:func:`sweep` itself walks the grid lazily, point by point.)"""
    names = list(params)
    if samples is None:
        return pd.DataFrame(list(itertools.product(*_axes(params))), columns=names)
    if samples < 1:
        raise ScenarioError([Issue("--samples", "must be >= 1", samples)])
    from scipy.stats import qmc

    u = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(seed)).random(samples)
    cols = {}
    for j, p in enumerate(names):
        spec = params[p]
        if isinstance(spec, tuple):
            a, b, integer = spec
            x = a + u[:, j] * (b - a + (1 if integer else 0))
            cols[p] = np.minimum(np.floor(x), b).astype(int) if integer else x
        else:
            cols[p] = [spec[min(int(v * len(spec)), len(spec) - 1)] for v in u[:, j]]
    return pd.DataFrame(cols)


#: Points turned into jobs together: SLA-only variants among them share their simulations.
POINTS_PER_BLOCK = 256


def sweep(scenario: Scenario, params: dict[str, Any], reps: int = 20, seed: int = DEFAULT_SEED,
          samples: int | None = None, workers: int = 1, dask: str | None = None,
          progress: bool = True) -> pd.DataFrame:  # fmt: skip
    """Run every point; one row per point x replication x period x metric, params as columns.

    ``params`` maps paths to value lists or to ``parse_param`` specs. A full grid is generated
    lazily: its points are validated one by one (nothing runs unless all are valid), then
    made into jobs a block at a time as the workers take them, so neither the grid nor its
    scenarios are held in memory at once.
    """
    check_request(reps, workers, seed)
    if not params:
        raise ScenarioError([Issue("--param", "a sweep needs at least one parameter", None)])
    specs = {p: (v if isinstance(v, (tuple, Stepped)) else list(v)) for p, v in params.items()}
    n_points = grid_size(specs) if samples is None else samples
    if samples is not None and samples < 1:
        raise ScenarioError([Issue("--samples", "must be >= 1", samples)])
    check_cost(scenario, reps, workers, scenarios=n_points, points=n_points,
               field="--param (grid size)" if samples is None else "--samples",
               value=n_points)  # the points, not --reps (it said "got 1")
    names = list(specs)
    if samples is None:
        axes = _axes(specs)

        def point(i: int) -> tuple[Any, ...]:
            return grid_point(axes, i)
    else:
        rows = design(specs, samples, seed)[names].itertuples(index=False, name=None)
        table_points = [tuple(_plain(v) for v in r) for r in rows]
        point = table_points.__getitem__
    issues: list[Issue] = []
    for i in range(n_points):  # every point is validated before anything runs
        _variant(scenario, names, point(i), issues)
    if issues:
        raise ScenarioError(issues, "sweep request")

    def jobs() -> Iterator[Job]:
        for lo in range(0, n_points, POINTS_PER_BLOCK):
            block = [(i, _variant(scenario, names, point(i), []))
                     for i in range(lo, min(n_points, lo + POINTS_PER_BLOCK))]
            yield from jobs_for(block, seed, tuple(range(reps)))  # type: ignore[arg-type]

    done, failed = collect(execute(jobs(), min(workers, n_points * reps), dask,
                                   total=n_points * reps),
                           progress=progress, total=n_points * reps, desc="sweep")  # fmt: skip
    if failed:
        raise ReplicationError(failed)
    from sla_sim.metrics.costs import cost_table

    priced: dict[int, Scenario | None] = {}  # each point's scenario, made again to price it
    frames = []
    for r in sorted(done, key=lambda r: (r.tag, r.replication)):
        df = r.metrics
        if r.drivers:  # the point's cost metrics (cost, profit, CAC ...) as rows too
            if r.tag not in priced:
                priced[r.tag] = _variant(scenario, names, point(r.tag), [])
            df = pd.concat([df, cost_table(r.drivers, df, priced[r.tag])], ignore_index=True)
        df.insert(0, "replication", r.replication)
        df.insert(0, "point", r.tag)
        frames.append(df)
    table = pd.concat(frames, ignore_index=True)
    tags = sorted({r.tag for r in done})
    pts = pd.DataFrame([point(i) for i in tags], columns=names)
    pts.insert(0, "point", tags)
    return pts.merge(table, on="point", how="right")


def _variant(scenario: Scenario, names: list[str], values: tuple[Any, ...],
             issues: list[Issue]) -> Scenario | None:  # fmt: skip
    """The scenario of one point, or None with its problems added to ``issues`` (each rule
    once per parameter)."""
    sc = scenario
    for p, v in zip(names, values, strict=True):
        try:
            sc = set_path(sc, p, _plain(v))
        except ScenarioError as err:
            for x in err.issues:
                if not any(y.path == f"--param {p}" and y.rule == x.rule for y in issues):
                    issues.append(Issue(f"--param {p}", x.rule, x.value))
            return None
    return sc


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
