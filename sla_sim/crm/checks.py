"""Checks shared by the lead and activity tables of an export: problems collected per row
(a rule broken in many rows of a column as one issue; the first :data:`MAX_LISTED` listed),
present values, dates in the future, owner pseudonyms, and export values mapped to canonical
ones."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd

from sla_sim.errors import Issue, ScenarioError

__all__ = ["EMAIL", "FUTURE", "GROUP_AT", "MAX_LISTED", "ROWS_NAMED", "Problems", "after_export",
           "fold", "future", "map_values", "masked", "present", "pseudonym", "pseudonyms"]

MAX_LISTED = 20
GROUP_AT = 3  # rows of one column breaking one rule listed one by one; more are one issue
ROWS_NAMED = 5  # rows named in such an issue


#: An e-mail address anywhere in a value (a personal datum never shown in a message).
EMAIL = re.compile(r"[^\s@,;:<>()\[\]\"']+@[^\s@,;:<>()\[\]\"']+\.[^\s@,;:<>()\[\]\"']+")


def masked(value: str) -> str:
    """``value`` with every e-mail address in it replaced by ``<e-mail address>``: a value
    shown in a problem names the row and the column, never a person."""
    return EMAIL.sub("<e-mail address>", value)


def pseudonym(value: str, salt: str) -> str:
    """A stable pseudonym of an owner: ``owner-`` and 10 hex digits of a salted SHA-256."""
    return "owner-" + hashlib.sha256(f"{salt}\x00{value}".encode()).hexdigest()[:10]


def pseudonyms(s: pd.Series, salt: str) -> pd.Series:
    """Owner column -> pseudonyms (hashing each distinct value once); missing stays missing."""
    text = s.astype("string").str.strip()
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    names = np.array([pseudonym(str(u), salt) for u in uniques], dtype=object)
    out = pd.Series(np.where(codes >= 0, names[np.maximum(codes, 0)] if len(names) else None,
                             None), index=s.index, dtype="string")  # fmt: skip
    return out


class Problems:
    """Collects issues and counts every one. A rule broken in at most :data:`GROUP_AT` rows of
    a column is listed row by row; more, and it is one issue naming the rows (the first
    :data:`ROWS_NAMED`), how many, and the first value (a whole column in another format is
    one message, not twenty alike). At most :data:`MAX_LISTED` issues are listed, in row
    order, and the rows not listed are counted."""

    def __init__(self) -> None:
        self.items: list[tuple[int, int, Issue, int]] = []  # first row, order, issue, rows
        self.total = 0

    def add_mask(self, table: str, col: str, mask: np.ndarray, values: pd.Series,
                 rule: str, order: int) -> None:  # fmt: skip
        idx = np.flatnonzero(mask)
        self.total += len(idx)
        if len(idx) > GROUP_AT:
            seen = pd.unique(values.iloc[idx].astype("string").fillna("<missing>"))
            seen = list(dict.fromkeys(masked(str(x)) for x in seen))
            rows = ", ".join(str(i + 1) for i in idx[:ROWS_NAMED])
            more = f" and {len(idx) - ROWS_NAMED:,} more" if len(idx) > ROWS_NAMED else ""
            first = "" if len(seen) == 1 else f"; the first {min(len(seen), ROWS_NAMED)} of" \
                f" {len(seen):,} values shown"
            where = f"{table} rows {rows}{more} ({len(idx):,} rows{first}), column {col!r}"
            got = str(seen[0]) if len(seen) == 1 else [str(x) for x in seen[:ROWS_NAMED]]
            self.items.append((int(idx[0]), order, Issue(where, rule, got), len(idx)))
            return
        for i in idx:
            v = values.iloc[i]
            self.items.append((int(i), order, Issue(f"{table} row {i + 1}, column {col!r}",
                                                    rule, None if pd.isna(v) else masked(str(v))),
                               1))

    def raise_if_any(self, label: str) -> None:
        if not self.total:
            return
        self.items.sort(key=lambda x: (x[0], x[1]))
        kept = self.items[:MAX_LISTED]
        shown = [it for _, _, it, _ in kept]
        rest = self.total - sum(n for *_, n in kept)
        if rest:
            shown.append(Issue("export", f"{rest} more problem(s) not listed", self.total))
        raise ScenarioError(shown, source=f"export {label}")


FUTURE = ("is in the future (after today, UTC): no export can have recorded it (a typo? if"
          " the export is a plan or a simulation, set exported_at in the mapping)")


def future(ts: pd.Series) -> np.ndarray:
    """Timestamps after the end of today (UTC): not observed by any export made until now."""
    end = pd.Timestamp.now(tz="UTC").normalize() + pd.Timedelta(days=1)
    return (ts >= end).to_numpy(bool)


def after_export(ts: pd.Series, exported_at: object, exported: pd.Timestamp | None
                 ) -> tuple[np.ndarray, str]:  # fmt: skip
    """Timestamps no export could have recorded, and the rule they break: after today (UTC)
    when the mapping sets no ``exported_at`` (``exported`` is then not needed), else after
    ``exported``, the mapping's instant."""
    if exported_at is None:
        return future(ts), FUTURE
    return (ts > exported).to_numpy(bool), f"is after exported_at ({exported.isoformat()})"


def present(s: pd.Series) -> np.ndarray:
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        return (s.notna() & (s.astype("string").str.strip() != "")).to_numpy(bool)
    return s.notna().to_numpy(bool)


def fold(s: pd.Series) -> pd.Series:
    return s.str.replace(r"\s+", " ", regex=True).str.strip().str.casefold()


def map_values(col: pd.Series, rev: dict[str, str]) -> pd.Series:
    """Export values -> canonical ones: as listed, else regardless of case and spacing
    (HubSpot writes 'Closed won' where older exports wrote 'Closed Won'), unless the listed
    values that fold alike mean different things."""
    text = col.astype("string").str.strip()
    out = text.map(rev)
    if out.isna().any() and rev:
        keys = pd.Series(list(rev), dtype="string")
        folded = pd.DataFrame({"k": fold(keys), "v": list(rev.values())})
        same = folded.groupby("k")["v"].nunique()
        loose = folded[folded["k"].map(same) == 1].drop_duplicates("k")
        out = out.fillna(fold(text).map(dict(zip(loose["k"], loose["v"], strict=True))))
    return out
