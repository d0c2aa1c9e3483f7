"""Backtest: calibrate on the past, simulate what came next, compare with what happened.

The export is cut at ``train_until`` (leads created before it, every later timestamp erased,
so what was still open then is censored), calibrated, and the calibrated scenario simulated
from ``train_until`` for the test months (plus 90 days so the test cohort can mature). For
each metric and test month: the observed value, the simulated P10 / P50 / P90, and whether the
observation falls inside P10-P90. Metrics: MQLs, first-touch compliance, SQLs and wins per
month, and the cumulative share of the test cohort's MQLs won within 7, 14, 30, 60 and 90
days of becoming an MQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sla_sim.crm.calibrate import Calibration, calibrate
from sla_sim.crm.load import CrmExport
from sla_sim.crm.measure import measure_export
from sla_sim.crm.naive import naive_forecast, weekly_counts
from sla_sim.crm.origins import FOLLOW_UP_MONTHS, monthly_origins
from sla_sim.crm.predictive import TREND_WEEKS, band_sources, draw_scenarios, volume_trend
from sla_sim.crm.scoring import add_errors, summarise
from sla_sim.crm.to_log import to_log
from sla_sim.errors import Issue, ScenarioError
from sla_sim.events import CODE, EventLog
from sla_sim.horizon import elapsed_hours
from sla_sim.scenario import Scenario

__all__ = ["COHORT_DAYS", "MONTHLY", "Backtest", "RollingBacktest", "backtest",
           "check_simulation_cost", "cohort_won_within", "monthly_origins", "rolling_backtest",
           "simulate_months"]  # fmt: skip

COHORT_DAYS = (7, 14, 30, 60, 90)
MONTHLY = ("mqls", "first_touch_compliance", "sqls", "opportunities", "wins")


def cohort_won_within(log: EventLog, t0: float, t1: float,
                      days: tuple[int, ...] = COHORT_DAYS) -> dict[int, float]:  # fmt: skip
    """Share of the leads whose first MQL falls in [t0, t1) (model hours) that were won within
    ``d`` days of it, for each ``d``."""
    cols = log.columns(sort=False)
    rows = log.event_rows()
    ev_lead, t = cols["lead"], cols["time_h"]
    mql_rows = rows[CODE["mql"]]
    n = int(ev_lead.max()) + 1 if len(ev_lead) else 0
    first = np.full(n, np.inf)
    np.minimum.at(first, ev_lead[mql_rows], t[mql_rows])
    won = np.full(n, np.inf)
    wr = rows[CODE["won"]]
    np.minimum.at(won, ev_lead[wr], t[wr])
    cohort = (first >= t0) & (first < t1)
    m = int(cohort.sum())
    if m == 0:
        return {d: float("nan") for d in days}
    lag = won[cohort] - first[cohort]
    return {d: float(np.mean(lag <= d * 24.0)) for d in days}


def _local_midnight(ts: pd.Timestamp) -> pd.Timestamp:
    """Local midnight of ``ts``'s day (the first instant of the day where midnight is skipped
    by a DST change)."""
    return ts.tz_localize(None).normalize().tz_localize(ts.tz, nonexistent="shift_forward",
                                                        ambiguous=False)


def _add_months(ts: pd.Timestamp, k: int) -> pd.Timestamp:
    return (ts.tz_localize(None) + pd.DateOffset(months=k)).tz_localize(
        ts.tz, nonexistent="shift_forward", ambiguous=False)


def check_simulation_cost(sc: Scenario, reps: int, months: int, origins: int = 1,
                          field: str = "--reps", value: object = None) -> None:
    """Refuse, before anything is read or drawn, simulating ``reps`` replications of ``sc``
    over ``months`` measured months from each of ``origins`` origins when that is over the
    cost limits (:func:`sla_sim.batch.limits.check_cost`, naming ``field`` and ``value``,
    by default ``reps``)."""
    from sla_sim.batch.limits import check_cost

    measured = sc.model_copy(update={"horizon": sc.horizon.model_copy(
        update={"measure_months": months})})  # fmt: skip
    check_cost(measured, reps * origins, 1, field=field, value=reps if value is None else value)


def simulate_months(sc: Scenario | list[Scenario], start: pd.Timestamp, months: int,
                    reps: int, seed: int, progress: bool = True,
                    extra_months: int = FOLLOW_UP_MONTHS,
                    volume: np.ndarray | None = None) -> pd.DataFrame:  # fmt: skip
    """Simulate from ``start`` (a local date) for ``months`` measured months (plus
    ``extra_months`` of follow-up), replication ``r`` with ``sc[r]`` (a list: predictive draws)
    or ``sc``, its volumes in the measured months multiplied by ``volume[r]`` (the trend's
    draw; the warm-up keeps the scenario's); tidy (replication, period, metric, value) of the
    metrics of the measured months plus the cohort shares (period ``cohort``). Replications
    run through the batch layer; no lead arrives in the follow-up months (they only let the
    test cohort mature)."""
    from sla_sim.batch.replications import run_replication
    from sla_sim.horizon import horizon_hours
    from sla_sim.progress import progress_bar

    scs = sc if isinstance(sc, list) else [sc] * reps
    horizon = scs[0].horizon.model_copy(update={"measure_start": start.date(),
                                                "measure_months": months + extra_months})
    origin, start_h, end_h = horizon_hours(scs[0].model_copy(update={"horizon": horizon}))
    tz = scs[0].horizon.timezone
    local = pd.Timestamp(start.date()).tz_localize(tz, nonexistent="shift_forward",
                                                   ambiguous=False)  # fmt: skip
    labels = [(_add_months(local, k)).strftime("%Y-%m") for k in range(months)]
    t1 = elapsed_hours(origin, _add_months(local, months).to_pydatetime())
    # the follow-up months only let the test cohort mature: no lead arrives in them
    quiet = [{"channel": c.name, "start_day": t1 / 24, "duration_days": (end_h - t1) / 24 + 1,
              "multiplier": 0.0} for c in scs[0].channels] if extra_months else []
    out = []
    with progress_bar(total=reps, desc=f"simulate {scs[0].name}", unit="rep",
                      disable=not progress, leave=False) as bar:  # fmt: skip
        for r in range(reps):
            window = [] if volume is None else [
                {"channel": c.name, "start_day": start_h / 24, "duration_days":
                 (t1 - start_h) / 24, "multiplier": float(volume[r])} for c in scs[r].channels]
            sim = _with_quiet_follow_up(scs[r], horizon, window + quiet)
            res = run_replication(sim, seed, r, keep_log=True)
            tab = res.metrics
            tab = tab[tab["period"].isin(labels)]
            out.append(tab.assign(replication=r))
            for d, v in cohort_won_within(res.log, start_h, t1).items():
                out.append(pd.DataFrame({"replication": [r], "period": ["cohort"],
                                         "metric": [f"won_within_{d}d"], "value": [v]}))
            bar.update(1)
    return pd.concat(out, ignore_index=True)


def _with_quiet_follow_up(sc: Scenario, horizon: Any, quiet: list[dict[str, Any]]) -> Scenario:
    from sla_sim.scenario.io import validate

    data = sc.model_dump(mode="python")
    data["horizon"] = horizon.model_dump(mode="python")
    data["arrivals"]["bursts"] = data["arrivals"]["bursts"] + quiet
    return validate(data, source="backtest simulation")


@dataclass
class Backtest:
    """Observed against predicted (and the naive forecast), per metric and test month."""

    table: pd.DataFrame  # metric, period, observed, p10, p50, p90, inside, naive, shares
    calibration: Calibration
    meta: dict[str, Any]
    simulated: pd.DataFrame | None = None  # replication, period, metric, value (judged ones)

    def as_dict(self) -> dict[str, Any]:
        """``backtest.json``: aggregates only."""
        judged = self.table["inside"].dropna()
        return {**self.meta, "coverage_p10_p90": None if judged.empty else
                round(float(judged.astype(bool).mean()), 4),
                "scores": summarise(add_errors(self.table)),
                "metrics": _records(self.table)}  # fmt: skip


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for r in table.to_dict("records"):
        rows.append({k: (None if isinstance(v, float) and not np.isfinite(v) else
                         (round(v, 6) if isinstance(v, float) else v))
                     for k, v in r.items()})  # fmt: skip
    return rows


_ORIGIN_RULE = "must fall between the first lead and exported_at ({})"


def _origin(export: CrmExport, day: str) -> pd.Timestamp | None:
    """``day`` as an instant in the export's time zone, or None outside (first lead,
    exported_at)."""
    try:
        cut = pd.Timestamp(day)
    except (ValueError, TypeError):  # "notadate" was a pandas traceback
        raise ScenarioError([Issue("--train-until", "must be a date YYYY-MM-DD", day)]) from None
    if cut is pd.NaT:
        raise ScenarioError([Issue("--train-until", "must be a date YYYY-MM-DD", day)])
    cut = cut.tz_localize(export.mapping.timezone) if cut.tzinfo is None else cut
    inside = export.leads["created_at"].min() < cut.tz_convert("UTC") < export.exported_at
    return cut if inside else None


def backtest(export: CrmExport, base: Scenario, train_until: str, test_months: int = 1,
             reps: int = 40, seed: int = 20260101, progress: bool = True,
             predictive: bool = True) -> Backtest:  # fmt: skip
    """Calibrate on leads created before ``train_until`` (censored there), simulate the next
    ``test_months`` months and compare them with the export and with the naive forecast.
    ``predictive``: each replication draws its parameters and the volume trend
    (:mod:`sla_sim.crm.predictive`); otherwise only the simulation's noise varies."""
    if test_months < 1:
        raise ScenarioError([Issue("--test-months", "must be >= 1", test_months)])
    if reps < 2:
        raise ScenarioError([Issue("--reps", "must be >= 2 (a band needs replications)", reps)])
    check_simulation_cost(base, reps, test_months + FOLLOW_UP_MONTHS)
    cut = _origin(export, train_until)
    if cut is None:
        raise ScenarioError([Issue("--train-until", _ORIGIN_RULE.format(
            export.exported_at.date()), train_until)])  # fmt: skip
    train = export.cut(cut)
    cal = calibrate(train, base)
    sc = cal.scenario
    start_local = _local_midnight(cut.tz_convert(export.mapping.timezone))
    end_local = _add_months(start_local, test_months)
    origin_naive = start_local.tz_localize(None)
    trend = None
    if predictive:
        per_month = sum(e.value for e in cal.estimates if not e.derived and e.path.endswith(
            ("].leads_per_month", "].mqls_per_month")))
        days = (end_local - start_local).total_seconds() / 86400
        first = train.leads["created_at"].min().tz_convert(export.mapping.timezone)
        weeks = max(int((cut - first).total_seconds() // (7 * 86400)), TREND_WEEKS)
        trend = volume_trend(weekly_counts(train, origin_naive, weeks), days, per_month)
    draws = draw_scenarios(cal, reps, seed, trend, parameters=predictive)
    sims = simulate_months(draws.scenarios, start_local, test_months, reps, seed, progress,
                           volume=None if trend is None else np.exp(draws.log_trend))
    # observed: the full export, measured over the test window under the same scenario
    me = measure_export(export, sc, start=str(start_local.date()), end=str(end_local.date()))
    obs = me.table.set_index(["period", "metric"])["value"]
    mapped = to_log(export, start=start_local)
    t0 = elapsed_hours(mapped.origin, start_local.to_pydatetime())
    t1 = elapsed_hours(mapped.origin, end_local.to_pydatetime())
    cohort = cohort_won_within(mapped.log, t0, t1)
    follow = (export.exported_at - end_local.tz_convert("UTC")).total_seconds() / 86400
    labels = [(_add_months(start_local, k)).strftime("%Y-%m") for k in range(test_months)]
    naive = naive_forecast(export, origin_naive, labels, COHORT_DAYS)
    measurable = _measurable(export)
    from_base = _from_base(cal)
    rows = []

    def row(metric: str, period: str, o: float) -> None:
        v = sims[(sims["metric"] == metric) & (sims["period"] == period)].sort_values(
            "replication")
        r = _row(metric, period, o, v["value"])
        r["naive"] = float(naive.get((metric, period), np.nan))
        src = band_sources(v["value"].to_numpy(float), draws) if len(v) == reps else None
        for k in ("trend", "parameters", "simulation"):
            r[f"share_{k}"] = np.nan if src is None else src[k]
        r["from_base"] = from_base.get(metric)
        rows.append(r)

    for metric in MONTHLY:
        for p in labels:
            row(metric, p, float(obs.get((p, metric), np.nan))
                if measurable.get(metric, True) else np.nan)
    for d in COHORT_DAYS:
        row(f"won_within_{d}d", "cohort", cohort[d] if follow >= d else np.nan)
    table = pd.DataFrame(rows)
    meta = {"train_until": str(cut.date()), "test_months": labels, "replications": reps,
            "seed": seed, "scenario": sc.name, "train_leads": train.n_leads,
            "not_measurable": [m for m, ok in measurable.items() if not ok],
            "bands": ("simulation noise, parameter draws and the volume trend" if predictive
                      else "simulation noise only (parameters fixed)"),
            "volume_trend": None if trend is None else trend.as_dict(),
            "parameters_drawn": len(draws.drawn),
            "from_base": sorted(set(from_base.values())),
            "band_sources": _mean_sources(table)}  # fmt: skip
    keep = sims["metric"].isin(table["metric"]) & sims["period"].isin(table["period"])
    return Backtest(table, cal, meta, sims.loc[keep].reset_index(drop=True))


#: Forecast metrics that rest on the win model (conversion and time to win).
WIN_METRICS = ("wins", *(f"won_within_{d}d" for d in COHORT_DAYS))


def _from_base(cal: Calibration) -> dict[str, str]:
    """Metrics whose forecast rests on a model the export did not identify, with why: the
    calibrated scenario keeps the base's values there, and the band carries none of their
    uncertainty (a planner must not read such a band as the data's)."""
    record = cal.checks.get("won_record", {})
    kept = {k["parameter"]: k["reason"] for k in cal.not_identified}
    if not record or not kept.get("channels[*].win_rate", "").startswith("not identified"):
        return {}  # identified, or fitted from the wins the record holds (cure model)
    why = (f"the base's win model: not identified (the export's record of wins starts"
           f" {record['first_win']}, {record['record_days']:.0f} days before the origin, shorter"
           f" than the base's time to close, {record['base_time_to_close_days_p95']:.0f} days);"
           " the band does not carry its uncertainty")  # fmt: skip
    return dict.fromkeys(WIN_METRICS, why)


def _mean_sources(table: pd.DataFrame) -> dict[str, float | None]:
    """Mean share of the forecast variance per source over the judged metrics."""
    j = table.dropna(subset=["observed", "share_simulation"])
    return {k: (None if j.empty else round(float(j[f"share_{k}"].mean()), 3))
            for k in ("trend", "parameters", "simulation")}


@dataclass
class RollingBacktest:
    """Backtests from monthly origins, their table (one row per origin and metric) and scores."""

    backtests: list[Backtest]
    table: pd.DataFrame

    def as_dict(self) -> dict[str, Any]:
        """``backtest.json``: aggregates only; ``metrics`` keeps one row per origin x metric."""
        by_origin = []
        for bt in self.backtests:
            d = bt.as_dict()
            by_origin.append({k: d[k] for k in ("train_until", "test_months", "train_leads",
                                                "coverage_p10_p90", "scores", "volume_trend",
                                                "band_sources", "parameters_drawn",
                                                "from_base")})
        b0 = self.backtests[0].meta
        return {"origins": [bt.meta["train_until"] for bt in self.backtests],
                "replications": b0["replications"], "seed": b0["seed"], "bands": b0["bands"],
                "not_measurable": b0["not_measurable"],
                "scores": summarise(add_errors(self.table)),
                "band_sources": _mean_sources(self.table), "by_origin": by_origin,
                "metrics": _records(self.table)}  # fmt: skip


def rolling_backtest(export: CrmExport, base: Scenario, origins: list[str],
                     test_months: int = 1, reps: int = 40, seed: int = 20260101,
                     progress: bool = True, predictive: bool = True) -> RollingBacktest:
    """:func:`backtest` from each origin (calibrated on what was known before it). Refused
    before the first when all the origins' replications together are over the cost limits."""
    if reps >= 2 and test_months >= 1:
        check_simulation_cost(base, reps, test_months + FOLLOW_UP_MONTHS, len(origins),
                              "--origins", f"{len(origins):,} origins x {reps:,} replications")
    outside = [o for o in origins if _origin(export, o) is None]
    if outside:  # every origin checked before the first is simulated
        raise ScenarioError([Issue("--origins", _ORIGIN_RULE.format(
            export.exported_at.date()) + f": {len(outside)} of {len(origins)} origins do not",
            outside if len(outside) > 1 else outside[0])])  # fmt: skip
    bts = [backtest(export, base, o, test_months, reps, seed, progress, predictive)
           for o in origins]
    table = pd.concat([bt.table.assign(origin=bt.meta["train_until"]) for bt in bts],
                      ignore_index=True)  # fmt: skip
    return RollingBacktest(bts, table)


def _measurable(export: CrmExport) -> dict[str, bool]:
    has_touch = export.timed_touches()
    return {"first_touch_compliance": has_touch, "sqls": export.has("sql_at"),
            "opportunities": export.has("opportunity_opened_at"),
            "wins": export.has("stage") and export.has("closed_at")}  # fmt: skip


def _row(metric: str, period: str, observed: float, sim: pd.Series) -> dict[str, Any]:
    v = sim.to_numpy(float)
    v = v[np.isfinite(v)]
    if len(v):
        p10, p50, p90 = (float(x) for x in np.percentile(v, [10, 50, 90]))
    else:
        p10 = p50 = p90 = float("nan")
    inside = (None if not (np.isfinite(observed) and len(v)) else
              bool(p10 - 1e-12 <= observed <= p90 + 1e-12))  # fmt: skip
    return {"metric": metric, "period": period, "observed": float(observed), "p10": p10,
            "p50": p50, "p90": p90, "inside": inside}  # fmt: skip
