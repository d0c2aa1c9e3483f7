"""Which export columns a mapped label names, and the earliest of several date columns.

A label names the header column written exactly so; failing that, the column written alike
regardless of case, spacing and quote marks (``'``, ``"``, ``‘ ’ “ ”`` are one mark:
HubSpot writes ``Date entered "Customer (Lifecycle Stage Pipeline)"`` in one portal and
``Date entered 'Customer (Lifecycle Stage Pipeline)'`` in another). A label holding ``*`` is a
pattern: ``*`` stands for any run of characters and the rest matches as above, the whole
label against the whole column name, so ``Date entered "Closed Won (*)"`` names the
closed-won column of every deal pipeline (``Sales Pipeline``, ``Enterprise``...) and never a
``Date exited`` or ``Latest time in`` column.

A field listed under the mapping's ``earliest`` reads every column its labels name and keeps,
per row, the earliest date (empty cells skipped); one under a join's ``latest`` keeps the
latest (a deal's last close); any other field reads the first label the header holds, and a
pattern naming several columns there is refused rather than settled by their order.
"""

from __future__ import annotations

import re

import pandas as pd

from sla_sim.crm.mapping import candidates
from sla_sim.crm.values import parse_times

__all__ = ["earliest_text", "fold", "matches", "named"]

_QUOTES = str.maketrans(dict.fromkeys("\"‘’‚‛“”„‟`´", "'"))


def fold(label: str) -> str:
    """A label as compared: spacing collapsed, case folded, every quote mark one mark."""
    return " ".join(label.split()).casefold().translate(_QUOTES)


def matches(label: str, header: list[str]) -> list[str]:
    """The header's columns one label names: itself, else the columns written alike (see the
    module docstring); a pattern's every match, in header order."""
    if "*" not in label:
        if label in header:
            return [label]
        want = fold(label)
        return next(([h] for h in header if fold(h) == want), [])
    rx = re.compile(".*?".join(re.escape(part) for part in fold(label).split("*")))
    return [h for h in header if rx.fullmatch(fold(h))]


def named(value: str | list[str], header: list[str], every: bool = False) -> list[str]:
    """The columns a mapped label (or list of labels) reads: those of the first label the
    header holds, or with ``every`` those of all its labels (in their order, once each)."""
    out: list[str] = []
    for label in candidates(value):
        hits = matches(label, header)
        if hits and not every:
            return hits
        out += [h for h in hits if h not in out]
    return out


def earliest_text(columns: list[pd.Series], fmt: str | list[str], tz: str,
                  latest: bool = False) -> pd.Series:  # fmt: skip
    """Per row, the text of the earliest date among ``columns`` (with ``latest``, the latest;
    empty cells skipped). A row with a date that does not parse keeps that text, so the load
    reports it as unreadable."""
    out = pd.Series(pd.NA, index=columns[0].index, dtype=object)
    best = pd.Series(pd.NaT, index=columns[0].index, dtype="datetime64[ns, UTC]")
    unreadable = pd.Series(False, index=columns[0].index)
    for col in columns:
        text = col.astype("string").str.strip()
        filled = (text.notna() & (text != "")).fillna(False)
        when, _ = parse_times(col, fmt, tz)
        bad = filled & when.isna() & ~unreadable
        out[bad] = col[bad]
        unreadable |= bad
        ahead = (when > best) if latest else (when < best)
        better = filled & when.notna() & ~unreadable & (best.isna() | ahead)
        out[better] = col[better]
        best = best.where(~better, when)
    return out
