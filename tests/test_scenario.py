"""Tests for the scenario schema, its cross-field rules, and scenario_io (load/save/set_path)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sla_sim.errors import Issue, ScenarioError, SlaSimError
from sla_sim.scenario.io import dump_yaml, load, save, set_path, validate
from sla_sim.scenario.presets import preset, preset_names
from sla_sim.scenario.schema import Scenario

Data = dict[str, Any]


def default_data() -> Data:
    """The default preset as a plain mapping, ready to be broken."""
    return preset("default").model_dump(mode="python")


def enterprise_data() -> Data:
    """The enterprise preset (two teams routed by segment) as a plain mapping."""
    return preset("enterprise").model_dump(mode="python")


def put(data: Data, path: str, value: Any) -> Data:
    """Set ``value`` at a dotted path with integer list indices (``teams.0.reps``); an index
    one past the end appends."""
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list) and int(last) == len(node):
        node.append(value)
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


def by_channel(data: Data, *channel_lists: list[str]) -> Data:
    """Replace the teams with one team per channel list and route by channel."""
    data["routing"]["team_rule"] = "by_channel"
    base = data["teams"][0]
    data["teams"] = [dict(copy.deepcopy(base), name=f"t{i}", channels=chs)
                     for i, chs in enumerate(channel_lists)]
    return data


def burst(channel: str) -> Data:
    """A two-day campaign burst on ``channel``."""
    return {"channel": channel, "start_day": 1.0, "duration_days": 2.0, "multiplier": 2.0}


ALL_CHANNELS = ["inbound", "paid", "events", "outbound", "partner"]

# (id, data factory, expected issue path, fragment of the rule, repr of the value or None).
# None marks rules whose value is not a single scalar of the named field.
INVALID: list[tuple[str, Callable[[], Data], str, str, str | None]] = [
    ("unknown_top_level_key", lambda: put(default_data(), "colour", "red"),
     "colour", "unknown key", "'red'"),
    ("unknown_nested_key", lambda: put(default_data(), "teams.0.repz", 3),
     "teams[0].repz", "unknown key", "3"),
    ("win_rate_above_1", lambda: put(default_data(), "channels.0.win_rate", 1.5),
     "channels[0].win_rate", "less than or equal to 1", "1.5"),
    ("shrinkage_1", lambda: put(default_data(), "teams.0.shrinkage", 1.0),
     "teams[0].shrinkage", "less than 1", "1.0"),
    ("zero_reps", lambda: put(default_data(), "teams.0.reps", 0),
     "teams[0].reps", "greater than or equal to 1", "0"),
    ("threshold_120", lambda: put(default_data(), "mql_threshold_points", 120),
     "mql_threshold_points", "less than or equal to 100", "120"),
    ("segment_mix_sum", lambda: put(default_data(), "channels.1.segment_mix",
                                    {"smb": 0.5, "mid_market": 0.4}),
     "channels[1].segment_mix", "sum to 1", "0.9"),
    ("by_channel_unknown_channel",
     lambda: by_channel(default_data(), ["inbound", "paid", "events"],
                        ["outbound", "partner", "tv"]),
     "teams[1].channels", "unknown channel", "'tv'"),
    ("by_channel_unserved_channel",
     lambda: by_channel(default_data(), ["inbound", "paid"], ["events", "outbound"]),
     "routing.team_rule (channel 'partner')", "served by no team", "[]"),
    ("by_channel_channel_served_twice",
     lambda: by_channel(default_data(), ALL_CHANNELS, ["paid"]),
     "routing.team_rule (channel 'paid')", "more than one team", "['t0', 't1']"),
    ("by_segment_unknown_segment", lambda: put(enterprise_data(), "teams.1.segments",
                                               ["strategic", "smb"]),
     "teams[1].segments", "unknown segment", "'smb'"),
    ("by_segment_unserved_segment", lambda: put(enterprise_data(), "teams.1.segments", []),
     "routing.team_rule (segment 'strategic')", "served by no team", "[]"),
    ("by_segment_segment_served_twice",
     lambda: put(enterprise_data(), "teams.1.segments", ["strategic", "enterprise"]),
     "routing.team_rule (segment 'enterprise')", "more than one team", "['ny', 'london']"),
    ("single_rule_two_teams",
     lambda: put(default_data(), "teams.1", dict(default_data()["teams"][0], name="b")),
     "routing.team_rule", "exactly one team", "sdr, b"),
    ("calendar_end_not_after_start",
     lambda: put(put(default_data(), "teams.0.calendar.start_hour", 17.0),
                 "teams.0.calendar.end_hour", 9.0),
     "teams[0].calendar.end_hour", "must be greater than start_hour", None),
    ("calendar_end_equals_start",
     lambda: put(put(default_data(), "teams.0.calendar.start_hour", 12.0),
                 "teams.0.calendar.end_hour", 12.0),
     "teams[0].calendar.end_hour", "must be greater than start_hour", None),
    ("calendar_no_working_days", lambda: put(default_data(), "teams.0.calendar.working_days", []),
     "teams[0].calendar", "working_days is empty", "'working_days': []"),
    ("team_calendar_bad_timezone",
     lambda: put(default_data(), "teams.0.calendar.timezone", "Mars/Olympus"),
     "teams[0].calendar.timezone", "IANA", "'Mars/Olympus'"),
    ("horizon_bad_timezone", lambda: put(default_data(), "horizon.timezone", "Atlantis/Main"),
     "horizon.timezone", "IANA", "'Atlantis/Main'"),
    ("cadence_not_from_zero", lambda: put(default_data(), "follow_up.cadence_days", [1.0, 2.0]),
     "follow_up.cadence_days", "day 0", "[1.0, 2.0]"),
    ("cadence_not_increasing",
     lambda: put(default_data(), "follow_up.cadence_days", [0.0, 2.0, 2.0]),
     "follow_up.cadence_days", "strictly increasing", "[0.0, 2.0, 2.0]"),
    ("attempts_required_beyond_cadence", lambda: put(default_data(), "sla.attempts_required", 6),
     "sla.attempts_required", "5 attempts", "6"),
    ("burst_unknown_channel", lambda: put(default_data(), "arrivals.bursts", [burst("tv")]),
     "arrivals.bursts[0].channel", "must name a channel", "'tv'"),
    ("batch_with_neither_option", lambda: put(default_data(), "handoff.mode", "batch"),
     "handoff", "exactly one of batch_every_hours or batch_local_hours", None),
    ("batch_with_both_options",
     lambda: put(put(put(default_data(), "handoff.mode", "batch"),
                     "handoff.batch_every_hours", 2.0), "handoff.batch_local_hours", [9.0]),
     "handoff", "exactly one of batch_every_hours or batch_local_hours", None),
    ("p_floor_above_p_initial", lambda: put(default_data(), "follow_up.contact.p_floor", 0.6),
     "follow_up.contact", "p_floor must be <= p_initial", "'p_floor': 0.6"),
    ("ae_selling_hours_negative",
     lambda: put(default_data(), "ae.selling_hours_per_opportunity", -2.0),
     "ae.selling_hours_per_opportunity", "greater than or equal to 0", "-2.0"),
    ("ae_selling_hours_above_500",
     lambda: put(default_data(), "ae.selling_hours_per_opportunity", 600.0),
     "ae.selling_hours_per_opportunity", "less than or equal to 500", "600.0"),
    ("ae_selling_share_zero", lambda: put(default_data(), "ae.selling_share", 0.0),
     "ae.selling_share", "greater than 0", "0.0"),
    ("ae_calendar_bad_timezone", lambda: put(default_data(), "ae.calendar.timezone", "Mars/Base"),
     "ae.calendar.timezone", "IANA", "'Mars/Base'"),
    ("distribution_negative_mean",
     lambda: put(default_data(), "channels.0.deal_value", {"kind": "lognormal", "mean": -5.0,
                                                          "cv": 1.0}),
     "channels[0].deal_value.mean", "greater than 0", "-5.0"),
]


@pytest.mark.parametrize(("make", "path", "rule", "value"),
                         [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_scenario_names_field_rule_and_value(
    make: Callable[[], Data], path: str, rule: str, value: str | None
) -> None:
    """Each broken rule raises one ScenarioError whose message names the field path and value."""
    with pytest.raises(ScenarioError, match=re.escape(path)) as info:
        validate(make())
    err = info.value
    assert len(err.issues) == 1
    if value is None:  # section-level rule: the path may later be refined to the field
        assert err.issues[0].path.startswith(path)
    else:
        assert err.issues[0].path == path
    assert rule in err.issues[0].rule
    if value is not None:
        assert f"{path}: " in str(err)
        assert value in str(err)


@pytest.mark.parametrize(("make", "shown"), [
    (lambda: put(put(default_data(), "teams.0.calendar.start_hour", 17.0),
                 "teams.0.calendar.end_hour", 9.0), "9.0"),
    (lambda: put(put(put(default_data(), "handoff.mode", "batch"),
                     "handoff.batch_every_hours", 2.0), "handoff.batch_local_hours", [5.5]),
     "5.5"),
], ids=["calendar_end_hour", "handoff_both_batch_options"])
def test_section_rule_message_shows_offending_value(make: Callable[[], Data], shown: str) -> None:
    """A section-level rule's message shows the offending field's value."""
    with pytest.raises(ScenarioError) as info:
        validate(make())
    assert shown in str(info.value)


def test_one_error_lists_every_problem() -> None:
    """Several wrong fields at once are all reported, each with its own path, in one error."""
    data = default_data()
    put(data, "channels.0.win_rate", 1.5)
    put(data, "teams.0.reps", 0)
    put(data, "horizon.timezone", "Nowhere/Null")
    put(data, "follow_up.contact.p_floor", 0.9)
    put(data, "teams.0.repz", 1)
    with pytest.raises(ScenarioError) as info:
        validate(data)
    paths = [i.path for i in info.value.issues]
    assert len(paths) >= 3
    assert len(set(paths)) == len(paths)
    assert set(paths) == {"channels[0].win_rate", "teams[0].reps", "horizon.timezone",
                          "follow_up.contact", "teams[0].repz"}
    assert "5 problems" in str(info.value)
    for p in paths:
        assert p in str(info.value)


def test_scenario_error_is_a_value_error() -> None:
    """ScenarioError can be caught as ValueError and as SlaSimError, and carries its issues."""
    err = ScenarioError([Issue("a.b", "must be positive", -1)], source="x.yaml")
    assert isinstance(err, ValueError)
    assert isinstance(err, SlaSimError)
    assert err.issues == [Issue("a.b", "must be positive", -1)]
    assert str(err) == "invalid scenario x.yaml: 1 problem\n  - a.b: must be positive (got -1)"
    with pytest.raises(ValueError, match="teams"):
        validate(put(default_data(), "teams", []))


@pytest.mark.parametrize("name", preset_names())
def test_preset_is_valid_and_revalidates_unchanged(name: str) -> None:
    """Every preset validates, and validating its dump gives back an equal scenario."""
    sc = preset(name)
    assert isinstance(sc, Scenario)
    again = validate(sc.model_dump(mode="python"))
    assert again == sc
    assert validate(sc) == sc


def test_unknown_preset_is_a_scenario_error() -> None:
    """Asking for a preset that does not exist names the bad name and the known ones."""
    with pytest.raises(ScenarioError, match="preset") as info:
        preset("nope")
    assert "'nope'" in str(info.value)
    assert "enterprise" in str(info.value)


def test_minimal_mapping_gets_documented_defaults() -> None:
    """A mapping with only channels and teams is completed with the schema defaults."""
    data = default_data()
    sc = validate({"channels": data["channels"], "teams": [{"name": "sdr", "reps": 4}]})
    assert sc.mql_threshold_points == 60.0
    assert sc.teams[0].shrinkage == 0.35
    assert sc.teams[0].calendar.working_days == [0, 1, 2, 3, 4]
    assert sc.follow_up.cadence_days == [0.0, 1.0, 3.0, 6.0, 10.0]
    assert sc.handoff.mode == "realtime"
    assert sc.horizon.measure_months == 3


@pytest.mark.parametrize("name", preset_names())
def test_yaml_round_trip(name: str) -> None:
    """scenario -> dump_yaml -> yaml.safe_load -> validate gives back an equal scenario."""
    sc = preset(name)
    text = dump_yaml(sc)
    assert validate(yaml.safe_load(text)) == sc


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
@pytest.mark.parametrize("name", ["default", "enterprise"])
def test_save_and_load_round_trip(tmp_path: Path, name: str, suffix: str) -> None:
    """A scenario saved to a file of each supported extension loads back equal."""
    sc = preset(name)
    path = save(sc, tmp_path / "sub" / f"scenario{suffix}")
    assert path.is_file()
    if suffix == ".json":
        assert json.loads(path.read_text())["name"] == sc.name
    assert load(path) == sc


def test_save_to_toml_is_refused_naming_the_path(tmp_path: Path) -> None:
    """Scenarios are saved as YAML or JSON only (TOML files can be loaded, not written): a
    .toml path is refused with one issue on 'path' naming the allowed suffixes, and nothing
    is written."""
    with pytest.raises(ScenarioError) as info:
        save(preset("default"), tmp_path / "scenario.toml")
    assert [i.path for i in info.value.issues] == ["path"]
    assert ".yaml, .yml or .json" in str(info.value)
    assert "scenario.toml" in str(info.value)
    assert not (tmp_path / "scenario.toml").exists()


TOML = """
name = "toml_example"

[horizon]
measure_months = 2
warmup_days = 10

[[channels]]
name = "web"
leads_per_month = 300
score_alpha = 3.0
score_beta = 3.0
sql_rate = 0.3
win_rate = 0.25
cycle_days = { kind = "gamma", mean = 30, cv = 0.5 }
deal_value = { kind = "lognormal", mean = 10000, cv = 0.8 }

[[teams]]
name = "sdr"
reps = 2

[teams.calendar]
timezone = "Europe/London"
start_hour = 8.5
"""


def test_load_toml(tmp_path: Path) -> None:
    """A hand-written TOML scenario loads, with its values and the schema defaults."""
    path = tmp_path / "scenario.toml"
    path.write_text(TOML, encoding="utf-8")
    sc = load(path)
    assert sc.name == "toml_example"
    assert sc.horizon.measure_months == 2
    assert sc.channels[0].cycle_days.mean == 30
    assert sc.teams[0].calendar.timezone == "Europe/London"
    assert sc.teams[0].calendar.start_hour == 8.5
    assert sc.teams[0].calendar.end_hour == 17.0


def test_load_toml_with_invalid_value_names_file_and_field(tmp_path: Path) -> None:
    """An invalid value in a file is reported with the file name and the field path."""
    path = tmp_path / "bad.toml"
    path.write_text(TOML.replace("reps = 2", "reps = 0"), encoding="utf-8")
    with pytest.raises(ScenarioError, match=re.escape("teams[0].reps")) as info:
        load(path)
    assert info.value.source == str(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(("name", "text", "kind"), [
    ("bad.yaml", "name: [unclosed\n  foo: : bar\n", "yaml"),
    ("bad.json", "{\"name\": ", "json"),
    ("bad.toml", "name = = 1\n", "toml"),
])
def test_malformed_file_is_a_scenario_error(tmp_path: Path, name: str, text: str,
                                            kind: str) -> None:
    """A file that does not parse gives a ScenarioError on 'file', not a parser traceback."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=f"must be valid {kind}") as info:
        load(path)
    assert [i.path for i in info.value.issues] == ["file"]
    assert info.value.__suppress_context__
    assert str(path) in str(info.value)


def test_yaml_syntax_error_says_where(tmp_path: Path) -> None:
    """A newcomer's indentation slip is located: line and column of the problem (the message
    said only "mapping values are not allowed here", in a 250-line file)."""
    path = tmp_path / "slip.yaml"
    path.write_text("base: default\nsla:\n first_touch_within_business_hours: 1\n"
                    "  attempts_required: 3\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load(path)
    [issue] = info.value.issues
    assert issue.path == "file"
    assert issue.rule == "must be valid yaml (line 4, column 20)"
    assert issue.value == "mapping values are not allowed here"


def test_impossible_date_names_its_field(tmp_path: Path) -> None:
    """A date YAML reads as a date but the calendar lacks is refused naming the field it was
    given for (it was "file: must be valid yaml (got 'month must be in 1..12')")."""
    path = tmp_path / "date.yaml"
    path.write_text("base: default\nhorizon:\n  measure_start: 2026-13-01\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load(path)
    assert [i.path for i in info.value.issues] == ["horizon.measure_start"]
    assert info.value.issues[0].value == "2026-13-01"
    path.write_text("base: default\nhorizon:\n  measure_start: 2026-02-01\n", encoding="utf-8")
    assert str(load(path).horizon.measure_start) == "2026-02-01"  # a real date still reads


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    """Loading a file that does not exist gives a ScenarioError naming the path."""
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScenarioError, match="existing scenario file") as info:
        load(path)
    assert info.value.issues[0].path == "file"
    assert str(path) in str(info.value)


def test_non_mapping_file_is_a_scenario_error(tmp_path: Path) -> None:
    """A YAML file holding a list instead of a mapping is rejected as such."""
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="must be a mapping"):
        load(path)


def test_empty_file_reports_missing_required_sections(tmp_path: Path) -> None:
    """An empty YAML file reports the required channels and teams as missing."""
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load(path)
    assert {i.path for i in info.value.issues} == {"channels", "teams"}
    assert all(i.rule == "required field is missing" for i in info.value.issues)


def test_set_path_by_index_and_by_name() -> None:
    """set_path changes one field addressed by list index or by item name, leaving the rest."""
    sc = preset("default")
    by_name = set_path(sc, "channels[paid].leads_per_month", 123.0)
    by_index = set_path(sc, "channels[1].leads_per_month", 123.0)
    assert by_name == by_index
    assert by_name.channels[1].name == "paid"
    assert by_name.channels[1].leads_per_month == 123.0
    assert [c.leads_per_month for c in by_name.channels[:1] + by_name.channels[2:]] == [
        c.leads_per_month for c in sc.channels[:1] + sc.channels[2:]]
    assert sc.channels[1].leads_per_month == 1600  # the original is not modified
    assert set_path(sc, "teams[sdr].calendar.start_hour", 8.0).teams[0].calendar.start_hour == 8.0
    assert set_path(sc, "sla.attempts_required", 5).sla.attempts_required == 5


@pytest.mark.parametrize("path", [
    "teams[0].repz",
    "colour",
    "channels[tv].leads_per_month",
    "channels[9].win_rate",
    "horizon.warmup_days.extra",
])
def test_set_path_unknown_path_is_named(path: str) -> None:
    """set_path with a path that names no field raises a ScenarioError naming that path."""
    with pytest.raises(ScenarioError, match=re.escape(path)) as info:
        set_path(preset("default"), path, 1)
    assert info.value.issues[0].path == path


def test_set_path_invalid_value_is_revalidated() -> None:
    """set_path re-validates: an out-of-range value raises naming the field and the value."""
    with pytest.raises(ScenarioError, match=re.escape("teams[0].reps")) as info:
        set_path(preset("default"), "teams[sdr].reps", 0)
    assert info.value.issues[0].value == 0


def test_a_long_path_in_an_error_keeps_its_file_name() -> None:
    """A value too long to show whole loses its middle, not its end: a deep path still names
    the file; a short path is shown whole."""
    from sla_sim.errors import Issue

    deep = "/" + "/".join(["folder"] * 80) + "/missing.yaml"
    text = str(Issue("file", "must be an existing scenario file", deep))
    assert "missing.yaml" in text
    assert "..." in text
    assert len(text) < 400
    short = "/tmp/x/missing.yaml"
    assert f"'{short}'" in str(Issue("file", "must be an existing scenario file", short))


@pytest.mark.parametrize("path", ["teams.0.backfill_delay_days", "nurture.max_days",
                                  "handoff.batch_every_hours", "channels.0.score_alpha"])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_python_built_scenario_refuses_non_finite_numbers(path: str, value: float) -> None:
    """Files and --set refused infinities before the schema; a scenario built in Python
    (``Scenario.model_validate``) took them, and both engines then crashed or scored NaN. Every
    schema node now refuses them itself, naming the field."""
    import math

    from pydantic import ValidationError

    d = preset("default").model_dump()
    node: Any = d
    *parents, leaf = path.split(".")
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    node[leaf] = value
    with pytest.raises(ValidationError, match="finite number") as err:
        Scenario.model_validate(d)
    assert leaf in str(err.value)
    assert not math.isfinite(value)
