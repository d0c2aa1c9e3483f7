"""Salesforce and HubSpot downloads read as they come, with the shipped presets and no edits:
the truth they were drawn from is recovered, no name or e-mail reaches any output, ``crm map``
drafts a mapping the commands accept, and each silent wrong answer of the past is now either
right or refused."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import crm_downloads as dl
import pandas as pd
import pytest

from sla_sim.cli.main import main
from sla_sim.crm.load import load_export
from sla_sim.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """The three downloads of one drawn truth."""
    df = dl.draw()
    d = tmp_path_factory.mktemp("downloads")
    return {"lightning": dl.salesforce(df, d / "lightning"),
            "classic": dl.salesforce(df, d / "classic", classic=True),
            "hubspot": dl.hubspot(df, d / "hubspot")}  # fmt: skip


def _no_secrets(folder: Path, console: str) -> None:
    texts = [console] + [p.read_text(errors="replace") for p in folder.rglob("*")
                         if p.is_file() and p.suffix in {".json", ".yaml", ".csv", ".md"}]
    for s in dl.SECRETS:
        assert not any(s in t for t in texts), s


def _close(est: dict, truth: float, scale: float = 1.0) -> None:
    se = (est["high"] - est["low"]) / (2 * 1.96) * scale
    assert abs(est["value"] * scale - truth) <= 3 * se, (est, truth)


@pytest.mark.parametrize("kind", ["lightning", "classic", "hubspot"])
def test_preset_recovers_truth_without_edits(files, kind: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """calibrate and measure run on the download with the shipped preset; cycle, win rate and
    volumes are within 3 SE of the truth; no name or e-mail reaches the console or a file."""
    leads, opps = files[kind]
    preset = "preset:hubspot" if kind == "hubspot" else "preset:salesforce"
    out = tmp_path / "cal"
    assert main(["calibrate", str(leads), "--join", str(opps), "--map", preset,
                 "--out", str(out / "calibrated.yaml")]) == 0
    assert main(["measure", str(leads), "--join", str(opps), "--map", preset, "--no-report",
                 "--store", str(tmp_path / "store")]) == 0
    console = "".join(capsys.readouterr())
    est = {e["path"]: e for e in json.loads((out / "calibration.json").read_text())["estimates"]}
    t = dl.TRUTH
    for ch in t.leads_per_month:
        _close(est[f"channels[{ch}].win_rate"], t.win_rate)
        _close(est[f"channels[{ch}].cycle_days.mean"], t.cycle_days_mean)
        # every row is an MQL (no MQL date): the export's volume is MQLs per month
        _close(est[f"channels[{ch}].mqls_per_month"], t.leads_per_month[ch])
    assert "exported_at 2025-09-01" in console
    _no_secrets(tmp_path, console)


@pytest.mark.parametrize("kind", ["lightning", "classic", "hubspot"])
def test_crm_map_draft_is_accepted_unchanged(files, kind: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """`crm map` on the downloads writes a mapping that calibrate accepts as written."""
    leads, opps = files[kind]
    mapping = leads.parent / f"mapping-{kind}.yaml"
    assert main(["crm", "map", str(leads), str(opps), "--out", str(mapping), "--force"]) == 0
    text = mapping.read_text()
    assert "join:" in text
    assert "date_format" in text
    assert main(["calibrate", str(leads), "--map", str(mapping),
                 "--out", str(tmp_path / "c.yaml")]) == 0
    cal = json.loads((tmp_path / "calibration.json").read_text())
    assert any(e["path"].endswith("win_rate") for e in cal["estimates"])
    _no_secrets(tmp_path, "".join(capsys.readouterr()) + text)


def test_join_column_clash_is_refused(files, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A column both tables hold ('Created Date') mapped under `columns` is refused naming
    both files, instead of the opportunity silently taking the lead's date."""
    leads, opps = files["lightning"]
    df = pd.read_csv(leads, dtype=str, keep_default_na=False).rename(
        columns={"Create Date": "Created Date", "Converted Opportunity ID": "Opportunity ID"})
    df.to_csv(tmp_path / "leads.csv", index=False)
    (tmp_path / "opps.csv").write_bytes(opps.read_bytes())
    mapping = {"columns": {"lead_id": "Lead ID", "created_at": "Created Date",
                           "channel": "Lead Source", "opportunity_opened_at": "Created Date",
                           "closed_at": "Close Date", "stage": "Stage"},
               "values": {"stage": {"won": ["Closed Won"], "lost": ["Closed Lost"],
                                    "open": dl.OPEN_STAGES}},
               "join": [{"file": "opps.csv", "key": "Opportunity ID"}],
               "date_format": ["%m/%d/%Y %I:%M %p", "%m/%d/%Y"]}  # fmt: skip
    (tmp_path / "m.yaml").write_text(json.dumps(mapping))
    assert main(["calibrate", str(tmp_path / "leads.csv"), "--map", str(tmp_path / "m.yaml"),
                 "--out", str(tmp_path / "c.yaml")]) == 2
    err = capsys.readouterr().err
    assert "'Created Date' is in leads.csv and in opps.csv" in err
    assert "join[0].columns" in err


def test_exported_at_never_from_expected_close_dates(files) -> None:
    """Open opportunities' future Close Dates are expectations: exported_at is the latest
    observed event (before the real export time), and those leads stay open (censored)."""
    leads, opps = files["lightning"]
    exp = load_export(leads, "preset:salesforce", joins=[opps])
    assert exp.exported_at <= dl.EXPORTED
    assert exp.exported_at > dl.EXPORTED - pd.Timedelta(days=3)
    assert exp.exported_from == "the latest observed event"
    L = exp.leads
    open_opps = (L["stage"] == "open") & L["opportunity_opened_at"].notna()
    assert open_opps.sum() > 50
    assert L.loc[open_opps, "closed_at"].isna().all()


def test_attempts_not_measurable_without_activity_table(files, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:  # fmt: skip
    """A first-touch date and no activity table: the attempts clause is blank in the console
    and summary, never 0% compliance with every MQL breached."""
    leads, _opps = files["lightning"]
    df = pd.read_csv(leads, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df["First Activity Date"] = df["Create Date"]
    df.to_csv(tmp_path / "leads.csv", index=False)
    assert main(["measure", str(tmp_path / "leads.csv"), "--map", "preset:salesforce",
                 "--no-report", "--out", str(tmp_path / "run"),
                 "--store", str(tmp_path / "st")]) == 0
    out = capsys.readouterr().out
    assert "attempts     not measurable" in out
    assert "first_touch  compliance" in out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    total = summary["periods"]["total"]
    assert total["attempts_compliance"]["mean"] is None
    assert total["acceptance_rate"]["mean"] is None  # no disqualified_at: not 100%
    judged = {b["clause"]: b for b in summary["breach"] if b["period"] == "total"}
    assert judged["attempts"]["p_breach"] is None


def test_hubspot_other_is_not_open(files) -> None:
    """HubSpot's lifecycle stage 'Other' is counted as disqualified, never as an open lead."""
    contacts, _ = files["hubspot"]
    exp = load_export(contacts, "preset:hubspot")
    raw = pd.read_csv(contacts, dtype=str)
    other = (raw["Lifecycle Stage"] == "Other").to_numpy()
    assert other.sum() > 50
    assert (exp.leads.loc[other, "stage"] == "disqualified").all()


def test_unknown_stage_is_refused_with_the_fix(files, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A stage the preset does not list exits 2 naming the column, the value and the key."""
    contacts, _ = files["hubspot"]
    raw = pd.read_csv(contacts, dtype=str, keep_default_na=False)
    raw.loc[3, "Lifecycle Stage"] = "Churned Partner"
    raw.to_csv(tmp_path / "c.csv", index=False)
    assert main(["measure", str(tmp_path / "c.csv"), "--map", "preset:hubspot",
                 "--no-report", "--store", str(tmp_path / "st")]) == 2
    err = capsys.readouterr().err
    assert "Lifecycle Stage" in err
    assert "Churned Partner" in err
    assert "values.stage" in err


def test_calibration_not_overwritten_without_force(files, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A second calibrate into the same place exits 2 and leaves calibration.json alone."""
    contacts, _ = files["hubspot"]
    (tmp_path / "calibration.json").write_text("{\"mine\": 1}\n")
    args = ["calibrate", str(contacts), "--map", "preset:hubspot", "--out",
            str(tmp_path / "cal.yaml")]
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert json.loads((tmp_path / "calibration.json").read_text()) == {"mine": 1}


def test_documented_olist_commands_run_from_elsewhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Olist commands of docs/crm.md (the README's CRM page) run as written from a folder
    outside the repository, and measure writes its report."""
    pages = [ROOT / "README.md", ROOT / "docs" / "crm.md"]
    lines = list(dict.fromkeys(ln.split("  #")[0].strip() for p in pages
                               for ln in p.read_text().splitlines()
                               if "--sample olist" in ln and ln.strip().startswith("sla-sim")))
    assert len(lines) >= 2
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLA_SIM_STORE", str(tmp_path / "store"))
    for line in lines:
        assert main(shlex.split(line)[1:]) == 0, line
    assert list((tmp_path / "store").rglob("report.md"))
    chart = next((tmp_path / "store").rglob("breach_probabilities.svg")).read_text()
    assert "not measurable" in chart  # Olist has no handoff: no bar that reads as 0 %


def test_api_export_custom_stage_read_from_flags(files, tmp_path: Path) -> None:
    """An API-style opportunity export (StageName, IsClosed, IsWon, CloseDate) with a custom
    stage the preset does not list: the flags say won / lost / open; an unlisted stage with
    no flags is still refused."""
    leads, opps = files["lightning"]
    o = pd.read_csv(opps, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    api = pd.DataFrame({"Id": o["Opportunity ID"], "StageName": o["Stage"].replace(
        {"Prospecting": "Verbal Commit", "Closed Won": "Signed"}),
        "IsWon": (o["Stage"] == "Closed Won").map({True: "true", False: "false"}),
        "IsClosed": o["Stage"].str.startswith("Closed").map({True: "true", False: "false"}),
        "CloseDate": o["Close Date"], "CreatedDate": o["Created Date"], "Amount": o["Amount"]})
    api.to_csv(tmp_path / "opps.csv", index=False)
    exp = load_export(leads, "preset:salesforce", joins=[tmp_path / "opps.csv"])
    ref = load_export(leads, "preset:salesforce", joins=[opps])
    assert (exp.leads["stage"] == ref.leads["stage"]).all()
    api.drop(columns=["IsWon", "IsClosed"]).to_csv(tmp_path / "bare.csv", index=False)
    with pytest.raises(ScenarioError, match=r"StageName.*unknown stage value"):
        load_export(leads, "preset:salesforce", joins=[tmp_path / "bare.csv"])


def test_several_files_of_one_table(files, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """A lead report in two parts reads as the whole; parts with other columns are refused."""
    leads, opps = files["lightning"]
    df = pd.read_csv(leads, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    half = len(df) // 2
    df.iloc[:half].to_csv(tmp_path / "q1.csv", index=False)
    df.iloc[half:].to_csv(tmp_path / "q2.csv", index=False)
    parts = load_export([tmp_path / "q1.csv", tmp_path / "q2.csv"], "preset:salesforce",
                        joins=[opps])  # fmt: skip
    whole = load_export(leads, "preset:salesforce", joins=[opps])
    assert parts.n_leads == whole.n_leads
    assert (parts.leads["stage"] == whole.leads["stage"]).all()
    df.iloc[half:].drop(columns=["Title"]).to_csv(tmp_path / "q3.csv", index=False)
    assert main(["measure", str(tmp_path / "q1.csv"), str(tmp_path / "q3.csv"), "--map",
                 "preset:salesforce", "--no-report", "--store", str(tmp_path / "st")]) == 2
    assert "q3.csv" in capsys.readouterr().err
