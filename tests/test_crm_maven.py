"""The Maven "CRM Sales Opportunities" table (fictitious, public domain): what an opportunity
table identifies, the AE side - win rate with open deals censored, cycle, agents."""

from __future__ import annotations

from importlib import resources

import pandas as pd
import pytest

from sla_sim.crm.calibrate import calibrate
from sla_sim.crm.load import load_export
from sla_sim.scenario.presets import preset


@pytest.fixture(scope="module")
def maven():
    path = resources.files("sla_sim.data").joinpath("maven", "sales_pipeline.csv")
    return str(path), load_export(str(path), "preset:maven")


def test_maven_opportunity_table_calibrates_the_ae_side(maven) -> None:
    path, ex = maven
    raw = pd.read_csv(path)
    engaged = raw[raw["engage_date"].notna()]
    assert ex.n_leads == len(engaged)  # the 500 Prospecting rows have no engage date
    cal = calibrate(ex, preset("default"))
    # headcount: the agents who engaged deals, exactly
    assert cal.get("ae.count").value == engaged["sales_agent"].nunique()
    closed = engaged[engaged["deal_stage"].isin(["Won", "Lost"])]
    for product, g in engaged.groupby("product"):
        if len(g) < 900:
            continue
        e = cal.get(f"channels[{product}].win_rate")
        assert "Aalen-Johansen" in e.method
        assert e.low < e.value < e.high
        c = closed[closed["product"] == product]
        naive = (c["deal_stage"] == "Won").mean()
        assert abs(e.value - naive) < 0.06, (product, e.value, naive)
        cyc = cal.get(f"channels[{product}].cycle_days.mean")
        assert "censored" in cyc.method
        assert not cyc.derived
        # engage-to-close comes in waves: the best parametric shape is rejected and the
        # cycle resampled from the Kaplan-Meier curve
        ks = cal.checks["empirical_cycle"][product]
        assert ks["ks_distance"] > ks["bound_5pct"]
        assert next(c for c in cal.scenario.channels
                    if c.name == product).cycle_days.kind == "empirical"
    # deals still engaging at the export are censored, not dropped: the closed-only cycle
    # (shown, never used) is shorter than the censored fit
    assert cal.naive["cycle_days_mean_closed_only"] < min(
        e.value for e in cal.estimates if e.path.endswith("cycle_days.mean"))
    # no invented MQLs: every row is an opportunity engaged at its MQL date
    assert cal.scenario.nurture.engage_probability == 0.0
    # the most deals one agent held open at once (counted here from the table; a close before
    # an open on the same day; open deals until the export) sets the AE cap, above the base's
    end = pd.to_datetime(engaged["close_date"]).fillna(pd.Timestamp("2018-01-01"))
    ev = pd.DataFrame({"agent": pd.concat([engaged["sales_agent"]] * 2),
                       "t": pd.concat([pd.to_datetime(engaged["engage_date"]), end]),
                       "step": [1] * len(engaged) + [-1] * len(engaged)})  # fmt: skip
    ev = ev.sort_values(["agent", "t", "step"])
    peak = int(ev.groupby("agent")["step"].cumsum().max())
    assert cal.get("ae.max_open_opportunities").value == peak
    base_cap = preset("default").ae.max_open_opportunities
    assert cal.scenario.ae.max_open_opportunities == peak > base_cap
    # the warm-up covers the cycle's tail, so the simulated pipeline holds the old deals
    assert cal.scenario.horizon.warmup_days > 90
    assert "warm_up" in cal.checks
    # monthly cohorts of opportunities differ in win share and speed beyond sampling error
    spread = cal.checks["close_cohorts"]
    assert spread["between_cohort_sd_logit"] > 0
    assert spread["between_cohort_sd_log_time"] > 0
    assert len(spread["won_share_of_closed"]) >= 10


MAVEN_ORIGINS = ("2017-06-01", "2017-09-01")  # each test month followed 90 days by the export


@pytest.fixture(scope="module")
def maven_rolling(maven):
    from sla_sim.crm.backtest import rolling_backtest

    return rolling_backtest(maven[1], preset("default"), list(MAVEN_ORIGINS), 1, reps=20,
                            progress=False)  # fmt: skip


@pytest.mark.slow
def test_maven_rolling_origins_compare_the_ae_side(maven_rolling) -> None:
    """The opportunity table passes the SDR step at once (derived), so the simulated
    opportunities are the export's engagements and the backtest judges what the table
    identifies: opportunities, wins per month and the cohort's won-within curve (AE cycle and
    win rate). Figures in docs/forecasts.md."""
    for bt in maven_rolling.backtests:
        cal = bt.calibration
        assert "opportunity_table" in cal.checks
        assert all(e.value == 0.99 for e in cal.estimates if e.path.endswith("sql_rate"))
        # the agents' open deals and the cycle's tail, both in the export, set the capacity
        # and the warm-up: the base's cap (80) and warm-up (90 days) would starve the pipeline
        assert cal.scenario.ae.max_open_opportunities == cal.get(
            "ae.max_open_opportunities").value > preset("default").ae.max_open_opportunities
        assert cal.scenario.horizon.warmup_days > 90
        assert "warm_up" in cal.checks
        t = bt.table.set_index("metric")
        judged = bt.table.dropna(subset=["inside"])
        assert set(judged["metric"]) == {"mqls", "opportunities", "wins", "won_within_7d",
                                         "won_within_14d", "won_within_30d",
                                         "won_within_60d", "won_within_90d"}  # fmt: skip
        # every simulated MQL is an opportunity (within the simulation's noise)
        assert t.loc["opportunities", "p50"] >= 0.95 * t.loc["mqls", "p50"]
        print(bt.meta["train_until"], int(judged["inside"].astype(bool).sum()), "of",
              len(judged), bt.as_dict()["scores"]["mean_scaled_error"])


@pytest.mark.slow
def test_maven_rolling_origins_bands_hold(maven_rolling) -> None:
    """At least half of the judged observations inside P10-P90 at both origins: the cycle
    resampled from the export's Kaplan-Meier curve and a new cohort's win rate and speed drawn
    from how monthly cohorts differed (docs/forecasts.md: 8 and 8 of 8 with this seed; 4-8
    and 8 of 8 over seeds 20260101 and 1-4 with 20 or 40 replications). The mean scaled error
    against the naive forecast is printed, not asserted: over those ten runs it is above the
    naive's at June in 4 and at September in 1, within the seeds' noise."""
    for bt in maven_rolling.backtests:
        judged = bt.table.dropna(subset=["inside"])
        print(bt.meta["train_until"], bt.as_dict()["scores"]["mean_scaled_error"])
        assert int(judged["inside"].astype(bool).sum()) >= len(judged) / 2
