"""The scenario reference: every field with its type, default and description, from the schema.

The reference page (docs/scenario.md) is generated from here and a test keeps the two in
sync: ``python -m sla_sim.scenario.reference --write docs/scenario.md`` rewrites the section
between its markers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from sla_sim._base import Spec

START = "<!-- scenario-reference:start -->"
END = "<!-- scenario-reference:end -->"


def _type_name(annotation: Any) -> str:
    from sla_sim.scenario.distributions import Distribution

    if annotation == Distribution or annotation == get_args(Distribution)[0]:
        return "distribution"
    origin = get_origin(annotation)
    if origin is None:
        if isinstance(annotation, type):
            return annotation.__name__
        return str(annotation).replace("typing.", "")
    args = [a for a in get_args(annotation) if a is not type(None)]
    name = getattr(origin, "__name__", str(origin))
    if name == "Annotated":
        return _type_name(get_args(annotation)[0])
    if name == "Literal":
        return " \\| ".join(repr(a) for a in get_args(annotation))
    if name in {"Union", "UnionType"}:
        return " or ".join(_type_name(a) for a in args) + (" or null" if len(args) < len(
            get_args(annotation)) else "")
    inner = ", ".join(_type_name(a) for a in args)
    return f"{name}[{inner}]"


def _spec_type(annotation: Any) -> type[Spec] | None:
    """The Spec class a field holds (directly or as list items), if any."""
    for cand in (annotation, *get_args(annotation)):
        if isinstance(cand, type) and issubclass(cand, Spec) and cand.__module__ != (
            "sla_sim.scenario.distributions"
        ):
            return cand
    return None


def _show(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def rows(model: type[Spec], example: Any, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(path, type, default, description) for every leaf field of ``model``."""
    out: list[tuple[str, str, str, str]] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        value = (getattr(example, name) if example is not None  # an empty list's items:
                 else None if field.is_required()  # the field's own default
                 else field.get_default(call_default_factory=True))
        sub = _spec_type(field.annotation)
        is_list = get_origin(field.annotation) is list
        if sub is not None:
            item = value[0] if is_list and value else (None if is_list else value)
            out += rows(sub, item, f"{path}[]." if is_list else f"{path}.")
            continue
        desc = (field.description or "").replace("|", "\\|").replace("\n", " ")
        out.append((path, _type_name(field.annotation), _show(value), desc))
    return out


def reference_markdown() -> str:
    """The scenario reference table, with defaults taken from the default preset."""
    from sla_sim.scenario.presets import preset
    from sla_sim.scenario.schema import Scenario

    example = preset("default")
    lines = [
        START,
        "",
        "| field | type | default (`default` preset) | meaning, unit, source |",
        "| --- | --- | --- | --- |",
    ]
    for path, typ, default, desc in rows(Scenario, example):
        lines.append(f"| `{path}` | {typ} | `{default}` | {desc} |")
    lines += [
        "",
        "Distributions are written `{kind: NAME, ...}` with kinds `constant` (value),"
        " `exponential` (mean), `lognormal` (mean, cv), `gamma` (mean, cv), `uniform` (low,"
        " high), `triangular` (low, mode, high), `weibull` (mean, shape), `empirical` (values);"
        " the unit is the one in the field name. `channels[].` rows show the first channel.",
        "",
        END,
    ]
    return "\n".join(lines)


def replace_section(text: str, section: str) -> str:
    """``text`` with the part between the markers replaced by ``section``."""
    if START not in text or END not in text:
        raise ValueError(f"markers {START} / {END} not found")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return head + section + tail


def main() -> None:
    """``python -m sla_sim.scenario.reference [--write docs/scenario.md]``: print or update the
    reference."""
    ap = argparse.ArgumentParser(prog="python -m sla_sim.scenario.reference")
    ap.add_argument("--write", metavar="FILE", help="rewrite the section inside FILE")
    args = ap.parse_args()
    section = reference_markdown()
    if args.write:
        p = Path(args.write)
        p.write_text(replace_section(p.read_text(encoding="utf-8"), section), encoding="utf-8")
    else:
        print(section)


if __name__ == "__main__":  # pragma: no cover
    main()
