"""How many replications a recommendation may simulate, counted stage by stage before it runs.

The request's cost check (``sla-sim recommend`` refuses a request over the cost limits before
anything runs) multiplies this count by the cost of one replication. It follows the engine
(:mod:`sla_sim.recommend.engine`) stage by stage and is an upper bound of what it simulates:

* **volumes**: :data:`~sla_sim.recommend.VOLUME_PASSES` probes of ``min_reps`` each;
* per **revenue pass** (two when the staffed plan may miss the revenue confidence and the
  volumes are searched again):

  - **SDR search**: the policies of the short list (today's and
    :data:`~sla_sim.recommend.policy_space.SHORT_LIST` more), each searched for the requested
    window, and the chosen one for every other window of the menu; every search evaluates at
    most :func:`search_candidates` headcounts (doubling from the guess, then bisecting), each
    up to ``reps`` replications (the sequential stop may end it sooner);
  - **AE search** the same way, then the **final** plan at ``reps``;

* **commitments**: a searched plan that misses an attempts or disposition clause is
  simulated again to judge the day windows of the tightest term it meets;

* **marginal**: the plan with one rep more and one fewer on each SDR team and on the AEs,
  ``reps`` each;
* **sensitivity**: the plan and each input moved down and up, ``sensitivity_reps`` each.

A policy that orders work by SLA deadlines (``deadline_first``) is simulated once per SLA
variant it is judged under (its behaviour reads the SLA): its SDR candidates are simulated for
the window being decided only, its AE candidates for the plan's own SLA only, and its final
plan once per handoff window (and per window of the menu and day window of a kept plan).
"""

from __future__ import annotations

import math
from typing import Any

from sla_sim.recommend import policy_space, sensitivity
from sla_sim.recommend.commitments import HANDOFF_MENU
from sla_sim.recommend.keep import DAYS_MENU

#: First-touch windows of the trade-off menu, business hours.
FIRST_TOUCH_MENU = (0.5, 1.0, 2.0, 4.0, 8.0)
#: Volume passes: simulate, rescale to the revenue confidence, simulate again, rescale.
VOLUME_PASSES = 2
#: Headcount searches at most: the second after volumes are raised for a missed revenue
#: confidence on the staffed plan.
REVENUE_PASSES = 2
#: Replications per sensitivity move (common random numbers make the differences precise).
SENSITIVITY_REPS = 8


def search_candidates(span: int) -> int:
    """Headcounts ``engine._search_min`` evaluates at most over ``span`` values: doubling
    steps from the start to the other side of the answer, then bisection of the last step."""
    return 2 * math.ceil(math.log2(max(span, 1) + 1)) + 2


def replication_bound(*, reps: int, min_reps: int, max_headcount: int, windows: int,
                      volumes_searched: bool, revenue_passes: int, volume_passes: int,
                      policies: list[Any], free_teams: int, ae_searched: bool,
                      kept_any: bool, tornado: bool,
                      sensitivity_reps: int, teams: int = 1) -> dict[str, int]:  # fmt: skip
    """Replications the recommendation may simulate, per stage (see the module docstring).

    ``policies`` are the policies the screen may short-list (``policy_space.all_policies``);
    ``windows`` the first-touch windows of the menu, the requested one included."""
    n_pol = min(len(policies), 1 + policy_space.SHORT_LIST) if free_teams else 1
    reads_sla = any(p.work_order == "deadline_first" for p in policies)
    cands = search_candidates(max_headcount)
    # the chosen policy's searches over the menu's windows share their candidates (at most
    # one per headcount; under deadline_first one per headcount and window); the other
    # short-listed policies search the requested window only
    chosen = windows * cands if reads_sla else min(max_headcount, windows * cands)
    sdr = ((n_pol - 1) * cands + chosen) * reps if free_teams else windows * reps
    ae = (cands if ae_searched else 0) * reps
    final_per = (1 + len(HANDOFF_MENU) + windows
                 + (2 * len(DAYS_MENU) if kept_any else 0)) if reads_sla else 1  # fmt: skip
    out = {"volumes": volume_passes * min_reps if volumes_searched else 0,
           "sdr": revenue_passes * sdr,
           "ae": revenue_passes * (ae + reps * final_per),
           # a searched plan that misses a day clause is judged under the day windows again
           "commitments": 0 if kept_any else reps * (2 * len(DAYS_MENU) if reads_sla else 1)}
    # one more and one fewer rep on every team and on the AEs, at reps, the plan's own SLA
    out["marginal"] = 2 * (teams + 1) * reps
    if tornado:
        out["sensitivity"] = (1 + 2 * len(sensitivity.INPUTS)) * sensitivity_reps
    return out


def request_bound(sc: Any, *, reps: int, max_headcount: int, keep: tuple[str, ...],
                  min_reps: int | None = None, sensitivity_reps: int | None = None,
                  tornado: bool = True, menu: tuple[float, ...] | None = None,
                  revenue_target: float | None = None) -> dict[str, int]:  # fmt: skip
    """:func:`replication_bound` of a request as ``recommend`` would run it (its defaults)."""
    from sla_sim.recommend.keep import any_kept, kept_levers

    kept = kept_levers(tuple(keep), sc)
    free = [t.name for t in sc.teams if t.name not in kept["teams"]]
    target = sc.sla.revenue_target_per_month if revenue_target is None else revenue_target
    volumes = not kept["volumes"] and target > 0
    mn = min(reps, min_reps or 10)
    sreps = min(reps, sensitivity_reps or max(2, min(reps, SENSITIVITY_REPS)))
    windows = len(set(FIRST_TOUCH_MENU if menu is None else menu)
                  | {sc.sla.first_touch_within_business_hours})  # fmt: skip
    return replication_bound(
        reps=reps, min_reps=mn, max_headcount=max_headcount, windows=windows,
        volumes_searched=volumes, revenue_passes=REVENUE_PASSES if volumes else 1,
        volume_passes=VOLUME_PASSES, policies=policy_space.all_policies(sc, free, kept),
        free_teams=len(free), ae_searched=not kept["ae"],
        kept_any=any_kept(kept), tornado=tornado,
        sensitivity_reps=sreps, teams=len(sc.teams))


__all__ = ["FIRST_TOUCH_MENU", "REVENUE_PASSES", "SENSITIVITY_REPS", "VOLUME_PASSES",
           "replication_bound", "request_bound", "search_candidates"]
