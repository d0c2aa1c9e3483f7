"""The monthly review against known truth: a month exported from a simulation of the scenario
itself lies within normal variation on (almost) every clause; a month with the SDR team cut to
a third is flagged outside, low, on first-touch compliance."""

from __future__ import annotations

from pathlib import Path

import pytest

from sla_sim.crm.export import log_to_export, write_export
from sla_sim.crm.load import load_export
from sla_sim.crm.review import review
from sla_sim.horizon import horizon_hours
from sla_sim.model.funnel import FunnelModel
from sla_sim.scenario.io import set_path
from sla_sim.scenario.presets import preset
from sla_sim.streams import Streams, replication_seed


def _scenario():
    sc = preset("default")
    for p, v in (("horizon.warmup_days", 30), ("horizon.measure_months", 1),
                 ("nurture.engage_probability", 0.0)):  # fmt: skip
        sc = set_path(sc, p, v)
    for ch in sc.channels:
        sc = set_path(sc, f"channels[{ch.name}].leads_per_month", ch.leads_per_month / 4)
    return set_path(sc, "teams[sdr].reps", 3)


def _export(sc, tmp_path: Path, seed: int):
    log = FunnelModel(sc, Streams(replication_seed(seed, 0))).run()
    origin, _, end_h = horizon_hours(sc)
    leads, _, mapping = write_export(log_to_export(log, origin, end_h, sc.horizon.timezone),
                                     tmp_path, "parquet",
                                     calendar=sc.teams[0].calendar.model_dump(mode="json"))
    return load_export(leads, mapping)


@pytest.mark.slow
def test_review_of_the_scenario_itself_is_normal(tmp_path: Path) -> None:
    sc = _scenario()
    month = sc.horizon.measure_start.strftime("%Y-%m")
    verdicts = []
    for seed in (999, 1000, 1001):  # seeds the review's own replications do not use
        ex = _export(sc, tmp_path / str(seed), seed=seed)
        rv = review(ex, sc, month, reps=60, progress=False)
        judged = rv.table[rv.table["verdict"].str.startswith(("within", "outside"))]
        assert len(judged) >= 9
        verdicts += list(judged["verdict"] == "within normal variation")
    # inside P5-P95 of 60 simulated months: about 85% of the time (the P5 and P95 of 60
    # draws are themselves noisy); a systematic error would put most metrics outside
    inside = sum(verdicts) / len(verdicts)
    assert inside >= 0.7, inside
    # the same month when the team had a third of its reps: first touch is outside, low
    short = set_path(sc, "teams[sdr].reps", 1)
    ex2 = _export(short, tmp_path / "short", seed=999)
    rv2 = review(ex2, sc, month, reps=30, progress=False)
    v = rv2.table.set_index("metric")
    assert v.loc["first_touch_compliance", "verdict"] == "outside (low)"
    assert v.loc["first_touch_compliance", "percentile"] < 0.05


def test_review_console_and_json_speak_every_screens_units(tmp_path: Path, capsys) -> None:
    """`review --sample olist` prints each metric by its label and in its unit ('MQLs 1,352',
    '–' when not measured), as every other screen does; it printed raw names and `.4g`
    ('mqls  1352', 'revenue nan', 1.2e+06 for a revenue) and review.json held NaN (not JSON)."""
    import json
    import re

    from sla_sim.cli.main import main
    from sla_sim.scenario.io import save

    scen = save(preset("default"), tmp_path / "scenario.yaml")
    out = tmp_path / "rv"
    capsys.readouterr()
    assert main(["review", "--sample", "olist", "--scenario", str(scen), "--month", "2018-04",
                 "--reps", "3", "--out", str(out), "--quiet"]) == 0  # fmt: skip
    shown = capsys.readouterr().out
    assert re.search(r"\bMQLs\s+1,352\s+P\d+", shown), shown
    assert "nan" not in shown
    assert " mqls " not in shown
    assert re.search(r"Revenue\s+–", shown), shown
    text = (out / "review.json").read_text()
    assert "NaN" not in text
    json.loads(text)
