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
from sla_sim.scenario.rules import cross_field_issues
from sla_sim.scenario.schema import Scenario


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


def test_sum_is_reported_rounded_to_nine_decimals() -> None:
    """The sum shown for shares that do not sum to 1 is rounded to 9 decimals (0.9000000004 is
    shown as 0.9)."""
    data = enterprise()
    data["channels"][0]["segment_mix"] = {"enterprise": 0.5, "strategic": 0.4000000004}
    assert issues_of(data) == [Issue("channels[0].segment_mix", "shares must sum to 1", 0.9)]


def test_burst_on_an_unknown_channel_is_reported_and_a_known_one_accepted() -> None:
    """A burst must name one of the scenario's channels; the unknown name is the value."""
    data = enterprise()
    burst = {"channel": "webinar", "start_day": 3, "duration_days": 2, "multiplier": 2.0}
    data["arrivals"]["bursts"] = [dict(burst, channel="events"), burst]
    assert issues_of(data) == [
        Issue("arrivals.bursts[1].channel", "must name a channel", "webinar")
    ]
    data["arrivals"]["bursts"] = [dict(burst, channel="events")]
    assert validate(data).arrivals.bursts[0].channel == "events"


def test_single_team_rule_needs_exactly_one_team() -> None:
    """team_rule 'single' with two teams is refused naming the teams (a misspelt name under
    'base:' adds one); with one, it is accepted."""
    data = enterprise()
    data["routing"]["team_rule"] = "single"
    [issue] = issues_of(data)
    assert issue.path == "routing.team_rule"
    assert issue.rule.startswith("'single' needs exactly one team")
    assert issue.value == "ny, london"
    data["teams"] = data["teams"][:1]
    assert validate(data).team_names() == ["ny"]


def test_by_channel_coverage_names_unserved_and_shared_channels_after_other_issues() -> None:
    """by_channel: a channel no team lists and a channel two teams list are each reported (with
    the teams serving it), as is an unknown channel, and an earlier segment-mix issue is kept."""
    data = enterprise()
    data["channels"][0]["segment_mix"] = {"enterprise": 0.5, "strategic": 0.4}
    data["routing"]["team_rule"] = "by_channel"
    data["teams"][0]["channels"] = ["inbound", "events", "webinar"]
    data["teams"][1]["channels"] = ["events"]
    assert issues_of(data) == [
        Issue("channels[0].segment_mix", "shares must sum to 1", 0.9),
        Issue("teams[0].channels", "names an unknown channel", "webinar"),
        Issue("routing.team_rule (channel 'events')", "is served by more than one team",
              ["ny", "london"]),
        Issue("routing.team_rule (channel 'partner')", "is served by no team", []),
    ]  # fmt: skip


def test_by_channel_coverage_accepts_each_channel_served_by_exactly_one_team() -> None:
    data = enterprise()
    data["routing"]["team_rule"] = "by_channel"
    data["teams"][0]["channels"] = ["inbound", "events"]
    data["teams"][1]["channels"] = ["partner"]
    assert validate(data).teams[1].channels == ["partner"]


def batch_scenario(**calendar: Any) -> dict[str, Any]:
    """The enterprise preset with daily batches at 9:00 and 14:00 and the given marketing
    calendar fields."""
    data = enterprise()
    data["handoff"] |= {"mode": "batch", "batch_local_hours": [9.0, 14.0]}
    data["marketing_calendar"] |= calendar
    return data


@pytest.mark.parametrize("calendar", [{}, {"always_open": True, "working_days": []}],
                         ids=["weekdays", "always-open-without-working-days"])  # fmt: skip
def test_daily_batches_are_accepted_with_a_working_day_or_an_always_open_calendar(
    calendar: dict[str, Any],
) -> None:
    """Daily batches on a Monday-Friday marketing calendar, or on an always-open one that lists
    no working days, break no rule."""
    assert validate(batch_scenario(**calendar)).handoff.batch_local_hours == [9.0, 14.0]


def without_marketing_working_days(sc: Scenario) -> Scenario:
    """``sc`` with a marketing calendar that lists no working day and is not always open, copied
    without validation (validation refuses such a calendar on its own, so the cross-field rule
    only guards scenarios built with model_copy / model_construct)."""
    cal = sc.marketing_calendar.model_copy(update={"working_days": [], "always_open": False})
    return sc.model_copy(update={"marketing_calendar": cal})


def test_daily_batches_need_a_marketing_working_day() -> None:
    """Batches at local hours on a marketing calendar without a working day never happen: the
    rule names marketing_calendar.working_days with the empty list."""
    sc = without_marketing_working_days(validate(batch_scenario()))
    assert cross_field_issues(sc) == [
        Issue("marketing_calendar.working_days", "batches need a working day", [])
    ]


@pytest.mark.parametrize("handoff", [
    {"mode": "batch", "batch_every_hours": 4.0},
    {"mode": "realtime", "batch_local_hours": [9.0]},
], ids=["clock-hour-batches", "realtime-with-unused-batch-hours"])  # fmt: skip
def test_only_daily_batches_need_a_marketing_working_day(handoff: dict[str, Any]) -> None:
    """Batches every few clock hours, or a realtime handoff (its batch_local_hours unused), do
    not depend on marketing working days."""
    data = enterprise()
    data["handoff"] |= handoff
    assert cross_field_issues(without_marketing_working_days(validate(data))) == []


@pytest.mark.parametrize("overflow", ["nobody", "ny"])
def test_overflow_team_must_name_another_team(overflow: str) -> None:
    """An overflow team that is unknown or the team itself is refused with its name."""
    data = enterprise()
    data["teams"][0] |= {"overflow_team": overflow, "reassign_after_business_hours": 2.0}
    assert issues_of(data) == [Issue("teams[0].overflow_team", "must name another team", overflow)]


def test_overflow_team_needs_reassign_after_business_hours() -> None:
    """Leads only overflow when reassigned: an overflow team without
    reassign_after_business_hours is refused with the overflow team's name; with it, accepted."""
    data = enterprise()
    data["teams"][1]["overflow_team"] = "ny"
    assert issues_of(data) == [
        Issue("teams[1].overflow_team", "needs reassign_after_business_hours", "ny")
    ]
    data["teams"][1]["reassign_after_business_hours"] = 2.0
    assert validate(data).teams[1].overflow_team == "ny"


def test_rep_calendars_need_one_calendar_per_rep() -> None:
    """Two rep calendars for three reps are refused with the number given, the rule naming the
    number of reps; three are accepted."""
    data = enterprise()
    cal = {"timezone": "Europe/London"}
    data["teams"][1]["rep_calendars"] = [cal, cal]
    assert issues_of(data) == [Issue("teams[1].rep_calendars", "needs one calendar per rep (3)", 2)]
    data["teams"][1]["rep_calendars"] = [cal, cal, cal]
    assert len(validate(data).teams[1].rep_calendars) == 3


def test_reassignment_applies_to_immediate_assignment_only() -> None:
    """A pull team's lead is touched when taken, so reassign_after_business_hours is refused
    there (value: the hours); on an immediate-assignment team it is accepted."""
    data = enterprise()
    data["teams"][0] |= {"assignment": "pull", "reassign_after_business_hours": 2.5}
    assert issues_of(data) == [
        Issue("teams[0].reassign_after_business_hours",
              "applies to assignment: immediate (a pulled lead is touched at once)", 2.5)
    ]  # fmt: skip
    data["teams"][0]["assignment"] = "immediate"
    assert validate(data).teams[0].reassign_after_business_hours == 2.5


def test_priority_order_needs_priority_by() -> None:
    """A priority order without priority_by is refused with the order as the value; with
    priority_by channel it is accepted."""
    data = enterprise()
    data["routing"]["priority_order"] = ["partner", "inbound"]
    assert issues_of(data) == [
        Issue("routing.priority_order", "needs routing.priority_by (channel or segment)",
              ["partner", "inbound"])
    ]  # fmt: skip
    data["routing"]["priority_by"] = "channel"
    assert validate(data).routing.priority_order == ["partner", "inbound"]


def test_priority_order_reports_each_unknown_name_of_its_kind() -> None:
    """Each name that is not a channel (priority_by channel) is reported on its own; a segment
    name is unknown as a channel, and a channel name unknown as a segment."""
    data = enterprise()
    data["routing"] |= {
        "priority_by": "channel",
        "priority_order": ["partner", "webinar", "inbound", "strategic"],
    }
    assert issues_of(data) == [
        Issue("routing.priority_order", "names an unknown channel", "webinar"),
        Issue("routing.priority_order", "names an unknown channel", "strategic"),
    ]
    data["routing"] |= {"priority_by": "segment", "priority_order": ["strategic", "inbound"]}
    assert issues_of(data) == [
        Issue("routing.priority_order", "names an unknown segment", "inbound")
    ]


def test_priority_order_names_must_be_unique() -> None:
    """A name listed twice is refused, the value being the sorted repeated names."""
    data = enterprise()
    data["routing"] |= {
        "priority_by": "segment",
        "priority_order": ["strategic", "enterprise", "strategic"],
    }
    assert issues_of(data) == [
        Issue("routing.priority_order", "names must be unique", ["strategic"])
    ]
    data["routing"]["priority_order"] = ["strategic", "enterprise"]
    assert validate(data).routing.priority_order == ["strategic", "enterprise"]
