"""``sla-sim validate``, ``schema``, ``presets``, ``init``, ``funnel``: scenarios and their
analytic funnel."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sla_sim.cli.common import EXIT_OK, scenario_from
from sla_sim.errors import Issue, ScenarioError


def cmd_funnel(args: argparse.Namespace) -> int:
    """Print the analytic funnel: expected monthly volumes, and what a revenue target needs."""
    from sla_sim.analysis.reverse_funnel import forward, reverse

    scenario = scenario_from(args)
    fmt = {"float_format": lambda v: f"{v:,.1f}"}
    print(f"Expected per month at the scenario's rates (first MQL episode, no capacity limits,"
          f" first attempt {args.response_hours:g} h after MQL):")
    print(forward(scenario, args.response_hours).to_string(index=False, **fmt))
    target = scenario.sla.revenue_target_per_month if args.target is None else args.target
    print(f"\nNeeded per month for revenue {target:,.0f} {scenario.currency}:")
    print(reverse(scenario, target, args.response_hours).to_string(index=False, **fmt))
    return EXIT_OK


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
    if out.exists() and not args.force:
        raise ScenarioError([Issue("--out", "file exists (use --force to overwrite)", str(out))])
    save(preset(args.preset), out)
    print(f"wrote {out} (preset {args.preset}); check it with: sla-sim validate {out}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``sla-sim`` parser."""
    fun = sub.add_parser("funnel", help="analytic funnel: volumes, and what a target needs")
    fun.add_argument("scenario", nargs="?")
    fun.add_argument("--preset")
    fun.add_argument("--target", type=float, help="revenue per month (default: the SLA's)")
    fun.add_argument("--response-hours", type=float, default=0.0,
                     help="hours from MQL to the first attempt (default 0)")
    fun.set_defaults(func=cmd_funnel)

    val = sub.add_parser("validate", help="check a scenario file")
    val.add_argument("file")
    val.set_defaults(func=cmd_validate)

    sch = sub.add_parser("schema", help="print the scenario JSON Schema")
    sch.set_defaults(func=cmd_schema)

    pre = sub.add_parser("presets", help="list built-in scenarios")
    pre.set_defaults(func=cmd_presets)

    ini = sub.add_parser("init", help="write a preset to a YAML file to edit")
    ini.add_argument("--preset", default="default")
    ini.add_argument("--out", required=True)
    ini.add_argument("--force", action="store_true")
    ini.set_defaults(func=cmd_init)
