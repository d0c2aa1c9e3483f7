"""What each metric means, with its unit: the reference for reports, exports and the docs."""

from __future__ import annotations

_CLAUSE_TEXT = {
    "handoff": "MQL routed to sales within sla.handoff_within_hours clock hours",
    "first_touch": "first attempt within sla.first_touch_within_business_hours business hours"
    " of the owning team's calendar, from MQL (or assignment, per sla.first_touch_from)",
    "attempts": "sla.attempts_required attempts (or the lead reached sooner) within"
    " sla.attempts_within_days days of MQL",
    "disposition": "MQL dispositioned (SQL, disqualified or recycled) within"
    " sla.disposition_within_days days",
}

METRIC_DOCS: dict[str, tuple[str, str]] = {
    "leads_created": ("leads", "new leads created in the period"),
    "mqls": ("MQLs", "MQL episodes started in the period (re-qualified recycled leads count)"),
    "sqls": ("SQLs", "MQLs accepted by sales as SQL in the period"),
    "opportunities": ("opportunities", "opportunities opened by AEs in the period"),
    "wins": ("deals", "deals won (closed) in the period"),
    "losses": ("deals", "deals lost (closed) in the period"),
    "disqualified": ("MQLs", "MQLs disqualified after contact in the period"),
    "recycled": ("MQLs", "MQLs recycled to nurture in the period"),
    "nurture_expired": ("leads", "leads that left nurture after its maximum stay"),
    "lead_to_mql_rate": ("ratio", "MQLs / leads created in the period"),
    "mql_commitment": ("MQLs", "MQLs marketing committed to deliver in the period"),
    "mql_volume_breach": ("0/1", "1 if MQLs delivered < commitment (marketing breach)"),
    "acceptance_rate": ("ratio", "SQLs / MQLs sales reached and dispositioned in the period"
                        " (MQL quality; unreached MQLs are sales' unworked ones, not counted)"),
    "unworked_mqls": ("MQLs", "MQLs recycled in the period after the last attempt without"
                      " sales ever reaching them (sales' unworked MQLs)"),
    "unworked_rate": ("ratio", "unworked_mqls / MQLs dispositioned in the period"),
    "acceptance_breach": ("0/1", "1 if acceptance_rate < sla.acceptance_rate_min"),
    "revenue": ("currency", "value of deals won, booked on the close date"),
    "revenue_target": ("currency", "sla.revenue_target_per_month x the period's months per"
                       " sla.mql_commitment_basis (the MQL commitment's basis)"),
    "revenue_attainment": ("ratio", "revenue / revenue_target"),
    "revenue_target_breach": ("0/1", "1 if revenue < revenue_target"),
    "deal_closure_rate": ("ratio", "wins / (wins + losses) closed in the period"),
    "sales_cycle_days_mean": ("days", "mean days from opportunity open to close, for deals"
                              " closed in the period"),
    "response_hours_mean": ("hours", "mean clock hours MQL -> first attempt (touched MQLs)"),
    "response_hours_p50": ("hours", "median clock hours MQL -> first attempt"),
    "response_hours_p90": ("hours", "90th percentile clock hours MQL -> first attempt"),
    "response_business_hours_p50": ("business hours", "median business hours MQL -> first"
                                    " attempt, on the owning team's calendar"),
    "response_business_hours_p90": ("business hours", "90th percentile of the same"),
    "sdr_utilization": ("ratio", "SDR hours on attempts (shrinkage-stretched) inside working"
                        " hours / SDR working hours (overtime to finish an attempt excluded)"),
    "sdr_queue_mean": ("MQLs", "time-weighted mean of MQLs routed but waiting for a rep slot"),
    "sdr_queue_max": ("MQLs", "maximum of the same"),
    "sdr_backlog_mean": ("MQLs", "time-weighted mean of MQLs assigned to a rep but not yet"
                         " touched (assigned, first attempt not started): the private backlog"
                         " that sdr_queue_mean, which counts only MQLs waiting for a slot,"
                         " does not see"),
    "sdr_backlog_max": ("MQLs", "maximum of the same"),
    "sdr_backlog_age_p90": ("hours", "90th percentile of clock hours from assignment to first"
                            " attempt (or to being taken back), over assignments made in the"
                            " period; one still untouched at the end counts with its age then"),
    "sdr_reassigned": ("MQLs", "leads taken back untouched from their rep after"
                       " teams[].reassign_after_business_hours (event reassigned)"),
    "sdr_reassigned_rate": ("ratio", "sdr_reassigned / assignments made in the period"),
    "sdr_escalated": ("MQLs", "reassigned leads sent to the overflow team (event escalated)"),
    "sdr_escalated_rate": ("ratio", "sdr_escalated / assignments made in the period"),
    "sdr_capacity_hours": ("rep hours", "SDR working hours in the period: reps x team business"
                           " hours, or under a staffing plan (hires, attrition, days off, own"
                           " calendars) each rep's own hours on the team x its ramp share"),
    "ae_open_mean": ("opportunities", "time-weighted mean of open opportunities"),
    "ae_utilization": ("ratio", "AE capacity in use: AE business hours working opportunities'"
                       " selling hours (each ae.selling_hours_per_opportunity / selling_share"
                       " from its opening; for a CRM export, the scenario's hours) / the AEs'"
                       " business hours (ae.calendar); without selling time"
                       " (selling_hours_per_opportunity 0) the open-opportunity slots in use,"
                       " ae_open_mean / (AEs x max_open_opportunities)"),
    "ae_queue_mean": ("SQLs", "time-weighted mean of SQLs waiting for an AE (a free AE with a"
                      " free opportunity slot)"),
    "ae_wait_business_hours_mean": ("business hours", "mean AE business hours (ae.calendar) from"
                                    " SQL to opportunity opened, over the period's SQLs (one"
                                    " still waiting at the end counts with its wait so far):"
                                    " the AE clause"),

}
for _name, _text in _CLAUSE_TEXT.items():
    METRIC_DOCS[f"{_name}_met"] = ("MQLs", f"clause met: {_text}; by period of clause start")
    METRIC_DOCS[f"{_name}_breached"] = ("MQLs", f"clause breached: {_text}")
    METRIC_DOCS[f"{_name}_pending"] = ("MQLs", "deadline after the end of observation and not"
                                       " yet satisfied: neither met nor breached")
    METRIC_DOCS[f"{_name}_compliance"] = ("ratio", "met / (met + breached)")
    METRIC_DOCS[f"{_name}_breach"] = ("0/1", "1 if compliance < sla.lead_compliance_target")

#: The cost metrics (:mod:`sla_sim.metrics.costs`, ``Results.costs``): money in the scenario's
#: currency; ``<team>`` and ``<channel>`` stand for each team's and channel's name.
COST_METRIC_DOCS: dict[str, tuple[str, str]] = {
    "cost_team_<team>": ("currency", "the team's rep-months on the payroll (capacity plan:"
                         " join to departure) x costs.teams[].rep_cost_per_month_amount + its"
                         " hires and backfills joining in the period x (hire_cost_amount +"
                         " ramp_cost_amount)"),
    "cost_channel_<channel>": ("currency", "leads created in the period x"
                               " costs.channels[].cost_per_lead_amount + months x"
                               " fixed_per_month_amount"),
    "cost_ae": ("currency", "ae.count x months x costs.ae.rep_cost_per_month_amount"),
    "cost_commission": ("currency", "costs.ae.commission_share x revenue booked in the period"),
    "cost_people": ("currency", "SDR teams + AEs + commission"),
    "cost_marketing": ("currency", "sum of the channels' costs"),
    "cost_total": ("currency", "cost_people + cost_marketing"),
    "gross_profit": ("currency", "revenue - cost_total"),
    "return_on_spend": ("x", "revenue / cost_total, a multiple (1 = break-even)"),
    "cost_per_mql": ("currency per MQL", "cost_total / MQLs of the period; undefined (NaN)"
                     " with no MQL"),
    "cost_per_sql": ("currency per SQL", "cost_total / SQLs of the period; undefined (NaN)"
                     " with no SQL"),
    "cac": ("currency per win", "customer acquisition cost: cost_total / wins of the period;"
            " undefined (NaN, never infinite or 0) in a period with no win"),
    "revenue_per_ae_month": ("currency per AE-month", "revenue / (ae.count x months)"),
    "revenue_per_sdr_month": ("currency per rep-month", "revenue / SDR rep-months on the"
                              " payroll (all teams)"),
}
METRIC_DOCS.update(COST_METRIC_DOCS)


def metric_doc(metric: str) -> tuple[str, str]:
    """(unit, meaning) of a metric, cost metrics named per team or channel included; ("", "")
    for an unknown name."""
    if metric in METRIC_DOCS:
        return METRIC_DOCS[metric]
    if metric.endswith("_breach_any_month") and metric.removesuffix("_any_month") in METRIC_DOCS:
        return ("0/1", "1 if some month of the measured window breaches the clause")
    if metric in METRIC_LABELS and metric.startswith("won_within_"):  # a backtest's cohort
        return ("ratio", "share of the month's new leads won within the days named")
    for prefix in ("cost_team_", "cost_channel_"):
        if metric.startswith(prefix):
            return METRIC_DOCS[prefix + ("<team>" if "team" in prefix else "<channel>")]
    return ("", "")


def metric_bounds(metric: str) -> tuple[float, float] | None:
    """The range a metric's values lie in, where its unit bounds it: (0, 1) for a 0/1
    indicator and for a share (every ``ratio`` but ``revenue_attainment``, which exceeds 1
    when the target is beaten); None otherwise. Intervals of such a metric are cut at it (a
    difference of two shares lies within -1 .. +1)."""
    unit = metric_doc(metric)[0]
    if unit == "0/1" or (unit == "ratio" and metric != "revenue_attainment"):
        return (0.0, 1.0)
    return None


#: Readable names of the metrics, the one table every surface uses.
METRIC_LABELS: dict[str, str] = {
    "revenue": "Revenue",
    "revenue_target": "Revenue target",
    "revenue_attainment": "Revenue / target",
    "revenue_target_breach": "P(revenue below target)",
    "leads_created": "Leads created",
    "mqls": "MQLs",
    "sqls": "SQLs",
    "opportunities": "Opportunities",
    "wins": "Deals won",
    "losses": "Deals lost",
    "acceptance_rate": "Acceptance rate",
    "unworked_mqls": "Unworked MQLs (never reached)",
    "unworked_rate": "Unworked share of dispositioned MQLs",
    "deal_closure_rate": "Deal closure rate",
    "sales_cycle_days_mean": "Sales cycle (mean)",
    "response_hours_mean": "Response, clock hours (mean)",
    "response_hours_p50": "Response, clock hours (median)",
    "response_hours_p90": "Response, clock hours (P90)",
    "response_business_hours_p50": "Response, business hours (median)",
    "response_business_hours_p90": "Response, business hours (P90)",
    "sdr_utilization": "SDR utilisation",
    "ae_utilization": "AE utilisation",
    "sdr_queue_mean": "SDR queue (mean MQLs waiting)",
    "sdr_queue_max": "SDR queue (max MQLs waiting)",
    "sdr_backlog_mean": "SDR backlog (mean MQLs assigned, untouched)",
    "sdr_backlog_max": "SDR backlog (max MQLs assigned, untouched)",
    "sdr_backlog_age_p90": "SDR backlog age (P90 hours)",
    "sdr_reassigned_rate": "Reassigned (share of assignments)",
    "sdr_escalated_rate": "Escalated (share of assignments)",
    "ae_queue_mean": "AE queue (mean SQLs waiting)",
    "ae_wait_business_hours_mean": "SQL to opportunity (AE business hours)",
    "mql_volume_breach": "P(MQL volume breach)",
    "acceptance_breach": "P(acceptance breach)",
    "cost_total": "Cost",
    "cost_people": "Cost of people (SDRs, AEs, commission)",
    "cost_marketing": "Cost of leads (channels)",
    "cost_ae": "Cost of AEs",
    "cost_commission": "Commission",
    "gross_profit": "Gross profit",
    "return_on_spend": "Return on spend (revenue / cost)",
    "cac": "CAC (cost per win)",
    "cost_per_sql": "Cost per SQL",
    "cost_per_mql": "Cost per MQL",
    "revenue_per_sdr_month": "Revenue per SDR-month",
    "revenue_per_ae_month": "Revenue per AE-month",
}
#: The SLA clauses in words (per-lead and per-period, and the recommendation's AE capacity).
CLAUSE_LABELS = {"mql_volume": "MQL volume", "acceptance": "Acceptance rate",
                 "handoff": "Handoff", "first_touch": "First touch", "attempts": "Attempts",
                 "disposition": "Disposition", "ae_capacity": "AE capacity",
                 "revenue_target": "Revenue target"}  # fmt: skip
for _k in ("handoff", "first_touch", "attempts", "disposition"):
    _v = CLAUSE_LABELS[_k]
    METRIC_LABELS[f"{_k}_compliance"] = f"{_v} compliance"
    METRIC_LABELS[f"{_k}_breach"] = f"P({_v.lower()} breach)"
    METRIC_LABELS[f"{_k}_pending"] = f"{_v} pending (MQLs)"
for _d in (7, 14, 30, 60, 90):
    METRIC_LABELS[f"won_within_{_d}d"] = f"Won within {_d} days (share of cohort)"


def metric_label(metric: str) -> str:
    """A readable name of a metric (``first_touch_compliance`` -> ``First touch compliance``,
    ``cost_team_sdr`` -> ``Cost of team sdr``)."""
    for prefix, what in (("cost_team_", "team"), ("cost_channel_", "channel")):
        if metric.startswith(prefix):
            return f"Cost of {what} {metric.removeprefix(prefix)}"
    clause = metric.removesuffix("_breach_any_month")
    if clause != metric and clause in CLAUSE_LABELS:  # the run's words: "P(some month breached)"
        name = CLAUSE_LABELS[clause]
        name = name if name[:3].isupper() else name[0].lower() + name[1:]  # MQL volume
        what = "revenue below target" if clause == "revenue_target" else f"{name} breached"
        return f"P({what} in some month)"
    return METRIC_LABELS.get(metric, metric.replace("_", " ").capitalize())
