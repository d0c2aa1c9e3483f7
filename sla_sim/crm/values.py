"""Export values as CRMs write them -> typed values: timestamps and money.

Timestamps
    ``date_format`` is ``ISO8601`` (default), ``mixed`` (pandas guesses per value), one
    strftime format, or a list of them tried in order per value, e.g. Salesforce's US report
    format ``['%m/%d/%Y %I:%M %p', '%m/%d/%Y']`` (``12/31/2025 4:05 PM`` or ``12/31/2025``).
    A value with its own UTC offset (``...+02:00``, ``...Z``) is read at that offset; a naive
    value in the mapping's ``timezone``; a column may mix both. A value without a time of day
    (a date-only field such as Salesforce's Converted Date) is flagged *date-only*: it says the
    day, not the instant, and the loader places it no earlier than a same-day earlier event.

Money
    ``12345.5``, ``$12,345.00``, ``USD 12,345.00``, ``(1,200.00)`` (negative) and ``€ 99`` read
    as numbers; a comma is a thousands separator only in groups of three digits.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

__all__ = ["check_date_format", "is_date_only_format", "parse_money", "parse_times"]

_ZONED = r"(?:Z|[+-]\d{2}:?\d{2})$"
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%X", "%c", "%T", "%R", "%p")
_KEYWORDS = ("ISO8601", "mixed")


def is_date_only_format(fmt: str) -> bool:
    """Whether a strftime format carries no time of day."""
    return fmt not in _KEYWORDS and not any(d in fmt for d in _TIME_DIRECTIVES)


def check_date_format(fmt: str) -> str:
    """``fmt`` if it is ISO8601, mixed, or a strftime format that can read what it writes.

    Raises ValueError with the reason otherwise (e.g. an unknown directive such as ``%Q``).
    """
    if fmt in _KEYWORDS:
        return fmt
    if "%" not in fmt:
        raise ValueError("must be ISO8601, mixed or a strftime format such as"
                         " '%m/%d/%Y %I:%M %p' (no % directive found)")
    sample = dt.datetime(2025, 12, 31, 16, 5, 7)
    try:
        dt.datetime.strptime(sample.strftime(fmt), fmt)
    except ValueError as err:
        raise ValueError(f"is not a usable strftime format ({err}); examples:"
                         " '%Y-%m-%d %H:%M:%S', '%m/%d/%Y %I:%M %p', '%d.%m.%Y'") from None
    return fmt


def _localize(parsed: pd.Series, tz: str) -> pd.Series:
    return parsed.dt.tz_localize(tz, ambiguous=np.zeros(len(parsed), dtype=bool),
                                 nonexistent="shift_forward")  # fmt: skip


def _parse_naive(text: pd.Series, formats: list[str]) -> tuple[pd.Series, np.ndarray]:
    """Naive text -> naive datetimes (NaT if no format reads it) and the date-only mask."""
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    date_only = np.zeros(len(text), dtype=bool)
    todo = text.notna().to_numpy(bool).copy()
    for fmt in formats:
        if not todo.any():
            break
        sub = text[todo]
        kw = {"format": fmt} if fmt != "mixed" else {"format": "mixed"}
        try:
            got = pd.to_datetime(sub, errors="coerce", **kw)
        except (ValueError, TypeError):
            got = pd.Series(pd.NaT, index=sub.index)
        got = got.astype("datetime64[ns]")
        ok = got.notna().to_numpy(bool)
        idx = np.flatnonzero(todo)[ok]
        out.iloc[idx] = got[ok].to_numpy()
        if fmt in _KEYWORDS:
            date_only[idx] = ~sub[ok].str.contains(":", regex=False).to_numpy(bool)
        else:
            date_only[idx] = is_date_only_format(fmt)
        todo[idx] = False
    return out, date_only


def parse_times(s: pd.Series, fmt: str | list[str], tz: str) -> tuple[pd.Series, np.ndarray]:
    """Text (or datetime) column -> ``datetime64[ns, UTC]`` (NaT: missing or unreadable) and
    a boolean mask of date-only values (see the module docstring)."""
    none = np.zeros(len(s), dtype=bool)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").astype("datetime64[ns, UTC]"), none
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return _localize(s.astype("datetime64[ns]"), tz).dt.tz_convert("UTC").astype(
            "datetime64[ns, UTC]"), none
    formats = [fmt] if isinstance(fmt, str) else list(fmt)
    text = s.astype("string").str.strip()
    text = text.where(text != "")
    zoned = text.str.contains(_ZONED, regex=True).fillna(False).to_numpy(bool)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    naive_vals, date_only = _parse_naive(text.where(~zoned), formats)
    naive_ok = naive_vals.notna().to_numpy(bool)
    if naive_ok.any():
        out[naive_ok] = _localize(naive_vals[naive_ok], tz).dt.tz_convert("UTC")
    if zoned.any():  # each value at its own offset
        kw = {"format": "ISO8601"} if formats == ["ISO8601"] else {"format": "mixed"}
        got = pd.to_datetime(text[zoned], errors="coerce", utc=True, **kw)
        out[zoned] = got.astype("datetime64[ns, UTC]")
    return out.astype("datetime64[ns, UTC]"), date_only


_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_money(s: pd.Series) -> pd.Series:
    """Money text -> float (NaN: missing or unreadable), see the module docstring."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype(float)
    text = s.astype("string").str.strip()
    neg = text.str.match(r"^\(.*\)$").fillna(False)
    core = text.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    core = core.str.replace(r"^[A-Za-z]{3}\s*|[^\d,.\-]", "", regex=True)
    grouped = core.str.match(_THOUSANDS.pattern).fillna(False)
    core = core.where(~grouped, core.str.replace(",", "", regex=False))
    vals = pd.to_numeric(core.where(~core.str.contains(",", regex=False).fillna(False)),
                         errors="coerce").astype(float)  # fmt: skip
    return vals.where(~neg.to_numpy(bool), -vals)
