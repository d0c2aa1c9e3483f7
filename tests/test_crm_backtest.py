"""Backtest and review on real data: the shipped Olist marketing funnel.

Train on the leads created before 2018-04-01 (censored there), test April 2018. The test
documents the coverage reached; it is not tuned to pass: it checks that every metric the export
can measure is judged, that the observed values are the data's, and records the verdicts.
With seed 20260101 and 20 replications (bands from simulation noise, parameter draws and the
volume trend, base smb_inbound), the run at the time of writing judged 7 metrics and found 4 of
them inside P10-P90 (the won curve at 14 to 90 days); April's MQLs (1,352) and wins (207) are
above P90 (April jumped above the 13-week trend), and the simulated won curve rises more slowly
in its first week (April's cohort converted faster than those before it). The rolling origins
below are recorded in docs/forecasts.md.
"""

from __future__ import annotations

import json
from importlib import resources

import pytest

from sla_sim.crm.backtest import backtest
from sla_sim.crm.load import load_export
from sla_sim.crm.review import review
from sla_sim.scenario.presets import preset


@pytest.fixture(scope="module")
def olist():
    path = resources.files("sla_sim.data").joinpath(
        "olist", "olist_marketing_qualified_leads_dataset.csv")
    return load_export(str(path), "preset:olist")


@pytest.mark.slow
def test_olist_backtest_april_2018(olist) -> None:
    bt = backtest(olist, preset("smb_inbound"), "2018-04-01", 1, reps=20, progress=False)
    d = bt.as_dict()
    t = bt.table.set_index(["metric", "period"])
    # what the data says about April 2018 (independent of the model)
    assert t.loc[("mqls", "2018-04"), "observed"] == 1352
    assert t.loc[("wins", "2018-04"), "observed"] == 207
    assert t.loc[("won_within_90d", "cohort"), "observed"] == pytest.approx(0.1265, abs=1e-3)
    # the export has no first-touch or SQL dates: not judged, and said so
    assert set(d["not_measurable"]) == {"first_touch_compliance", "sqls", "opportunities"}
    judged = bt.table.dropna(subset=["inside"])
    assert len(judged) == 7
    assert (bt.table["p10"] <= bt.table["p90"]).all()
    # the coverage reached, recorded (not a target)
    print("Olist backtest coverage:", d["coverage_p10_p90"],
          json.dumps({f"{r.metric}@{r.period}": r.inside for r in judged.itertuples()}))
    assert 0.0 <= d["coverage_p10_p90"] <= 1.0
    # the calibration behind it used the censored cure model, not naive shares
    assert "won_cure_model" in bt.calibration.checks
    assert bt.calibration.naive["won_share_of_all"] < bt.calibration.checks[
        "won_cure_model"]["p_ever_won"]


@pytest.mark.slow
def test_olist_review_places_the_month(olist) -> None:
    from sla_sim.crm.calibrate import calibrate

    sc = calibrate(olist.cut("2018-04-01"), preset("smb_inbound")).scenario
    rv = review(olist, sc, "2018-04", reps=10, progress=False)
    v = rv.table.set_index("metric")
    assert v.loc["mqls", "actual"] == 1352
    assert v.loc["first_touch_compliance", "verdict"] == "not measured"
    assert v.loc["mqls", "verdict"] in {"within normal variation", "outside (low)",
                                        "outside (high)"}  # fmt: skip
    assert 0 <= v.loc["wins", "percentile"] <= 1
    assert set(v["side"]) == {"marketing", "handoff", "sales"}


ORIGINS = ("2018-01-01", "2018-02-01", "2018-04-01")


@pytest.fixture(scope="module")
def rolling(olist):
    from sla_sim.crm.backtest import rolling_backtest

    return rolling_backtest(olist, preset("default"), list(ORIGINS), 1, reps=20,
                            progress=False)  # fmt: skip


@pytest.mark.slow
def test_olist_rolling_origins_beat_the_naive_forecast(rolling) -> None:
    """At every origin the simulation's mean scaled error is at most the naive forecast's
    (both made from what was known before the origin); recorded in docs/forecasts.md."""
    d = rolling.as_dict()
    assert d["origins"] == list(ORIGINS)
    for bo in d["by_origin"]:
        mse = bo["scores"]["mean_scaled_error"]
        print(bo["train_until"], mse, "inside", bo["coverage_p10_p90"], bo["band_sources"])
        assert bo["scores"]["compared_with_naive"] == 7
        assert mse["simulation"] <= mse["naive"], bo["train_until"]
    # the rows keep the per-metric form of a single backtest, with their origin
    assert {"origin", "observed", "p10", "p50", "p90", "inside", "naive"} <= set(
        d["metrics"][0])


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="measured 0, 3 and 3 of 7 inside P10-P90 at the three"
                   " origins (docs/forecasts.md): January follows a regime change (wins start"
                   " in December 2017), February's and April's cohorts convert faster than any"
                   " cohort before them")  # fmt: skip
def test_olist_rolling_origins_bands_hold(rolling) -> None:
    for bt in rolling.backtests:
        judged = bt.table.dropna(subset=["inside"])
        assert int(judged["inside"].astype(bool).sum()) >= 4, bt.meta["train_until"]


def test_olist_calibration_says_what_it_used_and_what_hit_a_bound(olist) -> None:
    from sla_sim.crm.calibrate import calibrate

    cal = calibrate(olist, preset("default"))
    kept = {k["parameter"]: k["reason"] for k in cal.not_identified}
    # the censored won model is used: the log does not claim the win rate was simply kept
    assert "won_cure_model" in cal.checks
    assert "needs closed_at" not in kept.get("channels[*].win_rate", "")
    assert kept["channels[*].sql_rate"].startswith("derived")
    # every sql_rate at its cap is flagged with what it means, and only those
    capped = {e.path for e in cal.estimates if e.path.endswith("sql_rate") and e.value >= 0.99}
    flagged = {b["parameter"] for b in cal.checks.get("at_bound", [])}
    assert capped == flagged
    assert all("win_rate raised" in b["meaning"] for b in cal.checks.get("at_bound", []))
    # MQLs only: MQLs per month identified, no nurture MQLs added
    assert cal.get("channels[organic_search].mqls_per_month").value > 0
    assert cal.scenario.nurture.engage_probability == 0.0


def test_calibrated_ae_selling_hours_carry_the_exported_flow(olist) -> None:
    """The Olist export counts 22 AEs (opportunity owners) and implies about 650 opportunities a
    month: the base's 6 selling hours each would need more AE hours than 22 AEs have, so the
    calibration lowers them to what fills at most 80% of their selling hours, and says so."""
    from sla_sim.analysis.reverse_funnel import forward
    from sla_sim.crm.calibrate import calibrate
    from sla_sim.crm.calibrate.capacity import AE_LOAD_BOUND

    c = calibrate(olist.cut("2018-04-01"), preset("default"))
    sc, e = c.scenario, c.get("ae.selling_hours_per_opportunity")
    assert e.derived
    assert e.value == sc.ae.selling_hours_per_opportunity < 6.0
    sqls = float(forward(sc).set_index("channel").loc["total", "sqls"])
    hours = sc.ae.count * sc.ae.calendar.weekly_hours * 365.25 / 12 / 7 * sc.ae.selling_share
    load = sqls * sc.ae.selling_hours_per_opportunity / hours
    assert AE_LOAD_BOUND - 0.01 < load <= AE_LOAD_BOUND
