"""Tests for sla_sim.scenario.distributions: analytic moments, sampling, validation and
round-trips."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from sla_sim._base import Spec
from sla_sim.scenario.distributions import (
    Constant,
    Distribution,
    Empirical,
    Exponential,
    Gamma,
    LogNormal,
    Triangular,
    Uniform,
    Weibull,
    make,
)

N = 200_000
SEED = 12345

SPECS: dict[str, Any] = {
    "constant": Constant(value=3.5),
    "exponential": Exponential(mean=4.0),
    "lognormal": LogNormal(mean=6.0, cv=0.8),
    "gamma": Gamma(mean=5.0, cv=0.5),
    "uniform": Uniform(low=1.0, high=3.0),
    "triangular": Triangular(low=0.0, mode=2.0, high=5.0),
    "weibull": Weibull(mean=10.0, shape=1.5),
    "empirical": Empirical(values=[0.0, 1.0, 1.0, 2.0, 5.5]),
}
KINDS = list(SPECS)


@pytest.fixture(scope="module")
def draws() -> dict[str, np.ndarray]:
    """Draw N samples once per kind with the reference seed."""
    return {k: spec.sample(np.random.default_rng(SEED), N) for k, spec in SPECS.items()}


def test_every_kind_is_covered() -> None:
    """The parametrisation covers every member of the Distribution union."""
    union = Distribution.__origin__  # type: ignore[attr-defined]
    kinds = {cls.model_fields["kind"].default for cls in union.__args__}
    assert kinds == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_sample_mean_matches_analytic_mean(kind: str, draws: dict[str, np.ndarray]) -> None:
    """The sample mean lies within 4 standard errors of the analytic mean."""
    spec, x = SPECS[kind], draws[kind]
    assert x.shape == (N,)
    assert x.dtype == np.float64
    if spec.variance == 0:
        assert np.all(x == spec.mean)
        return
    se = math.sqrt(spec.variance / N)
    assert abs(x.mean() - spec.mean) < 4 * se


@pytest.mark.parametrize("kind", KINDS)
def test_sample_variance_matches_analytic_variance(kind: str, draws: dict[str, np.ndarray]) -> None:
    """The sample variance is within 4 standard errors (via the 4th moment) of the analytic one."""
    spec, x = SPECS[kind], draws[kind]
    var = x.var()
    if spec.variance == 0:
        assert var == 0.0
        return
    m4 = np.mean((x - x.mean()) ** 4)
    se_var = math.sqrt((m4 - var**2) / N)
    assert abs(var - spec.variance) < 4 * se_var
    assert spec.std == pytest.approx(math.sqrt(spec.variance))


@pytest.mark.parametrize("kind", KINDS)
def test_samples_are_non_negative(kind: str, draws: dict[str, np.ndarray]) -> None:
    """Every draw is finite and non-negative."""
    x = draws[kind]
    assert np.all(np.isfinite(x))
    assert x.min() >= 0


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_gives_identical_samples(kind: str) -> None:
    """Two generators with the same seed produce identical samples."""
    a = SPECS[kind].sample(np.random.default_rng(7), 1000)
    b = SPECS[kind].sample(np.random.default_rng(7), 1000)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", KINDS)
def test_sample_without_size_returns_float(kind: str) -> None:
    """Calling sample(rng) without size returns a plain Python float."""
    value = SPECS[kind].sample(np.random.default_rng(SEED))
    assert type(value) is float
    assert value >= 0


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_through_type_adapter(kind: str) -> None:
    """Validating a spec's model_dump through the Distribution adapter gives back an equal spec."""
    spec = SPECS[kind]
    again = TypeAdapter(Distribution).validate_python(spec.model_dump())
    assert type(again) is type(spec)
    assert again == spec


@pytest.mark.parametrize("kind", KINDS)
def test_make_builds_the_same_spec(kind: str) -> None:
    """make(kind, **params) builds a spec equal to the one built by its class."""
    spec = SPECS[kind]
    params = spec.model_dump(exclude={"kind"})
    assert make(kind, **params) == spec


def test_distribution_works_as_a_schema_field() -> None:
    """A Spec field typed Distribution keeps its default and parses a YAML-style mapping."""

    class Holder(Spec):
        attempt_minutes: Distribution = LogNormal(mean=6, cv=0.8)

    assert Holder().attempt_minutes == LogNormal(mean=6, cv=0.8)
    parsed = Holder.model_validate({"attempt_minutes": {"kind": "gamma", "mean": 2, "cv": 1}})
    assert parsed.attempt_minutes == Gamma(mean=2, cv=1)


def test_derived_parameters() -> None:
    """Derived parameters follow the documented formulas."""
    ln = LogNormal(mean=6, cv=0.8)
    assert ln.sigma**2 == pytest.approx(math.log(1 + 0.8**2))
    assert ln.mu == pytest.approx(math.log(6) - ln.sigma**2 / 2)
    w = Weibull(mean=10, shape=1.5)
    assert w.scale == pytest.approx(10 / math.gamma(1 + 1 / 1.5))
    assert Exponential(mean=4).variance == 16
    assert Empirical(values=[1, 3]).variance == 1.0


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"kind": "exponential", "mean": -1}, "mean"),
    ({"kind": "lognormal", "mean": 6, "cv": 0}, "cv"),
    ({"kind": "gamma", "mean": 0, "cv": 1}, "mean"),
    ({"kind": "constant", "value": -0.5}, "value"),
    ({"kind": "weibull", "mean": 1, "shape": 0}, "shape"),
    ({"kind": "exponential", "mean": float("inf")}, "mean"),
    ({"kind": "uniform", "low": -1, "high": 2}, "low"),
    ({"kind": "uniform", "low": 3, "high": 3}, "high"),
    ({"kind": "uniform", "low": 3, "high": 1}, "high"),
    ({"kind": "triangular", "low": 0, "mode": 6, "high": 5}, "mode"),
    ({"kind": "triangular", "low": 2, "mode": 1, "high": 5}, "mode"),
    ({"kind": "triangular", "low": 2, "mode": 2, "high": 2}, "high"),
    ({"kind": "empirical", "values": []}, "values"),
    ({"kind": "empirical", "values": [1, -1]}, "values"),
    ({"kind": "poisson", "mean": 3}, "kind"),
    ({"mean": 3}, "kind"),
    ({"kind": "lognormal", "mean": 6, "cv": 0.8, "sd": 1}, "sd"),
]


def _names_field(err: dict[str, Any], field: str) -> bool:
    """Whether a pydantic error entry names ``field`` in its location or its message."""
    return field in err["loc"] or re.search(rf"\b{field}\b", err["msg"]) is not None


@pytest.mark.parametrize(("data", "field"), INVALID, ids=lambda v: str(v))
def test_invalid_input_names_the_field(data: dict[str, Any], field: str) -> None:
    """Invalid parameters raise a ValidationError whose error names the offending field."""
    with pytest.raises(ValidationError) as info:
        TypeAdapter(Distribution).validate_python(data)
    errors = info.value.errors(include_url=False)
    assert any(_names_field(e, field) for e in errors), errors


def test_make_rejects_unknown_kind() -> None:
    """make() with an unknown kind raises a ValidationError mentioning 'kind'."""
    with pytest.raises(ValidationError, match="kind"):
        make("poisson", mean=3)


def test_failed_assignment_leaves_spec_unchanged() -> None:
    """An assignment that breaks a cross-field rule is rejected and rolled back."""
    spec = Triangular(low=1, mode=2, high=3)
    with pytest.raises(ValidationError, match="mode"):
        spec.mode = 4
    assert spec == Triangular(low=1, mode=2, high=3)
    spec.high = 10
    assert spec.high == 10.0
