"""Variants of real CRM downloads that the reports of ``crm_downloads`` do not cover: each is
either read as the truth it was written from, or refused with one message naming the file or
column, the rule and the value (exit 2, no traceback) — never silently misread."""

from __future__ import annotations

import json
from pathlib import Path

import crm_downloads as dl
import pandas as pd
import pytest

from sla_sim.cli.main import main
from sla_sim.crm.load import CrmExport, load_export
from sla_sim.errors import ScenarioError


@pytest.fixture(scope="module")
def sf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The Lightning Lead and Opportunity reports of one drawn truth."""
    return dl.salesforce(dl.draw(), tmp_path_factory.mktemp("sf"))


def _refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_duplicate_column_name_is_refused(sf, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Two columns called 'Create Date' (the lead's and another object's): which one is read
    is not knowable, so the export is refused naming the column and its positions, instead
    of the first one being read silently as the lead's creation."""
    leads, opps = sf
    p = dl.duplicate_column(leads, tmp_path, "Create Date", "1/1/1999 1:00 AM")
    err = _refused(["measure", str(p), "--join", str(opps), "--map", "preset:salesforce",
                    "--no-report", "--store", str(tmp_path / "st")], capsys)  # fmt: skip
    assert "leads.csv: has 2 columns named 'Create Date' (columns 2, 10)" in err
    # a duplicated column that is not read is harmless
    q = dl.duplicate_column(leads, tmp_path / "b", "Title", "CEO")
    assert load_export(q, "preset:salesforce", joins=[opps]).n_leads == len(dl.read_report(q))


def test_amounts_in_two_currencies_are_refused(sf, tmp_path: Path) -> None:
    """'USD 1,200.00' beside 'EUR 1,000.00' in one Amount column (a multi-currency org): the
    amounts cannot be added up, so the first value in the other currency is named."""
    leads, _ = sf
    o = dl.with_amounts(sf[1], tmp_path, ["EUR 1,000.00", "USD 1,200.00"])
    with pytest.raises(ScenarioError) as err:
        load_export(leads, "preset:salesforce", joins=[o])
    text = str(err.value)
    assert "in another currency than row" in text
    assert "(EUR)" in text
    assert "'USD 1,200.00'" in text


def test_ambiguous_thousands_dot_is_refused(sf, tmp_path: Path) -> None:
    """'€1.234' is 1234 in a German export and 1.234 in an English one: refused, not read as
    1.234 euros."""
    leads, _ = sf
    o = dl.with_amounts(sf[1], tmp_path, ["€1.234", "€12.500"])
    with pytest.raises(ScenarioError, match=r"ambiguous number.*'€1\.234'"):
        load_export(leads, "preset:salesforce", joins=[o])


def test_european_amounts_read_as_the_same_numbers(sf, tmp_path: Path) -> None:
    """'EUR 12.345,67' (a decimal comma) reads as 12345.67, the numbers of the US report."""
    leads, opps = sf
    eu = load_export(leads, "preset:salesforce", joins=[dl.euro_amounts(opps, tmp_path)])
    us = load_export(leads, "preset:salesforce", joins=[opps])
    assert eu.leads["amount"].notna().sum() > 100
    assert eu.leads["amount"].equals(us.leads["amount"])


def test_european_and_us_numbers_in_one_column_are_refused(sf, tmp_path: Path) -> None:
    """'1,234.56' beside '1.234,56': one of the two is misread whichever locale is assumed."""
    leads, _ = sf
    o = dl.with_amounts(sf[1], tmp_path, ["1,234.56", "1.234,56"])
    with pytest.raises(ScenarioError, match=r"another locale than row \d+'s '1,234\.56'"):
        load_export(leads, "preset:salesforce", joins=[o])


def test_date_in_the_future_is_refused(sf, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A typo'd Create Date in 2052 would become the censoring instant (every open lead open
    for 27 years): refused, naming the row, the column and the value."""
    leads, opps = sf
    p = dl.with_value(leads, tmp_path, 5, "Create Date", "1/1/2052 10:00 AM")
    err = _refused(["measure", str(p), "--join", str(opps), "--map", "preset:salesforce",
                    "--no-report", "--store", str(tmp_path / "st")], capsys)  # fmt: skip
    assert "leads row 6, column 'Create Date': is in the future" in err
    assert "'1/1/2052 10:00 AM'" in err


def _same_events(a: CrmExport, b: CrmExport) -> None:
    cols = ["created_at", "sql_at", "opportunity_opened_at", "closed_at", "amount", "stage"]
    assert [c for c in cols if a.has(c)] == [c for c in cols if b.has(c)]
    for c in (c for c in cols if b.has(c)):
        assert a.leads[c].isna().equals(b.leads[c].isna()), c
        assert (a.leads[c].dropna() == b.leads[c].dropna()).all(), c


def test_european_excel_csv_read_through_crm_map(sf, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Semicolons, day-first dates and decimal commas: the US preset refuses the dates with
    the fix named (never reads 02/01 as February); `crm map` drafts a mapping that reads the
    same events and amounts as the US report."""
    leads, opps = sf
    lp, op = dl.european(leads, opps, tmp_path / "eu")
    err = _refused(["measure", str(lp), "--join", str(op), "--map", "preset:salesforce",
                    "--no-report", "--store", str(tmp_path / "st")], capsys)  # fmt: skip
    assert "column 'Create Date': unparseable date" in err
    assert "the dates look day first (31/12/2025): set date_format:" in err
    mapping = tmp_path / "eu" / "mapping.yaml"
    assert main(["crm", "map", str(lp), str(op), "--out", str(mapping)]) == 0
    text = mapping.read_text()
    assert "read as semicolon-separated" in text
    assert "dates read as day first" in text
    mapping.write_text(text.replace("timezone: UTC", f"timezone: {dl.TZ}"))
    _same_events(load_export(lp, mapping), load_export(leads, "preset:salesforce",
                                                       joins=[opps]))  # fmt: skip


def test_mixed_date_format_never_reads_day_first_for_one_value(tmp_path: Path) -> None:
    """date_format 'mixed' read 02/01/2025 as February and 13/01/2025 as January in the same
    column; a day-first value is now refused with the format to set."""
    leads = tmp_path / "leads.csv"
    leads.write_text("Id,Created,Source\na,02/01/2025 10:00,Web\nb,13/01/2025 10:00,Web\n"
                     "c,2025-01-05 10:00,Web\n")  # fmt: skip
    m = {"columns": {"lead_id": "Id", "created_at": "Created", "channel": "Source"},
         "date_format": "mixed", "timezone": "UTC"}  # fmt: skip
    with pytest.raises(ScenarioError) as err:
        load_export(leads, m)
    (issue,) = err.value.issues
    assert str(issue).startswith("leads row 2, column 'Created': unparseable date; the dates"
                                 " look day first")  # fmt: skip


def test_title_block_above_header_is_refused(sf, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A Formatted report re-saved from Excel (title and filter lines above the header): one
    message naming the line of the header, from measure and from `crm map` (which crashed
    with a parser traceback), and the owner named in the filter is never printed."""
    leads, _ = sf
    p = dl.formatted(leads, tmp_path)
    for args in (["measure", str(p), "--map", "preset:salesforce", "--no-report",
                  "--store", str(tmp_path / "st")],
                 ["crm", "map", str(p), "--out", str(tmp_path / "m.yaml")]):  # fmt: skip
        err = _refused(args, capsys)
        assert "has one column on line 1 but 12 on line 5" in err
        assert "'Details Only'" in err
        assert dl.OWNERS[1] not in err


def test_multiline_last_value_is_not_a_footer(sf, tmp_path: Path) -> None:
    """A quoted multi-line note in the last column: its last line is one cell, but with no
    blank line before it it is not a report footer (it was cut as one)."""
    leads, opps = sf
    exp = load_export(dl.multiline_last(leads, tmp_path), "preset:salesforce", joins=[opps])
    assert not any("footer" in m for m in exp.messages)
    assert exp.n_leads == len(dl.read_report(leads))


def test_crm_map_guesses_renamed_required_columns(sf, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Columns renamed by the user ('Id du prospect', 'Created On', 'Source'): `crm map`
    guesses them from their names and values, says so, and the draft reads the truth."""
    leads, _ = sf
    p = dl.renamed(leads, tmp_path, {"Lead ID": "Id du prospect", "Create Date": "Created On",
                                     "Lead Source": "Source"})  # fmt: skip
    mapping = tmp_path / "mapping.yaml"
    assert main(["crm", "map", str(p), "--out", str(mapping)]) == 0
    text = mapping.read_text()
    for field, col in (("lead_id", "Id du prospect"), ("created_at", "Created On"),
                       ("channel", "Source")):  # fmt: skip
        assert f"# {field}: no known label; guessed {col!r}" in text
    mapping.write_text(text.replace("timezone: UTC", f"timezone: {dl.TZ}"))
    got = load_export(p, mapping)
    ref = load_export(leads, "preset:salesforce")
    assert got.leads["created_at"].equals(ref.leads["created_at"])
    assert got.leads["channel"].equals(ref.leads["channel"])
    capsys.readouterr()


def test_crm_map_names_what_it_cannot_guess(sf, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Names with no known word ('Ref', 'Quand', 'Canal'): one message naming the missing
    fields and the file's columns, exit 2, the draft left to complete."""
    leads, _ = sf
    p = dl.renamed(leads, tmp_path, {"Lead ID": "Ref", "Create Date": "Quand",
                                     "Lead Source": "Canal"})  # fmt: skip
    err = _refused(["crm", "map", str(p), "--out", str(tmp_path / "m.yaml")], capsys)
    assert ("columns: no column of leads.csv recognised for lead_id, created_at, channel"
            " (its columns: Lead Owner,") in err  # fmt: skip
    assert err.count("\n  - ") == 1
    assert (tmp_path / "m.yaml").exists()


@pytest.fixture(scope="module")
def hs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The HubSpot Contacts and Deals exports of one drawn truth."""
    return dl.hubspot(dl.draw(), tmp_path_factory.mktemp("hs"))


def test_deal_with_several_contacts_joins_one_lead(hs, tmp_path: Path) -> None:
    """A deal associated with several contacts ('12;987654321') was joined to none (its
    amount and stage silently lost); it now joins the first that is a lead, once, and the
    deal of no lead in the export is counted."""
    contacts, deals = hs
    ref = load_export(contacts, "preset:hubspot", joins=[deals])
    got = load_export(contacts, "preset:hubspot", joins=[dl.several_contacts(deals, tmp_path)])
    assert got.leads["amount"].equals(ref.leads["amount"])
    assert got.leads["stage"].equals(ref.leads["stage"])
    notes = got.incomplete
    n = len(dl.read_report(deals))
    assert notes["rows of deals.csv with several Associated Contact IDs (joined to the first"
                 " that is a lead, never counted twice)"] == (n + 9) // 10  # fmt: skip
    assert notes["rows of deals.csv whose Associated Contact IDs is no lead's Record ID"
                 " (ignored)"] == 1  # fmt: skip
    # the second contact is a lead too: the deal still joins one of them only
    other = str(dl.read_report(contacts)["Record ID"].iloc[-1])
    two = load_export(contacts, "preset:hubspot",
                      joins=[dl.several_contacts(deals, tmp_path / "b", other)])  # fmt: skip
    assert two.leads["amount"].notna().sum() == ref.leads["amount"].notna().sum()


def test_excel_unicode_text_reads_the_same(sf, tmp_path: Path) -> None:
    """Excel's "Unicode Text" (UTF-16, tabs) was refused as 'a binary file'; it reads as the
    report it was saved from."""
    leads, opps = sf
    got = load_export(dl.unicode_text(leads, tmp_path), "preset:salesforce", joins=[opps])
    assert any("UTF-16" in m for m in got.messages)
    _same_events(got, load_export(leads, "preset:salesforce", joins=[opps]))


@pytest.mark.parametrize(("kind", "says"), [
    ("html", "is an HTML or XML page (a report's printable view"),
    ("ole", "is an Excel 97-2003 workbook (.xls), not a CSV"),
])  # fmt: skip
def test_xls_downloads_named_for_what_they_are(sf, kind: str, says: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A printable view saved as .xls was 'a header but no data rows: the report is empty'
    and an Excel 97-2003 file 'a binary file': each is now named, with the fix; no owner
    named in the page is printed."""
    p = dl.not_csv(sf[0], tmp_path)[kind]
    for args in (["measure", str(p), "--map", "preset:salesforce", "--no-report",
                  "--store", str(tmp_path / "st")],
                 ["crm", "map", str(p), "--out", str(tmp_path / "m.yaml")]):  # fmt: skip
        err = _refused(args, capsys)
        assert says in err
        assert not any(o in err for o in dl.OWNERS)


def test_salesforce_18_character_ids_match_15(sf, tmp_path: Path) -> None:
    """A report's 15-character ids beside an API export's 18 (the same records) matched
    nothing: every opportunity and every call was dropped as of no lead. They now match."""
    leads, opps = sf
    ref = load_export(leads, "preset:salesforce", joins=[opps])
    got = load_export(leads, "preset:salesforce", joins=[dl.api_ids(opps, tmp_path)])
    _same_events(got, ref)
    assert any("15-character Salesforce ids" in m for m in got.messages)
    t = dl.tasks(leads, tmp_path)
    acts = load_export(leads, "preset:salesforce", joins=[opps], activities=t).activities
    assert acts is not None
    assert len(acts) == len(dl.read_report(t))


def test_hubspot_sentence_case_reads_the_same(hs, tmp_path: Path) -> None:
    """'Closed won' (newer HubSpot) was refused as an unknown stage and 'Record ID ' as a
    missing column: labels and values now match regardless of case and spacing."""
    contacts, deals = hs
    c, d = dl.sentence_case(contacts, deals, tmp_path)
    _same_events(load_export(c, "preset:hubspot", joins=[d]),
                 load_export(contacts, "preset:hubspot", joins=[deals]))  # fmt: skip


def test_amount_with_a_word_or_suffix_is_refused(sf, tmp_path: Path) -> None:
    """'$12K' was read as 12 and '1e5' as 15 (every letter dropped): refused as not a number;
    French amounts with (narrow) no-break spaces ('1 234,56 €') read."""
    leads, _ = sf
    o = dl.with_amounts(sf[1], tmp_path, ["$12K", "1e5"])
    with pytest.raises(ScenarioError) as err:
        load_export(leads, "preset:salesforce", joins=[o])
    text = str(err.value)
    assert "not a number (got ['$12K', '1e5'])" in text  # the whole column: one issue
    fr = dl.with_amounts(sf[1], tmp_path / "fr", ["1\u202f234,56\xa0€"])
    got = load_export(leads, "preset:salesforce", joins=[fr]).leads["amount"]
    assert set(got.dropna()) == {1234.56}


# regression tests: variants that were already read right, kept that way


def test_hubspot_zoned_timestamps_and_mql_date_read_the_same(hs, tmp_path: Path) -> None:
    """ISO timestamps with 'Z' or an offset read as the instants the account's local times
    are; the lifecycle MQL date column is read as mql_at."""
    contacts, deals = hs
    c, d = dl.hubspot_zoned(contacts, deals, tmp_path)
    got = load_export(c, "preset:hubspot", joins=[d])
    ref = load_export(contacts, "preset:hubspot", joins=[deals])
    assert got.leads["mql_at"].equals(got.leads["created_at"])
    # the preset's zone is a guess, said when it is used (here: never, every time has its
    # offset; in the account's local times: always)
    zone = "times without a UTC offset read as America/New_York time, the preset's guess"
    assert not any(zone in m for m in got.messages)
    assert any(zone in m for m in ref.messages)
    got.leads = got.leads.drop(columns="mql_at")
    _same_events(got, ref)


def test_messy_csv_reads_the_same(sf, tmp_path: Path) -> None:
    """CRLF line ends, empty trailing columns, quoted multi-line values, trailing blank lines."""
    leads, opps = sf
    got = load_export(dl.messy_csv(leads, tmp_path), "preset:salesforce", joins=[opps])
    assert not any("footer" in m or "separated" in m for m in got.messages)
    _same_events(got, load_export(leads, "preset:salesforce", joins=[opps]))


def test_crm_map_refuses_the_opportunity_table_first(sf, hs, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`crm map opportunities.csv leads.csv` drafted a mapping reading each opportunity as a
    lead (its id guessed from 'Opportunity ID'): the order is refused with the command to
    run, and an opportunity's id is never guessed as a lead id."""
    for leads, opps in (sf, hs):
        err = _refused(["crm", "map", str(opps), str(leads), "--out",
                        str(tmp_path / "m.yaml"), "--force"], capsys)  # fmt: skip
        assert (f"{opps.name} looks like the opportunity (deal) table and {leads.name} like"
                f" the lead (contact) table: give the lead table first: sla-sim crm map"
                f" {leads.name} {opps.name}") in err  # fmt: skip
    err = _refused(["crm", "map", str(sf[1]), "--out", str(tmp_path / "o.yaml")], capsys)
    assert "recognised for lead_id (its columns:" in err


def test_mac_line_ends_read_the_same(sf, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """CR-only line ends (Excel's "CSV (Macintosh)") ended in a csv.Error traceback; they
    read as the report they were saved from."""
    leads, opps = sf
    p = dl.mac_csv(leads, tmp_path)
    got = load_export(p, "preset:salesforce", joins=[opps])
    _same_events(got, load_export(leads, "preset:salesforce", joins=[opps]))
    assert main(["crm", "map", str(p), "--out", str(tmp_path / "m.yaml")]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_float_written_ids_join(hs, tmp_path: Path) -> None:
    """'101.0' beside '101' joined nothing (every deal dropped); they now match, noted."""
    contacts, deals = hs
    got = load_export(contacts, "preset:hubspot", joins=[dl.float_ids(deals, tmp_path)])
    _same_events(got, load_export(contacts, "preset:hubspot", joins=[deals]))
    assert any("matched as whole numbers" in m for m in got.messages)


def test_crm_map_never_guesses_a_column_of_addresses(sf, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A renamed channel column next to 'Email Source' (the contact's e-mail address): the
    address column is not guessed as the channel (its values would become channel names in
    every output)."""
    leads, _ = sf
    df = dl.read_report(leads).rename(columns={"Lead Source": "Canal", "Email": "Email Source"})
    df.to_csv(tmp_path / "leads.csv", index=False)
    err = _refused(["crm", "map", str(tmp_path / "leads.csv"), "--out",
                    str(tmp_path / "m.yaml")], capsys)  # fmt: skip
    assert "recognised for channel" in err
    assert "mail-example" not in err + (tmp_path / "m.yaml").read_text()


def test_future_expected_close_of_an_open_deal_is_not_refused(sf, tmp_path: Path) -> None:
    """An open opportunity's Close Date years ahead is an expectation, ignored; the same date
    on a won one is an event in the future, refused."""
    leads, opps = sf
    o = dl.read_report(opps)
    i_open = int((~o["Stage"].str.startswith("Closed")).to_numpy().argmax())
    i_won = int((o["Stage"] == "Closed Won").to_numpy().argmax())
    o.loc[i_open, "Close Date"] = "12/31/2030"
    o.to_csv(tmp_path / "opps.csv", index=False)
    exp = load_export(leads, "preset:salesforce", joins=[tmp_path / "opps.csv"])
    assert exp.exported_at < dl.EXPORTED + pd.Timedelta(days=1)
    o.loc[i_won, "Close Date"] = "12/31/2030"
    o.to_csv(tmp_path / "opps.csv", index=False)
    with pytest.raises(ScenarioError, match=r"'Close Date \(opps.csv\)': is in the future"):
        load_export(leads, "preset:salesforce", joins=[tmp_path / "opps.csv"])


def test_won_deal_with_a_future_close_date_can_be_counted(sf, tmp_path: Path) -> None:
    """A deal marked Closed Won before its expected Close Date was updated (common in
    Salesforce) is refused with the way out named; with ``out_of_order: count`` the export is
    read as it came: the date dropped and counted, the deal read as open, nothing else moved.
    A creation date in the future stays refused under ``count``."""
    from sla_sim.crm.mapping import load_mapping

    leads, opps = sf
    o = dl.read_report(opps)
    won = (o["Stage"] == "Closed Won").to_numpy()
    i_won = int(won.argmax())
    o.loc[i_won, "Close Date"] = "12/31/2030"
    o.to_csv(tmp_path / "opps.csv", index=False)
    with pytest.raises(ScenarioError, match=r"set out_of_order: count in the mapping"):
        load_export(leads, "preset:salesforce", joins=[tmp_path / "opps.csv"])
    base = load_export(leads, "preset:salesforce", joins=[opps])
    mp = load_mapping("preset:salesforce").model_copy(update={"out_of_order": "count"})
    exp = load_export(leads, mp, joins=[tmp_path / "opps.csv"])
    assert exp.incomplete["closed_at after today (dropped)"] == 1
    n_won = int((base.leads["stage"] == "won").sum())
    assert int((exp.leads["stage"] == "won").sum()) == n_won - 1
    assert exp.exported_at == base.exported_at  # 2030 is not the censoring instant
    assert len(exp.leads) == len(base.leads)
    lead = dl.read_report(leads)
    lead.loc[3, "Create Date"] = "1/1/2052 10:00 AM"
    lead.to_csv(tmp_path / "leads.csv", index=False)
    with pytest.raises(ScenarioError, match=r"'Create Date'.*is in the future"):
        load_export(tmp_path / "leads.csv", mp, joins=[opps])


def test_year_only_and_excel_serial_dates_are_refused(hs, tmp_path: Path) -> None:
    """'2025' in an ISO column was read as 1 January 2025; an Excel serial number (a date
    column saved as General) is refused with the fix named."""
    contacts, deals = hs
    c = dl.read_report(contacts)
    c.loc[2, "Create Date"] = "2025"
    c.loc[4, "Create Date"] = "45678.5"
    c.to_csv(tmp_path / "contacts.csv", index=False)
    with pytest.raises(ScenarioError) as err:
        load_export(tmp_path / "contacts.csv", "preset:hubspot", joins=[deals])
    text = str(err.value)
    assert "leads row 3, column 'Create Date': unparseable date" in text
    assert "(got '2025')" in text
    assert "it looks like an Excel date serial number" in text


def test_activity_report_with_date_only_tasks(sf, tmp_path: Path) -> None:
    """An Activity report's "Date" is the task's day: each call on its lead's creation day was
    refused as 'before created_at of its lead'. It is placed at the lead's creation, and the
    date-only times are counted with what they cost."""
    leads, opps = sf
    a = dl.activity_report(leads, tmp_path)
    exp = load_export(leads, "preset:salesforce", joins=[opps], activities=a)
    assert exp.activities is not None
    assert len(exp.activities) == len(dl.read_report(a))
    notes = exp.incomplete
    rough = ("activities with a date only (placed at midnight, or at their lead's creation"
             " that day; if all are, first touch and contact decay are not measured from"
             " them)")  # fmt: skip
    assert notes[rough] == len(exp.activities)
    placed = notes["date-only activity_at on the day of its lead's created_at (placed at its"
                   " time)"]  # fmt: skip
    assert 0 < placed <= len(exp.activities)
    created = exp.leads["created_at"].to_numpy()[exp.activities["lead"].to_numpy()]
    assert (exp.activities["at"].to_numpy() >= created).all()
    assert not exp.timed_touches()
    out = tmp_path / "run"
    assert main(["measure", str(leads), "--join", str(opps), "--activities", str(a), "--map",
                 "preset:salesforce", "--no-report", "--out", str(out),
                 "--store", str(tmp_path / "st")]) == 0  # fmt: skip
    total = json.loads((out / "summary.json").read_text())["periods"]["total"]
    assert total["first_touch_compliance"]["mean"] is None  # an hours clause, dated by days
    assert total["attempts_compliance"]["mean"] is not None


def test_date_only_first_touch_column_is_not_an_hours_measure(sf, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]
                                                              ) -> None:  # fmt: skip
    """A 'First Activity Date' with the day only, on the lead's creation day, was placed at
    the creation: every lead touched at once, first-touch compliance near 100%. The clause
    is now not measurable; with the time of day it is measured (compliance)."""
    leads, _ = sf
    df = dl.read_report(leads)
    for dated, says in ((True, "first_touch  not measurable"), (False, "first_touch  compliance")):
        df["First Activity Date"] = df["Create Date"].str.split(" ").str[0] if dated else (
            df["Create Date"])  # fmt: skip
        df.to_csv(tmp_path / "leads.csv", index=False)
        assert main(["measure", str(tmp_path / "leads.csv"), "--map", "preset:salesforce",
                     "--no-report", "--store", str(tmp_path / "st")]) == 0  # fmt: skip
        assert says in capsys.readouterr().out


def test_crm_map_reads_a_third_file_as_activities_or_says_it_is_unused(
        sf, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`crm map leads.csv opportunities.csv activities.csv` ignored the activity report
    without a word; it is now mapped (with its outcome values) and read by the draft, and a
    file that is neither is named as not used."""
    leads, opps = sf
    a = dl.activity_report(leads, tmp_path / "acts")
    mapping = tmp_path / "mapping.yaml"
    assert main(["crm", "map", str(leads), str(opps), str(a), "--out", str(mapping)]) == 0
    out = capsys.readouterr().out
    assert f"--join {opps}" in out  # outside the mapping's folder: on the command line
    text = mapping.read_text()
    assert "activity_file: acts/activities.csv" in text  # inside it: in the mapping
    assert "activities.csv read as the activity table (Lead ID is the lead's id)" in text
    assert "reached:\n    - Connected" in text
    exp = load_export(leads, mapping, joins=[opps])
    assert exp.activities is not None
    assert len(exp.activities) == len(dl.read_report(a))
    notes = tmp_path / "notes.csv"
    notes.write_text("Topic,Body\nx,y\n")
    assert main(["crm", "map", str(leads), str(opps), str(notes), "--out", str(mapping),
                 "--force"]) == 0  # fmt: skip
    assert "# NOT USED: notes.csv is neither an opportunity table" in mapping.read_text()


def test_export_without_its_header_row(sf, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A download saved without its header row gave one problem per mapped field, each listing
    the first row's values as 'columns' (a lead's id and name printed); now one problem says
    what is wrong, and no value of the row is shown. A real header missing a column still
    names each field."""
    leads, opps = sf
    lines = leads.read_bytes().decode("utf-8-sig").splitlines()
    (tmp_path / "nohead.csv").write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    err = _refused(["measure", str(tmp_path / "nohead.csv"), "--join", str(opps), "--map",
                    "preset:salesforce", "--no-report", "--store", str(tmp_path / "st")],
                   capsys)  # fmt: skip
    assert "holds values, not column names" in err
    assert "1 problem" in err
    first = next(iter(__import__("csv").reader([lines[1]])))
    assert not [c for c in first if len(c) > 3 and c in err]
    err = _refused(["crm", "map", str(tmp_path / "nohead.csv"), "--out",
                    str(tmp_path / "m.yaml")], capsys)  # fmt: skip
    assert "holds values, not column names" in err
    assert not [c for c in first if len(c) > 3 and c in err]
    bad = lines[0].replace("Lead Source", "Origin")
    (tmp_path / "renamed.csv").write_text("\n".join([bad, *lines[1:]]) + "\n")
    err = _refused(["measure", str(tmp_path / "renamed.csv"), "--join", str(opps), "--map",
                    "preset:salesforce", "--no-report", "--store", str(tmp_path / "st2")],
                   capsys)  # fmt: skip
    assert "holds values" not in err


def test_report_total_rows_are_dropped_and_noted(sf, tmp_path: Path) -> None:
    """A 'Grand Totals (N records)' row at the end of a report (and a 'Total' row a
    spreadsheet added) was read as a lead without id, stage and channel, and counted as such;
    it is now dropped with a note, and the export reads as without it."""
    leads, opps = sf
    t = leads.read_bytes().decode("utf-8-sig").splitlines()
    width = len(t[0].split(","))
    o = opps.read_bytes().decode("utf-8-sig").splitlines()
    (tmp_path / "l.csv").write_text("\n".join([*t, "Total" + "," * (width - 1),
                                               f'"Grand Totals ({len(t) - 1:,} records)"'
                                               + "," * (width - 1)]) + "\n")  # fmt: skip
    (tmp_path / "o.csv").write_text("\n".join([*o, "Grand Totals (3 records)"
                                               + "," * (len(o[0].split(",")) - 1)]) + "\n")
    base = load_export(leads, "preset:salesforce", joins=[opps])
    exp = load_export(tmp_path / "l.csv", "preset:salesforce", joins=[tmp_path / "o.csv"])
    assert exp.incomplete == base.incomplete
    assert len(exp.leads) == len(base.leads)
    notes = " ".join(exp.messages)
    assert "2 total rows ('Total', 'Grand Totals') dropped" in notes
    assert "a report's total row ('Grand Totals') dropped" in notes
