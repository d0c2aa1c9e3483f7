"""Backtest and review on real data: the shipped Olist marketing funnel.

Rolling origins 2018-01-01, 2018-02-01 and 2018-04-01 (one test month each), each calibrated
on the leads created before it (censored there), 40 predictive replications (seed 20260101,
base default). The figures measured are recorded in docs/forecasts.md: January fails (a regime
change nothing before it shows: the sample's wins begin in December 2017), February and April
hold at least 4 of 7 observations inside P10-P90, and the simulation's mean scaled error is at
most the naive forecast's at every origin. April holds with seeds 1-4 too (5, 5, 6 and 5 of
7 inside; 6 with the default), February has 7 of 7 with seeds 1 and 2 as with the default.
"""

from __future__ import annotations

import re
from importlib import resources

import pytest

from sla_sim.crm.load import load_export
from sla_sim.crm.review import review
from sla_sim.scenario.presets import preset


@pytest.fixture(scope="module")
def olist():
    path = resources.files("sla_sim.data").joinpath(
        "olist", "olist_marketing_qualified_leads_dataset.csv")
    return load_export(str(path), "preset:olist")


ORIGINS = ("2018-01-01", "2018-02-01", "2018-04-01")


@pytest.fixture(scope="module")
def rolling(olist):
    from sla_sim.crm.backtest import rolling_backtest

    return rolling_backtest(olist, preset("default"), list(ORIGINS), 1, reps=40,
                            progress=False)  # fmt: skip


@pytest.mark.slow
def test_olist_review_places_the_month(olist, rolling) -> None:
    sc = rolling.backtests[ORIGINS.index("2018-04-01")].calibration.scenario
    rv = review(olist, sc, "2018-04", reps=10, progress=False)
    v = rv.table.set_index("metric")
    assert v.loc["mqls", "actual"] == 1352
    assert v.loc["first_touch_compliance", "verdict"] == "not measured"
    assert v.loc["mqls", "verdict"] in {"within normal variation", "outside (low)",
                                        "outside (high)"}  # fmt: skip
    assert 0 <= v.loc["wins", "percentile"] <= 1
    assert set(v["side"]) == {"marketing", "handoff", "sales"}


@pytest.mark.slow
def test_olist_april_2018_is_measured_from_the_data(rolling) -> None:
    bt = rolling.backtests[ORIGINS.index("2018-04-01")]
    d = bt.as_dict()
    t = bt.table.set_index(["metric", "period"])
    # what the data says about April 2018 (independent of the model)
    assert t.loc[("mqls", "2018-04"), "observed"] == 1352
    assert t.loc[("wins", "2018-04"), "observed"] == 207
    assert t.loc[("won_within_90d", "cohort"), "observed"] == pytest.approx(0.1265, abs=1e-3)
    # the export has no first-touch or SQL dates: not judged, and said so
    assert set(d["not_measurable"]) == {"first_touch_compliance", "sqls", "opportunities"}
    assert len(bt.table.dropna(subset=["inside"])) == 7
    assert (bt.table["p10"] <= bt.table["p90"]).all()
    # the calibration behind it used the censored cure model, not naive shares, and measured
    # how cohorts differ in conversion and speed
    assert "won_cure_model" in bt.calibration.checks
    assert bt.calibration.naive["won_share_of_all"] < bt.calibration.checks[
        "won_cure_model"]["p_ever_won"]
    assert bt.calibration.checks["won_cohorts"]["between_cohort_sd_log_time"] > 0


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
@pytest.mark.parametrize("origin", [
    pytest.param("2018-01-01", marks=pytest.mark.xfail(strict=True, reason=(
        "measured 0 of 7 inside P10-P90 (docs/forecasts.md): the export's record of wins"
        " starts 27 days before the origin (3 wins before 2018, 73 in January), so the win"
        " model is the base's, not identified (checks.won_record); covering January would"
        " take a between-cohort spread as wide as the one measured only after it (logit 1.35,"
        " log time 1.48), and January's MQLs (1,141) are three times December's"))),
    "2018-02-01", "2018-04-01"])  # fmt: skip
def test_olist_rolling_origins_bands_hold(rolling, origin: str) -> None:
    """At least 4 of the 7 judged observations inside P10-P90."""
    bt = rolling.backtests[ORIGINS.index(origin)]
    judged = bt.table.dropna(subset=["inside"])
    inside = judged["inside"].astype(bool)
    print(origin, {f"{r.metric}": r.inside for r in judged.itertuples()})
    assert len(judged) == 7
    assert int(inside.sum()) >= 4, origin


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
    # its shares read as the won-model line's P(ever won) beside it (13.2 %), not 0.132
    assert flagged
    for b in cal.checks["at_bound"]:
        assert re.search(r"P\(ever won \| MQL\) [\d.]+ % needs", b["meaning"]), b["meaning"]
        assert not re.search(r"\b0\.\d{2,}", b["meaning"]), b["meaning"]
    # MQLs only: MQLs per month identified, no nurture MQLs added
    assert cal.get("channels[organic_search].mqls_per_month").value > 0
    assert cal.scenario.nurture.engage_probability == 0.0


def test_calibrated_aes_carry_the_exported_flow_without_selling_time(olist) -> None:
    """The Olist export counts 22 AEs (opportunity owners) but has no selling time: the
    calibrated scenario gives the AEs none (the default's 6 hours would hold the forecast at
    what 22 AEs sell), and says so as a derived value."""
    from sla_sim.crm.calibrate import calibrate

    c = calibrate(olist.cut("2018-04-01"), preset("default"))
    e = c.get("ae.selling_hours_per_opportunity")
    assert e.derived
    assert e.value == c.scenario.ae.selling_hours_per_opportunity == 0.0
    assert c.scenario.ae.count == c.get("ae.count").value == 22
    assert "6" in e.method


def test_olist_wins_record_starts_at_its_first_win(olist) -> None:
    """Before 2018 the export has 3 wins, the first on 2017-12-05, after months of MQLs
    followed longer than the base's time to close without one: the wins column is read as
    left-truncated and, with 27 days of record, the win model as not identified (the log says
    so instead of claiming it needs closed_at); with 117 days (April) it is identified."""
    from sla_sim.crm.calibrate import calibrate

    jan = calibrate(olist.cut("2018-01-01"), preset("default"))
    rec = jan.checks["won_record"]
    assert rec["first_win"] == "2017-12-05"
    assert not rec["identified"]
    assert rec["record_days"] < rec["base_time_to_close_days_p95"]
    assert rec["mqls_followed_longer_without_a_win"] > 100
    kept = {k["parameter"]: k["reason"] for k in jan.not_identified}
    assert kept["channels[*].win_rate"].startswith("not identified: the first recorded win")
    apr = calibrate(olist.cut("2018-04-01"), preset("default")).checks["won_record"]
    assert apr["identified"]
    assert apr["record_days"] > apr["base_time_to_close_days_p95"]
    # February: 58 days of record, still shorter than the base's time to close, but 74 wins,
    # enough for the cure model: fitted, and the record says what is extrapolated, without
    # contradicting the fit by calling the win model not identified
    feb = calibrate(olist.cut("2018-02-01"), preset("default"))
    rec = feb.checks["won_record"]
    assert "won_cure_model" in feb.checks
    assert rec["identified"]
    assert rec["record_days"] < rec["base_time_to_close_days_p95"]
    assert rec["extrapolated_after_days"] == rec["record_days"]
    assert "not identified" not in rec["meaning"]
    assert "extrapolation" in rec["meaning"]


@pytest.mark.slow
def test_a_forecast_from_the_bases_win_model_says_so(rolling) -> None:
    """January's win metrics come from the base's win model (the export's 27 days of win
    record do not identify it): each such row says so, with why, and that its band does not
    carry that model's uncertainty; where the cure model was fitted (February, April) no row
    claims it."""
    by = {bt.meta["train_until"]: bt for bt in rolling.backtests}
    jan = by["2018-01-01"].table.set_index("metric")["from_base"]
    assert jan[["wins", "won_within_7d", "won_within_90d"]].map(
        lambda w: "not identified" in w and "does not carry its uncertainty" in w).all()
    assert jan[["mqls"]].isna().all()
    why = by["2018-01-01"].meta["from_base"]
    assert len(why) == 1
    assert "2017-12-05" in why[0]
    for o in ("2018-02-01", "2018-04-01"):
        assert by[o].table["from_base"].isna().all(), o
        assert by[o].meta["from_base"] == []
    d = rolling.as_dict()
    assert [bool(b["from_base"]) for b in d["by_origin"]] == [True, False, False]


@pytest.mark.slow
def test_backtest_charts_dash_bands_from_the_base_in_the_metric_order(rolling) -> None:
    """The charts dash a band whose forecast rests on the base's win model (January's) and
    show the panels in the table's order (MQLs, wins, then the won curve by days)."""
    from sla_sim.crm import charts
    from sla_sim.metrics.docs import metric_label

    spec = charts.rolling_chart(rolling.table).to_dict()
    rows = spec["datasets"][next(iter(spec["datasets"]))]
    kinds = {(r["origin"], r["metric"]): r["band"] for r in rows}
    assert kinds[("2018-01-01", metric_label("wins"))] == charts.BAND_KINDS[1]
    assert kinds[("2018-01-01", metric_label("mqls"))] == charts.BAND_KINDS[0]
    assert kinds[("2018-04-01", metric_label("won_within_7d"))] == charts.BAND_KINDS[0]
    order = spec["facet"]["sort"]
    assert order[:3] == [metric_label(m) for m in ("mqls", "wins", "won_within_7d")]
    assert order[-1] == metric_label("won_within_90d")
    single = charts.backtest_chart(rolling.backtests[0].table).to_dict()
    assert single["facet"]["sort"][0] == metric_label("mqls")


def test_origins_outside_the_export_are_refused_before_the_first_is_simulated(
        olist, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Every origin is checked before any is simulated, and the error names --origins and
    the origins outside (it named --train-until after simulating the origins inside)."""
    from sla_sim.crm import backtest as bt
    from sla_sim.errors import ScenarioError

    def no_backtest(*_a: object, **_k: object) -> None:
        raise AssertionError("an origin was simulated")

    monkeypatch.setattr(bt, "backtest", no_backtest)
    with pytest.raises(ScenarioError) as err:
        bt.rolling_backtest(olist, preset("default"), ["2018-10-01", "2018-11-01",
                                                        "2018-12-01", "2019-01-01"],
                            progress=False)  # fmt: skip
    (issue,) = err.value.issues
    assert issue.path == "--origins"
    assert issue.value == ["2018-12-01", "2019-01-01"]
    assert "2 of 4 origins" in issue.rule


def test_backtest_console_speaks_every_screens_units(tmp_path, capsys) -> None:
    """`backtest --sample olist` prints each observation by its label and in its unit (MQLs
    1,352; a cohort's share won in %, as the report and review write ratios; an en dash when
    not measured); it printed raw names in `.4g` ('mqls ... 1352', 'won_within_7d 0.05695',
    'nan', a band '[1, 1]' for a compliance of 100 %)."""
    import re

    from sla_sim.cli.main import main

    capsys.readouterr()
    assert main(["backtest", "--sample", "olist", "--train-until", "2018-04-01", "--reps", "3",
                 "--out", str(tmp_path / "bt"), "--quiet"]) == 0  # fmt: skip
    shown = capsys.readouterr().out
    assert re.search(r"\bMQLs\s+2018-04\s+1,352\s", shown), shown
    assert re.search(r"Won within 90 days \(share of cohort\)\s+cohort\s+12\.\d %", shown), shown
    assert re.search(r"First touch compliance\s+2018-04\s+–\s", shown), shown
    assert "nan" not in shown
    assert "won_within" not in shown
