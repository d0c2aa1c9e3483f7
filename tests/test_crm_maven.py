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
    # deals still engaging at the export are censored, not dropped: the closed-only cycle
    # (shown, never used) is shorter than the censored fit
    assert cal.naive["cycle_days_mean_closed_only"] < min(
        e.value for e in cal.estimates if e.path.endswith("cycle_days.mean"))
    # no invented MQLs: every row is an opportunity engaged at its MQL date
    assert cal.scenario.nurture.engage_probability == 0.0
