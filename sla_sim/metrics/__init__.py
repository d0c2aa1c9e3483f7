"""KPIs and SLA breach accounting, computed only from an event log.

``compute(log, scenario)`` returns a tidy table (period, metric, value): one row per calendar
month of the measured window and per metric, plus the whole window as period ``total``. The same
function measures a simulated run and a CRM export mapped to the event-log schema.

Metric names are stable (see :data:`METRIC_DOCS`); breach indicators are 0/1 so that their mean
across replications is the probability of a breach.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from sla_sim.calendar import BusinessCalendar, CalendarSpec
from sla_sim.events import CODE, EventLog
from sla_sim.metrics.capacity import AttemptSpans, Level
from sla_sim.metrics.clauses import BREACHED, CLAUSES, MET, PENDING, evaluate
from sla_sim.metrics.docs import METRIC_DOCS
from sla_sim.metrics.episodes import build_episodes, episode_keys
from sla_sim.metrics.periods import TOTAL, Period, Window, month_window
from sla_sim.scenario import Scenario

__all__ = ["METRIC_DOCS", "TOTAL", "Window", "compute", "window_for"]


def window_for(scenario: Scenario) -> Window:
    """The measured window of a scenario: after the warm-up, to the end of the horizon."""
    from sla_sim.model.funnel import horizon_hours

    origin, start_h, end_h = horizon_hours(scenario)
    return month_window(origin, start_h, end_h)


_CALENDARS: dict[tuple[str, datetime, float], BusinessCalendar] = {}
_CALENDARS_MAX = 32


def _calendar(spec: CalendarSpec, origin: datetime, horizon_h: float) -> BusinessCalendar:
    """``BusinessCalendar(spec, origin, horizon_h)``, built once per distinct content.

    The intervals depend only on the spec's content, the origin's instant and the horizon,
    which make up the cache key, so a cached calendar can never be stale (its ``origin``
    attribute may be another datetime of the same instant). Callers must not modify it.
    """
    key = (spec.model_dump_json(), origin.astimezone(UTC), float(horizon_h))
    cal = _CALENDARS.get(key)
    if cal is None:
        if len(_CALENDARS) >= _CALENDARS_MAX:
            _CALENDARS.clear()
        cal = _CALENDARS[key] = BusinessCalendar(spec, origin, horizon_h)
    return cal


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("nan")


def _p50_p90(x: np.ndarray) -> tuple[float, float]:
    """Median and 90th percentile of ``x`` (NaN if empty), from one partition of ``x``."""
    if not len(x):
        return float("nan"), float("nan")
    p50, p90 = np.percentile(x, [50, 90])
    return float(p50), float(p90)


def compute(log: EventLog, scenario: Scenario, window: Window | None = None) -> pd.DataFrame:
    """Every KPI and SLA clause per period of the window, as a tidy (period, metric, value)
    DataFrame."""
    win = window or window_for(scenario)
    sla = scenario.sla
    cols = log.columns(sort=False)  # every computation below is order-independent
    by_event = log.event_rows()  # positions of each event code's rows, in log order
    t, val = cols["time_h"], cols["value"]
    cals = [_calendar(team.calendar, win.origin, win.end_h) for team in scenario.teams]
    ep = build_episodes(cols, sla.attempts_required, by_event)
    outcomes = evaluate(ep, sla, cals, observed_until=win.end_h)
    response_clock = ep.first_attempt - ep.mql
    response_bh = np.full(len(ep), np.nan)
    for ti, cal in enumerate(cals):
        m = (ep.team == ti) & ~np.isnan(ep.first_attempt)
        if m.any():
            response_bh[m] = cal.business_hours_between_many(ep.mql[m], ep.first_attempt[m])
    reps = [(cal, team.reps) for cal, team in zip(cals, scenario.teams, strict=True)]
    ae_slots = scenario.ae.count * scenario.ae.max_open_opportunities

    def times(code: str) -> np.ndarray:
        """Times of the rows of an event, in log order."""
        return t[by_event[CODE[code]]]

    opp_rows = by_event[CODE["opp_open"]]
    opp_open_t = t[opp_rows]
    close_rows = np.sort(np.concatenate([by_event[CODE["won"]], by_event[CODE["lost"]]]))
    # opportunity open time per closing row, for cycle lengths
    opp_key = episode_keys(cols, opp_rows)
    close_key = episode_keys(cols, close_rows)
    okey_order = np.argsort(opp_key, kind="stable")
    pos = np.searchsorted(opp_key[okey_order], close_key)
    pos = np.minimum(pos, max(len(opp_key) - 1, 0))
    close_open_t = opp_open_t[okey_order][pos] if len(opp_key) else np.empty(0)
    close_t = t[close_rows]
    won_t, won_value = times("won"), val[by_event[CODE["won"]]]
    counted = ("created", "mql", "sql", "opp_open", "won", "lost", "disqualified", "recycled",
               "nurture_expired")
    event_t = {code: times(code) for code in counted}
    busy = AttemptSpans(cols, cals, by_event[CODE["attempt"]])
    sdr_queue = Level(times("routed"), times("assigned"))
    ae_open = Level(opp_open_t, close_t)
    ae_queue = Level(times("sql"), opp_open_t)

    rows: list[tuple[str, str, float]] = []
    for p in win.periods:
        months = win.n_months if p.label == TOTAL else _months_in(win, p)

        def add(metric: str, value: float, p: Period = p) -> None:
            rows.append((p.label, metric, float(value)))

        def count(code: str, p: Period = p) -> int:
            """Number of rows of an event in the period."""
            tc = event_t[code]
            return int(np.count_nonzero((tc >= p.start_h) & (tc < p.end_h)))

        mqls, sqls = count("mql"), count("sql")
        disq, recyc = count("disqualified"), count("recycled")
        wins, losses = count("won"), count("lost")
        revenue = float(won_value[(won_t >= p.start_h) & (won_t < p.end_h)].sum())
        add("leads_created", count("created"))
        add("mqls", mqls)
        add("sqls", sqls)
        add("opportunities", count("opp_open"))
        add("wins", wins)
        add("losses", losses)
        add("disqualified", disq)
        add("recycled", recyc)
        add("nurture_expired", count("nurture_expired"))
        add("lead_to_mql_rate", _ratio(mqls, count("created")))
        commitment = sla.mql_commitment_per_month * months
        add("mql_commitment", commitment)
        add("mql_volume_breach", float(mqls < commitment))
        acceptance = _ratio(sqls, sqls + disq + recyc)
        add("acceptance_rate", acceptance)
        add("acceptance_breach", float(acceptance < sla.acceptance_rate_min)
            if not np.isnan(acceptance) else float("nan"))
        target = sla.revenue_target_per_month * months
        add("revenue", revenue)
        add("revenue_target", target)
        add("revenue_attainment", _ratio(revenue, target))
        add("revenue_target_breach", float(revenue < target))
        add("deal_closure_rate", _ratio(wins, wins + losses))
        cm = (close_t >= p.start_h) & (close_t < p.end_h)
        cyc = (close_t[cm] - close_open_t[cm]) / 24.0
        add("sales_cycle_days_mean", float(cyc.mean()) if len(cyc) else float("nan"))
        # per-lead clauses, by the period in which the clause started
        for name in CLAUSES:
            oc = outcomes[name]
            m = (oc.start >= p.start_h) & (oc.start < p.end_h)
            st = oc.status[m]
            met, br, pe = int((st == MET).sum()), int((st == BREACHED).sum()), int(
                (st == PENDING).sum())
            comp = _ratio(met, met + br)
            add(f"{name}_met", met)
            add(f"{name}_breached", br)
            add(f"{name}_pending", pe)
            add(f"{name}_compliance", comp)
            add(f"{name}_breach", float(comp < sla.lead_compliance_target)
                if not np.isnan(comp) else float("nan"))
        m = (ep.mql >= p.start_h) & (ep.mql < p.end_h) & ~np.isnan(response_clock)
        rc, rb = response_clock[m], response_bh[m]
        add("response_hours_mean", float(rc.mean()) if len(rc) else float("nan"))
        rc50, rc90 = _p50_p90(rc)
        rb50, rb90 = _p50_p90(rb)
        add("response_hours_p50", rc50)
        add("response_hours_p90", rc90)
        add("response_business_hours_p50", rb50)
        add("response_business_hours_p90", rb90)
        # capacity
        avail = sum(n * cal.business_hours_between(p.start_h, p.end_h) for cal, n in reps)
        add("sdr_utilization", _ratio(busy.busy_hours(p.start_h, p.end_h), avail))
        qmean, qmax = sdr_queue.mean_max(p.start_h, p.end_h)
        add("sdr_queue_mean", qmean)
        add("sdr_queue_max", qmax)
        omean, _ = ae_open.mean_max(p.start_h, p.end_h)
        add("ae_open_mean", omean)
        add("ae_utilization", _ratio(omean, ae_slots))
        aq, _ = ae_queue.mean_max(p.start_h, p.end_h)
        add("ae_queue_mean", aq)
    return pd.DataFrame(rows, columns=["period", "metric", "value"])


def _months_in(win: Window, p: Period) -> float:
    from sla_sim.metrics.periods import month_hours

    return p.hours / month_hours(win.origin, p)
