"""Shared pydantic base class for every schema object in sla_sim."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Spec(BaseModel):
    """A strict schema node: unknown keys are rejected, values are validated on assignment, and
    an infinite or NaN number is refused wherever the node is built (a file, --set, or
    ``Scenario.model_validate`` from Python)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False,
                              allow_inf_nan=False)
