"""Declarative probability distributions for scenario files.

A scenario declares a random quantity as a mapping such as
``attempt_minutes: {kind: lognormal, mean: 6, cv: 0.8}``; the unit comes from the name of the
field holding the spec, never from the spec. Every spec has a literal ``kind`` discriminator,
analytic ``mean``/``variance``/``std`` and a vectorised ``sample(rng, size)``, and models a
non-negative quantity (duration, money): every support lies in ``[0, inf)``.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Annotated, Any, Literal, Self

import numpy as np
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from sla_sim._base import Spec

__all__ = [
    "Constant",
    "Distribution",
    "Empirical",
    "Exponential",
    "Gamma",
    "LogNormal",
    "Triangular",
    "Uniform",
    "Weibull",
    "make",
]


class _Dist(Spec):
    """Behaviour shared by every distribution spec; subclasses define ``mean``, ``variance``."""

    model_config = ConfigDict(allow_inf_nan=False)

    @property
    def variance(self) -> float:
        raise NotImplementedError

    def __setattr__(self, name: str, value: Any) -> None:
        # pydantic#7105: a failing after-model-validator leaves the bad value in place; undo it.
        old = self.__dict__.copy()
        try:
            super().__setattr__(name, value)
        except ValidationError:
            self.__dict__.update(old)
            raise

    @property
    def std(self) -> float:
        """Analytic standard deviation."""
        return math.sqrt(self.variance)

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray | float:
        """Draw ``size`` values from ``rng`` as a float array, or one float when size is None."""
        out = self._draw(rng, size)
        return float(out) if size is None else np.asarray(out, dtype=float)

    def _draw(self, rng: np.random.Generator, size: int | None) -> Any:
        raise NotImplementedError


class Constant(_Dist):
    """A fixed, non-random value."""

    kind: Literal["constant"] = "constant"
    value: float = Field(ge=0)

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    def _draw(self, rng: np.random.Generator, size: int | None) -> Any:
        return self.value if size is None else np.full(size, self.value, dtype=float)


class Exponential(_Dist):
    """Exponential distribution with the given mean (memoryless waiting times)."""

    kind: Literal["exponential"] = "exponential"
    mean: float = Field(gt=0)

    @property
    def variance(self) -> float:
        return self.mean**2

    def _draw(self, rng: np.random.Generator, size: int | None) -> Any:
        return rng.exponential(self.mean, size)


class LogNormal(_Dist):
    """Log-normal distribution parametrised by its mean and coefficient of variation."""

    kind: Literal["lognormal"] = "lognormal"
    mean: float = Field(gt=0)
    cv: float = Field(gt=0)

    @property
    def sigma(self) -> float:
        """Standard deviation of the underlying normal: sqrt(ln(1 + cv²))."""
        return math.sqrt(math.log1p(self.cv**2))

    @property
    def mu(self) -> float:
        """Mean of the underlying normal: ln(mean) - sigma²/2."""
        return math.log(self.mean) - math.log1p(self.cv**2) / 2

    @property
    def variance(self) -> float:
        return (self.mean * self.cv) ** 2

    def _draw(self, rng: np.random.Generator, size: int | None) -> Any:
        return rng.lognormal(self.mu, self.sigma, size)


class Gamma(_Dist):
    """Gamma distribution by mean and coefficient of variation: shape 1/cv², scale mean·cv²."""

    kind: Literal["gamma"] = "gamma"
    mean: float = Field(gt=0)
    cv: float = Field(gt=0)

    @property
    def variance(self) -> float:
        return (self.mean * self.cv) ** 2

    def _draw(self, rng: np.random.Generator, size: int | None) -> Any:
        return rng.gamma(1 / self.cv**2, self.mean * self.cv**2, size)  # shape, scale


class Uniform(_Dist):
    """Continuous uniform distribution on [low, high]."""

    kind: Literal["uniform"] = "uniform"
    low: float = Field(ge=0)
    high: float

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        if not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be greater than low ({self.low})")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12

    def _draw(self, rng: np.random.Generator, size: int | None) -> Any:
        return rng.uniform(self.low, self.high, size)


class Triangular(_Dist):
    """Triangular distribution on [low, high] with the given mode (most likely value)."""

    kind: Literal["triangular"] = "triangular"
    low: float = Field(ge=0)
    mode: float
    high: float

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        if not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be greater than low ({self.low})")
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                f"mode ({self.mode}) must lie between low ({self.low}) and high ({self.high})"
            )
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    def _draw(self, rng: np.random.Generator, size: int | None) -> Any:
        return rng.triangular(self.low, self.mode, self.high, size)


class Weibull(_Dist):
    """Weibull distribution parametrised by its mean and shape k (scale = mean / Γ(1 + 1/k))."""

    kind: Literal["weibull"] = "weibull"
    mean: float = Field(gt=0)
    shape: float = Field(gt=0)

    @property
    def scale(self) -> float:
        """Scale parameter: mean / Γ(1 + 1/k)."""
        return self.mean * math.exp(-math.lgamma(1 + 1 / self.shape))

    @property
    def variance(self) -> float:
        ratio = math.exp(math.lgamma(1 + 2 / self.shape) - 2 * math.lgamma(1 + 1 / self.shape))
        return self.mean**2 * (ratio - 1)

    def _draw(self, rng: np.random.Generator, size: int | None) -> Any:
        return self.scale * rng.weibull(self.shape, size)


class Empirical(_Dist):
    """Resampling (with replacement) from observed values; moments are those of the list."""

    kind: Literal["empirical"] = "empirical"
    values: list[Annotated[float, Field(ge=0)]] = Field(min_length=1)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def variance(self) -> float:
        return float(np.var(self.values))

    def _draw(self, rng: np.random.Generator, size: int | None) -> Any:
        return rng.choice(np.asarray(self.values, dtype=float), size)


Distribution = Annotated[
    Constant | Exponential | LogNormal | Gamma | Uniform | Triangular | Weibull | Empirical,
    Field(discriminator="kind"),
]
"""Any distribution spec, selected by its ``kind`` key (use as a field type in schemas)."""


@cache
def _adapter() -> TypeAdapter[Distribution]:
    return TypeAdapter(Distribution)


def make(kind: str, **params: Any) -> Distribution:
    """Build and validate a distribution spec, e.g. ``make("lognormal", mean=6, cv=0.8)``."""
    return _adapter().validate_python({"kind": kind, **params})
