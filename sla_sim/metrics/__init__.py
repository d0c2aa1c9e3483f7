"""KPIs and SLA breach accounting, computed only from an event log.

``compute(log, scenario)`` returns a tidy table (period, metric, value): one row per calendar
month of the measured window and per metric, plus the whole window as period ``total``. The same
function measures a simulated run and a CRM export mapped to the event-log schema.

Metric names are stable (see :data:`METRIC_DOCS`); breach indicators are 0/1 so that their mean
across replications is the probability of a breach.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from sla_sim.calendar import BusinessCalendar, CalendarSpec, shared_calendar
from sla_sim.events import CODE, EventLog
from sla_sim.horizon import TOTAL, Period, Window, window_for
from sla_sim.metrics.backlog import Backlog, assignments
from sla_sim.metrics.capacity import (
    AESelling,
    AEWaits,
    AttemptSpans,
    Level,
    RepShifts,
    business_hours_between,
)
from sla_sim.metrics.clauses import BREACHED, CLAUSES, MET, PENDING, evaluate
from sla_sim.metrics.docs import METRIC_DOCS
from sla_sim.metrics.episodes import Episodes, build_episodes, episode_keys
from sla_sim.scenario.schema import Scenario, SLASpec
from sla_sim.stats import percentiles

__all__ = ["METRIC_DOCS", "TOTAL", "Measurement", "Window", "compute", "measure", "window_for"]


def _clock() -> BusinessCalendar:
    """An always-open calendar: business hours between two times are clock hours."""
    return shared_calendar(CalendarSpec(timezone="UTC", always_open=True),
                     datetime(2000, 1, 1, tzinfo=UTC), 0.0)


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("nan")


def _p50_p90(x: np.ndarray) -> tuple[float, float]:
    """Median and 90th percentile of ``x`` (NaN if empty), from one partition of ``x``."""
    if not len(x):
        return float("nan"), float("nan")
    p50, p90 = percentiles(x, (50, 90))
    return p50, p90


def _isin(keys: np.ndarray, among: np.ndarray) -> np.ndarray:
    """``np.isin(keys, among)`` for integer keys, by binary search in the sorted ``among``."""
    if not len(among):
        return np.zeros(len(keys), dtype=bool)
    s = np.sort(among)
    i = np.minimum(np.searchsorted(s, keys), len(s) - 1)
    return s[i] == keys


def _first_rows(cols: dict[str, np.ndarray], ref_rows: np.ndarray, rows: np.ndarray
                ) -> np.ndarray | None:  # fmt: skip
    """For each of ``rows``, the index in ``ref_rows`` of the first row of its episode, -1 if
    none, by one compiled pass over a dense (lead, episode) table (no sort); ``None`` where
    the table does not fit the log (the caller sorts and searches the episode keys)."""
    lead, ep = cols["lead"], cols["episode"]
    if lead.dtype != np.int64 or ep.dtype != np.int32 or rows.dtype != np.intp \
            or ref_rows.dtype != np.intp:  # fmt: skip
        return None
    from sla_sim.metrics.kernels import first_rows  # numba: loaded on first use

    idx, ok = first_rows(lead, ep, ref_rows, rows)
    return idx if ok else None


def _has_row(cols: dict[str, np.ndarray], rows: np.ndarray, among_rows: np.ndarray
             ) -> np.ndarray:  # fmt: skip
    """Whether the episode of each of ``rows`` has one of ``among_rows`` (``_isin`` of their
    episode keys)."""
    idx = _first_rows(cols, among_rows, rows)
    if idx is not None:
        return idx >= 0
    return _isin(episode_keys(cols, rows), episode_keys(cols, among_rows))


def _period_counts(win: Window, event_t: dict[Any, np.ndarray]) -> list[dict[Any, int]]:
    """Per period of ``win``, how many of each event's times lie in it ([start, end)). When the
    months partition the window (as :func:`~sla_sim.horizon.month_window` makes them), one
    binary search per time finds its month, and the total is the sum of the months."""
    months = win.months
    edges = [win.start_h, *(m.end_h for m in months)]
    if months and all(m.start_h == e for m, e in zip(months, edges, strict=False)) and (
            edges[-1] == win.end_h):  # fmt: skip
        e = np.asarray(edges, dtype=np.float64)
        from sla_sim.metrics.kernels import bin_counts  # numba: loaded on first use

        per_month = {code: bin_counts(np.asarray(tc, dtype=np.float64), e)[1:len(edges)]
                     for code, tc in event_t.items()}  # fmt: skip
        out = [{code: int(c[i]) for code, c in per_month.items()} for i in range(len(months))]
        return [*out, {code: int(c.sum()) for code, c in per_month.items()}]
    return [{code: int(np.count_nonzero((tc >= p.start_h) & (tc < p.end_h)))
             for code, tc in event_t.items()} for p in win.periods]  # fmt: skip


def _month_edges(win: Window) -> np.ndarray | None:
    """The window's month boundaries when its months partition it (as
    :func:`~sla_sim.horizon.month_window` makes them), else ``None``."""
    months = win.months
    edges = [win.start_h, *(m.end_h for m in months)]
    if months and all(m.start_h == e for m, e in zip(months, edges, strict=False)) and (
            edges[-1] == win.end_h):  # fmt: skip
        return np.asarray(edges, dtype=np.float64)
    return None


def _coded_period_counts(win: Window, code: np.ndarray, t: np.ndarray,
                         names: dict[Any, int]) -> list[dict[Any, int]]:  # fmt: skip
    """:func:`_period_counts` of ``{name: t[code == k] for name, k in names.items()}``: with
    months that partition the window, the times of every code binned in one compiled pass."""
    e = _month_edges(win)
    if e is None or code.dtype != np.int16 or t.dtype != np.float64:
        return _period_counts(win, {name: t[code == k] for name, k in names.items()})
    from sla_sim.metrics.kernels import code_bin_counts  # numba: loaded on first use

    wanted = np.zeros(max(names.values(), default=-1) + 1, dtype=np.bool_)
    wanted[list(names.values())] = True
    counts = code_bin_counts(code, t, e, wanted)[:, 1:len(e)]
    out = [{name: int(counts[k, i]) for name, k in names.items()} for i in range(len(e) - 1)]
    return [*out, {name: int(counts[k].sum()) for name, k in names.items()}]


def compute(log: EventLog, scenario: Scenario, window: Window | None = None) -> pd.DataFrame:
    """Every KPI and SLA clause per period of the window, as a tidy (period, metric, value)
    DataFrame."""
    return measure(log, scenario, window).table(scenario.sla)


@dataclass
class _PeriodFacts:
    """What a period's metrics need that no SLA setting changes."""

    period: Period
    months: float
    counts: dict[str, int]  # rows per event in the period
    revenue: float
    sales_cycle_days_mean: float
    response: tuple[float, float, float, float, float]  # clock mean, p50, p90; business p50, p90
    capacity: tuple[float, ...]  # sdr util, queue mean, max; ae... (see _CAPACITY)
    backlog: tuple[float, float, float]  # untouched assigned MQLs: mean, max; age P90 (h)
    capacity_hours: float  # rep working hours x ramp share
    basis_months: dict[str, float]  # the period in months per commitment basis


@dataclass
class Measurement:
    """An event log measured up to its SLA: :meth:`table` gives the metrics under any
    :class:`~sla_sim.scenario.schema.SLASpec` without reading the log again.

    Everything that depends only on the log, the calendars and the capacity (counts, revenue,
    response times, utilisation, the episodes) is computed once by :func:`measure`; the SLA
    clauses, breach flags and targets are judged per call. ``measure(log, sc).table(sla)``
    equals ``compute(log, sc')`` for ``sc'`` = ``sc`` with that SLA.
    """

    window: Window
    calendars: list[BusinessCalendar]
    episodes: Episodes
    periods: list[_PeriodFacts]
    attempts_required: int  # what ``episodes.kth_attempt`` was built for

    def table(self, sla: SLASpec) -> pd.DataFrame:
        """The tidy (period, metric, value) table under ``sla``."""
        return pd.DataFrame(self.rows(sla), columns=["period", "metric", "value"])

    def rows(self, sla: SLASpec) -> list[tuple[str, str, float]]:
        """The rows (period, metric, value) of :meth:`table`, in its order."""
        ep = self.episodes
        if sla.attempts_required != self.attempts_required:
            ep = ep.with_attempts_required(sla.attempts_required)
        outcomes = evaluate(ep, sla, self.calendars, observed_until=self.window.end_h)
        # per period, the episodes of each clause and status, by when the clause started
        judged = [{}] * len(self.window.periods)
        for name, oc in outcomes.items():  # each clause's statuses counted in one pass
            per = _coded_period_counts(self.window, oc.status.astype(np.int16), oc.start,
                                       {(name, st): st for st in (MET, BREACHED, PENDING)})
            judged = [{**a, **b} for a, b in zip(judged, per, strict=True)]
        rows: list[tuple[str, str, float]] = []
        for pi, f in enumerate(self.periods):
            p, c = f.period, f.counts

            def add(metric: str, value: float, p: Period = p) -> None:
                rows.append((p.label, metric, float(value)))

            mqls, sqls = c["mql"], c["sql"]
            disq, recyc = c["disqualified"], c["recycled"]
            wins, losses = c["won"], c["lost"]
            add("leads_created", c["created"])
            add("mqls", mqls)
            add("sqls", sqls)
            add("opportunities", c["opp_open"])
            add("wins", wins)
            add("losses", losses)
            add("disqualified", disq)
            add("recycled", recyc)
            add("nurture_expired", c["nurture_expired"])
            add("lead_to_mql_rate", _ratio(mqls, c["created"]))
            commitment = sla.mql_commitment_per_month * f.basis_months[
                sla.mql_commitment_basis]
            add("mql_commitment", commitment)
            add("mql_volume_breach", float(mqls < commitment))
            # acceptance is judged over the MQLs sales reached; MQLs recycled without any
            # contact in their episode are sales' unworked MQLs, not marketing's quality
            unworked = c["unworked"]
            acceptance = _ratio(sqls, sqls + disq + recyc - unworked)
            add("unworked_mqls", unworked)
            add("unworked_rate", _ratio(unworked, sqls + disq + recyc))
            add("acceptance_rate", acceptance)
            add("acceptance_breach", float(acceptance < sla.acceptance_rate_min)
                if not np.isnan(acceptance) else float("nan"))
            # the revenue target follows the same month basis as the MQL commitment: revenue
            # comes from leads that arrive per day, so a flat target misses February by design
            target = sla.revenue_target_per_month * f.basis_months[sla.mql_commitment_basis]
            add("revenue", f.revenue)
            add("revenue_target", target)
            add("revenue_attainment", _ratio(f.revenue, target))
            add("revenue_target_breach", float(f.revenue < target))
            add("deal_closure_rate", _ratio(wins, wins + losses))
            add("sales_cycle_days_mean", f.sales_cycle_days_mean)
            # per-lead clauses, by the period in which the clause started
            for name in CLAUSES:
                met, br, pe = (judged[pi][name, st] for st in (MET, BREACHED, PENDING))
                comp = _ratio(met, met + br)
                add(f"{name}_met", met)
                add(f"{name}_breached", br)
                add(f"{name}_pending", pe)
                add(f"{name}_compliance", comp)
                add(f"{name}_breach", float(comp < sla.lead_compliance_target)
                    if not np.isnan(comp) else float("nan"))
            for name, value in zip(_RESPONSE, f.response, strict=True):
                add(name, value)
            for name, value in zip(_CAPACITY, f.capacity, strict=True):
                add(name, value)
            for name, value in zip(_BACKLOG, f.backlog, strict=True):
                add(name, value)
            add("sdr_capacity_hours", f.capacity_hours)
            add("sdr_reassigned", c["reassigned"])
            add("sdr_reassigned_rate", _ratio(c["reassigned"], c["assigned"]))
            add("sdr_escalated", c["escalated"])
            add("sdr_escalated_rate", _ratio(c["escalated"], c["assigned"]))
        return rows


_RESPONSE = ("response_hours_mean", "response_hours_p50", "response_hours_p90",
             "response_business_hours_p50", "response_business_hours_p90")  # fmt: skip
_CAPACITY = ("sdr_utilization", "sdr_queue_mean", "sdr_queue_max", "ae_open_mean",
             "ae_utilization", "ae_queue_mean", "ae_wait_business_hours_mean")  # fmt: skip
_BACKLOG = ("sdr_backlog_mean", "sdr_backlog_max", "sdr_backlog_age_p90")
_COUNTED = ("created", "mql", "sql", "opp_open", "won", "lost", "disqualified", "recycled",
            "nurture_expired", "assigned", "reassigned", "escalated")  # fmt: skip


def _episode_time(keys: np.ndarray, ref_keys: np.ndarray, ref_t: np.ndarray) -> np.ndarray:
    """For each episode key, the time of the first reference row of that episode (NaN if
    none)."""
    if not len(ref_keys):
        return np.full(len(keys), np.nan)
    order = np.argsort(ref_keys, kind="stable")
    pos = np.minimum(np.searchsorted(ref_keys[order], keys), len(ref_keys) - 1)
    return np.where(ref_keys[order][pos] == keys, ref_t[order][pos], np.nan)


def _episode_time_of_rows(cols: dict[str, np.ndarray], rows: np.ndarray,
                          ref_rows: np.ndarray, ref_t: np.ndarray) -> np.ndarray:  # fmt: skip
    """:func:`_episode_time` of the episodes of ``rows``, with reference rows ``ref_rows``
    (times ``ref_t``): by the dense table of :func:`_first_rows` where it fits."""
    idx = _first_rows(cols, ref_rows, rows) if len(ref_rows) else None
    if idx is None:
        return _episode_time(episode_keys(cols, rows), episode_keys(cols, ref_rows), ref_t)
    return np.where(idx >= 0, ref_t[idx], np.nan)


def _ae_hours(cols: dict[str, np.ndarray], by_event: list[np.ndarray], scenario: Scenario,
              win: Window, opp_rows: np.ndarray, opp_open_t: np.ndarray
              ) -> tuple[AEWaits, AESelling]:  # fmt: skip
    """The AE clause's waits (SQL to opportunity opened, AE business hours) and the AEs'
    selling hours, on the AE calendar.

    The calendar starts ``back`` whole days before the window's origin when the log has rows
    before it (a CRM export's history before the measured window), and times are shifted by
    as much, so that a selling block opened then is placed on working hours too."""
    sql_rows = by_event[CODE["sql"]]
    sql_t = cols["time_h"][sql_rows]
    first = min(float(np.min(opp_open_t, initial=0.0)), float(np.min(sql_t, initial=0.0)))
    back = 24.0 * math.floor(first / 24.0)  # <= 0
    cal = shared_calendar(scenario.ae.calendar, win.origin + timedelta(hours=back),
                          win.end_h - back)  # fmt: skip
    opened = _episode_time_of_rows(cols, sql_rows, opp_rows, opp_open_t)
    waits = AEWaits(sql_t, business_hours_between(
        cal, sql_t - back,
        np.where(np.isnan(opened), np.maximum(sql_t, win.end_h), opened) - back))
    return waits, AESelling(cal, scenario.ae.count, opp_open_t - back,
                            scenario.ae.work_business_hours, back)


def measure(log: EventLog, scenario: Scenario, window: Window | None = None) -> Measurement:
    """Measure an event log up to its SLA (see :class:`Measurement`)."""
    win = window or window_for(scenario)
    k = scenario.sla.attempts_required
    cols = log.columns(sort=False)  # every computation below is order-independent
    by_event = log.event_rows()  # positions of each event code's rows, in log order
    t, val = cols["time_h"], cols["value"]
    cals = [shared_calendar(team.calendar, win.origin, win.end_h) for team in scenario.teams]
    ep = build_episodes(cols, k, by_event)
    response_clock = ep.first_attempt - ep.mql
    response_bh = np.full(len(ep), np.nan)
    for ti, cal in enumerate(cals):
        m = (ep.team == ti) & ~np.isnan(ep.first_attempt)
        if m.any():
            response_bh[m] = business_hours_between(cal, ep.mql[m], ep.first_attempt[m])
    shifts = RepShifts(cols, by_event)  # staffing plans: reps' own working intervals
    reps = [(cal, team.reps) for ti, (cal, team) in enumerate(zip(cals, scenario.teams,
            strict=True)) if ti not in shifts.teams]  # fmt: skip
    ae_slots = scenario.ae.count * scenario.ae.max_open_opportunities

    def times(code: str) -> np.ndarray:
        """Times of the rows of an event, in log order."""
        return t[by_event[CODE[code]]]

    opp_rows = by_event[CODE["opp_open"]]
    opp_open_t = t[opp_rows]
    close_rows = np.sort(np.concatenate([by_event[CODE["won"]], by_event[CODE["lost"]]]))
    # opportunity open time per closing row, for cycle lengths (a close with no opp_open row
    # of its episode has no cycle: NaN)
    close_open_t = _episode_time_of_rows(cols, close_rows, opp_rows, opp_open_t)
    close_t = t[close_rows]
    ae_wait, ae_busy = _ae_hours(cols, by_event, scenario, win, opp_rows, opp_open_t)
    won_t, won_value = times("won"), val[by_event[CODE["won"]]]
    recycled_rows = by_event[CODE["recycled"]]
    unworked_t = t[recycled_rows][~_has_row(cols, recycled_rows, by_event[CODE["contact"]])]
    busy = AttemptSpans(cols, [_clock() if ti in shifts.teams else cal
                               for ti, cal in enumerate(cals)], by_event[CODE["attempt"]])
    sdr_queue = Level(times("routed"), times("assigned"))
    backlog = Backlog(assignments(cols, by_event), win.end_h)
    ae_open = Level(opp_open_t, close_t)
    ae_queue = Level(times("sql"), opp_open_t)

    facts: list[_PeriodFacts] = []
    calendar_months = _calendar_months(win, scenario)
    period_counts = _coded_period_counts(win, cols["event"], t, {c: CODE[c] for c in _COUNTED})
    for counts, unworked in zip(period_counts, _period_counts(win, {"unworked": unworked_t}),
                                strict=True):  # fmt: skip
        counts.update(unworked)
    for pi, p in enumerate(win.periods):
        months = calendar_months[p][0]
        counts = period_counts[pi]
        revenue = float(won_value[(won_t >= p.start_h) & (won_t < p.end_h)].sum())
        cm = (close_t >= p.start_h) & (close_t < p.end_h)
        cyc = (close_t[cm] - close_open_t[cm]) / 24.0
        cyc = cyc[~np.isnan(cyc)]
        m = (ep.mql >= p.start_h) & (ep.mql < p.end_h) & ~np.isnan(response_clock)
        rc, rb = response_clock[m], response_bh[m]
        rc50, rc90 = _p50_p90(rc)
        rb50, rb90 = _p50_p90(rb)
        avail = sum(n * cal.business_hours_between(p.start_h, p.end_h) for cal, n in reps)
        capacity_h = avail
        if shifts.teams:  # staffed teams: their reps' own hours (share-weighted for capacity)
            hours, weighted = shifts.hours(p.start_h, p.end_h)
            avail, capacity_h = avail + hours, avail + weighted
        qmean, qmax = sdr_queue.mean_max(p.start_h, p.end_h)
        omean, _ = ae_open.mean_max(p.start_h, p.end_h)
        aq, _ = ae_queue.mean_max(p.start_h, p.end_h)
        waits = ae_wait.of_period(p.start_h, p.end_h)
        bmean, bmax = backlog.mean_max(p.start_h, p.end_h)
        facts.append(_PeriodFacts(
            p, months, counts, revenue, float(cyc.mean()) if len(cyc) else float("nan"),
            (float(rc.mean()) if len(rc) else float("nan"), rc50, rc90, rb50, rb90),
            (_ratio(busy.busy_hours(p.start_h, p.end_h), avail), qmean, qmax, omean,
             ae_busy.utilization(p.start_h, p.end_h, _ratio(omean, ae_slots)), aq,
             float(waits.mean()) if len(waits) else float("nan")),
            (bmean, bmax, backlog.age_p90(p.start_h, p.end_h)), capacity_h,
            {}))  # fmt: skip
    for f in facts:
        f.basis_months.update(calendar_months[f.period][1])
    return Measurement(win, cals, ep, facts, k)


_CALENDAR_MONTHS: dict[tuple[Window, str], dict[Period, tuple[float, dict[str, float]]]] = {}


def _calendar_months(win: Window, scenario: Scenario
                     ) -> dict[Period, tuple[float, dict[str, float]]]:  # fmt: skip
    """Per period of ``win``: its length in months and its :func:`basis_months` (the total's
    are the sums of its months'). They depend on the window and the marketing calendar alone,
    so they are worked out once and shared by the replications of a scenario."""
    key = (win, scenario.marketing_calendar.model_dump_json())
    got = _CALENDAR_MONTHS.get(key)
    if got is None:
        if len(_CALENDAR_MONTHS) >= 16:
            _CALENDAR_MONTHS.clear()
        got = {p: (_months_in(win, p), basis_months(win, scenario, p)) for p in win.months}
        got[win.periods[-1]] = (win.n_months, {b: sum(v[1][b] for v in got.values())
                                               for b in BASES})  # fmt: skip
        _CALENDAR_MONTHS[key] = got
    return {p: (m, dict(b)) for p, (m, b) in got.items()}


#: Commitment bases of ``sla.mql_commitment_basis``.
BASES = ("month", "day", "working_day")
#: Mean days per month (365.25 / 12), the unit of ``leads_per_month`` and of the 'day' basis.
DAYS_PER_MONTH = 365.25 / 12


def basis_months(win: Window, scenario: Scenario, p: Period) -> dict[str, float]:
    """How many 'months' of commitment period ``p`` (a month of the window) owes per basis:
    ``month`` — the share of the calendar month covered (1 for a whole month); ``day`` — its
    clock days / 30.44; ``working_day`` — the marketing calendar's working days in it (holidays
    excluded) / the calendar's mean working days per month (working weekdays x 365.25 / 84).
    Days are local calendar days, so a daylight-saving change does not shift them."""
    import datetime as dt

    from sla_sim.horizon import local_at

    cal = scenario.marketing_calendar
    start, end = local_at(win.origin, p.start_h), local_at(win.origin, p.end_h)
    local_days = (end.replace(tzinfo=None) - start.replace(tzinfo=None)).total_seconds() / 86400
    first, last = start.date(), local_at(win.origin, p.end_h - 1e-6).date()
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    if cal.always_open:
        working, per_month = len(days), DAYS_PER_MONTH
    else:
        hol = set(cal.holidays)
        working = sum(1 for d in days if d.weekday() in cal.working_days and d not in hol)
        per_month = len(cal.working_days) * 365.25 / 7 / 12
    return {"month": _months_in(win, p), "day": local_days / DAYS_PER_MONTH,
            "working_day": working / per_month}


def _months_in(win: Window, p: Period) -> float:
    from sla_sim.horizon import month_hours

    return p.hours / month_hours(win.origin, p)
