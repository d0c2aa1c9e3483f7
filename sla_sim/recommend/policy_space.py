"""The space of work policies the recommendation searches beside headcount: work order,
assignment mode, weekend/holiday coverage, active-lead cap and cadence (:class:`Policy`,
:func:`all_policies`).

Light on purpose (no model, no scipy): the cost check before a recommendation counts the
policies it may simulate without importing the search.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sla_sim.scenario.schema import Scenario

#: Work orders and assignment modes searched.
WORK_ORDERS = ("due_first", "new_first", "deadline_first")
ASSIGNMENTS = ("immediate", "pull")
#: Weekend/holiday coverage searched: today's calendars, or a weekend rota.
COVERAGES = ("", "weekend rota")
#: Active-lead caps searched, as multiples of each team's ``max_active_leads``.
CAP_FACTORS = (1.0, 2.0)
#: Follow-up cadences searched, as multiples of every ``cadence_days`` entry.
CADENCE_FACTORS = (1.0, 0.5)
#: Policies simulated after the analytic screen, the scenario's own policy included.
SHORT_LIST = 2

def policy_words(label: str) -> str:
    """A policy's label (``new_first / pull``: work order / assignment, then any other lever
    changed) in words."""
    from sla_sim.scenario.labels import choice_label

    def words(part: str) -> str:
        if part.startswith("cap x"):
            return f"active-lead cap x{part[5:]}"
        if part.startswith("cadence x"):
            return f"cadence days x{part[9:]}"
        return {"weekend rota": "weekend and holiday rota"}.get(part, choice_label(part))

    return " / ".join(words(p.strip()) for p in str(label).split("/"))


@dataclass(frozen=True)
class Policy:
    """The work order, assignment mode, weekend/holiday coverage, active-lead cap (x today's)
    and cadence (x today's days) of every free SDR team."""

    work_order: str
    assignment: str
    coverage: str = ""  # "": today's calendars; "weekend rota"
    cap: float = 1.0
    cadence: float = 1.0

    @property
    def label(self) -> str:
        """'new_first / pull', then ' / weekend rota', ' / cap x2', ' / cadence x0.5' for
        each other lever changed from today's."""
        parts = [self.work_order, self.assignment]
        if self.coverage:
            parts.append(self.coverage)
        if self.cap != 1.0:
            parts.append(f"cap x{self.cap:g}")
        if self.cadence != 1.0:
            parts.append(f"cadence x{self.cadence:g}")
        return " / ".join(parts)

    @property
    def words(self) -> str:
        """'New MQLs before follow-ups / Shared team queue (reps pull)'."""
        return policy_words(self.label)

    def as_dict(self) -> dict[str, Any]:
        """The levers, for the exports."""
        return {"policy": self.label, "work_order": self.work_order,
                "assignment": self.assignment, "coverage": self.coverage or "today's calendars",
                "active_lead_cap_factor": self.cap, "cadence_factor": self.cadence}

    def apply(self, sc: Scenario, teams: list[str]) -> Scenario:
        """``sc`` with this policy on the named teams (a rota sized to each team's reps)."""
        d = sc.model_dump(mode="python")
        for t in d["teams"]:
            if t["name"] in teams:
                t["work_order"], t["assignment"] = self.work_order, self.assignment
                if self.cap != 1.0:
                    t["max_active_leads"] = max(1, round(t["max_active_leads"] * self.cap))
                if self.coverage:
                    t["rep_calendars"] = rota(t, sc.arrivals.weekday_weights)
        if self.cadence != 1.0:
            d["follow_up"]["cadence_days"] = [x * self.cadence
                                              for x in sc.follow_up.cadence_days]
        return Scenario.model_validate(d)


def rota(team: dict[str, Any], weekday_weights: list[float]) -> list[dict[str, Any]]:
    """Rep calendars of a weekend rota: ``k`` reps work the same number of days a week as the
    team calendar, ending on Sunday (Wednesday to Sunday for a five-day week), holidays
    included; the rest work the team calendar.
    ``k`` gives the weekend the capacity share of its arrivals: k x 2 days / (n x 5 days) =
    the weekend's share of the weekday weights (at least one rep, at most all)."""
    w = list(weekday_weights)
    share = (w[5] + w[6]) / sum(w)
    n = int(team["reps"])
    k = min(n, max(1, round(n * share * 5 / 2)))
    cal = dict(team["calendar"])
    days = len(cal["working_days"])
    wk = cal | {"working_days": list(range(7 - days, 7)), "holidays": []}
    return [wk] * k + [cal] * (n - k)


def resize_calendars(cals: list[Any], n: int) -> list[Any]:
    """A team's ``rep_calendars`` for ``n`` reps, each distinct calendar keeping its share of
    the reps (largest remainder; ties to the calendar listed first), in the order the calendars
    first appear: the recommender changes headcount, and a rep's calendar must come with it."""
    groups: list[tuple[Any, int]] = []
    for c in cals:
        for i, (g, k) in enumerate(groups):
            if g == c:
                groups[i] = (g, k + 1)
                break
        else:
            groups.append((c, 1))
    exact = [k * n / len(cals) for _, k in groups]
    counts = [int(x) for x in exact]
    by_rest = sorted(range(len(groups)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_rest[:n - sum(counts)]:
        counts[i] += 1
    return [g for (g, _), k in zip(groups, counts, strict=True) for _ in range(k)]


def policy_of(sc: Scenario, teams: list[str]) -> Policy:
    """The scenario's own policy (of the first named team; the first team if none)."""
    t = next((t for t in sc.teams if t.name in teams), sc.teams[0])
    return Policy(t.work_order, t.assignment)


def all_policies(sc: Scenario | None = None, teams: list[str] | None = None,
                 kept: dict[str, Any] | None = None) -> list[Policy]:  # fmt: skip
    """Every combination searched, today's levers first in each dimension. With ``sc``: the
    weekend rota only when a free team's calendar leaves a weekend day out; a lever that
    ``kept`` freezes (``coverage``, ``cap``, ``cadence``; ``volumes`` freezes the cadence too,
    whose change moves the volumes) only at today's value, and ``policy`` (a kept work order
    or assignment) only today's policy."""
    kept = kept or {}
    own = policy_of(sc, teams or []) if sc is not None else None
    if own is not None and kept.get("policy"):  # the work policy kept: every lever of it
        return [own]
    coverages: tuple[str, ...] = COVERAGES
    if sc is not None:
        free = [t for t in sc.teams if t.name in (teams or [])]
        weekend_gap = any(not t.calendar.always_open and not {5, 6} <= set(
            t.calendar.working_days) and not t.rep_calendars for t in free)
        if kept.get("coverage") or not weekend_gap:
            coverages = ("",)
    caps = (1.0,) if kept.get("cap") else CAP_FACTORS
    cads = (1.0,) if kept.get("cadence") or kept.get("volumes") else CADENCE_FACTORS
    out = [Policy(w, a, cv, cp, cd) for cv, cp, cd, w, a in itertools.product(
        coverages, caps, cads, WORK_ORDERS, ASSIGNMENTS)]
    if own is not None and own not in out:
        out.insert(0, own)
    return out
