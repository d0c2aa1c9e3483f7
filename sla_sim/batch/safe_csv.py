"""CSV files a spreadsheet can open safely: no cell is read as a formula.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a
formula to Excel, LibreOffice and Google Sheets (CSV injection: ``=HYPERLINK(...)`` in a team
name from a CRM export would become a live link). Every CSV the project writes goes through
:func:`write_csv` or :func:`safe_cell`, which put a single quote in front of such text (the
OWASP advice); numbers are left as they are, so a negative number stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sla_sim.batch.files import atomic_write

__all__ = ["FORMULA_LEADS", "csv_text", "safe_cell", "safe_frame", "write_csv", "write_rows"]

#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` with a quote in front when it is text that would be read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names are safe (:func:`safe_cell`)."""
    out = df.rename(columns=lambda c: safe_cell(str(c)) if isinstance(c, str) else c)
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            out[col] = s.map(safe_cell, na_action="ignore")
    return out


def csv_text(df: pd.DataFrame) -> str:
    """The CSV text of ``df`` (no index), made safe."""
    return safe_frame(df).to_csv(index=False)


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` (no index) as a safe CSV, atomically (a temporary name, then a rename)."""
    path = Path(path)
    atomic_write(path, lambda tmp: tmp.write_text(csv_text(df), encoding="utf-8"))
    return path


def write_rows(path: str | Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]
               ) -> Path:  # fmt: skip
    """Write dict rows under ``columns`` as a safe CSV, atomically."""
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=[safe_cell(c) for c in columns])
    w.writeheader()
    for row in rows:
        w.writerow({safe_cell(k): safe_cell(v) for k, v in row.items()})
    path = Path(path)
    atomic_write(path, lambda tmp: tmp.write_text(buf.getvalue(), encoding="utf-8",
                                                  newline=""))  # fmt: skip
    return path
