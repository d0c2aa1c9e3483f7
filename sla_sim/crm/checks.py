"""Checks shared by the lead and activity tables of an export: problems collected per row
(the first :data:`MAX_LISTED` listed), present values, dates in the future, owner pseudonyms,
and export values mapped to canonical ones."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from sla_sim.errors import Issue, ScenarioError

__all__ = ["FUTURE", "MAX_LISTED", "Problems", "fold", "future", "map_values", "present",
           "pseudonym", "pseudonyms"]

MAX_LISTED = 20


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
    """Collects issues; counts every one, keeps the first MAX_LISTED per kind in row order."""

    def __init__(self) -> None:
        self.items: list[tuple[int, int, Issue]] = []
        self.total = 0

    def add_mask(self, table: str, col: str, mask: np.ndarray, values: pd.Series,
                 rule: str, order: int) -> None:  # fmt: skip
        idx = np.flatnonzero(mask)
        self.total += len(idx)
        for i in idx[:MAX_LISTED]:
            v = values.iloc[i]
            self.items.append((int(i), order, Issue(f"{table} row {i + 1}, column {col!r}",
                                                    rule, None if pd.isna(v) else str(v))))

    def raise_if_any(self, label: str) -> None:
        if not self.total:
            return
        self.items.sort(key=lambda x: (x[0], x[1]))
        shown = [it for _, _, it in self.items[:MAX_LISTED]]
        if self.total > len(shown):
            shown.append(Issue("export", f"{self.total - len(shown)} more problem(s) not listed",
                               self.total))  # fmt: skip
        raise ScenarioError(shown, source=f"export {label}")


FUTURE = ("is in the future (after today, UTC): no export can have recorded it (a typo? if"
          " the export is a plan or a simulation, set exported_at in the mapping)")


def future(ts: pd.Series) -> np.ndarray:
    """Timestamps after the end of today (UTC): not observed by any export made until now."""
    end = pd.Timestamp.now(tz="UTC").normalize() + pd.Timedelta(days=1)
    return (ts >= end).to_numpy(bool)


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
