"""Export values as CRMs write them -> typed values: timestamps and money.

Timestamps
    ``date_format`` is ``ISO8601`` (default), ``mixed`` (pandas guesses per value, but a
    numeric date is read month first only: ``13/01/2025`` and ``31.12.2025`` are refused, not
    read day first for that value alone), one
    strftime format, or a list of them tried in order per value, e.g. Salesforce's US report
    format ``['%m/%d/%Y %I:%M %p', '%m/%d/%Y']`` (``12/31/2025 4:05 PM`` or ``12/31/2025``).
    A value with its own UTC offset (``...+02:00``, ``...Z``, ``...000+0000``) is read at that
    offset; a naive value in the mapping's ``timezone``; a column may mix both. A comma between
    date and time (``12/31/2025, 4:05 PM``: Salesforce's ICU locale formats, the default since
    Spring '24) and a no-break space (``4:05\u202fPM``) read as a space, so one format reads
    both the JDK and the ICU way of writing a locale's dates.
    A format list may not hold both orders of one numeric date (``%m/%d/%Y`` and ``%d/%m/%Y``):
    a value would be read month first or day first by whichever format fits it alone
    (:func:`check_date_orders`). When every numeric date of an export has its day and month
    both 12 or less, the data cannot confirm the order the format says: :func:`order_unconfirmed`
    words the note that says so. A value without a time of day
    (a date-only field such as Salesforce's Converted Date) is flagged *date-only*: it says the
    day, not the instant, and the loader places it no earlier than a same-day earlier event.

Money
    ``12345.5``, ``$12,345.00``, ``USD 12,345.00``, ``(1,200.00)`` (negative) and ``€ 99`` read
    as numbers; a comma is a thousands separator only in groups of three digits. European
    amounts with a decimal comma read too (``1.234,56``, ``EUR 1.234,56``, ``99,5 €``).
    An amount whose currency is in a column of its own (a multi-currency Salesforce org's
    report: ``Amount Currency`` beside ``Amount``; the API's ``CurrencyIsoCode``) is read as
    written with its code (:func:`with_currency`), so amounts in several currencies are
    refused as when the code is in the cell.
    Not a number: any other word or letter (``$12K``, ``1e5``). Refused, never guessed
    (:func:`money_issues`): ``1.234`` (thousands dot or decimal point?), one column in two
    locales, one column in two currencies.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

__all__ = ["check_date_format", "check_date_orders", "date_hint", "date_order",
           "is_date_only_format", "money_issues", "order_unconfirmed", "parse_money",
           "parse_times", "with_currency"]

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


def date_order(fmt: str) -> str | None:
    """``"month first"`` or ``"day first"`` for a numeric date format with the year last
    (``%m/%d/%Y``, ``%d.%m.%Y``), else None (ISO ``%Y-%m-%d``, a month name, a keyword)."""
    if fmt in _KEYWORDS or "%b" in fmt or "%B" in fmt:
        return None
    at = {d: fmt.find(d) for d in ("%m", "%d", "%Y")}
    if min(at.values()) < 0 or at["%Y"] < max(at["%m"], at["%d"]):
        return None
    return "month first" if at["%m"] < at["%d"] else "day first"


def check_date_orders(formats: list[str]) -> None:
    """Refuse a format list holding both orders of a numeric date (ValueError naming them)."""
    orders: dict[str, str] = {}
    for f in formats:
        if o := date_order(f):
            orders.setdefault(o, f)
    if len(orders) > 1:
        raise ValueError(f"lists a month-first format ({orders['month first']!r}) and a"
                         f" day-first one ({orders['day first']!r}): 02/01/2025 would be read"
                         " by the first and 13/01/2025 by the second, each value on its own;"
                         " keep the one order the CRM writes")  # fmt: skip


_NUMERIC_DATE = r"^\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"
_ABOVE_12 = (r"^\s*(?:(?:1[3-9]|[2-9]\d)[/.-]\d{1,2}|\d{1,2}[/.-](?:1[3-9]|[2-9]\d))"
             r"[/.-]\d{2,4}\b")  # fmt: skip
_SAMPLE = 20_000


def order_unconfirmed(columns: dict[str, pd.Series], formats: list[str]) -> str:
    """The note for numeric dates whose order the data cannot confirm, or ``""``: the formats
    read day and month in one order, and no value of the named columns has a first or second
    field above 12 (a value in the other order would then not exist, or be refused)."""
    order = next((o for f in formats if (o := date_order(f))), None)
    if order is None:
        return ""
    seen: list[str] = []
    for name, s in columns.items():
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            continue
        text = s.dropna().astype("string")
        head = text.iloc[:_SAMPLE]  # a large export answers from its first rows
        if head.str.match(_ABOVE_12).any():
            return ""
        if not head.str.match(_NUMERIC_DATE).any():
            continue
        if len(text) > _SAMPLE and text.iloc[_SAMPLE:].str.match(_ABOVE_12).any():
            return ""
        seen.append(name)
    if not seen:
        return ""
    other = "day first" if order == "month first" else "month first"
    fix = (["%d/%m/%Y %H:%M", "%d/%m/%Y %I:%M %p", "%d/%m/%Y"] if order == "month first"
           else ["%m/%d/%Y %I:%M %p", "%m/%d/%Y"])  # fmt: skip
    return (f"every date of {', '.join(repr(c) for c in seen)} has its day and month both"
            f" 12 or less, so the export cannot tell which comes first: read {order}, as"
            f" date_format says; if the CRM writes dates {other} (a UK, European or Australian"
            f" locale writes 31/12/2025), set date_format: {fix} in a copy of the mapping")


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
        if fmt == "mixed":  # never guess the order of day and month: pandas would, per value
            got[sub.str.match(_LOCAL_ORDER).fillna(False).to_numpy(bool)] = pd.NaT
        if fmt in _KEYWORDS:  # '2025' or '2025-03' is no day: not read as its first day
            got[sub.str.fullmatch(r"\s*\d{4}(?:-\d{1,2})?\s*").fillna(False).to_numpy(bool)] = (
                pd.NaT)
        ok = got.notna().to_numpy(bool)
        idx = np.flatnonzero(todo)[ok]
        out.iloc[idx] = got[ok].to_numpy()
        if fmt in _KEYWORDS:
            date_only[idx] = ~sub[ok].str.contains(":", regex=False).to_numpy(bool)
        else:
            date_only[idx] = is_date_only_format(fmt)
        todo[idx] = False
    return out, date_only


_DAY_FIRST = r"^(?:(?:1[3-9]|2\d|3[01])([/.-])(?:0?[1-9]|1[0-2])\1|\d{1,2}(\.)\d{1,2}\.)\d{4}"
# read by 'mixed' only in the US order: a first field above 12, or dots (31.12.2025), is day
# first, which pandas would accept for that value only (02/01 as February, 13/01 as January)
_LOCAL_ORDER = r"^\s*(?:(?:1[3-9]|2\d|3[01])/\d{1,2}/|\d{1,2}\.\d{1,2}\.)\d{2,4}\b"


def date_hint(bad: pd.Series) -> str:
    """A hint for unreadable dates: the fix when they are day first (``31/12/2025``)."""
    text = bad.dropna().astype("string").str.strip()
    if text.str.fullmatch(r"[1-9]\d{4}(?:\.\d+)?").any():
        return ("; it looks like an Excel date serial number (45678.5): format the column as"
                " a date in Excel before saving it, or export the report again")
    m = text.str.extract(_DAY_FIRST).bfill(axis=1)[0].dropna()
    if m.empty:
        return ""
    sep = str(m.iloc[0])
    clock = "%I:%M %p" if text.str.contains(r"\d\s*[AaPp]\.?[Mm]\.?\s*$").any() else "%H:%M"
    return (f"; the dates look day first (31{sep}12{sep}2025): set date_format:"
            f" ['%d{sep}%m{sep}%Y {clock}', '%d{sep}%m{sep}%Y'] in a mapping (sla-sim crm map"
            " drafts one)")


_ICU_COMMA = r"^(\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}),\s*(?=\d)"


def _as_written(text: pd.Series) -> pd.Series:
    """Date text with a comma between date and time (ICU: ``12/31/2025, 4:05 PM``) and
    no-break spaces (CLDR's ``4:05\u202fPM``) written as the JDK formats write them."""
    if text.str.contains("\u00a0|\u202f", regex=True).any():
        text = text.str.replace("[\u00a0\u202f]", " ", regex=True)
    if text.str.contains(",", regex=False).any():
        text = text.str.replace(_ICU_COMMA, r"\1 ", regex=True)
    return text


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
    text = _as_written(s.astype("string").str.strip())
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


_US = r"^-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d{1,2})$"  # 1,234 1,234.56 1234.5
_EU = r"^-?(?:\d{1,3}(?:\.\d{3})+,\d+|\d+,\d{1,2})$"  # 1.234,56 1234,5
_DOTTED = r"^-?\d{1,3}(?:\.\d{3})+$"  # 1.234: 1234 in German, 1.234 in English
_CODE = r"^\(?\s*(?:[A-Za-z]{1,3}\$|[A-Za-z]{3}\b)|\b[A-Za-z]{3}\s*\)?$"  # USD 1 / 1 EUR / US$ 1
_NOT_TAG = r"[\d\s,.()\-'’]"  # ' and ’: Swiss grouping (CHF 12’000.00)


def _money_text(s: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """The stripped text, the number part (no currency, no parentheses) and the currency
    (a code or symbol as written, upper case; missing when there is none)."""
    text = s.astype("string").str.strip()
    core = text.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    core = core.str.replace(r"^[A-Za-z]{3}\s*|[^\d,.\-]", "", regex=True)
    tag = text.str.replace(_NOT_TAG, "", regex=True).str.upper()
    return text, core, tag.where(tag != "")


def parse_money(s: pd.Series) -> pd.Series:
    """Money text -> float (NaN: missing or unreadable), see the module docstring."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype(float)
    text, core, _ = _money_text(s)
    neg = text.str.match(r"^\(.*\)$").fillna(False)
    us = core.str.match(_US).fillna(False)
    eu = core.str.match(_EU).fillna(False)
    plain = core.where(~us, core.str.replace(",", "", regex=False))
    plain = plain.where(~eu, core.str.replace(".", "", regex=False).str.replace(",", "."))
    words = text.str.replace(_CODE, "", regex=True).str.contains(r"[^\W\d_]").fillna(False)
    ok = ~plain.str.contains(",", regex=False).fillna(False) & ~core.str.match(
        _DOTTED).fillna(False) & ~words  # '12K', '5 apples': not read as 12 or 5
    vals = pd.to_numeric(plain.where(ok), errors="coerce").astype(float)
    return vals.where(~neg.to_numpy(bool), -vals)


def money_issues(s: pd.Series) -> list[tuple[np.ndarray, str]]:
    """Values of a money column that :func:`parse_money` refuses to guess, each kind as (row
    mask, rule): ``1.234`` (a thousands dot or a decimal point?), a number written in another
    locale than the column's first (``1,234.56`` beside ``1.234,56``), an amount in another
    currency than the column's first (``USD 1,200.00`` beside ``EUR 1.000,00``)."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return []
    _, core, tag = _money_text(s)
    tag = tag.where(parse_money(s).notna())  # an unreadable value is 'not a number' only
    out = []
    dotted = core.str.match(_DOTTED).fillna(False).to_numpy(bool)
    if dotted.any():
        out.append((dotted, "ambiguous number: is the dot a thousands separator (1.234 ="
                    " 1234) or a decimal point? write 1234, 1,234.00 or 1.234,00"))
    us = core.str.match(_US).fillna(False).to_numpy(bool)
    eu = core.str.match(_EU).fillna(False).to_numpy(bool)
    if us.any() and eu.any():
        first_us = np.argmax(us) < np.argmax(eu)
        other = eu if first_us else us
        ref = int(np.argmax(us if first_us else eu))
        out.append((other, f"a number in another locale than row {ref + 1}'s"
                    f" {s.iloc[ref]!r} (1,234.56 and 1.234,56 in one column): export the"
                    " column again in one format"))  # fmt: skip
    tags = tag.dropna()
    if tags.nunique() > 1:
        first = str(tags.iloc[0])
        ref = int(np.flatnonzero(tag.notna().to_numpy(bool))[0])
        other = (tag.notna() & (tag != first)).to_numpy(bool)
        out.append((other, f"in another currency than row {ref + 1}'s {s.iloc[ref]!r}"
                    f" ({first}): amounts in several currencies cannot be added up; map a"
                    " column converted to one currency (e.g. Salesforce 'Amount (converted)')"
                    " or export one currency"))  # fmt: skip
    return out


_BARE = r"\(?-?[\d\s,.'’\u00a0\u202f]*\d[\d\s,.'’\u00a0\u202f]*\)?"


def with_currency(values: pd.Series, codes: pd.Series) -> pd.Series:
    """Amounts with the currency code of their row's currency column written in front
    (``10,000`` and ``JPY`` -> ``JPY 10,000``; ``(1,200.00)`` -> ``(JPY 1,200.00)``); a value
    that already carries a symbol or code, or a row without a code, is left as written."""
    v = values.astype("string").str.strip()
    c = codes.astype("string").str.strip().str.upper()
    add = (v.str.fullmatch(_BARE).fillna(False) & c.str.fullmatch(r"[A-Z]{3}").fillna(False)
           ).to_numpy(bool)  # fmt: skip
    neg = v.str.startswith("(").fillna(False).to_numpy(bool)
    out = v.copy()
    out[add & ~neg] = c[add & ~neg] + " " + v[add & ~neg]
    out[add & neg] = "(" + c[add & neg] + " " + v[add & neg].str.slice(1)
    return out
