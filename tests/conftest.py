"""Shared fixtures: a short version of the default scenario and a seeded random generator;
the hypothesis settings profile (derandomised on CI, see :mod:`ci_env`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from ci_env import on_ci
from hypothesis import settings

from sla_sim.scenario.io import set_path
from sla_sim.scenario.presets import preset
from sla_sim.scenario.schema import Scenario

SEED = 12345


def pytest_configure(config: pytest.Config) -> None:
    """Load the hypothesis profile before any test module (and its ``@settings``) is imported.

    On CI every run of a commit draws the same examples (derandomize) and no example database
    is read or written; locally examples stay random. SLA_SIM_HYPOTHESIS_PROFILE=ci|dev forces
    a profile (``bash dev.sh mutate`` forces ci, so each mutant meets the same examples)."""
    base = settings.get_profile("default")  # not hypothesis' own choice, which reads CI too
    settings.register_profile("ci", base, derandomize=True, database=None, deadline=None,
                              print_blob=True)  # fmt: skip
    settings.register_profile("dev", base)
    name = os.environ.get("SLA_SIM_HYPOTHESIS_PROFILE") or ("ci" if on_ci() else "dev")
    settings.load_profile(name)


# The default preset cut to a 20-day warm-up and one measured month (about 10,000 leads,
# ~0.4 s per replication): enough traffic for every event type, quick enough for unit tests.
TINY = {"horizon.warmup_days": 20, "horizon.measure_months": 1}


def make_tiny(overrides: dict[str, Any] | None = None) -> Scenario:
    """The shortened default scenario with optional ``set_path`` overrides applied in order."""
    sc = preset("default")
    for path, value in {**TINY, **(overrides or {})}.items():
        sc = set_path(sc, path, value)
    return sc


@pytest.fixture(scope="session")
def tiny_factory() -> Callable[[dict[str, Any] | None], Scenario]:
    """A factory of fresh shortened default scenarios (usable from module-scoped fixtures)."""
    return make_tiny


@pytest.fixture
def tiny_scenario() -> Scenario:
    """A fresh copy of the default preset with a 20-day warm-up and one measured month."""
    return make_tiny()


@pytest.fixture
def rng() -> np.random.Generator:
    """A numpy Generator with a fixed seed."""
    return np.random.default_rng(SEED)


@pytest.fixture(autouse=True)
def _isolated_run_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                        ) -> None:  # fmt: skip
    """Every test writes stored runs to its own temporary store, never into the work tree."""
    monkeypatch.setenv("SLA_SIM_STORE", str(tmp_path_factory.mktemp("store")))
