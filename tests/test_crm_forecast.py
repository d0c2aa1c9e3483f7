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
