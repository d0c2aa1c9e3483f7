"""A newcomer's natural typos (a misspelt preset or team name, a slipped indentation) each get
one message that names what was typed and what would have been right, exit 2, no traceback."""

from __future__ import annotations

import pytest

from sla_sim.cli.crm import map_preset_names
from sla_sim.cli.main import main
from sla_sim.crm.mapping import preset_names as mapping_preset_names
from sla_sim.scenario.presets import preset_names


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("sla-sim: error:") == 1
    return err


def test_misspelt_team_name_under_base_names_the_teams(tmp_path, monkeypatch, capsys):
    """``base: default`` with ``teams: [{name: sdx}]`` adds a second team beside ``sdr``; the
    message said only "'single' needs exactly one team (got 2)"."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text("base: default\nteams:\n  - name: sdx\n    reps: 12\n")
    err = _refused(["validate", "s.yaml"], capsys)
    assert "routing.team_rule: 'single' needs exactly one team" in err
    assert "check the teams' names) (got 'sdr, sdx')" in err


@pytest.mark.parametrize(("argv", "needle"), [
    (["scenario", "diff", "default", "defualt"],
     "B: must be a scenario file or a built-in scenario ("),
    (["scenario", "diff", "missing.yaml", "default"],
     "A: must be a scenario file or a built-in scenario ("),
])
def test_scenario_diff_names_files_and_presets(argv, needle, tmp_path, monkeypatch, capsys):
    """``scenario diff`` takes a file or a preset name; a misspelt preset was refused as "file:
    must be an existing scenario file (got 'defualt')", as if only files were allowed."""
    monkeypatch.chdir(tmp_path)
    err = _refused(argv, capsys)
    assert needle in err
    assert all(name in err for name in preset_names())


def test_scenario_diff_still_reads_a_file_named_like_a_preset(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.yaml").write_text("base: default\nname: x\n")
    assert main(["scenario", "diff", "x.yaml", "default"]) == 0
    assert "1 field differs" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["measure", "calibrate", "backtest", "review"])
def test_map_help_lists_every_mapping_preset(command, capsys):
    """``--map``'s help named olist, salesforce and hubspot, not maven, which docs/crm.md
    shows (``--map preset:maven``)."""
    assert map_preset_names() == mapping_preset_names()
    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"preset:NAME ({', '.join(mapping_preset_names())})" in help_text
    assert "maven" in mapping_preset_names()


def test_yaml_slip_is_located_on_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text("base: default\nsla:\n first_touch_within_business_hours:"
                                     " 1\n  attempts_required: 3\n")  # fmt: skip
    err = _refused(["run", "s.yaml", "--reps", "1"], capsys)
    assert "file: must be valid yaml (line 4, column 20)" in err


@pytest.mark.parametrize(("argv", "needle"), [
    (["run", "--preset", "default", "--set", "sla.first_touch_within_business_hour=1"],
     "--set sla.first_touch_within_business_hour: is not a scenario field (did you mean"
     " first_touch_within_business_hours?) (got 1)"),
    (["sweep", "--preset", "default", "--param", "teams[sdr].rep=8:9"],
     "--param teams[sdr].rep: is not a scenario field (did you mean reps"),
    (["marginal", "--lever", "ae.cont"],
     "--lever: is not a scenario field (did you mean count?) (got 'ae.cont')"),
    (["run", "--preset", "default", "--set", "zzz=1"],
     "--set zzz: is not a scenario field (got 1)"),  # nothing near: no guess
])
def test_misspelt_field_path_gets_the_nearest_fields(argv, needle, capsys):
    """A misspelt or shortened field in --set, --param or --lever names the fields it may have
    meant (it said only "is not a scenario field")."""
    assert needle in _refused([*argv, "--reps", "1", "--workers", "1", "--quiet"], capsys)


def test_misspelt_key_in_a_file_gets_the_nearest_fields(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text("base: default\nhorizn:\n  measure_months: 1\nsla:\n"
                                     "  first_touch_within_busines_hours: 1\n")  # fmt: skip
    err = _refused(["validate", "s.yaml"], capsys)
    assert "horizn: unknown key (not a field of this section) (did you mean horizon?)" in err
    assert ("sla.first_touch_within_busines_hours: unknown key (not a field of this section)"
            " (did you mean first_touch_within_business_hours?)") in err


@pytest.mark.parametrize(("argv", "needle"), [
    (["run", "enterprise", "--reps", "1"],
     "scenario: is a built-in scenario, not a file: give it as --preset enterprise"),
    (["sweep", "smb_inbound", "--param", "ae.count=10:11", "--reps", "1"],
     "scenario: is a built-in scenario, not a file: give it as --preset smb_inbound"),
    (["compare", "--preset", "default", "enterprise", "--reps", "2"],
     "B: is a built-in scenario, not a file: write it out with sla-sim init --preset"
     " enterprise --out enterprise.yaml"),
    (["measure", "--sample", "olist", "smb_inbound"],
     "(a built-in scenario goes with --preset smb_inbound) (got 'smb_inbound')"),
])
def test_preset_name_given_as_a_file(argv, needle, tmp_path, monkeypatch, capsys):
    """``sla-sim run enterprise``: a built-in scenario's name where a file goes is told to use
    --preset (it said "file: must be an existing scenario file (got 'enterprise')")."""
    monkeypatch.chdir(tmp_path)
    assert needle in _refused(argv, capsys)


def test_a_file_named_like_a_preset_is_still_a_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "enterprise").write_text("base: default\nname: mine\n")
    assert main(["scenario", "show", "enterprise"]) == 0
    assert capsys.readouterr().out.startswith("name: mine")


def test_compare_preset_with_one_file_takes_it_as_b(tmp_path, monkeypatch, capsys):
    """``compare --preset default b.yaml``: A is the preset, so the one file is B (it was
    refused: "--preset: give a scenario file or --preset, not both")."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLA_SIM_STORE", raising=False)
    (tmp_path / "b.yaml").write_text("base: default\nname: b\nae:\n  count: 40\n")
    assert main(["compare", "--preset", "default", "b.yaml", "--set", "horizon.warmup_days=20",
                 "--set", "horizon.measure_months=1", "--reps", "2", "--workers", "1",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Behaviour differs: capacity (ae.count)" in out


def _parsers():  # every (name, parser) of the command line
    import argparse

    from sla_sim.cli.main import build_parser

    todo = [("sla-sim", build_parser())]
    while todo:
        name, parser = todo.pop()
        yield name, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo += [(f"{name} {n}", p) for n, p in action.choices.items()]


def test_help_prints_no_doubled_percent():
    """``compare --help`` and ``marginal --help`` printed "paired 95%% intervals": a
    description is not %-formatted, so ``%%`` there shows as typed."""
    doubled = [name for name, parser in _parsers() if "%%" in parser.format_help()]
    assert not doubled


@pytest.mark.parametrize(("argv", "needle"), [
    (["run", "--presett", "default"],
     "sla-sim run: error: unrecognized arguments: --presett (did you mean --preset?)"),
    (["crm", "map", "x.csv", "--outt", "y.yaml"],
     "sla-sim crm map: error: unrecognized arguments: --outt y.yaml (did you mean --out?)"),
    (["measure", "--sample", "olist", "--no-reprot"],
     "sla-sim measure: error: unrecognized arguments: --no-reprot (did you mean --no-report?)"),
    (["runs", "show", "some-id", "--verbose"],
     "sla-sim runs show: error: unrecognized arguments: --verbose\n"),
])
def test_misspelt_option_is_refused_by_its_command(argv, needle, capsys):
    """A misspelt option is refused by the command it was given to, with that command's usage
    and the nearest option (it showed ``usage: sla-sim [-h] [--version] COMMAND ...``: the
    top level's, which lists no option of ``run``)."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert needle in err
    assert f"usage: sla-sim {' '.join(argv[:2 if argv[0] in ('crm', 'runs') else 1])} " in err


@pytest.mark.parametrize(("present", "needle"), [
    (["c.yaml", "calibration.json"], "--out: c.yaml and calibration.json already exist in ."),
    (["calibration.json"], "--out: calibration.json already exists in ."),
])
def test_calibrate_names_what_it_would_overwrite(present, needle, tmp_path, monkeypatch,
                                                 capsys):
    """A second ``calibrate`` to the same --out names the files in plain English before reading
    the export (it said "c.yaml, calibration.json already exist(s)")."""
    monkeypatch.chdir(tmp_path)
    for name in present:
        (tmp_path / name).write_text("x")
    err = _refused(["calibrate", "--sample", "olist", "--out", "c.yaml"], capsys)
    assert needle in err
    assert "note:" not in err  # refused before the export is read


def test_misspelt_mapping_key_gets_the_mapping_fields(tmp_path, monkeypatch, capsys):
    """A CRM mapping's misspelt key is matched against the mapping's own fields, never the
    scenario's (``join[0].left_kee`` -> ``left_key``)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "leads.csv").write_text("Lead ID,Create Date,Lead Source\n1,2026-01-02,Web\n")
    (tmp_path / "m.yaml").write_text(
        "columns:\n  lead_id: Lead ID\n  created_at: Create Date\n  channel: Lead Source\n"
        "timezon: UTC\njoin:\n  - key: Opportunity ID\n    left_kee: Converted Opportunity ID\n"
        "    file: o.csv\n    columns:\n      amount: Amount\n")
    err = _refused(["measure", "leads.csv", "--map", "m.yaml"], capsys)
    assert "timezon: unknown key (not a field of this section) (did you mean timezone?)" in err
    assert "join[0].left_kee: unknown key (not a field of this section) (did you mean" \
           " left_key?)" in err
    (tmp_path / "m.yaml").write_text("columns:\n  lead_id: Lead ID\nhorizn: x\n")
    err = _refused(["measure", "leads.csv", "--map", "m.yaml"], capsys)
    assert "horizn: unknown key (not a field of this section) (got 'x')" in err  # no scenario


@pytest.mark.parametrize("values", ["8-14", "8..14", "8 - 14", "1;2;4"])
def test_sweep_range_written_another_way(values, capsys):
    """``--param 'teams[sdr].reps=8-14'`` names how a range is written (it said "Input should
    be a valid integer, unable to parse string as an integer (got '8-14')")."""
    err = _refused(["sweep", "--preset", "default", "--param", f"teams[sdr].reps={values}",
                    "--reps", "1"], capsys)  # fmt: skip
    assert "--param teams[sdr].reps: a range is written a:b (e.g. 8:14)" in err


@pytest.mark.parametrize(("values", "parsed"), [
    ("-3", [-3]), ("1e-5", [1e-5]), ("2026-01-01", ["2026-01-01"]), ("8:14", (8.0, 14.0, True)),
])
def test_sweep_values_that_only_look_like_ranges(values, parsed):
    from sla_sim.batch.sweep import parse_param

    assert parse_param(f"x={values}") == ("x", parsed)
