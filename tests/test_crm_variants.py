"""Variants of real CRM downloads that the reports of ``crm_downloads`` do not cover: each is
either read as the truth it was written from, or refused with one message naming the file or
column, the rule and the value (exit 2, no traceback) — never silently misread."""

from __future__ import annotations

from pathlib import Path

import crm_downloads as dl
import pytest

from sla_sim.cli.main import main
from sla_sim.crm.load import load_export
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
