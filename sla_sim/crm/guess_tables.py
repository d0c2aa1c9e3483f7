"""What ``crm map`` reads from the files before it drafts: their labels found in a header,
a sample of their values, which file is which table (the lead table first, an activity table
among the later files), and required columns the user renamed, guessed from their words and
values (never from a column of e-mail addresses)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import yaml

from sla_sim.crm.labels import matches
from sla_sim.crm.mapping import ACTIVITY_FIELDS, REQUIRED
from sla_sim.crm.read import RawTable, read_raw
from sla_sim.crm.tables import headerless
from sla_sim.crm.values import parse_times
from sla_sim.errors import MISSING, Issue, ScenarioError

__all__ = ["FORMATS", "activity_table", "by_words", "check_order", "distinct", "find", "sample",
           "unmapped"]

FORMATS: list[tuple[str, list[str]]] = [
    ("ISO 8601 (2025-12-31 16:05)", ["ISO8601"]),
    ("US (12/31/2025 4:05 PM or 12/31/2025)", ["%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M",
                                               "%m/%d/%Y"]),
    ("day first (31/12/2025 16:05 or 31/12/2025)", ["%d/%m/%Y %H:%M", "%d/%m/%Y %I:%M %p",
                                                    "%d/%m/%Y"]),
    ("day first with dots (31.12.2025 16:05)", ["%d.%m.%Y %H:%M", "%d.%m.%Y"]),
]

def find(labels: list[str], header: list[str]) -> str | None:
    """The header's column for the first label it holds (regardless of case, spacing and
    quote marks; a ``*`` pattern's first match), as a mapping reads it."""
    return next((hits[0] for c in labels if (hits := matches(c, header))), None)


def sample(raw: RawTable, n: int = 500) -> pd.DataFrame:
    if raw.data is None:
        return pd.read_parquet(raw.path).head(n).astype("string")
    try:
        return pd.read_csv(io.BytesIO(raw.data), dtype=str, nrows=n, keep_default_na=False,
                           sep=raw.sep)  # fmt: skip
    except (ValueError, OSError) as err:  # pandas' ParserError is a ValueError
        raise ScenarioError([Issue("export", "cannot be read as CSV: " + str(err).strip()[:200],
                                   str(raw.path))], source=f"export {raw.path.name}") from None


def distinct(raw: RawTable, col: str) -> list[str]:
    """Every value of a picklist column (the whole file: a sample could miss a stage)."""
    vals = raw.frame([col])[col].dropna().astype(str).str.strip()
    return sorted(set(vals) - {""})


_OTHER_OBJECT = r"opportun|deal|account|compan|campaign|owner|convert|case|contract|order"
_WORDS = {"lead_id": r"\bid\b|identifier|\bnumber\b|\bno\.?$",
          "created_at": r"creat", "channel": r"source|channel|origin|medium"}


def by_words(field: str, header: list[str], sample: pd.DataFrame, taken: set[str]
              ) -> str | None:  # fmt: skip
    """A column for a required field no known label names, from its header's words and its
    sampled values: an id unique and never blank, a creation date readable as a date, a
    channel with few distinct values."""
    for h in header:
        if h in taken or not re.search(_WORDS[field], h.strip().lower()):
            continue
        if field == "lead_id" and re.search(_OTHER_OBJECT, h.lower()):
            continue  # an opportunity's or an account's id is no lead's
        v = sample[h].astype("string").str.strip()
        if v.str.contains("@", regex=False).any():
            continue  # e-mail addresses: personal, and never a channel or a lead's id
        if field == "lead_id" and (v != "").all() and v.is_unique:
            return h
        if field == "created_at" and (v != "").any() and any(
                parse_times(v[v != ""], f, "UTC")[0].notna().all() for _, f in FORMATS):
            return h
        if field == "channel" and 0 < v[v != ""].nunique() <= 50:
            return h
    return None


def unmapped(text: str, lead_file: str | Path) -> list[Issue]:
    """The required fields a draft leaves unmapped (one issue naming the file's columns)."""
    cols = (yaml.safe_load(text) or {}).get("columns") or {}
    missing = [f for f in REQUIRED if f not in cols]
    if not missing:
        return []
    header = read_raw(lead_file).header
    if len(missing) == len(REQUIRED) and (line := headerless(header)):
        return [Issue("columns", f"the first line of {Path(lead_file).name} holds values, not"
                      f" column names ({line}): export it with its header row (a report's"
                      " 'Details Only' CSV; in a spreadsheet, keep row 1)", MISSING)]
    shown = ", ".join(header[:25]) + (f", ... ({len(header)} columns)" if len(header) > 25
                                      else "")  # fmt: skip
    return [Issue("columns", f"no column of {Path(lead_file).name} recognised for"
                  f" {', '.join(missing)} (its columns: {shown}): write the column that"
                  " holds each under columns in the draft", MISSING)]  # fmt: skip


def check_order(raws: list[RawTable], lead_labels: dict[str, list[str]],
                 join_labels: dict[str, list[str]]) -> None:  # fmt: skip
    """Refuse an opportunity table given first when a later file is the lead table (its
    opportunities would be read as the leads)."""
    def opp_like(r: RawTable) -> bool:
        return bool(find(join_labels.get("stage", []), r.header)
                    and find(join_labels.get("closed_at", []), r.header))  # fmt: skip

    def lead_like(r: RawTable) -> bool:  # a lead id and a creation date: an activity table
        return bool(find(lead_labels.get("lead_id", []), r.header)  # has the id, not the date
                    and find(lead_labels.get("created_at", []), r.header))  # fmt: skip

    first = raws[0]
    later = next((r for r in raws[1:] if lead_like(r) and not opp_like(r)), None)
    if later is not None and opp_like(first):
        raise ScenarioError([Issue("FILE", f"{first.path.name} looks like the opportunity (deal)"
                                   f" table and {later.path.name} like the lead (contact) table:"
                                   f" give the lead table first: sla-sim crm map"
                                   f" {later.path.name} {first.path.name}", MISSING)],
                            source="crm map")  # fmt: skip


_OUTCOME_WORDS = [("no_answer", r"no.?answer|voice.?mail|busy|no.?response|left.?message|"
                                r"unreach|not.?reached"),
                  ("email", r"e-?mail"),
                  ("reached", r"connect|reach|spoke|answered|meeting|conversation")]  # fmt: skip


def activity_table(raw: RawTable, labels: dict[str, list[str]], folder: Path,
                    data: dict[str, object], comments: list[str], on_command_line: list[str]
                    ) -> pd.Series | None:  # fmt: skip
    """Map ``raw`` as the activity table when it has a lead id and a date (its dates are
    returned for the date-format guess); else None."""
    acols = {k: h for k in ACTIVITY_FIELDS if (h := find(labels.get(k, []), raw.header))}
    if "activity_lead_id" not in acols or "activity_at" not in acols:
        return None
    data["columns"].update(acols)  # type: ignore[attr-defined]
    name = Path(raw.path).name
    if Path(raw.path).resolve().is_relative_to(folder.resolve()):
        data["activity_file"] = str(Path(raw.path).resolve().relative_to(folder.resolve()))
    else:
        on_command_line.append(f"--activities {raw.path}")
    comments.append(f"{name} read as the activity table ({acols['activity_lead_id']} is the"
                    " lead's id)")
    if "activity_outcome" in acols:
        sorted_: dict[str, list[str]] = {}
        left = []
        for v in distinct(raw, acols["activity_outcome"]):
            hit = next((o for o, pat in _OUTCOME_WORDS if re.search(pat, v.lower())), None)
            if hit:
                sorted_.setdefault(hit, []).append(v)
            else:
                left.append(v)
        data.setdefault("values", {})["activity_outcome"] = sorted_  # type: ignore[index]
        comments.append("values.activity_outcome sorted by their words (connected / no answer"
                        " / e-mail): check each" + (f"; not sorted, so refused until listed:"
                                                    f" {', '.join(left)}" if left else ""))
    return sample(raw)[acols["activity_at"]]
