"""The planner panel: ipywidgets controls bound to scenario levers, charts that refine live.

Thin by design: levers and progressive evaluation live in :mod:`sla_sim.planner.engine`, charts in
:mod:`sla_sim.report.charts`. Charts are rendered in the kernel to SVG (vl-convert) and shown in
HTML
widgets, so they work offline in JupyterLab and Voilà with no JavaScript bundle or CDN.

    from sla_sim.planner.panel import PlannerPanel
    PlannerPanel()            # in a notebook cell: shows the panel
"""

from __future__ import annotations

import asyncio
import html
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import ipywidgets as W  # noqa: N812 - the conventional short name
import numpy as np

from sla_sim.batch.results import Results
from sla_sim.errors import ScenarioError, SlaSimError
from sla_sim.metrics.numbers import prob
from sla_sim.planner.engine import Lever, Planner, Update, apply_levers, levers_for
from sla_sim.report.labels import choice_label, display_name
from sla_sim.scenario.schema import Scenario

CHARTS = ("revenue", "breach", "monthly", "response", "funnel", "capacity", "compliance",
          "cost")
CURRENT = "(scenario given)"
FIRST = ("revenue", "breach")  # drawn first, so the first update lands fast
DEBOUNCE_S = 0.15
#: updates the panel keeps (each holds its results; older ones are only counted)
UPDATES_KEPT = 16


#: Lever groups of the panel, in order: (title, test on the lever's name). The first group is
#: open; levers no other group claims (policies included) belong to it.
TARGETS = ("revenue_target", "mql_commitment", "acceptance_min", "compliance_target")
LEVER_GROUPS: tuple[tuple[str, Any], ...] = (
    ("SLA, capacity and policies", lambda n: True),
    ("Targets both sides sign", lambda n: n in TARGETS),
    ("Channels: volume, win rate, deal value",
     lambda n: n.startswith(("volume:", "win_rate:", "deal_value:"))),
)  # fmt: skip


_WARM: threading.Event | None = None


def warm_charts() -> threading.Event:
    """Start, once per process and in a background thread, what the first chart would
    otherwise do while the kernel waits: import Altair and the chart builders (seconds) and
    start vl-convert's renderer (about a second). Returns an event set when that is done (or
    failed: the first chart then does it, as before). Start it *after* the planner's workers
    are forked (:meth:`Planner.warm_up`): a process forked mid-import could inherit a held
    module lock."""
    global _WARM
    if _WARM is None:
        done = threading.Event()

        def run() -> None:
            try:
                import altair as alt

                import sla_sim.report.charts  # noqa: F401 - the import is the warm-up

                _svg(alt.Chart(alt.Data(values=[{"x": 1}])).mark_point().encode(x="x:Q"))
            except Exception:  # a warm-up must never take the panel down
                pass
            finally:
                done.set()

        threading.Thread(target=run, name="sla-sim-warm-charts", daemon=True).start()
        _WARM = done
    return _WARM


def charts_warm() -> bool:
    """Whether drawing a chart now would not wait for :func:`warm_charts` (true when it was
    never started: plain Python draws synchronously, as before)."""
    return _WARM is None or _WARM.is_set()


def _svg(chart: Any) -> str:
    """The chart drawn to SVG in this process, made to fit its column at any width: it keeps
    its aspect ratio and never grows past its natural size nor past the column."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(chart.to_dict(validate=False))
    return svg.replace("<svg ", '<svg style="max-width:100%;height:auto;display:block" ', 1)


def build_chart(name: str, results: Results) -> Any:
    """The Altair chart of one named panel chart for these results (None for the response-time
    chart when the results carry no event log)."""
    from sla_sim.report import charts as viz

    builders = {
        "revenue": viz.revenue_fan,
        "breach": viz.breach_probabilities,
        "response": lambda r: (None if r.event_log is None
                               else viz.response_time_hist(r.event_log, r.scenario)),
        "funnel": viz.funnel_chart,
        "capacity": viz.capacity_chart,
        "monthly": viz.breach_heatmap,
        "compliance": viz.compliance_distribution,
        "cost": _cost_chart,
    }  # fmt: skip
    if name not in builders:
        raise ValueError(f"chart must be one of {CHARTS}, got {name!r}")
    return builders[name](results)


def _cost_chart(results: Results) -> Any:
    """The cost panel: mean cost per month stacked by team, AEs, commission and channel (None
    when the results carry no cost metrics)."""
    from sla_sim.report.money import cost_chart

    return None if results.costs is None else cost_chart(results)


def render_chart(name: str, results: Results) -> str:
    """SVG markup of one named chart for these results."""
    chart = build_chart(name, results)
    if chart is None:
        return "<p>no cost metrics</p>" if name == "cost" else "<p>no event log</p>"
    return _svg(chart)


def _control(lever: Lever) -> W.Widget:
    style = {"description_width": "150px"}
    layout = W.Layout(width="100%", max_width="390px")
    if lever.choices is not None:
        return W.Dropdown(options=[(choice_label(c), c) for c in lever.choices],
                          value=lever.value,
                          description=lever.label, style=style, layout=layout)
    if lever.integer:
        return W.IntSlider(value=int(lever.value), min=int(lever.low), max=int(lever.high),
                           step=int(lever.step or 1), description=lever.label,
                           continuous_update=False, style=style, layout=layout)
    whole = lever.step is not None and lever.step >= 1 and float(lever.step).is_integer()
    return W.FloatSlider(value=float(lever.value), min=lever.low, max=lever.high,
                         step=lever.step, description=lever.label, continuous_update=False,
                         style=style, layout=layout,
                         readout_format=",.0f" if whole else ".0%" if _share(lever)
                         else ".1f" if (lever.step or 1) >= 0.1 else ".2f")  # fmt: skip


def _share(lever: Lever) -> bool:
    """A lever whose value is a share of 1 (win rate, acceptance minimum, compliance target):
    read out as a percentage, like every other surface shows shares."""
    return lever.low is not None and lever.high == 1.0 and (lever.low or 0) >= 0 and (
        lever.step is not None and lever.step <= 0.01)


#: Width of the side panel of levers and tools (px).
SIDE_PX = 400
#: Lever labels wrap instead of being cut short; controls fill the side panel.
PANEL_CSS = (".sla-side .widget-label{white-space:normal;line-height:1.15;height:auto;"
             "overflow:visible;text-overflow:clip}"
             ".sla-side .widget-inline-hbox,.sla-side .widget-hbox{max-width:100%}")


#: Shown when only SLA terms moved: the same simulated leads were re-judged, so revenue
#: cannot change; a policy is what makes the SLA act.
POLICY_HINT = (
    "<div style='margin:4px 0;padding:4px 8px;background:#eef4fb;border-left:3px solid"
    " #2f6db5;max-width:720px'><b>The SLA measures; a policy acts.</b> Moving an SLA term"
    " re-judges the same simulated leads, so revenue and the funnel cannot change. To make"
    " reps work to the SLA, change a policy: <i>Work order</i> (new MQLs before follow-ups, or"
    " the nearest SLA deadline first), <i>Reassign untouched after</i>, or the number of"
    " SDRs.</div>"
)


def time_left(seconds: float) -> str:
    """``12 s``, ``3 min``, ``1 h 5 min``."""
    s = max(0.0, seconds)
    if s < 90:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s / 60:.0f} min"
    return f"{int(s // 3600)} h {int(s % 3600 // 60)} min"


RECOMMEND_CONFIDENCE = 0.9  # the Recommend button's confidence per clause and month
RECOMMEND_REPS = 40  # its replications per candidate (sla-sim recommend's default)

class PlannerPanel:
    """Sliders and pickers for the SLA and capacity levers, with live charts."""

    def __init__(self, scenario: Scenario | None = None, preset: str = "default",
                 reps: int = 100, seed: int = 20260101, workers: int = 2,
                 first_batch: int = 2, planner: Planner | None = None,
                 cache_dir: str | Path | None = None,
                 allowed_folders: list[str | Path] | None = None) -> None:  # fmt: skip
        """``cache_dir``: a folder where the starting scenario's finished results are kept
        (by scenario hash, seed, replications and version), so that the next page or kernel
        shows them at once (``sla-sim dashboard`` uses the run store's ``planner_cache``).
        ``allowed_folders``: when given, "Load file" and "Save charts" refuse any path outside
        them (:func:`sla_sim.planner.folders.confine`; ``sla-sim dashboard`` gives the folder
        it was started in and the run store)."""
        from sla_sim.scenario.presets import preset as get_preset
        from sla_sim.scenario.presets import preset_names

        self.planner = planner or Planner(reps=reps, seed=seed, workers=workers,
                                          first_batch=first_batch)  # fmt: skip
        if cache_dir is not None:
            self.planner.disk_cache = Path(cache_dir)
        self.base = scenario or get_preset(preset)
        self.levers = levers_for(self.base)
        self.controls: dict[str, W.Widget] = {lv.name: _control(lv) for lv in self.levers}
        self.charts = {n: W.HTML(value="", layout=W.Layout(min_height="60px", width="auto",
                                                           min_width="0", overflow="hidden"))
                       for n in CHARTS}  # fmt: skip
        for n, w in self.charts.items():
            w.add_class(f"sla-chart-{n}")
        self.status = W.HTML(value="")
        self.status.add_class("sla-status")
        self.progress = W.IntProgress(value=0, min=0, max=self.planner.reps,
                                      description="Replications", bar_style="info",
                                      layout=W.Layout(width="360px"))  # fmt: skip
        self.progress.add_class("sla-progress")
        self.eta = W.HTML(value="")
        self.eta.add_class("sla-eta")
        self.hint = W.HTML(value="")
        self.hint.add_class("sla-hint")
        self._done = (0, self.planner.reps)
        self.headline = W.HTML(value="")
        self.headline.add_class("sla-headline")
        self.message = W.HTML(value="")
        self.message.add_class("sla-message")
        self.compare_table = W.HTML(value="")
        self.compare_table.add_class("sla-compare")
        names = [n for n in preset_names() if n != "mid_market" or preset == n]  # = default
        options = [(choice_label(n), n) for n in names]
        if scenario is not None:
            options.insert(0, (f"{display_name(scenario.name)} (as given)", CURRENT))
        self.preset_picker = W.Dropdown(options=options, description="Scenario",
                                        value=preset if scenario is None else CURRENT)
        self.file_box = W.Text(placeholder="path/to/scenario.yaml", description="File")
        self.load_button = W.Button(description="Load file")
        self.baseline_button = W.Button(description="Set as baseline", button_style="primary",
                                        icon="thumb-tack")
        self.save_button = W.Button(description="Save charts", icon="save")
        self.save_dir = W.Text(value=str(default_charts_folder()), description="Folder",
                               layout=W.Layout(width="100%"))  # fmt: skip
        self.save_dir.add_class("sla-save-folder")
        self.save_progress = W.IntProgress(value=0, min=0, max=1, description="Saving",
                                           layout=W.Layout(width="300px", display="none"))
        self.save_progress.add_class("sla-save-progress")
        self.save_note = W.HTML(value="")
        self.save_note.add_class("sla-save-note")
        self.scenario_button = W.Button(description="Save as scenario", icon="download",
                                        tooltip="the current levers as a YAML scenario file")
        self.scenario_link = W.HTML(value="")
        self.scenario_link.add_class("sla-scenario-download")
        self.recommend_button = W.Button(
            description="Recommend", icon="magic", button_style="success",
            tooltip=f"fill the levers with the recommended SLA and headcount (every clause met"
                    f" in at least {prob(RECOMMEND_CONFIDENCE)} of months)")  # fmt: skip
        self.recommend_button.add_class("sla-recommend")
        self.recommend_note = W.HTML(value="")
        self.recommend_note.add_class("sla-recommend-note")
        self._recommend_controls()
        counts = sorted({10, 20, 50, 100, 200, 500, self.planner.reps})
        self.reps_picker = W.Dropdown(options=counts, value=self.planner.reps,
                                      description="Replications",
                                      layout=W.Layout(width="220px"))  # fmt: skip
        self.reps_picker.observe(self._on_reps, names="value")
        self.results: Results | None = None
        self.baseline: Results | None = None
        self.scenario: Scenario = self.base
        #: the latest updates shown (oldest dropped: each holds its results), and how many
        #: were shown since the panel started (the status line's ``data-update``)
        self.updates: deque[Update] = deque(maxlen=UPDATES_KEPT)
        self.shown = 0
        self._task: asyncio.Task[None] | None = None
        self._pending: asyncio.TimerHandle | None = None
        self._deferred_warm_up = False  # workers started once another kernel has finished
        self._changed_at = 0.0
        self._fresh = True
        self._seen = 0
        self._response: tuple[Any, str] = (None, "")  # (key, SVG) of the response-time chart
        for w in self.controls.values():
            w.observe(self._on_change, names="value")
        self.preset_picker.observe(self._on_preset, names="value")
        self.load_button.on_click(self._on_load)
        self.baseline_button.on_click(lambda _b: self.set_baseline())
        self.save_button.on_click(lambda _b: self.save_charts(self.save_dir.value))
        self.scenario_button.on_click(lambda _b: self.scenario_download())
        self.recommend_button.on_click(lambda _b: self.start_recommend())
        self.allowed_folders = allowed_folders
        self.widget = self._layout()

    def _confined(self, path: str | Path, field: str) -> Path:
        """``path`` itself, or resolved and checked against :attr:`allowed_folders`."""
        from sla_sim.planner.folders import confine

        if self.allowed_folders is None:
            return Path(path)
        return confine(path, self.allowed_folders, field)

    # ------------------------------------------------------------------ layout
    def _layout(self) -> W.Widget:
        source = W.HBox([self.preset_picker, self.file_box, self.load_button],
                        layout=W.Layout(flex_flow="row wrap"))
        sliders = self._lever_groups()
        tools = W.VBox([
            W.HBox([self.baseline_button, self.reps_picker, self.scenario_button,
                    self.scenario_link], layout=W.Layout(flex_flow="row wrap")),
            W.HBox([self.recommend_button, self.recommend_progress, self.recommend_cancel,
                    self.recommend_note], layout=W.Layout(flex_flow="row wrap")),
            W.HBox([self.save_dir, self.save_button, self.save_progress],
                   layout=W.Layout(flex_flow="row wrap")),
            self.save_note,
        ])  # fmt: skip
        # as many columns of at least 420 px as fit, one column below that: no chart is ever
        # wider than its column (the SVGs scale down, see _svg)
        grid = W.GridBox(
            [self.charts[n] for n in CHARTS],
            layout=W.Layout(grid_template_columns="repeat(auto-fit, minmax(min(100%, 420px),"
                            " 1fr))", grid_gap="12px", width="100%"),
        )  # fmt: skip
        head = W.HTML("<h2 style='margin:4px 0'>SLA planner</h2>"
                      "<p style='margin:0;color:#555'>Move a lever: a first estimate appears"
                      " within about a second and refines as replications finish.</p>"
                      f"<style>{PANEL_CSS}</style>")
        # levers and tools in a side panel; the headline, the status and the charts (revenue
        # and breach risk first) beside it, so that they are read without scrolling; below
        # SIDE_PX + 420 px of page the two stack
        levers = W.VBox([source, sliders, tools],
                        layout=W.Layout(flex=f"0 0 {SIDE_PX}px", width=f"{SIDE_PX}px",
                                        min_width="0", margin="0 12px 0 0"))  # fmt: skip
        levers.add_class("sla-side")
        main = W.VBox([W.HBox([self.status, self.progress, self.eta], layout=W.Layout(
                       flex_flow="row wrap", align_items="center")), self.message, self.hint,
                       self.headline, self.compare_table, grid],
                      layout=W.Layout(flex="1 1 420px", min_width="0"))  # fmt: skip
        main.add_class("sla-main")
        return W.VBox([head, W.HBox([levers, main], layout=W.Layout(
            flex_flow="row wrap", align_items="flex-start", width="100%"))])

    def _lever_groups(self) -> W.Widget:
        """The levers in collapsible groups (:data:`LEVER_GROUPS`), the first one open."""
        groups: dict[str, list[W.Widget]] = {title: [] for title, _ in LEVER_GROUPS}
        for lv in self.levers:
            title = next((t for t, test in LEVER_GROUPS[1:] if test(lv.name)),
                         LEVER_GROUPS[0][0])  # fmt: skip
            groups[title].append(self.controls[lv.name])
        shown = [(t, ws) for t, ws in groups.items() if ws]
        box = W.Accordion(children=[W.VBox(ws) for _, ws in shown],
                          titles=tuple(t for t, _ in shown), selected_index=0)  # fmt: skip
        box.add_class("sla-levers")
        return box

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
        if self.planner.claimed_elsewhere(self.base):
            # another kernel (the page before this pre-heated one) is simulating the starting
            # scenario for the disk cache: this one waits for its results, and starts its own
            # workers only then instead of taking CPU from that simulation now
            self._deferred_warm_up = True
        else:
            self._warm_up()
        self.refresh()

    def _warm_up(self) -> None:
        self._deferred_warm_up = False
        self.planner.warm_up()  # fork the workers first, then warm the charts in a thread
        warm_charts()

    # ------------------------------------------------------------------ values
    def values(self) -> dict[str, Any]:
        """Current control values by lever name."""
        return {name: w.value for name, w in self.controls.items()}

    def set_values(self, **values: Any) -> None:
        """Set controls by lever name (as a user would); unknown names are a ScenarioError."""
        from sla_sim.errors import Issue

        unknown = [k for k in values if k not in self.controls]
        if unknown:
            raise ScenarioError([Issue(k, "is not a planner lever", values[k]) for k in unknown])
        for k, v in values.items():
            self.controls[k].value = v

    def current_scenario(self) -> Scenario:
        """The scenario the controls describe (ScenarioError when they are inconsistent)."""
        return apply_levers(self.base, self.levers, self.values())

    # ------------------------------------------------------------------ events
    def _on_change(self, _change: Any) -> None:
        self._changed_at = time.perf_counter()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (plain Python): call refresh() explicitly
        if self._pending is not None:
            self._pending.cancel()
        self._pending = loop.call_later(DEBOUNCE_S, self.refresh)

    def _on_reps(self, change: Any) -> None:
        """Fewer replications: a faster full picture with wider ranges; more: the reverse."""
        self.planner.set_reps(int(change["new"]))
        self._on_change(change)

    def _on_preset(self, change: Any) -> None:
        if change["new"] and change["new"] != CURRENT:
            from sla_sim.scenario.presets import preset

            self.load_scenario(preset(change["new"]))

    def _on_load(self, _b: Any) -> None:
        from sla_sim.scenario.io import load

        try:
            self.load_scenario(load(self._confined(self.file_box.value, "File")))
        except SlaSimError as err:
            self._error(str(err))

    def load_scenario(self, scenario: Scenario) -> None:
        """Replace the base scenario and rebuild the levers at its values."""
        self.base = scenario
        self.levers = levers_for(scenario)
        self.controls = {lv.name: _control(lv) for lv in self.levers}
        for w in self.controls.values():
            w.observe(self._on_change, names="value")
        new = self._layout()
        self.widget.children = new.children
        self.refresh()

    def _error(self, text: str) -> None:
        self.message.value = ("<div style='color:#b00020;white-space:pre-wrap;max-width:480px'>"
                              f"{html.escape(text)}</div>")  # fmt: skip

    # ------------------------------------------------------------------ evaluation
    def refresh(self) -> None:
        """Evaluate the current settings: in the background when an event loop runs (Jupyter,
        Voilà), else synchronously."""
        if self._pending is not None:
            self._pending.cancel()  # an explicit refresh replaces the debounced one
        self._pending = None
        try:
            scenario = self.current_scenario()
        except ScenarioError as err:
            self._error(f"{err}\n(showing the last valid result)")
            return
        self.message.value = ""
        self.scenario = scenario
        self._fresh = True
        self._progress(0, self.planner.reps)
        self._changed_at = self._changed_at or time.perf_counter()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            try:
                self.planner.evaluate_sync(scenario, self._show, self._progress,
                                           persist=scenario == self.base)
            except SlaSimError as err:  # as in the background: beside the controls
                self._error(str(err))
            return
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = loop.create_task(self._run(scenario))

    async def _run(self, scenario: Scenario) -> None:
        ticker = asyncio.get_running_loop().create_task(self._tick())
        try:
            await self.planner.evaluate(scenario, self._show, self._progress,
                                        persist=scenario == self.base)
        except asyncio.CancelledError:
            raise
        except SlaSimError as err:
            self._error(str(err))
        finally:
            ticker.cancel()
            if self._deferred_warm_up:  # the other kernel's results are in: start the workers
                self._warm_up()

    async def wait_idle(self) -> None:
        """Wait until the current evaluation has finished."""
        while self._pending is not None or (self._task is not None and not self._task.done()):
            await asyncio.sleep(0.05)

    def _progress(self, done: int, total: int) -> None:
        """Replications finished so far for the current settings (the bar between updates),
        with an estimate of the time left."""
        self.progress.max = total
        self.progress.value = done
        self.progress.bar_style = "success" if done >= total else "info"
        self._done = (done, total)
        self._show_eta()

    def _show_eta(self) -> None:
        """``7 / 100 replications · about 40 s left``, from the pace since the change (refreshed
        by each finished replication and, while waiting, every second: :meth:`_tick`)."""
        done, total = self._done
        if done >= total or not self._changed_at:
            self.eta.value = ""
            return
        elapsed = time.perf_counter() - self._changed_at
        left = (f"about {time_left(elapsed / done * (total - done))} left" if done
                else f"{elapsed:.0f} s so far, estimating the time left")
        self.eta.value = (f"<span style='color:#555'>{done} / {total} replications ·"
                          f" {left}</span>")

    async def _tick(self) -> None:
        """While an evaluation runs, the time left is refreshed at least every second."""
        while True:
            await asyncio.sleep(1.0)
            self._show_eta()

    def _show(self, update: Update) -> None:
        self.updates.append(update)
        self.shown += 1
        self.results = update.results
        n = update.results.replications
        first, self._fresh = self._fresh, False
        self._seen = 1 if first else self._seen + 1
        # The numbers first (instant), then the charts (tenths of a second each).
        since = time.perf_counter() - self._changed_at if self._changed_at else update.elapsed
        state = "final" if update.final else "refining"
        src = (" (cached)" if update.from_cache else
               " (SLA re-judged, no new simulation)" if update.remembered == n else "")
        color = "#3a9b6b" if update.final else "#e08a2c"
        self.status.value = (
            f"<span data-reps='{n}' data-final='{int(update.final)}'"
            f" data-update='{self.shown}' style='font-size:15px'>"
            f"<mark style='background:{color};color:white;border-radius:4px;padding:1px 6px'>"
            f"{state}{src}</mark> <b>{n}</b> / {self.planner.reps} replications after"
            f" {since:.1f} s</span>"
        )
        self.headline.value = headline_html(update.results)
        self.hint.value = POLICY_HINT if update.remembered == n and not update.from_cache else ""
        # Rendering runs in this process while the workers use the cores: draw the headline
        # charts at every step but the second, the other four at the second step (their
        # first), and all six at the end.
        # While the chart renderer is still warming up (a page opened as the kernel starts),
        # refining updates show their numbers only, so the kernel keeps answering the page.
        if update.final:
            names = CHARTS
        elif not charts_warm():
            names = ()
            self._seen -= 1  # the next update draws what this one would have
        elif self._seen == 2:
            names = tuple(c for c in CHARTS if c not in FIRST)
        else:
            names = FIRST
        for name in names:
            try:
                self.charts[name].value = self._render(name, update.results, update.final)
            except Exception as err:  # a chart must never take the panel down
                self.charts[name].value = f"<p>chart unavailable: {html.escape(str(err))}</p>"
        if not update.final and first:
            for name in CHARTS:
                if name not in names and not self.charts[name].value:
                    self.charts[name].value = "<p>computing...</p>"
        if update.final:
            self._changed_at = 0.0
            self._update_compare()

    def _render(self, name: str, results: Results, final: bool) -> str:
        """SVG of one chart. The response-time chart shows replication 0's event log, which
        is the same at every update of an evaluation: it is drawn once per scenario and seed
        (until replication 0 has arrived it says so)."""
        if name != "response":
            return render_chart(name, results)
        if results.event_log is None:
            return render_chart(name, results) if final else "<p>computing...</p>"
        key = (results.meta["scenario_hash"], results.meta["seed"],
               int(results.event_log["replication"].iloc[0]) if len(results.event_log) else -1)
        if self._response[0] != key:
            self._response = (key, render_chart(name, results))
        return self._response[1]

    # ------------------------------------------------------------------ compare and save
    def set_baseline(self) -> None:
        """Keep the current results as the baseline the next settings are compared with."""
        self.baseline = self.results
        self._update_compare()

    def _update_compare(self) -> None:
        if self.baseline is None or self.results is None or self.baseline is self.results:
            self.compare_table.value = ""
            return
        from sla_sim.batch.compare import paired_differences
        from sla_sim.batch.difference import describe_difference
        from sla_sim.report.units import field_label

        t = paired_differences(self.baseline, self.results)
        what = describe_difference(self.baseline.scenario, self.results.scenario,
                                   label=field_label)
        self.compare_table.value = comparison_html(t, self.results, what)

    def save_charts(self, folder: str | Path | None = None,
                    formats: tuple[str, ...] = ("png", "svg", "html")) -> list[Path]:
        """Save every chart of the current results (offline) into ``folder`` (default: the
        folder box, which starts at :func:`default_charts_folder`, in the run store), showing
        progress and saying where the files went; returns the paths."""
        typed = folder if folder is not None else self.save_dir.value
        out = Path(typed).expanduser()
        out = out if out.is_absolute() else Path.cwd() / out
        try:
            self._confined(typed, "Save charts folder")
            for name in CHARTS:  # every file: a symbolic link inside may point elsewhere
                for fmt in formats:
                    self._confined(out / f"{name}.{fmt}", "Save charts folder")
        except ScenarioError as err:
            self._error(str(err))
            return []
        if self.results is None:
            self._error("nothing to save yet")
            return []
        from sla_sim.report import charts as viz

        results = self.results
        charts = [(n, c) for n in CHARTS if (c := build_chart(n, results)) is not None]
        bar = self.save_progress
        bar.max, bar.value, bar.bar_style = len(charts) * len(formats), 0, "info"
        bar.layout.display = None
        self.save_note.value = (f"<span>saving {bar.max} files to"
                                f" <code>{html.escape(str(out))}</code>...</span>")
        paths: list[Path] = []
        try:
            for name, chart in charts:
                for fmt in formats:
                    paths.append(viz.save_chart(chart, out / f"{name}.{fmt}"))
                    bar.value = len(paths)
        except OSError as err:
            bar.bar_style = "danger"
            self._error(f"could not save the charts to {out}: {err.strerror or err}")
            return paths
        bar.bar_style = "success"
        self.save_note.value = (f"<span data-saved='{len(paths)}'>saved {len(paths)} files"
                                f" ({', '.join(formats)}) to"
                                f" <code>{html.escape(str(out))}</code></span>")
        return paths

    def scenario_yaml(self) -> tuple[str, str]:
        """The current levers as a complete scenario: (file name, YAML text) that ``sla-sim
        run FILE`` accepts. A ScenarioError when the levers are inconsistent."""
        from sla_sim.scenario.io import dump_yaml

        sc = self.current_scenario()
        stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in sc.name) or "scenario"
        return f"{stem}-planner.yaml", dump_yaml(sc)

    def scenario_download(self) -> str:
        """Offer the current levers as a YAML file: a download link beside the button (a
        data: URL, so nothing leaves the machine). Returns the YAML text ('' on error)."""
        import base64

        try:
            name, text = self.scenario_yaml()
        except ScenarioError as err:
            self._error(f"{err}\n(nothing to save: fix the levers first)")
            return ""
        data = base64.b64encode(text.encode("utf-8")).decode("ascii")
        self.scenario_link.value = (
            f"<a download='{html.escape(name)}' href='data:application/x-yaml;base64,{data}'"
            f" style='margin-left:8px'>Download {html.escape(name)}</a>"
            f" <span style='color:#616e7c'>then: sla-sim run {html.escape(name)}</span>")
        return text

    def save_scenario(self, path: str | Path) -> Path:
        """Write the current levers as a scenario file (.yaml, .yml or .json)."""
        from sla_sim.scenario.io import save

        return save(self.current_scenario(), path)


    # ------------------------------------------------------------------ recommend
    def recommend(self, confidence: float = RECOMMEND_CONFIDENCE,
                  reps: int = RECOMMEND_REPS) -> Any:
        """Run ``sla-sim recommend`` on the current levers (no sensitivity) and fill the levers
        with its answer; returns the :class:`~sla_sim.recommend.engine.Recommendation`."""
        rec = self._recommend_now(confidence, reps)
        self.apply_recommendation(rec)
        return rec

    def _recommend_now(self, confidence: float, reps: int) -> Any:
        from sla_sim.recommend.engine import recommend

        return recommend(self.current_scenario(), confidence=confidence, reps=reps,
                         seed=self.planner.seed, workers=self.planner.workers, progress=False,
                         tornado=False, cancel=self._recommend_stop,
                         on_stage=self._recommend_stage)  # fmt: skip

    def _recommend_controls(self) -> None:
        """The Recommend button's progress bar (one step per stage) and Cancel button, shown
        while a recommendation runs."""
        self._recommend_stop = threading.Event()
        self.recommend_progress = W.IntProgress(value=0, min=0, max=6, description="",
                                                layout=W.Layout(width="120px",
                                                                display="none"))  # fmt: skip
        self.recommend_cancel = W.Button(description="Cancel", icon="stop",
                                         tooltip="stop the recommendation; levers unchanged",
                                         layout=W.Layout(display="none"))  # fmt: skip
        self.recommend_cancel.add_class("sla-recommend-cancel")
        self.recommend_cancel.on_click(lambda _b: self._recommend_stop.set())

    def _recommend_stage(self, name: str, done: int, total: int) -> None:
        """Progress of a running recommendation (called from its thread as a stage starts)."""
        self.recommend_progress.max = total
        self.recommend_progress.value = done
        self.recommend_note.value = (f"<span style='color:#555'>Recommending: {html.escape(name)}"
                                     f" ({done + 1} of {total} stages)…</span>")

    def _recommend_running(self, running: bool) -> None:
        """Show the progress and Cancel while running; the button disabled meanwhile."""
        self.recommend_button.disabled = running
        shown = "" if running else "none"
        self.recommend_progress.layout.display = shown
        self.recommend_cancel.layout.display = shown
        if running:
            self._recommend_stop.clear()
            self.recommend_progress.value = 0

    def apply_recommendation(self, rec: Any) -> None:
        """Load the recommended scenario (levers at its values) and say what was recommended."""
        self.load_scenario(rec.recommended)
        self.recommend_note.value = recommendation_html(rec)

    def start_recommend(self) -> None:
        """The Recommend button: in the background when an event loop runs (Jupyter, Voilà),
        else synchronously; errors are shown beside the controls, the levers kept."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            try:
                self.recommend()
            except SlaSimError as err:
                self._error(str(err))
            return
        self._recommend_running(True)
        self.recommend_note.value = ("<span style='color:#555'>Recommending: searching volumes,"
                                     " work policy and headcount by simulation (minutes)…</span>")
        try:
            self.current_scenario()  # inconsistent levers: say so now, not from the thread
        except ScenarioError as err:
            self._recommend_running(False)
            self.recommend_note.value = ""
            self._error(str(err))
            return
        fut = loop.run_in_executor(None, self._recommend_now, RECOMMEND_CONFIDENCE,
                                   RECOMMEND_REPS)  # fmt: skip

        def done(f: asyncio.Future[Any]) -> None:
            from sla_sim.recommend.search import CancelledError

            self._recommend_running(False)
            err = f.exception()
            if err is None:
                self.apply_recommendation(f.result())
            elif isinstance(err, CancelledError):
                self.recommend_note.value = ("<span style='color:#555'>Recommendation cancelled;"
                                             " the levers are unchanged.</span>")
            else:
                self.recommend_note.value = ""
                self._error(str(err) if isinstance(err, SlaSimError)
                            else f"recommend failed: {type(err).__name__}: {err}")

        fut.add_done_callback(done)


def recommendation_html(rec: Any) -> str:
    """What Recommend changed on both sides (marketing: volumes and commitments; sales:
    headcount and work policy), what the plan costs, P(revenue >= target), and whether every
    clause is certified."""
    conf = rec.request.confidence
    cur = rec.recommended.currency
    e = html.escape
    changes = [f"<li><b>{side}</b>: {e(', '.join(items)) or 'unchanged'}</li>"
               for side, items in recommendation_changes(rec.scenario, rec.recommended).items()]
    from sla_sim.recommend.marginal import target_cost_sentence

    cost = target_cost_sentence(rec.policies, cur)
    saving = (rec.policies or {}).get("saving_per_month")
    worst = min(rec.revenue[:-1], key=lambda r: r["p_ge_target"])
    certified = all(c.certified for c in rec.commitments) and not rec.shortfalls
    verdict = (f"every clause met and certified in at least {prob(conf)} of months" if certified
               else "not every clause is certified: " + e("; ".join(
                   s["statement"] for s in rec.shortfalls) or "see the SLA document"))
    money = "" if not cost else " " + e(cost) + (
        f" Saving against the headcount-only plan: {saving:,.0f} {e(cur)} per month."
        if saving else "")
    return ("<div class='sla-recommended'>Recommended: " + verdict + f"; binding clause"
            f" <b>{e(str(rec.binding))}</b>. P(revenue &ge; target) in the worst month"
            f" {prob(worst['p_ge_target'])}.{money}<ul style='margin:2px 0'>" + "".join(changes)
            + "</ul>" + _plan_money_html(rec) + "The levers now show it; export the SLA with"
            " <code>sla-sim recommend</code>.</div>")


def _plan_money_html(rec: Any) -> str:
    """The plan's money and the marginal value of one rep more and fewer, in the words and
    numbers of the terminal and sla.md (:mod:`sla_sim.recommend.marginal`); empty without."""
    if not getattr(rec, "money", None):
        return ""
    from sla_sim.recommend.marginal import marginal_table, money_sentence, paying_notes

    e = html.escape
    head, *rows = marginal_table(rec.marginal or [])
    table = ("<table class='sla-marginal'><tr>" + "".join(f"<th>{e(h)}</th>" for h in head)
             + "</tr>" + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>"
                                 for r in rows) + "</table>") if rows else ""  # fmt: skip
    notes = "".join(f"<p>{e(n)}</p>" for n in paying_notes(rec.marginal or []))
    return (f"<p>Money of the plan {e(money_sentence(rec.money))}.</p>"
            + ("<p>Marginal value of a rep (paired, same seeds; money per month):</p>" + table
               if table else "") + notes)


def recommendation_changes(before: Scenario, after: Scenario) -> dict[str, list[str]]:
    """Plain-language changes per side between the input and the recommended scenario."""
    def num(x: float) -> str:
        return f"{x:,.0f}" if abs(x) >= 10 else f"{x:g}"

    mk: list[str] = []
    a, b = before.sla, after.sla
    for label, x, y, shown in (
            ("MQL commitment", a.mql_commitment_per_month, b.mql_commitment_per_month, num),
            # a share as sla.md and the terminal state the term (31.7 %), not 0.3172
            ("acceptance minimum", a.acceptance_rate_min, b.acceptance_rate_min, prob),
            ("handoff within (h)", a.handoff_within_hours, b.handoff_within_hours, num)):
        if x != y:
            mk.append(f"{label} {shown(x)} -> {shown(y)}")
    for c0, c1 in zip(before.channels, after.channels, strict=True):
        if c0.leads_per_month != c1.leads_per_month:
            mk.append(f"{c0.name} leads/month {num(c0.leads_per_month)} ->"
                      f" {num(c1.leads_per_month)}")
    sales: list[str] = []
    for t0, t1 in zip(before.teams, after.teams, strict=True):
        if t0.reps != t1.reps:
            sales.append(f"{t0.name} SDRs {t0.reps} -> {t1.reps}")
        if (t0.work_order, t0.assignment) != (t1.work_order, t1.assignment):
            sales.append(f"{t0.name} policy {t0.work_order}/{t0.assignment} ->"
                         f" {t1.work_order}/{t1.assignment}")
        if t0.rep_calendars != t1.rep_calendars:
            rota = sum(c.working_days != t1.calendar.working_days for c in t1.rep_calendars)
            sales.append(f"{t0.name} weekend and holiday rota: {rota} of {t1.reps} reps"
                         if rota else f"{t0.name} rep calendars changed")
        if t0.max_active_leads != t1.max_active_leads:
            sales.append(f"{t0.name} active-lead cap {t0.max_active_leads} ->"
                         f" {t1.max_active_leads}")
    if before.follow_up.cadence_days != after.follow_up.cadence_days:
        sales.append("follow-up cadence (days) "
                     + ", ".join(f"{d:g}" for d in before.follow_up.cadence_days) + " -> "
                     + ", ".join(f"{d:g}" for d in after.follow_up.cadence_days))
    if before.ae.count != after.ae.count:
        sales.append(f"AEs {before.ae.count} -> {after.ae.count}")
    return {"marketing": mk, "sales": sales}


def default_charts_folder() -> Path:
    """Where "Save charts" writes unless told otherwise: ``planner_charts`` in the run store
    (``$SLA_SIM_STORE`` or ``./sla_sim_runs``), never the server's working folder."""
    from sla_sim.batch.store import RunStore

    return RunStore().root / "planner_charts"


def comparison_html(table: Any, results: Results, what: str = "") -> str:
    """The paired differences of current vs baseline as a readable, collapsible table:
    metric labels, means in their units, material differences (paired 95% interval excluding
    0 and at least the size that matters, :func:`sla_sim.report.units.material`)
    highlighted."""
    from sla_sim.report.units import comparison_table, period_span

    cur = results.scenario.currency
    df = comparison_table(table, cur)
    n_sig = int(df["material"].sum())
    rows = []
    for r in df.to_dict("records"):
        sig = bool(r["material"])
        style = " style='background:#fff4e0;font-weight:600'" if sig else ""
        cells = "".join(f"<td style='text-align:right;padding:2px 10px'>{html.escape(v)}</td>"
                        for v in (r["A"], r["B"], r["B − A"], r["95% CI, paired"]))
        rows.append(f"<tr data-significant='{int(sig)}'{style}><td style='padding:2px 10px'>"
                    f"{html.escape(r['Metric'])}</td>{cells}</tr>")
    head = "".join(f"<th style='text-align:{a};padding:2px 10px'>{t}</th>" for t, a in (
        ("Metric", "left"), ("Baseline (mean)", "right"), ("Current (mean)", "right"),
        ("Difference (mean)", "right"), ("95% interval (paired)", "right")))  # fmt: skip
    note = f"<p class='sla-difference' style='margin:4px 0'>{html.escape(what)}</p>" if what else ""
    note += _profit_note(table, cur)
    return (
        "<details class='sla-compare-details' open><summary style='cursor:pointer'>"
        f"<b>Current vs baseline</b> — whole measured period ({period_span(results)});"
        f" means over the same seeds, paired 95% intervals; {n_sig} material"
        f" difference{'s' if n_sig != 1 else ''} highlighted (interval excludes 0 and the"
        " change is at least 1 percentage point, or 1 % of the baseline)</summary>"
        f"{note}<table style='border-collapse:collapse;font-size:13px'><tr>{head}</tr>"
        f"{''.join(rows)}</table></details>"
    )


def _profit_note(table: Any, currency: str) -> str:
    """The profit of the change in one line (revenue, cost, profit with its paired 95%
    interval), or nothing when the table holds no profit."""
    from sla_sim.report.money import profit_line

    line = profit_line(table, currency, "Current - baseline")
    return (f"<p class='sla-profit' style='margin:4px 0;font-weight:600'>{html.escape(line)}</p>"
            if line else "")


def headline_html(results: Results) -> str:
    """One line of the numbers a planner reads first: revenue vs target, the odds of making
    it, and the commitment most likely to be breached in some month (the risk model every
    surface states: :func:`sla_sim.batch.breach.clause_risk`); the median cost, profit and CAC
    beside revenue."""
    from sla_sim.batch.breach import clause_risk, riskiest
    from sla_sim.report.labels import commitment_labels
    from sla_sim.report.money import money_headline_html
    from sla_sim.report.units import money, prob, risk_sentence

    cur = results.scenario.currency
    rev = results.column("revenue")
    target = float(results.column("revenue_target")[0])
    p_meet = 1 - float(results.column("revenue_target_breach").mean())
    labels = commitment_labels(results.scenario)
    worst = riskiest(clause_risk(results))
    risk = ("most at risk: <b>" + html.escape(risk_sentence(worst, labels[worst["clause"]]))
            .replace(":", "</b>:", 1) if worst is not None
            else "no SLA commitment breached in any month of any replication")
    return (
        "<div style='font-size:15px;margin:6px 0;padding:6px 10px;background:#f5f7fa;"
        "border-left:4px solid #2f6db5'>"
        f"Revenue, whole period: median <b>{html.escape(money(float(np.median(rev)), cur))}"
        f"</b> vs target {html.escape(money(target, cur))}{money_headline_html(results)}"
        " &nbsp;·&nbsp; P(revenue ≥"
        f" target) <b>{prob(p_meet)}</b> &nbsp;·&nbsp; {risk}</div>"
    )


def planner_panel(**kwargs: Any) -> PlannerPanel:
    """Create a PlannerPanel (display it as the last expression of a cell)."""
    return PlannerPanel(**kwargs)
