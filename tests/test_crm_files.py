"""Bad CRM files are one clear exit-2 message naming the file and the problem, never a
traceback or a machine brought down: input bombs, empty, header-only and Excel files, a
non-UTF-8 mapping, a bad date_format, a mixed-zone column, paths leaving the mapping's
folder, an impossible --test-months."""

from __future__ import annotations

import gzip
import json
import os
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from sla_sim.cli.main import main
from sla_sim.crm.load import load_export

HEADER = "Lead ID,Created,Source\n"
ROWS = "a,2025-01-02 10:00,Web\nb,2025-01-03 11:00,Web\n"
MAPPING = {"columns": {"lead_id": "Lead ID", "created_at": "Created", "channel": "Source"},
           "timezone": "America/New_York"}  # fmt: skip


def _xlsx(path: Path) -> None:
    """A real (minimal) Office Open XML workbook."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"/>')
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")


def _run(tmp: Path, data: Path, capsys: pytest.CaptureFixture[str], *extra: str,
         mapping: Path | None = None) -> str:  # fmt: skip
    m = mapping or tmp / "m.yaml"
    if mapping is None:
        m.write_text(json.dumps(MAPPING))
    t0 = time.perf_counter()
    code = main(["measure", str(data), "--map", str(m), "--no-report", "--store",
                 str(tmp / "st"), *extra])  # fmt: skip
    assert code == 2
    assert time.perf_counter() - t0 < 2.0
    return capsys.readouterr().err


@pytest.mark.parametrize(("kind", "says"), [
    ("empty", "is empty"), ("header", "has a header but no data rows"),
    ("xlsx", "is an Excel workbook"), ("sparse", "MB, above the limit"),
    ("gzip", "decompresses to more than"),
])  # fmt: skip
def test_bad_files_exit_2_naming_file(kind: str, says: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Each bad file exits 2 in under 2 s with the file and the fix named."""
    p = tmp_path / ("leads.xlsx" if kind == "xlsx" else "leads.csv.gz" if kind == "gzip"
                    else "leads.csv")  # fmt: skip
    if kind == "empty":
        p.write_bytes(b"")
    elif kind == "header":
        p.write_text(HEADER)
    elif kind == "xlsx":
        _xlsx(p)
    elif kind == "sparse":  # 2 GB of nothing on disk
        with p.open("wb") as fh:
            fh.write(HEADER.encode())
            fh.truncate(2 << 30)
    else:  # 3 MB of gzip that inflates to 3 GB: refused after reading just over the bound
        monkeypatch.setenv("SLA_SIM_MAX_INPUT_MB", "8")
        with gzip.open(p, "wb", compresslevel=9) as gz:
            gz.write(HEADER.encode())
            block = b"\n" * (1 << 20)
            for _ in range(12):
                gz.write(block)
    err = _run(tmp_path, p, capsys)
    assert says in err
    assert p.name in err
    assert "Traceback" not in err


def test_gzip_within_bound_is_read(tmp_path: Path) -> None:
    """A small gzip export is read like its CSV."""
    p = tmp_path / "leads.csv.gz"
    p.write_bytes(gzip.compress((HEADER + ROWS).encode()))
    assert load_export(p, MAPPING).n_leads == 2


def test_latin1_mapping_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A mapping with a Latin-1 byte exits 2 naming the file and the encoding."""
    (tmp_path / "leads.csv").write_text(HEADER + ROWS)
    m = tmp_path / "m.yaml"
    m.write_bytes(b"# caf\xe9\n" + json.dumps(MAPPING).encode())
    err = _run(tmp_path, tmp_path / "leads.csv", capsys, mapping=m)
    assert "m.yaml" in err
    assert "not UTF-8" in err


def test_bad_date_format_names_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """date_format '%Y-%m-%d %Q' exits 2 naming date_format."""
    (tmp_path / "leads.csv").write_text(HEADER + ROWS)
    m = tmp_path / "m.yaml"
    m.write_text(json.dumps({**MAPPING, "date_format": "%Y-%m-%d %Q"}))
    err = _run(tmp_path, tmp_path / "leads.csv", capsys, mapping=m)
    assert "date_format" in err
    assert "%Q" in err


def test_mixed_zone_column_reads_each_value_by_its_form(tmp_path: Path) -> None:
    """One value with an offset among naive ones: the naive ones stay in the mapping's zone."""
    p = tmp_path / "leads.csv"
    p.write_text(HEADER + ROWS + "c,2025-01-04T15:00:00+00:00,Web\n")
    c = load_export(p, MAPPING).leads["created_at"]
    assert c.iloc[0] == pd.Timestamp("2025-01-02 15:00", tz="UTC")  # 10:00 New York
    assert c.iloc[2] == pd.Timestamp("2025-01-04 15:00", tz="UTC")


@pytest.mark.parametrize("key", ["activity_file", "join"])
def test_paths_may_not_leave_the_mapping_folder(key: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """activity_file / join.file outside the mapping's folder exit 2 naming the key; the same
    file given on the command line is read."""
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "leads.csv").write_text(HEADER + ROWS)
    secret = tmp_path / "secret.csv"
    secret.write_text("Lead ID,Owner\na,x\n")
    extra = ({"activity_file": "../secret.csv"} if key == "activity_file" else
             {"join": [{"file": "../secret.csv", "key": "Lead ID"}]})  # fmt: skip
    m = inner / "m.yaml"
    m.write_text(json.dumps({**MAPPING, **extra}))
    err = _run(tmp_path, inner / "leads.csv", capsys, mapping=m)
    assert "leaves the mapping's folder" in err
    assert ("activity_file" if key == "activity_file" else "join[0].file") in err
    if key == "join":
        ok = load_export(inner / "leads.csv", {**MAPPING, "join": [{"key": "Lead ID"}]},
                         joins=[secret])  # fmt: skip
        assert ok.n_leads == 2


def test_test_months_bound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """backtest --test-months 100000 exits 2 naming the option."""
    (tmp_path / "leads.csv").write_text(HEADER + ROWS)
    (tmp_path / "m.yaml").write_text(json.dumps(MAPPING))
    assert main(["backtest", str(tmp_path / "leads.csv"), "--map", str(tmp_path / "m.yaml"),
                 "--train-until", "2025-01-03", "--test-months", "100000"]) == 2
    assert "--test-months" in capsys.readouterr().err


def test_missing_options_named_with_example(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """calibrate without --out and review without --month name the option and an example."""
    (tmp_path / "leads.csv").write_text(HEADER + ROWS)
    (tmp_path / "m.yaml").write_text(json.dumps(MAPPING))
    assert main(["calibrate", str(tmp_path / "leads.csv"), "--map",
                 str(tmp_path / "m.yaml")]) == 2
    assert "--out calibrated.yaml" in capsys.readouterr().err
    assert main(["review", str(tmp_path / "leads.csv"), "--map", str(tmp_path / "m.yaml"),
                 "--scenario", "x.yaml"]) == 2
    assert "--month 2025-06" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "calibration.json")


@pytest.mark.parametrize("command", ["backtest", "review"])
def test_out_refused_before_the_export_is_read(tmp_path: Path, command: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """An existing, non-empty --out is refused first: the export named here does not exist,
    so a check made after reading (or computing) would name the export instead."""
    from sla_sim.scenario.io import save
    from sla_sim.scenario.presets import preset

    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    (tmp_path / "m.yaml").write_text(json.dumps(MAPPING))
    when = (["--train-until", "2025-01-03", "--reps", "2"] if command == "backtest" else
            ["--scenario", str(save(preset("default"), tmp_path / "s.yaml")), "--month",
             "2025-01", "--reps", "2"])  # fmt: skip
    assert main([command, str(tmp_path / "missing.csv"), "--map", str(tmp_path / "m.yaml"),
                 *when, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--out" in err
    assert "missing.csv" not in err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_calibration_and_json_written_atomically(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails (disk full at the rename) leaves the previous file whole and no
    temporary file: calibrate's scenario and calibration.json, backtest/review's JSON."""
    import errno

    from sla_sim.batch import files
    from sla_sim.cli.crm import _write_json
    from sla_sim.crm.calibrate import Calibration, write_calibration
    from sla_sim.scenario.presets import preset

    cal = Calibration(preset("default"), [], [], {}, {"rows": 2})
    target = tmp_path / "calibrated.yaml"
    write_calibration(cal, target)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(before) == {"calibrated.yaml", "calibration.json"}

    def full(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "replace", full)
    cal.scenario = preset("smb_inbound")
    with pytest.raises(OSError, match=r"calibrated\.yaml"):
        write_calibration(cal, target)
    with pytest.raises(OSError, match=r"backtest\.json"):
        _write_json(tmp_path / "backtest.json", {"a": 1})
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
