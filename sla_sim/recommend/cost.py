"""What a recommendation may cost, checked before anything runs, from the command line and
from Python alike.

The replications a recommendation may simulate are bounded stage by stage
(:func:`sla_sim.recommend.budget.request_bound`), at the volumes the revenue target scales the
channels to. A floor of that scale (every lead won, at the channel's mean deal) refuses the
clearly oversized at once; the reverse funnel's scale then decides the rest. A request over
the limits raises the ScenarioError of :func:`sla_sim.batch.limits.check_cost`.
"""

from __future__ import annotations

from sla_sim.batch.limits import check_cost
from sla_sim.recommend.budget import request_bound
from sla_sim.scenario.schema import Scenario

__all__ = ["check_recommend_cost"]


def check_recommend_cost(sc: Scenario, *, revenue_target: float | None, reps: int,
                         max_headcount: int, keep: tuple[str, ...], workers: int,
                         sensitivity_reps: int | None = None, tornado: bool = True,
                         min_reps: int | None = None,
                         menu: tuple[float, ...] | None = None) -> None:  # fmt: skip
    """Refuse a recommendation over the cost limits (see the module's docstring)."""
    bound = sum(request_bound(sc, reps=reps, max_headcount=max_headcount, keep=keep,
                              min_reps=min_reps, sensitivity_reps=sensitivity_reps,
                              tornado=tornado, menu=menu,
                              revenue_target=revenue_target).values())  # fmt: skip
    size = (("--revenue-target", revenue_target) if revenue_target is not None else
            ("sla.revenue_target_per_month", sc.sla.revenue_target_per_month))

    def check_scaled(scale: float) -> None:
        scaled = sc if scale == 1.0 else sc.model_copy(update={"channels": [
            c.model_copy(update={"leads_per_month": c.leads_per_month * scale})
            for c in sc.channels]})  # fmt: skip
        check_cost(scaled, bound, workers, size=size, value=reps)

    if any(k.startswith("channels") for k in keep):  # volumes frozen
        check_scaled(1.0)
        return
    goal = sc.sla.revenue_target_per_month if revenue_target is None else revenue_target
    best = sum(c.leads_per_month * c.win_rate * c.deal_value.mean for c in sc.channels)
    check_scaled(goal / best if best > 0 else 1.0)
    from sla_sim.analysis.reverse_funnel import reverse

    check_scaled(float(reverse(sc, goal)["scale_vs_scenario"].iloc[0]))
