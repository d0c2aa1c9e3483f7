"""Reading scenario files safely, and the checks that make "valid" mean "runs".

A scenario file is read only if it is at most ``$SLA_SIM_MAX_SCENARIO_MB`` megabytes (default
5; the presets are about 5 kB), is UTF-8 text, and, once parsed, is nested at most
:data:`MAX_DEPTH` levels and holds at most :data:`MAX_VALUES` values counting every repetition
a YAML alias makes (a "billion laughs" file is refused before anything walks it). A key given
twice in one YAML mapping is an error, not "the last one wins".

After validation, :func:`runnable_issues` refuses what the schema lets through but a run cannot
use: non-finite numbers (``.inf``, ``.nan``), ``true``/``false`` where a number goes, and a
horizon outside the dates Python's calendar can represent.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import math
import os
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from sla_sim.errors import Issue, ScenarioError

__all__ = ["MAX_DEPTH", "MAX_VALUES", "read_data", "runnable_issues"]

MAX_MB_ENV = "SLA_SIM_MAX_SCENARIO_MB"
DEFAULT_MAX_MB = 5.0
#: Deepest nesting of lists and mappings a scenario file may have (the schema needs 4).
MAX_DEPTH = 32
#: Most values (counting every repetition made by YAML aliases) a scenario file may hold.
MAX_VALUES = 1_000_000
#: Room kept between the simulated horizon and the ends of Python's calendar (years 1-9999):
#: the model simulates the warm-up before ``measure_start`` and lets work drain after the end.
CALENDAR_MARGIN_DAYS = 366


class _TooDeepError(Exception):
    pass


def max_bytes() -> int:
    """The size cap of a scenario file, in bytes (``$SLA_SIM_MAX_SCENARIO_MB``)."""
    raw = os.environ.get(MAX_MB_ENV, "")
    try:
        mb = float(raw) if raw.strip() else DEFAULT_MAX_MB
    except ValueError:
        mb = math.nan
    if not (math.isfinite(mb) and mb > 0):
        raise ScenarioError([Issue(f"${MAX_MB_ENV}", "must be a positive number", raw)],
                            "setting")  # fmt: skip
    return int(mb * 2**20)


def read_data(p: Path) -> Any:
    """The parsed content of a scenario file (YAML, TOML or JSON by extension), checked for
    size, encoding, duplicate keys, nesting and alias expansion; ScenarioError otherwise."""
    source = str(p)
    cap = max_bytes()
    size = p.stat().st_size
    if size > cap:
        raise ScenarioError([Issue("file", f"is {size / 2**20:,.1f} MB; scenario files are capped"
                                   f" at {cap / 2**20:g} MB (raise with ${MAX_MB_ENV})",
                                   source)], source)  # fmt: skip
    text = _decode(p.read_bytes(), source)
    kind = p.suffix.lower()
    try:
        if kind == ".toml":
            data = tomllib.loads(text)
        elif kind == ".json":
            data = json.loads(text)
        else:
            if _flow_depth(text) > MAX_DEPTH:  # refused before PyYAML's scanner, which takes
                raise _TooDeepError  # quadratic time in the depth (100,000: ~10 s of CPU)
            data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except (RecursionError, _TooDeepError):
        raise _too_deep(source) from None
    except _DuplicateKeyError as err:
        raise ScenarioError([Issue(err.key, f"is given twice in one mapping (line {err.line});"
                                   " keep one", err.key)], source) from None  # fmt: skip
    except yaml.MarkedYAMLError as err:  # where it is: a newcomer's indentation slip
        raise ScenarioError([Issue("file", f"must be valid yaml ({_where(err)})",
                                   err.problem or type(err).__name__)], source) from None
    except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError, ValueError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ScenarioError([Issue("file", f"must be valid {kind[1:] or 'yaml'}", first)],
                            source) from None  # fmt: skip
    try:
        n = _size(data, 0, {})
    except _TooDeepError:
        raise _too_deep(source) from None
    if n > MAX_VALUES:
        raise ScenarioError([Issue("file", f"expands to {n:,} values (YAML aliases repeat data);"
                                   f" at most {MAX_VALUES:,} are read", source)], source)
    return data


#: YAML quoted scalars and comments, whose brackets do not nest anything
_QUOTED_OR_COMMENT = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'|(?:^|(?<=\s))#[^\n]*',
                                re.MULTILINE)  # fmt: skip


def _too_deep(source: str) -> ScenarioError:
    return ScenarioError([Issue("file", f"is nested too deep (at most {MAX_DEPTH} levels)",
                                source)], source)  # fmt: skip


def _flow_depth(text: str) -> int:
    """How deep YAML flow collections (``[`` and ``{``) nest in ``text``, quoted scalars and
    comments left out: a linear-time upper bound of what the parser would build from them."""
    depth = deepest = 0
    for m in re.finditer(r"[\[\]{}]", _QUOTED_OR_COMMENT.sub("", text)):
        if m.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return deepest


def _decode(raw: bytes, source: str) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE,
                       codecs.BOM_UTF32_BE)) or (len(raw) >= 2 and b"\x00" in raw[:64]):
        raise ScenarioError([Issue("file", "must be UTF-8 text; this looks like UTF-16 or UTF-32"
                                   " (save it as UTF-8)", source)], source)  # fmt: skip
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ScenarioError([Issue("file", f"must be UTF-8 text: byte 0x{raw[err.start]:02x} on"
                                   f" line {line} is not (save the file as UTF-8)",
                                   source)], source) from None  # fmt: skip


def _size(node: Any, depth: int, memo: dict[int, int]) -> int:
    """Values in ``node`` counting repeats (shared objects, made by YAML aliases, once per
    use); raises _TooDeepError past MAX_DEPTH."""
    if not isinstance(node, (list, dict)):
        return 1
    if depth >= MAX_DEPTH:
        raise _TooDeepError
    key = id(node)
    if key not in memo:
        items = node.values() if isinstance(node, dict) else node
        memo[key] = 1 + sum(_size(v, depth + 1, memo) for v in items)
    return memo[key]


def _where(err: yaml.MarkedYAMLError) -> str:
    """``line L, column C`` of a YAML syntax error (1-based, as an editor counts)."""
    mark = err.problem_mark or err.context_mark
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "position unknown"


class _DuplicateKeyError(yaml.YAMLError):
    def __init__(self, key: str, line: int) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key, self.line = key, line


class _StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = key_node.value
                if key in seen:
                    raise _DuplicateKeyError(str(key), key_node.start_mark.line + 1)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:  # type: ignore[override]
        """A date YAML reads as one but the calendar lacks (``2026-13-01``) stays text, so the
        schema names the field it was given for (it was "must be valid yaml (got 'month must
        be in 1..12')", naming no field)."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp",
                              _StrictLoader.construct_yaml_timestamp)


def runnable_issues(raw: Any, scenario: Any) -> list[Issue]:
    """What validates but cannot run: non-finite numbers, true/false given for a number,
    a horizon too close to the ends of the calendar."""
    issues: list[Issue] = []
    dumped = scenario.model_dump(mode="python")
    for path, value in _leaves(dumped):
        if isinstance(value, float) and not math.isfinite(value):
            issues.append(Issue(path, "must be a finite number", value))
    if isinstance(raw, dict):
        for path, value in _leaves(raw):
            if isinstance(value, bool):
                got = _at(dumped, path)
                if got is not _NOWHERE and not isinstance(got, bool):
                    issues.append(Issue(path, "must be a number, not true/false", value))
    h = scenario.horizon
    margin = dt.timedelta(days=CALENDAR_MARGIN_DAYS)
    try:
        h.measure_start - dt.timedelta(days=h.warmup_days) - margin
        h.measure_start + dt.timedelta(days=31 * h.measure_months) + margin
    except OverflowError:
        issues.append(Issue("horizon.measure_start", "leaves no room for the warm-up and the"
                            f" measured months within the calendar (years 1-9999, with"
                            f" {CALENDAR_MARGIN_DAYS} days to spare)", h.measure_start))
    return issues


def raw_issues(raw: Any) -> list[Issue]:
    """Non-finite numbers in the file itself (reported before the schema's rules)."""
    return [Issue(path, "must be a finite number", value) for path, value in _leaves(raw)
            if isinstance(value, float) and not math.isfinite(value)]  # fmt: skip


_NOWHERE = object()


def _leaves(node: Any, path: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _leaves(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _leaves(v, f"{path}[{i}]")
    else:
        out.append((path or "(scenario)", node))
    return out


def _at(node: Any, path: str) -> Any:
    """The value at a path made by :func:`_leaves` (``_NOWHERE`` if there is none)."""
    import re

    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            i = int(part[1:-1])
            if not isinstance(node, list) or i >= len(node):
                return _NOWHERE
            node = node[i]
        else:
            if not isinstance(node, dict) or part not in node:
                return _NOWHERE
            node = node[part]
    return node
