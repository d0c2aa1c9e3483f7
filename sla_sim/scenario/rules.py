"""Cross-field rules of a scenario: everything a single field's range cannot express."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from sla_sim.errors import Issue

if TYPE_CHECKING:
    from sla_sim.scenario.schema import Scenario

SUM_TOLERANCE = 1e-6


def cross_field_issues(sc: Scenario) -> list[Issue]:
    """Every cross-field problem of a scenario whose fields are individually valid."""
    issues: list[Issue] = []
    issues += _unique("channels", sc.channel_names())
    issues += _unique("teams", sc.team_names())
    channel_set = set(sc.channel_names())
    segments = {seg for ch in sc.channels for seg in ch.segment_mix}

    for i, ch in enumerate(sc.channels):
        path = f"channels[{i}].segment_mix"
        if not ch.segment_mix:
            issues.append(Issue(path, "must name at least one segment", ch.segment_mix))
            continue
        bad = {k: v for k, v in ch.segment_mix.items() if not 0 <= v <= 1}
        if bad:
            issues.append(Issue(path, "shares must be in [0, 1]", bad))
        total = sum(ch.segment_mix.values())
        if abs(total - 1) > SUM_TOLERANCE:
            issues.append(Issue(path, "shares must sum to 1", round(total, 9)))

    for i, burst in enumerate(sc.arrivals.bursts):
        if burst.channel not in channel_set:
            issues.append(
                Issue(f"arrivals.bursts[{i}].channel", "must name a channel", burst.channel)
            )

    rule = sc.routing.team_rule
    if rule == "single" and len(sc.teams) != 1:
        issues.append(
            Issue("routing.team_rule", "'single' needs exactly one team (a file with 'base:'"
                  " adds a team whose name its base lacks: check the teams' names)",
                  ", ".join(t.name for t in sc.teams) or "no team")
        )
    elif rule == "by_channel":
        issues += _coverage(sc, "channels", channel_set)
    elif rule == "by_segment":
        issues += _coverage(sc, "segments", segments)

    issues += _policy_issues(sc, channel_set, segments)
    issues += _cost_issues(sc, channel_set)
    n_attempts = len(sc.follow_up.cadence_days)
    if sc.sla.attempts_required > n_attempts:
        issues.append(
            Issue(
                "sla.attempts_required",
                f"must be <= the {n_attempts} attempts of follow_up.cadence_days",
                sc.sla.attempts_required,
            )
        )
    if sc.handoff.mode == "batch" and sc.handoff.batch_local_hours:
        cal = sc.marketing_calendar
        if not cal.always_open and not cal.working_days:
            issues.append(
                Issue("marketing_calendar.working_days", "batches need a working day", [])
            )
    return issues


def _policy_issues(sc: Scenario, channels: set[str], segments: set[str]) -> list[Issue]:
    """Work-order, priority, pull and reassignment fields that only make sense together."""
    issues: list[Issue] = []
    names = sc.team_names()
    for i, team in enumerate(sc.teams):
        if team.overflow_team is not None:
            if team.overflow_team not in names or team.overflow_team == team.name:
                issues.append(Issue(f"teams[{i}].overflow_team", "must name another team",
                                    team.overflow_team))  # fmt: skip
            if team.reassign_after_business_hours is None:
                issues.append(Issue(f"teams[{i}].overflow_team",
                                    "needs reassign_after_business_hours", team.overflow_team))
        if team.rep_calendars and len(team.rep_calendars) != team.reps:
            issues.append(Issue(f"teams[{i}].rep_calendars", f"needs one calendar per rep"
                                f" ({team.reps})", len(team.rep_calendars)))  # fmt: skip
        if team.reassign_after_business_hours is not None and team.assignment != "immediate":
            issues.append(Issue(f"teams[{i}].reassign_after_business_hours",
                                "applies to assignment: immediate (a pulled lead is touched"
                                " at once)", team.reassign_after_business_hours))  # fmt: skip
    r = sc.routing
    if r.priority_order:
        if r.priority_by == "none":
            issues.append(Issue("routing.priority_order", "needs routing.priority_by"
                                " (channel or segment)", r.priority_order))  # fmt: skip
        else:
            known = channels if r.priority_by == "channel" else segments
            for name in r.priority_order:
                if name not in known:
                    issues.append(Issue("routing.priority_order",
                                        f"names an unknown {r.priority_by}", name))
            dupes = sorted({n for n in r.priority_order if r.priority_order.count(n) > 1})
            if dupes:
                issues.append(Issue("routing.priority_order", "names must be unique", dupes))
    return issues


def _cost_issues(sc: Scenario, channels: set[str]) -> list[Issue]:
    """``costs.teams`` and ``costs.channels`` name teams and channels of the scenario, once."""
    issues: list[Issue] = []
    for attr, known in (("teams", set(sc.team_names())), ("channels", channels)):
        names = [item.name for item in getattr(sc.costs, attr)]
        issues += _unique(f"costs.{attr}", names)
        for i, name in enumerate(names):
            if name not in known:
                issues.append(Issue(f"costs.{attr}[{i}].name", f"names an unknown {attr[:-1]}"
                                    f" (known: {', '.join(sorted(known))})", name))
    return issues


def _unique(path: str, names: list[str]) -> list[Issue]:
    dupes = sorted(n for n, k in Counter(names).items() if k > 1)
    return [Issue(f"{path}[].name", "names must be unique", dupes)] if dupes else []


def _coverage(sc: Scenario, attr: str, known: set[str]) -> list[Issue]:
    """by_channel / by_segment: each key served by exactly one team, teams name known keys."""
    issues: list[Issue] = []
    owners: dict[str, list[str]] = {k: [] for k in known}
    for i, team in enumerate(sc.teams):
        for key in getattr(team, attr):
            if key not in known:
                issues.append(
                    Issue(f"teams[{i}].{attr}", f"names an unknown {attr[:-1]}", key)
                )
            else:
                owners[key].append(team.name)
    for key, teams in sorted(owners.items()):
        if len(teams) != 1:
            rule = "is served by no team" if not teams else "is served by more than one team"
            issues.append(Issue(f"routing.team_rule ({attr[:-1]} {key!r})", rule, teams))
    return issues
