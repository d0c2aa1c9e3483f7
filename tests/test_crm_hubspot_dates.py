"""HubSpot exports as current portals write them: the lifecycle dates as "Date entered"
columns (``Date entered "Marketing Qualified Lead (Lifecycle Stage Pipeline)"``), beside
"Date exited" ones, and a deal's closed stages as ``Date entered "Closed Won (<pipeline>)"``
for a pipeline of any name. ``preset:hubspot`` reads them as it reads the legacy "Became a
... Date" columns, with no edits; "Date exited" columns are never read as entries."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sla_sim.cli.main import main
from sla_sim.crm.calibrate import calibrate
from sla_sim.crm.load import load_export
from sla_sim.crm.mapping import load_mapping
from sla_sim.crm.measure import measure_export
from sla_sim.crm.tables import read_lead_table
from sla_sim.errors import ScenarioError
from sla_sim.scenario.presets import preset

LCS = "Lifecycle Stage Pipeline"
PIPELINE = "Enterprise"  # the user's own deal pipeline, not "Sales Pipeline"
FIELDS = ["mql_at", "sql_at", "opportunity_opened_at", "closed_at", "stage", "amount"]


def _entered(stage: str, pipeline: str = LCS, quote: str = '"') -> str:
    return f"Date entered {quote}{stage} ({pipeline}){quote}"


def _exited(stage: str, pipeline: str = LCS) -> str:
    return f'Date exited "{stage} ({pipeline})"'


def _hs(t: dt.datetime | None) -> str:
    """A HubSpot export's timestamp (portal time, to the minute); empty when None."""
    return "" if t is None else t.strftime("%Y-%m-%d %H:%M")


@dataclass
class Contact:
    """One contact of the funnel and its deal (``opp`` set): the times it reached each stage."""

    id: str
    owner: str
    source: str
    created: dt.datetime
    stage: str = "Lead"
    mql: dt.datetime | None = None
    sql: dt.datetime | None = None
    opp: dt.datetime | None = None
    won: dt.datetime | None = None
    lost: dt.datetime | None = None
    amount: str = ""
    expected: dt.datetime | None = None  # an open deal's expected Close Date

    def at(self, name: str | None) -> dt.datetime | None:
        return None if name is None else getattr(self, name)

    @property
    def close(self) -> dt.datetime | None:
        return self.won or self.lost or self.expected


def _funnel(n: int = 80, seed: int = 7) -> list[Contact]:
    """Contacts and their deals: lead -> MQL -> SQL -> opportunity -> won / lost / open."""
    rng = np.random.default_rng(seed)
    start = dt.datetime(2025, 1, 6, 9, 0)
    out = []
    for i in range(n):
        c = Contact(str(51000 + i), ["Ana Ruiz", "Bo Chen"][i % 2],
                    ["Organic Search", "Paid Search", "Direct Traffic"][i % 3],
                    start + dt.timedelta(hours=float(rng.uniform(0, 24 * 80))))  # fmt: skip
        c.stage = "Lead" if rng.random() < 0.7 else "Other"
        if c.stage == "Lead" and rng.random() < 0.75:
            c.mql = c.created + dt.timedelta(hours=float(rng.exponential(30)))
            c.stage = "Marketing Qualified Lead"
            if rng.random() < 0.6:
                c.sql = c.mql + dt.timedelta(hours=float(rng.exponential(40)))
                c.stage = "Sales Qualified Lead"
                if rng.random() < 0.7:
                    c.opp = c.sql + dt.timedelta(hours=float(rng.exponential(20)))
                    c.stage = "Opportunity"
                    c.amount = f"{int(rng.integers(5, 60)) * 1000}"
                    c.expected = c.opp + dt.timedelta(days=45)
                    u = rng.random()
                    close = c.opp + dt.timedelta(hours=float(rng.exponential(24 * 20)))
                    if u < 0.4:
                        c.won, c.stage = close, "Customer"
                    elif u < 0.7:
                        c.lost = close
        out.append(c)
    return out


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


_CONTACT = ["Record ID", "First Name", "Last Name", "Email", "Contact owner", "Create Date",
            "Lifecycle Stage", "Original Source"]  # fmt: skip
_DEAL = ["Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Close Date",
         "Create Date", "Deal owner", "Associated Contact IDs"]  # fmt: skip


def _contact_cells(c: Contact, i: int) -> list[str]:
    return [c.id, f"First{i}", f"Last{i}", f"p{i}@example.com", c.owner, _hs(c.created),
            c.stage, c.source]  # fmt: skip


def _deal_cells(c: Contact, i: int) -> list[str]:
    stage = "Closed Won" if c.won else "Closed Lost" if c.lost else "Contract Sent"
    return [str(90000 + i), f"Deal {i}", stage, PIPELINE, c.amount, _hs(c.close), _hs(c.opp),
            "Cy Park", c.id]  # fmt: skip


def legacy(folder: Path, people: list[Contact]) -> tuple[Path, Path]:
    """The contacts and deals as older portals exported them ("Became a ... Date")."""
    dates = ["Became a Marketing Qualified Lead Date", "Became a Sales Qualified Lead Date",
             "Became an Opportunity Date", "Became a Customer Date"]  # fmt: skip
    rows = [[*_contact_cells(c, i), *(_hs(c.at(k)) for k in ("mql", "sql", "opp", "won"))]
            for i, c in enumerate(people)]  # fmt: skip
    deals = [_deal_cells(c, i) for i, c in enumerate(people) if c.opp]
    folder.mkdir(parents=True, exist_ok=True)
    return (_write(folder / "contacts.csv", _CONTACT + dates, rows),
            _write(folder / "deals.csv", _DEAL, deals))


def current(folder: Path, people: list[Contact], quote: str = '"',
            close_date: bool = True) -> tuple[Path, Path]:  # fmt: skip
    """The same contacts and deals as a current portal exports them: "Date entered" and
    "Date exited" columns (each exit before its entry in the header, as HubSpot sorts them
    alphabetically), stages sla_sim has no field for (Subscriber, Lead, Evangelist), the
    deals' closed stages of the "Enterprise" pipeline. Without ``close_date`` the deals view
    exported lacks the Close Date column (its stage dates are the only close dates)."""
    stages = [("Subscriber", None, None), ("Lead", "created", "mql"),
              ("Marketing Qualified Lead", "mql", "sql"), ("Sales Qualified Lead", "sql", "opp"),
              ("Opportunity", "opp", "won"), ("Customer", "won", None),
              ("Evangelist", None, None)]  # fmt: skip
    header = list(_CONTACT)
    for stage, _, _ in stages:
        header += [_exited(stage), _entered(stage, quote=quote)]
    rows = []
    for i, c in enumerate(people):
        row = _contact_cells(c, i)
        for _, enter, leave in stages:
            came, left = c.at(enter), c.at(leave)
            row += [_hs(left) if came else "", _hs(came)]
        rows.append(row)
    dheader = [*_DEAL, _exited("Closed Won", PIPELINE), _entered("Closed Won", PIPELINE),
               _exited("Contract Sent", PIPELINE), _entered("Contract Sent", PIPELINE),
               _entered("Closed Lost", PIPELINE)]  # fmt: skip
    deals = [[*_deal_cells(c, i), "", _hs(c.won), _hs(c.won or c.lost), _hs(c.opp),
              _hs(c.lost)] for i, c in enumerate(people) if c.opp]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    if not close_date:
        at = dheader.index("Close Date")
        dheader.pop(at)
        for d in deals:
            d.pop(at)
    return (_write(folder / "contacts.csv", header, rows),
            _write(folder / "deals.csv", dheader, deals))


@pytest.fixture(scope="module")
def people() -> list[Contact]:
    return _funnel()


def _leads(files: tuple[Path, Path]) -> pd.DataFrame:
    contacts, deals = files
    return load_export(contacts, "preset:hubspot", joins=[deals], salt="s").leads


def test_date_entered_columns_read_as_the_legacy_ones(people, tmp_path: Path) -> None:
    """The MQL, SQL, opportunity and close dates of a current export (double, single or curly
    quotes) are those of the legacy-named export of the same data. Before, a current export's
    contacts had no mql_at / sql_at at all (skipped as missing columns)."""
    old = _leads(legacy(tmp_path / "legacy", people))
    assert old["mql_at"].notna().sum() > 20
    assert (old["stage"] == "won").sum() > 3
    for name, quote in [("double", '"'), ("single", "'"), ("curly", "\u201c")]:
        new = _leads(current(tmp_path / name, people, quote=quote))
        for f in FIELDS:
            assert f in new.columns, (name, f)
            pd.testing.assert_series_equal(new[f], old[f], obj=f"{name} {f}")


def test_date_exited_and_stages_without_a_field_are_not_read(people, tmp_path: Path) -> None:
    """Only "Date entered" columns of MQL, SQL, Opportunity and Customer are read (and the
    deal's Close Date and closed stages); the exits, Subscriber, Lead and Evangelist are
    ignored without an error."""
    contacts, deals = current(tmp_path, people)
    table = read_lead_table([contacts], load_mapping("preset:hubspot"), [deals])
    read = " | ".join(table.labels.values())
    assert "Date exited" not in read
    for stage in ("Subscriber", "Lead (", "Evangelist", "Contract Sent"):
        assert f'"{stage}' not in read, stage
    assert table.labels["mql_at"] == _entered("Marketing Qualified Lead")
    assert _entered("Closed Won", PIPELINE) in table.labels["closed_at"]
    assert _entered("Closed Lost", PIPELINE) in table.labels["closed_at"]


def test_enterprise_pipeline_closes_without_a_close_date(people, tmp_path: Path) -> None:
    """A deals view without Close Date: a deal of the "Enterprise" pipeline is closed when it
    entered "Closed Won (Enterprise)" or "Closed Lost (Enterprise)", the same won and lost
    dates as the legacy export's Close Date. Before, those deals had no close at all."""
    old = _leads(legacy(tmp_path / "legacy", people))
    new = _leads(current(tmp_path / "new", people, close_date=False))
    assert (old["stage"] == "lost").sum() > 3
    pd.testing.assert_series_equal(new["closed_at"], old["closed_at"])
    pd.testing.assert_series_equal(new["stage"], old["stage"])


def test_legacy_and_current_columns_together_keep_the_earliest(people, tmp_path: Path) -> None:
    """An "all properties" export holds both: a contact recycled and made an MQL again has a
    later "Date entered" than its "Became a Marketing Qualified Lead Date" (the first, earliest,
    is read); a contact whose legacy date is empty is dated by its "Date entered". Before, the
    legacy column alone was read."""
    contacts, deals = current(tmp_path, people)
    df = pd.read_csv(contacts, dtype=str, keep_default_na=False)
    lg, lg_deals = legacy(tmp_path / "legacy", people)
    became = pd.read_csv(lg, dtype=str, keep_default_na=False)[
        ["Became a Marketing Qualified Lead Date"]]
    col = _entered("Marketing Qualified Lead")
    recycled, newer = np.flatnonzero((df[col] != "").to_numpy())[:2]
    df.loc[recycled, col] = "2025-06-30 12:00"  # re-entered MQL after being recycled
    became.iloc[newer, 0] = ""  # the legacy property no longer filled
    pd.concat([df, became], axis=1).to_csv(contacts, index=False)
    new = _leads((contacts, deals))
    pd.testing.assert_series_equal(new["mql_at"], _leads((lg, lg_deals))["mql_at"])


def test_measure_and_calibrate_agree_with_the_legacy_export(people, tmp_path: Path) -> None:
    """measure and calibrate give the same figures from the current export as from the
    legacy-named one."""
    base = preset("default")
    exports = [load_export(f[0], "preset:hubspot", joins=[f[1]], salt="s") for f in (
        legacy(tmp_path / "legacy", people), current(tmp_path / "new", people))]
    tables = [measure_export(e, base).table for e in exports]
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert "lead_to_mql_rate" in set(tables[1]["metric"])
    cals = [calibrate(e, base) for e in exports]
    assert cals[0].scenario.model_dump() == cals[1].scenario.model_dump()
    assert [e.path for e in cals[0].estimates] == [e.path for e in cals[1].estimates]


def test_a_pattern_naming_several_columns_needs_earliest(tmp_path: Path) -> None:
    """A ``*`` label of a field not under ``earliest`` that names two columns is refused with
    the field and both columns; ``earliest`` accepts timestamp fields only."""
    path = _write(tmp_path / "c.csv", ["Record ID", "Create Date", "Original Source",
                                       _entered("Closed Won", "A"), _entered("Closed Won", "B")],
                  [["1", "2025-01-06 10:00", "Direct Traffic", "2025-02-01 10:00", ""]])
    mp = {"columns": {"lead_id": "Record ID", "created_at": "Create Date",
                      "channel": "Original Source", "closed_at": 'Date entered "Closed Won (*)"'},
          "closed_means": "won"}  # fmt: skip
    with pytest.raises(ScenarioError) as err:
        load_export(path, mp)
    text = str(err.value)
    assert "columns.closed_at" in text
    assert "(B)" in text
    assert "earliest" in text
    leads = load_export(path, {**mp, "earliest": ["closed_at"]}).leads
    assert leads["closed_at"].iloc[0] == pd.Timestamp("2025-02-01 10:00", tz="UTC")
    with pytest.raises(ScenarioError, match="earliest"):
        load_export(path, {**mp, "earliest": ["channel"]})


def test_an_unreadable_date_among_several_columns_is_refused(tmp_path: Path) -> None:
    """A field read from several columns refuses a row whose date in one of them does not
    parse, naming the columns and the value, even when another column has a date."""
    path = _write(tmp_path / "c.csv", ["Record ID", "Create Date", "Original Source",
                                       _entered("Marketing Qualified Lead"),
                                       "Became a Marketing Qualified Lead Date"],
                  [["1", "2025-01-06 10:00", "Direct Traffic", "2025-01-07 10:00", "soon"]])
    with pytest.raises(ScenarioError) as err:
        load_export(path, "preset:hubspot")
    text = str(err.value)
    assert "unparseable date" in text
    assert "soon" in text
    assert "Became a Marketing Qualified Lead Date" in text


def test_crm_map_drafts_the_current_columns(people, tmp_path: Path) -> None:
    """``crm map`` on a current export (single quotes, a deals view of the "Enterprise"
    pipeline without Close Date, the legacy MQL date beside the current one) maps every date
    column the preset reads, lists several under ``earliest`` (a deal's close dates under its
    join's ``latest``), and its draft reads the dates
    the preset reads. Before, a quote other than the preset's or a pattern label was not
    recognised: no MQL, SQL or close, and the deals file was not used."""
    contacts, deals = current(tmp_path, people, quote="'", close_date=False)
    lg, _ = legacy(tmp_path / "legacy", people)
    df = pd.read_csv(contacts, dtype=str, keep_default_na=False)
    old = pd.read_csv(lg, dtype=str, keep_default_na=False)
    pd.concat([df, old[["Became a Marketing Qualified Lead Date"]]], axis=1).to_csv(
        contacts, index=False)
    out = tmp_path / "mapping.yaml"
    assert main(["crm", "map", str(contacts), str(deals), "--out", str(out)]) == 0
    draft = yaml.safe_load(out.read_text())
    assert draft["columns"]["mql_at"] == [_entered("Marketing Qualified Lead", quote="'"),
                                          "Became a Marketing Qualified Lead Date"]
    assert draft["join"][0]["columns"]["closed_at"] == [_entered("Closed Won", PIPELINE),
                                                        _entered("Closed Lost", PIPELINE)]
    assert set(draft["earliest"]) == {"mql_at"}
    assert draft["join"][0]["latest"] == ["closed_at"]
    got = load_export(contacts, out, salt="s").leads
    hub = load_mapping("preset:hubspot").model_copy(update={"timezone": "UTC"})
    want = load_export(contacts, hub, joins=[deals], salt="s").leads
    for f in FIELDS:
        pd.testing.assert_series_equal(got[f], want[f], obj=f)


@pytest.mark.parametrize("close_date", [True, False])
def test_a_reopened_deal_closes_at_its_last_close(tmp_path: Path, close_date: bool) -> None:
    """A deal lost, reopened and won is won when it entered Closed Won, and one won, reopened
    and lost is lost when it entered Closed Lost: a deal's close is the latest of its close
    dates (HubSpot moves Close Date to each close). Before, the earliest was read, so the
    first deal was won at its loss, months before the win."""
    contacts = _write(tmp_path / "contacts.csv", ["Record ID", "Create Date", "Original Source",
                                                  "Lifecycle Stage"],
                      [["1", "2025-01-06 10:00", "Direct Traffic", "Customer"],
                       ["2", "2025-01-06 11:00", "Direct Traffic", "Opportunity"]])
    header = ["Record ID", "Deal Stage", "Create Date", "Close Date",
              _entered("Closed Won", PIPELINE), _entered("Closed Lost", PIPELINE),
              "Associated Contact IDs"]  # fmt: skip
    rows = [["90", "Closed Won", "2025-01-08 09:00", "2025-04-02 15:00", "2025-04-02 15:00",
             "2025-02-03 12:00", "1"],
            ["91", "Closed Lost", "2025-01-08 09:00", "2025-03-20 16:00", "2025-02-10 10:00",
             "2025-03-20 16:00", "2"]]  # fmt: skip
    if not close_date:
        header.pop(3)
        for r in rows:
            r.pop(3)
    deals = _write(tmp_path / "deals.csv", header, rows)
    mp = load_mapping("preset:hubspot").model_copy(update={"timezone": "UTC"})
    leads = load_export(contacts, mp, joins=[deals], salt="s").leads
    assert list(leads["stage"]) == ["won", "lost"]
    assert list(leads["closed_at"]) == [pd.Timestamp("2025-04-02 15:00", tz="UTC"),
                                        pd.Timestamp("2025-03-20 16:00", tz="UTC")]


def test_latest_names_timestamp_fields_of_its_join() -> None:
    """A join's ``latest`` takes timestamp fields of that join's columns only."""
    mp = load_mapping("preset:hubspot").model_dump()
    mp["join"][0]["latest"] = ["amount"]
    with pytest.raises(ScenarioError, match="latest"):
        load_mapping(mp)
