"""Measure a CRM export with the simulator's metrics: a simulated log exported and
re-imported measures identically; pending leads are counted apart; a measured run is stored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sla_sim.crm.export import log_to_export, write_export
from sla_sim.crm.load import load_export
from sla_sim.crm.measure import measure_export, store_measured
from sla_sim.horizon import horizon_hours
from sla_sim.metrics import compute
from sla_sim.model.funnel import FunnelModel
from sla_sim.scenario.io import set_path
from sla_sim.scenario.presets import preset
from sla_sim.streams import Streams, replication_seed


@pytest.fixture(scope="module")
def simulated():
    """One simulated month (30-day warm-up) of the default scenario, recycled leads not
    re-qualifying (a lead row holds one MQL episode), and its metrics."""
    sc = preset("default")
    for path, value in (("nurture.engage_probability", 0.0), ("horizon.warmup_days", 30),
                        ("horizon.measure_months", 1)):  # fmt: skip
        sc = set_path(sc, path, value)
    log = FunnelModel(sc, Streams(replication_seed(7, 0))).run()
    return sc, log, compute(log, sc)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_measure_equals_simulate(simulated, tmp_path: Path, fmt: str) -> None:
    sc, log, sim_table = simulated
    origin, _, end_h = horizon_hours(sc)
    frames = log_to_export(log, origin, end_h, sc.horizon.timezone)
    assert frames.later_episodes == 0
    leads, _, mapping = write_export(frames, tmp_path, fmt,
                                     calendar=sc.teams[0].calendar.model_dump(mode="json"))
    me = measure_export(load_export(leads, mapping), sc, start=str(sc.horizon.measure_start))
    a = sim_table.set_index(["period", "metric"])["value"]
    b = me.table.set_index(["period", "metric"])["value"]
    assert list(a.index) == list(b.index)
    counts = [m for m in a.index.get_level_values(1).unique()
              if m.endswith(("_met", "_breached", "_pending")) or m in
              ("leads_created", "mqls", "sqls", "wins", "losses", "opportunities")]  # fmt: skip
    for m in counts:  # counts exactly
        assert (a.xs(m, level=1) == b.xs(m, level=1)).all(), m
    # times went through nanosecond timestamps: the rest agrees to 1e-9
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-9, atol=1e-9)
    assert a.xs("first_touch_pending", level=1).sum() > 0  # the test reaches pending leads


def test_pending_are_counted_apart(simulated, tmp_path: Path) -> None:
    """Cut the export early: the leads still inside their window become pending, not
    breached, and met + breached + pending is the number of clause starts."""
    sc, log, _ = simulated
    origin, start_h, end_h = horizon_hours(sc)
    cut = start_h + 0.5 * (end_h - start_h)
    frames = log_to_export(log, origin, cut, sc.horizon.timezone)
    leads, _, mapping = write_export(frames, tmp_path, "parquet")
    me = measure_export(load_export(leads, mapping), sc, start=str(sc.horizon.measure_start))
    t = me.table.set_index(["period", "metric"])["value"].xs("total", level=0)
    assert t["disposition_pending"] > 0
    # a clause with a 14-day window: everything MQL'd in the last 14 days is pending or met
    ep = me.measurement.episodes
    in_window = (ep.mql >= me.window.start_h) & (ep.mql < me.window.end_h)
    assert t["disposition_met"] + t["disposition_breached"] + t["disposition_pending"] == int(
        in_window.sum())
    b = me.breakdown[(me.breakdown["period"] == "total")
                     & (me.breakdown["clause"] == "first_touch")]
    assert b["pending"].sum() == t["first_touch_pending"]
    assert b["met"].sum() == t["first_touch_met"]
    # owners are pseudonyms; MQLs still queued at the cut have none yet
    assert (b["owner"].str.startswith("owner-") | (b["owner"] == "(no owner)")).all()
    assert b["owner"].str.startswith("owner-").sum() == sc.teams[0].reps


def test_measured_run_is_stored(simulated, tmp_path: Path) -> None:
    from sla_sim.batch.store import RunStore

    sc, log, _ = simulated
    origin, _, end_h = horizon_hours(sc)
    leads, _, mapping = write_export(log_to_export(log, origin, end_h, sc.horizon.timezone),
                                     tmp_path / "export", "parquet")
    me = measure_export(load_export(leads, mapping), sc)
    store = RunStore(tmp_path / "store")
    run_id, path = store_measured(me, store)
    assert (path / "summary.json").is_file()
    assert (path / "breakdown.csv").is_file()
    summary = json.loads((path / "summary.json").read_text())
    assert summary["meta"]["kind"] == "measured"
    runs = store.list()
    assert run_id in set(runs["id"])
    assert runs.set_index("id").loc[run_id, "status"] == "complete"
    months = {p for p in summary["periods"] if p != "total"}
    assert months == {p.label for p in me.window.months}
    assert pd.read_csv(path / "breakdown.csv")["compliance"].between(0, 1).any()


def test_two_teams_measured_and_calibrated_apart(simulated, tmp_path: Path) -> None:
    """Teams come from the MQLs' team column: each gets its reps (owners seen), its rows in the
    breakdown, and, in a calibrated scenario, the channels whose MQLs it works."""
    from sla_sim.crm.calibrate import calibrate

    sc, log, _ = simulated
    origin, _, end_h = horizon_hours(sc)
    frames = log_to_export(log, origin, end_h, sc.horizon.timezone)
    east = frames.leads["Lead Source"].isin(["inbound", "paid"])
    has = frames.leads["Team"].notna()
    frames.leads.loc[has & east, "Team"] = "east"
    frames.leads.loc[has & ~east, "Team"] = "west"
    leads, _, mapping = write_export(frames, tmp_path, "parquet")
    ex = load_export(leads, mapping)
    me = measure_export(ex, sc)
    assert me.scenario.team_names() == ["east", "west"]
    assert [t.reps for t in me.scenario.teams] == [sc.teams[0].reps] * 2
    t = me.table.set_index(["period", "metric"])["value"].xs("total", level=0)
    b = me.breakdown[(me.breakdown["period"] == "total")
                     & (me.breakdown["clause"] == "first_touch")]
    assert b.groupby("team")["met"].sum().sum() == t["first_touch_met"]
    assert set(b["team"]) == {"east", "west"}
    cal = calibrate(ex, sc)
    routes = {tm.name: set(tm.channels) for tm in cal.scenario.teams}
    assert routes == {"east": {"inbound", "paid"}, "west": {"events", "outbound", "partner"}}


def test_a_measured_run_names_the_months_it_measured(tmp_path: Path, capsys) -> None:
    """`measure --sample olist` covers 2017-06 .. 2018-11: the console headline (`runs show`)
    and report.md say so. Both named the base scenario's horizon ('quarter 2026-01..03',
    'Measured: 3 month(s) from 2026-01-01 after 90 warm-up days') above the data's 18 months
    of figures."""
    from sla_sim.cli.main import main

    out = tmp_path / "olist"
    assert main(["measure", "--sample", "olist", "--store", str(tmp_path / "store"),
                 "--out", str(out)]) == 0  # fmt: skip
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "Measured: 18 months 2017-06..2018-11, the months of the data" in md
    assert "from 2026-01-01 after" not in md
    run_id = json.loads((out / "run.json").read_text())["id"]
    capsys.readouterr()
    assert main(["runs", "show", run_id, "--store", str(tmp_path / "store")]) == 0
    shown = capsys.readouterr().out
    assert "Whole measured period, 18 months 2017-06..2018-11" in shown
    assert "2026-01" not in shown
    again = tmp_path / "olist2"
    assert main(["measure", "--sample", "olist", "--store", str(tmp_path / "store"),
                 "--out", str(again)]) == 0  # fmt: skip
    other = json.loads((again / "run.json").read_text())["id"]
    capsys.readouterr()
    assert main(["runs", "compare", run_id, other, "--store", str(tmp_path / "store")]) == 0
    shown = capsys.readouterr().out
    assert "Whole measured period (18 months 2017-06..2018-11)" in shown
    assert "(measured data: no simulated seeds to pair)" in shown  # was "same seed: paired"
