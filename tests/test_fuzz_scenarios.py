"""Property-based fuzzing of scenario files (hypothesis).

Starting from a valid scenario, each example mutates values (any type, huge, negative,
non-finite), keys (dropped, unknown, duplicated), nesting (values wrapped hundreds deep),
bytes and encodings (UTF-16, Latin-1, raw byte edits) and the format (YAML, JSON, TOML).
Every example must either validate or be refused with a ScenarioError whose every issue names
a field; nothing else may escape, and no example may take 10 s. Most examples only validate
(500 of them, a few seconds); a few also run one short replication through the CLI under
small cost limits, and must then exit 0 or 2, never 1 and never a traceback.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla_sim.errors import ScenarioError
from sla_sim.scenario.io import dump_yaml, load
from sla_sim.scenario.schema import Scenario
from tests.conftest import make_tiny

BASE: dict[str, Any] = yaml.safe_load(dump_yaml(make_tiny({"horizon.warmup_days": 5})))


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _leaves(v, (*path, i))
    return out


PATHS = _leaves(BASE)

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e308, 1e12, 1e-300, 10**20, "", "0", "1e9", "inf", "-5",
                     "2026-02-30", "9999-12-31", "0001-01-01", "Europe/Nowhere"]),
    st.text(max_size=20),
)  # fmt: skip
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)  # fmt: skip


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        data = data[p]
    return data


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, str]:
    """(file bytes, suffix) of a mutated scenario."""
    data = json.loads(json.dumps(BASE, default=str))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        try:
            parent = _get(data, path[:-1])
            parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue
        op = draw(st.sampled_from(["value", "value", "drop", "unknown", "nest", "scale"]))
        if op == "value":
            parent[path[-1]] = draw(values)
        elif op == "drop":
            del parent[path[-1]]
        elif op == "unknown" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(values)
        elif op == "nest":
            v = parent[path[-1]]
            for _ in range(draw(st.sampled_from([1, 2, 50, 300]))):
                v = [v]
            parent[path[-1]] = v
        elif op == "scale" and isinstance(parent[path[-1]], (int, float)) and not isinstance(
                parent[path[-1]], bool):
            parent[path[-1]] = parent[path[-1]] * draw(st.sampled_from(
                [-1, 0, 0.5, 2, 10, 1e3, 1e9, math.inf]))  # fmt: skip
    suffix = draw(st.sampled_from([".yaml", ".yaml", ".json", ".toml"]))
    if suffix == ".json":
        text = json.dumps(data, default=str)
    elif suffix == ".toml":
        text = _toml(data)
    else:
        try:
            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        except (yaml.YAMLError, RecursionError):
            text = json.dumps(data, default=str)
    if draw(st.integers(0, 9)) == 0:  # duplicate a top-level key
        text = text + ("\nname: again\n" if suffix == ".yaml" else "")
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-16", "latin-1"]))
    raw = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 4)) == 0:  # raw byte edits
        raw = bytearray(raw)
        for _ in range(draw(st.integers(1, 5))):
            if raw:
                raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
        raw = bytes(raw)
    return raw, suffix


def _toml(data: Any) -> str:
    """A crude TOML writer (inline tables) good enough to produce valid and invalid files."""

    def val(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v) if math.isfinite(v) else ("nan" if v != v else ("inf" if v > 0
                                                                            else "-inf"))
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(str(k))} = {val(x)}" for k, x in v.items()) + "}"
        return json.dumps("" if v is None else str(v))

    return "\n".join(f"{json.dumps(str(k))} = {val(v)}" for k, v in data.items()) + "\n"


def _check(raw: bytes, suffix: str) -> Scenario | None:
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / f"sc{suffix}"
        f.write_bytes(raw)
        t = time.perf_counter()
        error: ScenarioError | None = None
        try:
            sc = load(f)
        except ScenarioError as err:
            error, sc = err, None
        assert time.perf_counter() - t < 10
        if error is not None:
            assert error.issues
            assert all(i.path for i in error.issues), error
            assert str(error)
        return sc


@settings(max_examples=500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(mutated())
def test_mutated_scenario_files_validate_or_exit_2(case: tuple[bytes, str]) -> None:
    """Every mutated file either validates or raises a ScenarioError naming fields."""
    _check(*case)


NUMERIC_PATHS = [p for p in PATHS if isinstance(_get(BASE, p), (int, float))
                 and not isinstance(_get(BASE, p), bool)]  # fmt: skip


@st.composite
def mild(draw: st.DrawFn) -> tuple[bytes, str]:
    """(file bytes, suffix) of a scenario with one or two numbers changed a little or a lot:
    most still validate, so the CLI runs them."""
    data = json.loads(json.dumps(BASE, default=str))
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(NUMERIC_PATHS))
        parent = _get(data, path[:-1])
        value = parent[path[-1]]
        parent[path[-1]] = type(value)(value * draw(st.sampled_from([0, 0.5, 0.9, 1.1, 2, 3])))
    suffix = draw(st.sampled_from([".yaml", ".json", ".toml"]))
    text = {".json": lambda: json.dumps(data, default=str), ".toml": lambda: _toml(data)}.get(
        suffix, lambda: yaml.safe_dump(data, sort_keys=False))()  # fmt: skip
    return text.encode(), suffix


CODES: list[int] = []


@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(mild())
def _through_the_cli(case: tuple[bytes, str]) -> None:
    import contextlib
    import io
    import os

    from sla_sim.cli.main import main

    raw, suffix = case
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / f"sc{suffix}"
        f.write_bytes(raw)
        err = io.StringIO()
        old = {k: os.environ.get(k) for k in ("SLA_SIM_MAX_CPU_HOURS", "SLA_SIM_MAX_MEMORY_GB")}
        os.environ["SLA_SIM_MAX_CPU_HOURS"] = str(5 / 3600)
        os.environ["SLA_SIM_MAX_MEMORY_GB"] = "1"
        t = time.perf_counter()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(["run", str(f), "--reps", "1", "--workers", "1", "--quiet",
                             "--no-report", "--store", str(Path(d) / "st")])  # fmt: skip
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        assert time.perf_counter() - t < 10
        assert code in (0, 2), err.getvalue()
        assert "Traceback" not in err.getvalue()
        CODES.append(code)


def test_mutated_scenarios_that_validate_run_or_exit_2() -> None:
    """Through the CLI, with small cost limits (5 CPU-seconds, 1 GB): each mildly mutated
    scenario runs one replication (exit 0) or is refused (exit 2); never exit 1, never a
    traceback, never over 10 s. Some of them do run."""
    CODES.clear()
    _through_the_cli()
    assert CODES.count(0) >= 2, CODES


def test_fuzz_base_scenario_is_valid() -> None:
    """The starting point of the mutations validates (so mutations are what fails)."""
    assert _check(yaml.safe_dump(BASE, sort_keys=False).encode(), ".yaml") is not None


@pytest.mark.parametrize("depth", [900, 5000])
def test_deeply_nested_value_is_refused(depth: int) -> None:
    """A value nested thousands deep is refused with a ScenarioError, not a RecursionError."""
    text = json.dumps({**BASE, "name": "@@"}).replace('"@@"', "[" * depth + "1" + "]" * depth)
    assert _check(text.encode(), ".json") is None
