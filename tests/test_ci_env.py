"""The CI helper: what counts as CI, what a missing dependency does there, and the hypothesis
profile it selects."""

from __future__ import annotations

import os

import pytest
from ci_env import on_ci, require
from hypothesis import settings


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", True), ("true", True), ("1", True), ("yes", True), ("false", False),
     ("0", False), ("No", False), (" off ", False)],
)  # fmt: skip
def test_ci_variable_present_counts_as_ci_even_when_empty(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool
) -> None:
    """CI="" is CI (os.environ.get("CI") would say it is not); CI=false/0/no/off is not."""
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert on_ci() is expected


def test_missing_dependency_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing module fails the test on CI and skips it elsewhere; a present one imports."""
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.fail.Exception, match=r"no_such_module_xyz.*required on CI"):
        require("no_such_module_xyz", "pip install it")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="no_such_module_xyz is not installed"):
        require("no_such_module_xyz", "pip install it")
    assert require("json", "stdlib").dumps([1]) == "[1]"


def test_hypothesis_is_derandomised_on_ci() -> None:
    """The loaded hypothesis profile is the CI one (derandomised, no database) exactly when
    the tests run on CI or the profile is forced to ci."""
    forced = os.environ.get("SLA_SIM_HYPOTHESIS_PROFILE")
    ci = forced == "ci" if forced else on_ci()
    assert settings.default.derandomize is ci
    if ci:
        assert settings.default.database is None
