"""The mapping file: which export column holds each canonical field, and how to read it.

A CRM export is read through a YAML mapping::

    columns: {lead_id: "Lead ID", created_at: [Created Date, CreatedDate], channel: ...}
    values:  {stage: {won: ["Closed Won"], lost: ["Closed Lost"], open: ["Open"]}}
    timezone: America/New_York        # of naive timestamps in the export
    date_format: ['%m/%d/%Y %I:%M %p', '%m/%d/%Y']   # tried in order (sla_sim.crm.values)
    exported_at: 2025-07-01T00:00:00  # the censoring instant (default: latest observed event)
    join: [{key: Opportunity ID, left_key: Converted Opportunity ID,
            columns: {opportunity_opened_at: Created Date, closed_at: Close Date}}]
    calendar: {working_days: [0,1,2,3,4], start_hour: 9, end_hour: 17, holidays: []}

A column may be a list of alternative labels (the first one the file has is read), so one
mapping reads a report's labels and the API's field names; a label with ``*`` is a pattern,
and a field listed under ``earliest`` reads every column its labels name, keeping the earliest
date per row (:mod:`sla_sim.crm.labels`). A joined table's fields are mapped
under its own ``columns`` and read from that table only; where a lead has a joined row, its
value wins over the lead table's for a field both map (e.g. the opportunity's stage over the
lead status). Relative ``join[].file`` and ``activity_file`` paths are resolved from the
mapping file's folder and may not leave it (a path given on the command line may).

Only ``lead_id``, ``created_at`` and ``channel`` are required; :data:`COSTS` says what each
missing field costs (which metrics and which calibrated parameters). Presets for common exports
ship as package data (:func:`preset_names`, ``--map preset:NAME``).
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from sla_sim._base import Spec
from sla_sim.calendar import CalendarSpec
from sla_sim.crm.values import check_date_format, check_date_orders
from sla_sim.errors import Issue, ScenarioError

__all__ = [
    "ACTIVITY_FIELDS",
    "COSTS",
    "LEAD_FIELDS",
    "OUTCOMES",
    "REQUIRED",
    "STAGES",
    "TIMESTAMPS",
    "CrmMapping",
    "candidates",
    "load_mapping",
    "preset_names",
]

# canonical fields of the lead table
IDS = ("lead_id", "created_at", "channel", "segment", "owner", "team", "score")
TIMESTAMPS = ("created_at", "mql_at", "routed_at", "assigned_at", "first_touch_at", "sql_at",
              "disqualified_at", "recycled_at", "opportunity_opened_at", "closed_at")  # fmt: skip
OUTCOME_FIELDS = ("stage", "amount", "opportunity_owner", "is_won", "is_closed")
LEAD_FIELDS = tuple(dict.fromkeys((*IDS, *TIMESTAMPS, *OUTCOME_FIELDS)))
# canonical fields of the activity table
ACTIVITY_FIELDS = ("activity_lead_id", "activity_at", "activity_outcome", "activity_owner",
                   "activity_duration_minutes")  # fmt: skip
REQUIRED = ("lead_id", "created_at", "channel")
# canonical stage and activity-outcome values
STAGES = ("open", "won", "lost", "disqualified", "expired")
OUTCOMES = ("reached", "no_answer", "email")

# What a missing field costs: the metrics it makes unmeasurable and the parameters it leaves at
# the base scenario's value. Reported by ``measure`` and ``calibrate``.
COSTS: dict[str, tuple[str, str]] = {
    "segment": ("nothing (one segment)", "segment mix"),
    "owner": ("per-owner breakdown", "SDR headcount (unless activity owners exist)"),
    "team": ("per-team breakdown (one team)", "-"),
    "score": ("-", "score distribution"),
    "mql_at": ("lead_to_mql_rate (every lead counts as an MQL at created_at)", "MQL share"),
    "routed_at": ("handoff clause", "handoff ops delay"),
    "assigned_at": ("first touch from assignment, SDR queue", "-"),
    "first_touch_at": ("first-touch clause, response times (unless activities exist)",
                       "first-touch delay"),
    "sql_at": ("sqls, acceptance rate, disposition clause", "SQL rate"),
    "disqualified_at": ("disqualified count, acceptance rate", "disqualify share"),
    "recycled_at": ("recycled count", "-"),
    "opportunity_opened_at": ("opportunities, cycle length, AE load", "cycle length"),
    "closed_at": ("wins, losses, revenue, cycle length", "win rate, cycle length"),
    "stage": ("wins and losses (unless closed_means or is_won/is_closed is set)",
              "win rate"),
    "amount": ("revenue", "deal value"),
    "opportunity_owner": ("-", "AE headcount"),
    "activity table": ("attempts clause, contact, SDR utilisation", "contact decay,"
                       " SDR working hours"),
    "activity_outcome": ("contact (attempts clause counts attempts only)", "contact decay"),
    "activity_owner": ("-", "SDR headcount from activities"),
    "activity_duration_minutes": ("SDR utilisation", "attempt minutes"),
}  # fmt: skip


Columns = str | list[str]


def candidates(value: Columns) -> list[str]:
    """The labels a mapped column may have, in order of preference."""
    return [value] if isinstance(value, str) else list(value)


class JoinSpec(Spec):
    """A second table merged into the lead table (left join on a key), e.g. opportunities."""

    file: str | None = Field(default=None, description="Path of the table (CSV or Parquet),"
                             " relative to the mapping file; or given with --join FILE.")
    key: Columns = Field(description="Key column of the joined table (and of the lead table"
                         " unless left_key is set).")
    left_key: Columns | None = Field(default=None, description="Key column of the lead table,"
                                     " if it differs (e.g. Converted Opportunity ID).")
    columns: dict[str, Columns] = Field(
        default_factory=dict, description="Canonical field -> column of this table (read from"
        " this table only; its value wins where the lead has a joined row).")
    latest: list[str] = Field(
        default_factory=list, description="Timestamp fields of this table read from every"
        " column their labels name, keeping per row the latest date (a deal's last close: one"
        " lost, reopened and won is closed when it was won); they win over `earliest` here.",
    )


class CrmMapping(Spec):
    """How to read one CRM export (see the module docstring)."""

    columns: dict[str, Columns] = Field(description="Canonical field -> export column name"
                                        " (or a list of alternative names).")
    values: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict,
        description="Canonical value -> export values, for 'stage' (open, won, lost,"
        " disqualified, expired) and 'activity_outcome' (reached, no_answer, email).",
    )
    timezone: str = Field(default="UTC", description="IANA zone of naive timestamps.")
    exported_at: dt.datetime | None = Field(
        default=None, description="Censoring instant (naive: in `timezone`); default: the"
        " latest observed event of the export (never an expected close date), printed.",
    )
    created_until: dt.datetime | None = Field(
        default=None, description="End of the window the leads were drawn from, if the export"
        " is a sample of leads created before it (naive: in `timezone`); volumes are measured"
        " up to it. Default: exported_at.",
    )
    calendar: CalendarSpec | None = Field(
        default=None, description="Working calendar of the sales team (its timezone defaults"
        " to `timezone`). Default: Monday-Friday 09:00-17:00.",
    )
    date_format: str | list[str] = Field(
        default="ISO8601", description="How dates are written: ISO8601, mixed (guessed per"
        " value), a strftime format such as '%m/%d/%Y %I:%M %p', or a list of formats tried"
        " in order, e.g. ['%m/%d/%Y %I:%M %p', '%m/%d/%Y'].",
    )
    missing_columns: Literal["error", "skip"] = Field(
        default="error", description="An optional field whose column the file lacks: an"
        " error (default), or skipped with what it costs listed (presets for downloads whose"
        " columns vary).",
    )
    closed_means: Literal["won", "lost"] | None = Field(
        default=None, description="With no stage column: a lead with closed_at is won (or"
        " lost); e.g. a table of closed deals.",
    )
    out_of_order: Literal["error", "count"] = Field(
        default="error", description="Events out of order: an error (default), or counted as"
        " incomplete with the offending timestamp dropped (for a known slip in real data).",
    )
    join: list[JoinSpec] = Field(default_factory=list, description="Tables joined to the leads.")
    earliest: list[str] = Field(
        default_factory=list, description="Timestamp fields read from every column their"
        " labels name (a `*` pattern's every match, e.g. one per deal pipeline; a legacy and a"
        " current label), keeping per row the earliest date; other fields read the first"
        " label the file holds.",
    )
    activity_file: str | None = Field(
        default=None, description="Activity table, relative to the export (or --activities)."
    )
    _folder: Path | None = PrivateAttr(default=None)  # of the mapping file (None: a preset)
    salt: str = Field(
        default="", description="Salt of owner pseudonyms; empty: a fresh random salt per run"
        " (pseudonyms then differ between runs).",
    )
    segment_default: str = Field(default="all", description="Segment when none is mapped.")
    team_default: str = Field(default="sdr", description="Team when none is mapped.")

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, value: str | list[str]) -> str | list[str]:
        for fmt in candidates(value):
            check_date_format(fmt)
        if not candidates(value):
            raise ValueError("must name at least one format")
        check_date_orders(candidates(value))
        return value

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, Columns]) -> dict[str, Columns]:
        known = set(LEAD_FIELDS) | set(ACTIVITY_FIELDS)
        unknown = [k for k in value if k not in known]
        if unknown:
            raise ValueError(f"unknown canonical field(s) {unknown}; known: {sorted(known)}")
        missing = [k for k in REQUIRED if k not in value]
        if missing:
            raise ValueError(f"the required field(s) {missing} are not mapped")
        return value

    @field_validator("values")
    @classmethod
    def _known_values(cls, value: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
        allowed = {"stage": STAGES, "activity_outcome": OUTCOMES}
        for fld, table in value.items():
            if fld not in allowed:
                raise ValueError(f"values for {fld!r}: only 'stage' and 'activity_outcome'")
            bad = [k for k in table if k not in allowed[fld]]
            if bad:
                raise ValueError(f"values.{fld}: unknown canonical value(s) {bad};"
                                 f" allowed: {list(allowed[fld])}")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time-zone name such as 'Europe/London'") from None
        return value

    @model_validator(mode="after")
    def _stage_values(self) -> CrmMapping:
        if self.has("stage") and "stage" not in self.values:
            raise ValueError("'stage' is mapped but values.stage does not list its values")
        bad_early = [k for k in self.earliest if k not in TIMESTAMPS or not self.has(k)]
        if bad_early:
            raise ScenarioError([Issue("earliest", f"must list mapped timestamp fields (of"
                                       f" {list(TIMESTAMPS)}, under columns or a join's"
                                       " columns)", bad_early)])  # fmt: skip
        for i, j in enumerate(self.join):
            bad = [k for k in j.columns if k not in LEAD_FIELDS or k == "lead_id"]
            if bad:
                raise ValueError(f"join[{i}].columns: {bad} are not lead fields that a joined"
                                 f" table can hold")
            late = [k for k in j.latest if k not in TIMESTAMPS or k not in j.columns]
            if late:
                raise ScenarioError([Issue(f"join[{i}].latest", f"must list timestamp fields of"
                                           f" join[{i}].columns (of {list(TIMESTAMPS)})",
                                           late)])  # fmt: skip
        return self

    # ------------------------------------------------------------------ helpers
    def team_calendar(self) -> CalendarSpec:
        """The working calendar, in the mapping's zone unless the calendar names one."""
        if self.calendar is None:
            return CalendarSpec(timezone=self.timezone)
        if "timezone" not in self.calendar.model_fields_set:
            return self.calendar.model_copy(update={"timezone": self.timezone})
        return self.calendar

    def has(self, field: str) -> bool:
        """Whether a canonical field is mapped (in the lead table or a joined table)."""
        return field in self.columns or any(field in j.columns for j in self.join)

    def reverse_values(self, field: str) -> dict[str, str]:
        """Export value -> canonical value for ``stage`` or ``activity_outcome``."""
        return {v: k for k, vs in self.values.get(field, {}).items() for v in vs}

    def missing_costs(self, has_activities: bool, present: set[str] | None = None
                      ) -> list[dict[str, str]]:  # fmt: skip
        """What each optional field that is not read costs (metrics and parameters).

        ``present``: the fields actually read (default: the mapped ones)."""
        out = []
        for f, (metrics, params) in COSTS.items():
            if f == "activity table":
                absent = not has_activities
            elif f.startswith("activity_"):
                absent = has_activities and f not in (self.columns if present is None
                                                      else present)  # fmt: skip
            else:
                absent = not self.has(f) if present is None else f not in present
            if (f == "stage" and self.closed_means) or (f == "first_touch_at"
                                                        and has_activities):
                absent = False
            if absent:
                out.append({"field": f, "metrics": metrics, "parameters": params})
        return out


def preset_names() -> list[str]:
    """Names of the mapping presets shipped with sla_sim (``--map preset:NAME``)."""
    files = resources.files("sla_sim.crm").joinpath("presets")
    return sorted(p.name.removesuffix(".yaml") for p in files.iterdir()
                  if p.name.endswith(".yaml"))  # fmt: skip


def preset_text(name: str) -> str:
    """The YAML text of a shipped mapping preset."""
    if name not in preset_names():
        raise ScenarioError([Issue("--map", f"preset must be one of {', '.join(preset_names())}",
                                   name)], source="mapping")  # fmt: skip
    return resources.files("sla_sim.crm").joinpath("presets", f"{name}.yaml").read_text()


def load_mapping(source: str | Path | dict[str, Any] | CrmMapping) -> CrmMapping:
    """A validated mapping from a YAML file, ``preset:NAME``, a dict or a mapping.

    Problems are one :class:`ScenarioError` naming each field, rule and value.
    """
    if isinstance(source, CrmMapping):
        return source
    label = "mapping"
    if isinstance(source, dict):
        data: Any = source
    else:
        text_src = str(source)
        if text_src.startswith("preset:"):
            label = f"mapping {text_src}"
            text = preset_text(text_src.removeprefix("preset:"))
        else:
            path = Path(text_src)
            label = f"mapping {path.name}"
            if not path.is_file():
                rule = "is a folder, not a mapping file" if path.is_dir() else "file not found"
                raise ScenarioError([Issue("--map", rule, text_src)], source=label)
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as err:
                raise ScenarioError([Issue(
                    "(mapping)", f"is not UTF-8 (byte 0x{raw[err.start]:02x} at offset"
                    f" {err.start}): save the mapping file as UTF-8", text_src)],
                    source=label) from None  # fmt: skip
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:  # one line: the problem and where (it printed 4 lines)
            mark = getattr(err, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise ScenarioError([Issue("(mapping)", f"not valid YAML{where}: {problem}",
                                       str(source))], source=label) from None  # fmt: skip
        except ValueError as err:  # a date that does not exist (2026-13-01) was a traceback
            raise ScenarioError([Issue("(mapping)", f"holds a date that does not exist ({err})",
                                       str(source))], source=label) from None  # fmt: skip
    if not isinstance(data, dict):
        raise ScenarioError([Issue("(mapping)", "must be a YAML mapping of sections",
                                   type(data).__name__)], source=label)  # fmt: skip
    try:
        mp = CrmMapping.model_validate(data)
    except ValidationError as err:
        from sla_sim.scenario.io import issues_from_validation_error

        raise ScenarioError(issues_from_validation_error(err, model=CrmMapping),
                            source=label) from None
    if not isinstance(source, dict) and not str(source).startswith("preset:"):
        mp._folder = Path(str(source)).resolve().parent
    return mp
