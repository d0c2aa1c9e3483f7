"""Whether the tests run on CI, and what that changes: the one helper every test module uses.

On CI (the ``CI`` environment variable is set, even to the empty string, unless it says
``0``/``false``/``no``/``off``) a missing optional dependency is a failure, not a skip, and
hypothesis is derandomised so that two CI runs of the same commit test the same examples.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

_FALSE = {"0", "false", "no", "off"}


def on_ci() -> bool:
    """True when the ``CI`` variable is present and not a false word (``CI=""`` is CI)."""
    value = os.environ.get("CI")
    return value is not None and value.strip().lower() not in _FALSE


def require(module: str, hint: str) -> ModuleType:
    """Import ``module``; when it is missing, skip the test locally but fail it on CI.

    ``hint`` says how to install it (e.g. ``"pip install -e .[notebook]"``)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        reason = f"{module} is not installed ({hint})"
        if on_ci():
            pytest.fail(f"{reason}: required on CI ({exc})", pytrace=False)
        pytest.skip(reason, allow_module_level=True)
        raise  # unreachable: pytest.skip raises
