"""The planner panel's logic, headless: no browser and no event loop.

Without a running event loop ``PlannerPanel.refresh()`` evaluates synchronously, so every
effect of a lever can be checked directly on ``panel.current_scenario()``, ``panel.results``,
``panel.updates``, the chart widgets and the status line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ci_env import require

require("ipywidgets", "the planner panel needs it: pip install -e .[notebook]")  # fails on CI

# the planner modules import ipywidgets: imported only once it is known to be there
from sla_sim.errors import ScenarioError  # noqa: E402
from sla_sim.planner.engine import Lever, Planner  # noqa: E402
from sla_sim.planner.panel import CHARTS, PlannerPanel  # noqa: E402
from sla_sim.scenario.io import set_path  # noqa: E402
from sla_sim.scenario.schema import Scenario  # noqa: E402

REPS = 4


@pytest.fixture(scope="module")
def fast(tiny_factory: Any) -> Scenario:
    """The default preset on a short horizon (20-day warm-up, one measured month)."""
    return tiny_factory(None)


@pytest.fixture(scope="module")
def planner() -> Iterator[Planner]:
    """One worker pool shared by the panels of this module (its cache is shared too)."""
    p = Planner(reps=REPS, workers=2)
    yield p
    p.close()


@pytest.fixture
def panel(fast: Scenario, planner: Planner) -> PlannerPanel:
    """A fresh panel on the fast scenario."""
    return PlannerPanel(scenario=fast, planner=planner)


# ---------------------------------------------------------------------- levers and fields
def _flat(node: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a model dump by path (lists by index: ``teams[0].reps``)."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for k, v in node.items():
            out |= _flat(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(node, list):
        out = {}
        for i, v in enumerate(node):
            out |= _flat(v, f"{prefix}[{i}]")
        return out | {f"{prefix}#len": len(node)}
    return {prefix: node}


def _get(scenario: Scenario, path: str) -> Any:
    """The value at a lever path (list items by index or by ``name``), or KeyError."""
    node: Any = scenario.model_dump(mode="python")
    for part in [p for chunk in path.replace("]", "").split(".") for p in chunk.split("[") if p]:
        if isinstance(node, dict):
            node = node[part]
        elif isinstance(node, list):
            hits = [i for i, x in enumerate(node) if isinstance(x, dict) and x.get("name") == part]
            node = node[int(part)] if part.lstrip("-").isdigit() else node[hits[0]]
        else:
            raise KeyError(path)
    return node


def _indexed(scenario: Scenario, path: str) -> str:
    """A lever path with list items named by index, as in :func:`_flat`."""
    data = scenario.model_dump(mode="python")

    def index(m: re.Match[str]) -> str:
        head, key = m.group(1), m.group(2)
        items = _get_list(data, head)
        if key.lstrip("-").isdigit():
            return f"{head}[{key}]"
        return f"{head}[{next(i for i, x in enumerate(items) if x.get('name') == key)}]"

    return re.sub(r"([\w.]+)\[([^\]]+)\]", index, path)


def _get_list(data: dict[str, Any], head: str) -> list[Any]:
    node: Any = data
    for part in head.split("."):
        node = node[part]
    return node


def _another_value(lever: Lever) -> Any:
    """A valid value different from the lever's current one (a step up, or down at the top)."""
    if lever.choices is not None:
        return next(c for c in lever.choices if c != lever.value)
    step = lever.step or 1
    up = lever.value + step
    value = up if lever.high is None or up <= lever.high else lever.value - step
    return int(value) if lever.integer else value


def test_every_control_is_a_lever_bound_to_real_scenario_fields(panel: PlannerPanel) -> None:
    """Each control is a lever; each lever's paths resolve on the scenario (a lever bound to no
    field fails here), and a single-field lever's control starts at that field's value."""
    assert set(panel.controls) == {lv.name for lv in panel.levers}
    assert {"sdr_count", "first_touch", "attempts", "attempts_required", "handoff"} <= set(
        panel.controls
    )
    for lever in panel.levers:
        assert lever.paths, f"lever {lever.name} writes no scenario field"
        for path in lever.paths:
            current = _get(panel.base, path)  # KeyError: not a scenario field
            set_path(panel.base, path, current)  # ScenarioError: not a scenario field
        if lever.apply is None:
            assert panel.controls[lever.name].value == _get(panel.base, lever.paths[0]), lever.name


def test_each_lever_changes_its_fields_and_nothing_else(panel: PlannerPanel) -> None:
    """Moving one control changes the scenario at that lever's paths, and only there."""
    before = _flat(panel.base.model_dump(mode="python"))
    for lever in panel.levers:
        value = _another_value(lever)
        panel.set_values(**{lever.name: value})
        after = _flat(panel.current_scenario().model_dump(mode="python"))
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        allowed = tuple(_indexed(panel.base, p) for p in lever.paths)
        assert changed, f"lever {lever.name} = {value!r} changed nothing in the scenario"
        stray = {k for k in changed if not k.startswith(allowed)}
        assert not stray, f"lever {lever.name} also changed {sorted(stray)}"
        panel.set_values(**{lever.name: lever.value})
    assert panel.current_scenario() == panel.base


def test_unknown_lever_is_a_scenario_error_naming_it(panel: PlannerPanel) -> None:
    """set_values with a name that is not a lever raises ScenarioError naming it."""
    with pytest.raises(ScenarioError, match="nope"):
        panel.set_values(nope=1)


# ---------------------------------------------------------------------- evaluation
def test_refresh_draws_every_chart_and_finishes(panel: PlannerPanel) -> None:
    """After refresh() every chart is an SVG and the status line says final, all replications."""
    panel.refresh()
    for name in CHARTS:
        assert "<svg" in panel.charts[name].value, name
    assert "data-final='1'" in panel.status.value
    assert f"data-reps='{REPS}'" in panel.status.value
    assert panel.message.value == ""
    assert panel.results is not None
    assert panel.results.replications == REPS


def test_status_is_shown_before_the_charts_are_drawn(panel: PlannerPanel) -> None:
    """Each update's numbers (status and headline) appear before its charts are drawn."""
    order: list[str] = []
    panel.status.observe(lambda _c: order.append("status"), names="value")
    panel.headline.observe(lambda _c: order.append("headline"), names="value")
    for name in CHARTS:
        panel.charts[name].observe(lambda _c, n=name: order.append(n), names="value")
    panel.set_values(ae_count=panel.values()["ae_count"] + 1)
    panel.refresh()
    assert order[:2] == ["status", "headline"], order
    final = max(i for i, x in enumerate(order) if x == "status")
    assert set(order[final + 2:]) == set(CHARTS), order  # the final update draws all six


def test_headline_names_the_commitment_most_at_risk(panel: PlannerPanel) -> None:
    """The headline quotes median revenue vs target and the most-breached commitment, or says
    that none was breached."""
    import numpy as np

    from sla_sim.planner.panel import headline_html
    from sla_sim.report.document import headline_table
    from sla_sim.report.labels import COMMITMENTS, commitment_labels
    from sla_sim.report.units import money, prob

    panel.refresh()
    res = panel.results
    assert res is not None
    text = headline_html(res)
    # the median and the target as every surface writes them (the report's P50 and target;
    # the panel wrote USD 7,009,987 beside the report's and its own cost's USD 7.01M)
    cur = res.scenario.currency
    assert f"median <b>{money(np.median(res.column('revenue')), cur)}</b>" in text
    rev = headline_table(res).iloc[0]
    assert f"median <b>{rev['P50']}</b> vs target {rev['Target']}" in text
    labels = commitment_labels(res.scenario)
    months = [p for p in dict.fromkeys(res.table["period"]) if p != "total"]
    odds = {}
    for _, k in COMMITMENTS:
        if k != "revenue_target":
            per_month = np.column_stack([res.column(f"{k}_breach", m) for m in months])
            odds[labels[k]] = float(np.nan_to_num(per_month, nan=0.0).max(axis=1).mean())
    worst = max(odds.values())
    if worst > 0:
        assert "most at risk" in text
        assert any(f"{name}</b>: breached in at least one month in {prob(p)}" in text
                   for name, p in odds.items() if p == worst)
    else:
        assert "no SLA commitment breached in any month of any replication" in text
    zero = res.table.copy()
    zero.loc[zero["metric"].str.endswith("_breach") & (zero["metric"] != "revenue_target_breach"),
             "value"] = 0.0
    from sla_sim.batch.results import Results

    calm = Results.from_table(res.scenario, zero, res.terminal, res.meta)
    assert "no SLA commitment breached in any month of any replication" in headline_html(calm)


def test_planner_workers_run_at_lower_priority(planner: Planner) -> None:
    """The simulations yield the CPU to the process drawing charts (nice + WORKER_NICE)."""
    import os

    from sla_sim.planner.engine import WORKER_NICE

    mine = os.nice(0)
    theirs = [pool.submit(os.nice, 0).result() for pool in planner.pools]
    assert theirs == [min(19, mine + WORKER_NICE)] * planner.workers


def test_more_sdrs_lower_sdr_utilisation(panel: PlannerPanel) -> None:
    """Raising SDR headcount lowers SDR utilisation in every paired replication."""
    panel.refresh()
    base = panel.results
    assert base is not None
    panel.set_values(sdr_count=panel.controls["sdr_count"].value + 4)
    panel.refresh()
    more = panel.results
    assert more is not None
    assert more is not base
    a, b = base.column("sdr_utilization"), more.column("sdr_utilization")
    assert (b < a).all(), (a, b)


def test_invalid_combination_shows_a_message_and_keeps_results(panel: PlannerPanel) -> None:
    """1 attempt in the cadence but 3 owed by the SLA: a message, previous results kept."""
    panel.refresh()
    kept, n_updates = panel.results, panel.shown
    panel.set_values(attempts=1, attempts_required=3)
    panel.refresh()
    assert "attempts" in panel.message.value
    assert "last valid result" in panel.message.value
    assert panel.results is kept
    assert panel.shown == n_updates
    panel.set_values(attempts=5)
    panel.refresh()
    assert panel.message.value == ""


def test_same_settings_again_come_from_the_cache(panel: PlannerPanel) -> None:
    """The second refresh with unchanged settings is one final update served from the cache."""
    panel.set_values(first_touch=2.0)
    panel.refresh()
    first = panel.results
    n = panel.shown
    panel.refresh()
    assert panel.shown == n + 1
    assert panel.updates[-1].from_cache
    assert panel.updates[-1].final
    assert panel.results is first
    assert "(cached)" in panel.status.value


def test_an_sla_only_change_is_rejudged_by_the_workers_without_simulating(
    fast: Scenario,
) -> None:
    """Each replication goes to the same worker every time; a change of SLA settings only is
    re-judged on what the workers remember, with results identical to a fresh evaluation."""
    planner = Planner(reps=4, workers=2)
    fresh = Planner(reps=4, workers=2)
    try:
        p = PlannerPanel(scenario=fast, planner=planner)
        p.refresh()
        assert p.updates[-1].remembered == 0
        p.set_values(first_touch=1.0, disposition_days=5)
        p.refresh()
        final = p.updates[-1]
        assert final.final
        assert final.remembered == 4
        assert "SLA re-judged" in p.status.value
        p.set_values(sdr_count=p.values()["sdr_count"] + 1)  # capacity: simulated again
        p.refresh()
        assert p.updates[-1].remembered == 0
        got: list[Any] = []
        fresh.evaluate_sync(set_path(set_path(fast, "sla.first_touch_within_business_hours",
                                              1.0), "sla.disposition_within_days", 5),
                            got.append)  # fmt: skip
    finally:
        planner.close()
        fresh.close()
    assert got[-1].remembered == 0
    import numpy as np

    assert np.array_equal(final.results.values, got[-1].results.values, equal_nan=True)


def test_a_dead_worker_is_reported_and_replaced(fast: Scenario) -> None:
    """If a worker process dies, the evaluation ends with a clear message beside the controls,
    the last good result stays, and the next change starts new workers."""
    import os

    planner = Planner(reps=2, workers=2)
    try:
        p = PlannerPanel(scenario=fast, planner=planner)
        p.refresh()
        good = p.results
        dead = planner.pools[1].submit(os._exit, 3)  # the worker process exits at once
        with pytest.raises(Exception):  # noqa: B017, PT011 - the pool reports it broken
            dead.result()
        p.set_values(ae_count=p.values()["ae_count"] + 1)
        p.refresh()
        assert "worker process died" in p.message.value
        assert p.results is good
        p.set_values(ae_count=p.values()["ae_count"] + 1)
        p.refresh()
        assert p.message.value == ""
        assert p.updates[-1].final
    finally:
        planner.close()


def test_replication_count_can_be_changed_from_the_panel(fast: Scenario) -> None:
    """The Replications picker sets the count of the next evaluations; fewer replications of
    settings already simulated are re-judged from what the workers remember."""
    planner = Planner(reps=20, workers=2)
    try:
        p = PlannerPanel(scenario=fast, planner=planner)
        assert p.reps_picker.value == 20
        p.refresh()
        assert p.results is not None
        assert p.results.replications == 20
        p.reps_picker.value = 10  # as a user would pick it (no event loop: refresh by hand)
        p.refresh()
        assert p.results.replications == 10
        assert p.updates[-1].remembered == 10  # replications 0..9 were simulated before
        assert p.progress.max == 10
        assert "data-reps='10'" in p.status.value
        assert "/ 10 replications" in p.status.value
    finally:
        planner.close()
    with pytest.raises(ScenarioError, match="replications"):
        planner.set_reps(0)


def test_cache_keeps_the_most_recently_used_settings(fast: Scenario) -> None:
    """The cache is bounded: beyond cache_size settings the least recently used is dropped,
    and a hit counts as a use."""
    planner = Planner(reps=2, workers=2, cache_size=2)
    try:
        scenarios = [set_path(fast, "ae.count", n) for n in (6, 7, 8)]
        seen: list[Any] = []
        for sc in (scenarios[0], scenarios[1], scenarios[0], scenarios[2]):
            planner.evaluate_sync(sc, seen.append)
        keys = [planner.key(sc) for sc in scenarios]
        assert list(planner.cache) == [keys[0], keys[2]]  # 1 was least recently used
        assert [u.from_cache for u in seen if u.final] == [False, False, True, False]
    finally:
        planner.close()
    with pytest.raises(ScenarioError, match="cache_size"):
        Planner(cache_size=0)


def test_updates_arrive_progressively_and_end_final(fast: Scenario) -> None:
    """Updates come in increasing replication counts; only the last is final, at full count;
    the progress bar counts every replication in between."""
    planner = Planner(reps=6, workers=2, first_batch=1)
    try:
        p = PlannerPanel(scenario=fast, planner=planner)
        bar: list[int] = []
        p.progress.observe(lambda c: bar.append(c["new"]), names="value")
        p.refresh()
        assert bar == [1, 2, 3, 4, 5, 6], bar  # one step per replication (from 0 at the start)
        counts = [u.results.replications for u in p.updates]
        finals = [u.final for u in p.updates]
    finally:
        planner.close()
    assert len(counts) >= 2, counts
    assert counts == sorted(set(counts)), counts
    assert p.progress.value == p.progress.max == 6
    assert p.progress.bar_style == "success"
    assert counts[-1] == 6
    assert finals == [False] * (len(finals) - 1) + [True]


def test_response_chart_is_drawn_once_per_scenario(fast: Scenario,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The response-time chart shows replication 0's log, the same at every update: it is drawn
    once per evaluated scenario although two updates draw it."""
    import sla_sim.planner.panel as widgets

    calls: list[str] = []
    real = widgets.render_chart

    def counting(name: str, results: Any) -> str:
        calls.append(name)
        return real(name, results)

    monkeypatch.setattr(widgets, "render_chart", counting)
    planner = Planner(reps=6, workers=2, first_batch=1)  # updates at 1, 3 and 6 replications
    try:
        p = PlannerPanel(scenario=fast, planner=planner)
        p.refresh()
        assert calls.count("revenue") == 2  # first and final updates (not the second)
        assert calls.count("funnel") == 2  # second (its first) and final updates
        assert calls.count("response") == 1
        first = p.charts["response"].value
        p.set_values(sdr_count=p.values()["sdr_count"] + 4)
        p.refresh()
    finally:
        planner.close()
    assert calls.count("response") == 2
    assert p.charts["response"].value != first


def test_save_charts_writes_png_svg_and_html(panel: PlannerPanel, tmp_path: Path) -> None:
    """save_charts writes every chart as PNG, SVG and HTML, none of them empty."""
    assert panel.save_charts(tmp_path / "none") == []  # nothing evaluated yet
    assert "nothing to save" in panel.message.value
    panel.refresh()
    paths = panel.save_charts(tmp_path / "charts")
    assert paths
    assert {p.suffix for p in paths} == {".png", ".svg", ".html"}
    assert {p.stem for p in paths} == set(CHARTS)  # every chart on the panel
    for p in paths:
        assert p.is_file()
        assert p.stat().st_size > 0, p
    assert all("<svg" in p.read_text() for p in paths if p.suffix == ".svg")


def test_while_the_chart_renderer_warms_up_updates_show_numbers_only(
        panel: PlannerPanel, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """A page opened as the kernel starts: until the chart renderer is warm, refining updates
    set the status and headline but draw no chart (the kernel stays free to answer the page);
    the first update after it is warm draws the headline charts, and the final one draws all."""
    import threading

    from sla_sim.planner import panel as panel_module
    from sla_sim.planner.engine import Update
    from sla_sim.planner.panel import FIRST

    panel.refresh()
    results = panel.results
    assert results is not None
    warm = threading.Event()
    monkeypatch.setattr(panel_module, "_WARM", warm)
    assert not panel_module.charts_warm()
    for name in CHARTS:
        panel.charts[name].value = ""
    drawn: list[str] = []
    render = panel._render

    def recording(name: str, res: Any, final: bool) -> str:
        drawn.append(name)
        return render(name, res, final)

    monkeypatch.setattr(panel, "_render", recording)
    panel._fresh = True  # a new evaluation begins
    panel._show(Update(results, False, 0.1))
    assert f"data-reps='{results.replications}'" in panel.status.value
    assert drawn == []
    assert all("computing" in panel.charts[n].value for n in CHARTS)
    panel._show(Update(results, False, 0.2))
    assert drawn == []  # still warming: numbers only
    warm.set()
    panel._show(Update(results, False, 0.3))
    assert sorted(drawn) == sorted(FIRST)  # the first drawable update: the headline charts
    drawn.clear()
    panel._show(Update(results, False, 0.4))
    assert sorted(drawn) == sorted(set(CHARTS) - set(FIRST))  # then the others
    drawn.clear()
    warm.clear()
    panel._show(Update(results, True, 0.5))
    assert sorted(drawn) == sorted(CHARTS)  # the final update draws all, warm or not
    assert all("<svg" in panel.charts[n].value for n in CHARTS)


def test_warm_charts_runs_once_and_finishes() -> None:
    """The warm-up thread is started once per process and sets its event when done."""
    from sla_sim.planner import panel as panel_module

    first = panel_module.warm_charts()
    assert panel_module.warm_charts() is first
    assert first.wait(120)
    assert panel_module.charts_warm()
