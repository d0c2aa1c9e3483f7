"""Load, save and validate scenarios; turn pydantic errors into one clear ScenarioError."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sla_sim.errors import MISSING, Issue, ScenarioError
from sla_sim.scenario.reading import raw_issues, read_data, runnable_issues
from sla_sim.scenario.schema import Scenario

__all__ = ["apply_assignments", "diff", "dump_yaml", "expand_base", "file_on_the_way",
           "load", "parse_assignment", "save", "set_path", "validate"]


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


def issues_from_validation_error(err: ValidationError, prefix: str = "",
                                 model: type[BaseModel] | None = None) -> list[Issue]:
    """Flatten a pydantic ValidationError into Issues, unwrapping nested ScenarioErrors; an
    unknown key gets the nearest fields of its section in ``model`` (the validated class)."""
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
            rule = "unknown key (not a field of this section)" + _suggest(
                str(e["loc"][-1]), _fields_at(model, tuple(e["loc"][:-1])))
        elif e["type"] == "missing":
            issues.append(Issue(base, "required field is missing", MISSING))
            continue
        issues.append(Issue(base, rule, e.get("input")))
    return issues


def _suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean first_touch_within_business_hours?)`` for a misspelt or shortened
    field name, else ``""``."""
    import difflib

    names = [str(c) for c in choices]
    near = difflib.get_close_matches(word, names, n=3, cutoff=0.75)
    near += [n for n in names if word and n.startswith(word) and n not in near]
    return f" (did you mean {', '.join(near[:3])}?)" if near else ""


def _fields_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str]:
    """The field names of the section of ``model`` at ``loc`` (a validation error's location,
    list indexes skipped); [] where the walk leaves the models (a free mapping, a union)."""
    import typing

    cls = model
    for part in loc:
        if cls is None:
            return []
        if isinstance(part, int):
            continue
        field = cls.model_fields.get(str(part))
        if field is None:
            return []
        todo, cls = [field.annotation], None
        while todo and cls is None:  # list[X], X | None, Annotated[X, ...] down to a model
            t = todo.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                cls = t
            elif typing.get_origin(t) is not dict:
                todo += list(typing.get_args(t))
    return list(cls.model_fields) if cls is not None else []


def validate(data: dict[str, Any] | Scenario, source: str | None = None) -> Scenario:
    """Validate a mapping (or re-validate a Scenario) and return a Scenario.

    Raises ScenarioError listing every problem, each with field path, rule and value.
    """
    if isinstance(data, Scenario):
        data = data.model_dump(mode="python")
    if not isinstance(data, dict):
        issue = Issue("(scenario)", "must be a mapping of fields", type(data).__name__)
        raise ScenarioError([issue], source)
    data = expand_base(data, source)
    if bad := raw_issues(data):  # .inf / .nan: named as such, not as a range rule
        raise ScenarioError(bad, source)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(issues_from_validation_error(err, model=Scenario), source) from None
    if bad := runnable_issues(data, scenario):
        raise ScenarioError(bad, source)
    return scenario


def load(path: str | Path) -> Scenario:
    """Read a scenario from a YAML, TOML or JSON file (by extension) and validate it."""
    if not isinstance(path, str | os.PathLike) or not str(path).strip():  # None, "", 3
        raise ScenarioError([Issue("file", "must be the path of a scenario file", path)])
    p = Path(path)
    if not p.is_file():
        raise ScenarioError([Issue("file", "must be an existing scenario file", str(p))])
    data = read_data(p)  # size cap, UTF-8, no duplicate keys, bounded nesting and aliases
    return validate(data if data is not None else {}, source=str(p))


def dump_yaml(scenario: Scenario) -> str:
    """The scenario as YAML with every field present."""
    data = scenario.model_dump(mode="json")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def save(scenario: Scenario, path: str | Path) -> Path:
    """Write a scenario to YAML (``.yaml``/``.yml``) or JSON (``.json``); returns the path."""
    if not isinstance(scenario, Scenario):  # a dict was an AttributeError
        raise ScenarioError([Issue("scenario", "must be a Scenario (from preset(),"
                                   " load_scenario() or Scenario.model_validate(dict))",
                                   type(scenario).__name__)])  # fmt: skip
    p = Path(path)
    if p.suffix.lower() not in {".yaml", ".yml", ".json"}:
        raise ScenarioError([Issue("path", "scenario files are saved as .yaml, .yml or .json",
                                   str(p))])  # fmt: skip
    if p.is_dir():
        raise ScenarioError([Issue("path", "is a folder, not a file", str(p))])
    if blocker := file_on_the_way(p):
        raise ScenarioError([Issue("path", f"cannot be written: {blocker} is a file, not a"
                                   " folder", str(p))])  # fmt: skip
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix.lower() == ".json":
        p.write_text(scenario.model_dump_json(indent=2), encoding="utf-8")
    else:
        p.write_text(dump_yaml(scenario), encoding="utf-8")
    return p


def file_on_the_way(path: str | Path) -> Path | None:
    """The existing ancestor of ``path`` that is not a folder (nothing can be written under
    it), if any: the scenario's ``save`` and every command's ``--out`` / ``--store`` refuse
    such a path before writing."""
    for up in reversed(Path(path).parents):
        if up.exists() and not up.is_dir():
            return up
    return None


def set_path(scenario: Scenario, path: str, value: Any) -> Scenario:
    """A copy of the scenario with one field changed, by dotted path (``teams[0].reps``).

    List items may be named by index or by their ``name`` (``channels[paid].leads_per_month``).
    The result is fully re-validated; a bad path or value raises ScenarioError naming it.
    """
    data = scenario.model_dump(mode="python")
    _assign(data, path, value)
    return validate(data)


def canonical_path(scenario: Scenario, path: str) -> str:
    """The path of the field ``path`` names, list items by index (``teams[sdr].reps`` ->
    ``teams[0].reps``); ``path`` itself when it names no field (its use says so)."""
    try:
        return _assign(scenario.model_dump(mode="python"), path, None)
    except ScenarioError:
        return path


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


# ------------------------------------------------------------------ overrides, bases, diffs
def parse_assignment(text: str, option: str = "--set") -> tuple[str, Any]:
    """``PATH=VALUE`` -> (path, value). The value is read as YAML: ``12`` is a number,
    ``[0, 1, 3]`` a list, ``null`` None, ``'12'`` a string; anything else a string."""
    path, sep, raw = text.partition("=")
    path = path.strip()
    if not sep or not path:
        raise ScenarioError([Issue(option, "must be PATH=VALUE (e.g. teams[sdr].reps=12)",
                                   text)])  # fmt: skip
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except (yaml.YAMLError, ValueError):  # ValueError: 2026-13-01, a date that does not exist
        value = raw.strip()  # (a traceback); as text, the field's own rule names it
    return path, value


def apply_assignments(scenario: Scenario, assignments: Iterable[str | tuple[str, Any]],
                      option: str = "--set") -> Scenario:  # fmt: skip
    """The scenario with every ``PATH=VALUE`` (or ``(path, value)``) applied in order, fully
    re-validated once. Every bad path or value is reported at once, naming the path."""
    data = scenario.model_dump(mode="python")
    issues: list[Issue] = []
    given: dict[str, str] = {}  # canonical path (teams[0].reps) -> the path as given
    for item in assignments:
        path, value = parse_assignment(item, option) if isinstance(item, str) else item
        try:
            given[_assign(data, path, value)] = path
        except ScenarioError as err:
            issues += [Issue(f"{option} {i.path}", i.rule, i.value) for i in err.issues]
    if issues:
        raise ScenarioError(issues, f"{option} overrides")
    try:
        return validate(data)
    except ScenarioError as err:
        raise ScenarioError([Issue(_as_given(i.path, given, option), i.rule, i.value)
                             for i in err.issues], f"{option} overrides") from None


def _as_given(path: str, given: dict[str, str], option: str) -> str:
    """An issue's path in the words of the override that caused it (``teams[sdr].reps``, not
    ``teams[0].reps``); a rule across fields keeps its own path and names the overrides."""
    for canonical, as_given in given.items():
        if path == canonical or path.startswith((canonical + ".", canonical + "[")):
            return f"{option} {as_given}{path[len(canonical):]}"
    return f"{path} (after {option} {', '.join(given.values())})"


def _assign(data: dict[str, Any], path: str, value: Any) -> str:
    """Set one field of a scenario mapping in place and return its canonical path (list
    items by index); ScenarioError naming a bad path."""
    node: Any = data
    canonical = ""
    parts = _split(path)
    if not parts:
        raise ScenarioError([Issue(path or "(empty path)", "is not a scenario field", value)])
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, dict):
            if part not in node:
                raise ScenarioError([Issue(path, "is not a scenario field"
                                           + _suggest(part, node), value)])
            canonical += f".{part}" if canonical else part
            if last:
                node[part] = value
            else:
                node = node[part]
        elif isinstance(node, list):
            idx = _index(node, part)
            if idx is None:
                names = [str(x["name"]) for x in node if isinstance(x, dict) and "name" in x]
                known = (f"items: {', '.join(names)}, or an index 0..{len(node) - 1}" if names
                         else f"an index 0..{len(node) - 1}" if node else "the list is empty")
                raise ScenarioError([Issue(path, f"names no item of that list ({known})",
                                           part)])  # fmt: skip
            canonical += f"[{idx % len(node)}]"
            if last:
                node[idx] = value
            else:
                node = node[idx]
        else:
            raise ScenarioError([Issue(path, "is not a scenario field", value)])
    return canonical


BASE_KEY = "base"


def expand_base(data: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """A scenario mapping that names a base preset (``base: default``) as the full mapping:
    the preset's fields, overridden by the ones given. Nested sections merge key by key; lists
    of named items (``channels``, ``teams``) merge item by item on ``name`` (a new name adds
    an item); other lists are replaced whole."""
    if BASE_KEY not in data:
        return data
    from sla_sim.scenario.presets import preset, preset_names

    name = data[BASE_KEY]
    if not isinstance(name, str) or name not in preset_names():
        raise ScenarioError([Issue(BASE_KEY, f"must name a preset: one of "
                                   f"{', '.join(preset_names())}", name)], source)  # fmt: skip
    rest = {k: v for k, v in data.items() if k != BASE_KEY}
    return _merge(preset(name).model_dump(mode="json"), rest)


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    if (isinstance(base, list) and isinstance(over, list) and over
            and all(isinstance(x, dict) and "name" in x for x in over)
            and all(isinstance(x, dict) and "name" in x for x in base)):
        merged = [dict(x) for x in base]
        names = [x["name"] for x in merged]
        for item in over:
            if item["name"] in names:
                i = names.index(item["name"])
                merged[i] = _merge(merged[i], item)
            else:
                merged.append(item)
        return merged
    return over


def diff(a: Scenario, b: Scenario) -> list[tuple[str, Any, Any]]:
    """Every field where two scenarios differ: (path, value in A, value in B), paths as
    :func:`set_path` reads them (list items by ``name`` where they have one); a field or item
    only one side has is :data:`~sla_sim.errors.MISSING` on the other."""
    out: list[tuple[str, Any, Any]] = []
    _diff(a.model_dump(mode="json"), b.model_dump(mode="json"), "", out)
    return out


def _diff(x: Any, y: Any, path: str, out: list[tuple[str, Any, Any]]) -> None:
    if isinstance(x, dict) and isinstance(y, dict):
        if x.get("kind") != y.get("kind") and "kind" in x and "kind" in y:
            out.append((path, x, y))  # another distribution family: show it whole
            return
        for k in [*x, *(k for k in y if k not in x)]:
            sub = f"{path}.{k}" if path else k
            if k not in x or k not in y:
                out.append((sub, x.get(k, MISSING), y.get(k, MISSING)))
            else:
                _diff(x[k], y[k], sub, out)
        return
    named = (isinstance(x, list) and isinstance(y, list) and x and y
             and all(isinstance(i, dict) and "name" in i for i in [*x, *y]))  # fmt: skip
    if named:
        xs, ys = {i["name"]: i for i in x}, {i["name"]: i for i in y}
        for n in [*xs, *(n for n in ys if n not in xs)]:
            sub = f"{path}[{n}]"
            if n not in xs or n not in ys:
                out.append((sub, xs.get(n, MISSING), ys.get(n, MISSING)))
            else:
                _diff(xs[n], ys[n], sub, out)
        return
    if x != y:
        out.append((path, x, y))
