"""``sla-sim validate``, ``schema``, ``presets``, ``init``, ``funnel``: scenarios and their
analytic funnel."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sla_sim.cli.common import (
    EXIT_OK,
    add_scenario_args,
    check_out_file,
    raise_option,
    scenario_from,
)
from sla_sim.errors import Issue, ScenarioError


def cmd_funnel(args: argparse.Namespace) -> int:
    """Print the analytic funnel: expected monthly volumes, and what a revenue target needs."""
    import math

    from sla_sim.analysis.reverse_funnel import forward, reverse

    issues = []
    if not (math.isfinite(args.response_hours) and args.response_hours >= 0):
        issues.append(Issue("--response-hours", "must be a finite number >= 0",
                            args.response_hours))  # fmt: skip
    if args.target is not None and not (math.isfinite(args.target) and 0 <= args.target <= 1e15):
        issues.append(Issue("--target", "must be a finite amount per month in 0 .. 1e15 (as"
                            " recommend --revenue-target)", args.target))  # 1e300: 300 digits
    if issues:
        raise ScenarioError(issues, "option")
    scenario = scenario_from(args)
    from sla_sim.metrics.numbers import money

    cur = scenario.currency
    print(f"Expected per month at the scenario's rates (first MQL episode, no capacity limits,"
          f" first attempt {args.response_hours:g} h after MQL):")
    print(_funnel_text(forward(scenario, args.response_hours), cur))
    target = scenario.sla.revenue_target_per_month if args.target is None else args.target
    print(f"\nNeeded per month for revenue {money(target, cur)}:")
    print(_funnel_text(reverse(scenario, target, args.response_hours), cur))
    return EXIT_OK


#: The analytic funnel's columns in words (``scale_vs_scenario``: the volume factor).
_FUNNEL_COLUMNS = {"channel": "Channel", "scale_vs_scenario": "Volume x scenario",
                   "leads": "Leads", "mqls": "MQLs", "reached": "Reached", "sqls": "SQLs",
                   "wins": "Wins", "revenue": "Revenue"}  # fmt: skip


def _funnel_text(table, currency: str) -> str:  # type: ignore[no-untyped-def]
    """The analytic funnel in the units of every other table: revenue as money (``USD 1.11M``,
    as ``run`` prints it; was ``1,109,798.5``), volumes as counts (``2,200``, ``46``)."""
    from sla_sim.metrics.numbers import count, money

    def cell(col: str, v: object) -> str:
        if col == "revenue":
            return money(v, currency)
        if col == "scale_vs_scenario":
            return f"{float(v):.2f}x"  # type: ignore[arg-type]
        return count(round(float(v), 1)) if col != "channel" else str(v)  # type: ignore[arg-type]

    out = table.apply(lambda c: [cell(c.name, v) for v in c]).rename(columns=_FUNNEL_COLUMNS)
    return out.to_string(index=False)


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a scenario file; print a one-line description when it is valid."""
    from sla_sim.scenario.io import load

    sc = load(args.file)
    reps = sum(t.reps for t in sc.teams)
    leads = sum(c.leads_per_month for c in sc.channels)
    print(f"ok: {args.file}: {sc.name!r}, {len(sc.channels)} channels, {leads:,.0f} leads/month,"
          f" {len(sc.teams)} team(s) with {reps} SDRs, {sc.ae.count} AEs")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of a scenario file."""
    from sla_sim.scenario.schema import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2))
    return EXIT_OK


def cmd_presets(args: argparse.Namespace) -> int:
    """List the built-in scenarios."""
    from sla_sim.scenario.presets import PRESETS, preset

    for name in PRESETS:
        sc = preset(name)
        alias = " (alias of mid_market)" if name == "default" else ""
        print(f"{name:<12} {sc.description}{alias}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    """Write a preset out as YAML with every field present, to edit."""
    from sla_sim.scenario.io import save
    from sla_sim.scenario.presets import preset

    out = Path(args.out)
    if out.suffix.lower() not in (".yaml", ".yml", ".json"):  # named --out, not its temp file
        raise_option("--out", "must end in .yaml, .yml or .json (the scenario's format)",
                     str(out))  # fmt: skip
    check_out_file(out, args.force)  # a folder is refused even with --force
    from sla_sim.batch.store import RunStore

    RunStore().check_out(out)  # never into a run's folder (it wrote x.yaml beside run.json)
    from sla_sim.batch.files import atomic_write

    sc = preset(args.preset)  # renamed into place: a link at --out is replaced, not followed
    atomic_write(out, lambda tmp: save(sc, tmp))
    print(f"wrote {out} (preset {args.preset}); check it with: sla-sim validate {out}")
    return EXIT_OK


def _scenario_or_preset(text: str, name: str):  # -> Scenario
    """A scenario file, or the name of a built-in scenario when no such file exists; neither
    is refused naming both (``defualt`` was "file: must be an existing scenario file")."""
    from sla_sim.scenario.io import load
    from sla_sim.scenario.presets import preset, preset_names

    if not Path(text).exists():
        if text in preset_names():
            return preset(text)
        raise ScenarioError([Issue(name, "must be a scenario file or a built-in scenario ("
                                   + ", ".join(preset_names()) + ")", text)])
    return load(text)


def cmd_scenario_show(args: argparse.Namespace) -> int:
    """Print the scenario a file or preset and ``--set`` overrides describe, as YAML with every
    field (the scenario hash on stderr)."""
    from sla_sim.batch.results import scenario_hash
    from sla_sim.scenario.io import dump_yaml

    sc = scenario_from(args)
    sys.stdout.write(dump_yaml(sc))
    print(f"# scenario hash {scenario_hash(sc)}", file=sys.stderr)
    return EXIT_OK


def cmd_scenario_diff(args: argparse.Namespace) -> int:
    """Print every field where scenario B differs from A: path, A's value, B's value, in the
    fields' units."""
    from sla_sim.report.units import field_value
    from sla_sim.scenario.io import diff

    a, b = _scenario_or_preset(args.a, "A"), _scenario_or_preset(args.b, "B")
    rows = diff(a, b)
    if not rows:
        print(f"no field differs between {args.a} and {args.b}")
        return EXIT_OK
    def short(text: str, width: int = 48) -> str:
        return text if len(text) <= width else text[: width - 1] + "…"

    table = [(path, short(field_value(path, va, a.currency)),
              short(field_value(path, vb, b.currency))) for path, va, vb in rows]  # fmt: skip
    w0 = max(len("field"), *(len(r[0]) for r in table))
    w1 = max(len(f"A: {args.a}"), *(len(r[1]) for r in table))
    print(f"{'field':<{w0}}  {'A: ' + args.a:<{w1}}  B: {args.b}")
    for path, va, vb in table:
        print(f"{path:<{w0}}  {va:<{w1}}  {vb}")
    print(f"\n{len(rows)} field differs" if len(rows) == 1 else f"\n{len(rows)} fields differ")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``sla-sim`` parser."""
    fun = sub.add_parser("funnel", help="analytic funnel: volumes, and what a target needs")
    add_scenario_args(fun)
    fun.add_argument("--target", type=float, help="revenue per month (default: the SLA's)")
    fun.add_argument("--response-hours", type=float, default=0.0,
                     help="hours from MQL to the first attempt (default 0)")
    fun.set_defaults(func=cmd_funnel)

    val = sub.add_parser("validate", help="check a scenario file")
    val.add_argument("file", help="scenario file (.yaml, .toml, .json) to check")
    val.set_defaults(func=cmd_validate)

    sch = sub.add_parser("schema", help="print the scenario JSON Schema")
    sch.set_defaults(func=cmd_schema)

    pre = sub.add_parser("presets", help="list built-in scenarios")
    pre.set_defaults(func=cmd_presets)

    ini = sub.add_parser("init", help="write a preset to a YAML file to edit")
    ini.add_argument("--preset", default="default", metavar="NAME",
                     help="built-in scenario to write out (see: sla-sim presets; default:"
                     " default)")  # fmt: skip
    ini.add_argument("--out", required=True,
                     help="file to write (.yaml, .yml or .json); a short alternative is a file"
                     " of just 'base: NAME' plus the fields that differ")  # fmt: skip
    ini.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    ini.set_defaults(func=cmd_init)

    scn = sub.add_parser("scenario", help="scenario files: show one resolved, diff two")
    ssub = scn.add_subparsers(dest="scenario_command", metavar="ACTION", required=True)
    show = ssub.add_parser("show", help="print the scenario a file or preset and --set"
                           " overrides describe, every field as YAML (hash on stderr)")
    add_scenario_args(show)
    show.set_defaults(func=cmd_scenario_show)
    dif = ssub.add_parser("diff", help="which fields differ between two scenarios, with units")
    dif.add_argument("a", metavar="A", help="scenario file, or a built-in scenario's name")
    dif.add_argument("b", metavar="B", help="scenario file, or a built-in scenario's name")
    dif.set_defaults(func=cmd_scenario_diff)
