"""Cross-field scenario rules, each checked for the exact issue (path, rule, value) it raises.

Written for the scenario-rule mutants that survived ``bash dev.sh mutate scenario_rules``
(README, "Mutation testing"): every rule is triggered together with another one, so that a
rule that stops the others (or replaces their issues) is caught too.
"""

from __future__ import annotations

from typing import Any

import pytest

from sla_sim.errors import Issue, ScenarioError
from sla_sim.scenario.io import validate
from sla_sim.scenario.presets import preset


def enterprise() -> dict[str, Any]:
    """The enterprise preset as plain data (channels inbound/events/partner, teams ny/london,
    segments enterprise/strategic routed by segment)."""
    return preset("enterprise").model_dump(mode="python")


def issues_of(data: dict[str, Any]) -> list[Issue]:
    with pytest.raises(ScenarioError) as info:
        validate(data)
    return list(info.value.issues)


def test_duplicate_channel_and_team_names_are_both_reported() -> None:
    """Two channels and two teams with the same names give one issue each, naming them."""
    data = enterprise()
    data["channels"][1]["name"] = data["channels"][0]["name"]
    data["teams"][1]["name"] = data["teams"][0]["name"]
    found = issues_of(data)
    assert Issue("channels[].name", "names must be unique", ["inbound"]) in found
    assert Issue("teams[].name", "names must be unique", ["ny"]) in found


def test_empty_segment_mix_and_a_bad_share_in_the_next_channel() -> None:
    """An empty segment mix is reported for its channel, and checking goes on to the next
    channel, whose share outside [0, 1] is reported with the offending shares only."""
    data = enterprise()
    data["channels"][0]["segment_mix"] = {}
    data["channels"][1]["segment_mix"] = {"enterprise": 2.0, "strategic": -1.0}
    found = issues_of(data)
    assert Issue("channels[0].segment_mix", "must name at least one segment", {}) in found
    assert Issue("channels[1].segment_mix", "shares must be in [0, 1]",
                 {"enterprise": 2.0, "strategic": -1.0}) in found  # fmt: skip
    assert not any(i.path == "channels[1].segment_mix" and "sum" in i.rule for i in found)


def test_shares_of_zero_and_one_are_valid() -> None:
    """A segment share of exactly 0 (or 1) is allowed."""
    data = enterprise()
    data["channels"][0]["segment_mix"] = {"enterprise": 0.0, "strategic": 1.0}
    assert validate(data).channels[0].segment_mix == {"enterprise": 0.0, "strategic": 1.0}


def test_shares_not_summing_to_one_are_reported_with_their_sum() -> None:
    """Shares summing to 0.9 are refused with the rounded sum as the value."""
    data = enterprise()
    data["channels"][2]["segment_mix"] = {"enterprise": 0.5, "strategic": 0.4}
    assert Issue("channels[2].segment_mix", "shares must sum to 1", 0.9) in issues_of(data)
