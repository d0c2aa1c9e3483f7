"""The SLA document of a recommendation: the agreement both sides sign, in plain language.

Sections follow published marketing-sales SLA templates: parties and owners, effective date
and term, definitions (MQL, sales-accepted lead, SQL in business terms), each side's
commitments with the confidence behind them, intent tiers, lead distribution, rejection reason
codes and recycling, the quality feedback loop, marketing's data-quality commitments, surge,
weekend and holiday rules, reporting on named CRM fields with a review cadence, escalation and
consequences, signatures, and the method in an appendix. Shared by the Markdown and HTML
renderings (:mod:`sla_sim.recommend.exports`); a section is a title and a list of paragraphs
(str) and tables (a list of rows, the header first).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from sla_sim.metrics.numbers import prob, prob_interval
from sla_sim.recommend.commitments import CLAUSE_WORDS
from sla_sim.recommend.policy_space import policy_words
from sla_sim.scenario.labels import choice_label, display_name

if TYPE_CHECKING:
    from sla_sim.recommend.engine import Recommendation

#: Section titles, in order (a test reads each one in ``sla.md``).
SECTIONS = ("Purpose", "Parties and owners", "Effective date and term", "Definitions",
            "Marketing's commitments", "The handoff", "Intent tiers", "Lead distribution rules",
            "Sales' follow-up and disposition commitments", "Work policy and cost",
            "Where the plan falls short",
            "Rejection reason codes and recycling", "Feedback loop on lead quality",
            "Marketing's data-quality commitments", "Surge, weekend and holiday rules",
            "Reporting: CRM fields and review cadence", "Escalation path and consequences",
            "Trade-off menus", "Signatures", "Appendix: method")  # fmt: skip

#: Reason codes a rejected (disqualified or recycled) MQL carries, and where it goes.
REASON_CODES = (
    ("R1 no fit", "company or role outside the ideal customer profile", "disqualified"),
    ("R2 no need or budget now", "fit, but no project or budget this quarter", "recycled"),
    ("R3 timing", "fit and interest, buying later", "recycled"),
    ("R4 existing customer or open opportunity", "belongs to account management", "disqualified"),
    ("R5 duplicate", "same person already an MQL in the last 30 days", "disqualified"),
    ("R6 bad data", "unreachable: invalid e-mail or phone", "returned to marketing"),
    ("R7 unreached", "no answer after every attempt of the cadence", "recycled (unworked)"),
)

#: Canonical CRM fields each clause is measured from (the event log's sources).
CLAUSE_FIELDS = {
    "mql_volume": ("mql_at", "channel"),
    "acceptance": ("sql_at", "disqualified_at", "recycled_at", "activity_outcome"),
    "handoff": ("mql_at", "routed_at"),
    "first_touch": ("mql_at", "assigned_at", "first_touch_at", "activity_at"),
    "attempts": ("activity_at", "activity_lead_id", "activity_outcome"),
    "disposition": ("mql_at", "sql_at", "disqualified_at", "recycled_at"),
    "ae_capacity": ("sql_at", "opportunity_opened_at"),
    "revenue": ("closed_at", "stage", "amount"),
}


def _pct(p: float | None) -> str:
    return "n/a" if p is None or (isinstance(p, float) and math.isnan(p)) else prob(p)


def _conf(c: Any) -> str:
    """'met in 93% of simulated months in the worst month (95% interval 84-97%); met'."""
    w = c.p_met_min
    if not w.n:
        return "not judged (no leads)"
    return (f"met in {_pct(w.p)} of simulated months in the worst month"
            f" (95% interval {prob_interval(w.low, w.high)}); {c.status}")


def _fields(clause: str, mapping: dict[str, str] | None) -> str:
    """The CRM fields of a clause: canonical names, with the mapping's column where given
    (``mapping``: canonical field -> export column, a CRM mapping's ``columns``)."""
    cols = mapping or {}
    return ", ".join(f"`{f}` ({cols[f]})" if f in cols else f"`{f}`"
                     for f in CLAUSE_FIELDS[clause])  # fmt: skip


def _months_after(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, 1) - dt.timedelta(days=1)


def sections(rec: Recommendation, mapping: dict[str, str] | None = None
             ) -> list[tuple[str, list[Any]]]:  # fmt: skip
    """The SLA document as (title, items) in the order of :data:`SECTIONS`."""
    sc, req = rec.recommended, rec.request
    cur, sla = sc.currency, sc.sla
    by = {c.clause: c for c in rec.commitments}
    conf = prob(req.confidence)
    rconf = prob(req.revenue_confidence or req.confidence)
    hc = {h["team"]: h for h in rec.headcount}
    rev_all = rec.revenue[-1]
    all_met = all(c.certified for c in rec.commitments) and not rec.shortfalls
    out: list[tuple[str, list[Any]]] = []
    lead = (f"Every commitment below is met in at least {conf} of months, each month, and"
            f" revenue reaches the target in at least {rconf} of months" if all_met else
            "Not every commitment below is certified at the requested confidence: see"
            " 'Where the plan falls short'")
    out.append(("Purpose", [
        f"Service-level agreement between marketing and sales for '{display_name(sc.name)}':"
        " what marketing"
        " delivers, how fast and how thoroughly sales works it, and the headcount that carries"
        f" it, for a revenue target of {req.revenue_target:,.0f} {cur} per month. {lead}"
        f" (simulation, {req.reps} replications, seed {req.seed}; a commitment counts as met"
        " only when the one-sided 90% lower confidence bound of its monthly P(met) clears the"
        " confidence).",
        f"Revenue per month: P10 {rev_all['p10']:,.0f}, P50 {rev_all['p50']:,.0f}, P90"
        f" {rev_all['p90']:,.0f} {cur}; P(revenue >= target) {_pct(rev_all['p_ge_target'])}"
        f" (95% interval {prob_interval(rev_all['p_ge_target_low'], rev_all['p_ge_target_high'])}),"
        " with the target scaled to each month like the MQL commitment.",
    ]))
    out.append(("Parties and owners", [[
        ["role", "owns", "name"],
        ["Marketing owner (VP Marketing / demand generation)", "MQL volume, lead quality"
         " (acceptance), data quality, the handoff", "________________"],
        ["Sales owner (VP Sales / SDR manager)", "first touch, attempts, disposition,"
         " rejection reasons, AE capacity", "________________"],
        ["Revenue operations (SLA administrator)", "routing, the CRM fields, the monthly"
         " report, escalations", "________________"],
        ["Executive sponsor (CRO / CEO)", "arbitration of escalations, sign-off of changes",
         "________________"],
    ]]))
    start = sc.horizon.measure_start
    end = _months_after(start, sc.horizon.measure_months)
    out.append(("Effective date and term", [
        f"Effective {start.isoformat()} for {sc.horizon.measure_months} month(s), to"
        f" {end.isoformat()} (the window simulated). Renewed by a quarterly review; either"
        " owner may ask for a review when a clause is breached two months running or the"
        " volume plan changes by more than 20 %.",
    ]))
    channels = ", ".join(c.name for c in sc.channels)
    out.append(("Definitions", [
        f"**Lead**: a person who entered the CRM through a channel ({channels}). Excluded"
        " from MQL: existing customers, open opportunities, competitors,"
        " students, job seekers, personal e-mail domains, duplicates of an MQL of the last 30"
        " days.",
        f"**MQL** (marketing-qualified lead): a lead whose score reaches"
        f" {sc.mql_threshold_points:g} of 100 points, from fit (company size, industry, role:"
        " the ideal customer profile) and intent (the action taken: demo or pricing request,"
        " trial, webinar, content download), at creation or after nurturing.",
        "**SAL** (sales-accepted lead): an MQL the assigned SDR has worked (first attempt made)"
        " and not rejected with a reason code; sales accepts or rejects every MQL it reaches.",
        "**SQL** (sales-qualified lead): an MQL that sales reached and qualified as an"
        " opportunity candidate (need, budget or a project, a buying role). **Acceptance rate**"
        " = SQLs / MQLs sales reached and dispositioned in the month; MQLs never reached are"
        " sales' **unworked** MQLs and do not count against marketing's quality.",
        "**Business hours**: the owning team's working calendar (time zone, working days,"
        " hours, holidays). **Clock hours/days**: elapsed time.",
    ]))
    m, a = by["mql_volume"], by["acceptance"]
    need = rec.volumes[-1].get("mqls_needed_for_mean_target")
    out.append(("Marketing's commitments", [
        f"1. {m.statement} — {_conf(m)}. Basis: {choice_label(m.basis)} (each month owes the"
        " figure x its days / 30.44 when counted per calendar day, x its working days / their"
        " monthly mean when counted per working day, or the figure itself when flat)."
        + (f" The revenue target needs {need:,.0f} MQLs per month on average; the commitment"
           " is the volume marketing delivers in at least the confidence of months."
           if need else ""),
        f"2. {a.statement} — {_conf(a)}.",
        "3. Lead volumes per channel (leads per month): " + ", ".join(
            f"{v['channel']} {v['leads_per_month']:,.0f}" for v in rec.volumes
            if v["channel"] != "total") + ".",
    ]))
    h = by["handoff"]
    out.append(("The handoff", [
        f"{h.statement} — {_conf(h)}. Handoff mode: {sc.handoff.mode}"
        + (f" (every {sc.handoff.batch_every_hours:g} h)" if sc.handoff.batch_every_hours
           else "") + ".",
    ]))
    out.append(("Intent tiers", _tiers(sc, by["first_touch"])))
    rows = [["team", "SDRs (analytic)", "SDRs (simulated, recommended)", "routing",
             "work order", "assignment"]]  # fmt: skip
    for t in sc.teams:
        rows.append([t.name, str(hc[t.name]["analytic"]), str(t.reps),
                     f"{choice_label(sc.routing.team_rule)} / {choice_label(sc.routing.rep_rule)},"
                     f" at most {t.max_active_leads} active leads per SDR",
                     choice_label(t.work_order), choice_label(t.assignment)])  # fmt: skip
    out.append(("Lead distribution rules", [
        f"MQLs are routed to {choice_label(sc.routing.team_rule)}, then"
        f" {choice_label(sc.routing.rep_rule)}. When every SDR holds its maximum of active"
        " leads, MQLs wait in the team's queue.", rows,
    ]))
    f, at, d, ae = by["first_touch"], by["attempts"], by["disposition"], by["ae_capacity"]
    out.append(("Sales' follow-up and disposition commitments", [
        f"1. {f.statement} — {_conf(f)}.",
        f"2. {at.statement} — {_conf(at)}. Cadence: attempts on days"
        f" {', '.join(f'{x:g}' for x in sc.follow_up.cadence_days)} after the first.",
        f"3. {d.statement} — {_conf(d)}.",
        f"4. {ae.statement} — {_conf(ae)}. AEs: {sc.ae.count} (analytic"
        f" {hc['ae']['analytic']}), at most {sc.ae.max_open_opportunities} open opportunities"
        " each.",
        f"The clause that binds (lowest P(met)): **{CLAUSE_WORDS.get(rec.binding, rec.binding)}**.",
    ]))
    out.append(("Work policy and cost", _policy(rec, cur) + _money(rec)))
    out.append(("Where the plan falls short", [s["statement"] for s in rec.shortfalls]
                or ["Nothing: every clause is met and certified at the requested confidence,"
                    " and revenue reaches the target at the revenue confidence."]))
    rows = [["code", "meaning", "what happens"], *[list(r) for r in REASON_CODES]]
    out.append(("Rejection reason codes and recycling", [
        "Every MQL sales rejects carries one reason code, entered in the CRM when it is"
        " dispositioned; a rejection without a code counts as accepted.", rows,
        f"Recycled MQLs return to nurture {sc.nurture.recycle_score_points:g} points below the"
        f" threshold and are touched every {sc.nurture.touch_interval_days:g} days; one that"
        " scores back above the threshold is a new MQL episode (measured again like any MQL);"
        f" one that does not within {sc.nurture.max_days:g} days leaves nurture.",
    ]))
    out.append(("Feedback loop on lead quality", [
        "Monthly, revenue operations reports acceptance by channel and intent tier, the"
        " reason codes' shares and the unworked MQLs; marketing adjusts scoring (threshold,"
        " fit and intent weights) and channel spend; sales reviews R7 (unreached) and"
        " disputed codes with marketing. A reason code above 20 % of a channel's rejections"
        " two months running triggers a scoring review.",
    ]))
    out.append(("Marketing's data-quality commitments", [
        "Every MQL reaches sales with: a valid e-mail, a phone number where the channel"
        " collects one, company, country or time zone, channel and campaign source, score and"
        " the intent action; at least 95 % complete per field each month. Duplicates below 2 %"
        " of MQLs; R6 (bad data) below 5 % of MQLs, else the month's MQL count is reduced by the"
        " excess.",
    ]))
    out.append(("Surge, weekend and holiday rules", _surge(sc)))
    rows = [["clause", "measured from (CRM fields)", "clock", "period"]]
    for c in rec.commitments:
        rows.append([CLAUSE_WORDS.get(c.clause, c.clause), _fields(c.clause, mapping), c.clock,
                     c.period])  # fmt: skip
    rows.append(["Revenue", _fields("revenue", mapping), "close date", "month"])
    out.append(("Reporting: CRM fields and review cadence", [
        "Per-lead clauses count an MQL as met when the event happens by its deadline, breached"
        " otherwise; leads whose deadline falls after the end of the data are pending and not"
        f" counted. A month is met when at least {prob(sla.lead_compliance_target)} of that"
        " month's MQLs meet the clause; period clauses (MQL volume, acceptance) compare the"
        " month's total with its commitment.", rows,
        "Weekly: revenue operations publishes first touch, backlog and unworked MQLs per team."
        " Monthly (first week): both owners review every clause for the month just closed"
        " (`sla-sim crm measure` on the CRM export) against the P(met) stated here. Quarterly:"
        " renegotiate targets and headcount (`sla-sim recommend` on the recalibrated"
        " scenario).",
    ]))
    out.append(("Escalation path and consequences", [
        "1. A clause breached in a month: revenue operations notifies both owners within two"
        " business days with the measured figure and the leads behind it.",
        "2. Breached two months running: the owners agree a remedy within a week (staffing,"
        " routing, work order or reassignment for sales; spend, scoring or data fixes for"
        " marketing).",
        "3. Breached three months running, or revenue below target two months running: the"
        " executive sponsor decides; the breached side's targets, budget or headcount are"
        " reviewed, and this SLA is re-run with the measured parameters.",
        "Consequences are operational, not punitive: breached first touch re-routes the"
        " waiting leads (reassignment) and opens a staffing review; a missed MQL commitment"
        " opens a spend and channel review.",
    ]))
    out.append(("Trade-off menus", _menus(rec, cur)))
    out.append(("Signatures", [[
        ["party", "name", "signature", "date"],
        ["Marketing owner", "", "", ""], ["Sales owner", "", "", ""],
        ["Revenue operations", "", "", ""], ["Executive sponsor", "", "", ""],
    ]]))
    return out


#: Rows of the analytic screen shown in the document (every row is in the JSON export).
SCREEN_ROWS = 12


def _money(rec: Any) -> list[Any]:
    """The plan's revenue, cost and profit, and the marginal value of one rep more or fewer."""
    if not rec.money:
        return []
    from sla_sim.recommend.marginal import marginal_table, money_sentence

    return [f"Money of the plan {money_sentence(rec.money)}.",
            "Marginal value of a rep: the plan with one rep more or one fewer on each team, on"
            " the same replications (same seeds); changes per month, profit with its 95%"
            " interval, and what each change does to the clauses in the worst month:",
            marginal_table(rec.marginal)]


def _policy(rec: Any, cur: str) -> list[Any]:
    """The chosen work policy, the headcount-only plan, the saving and the screen."""
    pol = rec.policies
    if not pol:
        return ["The work policy was not searched."]
    from sla_sim.recommend.marginal import target_cost_sentence

    head = "policy (work order / assignment / other levers changed)"
    rows = [[head, "SDRs (simulated)", f"cost per month at the revenue target ({cur})", "met",
             "plan"]]
    for p in pol["plans"]:
        runs_out = p["sdrs"] is None  # today's policy ran out at --max-headcount
        rows.append([policy_words(p["policy"]), "runs out" if runs_out else str(p["sdrs"]),
                     "-" if runs_out else f"{p['cost_per_month']:,.0f}",
                     "yes" if p["met"] else "no",
                     ("chosen" if p["policy"] == pol["chosen"] else "")
                     + (" headcount-only (today's policy)" if p["headcount_only"] else "")])
    screen = [[head, "SDRs (analytic) per first-touch window", f"mean cost per month ({cur})"]]
    for r in pol["screen"][:SCREEN_ROWS]:
        screen.append([policy_words(r["policy"]), ", ".join(f"{h} h: {n}" for h, n in
                                              r["sdrs_analytic"].items()),
                       f"{r['cost_per_month_analytic']:,.0f}"])
    lv = pol.get("chosen_levers", {})
    return [
        f"Work policy of the SDR teams: **{policy_words(pol['chosen'])}** (today's:"
        f" {policy_words(pol['headcount_only'])})."
        + (" Today's policy runs out within --max-headcount: there is no headcount-only plan."
           if pol["saving_per_month"] is None else
           f" Saving against the headcount-only plan: {pol['saving_per_month']:,.0f} {cur} per"
           " month.")
        + (" " + target_cost_sentence(pol, cur)).rstrip(),
        f"Weekend and holiday coverage: {lv.get('coverage', 'not searched')}; active-lead cap:"
        f" x{lv.get('active_lead_cap_factor', 1.0):g} today's; follow-up cadence: every"
        f" attempt due after x{lv.get('cadence_factor', 1.0):g} today's days (priced at the"
        " same lead volumes; the revenue of the plan is measured with it).",
        rows,
        f"Analytic screen ({len(pol['screen'])} policies: "
        + ", ".join(pol.get("levers_searched", [])) + f"; the {SCREEN_ROWS} cheapest shown, all"
        " in recommendation.json; the cheapest were simulated with the same seeds):",
        screen,
    ]


def _tiers(sc: Any, ft: Any) -> list[Any]:
    """Intent tiers from ``routing.priority_by``: the classes served first, and the window."""
    r = sc.routing
    if r.priority_by == "none" or not r.priority_order:
        return ["One tier: every MQL gets the same first-touch window"
                f" ({ft.target:g} business hours); `routing.priority_by` sets none. A demo or"
                " pricing request is not treated apart from a content download: set"
                " `routing.priority_by` and `routing.priority_order` to serve high-intent"
                " MQLs first."]
    rows = [["tier", r.priority_by, "served"]]
    for i, name in enumerate(r.priority_order, 1):
        rows.append([str(i), name, "before every lower tier (in the team queue and among a"
                     " rep's due attempts)"])
    rows.append([str(len(r.priority_order) + 1), "all others", "after the listed tiers"])
    return [f"MQLs are served in intent tiers by {r.priority_by}: higher tiers are started"
            f" first (non-pre-emptive); the first-touch commitment ({ft.target:g} business"
            " hours) applies to every tier, and higher tiers reach it sooner.", rows]


def _surge(sc: Any) -> list[Any]:
    """Calendars, holidays and campaign bursts in plain words."""
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    out = []
    for t in sc.teams:
        cal = t.calendar
        if cal.always_open:
            out.append(f"Team {t.name} works around the clock: the clocks never stop.")
            continue
        days = ", ".join(names[d] for d in cal.working_days)
        out.append(f"Team {t.name} works {days} {cal.start_hour:g}:00-{cal.end_hour:g}:00"
                   f" ({cal.timezone}); {len(cal.holidays)} holiday(s) listed. An MQL arriving"
                   " outside these hours starts its business-hour clock at the next opening;"
                   " weekends and holidays do not count on the clock.")
        rota = [c for c in t.rep_calendars if set(c.working_days) - set(cal.working_days)]
        if rota:
            extra = sorted(set().union(*(set(c.working_days) for c in rota)) - set(
                cal.working_days))
            out.append(f"Weekend and holiday rota: {len(rota)} of the {t.reps} reps of team"
                       f" {t.name} work {', '.join(names[d] for d in rota[0].working_days)}"
                       f" (holidays included) and work the MQLs that arrive on"
                       f" {', '.join(names[d] for d in extra)} and on holidays, so that they"
                       " do not wait for Monday; the clock still counts the team calendar"
                       " only.")
        else:
            out.append(f"Weekends and holidays are not covered by team {t.name}.")
    bursts = sc.arrivals.bursts
    out.append(("Surges: the confidence covers the campaign bursts of the plan ("
                + "; ".join(f"{b.channel} x{b.multiplier:g} for {b.duration_days:g} days from"
                            f" day {b.start_day:g}" for b in bursts) + ")." if bursts else
                 "Surges: the plan has no campaign burst.")
                + " Marketing announces any campaign expected to lift weekly MQLs by more than"
                " 25 % five business days ahead; surge weeks are not exempt, and a surge beyond"
                " the plan is reviewed before the month is judged.")
    return out


def _menus(rec: Any, cur: str) -> list[Any]:
    """The first-touch menu (SDRs per window) and the revenue-confidence menu (volumes)."""
    menu = [["first touch within (business h)", "SDRs", "AEs simulated", "P(met) worst month",
             f"revenue P50 ({cur}/month)"]]  # fmt: skip
    for r in rec.menu:
        sdrs = str(r["sdrs"]) if r["sdrs"] is not None else f"> {r.get('sdrs_more_than')}"
        menu.append([f"{r['first_touch_hours']:g}" + (" (requested)" if r["requested"] else ""),
                     sdrs, str(r.get("aes", "—")), _pct(r.get("p_met")),
                     f"{r['revenue_p50']:,.0f}" if r.get("revenue_p50") else "—"])  # fmt: skip
    items: list[Any] = ["SDRs needed for each first-touch window at the same confidence (the"
                        " requested window's row is the plan, simulated with its AEs; the"
                        " other windows with the AEs of the SDR search):", menu]
    if rec.revenue_menu:
        rm = [["P(revenue >= target) each month", "leads per month", "MQLs per month",
               f"mean revenue ({cur}/month)"]]  # fmt: skip
        for r in rec.revenue_menu:
            rm.append([prob(r["revenue_confidence"])
                       + (" (the plan)" if r.get("plan") else " (estimate)"),
                       f"{r['leads_per_month']:,.0f}",
                       f"{r['mqls_per_month']:,.0f}", f"{r['revenue_mean_per_month']:,.0f}"])
        how = ("the plan's row is the plan itself, simulated; the other rows scale its volumes"
               if any(r.get("plan") for r in rec.revenue_menu) else
               "estimated from the plan's simulation")
        items += [f"Volumes for each revenue confidence ({how}; mean revenue grows like the"
                  " volume, its spread like its square root):", rm]
    return items


__all__ = ["CLAUSE_FIELDS", "REASON_CODES", "SECTIONS", "sections"]
