"""What the project writes is safe to open and to print: no CSV cell is read as a formula by a
spreadsheet, and no user string reaches the terminal as control characters."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from sla_sim.batch.safe_csv import FORMULA_LEADS, safe_cell, safe_frame, write_csv, write_rows
from sla_sim.cli.main import main
from sla_sim.cli.terminal import printable
from sla_sim.scenario.io import save, set_path
from tests.conftest import make_tiny

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ['=HYPERLINK("http://evil.example","team")', "+1+2", "-3+cmd|' /C calc'!A0",
           "@SUM(A1)", "\tx", "\rx"]


def _number(c: str) -> bool:
    try:
        float(c)
    except ValueError:
        return False
    return True


def _risky(cells: list[str]) -> list[str]:
    """Cells a spreadsheet would read as a formula (numbers such as -1.5 are numbers)."""
    return [c for c in cells if c.startswith(FORMULA_LEADS) and not _number(c)]


def _cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [c for row in csv.reader(fh) for c in row]


def _writes_csv(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and node.attr in ("to_csv", "writer", "DictWriter"):
        return True
    return isinstance(node, ast.Name) and node.id in ("DictWriter", "writer")


def test_every_csv_writer_goes_through_the_safe_helper() -> None:
    """The CSV writers of the package are enumerated from its source: only
    ``sla_sim/batch/safe_csv.py`` calls a raw writer (``to_csv``, ``csv.writer``,
    ``csv.DictWriter``), and every module that writes a ``.csv`` file uses the helper."""
    raw, csv_files = set(), set()
    for f in (ROOT / "sla_sim").rglob("*.py"):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        rel = str(f.relative_to(ROOT))
        if any(_writes_csv(n) for n in ast.walk(tree)):
            raw.add(rel)
        src = f.read_text(encoding="utf-8")
        if "write_csv(" in src or "write_rows(" in src:
            csv_files.add(rel)
    assert raw == {"sla_sim/batch/safe_csv.py"}
    # the writers found last time this was read: measure's breakdown, the synthetic export,
    # recommendation.csv, comparison.csv and compare/sweep --out
    assert {"sla_sim/crm/measure.py", "sla_sim/crm/export.py", "sla_sim/recommend/exports.py",
            "sla_sim/cli/simulate.py"} <= csv_files


def test_formula_cells_are_neutralised_and_numbers_kept(tmp_path: Path) -> None:
    """Text starting with = + - @ tab or CR gets a leading quote (cells and headers); numbers,
    negative ones included, are written as numbers."""
    df = pd.DataFrame({"team": HOSTILE, "=x": [-1.5] * 6, "ok": ["a-b"] * 6})
    cells = _cells(write_csv(df, tmp_path / "a.csv"))
    assert not _risky(cells)
    assert "'=HYPERLINK(\"http://evil.example\",\"team\")" in cells
    assert "-1.5" in cells  # a number stays a number
    assert "a-b" in cells
    rows = [{"side": h, "target": -2} for h in HOSTILE]
    assert not _risky(_cells(write_rows(tmp_path / "b.csv", ["side", "target"], rows)))
    assert safe_cell(-2) == -2
    assert safe_frame(pd.DataFrame({"x": pd.array(["=1", None], dtype="string")}))["x"].isna()[1]


def test_measure_breakdown_has_no_formula_cell(tmp_path: Path) -> None:
    """A CRM export whose team names are formulas gives a breakdown.csv with no cell a
    spreadsheet would run."""
    tpl = tmp_path / "tpl"
    assert main(["crm", "template", "--out", str(tpl)]) == 0
    df = pd.read_csv(tpl / "leads.csv", dtype=str)
    df["Team"] = HOSTILE[0]
    df.to_csv(tpl / "leads.csv", index=False)  # a hostile export, written raw on purpose
    out = tmp_path / "m"
    assert main(["measure", str(tpl / "leads.csv"), "--map", str(tpl / "mapping.yaml"),
                 "--out", str(out), "--no-report", "--store", str(tmp_path / "st")]) == 0
    cells = _cells(out / "breakdown.csv")
    assert not _risky(cells), _risky(cells)[:3]


def test_control_characters_are_not_printed(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A scenario and team named with ANSI escapes: ``run`` and ``runs list`` show them
    escaped, never raw."""
    sc = set_path(make_tiny({"horizon.warmup_days": 5}), "name", "x\x1b[2J\x1b[31mred\x07")
    f = save(sc, tmp_path / "sc.yaml")
    store = str(tmp_path / "st")
    assert main(["run", str(f), "--reps", "2", "--workers", "1", "--no-report", "--store",
                 store]) == 0  # fmt: skip
    assert main(["runs", "list", "--store", store]) == 0
    out = capsys.readouterr()
    for text in (out.out, out.err):
        assert "\x1b" not in text
        assert "\x07" not in text
    assert "\\x1b[31mred" in out.err + out.out
    assert printable("a\x9bb\tc\n") == "a\\x9bb\tc\n"


def test_csv_text_round_trips_safe_values() -> None:
    """A neutralised cell reads back as the text with its leading quote."""
    from sla_sim.batch.safe_csv import csv_text

    back = pd.read_csv(io.StringIO(csv_text(pd.DataFrame({"t": ["=1", "b"]}))))
    assert back["t"].tolist() == ["'=1", "b"]


def test_nested_progress_bars_move_the_cursor_under_the_guard(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Under the command line's terminal guard, a nested bar's cursor-up (tqdm's ESC [ A)
    was printed as a visible '\\x1b[A' on every redraw (recommend's stage and replication
    bars). Bars now draw on the stream under the guard; a control character in a bar's
    description is still shown escaped, and so is one in any other output."""
    import sys

    from sla_sim.cli.terminal import safe_terminal
    from sla_sim.progress import progress_bar

    raw = io.StringIO()
    monkeypatch.setattr(sys, "stderr", raw)
    with safe_terminal():
        outer = progress_bar(total=2, desc="recommend", unit="stage")
        inner = progress_bar(total=3, desc="team \x1b[2Jx", unit="rep", leave=False)
        inner.update(3)
        inner.close()
        outer.update(2)
        outer.close()
        print("name \x1b[31mred", file=sys.stderr)
    text = raw.getvalue()
    assert "\x1b[A" in text  # the nested bar moved the cursor back up
    assert "\\x1b[A" not in text
    assert "\x1b[2J" not in text
    assert "team \\x1b[2Jx" in text
    assert "name \\x1b[31mred" in text
