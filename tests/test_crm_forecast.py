"""Calibration that reproduces what an export says, and forecasts whose bands hold.

Synthetic exports with known truth: three channels whose leads are MQLs with probability
0.30 / 0.20 / 0.45 (scores drawn by the model, the score column then removed from the export),
no nurture, written out as a CRM would and censored at the export date.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sla_sim.batch.replications import run_replication
from sla_sim.crm.backtest import backtest, monthly_origins
from sla_sim.crm.calibrate import Calibration, calibrate
from sla_sim.crm.export import EXPORT_COLUMNS, log_to_export, write_export
from sla_sim.crm.load import CrmExport, load_export
from sla_sim.crm.mql_share import alpha_for_share, p_mql
from sla_sim.errors import ScenarioError
from sla_sim.horizon import horizon_hours
from sla_sim.scenario import Scenario
from sla_sim.scenario.io import validate
from sla_sim.scenario.presets import preset

SHARES = {"inbound": 0.30, "paid": 0.20, "events": 0.45}


def _truth(leads_per_month: float = 500.0, months: int = 3) -> Scenario:
    data = preset("default").model_dump(mode="python")
    thr = data["mql_threshold_points"]
    chans = []
    for c in data["channels"]:
        if c["name"] in SHARES:
            c["score_alpha"] = alpha_for_share(SHARES[c["name"]], c["score_beta"], thr)
            c["leads_per_month"] = leads_per_month
            chans.append(c)
    data["channels"] = chans
    for t in data["teams"]:
        t["channels"] = [c for c in t["channels"] if c in SHARES]
    data["nurture"]["engage_probability"] = 0.0
    data["horizon"].update(warmup_days=20, measure_months=months)
    return validate(data, source="test truth")


def _export(sc: Scenario, seed: int, folder: Path, mql_only: bool = False,
            leads_only: bool = False) -> CrmExport:  # fmt: skip
    """One replication of ``sc`` as a CRM export at the end of its horizon, no score column
    (``mql_only``: only the MQLs, created when they became MQLs, like Olist; ``leads_only``:
    no activity table)."""
    origin, _, end_h = horizon_hours(sc)
    log = run_replication(sc, seed, 0, keep_log=True).log
    fr = log_to_export(log, origin, end_h, sc.horizon.timezone)
    fr.leads = fr.leads.drop(columns=[EXPORT_COLUMNS["score"]])
    fr.mapping["columns"].pop("score")
    if mql_only:
        mql, created = EXPORT_COLUMNS["mql_at"], EXPORT_COLUMNS["created_at"]
        fr.leads = fr.leads[fr.leads[mql].notna()].copy()
        fr.leads[created] = fr.leads[mql]
    if leads_only:
        fr.mapping["columns"] = {k: v for k, v in fr.mapping["columns"].items()
                                 if not k.startswith("activity_")}  # fmt: skip
    leads, _, mapping = write_export(fr, folder, "parquet")
    if leads_only:
        m = yaml.safe_load(mapping.read_text())
        m.pop("activity_file")
        mapping.write_text(yaml.safe_dump(m))
    return load_export(leads, mapping)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> CrmExport:
    return _export(_truth(), 11, tmp_path_factory.mktemp("synthetic"))


@pytest.fixture(scope="module")
def calibrated(synthetic: CrmExport) -> dict[str, Calibration]:
    return {b: calibrate(synthetic, preset(b)) for b in ("default", "smb_inbound")}


def test_mql_share_per_channel_recovered_without_a_score_column(
        calibrated: dict[str, Calibration]) -> None:  # fmt: skip
    cal = calibrated["default"]
    sc = cal.scenario
    by_name = {c.name: c for c in sc.channels}
    for name, truth in SHARES.items():
        e = cal.get(f"channels[{name}].mql_share")
        se = math.sqrt(truth * (1 - truth) / e.n)
        assert abs(e.value - truth) <= 3 * se, (name, e.value, truth, se)
        # the calibrated scenario reproduces the estimate (score_alpha solved for it)
        c = by_name[name]
        assert p_mql(c.score_alpha, c.score_beta, sc.mql_threshold_points) == pytest.approx(
            e.value, abs=1e-6)
    # no MQL dated after creation in this export: no nurture re-qualification added
    assert sc.nurture.engage_probability == 0.0
    kept = {k["parameter"]: k["reason"] for k in cal.not_identified}
    assert "mql_share" in kept["channels[*].score_alpha/beta"]


def test_identified_parameters_do_not_depend_on_the_base(
        calibrated: dict[str, Calibration]) -> None:  # fmt: skip
    def ident(c: Calibration) -> dict[str, tuple[float, float, float]]:
        return {e.path: (e.value, e.low, e.high) for e in c.estimates if not e.derived}

    a, b = ident(calibrated["default"]), ident(calibrated["smb_inbound"])
    assert set(a) == set(b)
    assert len(a) > 40
    for path, v in a.items():
        assert b[path] == pytest.approx(v, rel=1e-6, abs=1e-9), path


def test_mql_only_export_simulates_the_data_mql_counts(tmp_path: Path) -> None:
    """Every row an MQL (nurture on in the base): the calibrated scenario gives the data's MQL
    counts, with no MQLs invented by nurture re-qualification."""
    truth = _truth(leads_per_month=900.0, months=2)
    ex = _export(truth, 5, tmp_path, mql_only=True)
    cal = calibrate(ex, preset("default"))
    assert cal.scenario.nurture.engage_probability == 0.0
    assert preset("default").nurture.engage_probability > 0
    sc = cal.scenario.model_copy(update={"horizon": cal.scenario.horizon.model_copy(
        update={"measure_months": 3, "warmup_days": 20})})
    tab = run_replication(sc, 3, 0).metrics
    sim = tab[(tab["metric"] == "mqls") & (tab["period"] != "total")]["value"].to_numpy(float)
    days = ex.report()["leads"]  # rows
    span_days = (ex.exported_at - ex.leads["created_at"].min()).total_seconds() / 86400
    data_per_month = days / span_days * 365.25 / 12
    sim_per_month = float(sim.mean())
    cv = cal.scenario.arrivals.daily_volume_cv
    # Poisson variance with the calibrated daily over-dispersion, data and simulation
    var_d = data_per_month * (365.25 / 12) / span_days * (1 + cv**2 * days / span_days)
    var_s = sim_per_month / len(sim) * (1 + cv**2 * sim_per_month / 30.4)
    se = math.sqrt(var_d + var_s)
    assert abs(sim_per_month - data_per_month) <= 3 * se, (sim_per_month, data_per_month, se)


def test_monthly_origins_and_their_errors() -> None:
    assert monthly_origins("2018-01-01:2018-04-01") == ["2018-01-01", "2018-02-01",
                                                         "2018-03-01", "2018-04-01"]
    assert monthly_origins("2018-01-15:2018-03-01") == ["2018-02-01", "2018-03-01"]
    for bad in ("2018-01-01", "2018-03-01:2018-01-01", "x:y", "2018-01-02:2018-01-20"):
        with pytest.raises(ScenarioError, match="--origins"):
            monthly_origins(bad)


COVERAGE_EXPORTS = 20
BAND_REPS = 9  # the range of 9 exchangeable draws holds a 10th with probability 8/10


@pytest.fixture(scope="module")
def coverage(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The month after the second of 20 synthetic exports (one scenario, own seeds; lead table
    only, so contact and capacity stay the scenario's), forecast with predictive replications.
    The 80% band is the range of 9 replications: if the forecast distribution is right, the
    observation is one more exchangeable draw and falls inside with probability exactly 0.8."""
    truth = _truth(leads_per_month=120.0, months=4)
    origin = (pd.Timestamp(truth.horizon.measure_start) + pd.DateOffset(months=2)).date()
    rows = []
    for seed in range(COVERAGE_EXPORTS):
        ex = _export(truth, 100 + seed, tmp_path_factory.mktemp(f"cov{seed}"), leads_only=True)
        bt = backtest(ex, preset("default"), str(origin), 1, reps=BAND_REPS, seed=seed,
                      progress=False)  # fmt: skip
        sims = bt.simulated.groupby(["metric", "period"])["value"]
        band = pd.DataFrame({"lo": sims.min(), "hi": sims.max()}).reset_index()
        t = bt.table.merge(band, on=["metric", "period"])
        t = t[t["metric"].isin(["mqls", "wins"]) | t["metric"].str.startswith("won_within")]
        rows.append(t.dropna(subset=["observed"]).assign(export=seed))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.slow
def test_band_coverage_on_synthetic_exports(coverage: pd.DataFrame) -> None:
    c = coverage[coverage["hi"] > coverage["lo"]]  # a band of one value (all 0) says nothing
    n = len(c)
    assert n >= 4 * COVERAGE_EXPORTS  # MQLs, wins and the matured curve points (7, 14, 30 d)
    inside = (c["lo"] <= c["observed"]) & (c["observed"] <= c["hi"])
    cov = float(inside.mean())
    se = math.sqrt(0.8 * 0.2 / n)
    print(f"coverage {cov:.3f} of {n} (SE {se:.3f});",
          inside.groupby(c["metric"]).mean().round(2).to_dict())
    assert abs(cov - 0.8) <= 3 * se
    # the naive curve is made from the cohorts before the origin
    assert np.isfinite(c.loc[c["metric"] == "won_within_30d", "naive"]).all()


def test_cohort_speed_spread_is_measured_beyond_sampling_error() -> None:
    """Monthly cohorts whose time to win differs (mean 10, 20, 40, 20, 10 days) show a
    between-cohort spread of the log mean time; cohorts with one speed show (nearly) none. The
    cure fraction (0.3) and the censoring at a common export date are the same in both."""
    from sla_sim.crm.survival import cohort_spread, cure_fit

    rng = np.random.default_rng(7)

    def cohorts(means: list[float]) -> tuple[np.ndarray, ...]:
        t, obs, lab = [], [], []
        for i, m in enumerate(means):
            n, follow = 1500, 30.0 * (len(means) - i) + 60  # older cohorts followed longer
            s = math.sqrt(math.log1p(1.0))  # cv 1
            times = np.exp(math.log(m) - s * s / 2 + s * rng.standard_normal(n))
            won = (rng.random(n) < 0.3) & (times <= follow)
            t.append(np.where(won, times, follow))
            obs.append(won)
            lab += [f"c{i}"] * n
        return np.concatenate(t), np.concatenate(obs), np.asarray(lab)

    for means, spread in (([10, 20, 40, 20, 10], True), ([20] * 5, False)):
        t, obs, lab = cohorts(means)
        f = cure_fit(t, obs, "lognormal")
        out = cohort_spread(t, obs, lab, f)
        sd = math.sqrt(out["tau2_log_mean"])
        truth = float(np.std(np.log(means), ddof=1))
        # each cohort's mean time, fitted jointly with its cure fraction, is near its truth
        got = [out["speed"][f"c{i}"]["mean"] for i in range(len(means))]
        assert np.allclose(got, means, rtol=0.3), got
        if spread:
            assert abs(sd - truth) < 0.5 * truth, (sd, truth)
        else:
            assert sd < 0.1, sd


def test_cohort_conversion_shock_moves_p_ever_won_on_its_logit_scale() -> None:
    """The cohort draw moves P(ever won | MQL) itself by tau on the logit scale (the derived
    sql_rate by the same factor, the win rate beyond its cap), and a pooled fit behind several
    channels is drawn once for all of them."""
    from scipy import special

    from sla_sim.crm.calibrate.common import SQL_RATE_CAP, Estimate
    from sla_sim.crm.predictive import _cohort_shocks, draw_scenarios

    sc = preset("default")
    a, b = sc.channels[0].name, sc.channels[1].name
    p_won, tau = 0.08, 1.2
    est = [Estimate(f"channels[{a}].p_won_given_mql", p_won, 0.07, 0.09, "probability",
                    "cure model", 500, "mql_at"),
           Estimate(f"channels[{a}].sql_rate", 0.5, 0.4, 0.6, "probability", "derived",
                    500, "mql_at", derived=True),
           Estimate(f"channels[{b}].p_won_given_mql", p_won, 0.07, 0.09, "probability",
                    "cure model", 500, "mql_at"),
           Estimate(f"channels[{b}].sql_rate", 0.95, 0.9, 0.98, "probability", "derived",
                    500, "mql_at", derived=True)]  # fmt: skip
    cal = Calibration(sc, est, [], {}, {}, {"won_cohorts": {"between_cohort_sd_logit": tau}})
    values: list[dict[str, float]] = [{} for _ in range(400)]
    u = _cohort_shocks(cal, values, np.random.default_rng(3))["cohort conversion"]
    target = special.expit(special.logit(p_won) + tau * u) / p_won
    for i, (name, q0) in enumerate(((a, 0.5), (b, 0.95))):
        q = np.array([v[f"channels[{name}].sql_rate"] for v in values])
        w = np.array([v[f"channels[{name}].win_rate"] for v in values])
        assert q.max() <= SQL_RATE_CAP
        ok = w < 1.0  # beyond the win rate's own bound 1 the product cannot follow
        assert ok.mean() > 0.9
        assert np.allclose((q * w / (q0 * sc.channels[i].win_rate))[ok], target[ok])
        assert np.allclose(q[q < SQL_RATE_CAP] / q0, target[q < SQL_RATE_CAP])
    # one pooled fit, one draw: both channels' cycles move together
    pooled = [Estimate(f"channels[{c}].cycle_days.mean", 20.0, 15.0, 27.0, "days",
                       "cure model; pooled", 500, "mql_at") for c in (a, b)]  # fmt: skip
    d = draw_scenarios(Calibration(sc, pooled, [], {}, {}), 12, 5)
    ca = [s.channels[0].cycle_days.mean for s in d.scenarios]
    cb = [s.channels[1].cycle_days.mean for s in d.scenarios]
    assert np.allclose(ca, cb)
    assert np.std(ca) > 0


def test_volume_forecast_is_the_method_that_erred_less_before() -> None:
    """Weekly counts that jump once to three times their level: the log-linear trend fitted
    across the jump erred more at the earlier origins than exponential smoothing, which is
    chosen, its interval at least as wide as those errors; on steady growth the trend stays."""
    from sla_sim.crm.predictive import MIN_PAST_ERRORS, past_errors, volume_trend

    rng = np.random.default_rng(1)
    jump = np.r_[rng.poisson(60, 20), rng.poisson(180, 10)].astype(float)
    tr = volume_trend(jump, 30.0, 60 * 30.44 / 7)
    assert tr is not None
    assert tr.method == "exponential smoothing"
    rms = math.sqrt(float(np.mean(np.square(tr.past_errors))))
    assert len(tr.past_errors) >= MIN_PAST_ERRORS
    assert tr.se >= rms - 1e-12
    assert rms < math.sqrt(float(np.mean(np.square(past_errors(jump, 30.0)))))
    assert 2.5 < tr.multiplier < 3.5  # the new level, not the old one nor the trend's
    grow = np.round(50 * 1.04 ** np.arange(30)).astype(float)  # +4% a week, no noise
    tr = volume_trend(grow, 30.0, 100.0)
    assert tr is not None
    assert tr.method == "log-linear trend"
    assert tr.as_dict()["forecast"] == "log-linear trend"


def test_new_cohort_draws_carry_a_spread_measured_on_few_cohorts() -> None:
    """A spread measured on k cohorts is drawn as Student t with k - 2 degrees of freedom:
    heavier tails for 3 cohorts than for 30; an opportunity table's win rate moves on its
    logit scale, and a slower drawn cohort raises the export's AE cap in proportion."""
    from scipy import special, stats

    from sla_sim.crm.calibrate.common import Estimate
    from sla_sim.crm.predictive import _cohort_shocks, _new_cohort

    rng = np.random.default_rng(0)
    few, many = _new_cohort(rng, 3, 20000), _new_cohort(rng, 30, 20000)
    assert abs(np.quantile(few, 0.9) - stats.t.ppf(0.9, 1)) < 0.15
    assert abs(np.quantile(many, 0.9) - stats.t.ppf(0.9, 28)) < 0.05
    sc = preset("default")
    a = sc.channels[0].name
    cap = sc.ae.max_open_opportunities
    est = [Estimate(f"channels[{a}].win_rate", 0.6, 0.55, 0.65, "probability", "AJ", 900,
                    "stage"),
           Estimate("ae.max_open_opportunities", cap, cap, cap, "opportunities",
                    "most held", 900, "owner", exact=True)]  # fmt: skip
    months = {f"2017-{m:02d}": 0.5 for m in range(1, 9)}
    cal = Calibration(sc, est, [], {}, {}, {"close_cohorts": {
        "between_cohort_sd_logit": 0.5, "won_share_of_closed": months,
        "between_cohort_sd_log_time": 0.4, "time_to_close_days_mean": months}})
    values: list[dict[str, float]] = [{} for _ in range(300)]
    z = _cohort_shocks(cal, values, np.random.default_rng(4))
    w = np.array([v[f"channels[{a}].win_rate"] for v in values])
    assert np.allclose(special.logit(w), special.logit(0.6) + 0.5 * z["cohort win rate"])
    k = np.exp(0.4 * z["cohort speed"])
    cyc = np.array([v[f"channels[{a}].cycle_days.mean"] for v in values])
    assert np.allclose(cyc, sc.channels[0].cycle_days.mean * k)
    caps = np.array([v["ae.max_open_opportunities"] for v in values])
    assert np.allclose(caps, np.ceil(cap * np.maximum(k, 1.0)))
