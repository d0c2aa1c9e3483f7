"""The ``smb_inbound`` preset says it is calibrated to Olist 2018: held to the shipped data.

The share of the Jan-Mar 2018 Olist MQL cohorts won within 7 and 90 days of their MQL date is
measured from ``sla_sim/data/olist`` through the Olist mapping preset; the preset is simulated
(three replications) and the same cohort share measured on its event logs. They must agree
within 3 standard errors (binomial for the data, across replications for the simulation).
"""

from __future__ import annotations

import math
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from sla_sim.crm.backtest import cohort_won_within
from sla_sim.crm.load import load_export
from sla_sim.horizon import horizon_hours
from sla_sim.model.funnel import FunnelModel
from sla_sim.scenario.io import set_path
from sla_sim.scenario.presets import preset
from sla_sim.streams import Streams, replication_seed

DAYS = (7, 90)


@pytest.fixture(scope="module")
def olist():
    path = resources.files("sla_sim.data").joinpath(
        "olist", "olist_marketing_qualified_leads_dataset.csv")
    return load_export(str(path), "preset:olist")


def _observed(export) -> tuple[dict[int, float], int]:
    L = export.leads
    tz = export.mapping.timezone
    m = ((L["mql_at"] >= pd.Timestamp("2018-01-01", tz=tz))
         & (L["mql_at"] < pd.Timestamp("2018-04-01", tz=tz))).to_numpy()
    lag = ((L["closed_at"] - L["mql_at"]).dt.total_seconds() / 86400).to_numpy()
    won = (L["stage"] == "won").to_numpy()
    return {d: float(np.mean((won & (lag <= d))[m])) for d in DAYS}, int(m.sum())


@pytest.mark.slow
def test_smb_inbound_won_curve_matches_olist_2018(olist) -> None:
    obs, n = _observed(olist)
    assert obs[7] == pytest.approx(0.035, abs=0.003)  # the data, as docs/crm.md quotes it
    assert obs[90] == pytest.approx(0.12, abs=0.005)
    sc = set_path(preset("smb_inbound"), "horizon.measure_months", 6)
    _, t0, _ = horizon_hours(sc)  # the cohort: MQLs of the first 90 measured days
    sims = []
    for r in range(3):
        log = FunnelModel(sc, Streams(replication_seed(20260101, r))).run()
        sims.append(cohort_won_within(log, t0, t0 + 90 * 24.0, DAYS))
    for d in DAYS:
        v = np.array([s[d] for s in sims])
        se = math.sqrt(obs[d] * (1 - obs[d]) / n + v.var(ddof=1) / len(v))
        assert abs(v.mean() - obs[d]) < 3 * se, (d, v.mean(), obs[d], se)
