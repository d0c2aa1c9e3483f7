"""Salesforce downloads as orgs in other locales, other formats and other currencies write them
(checked against Salesforce's help: the ICU locale formats put a comma between date and time,
a multi-currency org's report exports "Amount Currency" beside a bare "Amount", Data Loader
writes API names and ISO times, a Formatted Report is an .xlsx only). Each is read as the truth
it was written from, or refused with one message naming the column, the rule and the value
(exit 2, no traceback, no name) — never silently misread."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import crm_downloads as dl
import pandas as pd
import pytest

from sla_sim.cli.main import main
from sla_sim.crm.load import CrmExport, load_export
from sla_sim.crm.mapping import load_mapping
from sla_sim.errors import ScenarioError


@pytest.fixture(scope="module")
def sf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The Lightning Lead and Opportunity reports of one drawn truth (US locale, JDK)."""
    return dl.salesforce(dl.draw(), tmp_path_factory.mktemp("sf"))


@pytest.fixture(scope="module")
def ref(sf) -> CrmExport:
    return load_export(sf[0], "preset:salesforce", joins=[sf[1]])


def _same(a: CrmExport, b: CrmExport,
          cols: tuple[str, ...] = ("created_at", "sql_at", "opportunity_opened_at",
                                   "closed_at", "amount", "stage")) -> None:  # fmt: skip
    assert len(a.leads) == len(b.leads)
    for c in cols:
        assert a.has(c) == b.has(c), c
        if b.has(c):
            assert a.leads[c].isna().equals(b.leads[c].isna()), c
            assert (a.leads[c].dropna() == b.leads[c].dropna()).all(), c


def _times(s: pd.Series, date_only: bool = False) -> pd.Series:
    """A report's US dates as datetimes (NaT where empty)."""
    fmt = "%m/%d/%Y" if date_only else "%m/%d/%Y %I:%M %p"
    return pd.to_datetime(s.where(s != ""), format=fmt)


def _write(df: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return path


def _locale(leads: Path, opps: Path, folder: Path, stamp: str, day: str
            ) -> tuple[Path, Path]:  # fmt: skip
    """Both reports with every date rewritten (``stamp``: date and time, ``day``: a date
    only), as an org in another locale exports them."""
    df, o = dl.read_report(leads), dl.read_report(opps)
    df["Create Date"] = _times(df["Create Date"]).dt.strftime(stamp).fillna("")
    df["Converted Date"] = _times(df["Converted Date"], True).dt.strftime(day).fillna("")
    for c in ("Close Date", "Created Date"):
        o[c] = _times(o[c], True).dt.strftime(day).fillna("")
    return _write(df, folder / "leads.csv"), _write(o, folder / "opportunities.csv")


def _mapping(folder: Path, date_format: list[str]) -> dict:
    m = load_mapping("preset:salesforce").model_dump(exclude_none=True)
    m["date_format"] = date_format
    return m


# -- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sep", [", ", ",\u202f", " "])
def test_icu_date_times_read_as_the_jdk_ones(sf, ref: CrmExport, sep: str,
                                             tmp_path: Path) -> None:  # fmt: skip
    """Since Spring '24 Salesforce writes the ICU locale formats: an English locale puts a
    comma between date and time ('1/28/2025, 4:30 PM'). The US preset refused every such
    Create Date as unparseable; it reads the same instants as the JDK '1/28/2025 4:30 PM'."""
    leads, opps = sf
    df = dl.read_report(leads)
    df["Create Date"] = df["Create Date"].str.replace(" ", sep, n=1, regex=False)
    got = load_export(_write(df, tmp_path / "leads.csv"), "preset:salesforce", joins=[opps])
    _same(got, ref)


@pytest.mark.parametrize(("stamp", "day", "fmt"), [
    ("%d/%m/%Y %H:%M", "%d/%m/%Y", ["%d/%m/%Y %H:%M", "%d/%m/%Y"]),  # en_GB, JDK
    ("%d/%m/%Y, %H:%M", "%d/%m/%Y", ["%d/%m/%Y %H:%M", "%d/%m/%Y"]),  # en_GB, ICU
    ("%d.%m.%Y, %H:%M", "%d.%m.%Y", ["%d.%m.%Y %H:%M", "%d.%m.%Y"]),  # de_DE, ICU
    ("%d/%m/%Y %I:%M %p", "%d/%m/%Y", ["%d/%m/%Y %I:%M %p", "%d/%m/%Y"]),  # en_AU, 12-hour
])  # fmt: skip
def test_day_first_org_refused_by_the_us_preset_then_read_as_the_hint_says(
        sf, ref: CrmExport, stamp: str, day: str, fmt: list[str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A UK, German or Australian org's reports: the US preset refuses them (never reads
    02/01 as February) naming the date_format to set, and that date_format reads the same
    events. The hint named '%H:%M' for 12-hour day-first times (en_AU), which read nothing,
    and the ICU comma was read by no format."""
    leads, opps = sf
    lp, op = _locale(leads, opps, tmp_path, stamp, day)
    assert main(["measure", str(lp), "--join", str(op), "--map", "preset:salesforce",
                 "--no-report", "--store", str(tmp_path / "st")]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "column 'Create Date': unparseable date" in err
    assert f"set date_format: {fmt}" in err
    assert not any(o in err for o in dl.OWNERS)
    _same(load_export(lp, _mapping(tmp_path, fmt), joins=[op]), ref)


def test_dates_that_cannot_tell_day_from_month_are_said(sf, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:  # fmt: skip
    """An Australian org's report (31/12/2025 4:05 PM) of leads created on the 1st to 12th of
    the month: every date reads month first too, and was read so without a word (5 March as
    3 May). The order cannot be told from such a file: a note says so and names the
    date_format of the other order. A file with a day above 12 has no note."""
    leads, _ = sf
    df = dl.read_report(leads)
    t = _times(df["Create Date"])
    df["Create Date"] = t.dt.strftime("%d/%m/%Y %I:%M %p")
    df["Converted Date"] = ""
    df["Converted Opportunity ID"] = ""
    early = df[(t.dt.day <= 12).to_numpy()]
    p = _write(early, tmp_path / "au" / "leads.csv")
    assert main(["measure", str(p), "--map", "preset:salesforce", "--no-report",
                 "--store", str(tmp_path / "st")]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert ("every date of 'Create Date' has its day and month both 12 or"
            " less, so the export cannot tell which comes first: read month first") in err
    assert "set date_format: ['%d/%m/%Y %H:%M', '%d/%m/%Y %I:%M %p', '%d/%m/%Y']" in err
    us = load_export(leads, "preset:salesforce")
    assert not any("cannot tell which comes first" in m for m in us.messages)


def test_date_format_listing_both_orders_is_refused(sf) -> None:
    """['%m/%d/%Y', '%d/%m/%Y'] read 02/01/2025 as February and 13/01/2025 as January in one
    column, each value by whichever format fit it: the mapping is refused naming both."""
    m = load_mapping("preset:salesforce").model_dump(exclude_none=True)
    m["date_format"] = ["%m/%d/%Y %I:%M %p", "%d/%m/%Y %H:%M", "%m/%d/%Y"]
    with pytest.raises(ScenarioError) as err:
        load_export(sf[0], m)
    text = str(err.value)
    assert "date_format" in text
    assert ("lists a month-first format ('%m/%d/%Y %I:%M %p') and a day-first one"
            " ('%d/%m/%Y %H:%M')") in text  # fmt: skip


def test_data_loader_exports_read_as_the_reports(sf, ref: CrmExport, tmp_path: Path) -> None:
    """Data Loader / API exports: field API names, UTC times as '2025-01-28T21:30:00.000+0000'
    and '.000Z', ISO dates, 18-character ids, true/false flags: the same leads, conversions,
    closes, stages and amounts as the reports (the opportunity's creation is a time here, a
    day in the report)."""
    leads, opps = sf
    df, o = dl.read_report(leads), dl.read_report(opps)

    def utc(s: pd.Series, fmt: str) -> pd.Series:
        t = _times(s).dt.tz_localize(dl.TZ).dt.tz_convert("UTC")
        return t.dt.strftime(fmt).fillna("")

    def iso_day(s: pd.Series) -> pd.Series:
        return _times(s, True).dt.strftime("%Y-%m-%d").fillna("")

    lead = pd.DataFrame({
        "Id": df["Lead ID"] + "EAA", "OwnerId": "005" + "0" * 12 + "AAA",
        "FirstName": df["First Name"], "Email": df["Email"], "LeadSource": df["Lead Source"],
        "Status": df["Lead Status"], "CreatedDate": utc(df["Create Date"],
                                                        "%Y-%m-%dT%H:%M:%S.000+0000"),
        "IsConverted": (df["Converted Opportunity ID"] != "").map({True: "true",
                                                                   False: "false"}),
        "ConvertedDate": iso_day(df["Converted Date"]),
        "ConvertedOpportunityId": df["Converted Opportunity ID"].where(
            df["Converted Opportunity ID"] == "", df["Converted Opportunity ID"] + "AAQ"),
    })  # fmt: skip
    # the opportunity is created with the conversion: on its day, not before its lead
    conv = df["Converted Opportunity ID"] != ""
    lead_at = _times(df["Create Date"]).dt.tz_localize(dl.TZ)[conv.to_numpy()]
    lead_at.index = df.loc[conv, "Converted Opportunity ID"]
    day = _times(o["Created Date"], True).dt.tz_localize(dl.TZ)
    opened = pd.Series(lead_at.reindex(o["Opportunity ID"]).to_numpy(), index=o.index)
    opened = opened.where(opened > day, day)
    opp = pd.DataFrame({
        "Id": o["Opportunity ID"] + "AAQ", "StageName": o["Stage"],
        "IsWon": (o["Stage"] == "Closed Won").map({True: "true", False: "false"}),
        "IsClosed": o["Stage"].str.startswith("Closed").map({True: "true", False: "false"}),
        "CloseDate": iso_day(o["Close Date"]),
        "CreatedDate": opened.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "Amount": o["Amount"].str.replace(r"[$,]", "", regex=True),
    })  # fmt: skip
    got = load_export(_write(lead, tmp_path / "Lead.csv"), "preset:salesforce",
                      joins=[_write(opp, tmp_path / "Opportunity.csv")])  # fmt: skip
    _same(got, ref)
    assert not any("cannot tell which comes first" in m for m in got.messages)


# -- money ---------------------------------------------------------------------------------


def _multi_currency(opps: Path, folder: Path, converted: bool, codes: list[str]) -> Path:
    """The Opportunity report of a multi-currency org, as Details Only exports it: "Amount
    Currency" and a bare "Amount" (each in its record's currency), and "Amount (converted)
    Currency" / "Amount (converted)" (every amount in the user's currency)."""
    o = dl.read_report(opps)
    num = o["Amount"].str.replace(r"[$,]", "", regex=True).astype(float)
    at = list(o.columns).index("Amount")
    o.insert(at, "Amount Currency", [codes[i % len(codes)] for i in range(len(o))])
    o["Amount"] = [f"{v * (150 if c == 'JPY' else 1):,.2f}"
                   for v, c in zip(num, o["Amount Currency"], strict=True)]  # fmt: skip
    if converted:
        o.insert(at + 2, "Amount (converted) Currency", "USD")
        o.insert(at + 3, "Amount (converted)", [f"{v:,.2f}" for v in num])
    return _write(o, folder / "opportunities.csv")


def test_multi_currency_report_reads_the_converted_amount(sf, ref: CrmExport,
                                                         tmp_path: Path) -> None:  # fmt: skip
    """A multi-currency org's Amount holds bare numbers in each deal's currency ('1,500,000'
    yen beside '10,000' dollars): the preset summed them as one currency, silently. It now
    reads "Amount (converted)" (one currency) when the report has it, and `crm map` drafts
    it."""
    leads, opps = sf
    o = _multi_currency(opps, tmp_path, True, ["USD", "JPY", "EUR"])
    got = load_export(leads, "preset:salesforce", joins=[o])
    _same(got, ref)
    mapping = tmp_path / "mapping.yaml"  # crm map drafts the converted column too
    assert main(["crm", "map", str(leads), str(o), "--out", str(mapping)]) == 0
    assert "    amount: Amount (converted)\n" in mapping.read_text()


@pytest.mark.parametrize("api", [False, True])
def test_amounts_in_several_currencies_without_conversion_are_refused(
        sf, api: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without the converted column, "Amount" beside "Amount Currency" (a report) or
    "CurrencyIsoCode" (Data Loader) in several currencies is refused naming both columns,
    the rule and a value, with the fix; in one currency it reads as the reports do."""
    leads, opps = sf
    o = _multi_currency(opps, tmp_path, False, ["USD", "JPY"])
    cur = "Amount Currency"
    if api:
        d = dl.read_report(o).rename(columns={"Amount Currency": "CurrencyIsoCode"})
        o, cur = _write(d, tmp_path / "api" / "opportunities.csv"), "CurrencyIsoCode"
    assert main(["measure", str(leads), "--join", str(o), "--map", "preset:salesforce",
                 "--no-report", "--store", str(tmp_path / "st")]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"column 'Amount with {cur} (opportunities.csv)': in another currency than" in err
    assert "(USD): amounts in several currencies cannot be added up" in err
    assert "'JPY 1," in err
    assert "'Amount (converted)'" in err
    assert not any(s in err for s in dl.SECRETS)
    one = _multi_currency(opps, tmp_path / "one", False, ["EUR"])
    got = load_export(leads, "preset:salesforce", joins=[one])
    assert got.leads["amount"].equals(load_export(leads, "preset:salesforce",
                                                  joins=[opps]).leads["amount"])  # fmt: skip


@pytest.mark.parametrize("written", [
    "USD {us}", "€{eu}", "{sp} EUR", "{sp}\u00a0€", "CHF {ch}", "{us}",
])  # fmt: skip
def test_locale_amounts_read_as_the_same_numbers(sf, ref: CrmExport, written: str,
                                                 tmp_path: Path) -> None:  # fmt: skip
    """'USD 12,000.00', '€12.000,00', '12 000,00 EUR' (a no-break space too), Swiss
    'CHF 12’000.00': the same numbers. The Swiss apostrophe was taken for part of the
    currency ('CHF’' beside 'CHF'), and the column refused as in two currencies."""
    leads, opps = sf
    o = dl.read_report(opps)
    num = o["Amount"].str.replace(r"[$,]", "", regex=True).astype(float)
    o["Amount"] = [written.format(us=f"{v:,.2f}", ch=f"{v:,.2f}".replace(",", "’"),
                                  eu=f"{v:,.2f}".translate(str.maketrans(",.", ".,")),
                                  sp=f"{v:,.2f}".translate(str.maketrans(",.", "\u00a0,")))
                   for v in num]  # fmt: skip
    got = load_export(leads, "preset:salesforce", joins=[_write(o, tmp_path / "o.csv")])
    assert got.leads["amount"].equals(ref.leads["amount"])


# -- files ---------------------------------------------------------------------------------


def _zip(path: Path, names: dict[str, str]) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, text in names.items():
            z.writestr(n, text)
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.parametrize(("names", "says"), [
    ({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"},
     "is an Excel workbook (.xlsx), not a CSV: export the report as 'Details Only' with the"
     " format 'Comma Delimited .csv' (a Salesforce 'Formatted Report' is an .xlsx only)"),
    ({"Lead.csv": "Id,CreatedDate\n", "Opportunity.csv": "Id\n"},
     "is a zip archive, not a CSV (Salesforce's Data Export service writes one of CSV files):"
     " unzip it and give the CSV file of the table"),
])  # fmt: skip
def test_formatted_report_and_data_export_zip_say_what_to_export(
        names: dict[str, str], says: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A Formatted Report downloads as .xlsx only: the message said to 'save it as CSV',
    which gives its title block and groupings; it now says to export Details Only CSV. A
    Data Export zip was called an Excel workbook."""
    p = _zip(tmp_path / "report.xlsx", names)
    for args in (["measure", str(p), "--map", "preset:salesforce", "--no-report",
                  "--store", str(tmp_path / "st")],
                 ["crm", "map", str(p), "--out", str(tmp_path / "m.yaml")]):  # fmt: skip
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert says in err


@pytest.mark.parametrize("stamp", ["%d/%m/%Y %I:%M %p", "%d/%m/%Y, %H:%M"])
def test_crm_map_drafts_a_day_first_org(sf, ref: CrmExport, stamp: str, tmp_path: Path) -> None:
    """`crm map` on an Australian (12-hour, day first) or UK ICU org's reports: it drafted
    'mixed', which refuses every day-first date; the draft now reads them day first, the same
    events as the US reports."""
    leads, opps = sf
    lp, op = _locale(leads, opps, tmp_path, stamp, "%d/%m/%Y")
    mapping = tmp_path / "mapping.yaml"
    assert main(["crm", "map", str(lp), str(op), "--out", str(mapping)]) == 0
    text = mapping.read_text()
    assert "dates read as day first" in text
    mapping.write_text(text.replace("timezone: UTC", f"timezone: {dl.TZ}"))
    _same(load_export(lp, mapping), ref)


@pytest.mark.parametrize("when", ["02/09/2025 10:00", "02/09/2025, 10:00"])
def test_classic_footer_date_read_in_the_reports_locale(sf, when: str, tmp_path: Path) -> None:
    """A UK org's Classic report ends 'Generated By: <user> 02/09/2025 10:00' (2 September):
    it was read month first (9 February) whatever the mapping said, and with the ICU comma not
    found at all. It is read in the mapping's order and becomes the censoring instant."""
    leads, opps = sf
    lp, _ = _locale(leads, opps, tmp_path, "%d/%m/%Y %H:%M", "%d/%m/%Y")
    footer = ('\n\n"Acme Widgets"\n"Copyright (c) 2000-2026 salesforce.com, inc. All rights'
              ' reserved."\n"Confidential Information - Do Not Distribute"\n'
              f'"Generated By:  {dl.OWNERS[0]}  {when}"\n')  # fmt: skip
    lp.write_text(lp.read_text() + footer)
    exp = load_export(lp, _mapping(tmp_path, ["%d/%m/%Y %H:%M", "%d/%m/%Y"]))
    assert exp.exported_from == "the report footer's Generated By date"
    assert exp.exported_at == pd.Timestamp("2025-09-02 10:00", tz=dl.TZ)
    assert not any(o in m for m in exp.messages for o in dl.OWNERS)


def test_customised_stage_names_read_from_the_won_and_closed_columns(
        sf, ref: CrmExport, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: an Opportunity report with the org's own stages ('Closed Won - Signed',
    'Closed Lost - No Budget', 'Discovery') reads them from its Won and Closed columns (1/0);
    without those columns a stage the preset does not list is refused, naming the column,
    the rule and the value, and the fix."""
    leads, opps = sf
    o = dl.read_report(opps)
    o["Won"] = (o["Stage"] == "Closed Won").map({True: "1", False: "0"})
    o["Closed"] = o["Stage"].str.startswith("Closed").map({True: "1", False: "0"})
    o["Stage"] = o["Stage"].map({"Closed Won": "Closed Won - Signed",
                                 "Closed Lost": "Closed Lost - No Budget"}).fillna("Discovery")
    got = load_export(leads, "preset:salesforce", joins=[_write(o, tmp_path / "o.csv")])
    _same(got, ref, ("stage", "closed_at", "amount"))
    bare = _write(o.drop(columns=["Won", "Closed"]), tmp_path / "bare" / "opportunities.csv")
    assert main(["measure", str(leads), "--join", str(bare), "--map", "preset:salesforce",
                 "--no-report", "--store", str(tmp_path / "st")]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "column 'Stage (opportunities.csv)': unknown stage value" in err
    assert "'Closed Won - Signed'" in err
    assert "add it under values.stage.<open|won|lost|disqualified|expired>" in err
