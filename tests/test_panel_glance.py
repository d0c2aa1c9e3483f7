"""The panel at a glance, without a browser: breach bars coloured by risk, a monthly heatmap,
the baseline comparison in units, new levers, "Save as scenario" and "Save charts" into the
run store with progress, charts that scale to their column."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from ci_env import require

require("ipywidgets", "pip install -e .[notebook]")

from sla_sim.batch.compare import paired_differences  # noqa: E402
from sla_sim.batch.replications import run_replications  # noqa: E402
from sla_sim.batch.results import Results  # noqa: E402
from sla_sim.planner.panel import (  # noqa: E402
    CHARTS,
    PlannerPanel,
    comparison_html,
    default_charts_folder,
    render_chart,
)
from sla_sim.report import charts  # noqa: E402
from sla_sim.scenario.io import apply_assignments, diff, validate  # noqa: E402
from sla_sim.scenario.presets import preset  # noqa: E402

SHORT = ["horizon.warmup_days=20", "horizon.measure_months=2"]
RED, GREEN = "#c43c39", "#3a9b6b"


@pytest.fixture(scope="module")
def pair() -> tuple[Results, Results]:
    a = apply_assignments(preset("default"), SHORT)
    b = apply_assignments(a, ["teams[sdr].reps=6"])
    ra = run_replications(a, reps=3, seed=3, workers=1, progress=False, keep_log_of=None)
    rb = run_replications(b, reps=3, seed=3, workers=1, progress=False, keep_log_of=None)
    return ra, rb


def _forced(results: Results, metric: str, value: float) -> Results:
    """The same results with one 0/1 metric set to ``value`` in every period."""
    t = results.table.copy()
    t.loc[t["metric"] == metric, "value"] = value
    return Results.from_table(results.scenario, t, results.terminal, results.meta)


def _bar_fill(svg: str, label_part: str) -> str:
    """Fill of the risk-coloured bar (not its grey track) whose label mentions
    ``label_part``."""
    m = re.search(r'<path aria-label="[^"]*' + re.escape(label_part) + r'[^"]*; risk: [^"]*"'
                  r' role="graphics-symbol" aria-roledescription="bar"[^>]*fill="(#\w+)"',
                  svg)  # fmt: skip
    assert m, label_part
    return m.group(1)


def test_breach_bars_are_coloured_by_risk_not_side(pair: tuple[Results, Results]) -> None:
    """A 100% first-touch breach is red (it was the Sales green before); 0% is green."""
    sure = _forced(_forced(pair[0], "first_touch_breach", 1.0), "handoff_breach", 0.0)
    svg = render_chart("breach", sure)
    assert _bar_fill(svg, "commitment: First touch") == RED
    assert _bar_fill(svg, "commitment: Handoff") == GREEN
    assert charts.risk_colour(0.05) == GREEN
    assert charts.risk_colour(0.3) == "#e08a2c"
    assert charts.risk_colour(0.5) == RED
    assert "Risk of breach" in svg


def test_monthly_heatmap_has_a_cell_per_commitment_and_month(pair: tuple[Results, Results]
                                                              ) -> None:  # fmt: skip
    """P(breach) by clause x month, with the share printed in each cell."""
    r = _forced(pair[0], "attempts_breach", 0.0)
    t = r.table.copy()
    feb = (t["metric"] == "attempts_breach") & (t["period"] == "2026-02")
    t.loc[feb, "value"] = [1.0, 1.0, 0.0]  # February breached in 2 of 3 replications
    r = Results.from_table(r.scenario, t, r.terminal, r.meta)
    assert "monthly" in CHARTS
    svg = render_chart("monthly", r)
    cells = re.findall(r'aria-label="([^"]*commitment: 3 attempts[^"]*)"', svg)
    assert any("Month: 2026-02" in c and "P(breach): 66.66" in c for c in cells), cells
    assert any("Month: 2026-01" in c and "P(breach): 0.0" in c for c in cells), cells
    assert "cell: 66.7 %" in svg  # the share printed in the cell, as the report's table does
    assert "max-width:100%" in svg  # scales down to its column


def test_comparison_table_is_readable(pair: tuple[Results, Results]) -> None:
    """Labels, units, significant rows highlighted, collapsible."""
    ra, rb = pair
    page = comparison_html(paired_differences(ra, rb), rb, "SDRs 10 -> 6")
    assert page.startswith("<details")
    assert "<summary" in page
    assert "First touch compliance" in page
    assert "first_touch_compliance" not in page
    assert re.search(r"USD \d+(\.\d+)?[kM]", page)
    assert " pp" in page
    assert not re.search(r"\d[eE][+-]\d", page)
    sig = page.count("data-significant='1'")
    assert sig >= 1  # 6 SDRs instead of 10 moves first-touch compliance for sure
    assert f"{sig} material difference" in page
    assert "AE utilisation" in page  # shown whenever headcount changes


def test_new_levers_and_save_as_scenario(tmp_path: Path) -> None:
    """Targets, win rate and deal value are levers; the saved scenario validates and differs
    from the base only where the levers moved."""
    panel = PlannerPanel(apply_assignments(preset("default"), SHORT), reps=2, workers=1)
    names = set(panel.controls)
    assert {"revenue_target", "mql_commitment", "acceptance_min", "compliance_target",
            "win_rate:paid", "deal_value:paid"} <= names  # fmt: skip
    panel.set_values(revenue_target=3_000_000, **{"win_rate:paid": 0.3})
    text = panel.scenario_download()
    sc = validate(yaml.safe_load(text))
    assert diff(panel.base, sc) == [("channels[paid].win_rate", 0.22, 0.3),
                                    ("sla.revenue_target_per_month", 2_200_000.0, 3_000_000.0)]
    link = panel.scenario_link.value
    assert "download='mid_market-planner.yaml'" in link
    assert "href='data:application/x-yaml;base64," in link
    assert panel.save_scenario(tmp_path / "s.yaml").is_file()
    panel.planner.close()


def test_save_charts_goes_to_the_store_with_progress(pair: tuple[Results, Results]) -> None:
    """By default into the run store (never the working folder), saying where, counting."""
    panel = PlannerPanel(pair[0].scenario, reps=2, workers=1)
    panel.results = pair[0]
    folder = default_charts_folder()
    assert str(folder).startswith(str(Path(__import__("os").environ["SLA_SIM_STORE"])))
    paths = panel.save_charts(formats=("svg",))
    assert {p.parent for p in paths} == {folder}
    assert len(paths) == len(CHARTS) - 1  # no event log: no response-time chart
    assert panel.save_progress.value == panel.save_progress.max == len(paths)
    assert f"saved {len(paths)} files" in panel.save_note.value
    assert str(folder) in panel.save_note.value
    assert np.all([p.stat().st_size > 0 for p in paths])
    panel.planner.close()


@pytest.mark.slow  # worker processes started three times
def test_starting_scenario_is_kept_on_disk_for_the_next_page(tmp_path: Path) -> None:
    """A persisted evaluation is written under the disk cache (scenario hash, seed, reps,
    version) and a fresh planner - a new page's kernel - shows it at once, identical."""
    from sla_sim.planner.engine import Planner, Update

    sc = apply_assignments(preset("default"), ["horizon.warmup_days=10",
                                               "horizon.measure_months=1"])  # fmt: skip
    first = Planner(reps=2, workers=1)
    first.disk_cache = tmp_path / "cache"
    got: list[Update] = []
    try:
        first.evaluate_sync(sc, got.append, persist=True)
    finally:
        first.close()
    kept = first.disk_path(sc)
    assert kept is not None
    assert (kept / "summary.json").is_file()
    assert got[-1].final
    assert not got[-1].from_cache
    again = Planner(reps=2, workers=1)
    again.disk_cache = tmp_path / "cache"
    shown: list[Update] = []
    again.evaluate_sync(sc, shown.append, persist=True)
    assert again._pools is None  # nothing simulated: no worker was started
    assert len(shown) == 1
    assert shown[0].final
    assert shown[0].from_cache
    assert np.array_equal(shown[0].results.values, got[-1].results.values, equal_nan=True)
    other = Planner(reps=3, workers=1)  # another replication count: another key
    other.disk_cache = tmp_path / "cache"
    assert other.disk_path(sc) != kept


def _kept_by_a_first_kernel(cache: Path) -> tuple[Any, Path]:
    """A small scenario and the folder where a first kernel's planner kept its results (2
    replications, 1 worker) under the disk cache ``cache``."""
    from sla_sim.planner.engine import Planner

    sc = apply_assignments(preset("default"), ["horizon.warmup_days=10",
                                               "horizon.measure_months=1"])  # fmt: skip
    maker = Planner(reps=2, workers=1)
    maker.disk_cache = cache
    try:
        maker.evaluate_sync(sc, lambda _u: None, persist=True)
    finally:
        maker.close()
    made = maker.disk_path(sc)
    assert made is not None
    return sc, made


@pytest.mark.slow  # worker processes started three times
def test_a_second_kernel_waits_for_the_first_instead_of_simulating_twice(tmp_path: Path
                                                                          ) -> None:  # fmt: skip
    """While another live process has claimed the starting scenario, a new planner waits for
    the results it keeps on disk rather than simulating the same replications at once."""
    import asyncio
    import shutil
    import subprocess
    import sys

    from sla_sim.planner.engine import Planner, Update

    sc, made = _kept_by_a_first_kernel(tmp_path / "made")
    waiter = Planner(reps=2, workers=1)
    waiter.disk_cache = tmp_path / "shared"
    target = waiter.disk_path(sc)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        target.parent.mkdir(parents=True)
        target.with_name(f"{target.name}.computing").write_text(str(other.pid))
        shown: list[Update] = []

        async def scenario_of_two_kernels() -> None:
            async def first_kernel_finishes() -> None:
                await asyncio.sleep(1.0)
                shutil.copytree(made, target)

            await asyncio.gather(waiter.evaluate(sc, shown.append, persist=True),
                                 first_kernel_finishes())  # fmt: skip

        t0 = time.monotonic()
        asyncio.run(scenario_of_two_kernels())
        waited = time.monotonic() - t0
    finally:
        other.kill()
        other.wait()
        waiter.close()
    assert waiter._pools is None  # it never started a worker
    # it took the results as soon as they were kept, though the claim was never released
    assert waited < Planner.CLAIM_WAIT_S / 2
    assert [u.from_cache and u.final for u in shown] == [True]
    # a claim by a process that is gone is ignored: this planner simulates
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    fresh = Planner(reps=2, workers=1)
    fresh.disk_cache = tmp_path / "stale"
    stale = fresh.disk_path(sc)
    stale.parent.mkdir(parents=True)
    stale.with_name(f"{stale.name}.computing").write_text(str(gone.pid))
    got: list[Update] = []
    try:
        fresh.evaluate_sync(sc, got.append, persist=True)
    finally:
        fresh.close()
    assert got[-1].final
    assert not got[-1].from_cache
    assert not stale.with_name(f"{stale.name}.computing").exists()  # released when done


@pytest.mark.slow  # worker processes started twice
def test_a_pre_heated_panel_starts_its_workers_once_the_other_kernel_is_done(
        tmp_path: Path) -> None:  # fmt: skip
    """A panel shown while another live kernel simulates its starting scenario (the dashboard's
    next pre-heated kernel, while the first page computes) starts no worker and warms no chart
    until those results are kept: it takes no CPU from that simulation. Then it shows them
    from the disk cache and starts its workers for the next lever move."""
    import asyncio
    import shutil
    import subprocess
    import sys

    from sla_sim.planner import panel as panel_module

    sc, made = _kept_by_a_first_kernel(tmp_path / "made")
    panel = PlannerPanel(sc, reps=2, workers=1, cache_dir=tmp_path / "shared")
    target = panel.planner.disk_path(sc)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    warm_before = panel_module._WARM
    during: list[tuple[bool, bool]] = []
    try:
        target.parent.mkdir(parents=True)
        target.with_name(f"{target.name}.computing").write_text(str(other.pid))
        assert panel.planner.claimed_elsewhere(sc)

        async def pre_heated_kernel() -> None:
            panel._ipython_display_()
            await asyncio.sleep(1.0)
            during.append((panel.planner._pools is None, panel_module._WARM is warm_before))
            shutil.copytree(made, target)  # the first kernel keeps its results
            await panel.wait_idle()

        asyncio.run(pre_heated_kernel())
        started = panel.planner._pools is not None
    finally:
        other.kill()
        other.wait()
        panel.planner.close()
    assert during == [(True, True)]  # nothing started while the other kernel computed
    assert panel.updates[-1].from_cache
    assert panel.updates[-1].final
    assert started  # then the workers, ready for the next lever move
    assert not panel.planner.claimed_elsewhere(sc)  # kept: nobody is computing it any more
