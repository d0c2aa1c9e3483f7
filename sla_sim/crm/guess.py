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

import re
from pathlib import Path

import pandas as pd
import yaml

from sla_sim.crm.guess_tables import (
    FORMATS,
    activity_table,
    by_words,
    check_order,
    distinct,
    find,
    sample,
    unmapped,
)
from sla_sim.crm.labels import named
from sla_sim.crm.mapping import (
    COSTS,
    REQUIRED,
    TIMESTAMPS,
    candidates,
    load_mapping,
)
from sla_sim.crm.read import read_raw
from sla_sim.crm.values import parse_times

__all__ = ["draft_mapping", "unmapped"]

LEAD_OPTIONAL = [f for f in COSTS if not f.startswith("activity") and f not in REQUIRED]
_STAGE_WORDS = [("won", r"won|customer|evangelist"), ("lost", r"lost"),
                ("disqualified", r"not converted|unqualified|disqualified|junk|^other$"),
                ("open", r".")]  # fmt: skip


Labels = dict[str, list[str]]


def _known() -> tuple[Labels, Labels, list[str], list[str], tuple[Labels, Labels, Labels]]:
    """Lead-table labels, joined-table labels, join keys and left keys of the presets, and
    the lead and joined labels of the fields a preset reads under ``earliest``, and the joined
    labels of those a join reads under ``latest``."""
    from sla_sim.crm.export import EXPORT_COLUMNS

    lead: Labels = {}
    joined: Labels = {}
    early: tuple[Labels, Labels, Labels] = ({}, {}, {})
    keys: list[str] = []
    lefts: list[str] = []
    for name in ("salesforce", "hubspot", "olist"):
        mp = load_mapping(f"preset:{name}")
        for k, v in mp.columns.items():
            lead.setdefault(k, []).extend(candidates(v))
            if k in mp.earliest:
                early[0].setdefault(k, []).extend(candidates(v))
        for j in mp.join:
            keys += candidates(j.key)
            lefts += candidates(j.left_key or j.key)
            for k, v in j.columns.items():
                joined.setdefault(k, []).extend(candidates(v))
                if k in j.latest:
                    early[2].setdefault(k, []).extend(candidates(v))
                elif k in mp.earliest:
                    early[1].setdefault(k, []).extend(candidates(v))
    for k, v in EXPORT_COLUMNS.items():
        lead.setdefault(k, []).append(v)
    return lead, joined, keys, lefts, early


def _earliest(cols: dict[str, str | list[str]], early: Labels, header: list[str],
              earliest: set[str], comments: list[str], file: str,
              which: str = "earliest") -> None:  # fmt: skip
    """Fields a preset reads under ``earliest`` (``which``: or a join's ``latest``) whose
    labels name several columns of the header (a legacy and a current HubSpot date, one per
    deal pipeline): every one, listed."""
    for k, labels in early.items():
        hits = named(labels, header, every=True)
        if k in cols and len(hits) > 1:
            cols[k] = hits
            earliest.add(k)
            comments.append(f"{k}: {len(hits)} columns of {file} ({', '.join(hits)}), the"
                            f" {which} date of a row read ({which})")


def _date_format(values: list[pd.Series]) -> tuple[list[str], str]:
    text = pd.concat([v[v.astype("string").str.strip() != ""] for v in values] or [
        pd.Series([], dtype="string")], ignore_index=True).astype("string")
    if not len(text):
        return ["ISO8601"], "no dates in the sample: ISO 8601 assumed"
    both = [(f"ISO 8601 and {label}", ["ISO8601", *fmts]) for label, fmts in FORMATS[1:]]
    for label, fmts in FORMATS + both:  # one format, else ISO beside one local format
        parsed, _ = parse_times(text, fmts, "UTC")
        if parsed.notna().all():
            note = f"dates read as {label}"
            if "US" in label and not text.str.match(r"^\d{1,2}/(1[3-9]|2\d|3[01])/"
                                                             ).fillna(False).any():
                note += "; no day above 12 in the sample: check it is not day first"
            return fmts, note
    return ["mixed"], ("no single date format fits the sample: 'mixed' (guessed per value;"
                       " 12/31/2025 month first, and a day-first value is refused)")


def _stage_values(values: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for v in values:
        for stage, pattern in _STAGE_WORDS:
            if re.search(pattern, v.strip().lower()):
                out.setdefault(stage, []).append(v)
                break
    return out


def draft_mapping(files: list[str | Path], folder: Path) -> tuple[str, list[str]]:
    """The draft mapping's YAML text (written in ``folder``) and the options to give on the
    command line (``--join FILE`` / ``--activities FILE``, for files outside ``folder``); see
    :func:`unmapped` for the required fields it could not map."""
    lead_labels, join_labels, keys, lefts, early = _known()
    raws = [read_raw(f) for f in files]
    lead = raws[0]
    check_order(raws, lead_labels, join_labels)
    comments: list[str] = [f"Draft mapping for {Path(lead.path).name}, written by 'sla-sim crm"
                           " map'. Every guess below is marked: check it."]
    cols: dict[str, str | list[str]] = {}
    for k, labels in lead_labels.items():
        if k.startswith("activity_"):
            continue
        hit = find(labels, lead.header)
        if hit:
            cols[k] = hit
    earliest: set[str] = set()
    _earliest(cols, early[0], lead.header, earliest, comments, Path(lead.path).name)
    data: dict[str, object] = {"columns": cols}
    samples = [sample(lead)]
    for f in REQUIRED:
        if f not in cols and (hit := by_words(f, lead.header, samples[0], set(cols.values()))):
            cols[f] = hit
            comments.append(f"{f}: no known label; guessed {hit!r} from its name and values:"
                            " check it")
    stage_vals: list[str] = []
    if "stage" in cols:
        stage_vals += distinct(lead, str(cols["stage"]))
    date_cols = [samples[0][c] for t in TIMESTAMPS if t in cols for c in candidates(cols[t])]
    opp = next((r for r in raws[1:] if find(join_labels.get("stage", []), r.header)
                and find(join_labels.get("closed_at", []), r.header)), None)  # fmt: skip
    on_command_line: list[str] = []
    if opp is not None:
        s = sample(opp)
        jcols: dict[str, str | list[str]] = {
            k: h for k, labels in join_labels.items() if (h := find(labels, opp.header))}
        _earliest(jcols, early[1], opp.header, earliest, comments, Path(opp.path).name)
        late: set[str] = set()  # a deal's last close: the latest of its close dates
        _earliest(jcols, early[2], opp.header, late, comments, Path(opp.path).name, "latest")
        key, left = find(keys, opp.header), find(lefts, lead.header)
        if key and left:
            join: dict[str, object] = {"key": key, "columns": jcols}
            if late:
                join["latest"] = [t for t in TIMESTAMPS if t in late]
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
                stage_vals += distinct(opp, str(jcols["stage"]))
            date_cols += [s[c] for t in TIMESTAMPS if t in jcols for c in candidates(jcols[t])]
        else:
            comments.append(f"{Path(opp.path).name} looks like an opportunity table but no join"
                            " key was recognised: add join: [{key: ..., left_key: ...}]")
    for r in raws[1:]:
        if r is opp:
            continue
        dates = activity_table(r, lead_labels, folder, data, comments, on_command_line)
        if dates is not None:
            date_cols.append(dates)
            continue
        comments.append(f"NOT USED: {Path(r.path).name} is neither an opportunity table (a"
                        " stage and a close date) nor an activity table (a lead id and a date)"
                        " the presets know: map it by hand or leave it out")  # fmt: skip
    if earliest:
        data["earliest"] = [t for t in TIMESTAMPS if t in earliest]
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
