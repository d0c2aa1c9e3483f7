"""``sla-sim crm map``: a draft mapping guessed from the headers and a sample of values.

The labels it knows are the shipped presets' own (Salesforce report labels and API names,
HubSpot contact and deal properties, the template's columns), so a label a preset reads is a
label ``crm map`` recognises. The first file is the lead table; a later file holding an
opportunity stage (or deal stage) and a close date is joined as the opportunity table. Date
formats are chosen from the sampled values, stage values are sorted into canonical stages by
their words, and every guess is written as a comment to check; every missing field is listed
with what it costs. No value of a name, e-mail or owner column is written.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import yaml

from sla_sim.crm.mapping import (
    ACTIVITY_FIELDS,
    COSTS,
    REQUIRED,
    TIMESTAMPS,
    candidates,
    load_mapping,
)
from sla_sim.crm.read import RawTable, read_raw
from sla_sim.crm.values import parse_times
from sla_sim.errors import MISSING, Issue, ScenarioError

__all__ = ["draft_mapping", "unmapped"]

_FORMATS: list[tuple[str, list[str]]] = [
    ("ISO 8601 (2025-12-31 16:05)", ["ISO8601"]),
    ("US (12/31/2025 4:05 PM or 12/31/2025)", ["%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M",
                                               "%m/%d/%Y"]),
    ("day first (31/12/2025 16:05 or 31/12/2025)", ["%d/%m/%Y %H:%M", "%d/%m/%Y"]),
    ("day first with dots (31.12.2025 16:05)", ["%d.%m.%Y %H:%M", "%d.%m.%Y"]),
]
LEAD_OPTIONAL = [f for f in COSTS if not f.startswith("activity") and f not in REQUIRED]
_STAGE_WORDS = [("won", r"won|customer|evangelist"), ("lost", r"lost"),
                ("disqualified", r"not converted|unqualified|disqualified|junk|^other$"),
                ("open", r".")]  # fmt: skip


def _known() -> tuple[dict[str, list[str]], dict[str, list[str]], list[str], list[str]]:
    """Lead-table labels, joined-table labels, join keys and left keys of the presets."""
    from sla_sim.crm.export import EXPORT_COLUMNS

    lead: dict[str, list[str]] = {}
    joined: dict[str, list[str]] = {}
    keys: list[str] = []
    lefts: list[str] = []
    for name in ("salesforce", "hubspot", "olist"):
        mp = load_mapping(f"preset:{name}")
        for k, v in mp.columns.items():
            lead.setdefault(k, []).extend(candidates(v))
        for j in mp.join:
            keys += candidates(j.key)
            lefts += candidates(j.left_key or j.key)
            for k, v in j.columns.items():
                joined.setdefault(k, []).extend(candidates(v))
    for k, v in EXPORT_COLUMNS.items():
        lead.setdefault(k, []).append(v)
    return lead, joined, keys, lefts


def _find(labels: list[str], header: list[str]) -> str | None:
    low = {h.strip().lower(): h for h in header}
    return next((low[c.lower()] for c in labels if c.lower() in low), None)


def _sample(raw: RawTable, n: int = 500) -> pd.DataFrame:
    if raw.data is None:
        return pd.read_parquet(raw.path).head(n).astype("string")
    try:
        return pd.read_csv(io.BytesIO(raw.data), dtype=str, nrows=n, keep_default_na=False,
                           sep=raw.sep)  # fmt: skip
    except (ValueError, OSError) as err:  # pandas' ParserError is a ValueError
        raise ScenarioError([Issue("export", "cannot be read as CSV: " + str(err).strip()[:200],
                                   str(raw.path))], source=f"export {raw.path.name}") from None


def _distinct(raw: RawTable, col: str) -> list[str]:
    """Every value of a picklist column (the whole file: a sample could miss a stage)."""
    vals = raw.frame([col])[col].dropna().astype(str).str.strip()
    return sorted(set(vals) - {""})


def _date_format(values: list[pd.Series]) -> tuple[list[str], str]:
    text = pd.concat([v[v.astype("string").str.strip() != ""] for v in values] or [
        pd.Series([], dtype="string")], ignore_index=True).astype("string")
    if not len(text):
        return ["ISO8601"], "no dates in the sample: ISO 8601 assumed"
    both = [(f"ISO 8601 and {label}", ["ISO8601", *fmts]) for label, fmts in _FORMATS[1:]]
    for label, fmts in _FORMATS + both:  # one format, else ISO beside one local format
        parsed, _ = parse_times(text, fmts, "UTC")
        if parsed.notna().all():
            note = f"dates read as {label}"
            if "US" in label and not text.str.match(r"^\d{1,2}/(1[3-9]|2\d|3[01])/"
                                                             ).fillna(False).any():
                note += "; no day above 12 in the sample: check it is not day first"
            return fmts, note
    return ["mixed"], ("no single date format fits the sample: 'mixed' (guessed per value;"
                       " 12/31/2025 month first, and a day-first value is refused)")


_OTHER_OBJECT = r"opportun|deal|account|compan|campaign|owner|convert|case|contract|order"
_WORDS = {"lead_id": r"\bid\b|identifier|\bnumber\b|\bno\.?$",
          "created_at": r"creat", "channel": r"source|channel|origin|medium"}


def _by_words(field: str, header: list[str], sample: pd.DataFrame, taken: set[str]
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
                parse_times(v[v != ""], f, "UTC")[0].notna().all() for _, f in _FORMATS):
            return h
        if field == "channel" and 0 < v[v != ""].nunique() <= 50:
            return h
    return None


def _stage_values(values: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for v in values:
        for stage, pattern in _STAGE_WORDS:
            if re.search(pattern, v.strip().lower()):
                out.setdefault(stage, []).append(v)
                break
    return out


def unmapped(text: str, lead_file: str | Path) -> list[Issue]:
    """The required fields a draft leaves unmapped (one issue naming the file's columns)."""
    cols = (yaml.safe_load(text) or {}).get("columns") or {}
    missing = [f for f in REQUIRED if f not in cols]
    if not missing:
        return []
    header = read_raw(lead_file).header
    shown = ", ".join(header[:25]) + (f", ... ({len(header)} columns)" if len(header) > 25
                                      else "")  # fmt: skip
    return [Issue("columns", f"no column of {Path(lead_file).name} recognised for"
                  f" {', '.join(missing)} (its columns: {shown}): write the column that"
                  " holds each under columns in the draft", MISSING)]  # fmt: skip


def _check_order(raws: list[RawTable], lead_labels: dict[str, list[str]],
                 join_labels: dict[str, list[str]]) -> None:  # fmt: skip
    """Refuse an opportunity table given first when a later file is the lead table (its
    opportunities would be read as the leads)."""
    def opp_like(r: RawTable) -> bool:
        return bool(_find(join_labels.get("stage", []), r.header)
                    and _find(join_labels.get("closed_at", []), r.header))  # fmt: skip

    def lead_like(r: RawTable) -> bool:
        return bool(_find(lead_labels.get("lead_id", []), r.header))

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


def _activity_table(raw: RawTable, labels: dict[str, list[str]], folder: Path,
                    data: dict[str, object], comments: list[str], on_command_line: list[str]
                    ) -> pd.Series | None:  # fmt: skip
    """Map ``raw`` as the activity table when it has a lead id and a date (its dates are
    returned for the date-format guess); else None."""
    acols = {k: h for k in ACTIVITY_FIELDS if (h := _find(labels.get(k, []), raw.header))}
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
        for v in _distinct(raw, acols["activity_outcome"]):
            hit = next((o for o, pat in _OUTCOME_WORDS if re.search(pat, v.lower())), None)
            if hit:
                sorted_.setdefault(hit, []).append(v)
            else:
                left.append(v)
        data.setdefault("values", {})["activity_outcome"] = sorted_  # type: ignore[index]
        comments.append("values.activity_outcome sorted by their words (connected / no answer"
                        " / e-mail): check each" + (f"; not sorted, so refused until listed:"
                                                    f" {', '.join(left)}" if left else ""))
    return _sample(raw)[acols["activity_at"]]


def draft_mapping(files: list[str | Path], folder: Path) -> tuple[str, list[str]]:
    """The draft mapping's YAML text (written in ``folder``) and the options to give on the
    command line (``--join FILE`` / ``--activities FILE``, for files outside ``folder``); see
    :func:`unmapped` for the required fields it could not map."""
    lead_labels, join_labels, keys, lefts = _known()
    raws = [read_raw(f) for f in files]
    lead = raws[0]
    _check_order(raws, lead_labels, join_labels)
    comments: list[str] = [f"Draft mapping for {Path(lead.path).name}, written by 'sla-sim crm"
                           " map'. Every guess below is marked: check it."]
    cols: dict[str, str] = {}
    for k, labels in lead_labels.items():
        if k.startswith("activity_"):
            continue
        hit = _find(labels, lead.header)
        if hit:
            cols[k] = hit
    data: dict[str, object] = {"columns": cols}
    samples = [_sample(lead)]
    for f in REQUIRED:
        if f not in cols and (hit := _by_words(f, lead.header, samples[0], set(cols.values()))):
            cols[f] = hit
            comments.append(f"{f}: no known label; guessed {hit!r} from its name and values:"
                            " check it")
    stage_vals: list[str] = []
    if "stage" in cols:
        stage_vals += _distinct(lead, cols["stage"])
    date_cols = [samples[0][cols[t]] for t in TIMESTAMPS if t in cols]
    opp = next((r for r in raws[1:] if _find(join_labels.get("stage", []), r.header)
                and _find(join_labels.get("closed_at", []), r.header)), None)  # fmt: skip
    on_command_line: list[str] = []
    if opp is not None:
        s = _sample(opp)
        jcols = {k: h for k, labels in join_labels.items() if (h := _find(labels, opp.header))}
        key, left = _find(keys, opp.header), _find(lefts, lead.header)
        if key and left:
            join: dict[str, object] = {"key": key, "columns": jcols}
            if left != key:
                join["left_key"] = left
            inside = Path(opp.path).resolve().is_relative_to(folder.resolve())
            if inside:
                join["file"] = str(Path(opp.path).resolve().relative_to(folder.resolve()))
            else:
                on_command_line.append(f"--join {opp.path}")
            data["join"] = [join]
            comments.append(f"{Path(opp.path).name} joined as the opportunity table on"
                            f" {left} = {key}; its fields are read from it only.")
            if "stage" in jcols:
                stage_vals += _distinct(opp, jcols["stage"])
            date_cols += [s[jcols[t]] for t in TIMESTAMPS if t in jcols]
        else:
            comments.append(f"{Path(opp.path).name} looks like an opportunity table but no join"
                            " key was recognised: add join: [{key: ..., left_key: ...}]")
    for r in raws[1:]:
        if r is opp:
            continue
        dates = _activity_table(r, lead_labels, folder, data, comments, on_command_line)
        if dates is not None:
            date_cols.append(dates)
            continue
        comments.append(f"NOT USED: {Path(r.path).name} is neither an opportunity table (a"
                        " stage and a close date) nor an activity table (a lead id and a date)"
                        " the presets know: map it by hand or leave it out")  # fmt: skip
    fmts, note = _date_format(date_cols)
    data["date_format"] = fmts
    comments.append(note)
    if stage_vals:
        data.setdefault("values", {})["stage"] = _stage_values(  # type: ignore[index]
            list(dict.fromkeys(stage_vals)))
        comments.append("values.stage sorted by their words (won / lost / not converted...):"
                        " check each, an unlisted value is refused")
    if "amount" in cols or (opp is not None and "join" in data):
        comments.append("money strings such as $12,345.00 are read as numbers")
    for r in raws:
        for what in r.messages:
            comments.append(f"note: {what}")
    data["timezone"] = "UTC"
    comments.append("timezone: UTC assumed for times without an offset: set the zone the"
                    " CRM wrote them in (e.g. America/New_York)")
    comments.append("exported_at: not set, the latest observed event is used (printed by"
                    " every command); set it to the download time if you know it")
    mapped = set(cols) | {k for j in data.get("join", []) for k in j["columns"]}  # type: ignore[union-attr]
    missing = [f for f in REQUIRED if f not in cols]
    for f in missing:
        comments.append(f"REQUIRED {f}: no column recognised; map it under columns")
    for f, (metrics, params) in COSTS.items():
        if f in LEAD_OPTIONAL and f not in mapped:
            comments.append(f"missing {f}: costs {metrics}; parameters kept: {params}")
    head = "".join(f"# {c}\n" for c in comments)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return head + body, on_command_line
