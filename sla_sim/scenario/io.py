"""Load, save and validate scenarios; turn pydantic errors into one clear ScenarioError."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sla_sim.errors import MISSING, Issue, ScenarioError
from sla_sim.scenario.schema import Scenario

__all__ = ["dump_yaml", "load", "save", "set_path", "validate"]


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in {"constant", "exponential", "lognormal", "gamma", "uniform",
                      "triangular", "weibull", "empirical"}:
            continue  # the discriminated-union tag pydantic adds to locations
        else:
            out += f".{part}" if out else str(part)
    return out or "(scenario)"


def issues_from_validation_error(err: ValidationError, prefix: str = "") -> list[Issue]:
    """Flatten a pydantic ValidationError into Issues, unwrapping nested ScenarioErrors."""
    issues: list[Issue] = []
    for e in err.errors():
        inner = (e.get("ctx") or {}).get("error")
        base = _path(tuple(e["loc"]))
        if prefix:
            base = f"{prefix}.{base}" if base != "(scenario)" else prefix
        if isinstance(inner, ScenarioError):
            issues += inner.issues
            continue
        rule = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            rule = "unknown key (not a field of this section)"
        elif e["type"] == "missing":
            issues.append(Issue(base, "required field is missing", MISSING))
            continue
        issues.append(Issue(base, rule, e.get("input")))
    return issues


def validate(data: dict[str, Any] | Scenario, source: str | None = None) -> Scenario:
    """Validate a mapping (or re-validate a Scenario) and return a Scenario.

    Raises ScenarioError listing every problem, each with field path, rule and value.
    """
    if isinstance(data, Scenario):
        data = data.model_dump(mode="python")
    if not isinstance(data, dict):
        issue = Issue("(scenario)", "must be a mapping of fields", type(data).__name__)
        raise ScenarioError([issue], source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(issues_from_validation_error(err), source) from None


def load(path: str | Path) -> Scenario:
    """Read a scenario from a YAML, TOML or JSON file (by extension) and validate it."""
    p = Path(path)
    if not p.is_file():
        raise ScenarioError([Issue("file", "must be an existing scenario file", str(p))])
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        elif p.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ScenarioError([Issue("file", f"must be valid {p.suffix[1:] or 'yaml'}", first)],
                            str(p)) from None
    return validate(data if data is not None else {}, source=str(p))


def dump_yaml(scenario: Scenario) -> str:
    """The scenario as YAML with every field present."""
    data = scenario.model_dump(mode="json")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def save(scenario: Scenario, path: str | Path) -> Path:
    """Write a scenario to YAML (``.yaml``/``.yml``) or JSON (``.json``); returns the path."""
    p = Path(path)
    if p.suffix.lower() not in {".yaml", ".yml", ".json"}:
        raise ScenarioError([Issue("path", "scenario files are saved as .yaml, .yml or .json",
                                   str(p))])  # fmt: skip
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix.lower() == ".json":
        p.write_text(scenario.model_dump_json(indent=2), encoding="utf-8")
    else:
        p.write_text(dump_yaml(scenario), encoding="utf-8")
    return p


def set_path(scenario: Scenario, path: str, value: Any) -> Scenario:
    """A copy of the scenario with one field changed, by dotted path (``teams[0].reps``).

    List items may be named by index or by their ``name`` (``channels[paid].leads_per_month``).
    The result is fully re-validated; a bad path or value raises ScenarioError naming it.
    """
    data = scenario.model_dump(mode="python")
    node: Any = data
    parts = _split(path)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, dict):
            if part not in node:
                raise ScenarioError([Issue(path, "is not a scenario field", value)])
            if last:
                node[part] = value
            else:
                node = node[part]
        elif isinstance(node, list):
            idx = _index(node, part)
            if idx is None:
                raise ScenarioError([Issue(path, "names no item of that list", value)])
            if last:
                node[idx] = value
            else:
                node = node[idx]
        else:
            raise ScenarioError([Issue(path, "is not a scenario field", value)])
    return validate(data)


def _split(path: str) -> list[str]:
    parts: list[str] = []
    for chunk in path.replace("]", "").split("."):
        parts += [p for p in chunk.split("[") if p != ""]
    return parts


def _index(items: list[Any], key: str) -> int | None:
    if key.lstrip("-").isdigit():
        idx = int(key)
        return idx if -len(items) <= idx < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == key:
            return i
    return None
