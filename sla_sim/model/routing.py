"""Routing: which team owns an MQL (single, by channel, by segment) and which rep works it."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from sla_sim.calendar import BusinessCalendar
from sla_sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sla_sim.model.sdr import Rep


def team_table(sc: Scenario) -> np.ndarray:
    """Owning team index for each (channel, segment) pair; -1 where no team serves it."""
    segments = segment_names(sc)
    table = np.full((len(sc.channels), len(segments)), -1, dtype=np.int64)
    for c, ch in enumerate(sc.channels):
        for s, seg in enumerate(segments):
            for t, team in enumerate(sc.teams):
                rule = sc.routing.team_rule
                if (
                    rule == "single"
                    or (rule == "by_channel" and ch.name in team.channels)
                    or (rule == "by_segment" and seg in team.segments)
                ):
                    table[c, s] = t
                    break
    return table


def segment_names(sc: Scenario) -> list[str]:
    """All segment names in order of first appearance across channels."""
    names: list[str] = []
    for ch in sc.channels:
        names += [s for s in ch.segment_mix if s not in names]
    return names


class Team:
    """A team's reps, its queue of routed MQLs waiting for a free slot, its rep rule and its
    calendar."""

    policy = False  # see sla_sim.model.policies.PolicyTeam

    def __init__(self, index: int, reps: list[Rep], rule: str, cal: BusinessCalendar) -> None:
        self.index = index
        self.reps = reps
        self.always_open = cal.always_open
        self.next_open = cal.next_open
        self.queue: deque[int] = deque()
        self.least_loaded = rule == "least_loaded"
        self._next = 0

    def pick_rep(self) -> Rep | None:
        """A rep with a free slot by the team's rule, or None when every slot is taken."""
        reps = self.reps
        if self.least_loaded:
            best = min(reps, key=_load)
            return best if best.active < best.cap else None
        n = len(reps)
        for i in range(n):
            rep = reps[(self._next + i) % n]
            if rep.active < rep.cap:
                self._next = (self._next + i + 1) % n
                return rep
        return None


def _load(rep: Rep) -> int:
    return rep.active
