"""Planner latency: how long a planner waits after moving a lever.

    python benchmarks/planner_latency.py [--preset default] [--reps 100] [--workers 2]
                                         [--json out.json] [--page-load]

Drives the real panel (``sla_sim.planner.panel.PlannerPanel``, the object behind notebook 01 and
``sla-sim dashboard``) without a browser: its widgets are plain Python objects, so setting a
control and calling ``refresh()`` runs exactly what a slider change runs in the kernel — the
debounce (``DEBOUNCE_S``, waited here), the scenario rebuild, the progressive evaluation on the
panel's ``Planner(reps, workers)``, and at every update the status line, the headline and the
charts rendered to SVG by vl-convert in this process, while the workers keep simulating.

The panel is shown once first (untimed: worker processes forked, imports done, vl-convert
started, every chart drawn, as when the page opens). Then, for each of three lever changes to
settings it has not seen (no cache hit), times from the change to

* the first update: the status line showing the first ``first_batch`` replications,
* the first chart drawn (the revenue fan's widget changes),
* both headline charts drawn (revenue and breach probabilities),
* the full picture: the final update's status *and* all six charts drawn.

Two changes move capacity or the handoff, so every replication is simulated again; the
first-touch SLA change moves the SLA only, so the workers re-judge the replications they
remember instead of simulating (marked "SLA only: re-judged" in the table).

The goals: first updated chart <= 1 s, full picture of 100 replications <= 4 s on a
2-core machine. Nothing is asserted: timings depend on the machine and its load. Prints a
Markdown table; ``--json`` keeps the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a source checkout without installing
    sys.path.insert(0, str(ROOT))

from sla_sim.planner.engine import Planner  # noqa: E402
from sla_sim.planner.panel import CHARTS, DEBOUNCE_S, FIRST, PlannerPanel  # noqa: E402
from sla_sim.scenario.presets import preset  # noqa: E402

CHANGES: tuple[tuple[str, Any], ...] = (
    ("sdr_count", 12),
    ("first_touch", 2.0),
    ("handoff", "every hour"),
)
GOAL_FIRST_S, GOAL_FINAL_S = 1.0, 4.0  # the README's goals (15 s until 2026-12-06)


def measure(panel: PlannerPanel, lever: str, value: Any) -> dict[str, Any]:
    """Seconds from one lever change to the first update, first charts and full picture."""
    marks: dict[str, Any] = {"lever": lever, "value": value, "updates": []}
    drawn: dict[str, float] = {}
    t0 = 0.0

    def on_chart(name: str) -> Any:
        def seen(_change: Any) -> None:
            drawn.setdefault(name, time.perf_counter() - t0)
        return seen

    def on_status(_change: Any) -> None:
        u = panel.updates[-1]
        now = time.perf_counter() - t0
        marks["updates"].append({"replications": u.results.replications, "final": u.final,
                                 "seconds": round(now, 4), "from_cache": u.from_cache})  # fmt: skip
        marks.setdefault("first_update_s", now)
        marks.setdefault("first_replications", u.results.replications)

    watchers = [(panel.charts[n], on_chart(n)) for n in CHARTS] + [(panel.status, on_status)]
    for widget, cb in watchers:
        widget.observe(cb, names="value")
    try:
        t0 = time.perf_counter()
        panel.set_values(**{lever: value})  # what the slider does; then the debounce, then:
        time.sleep(DEBOUNCE_S)
        panel.refresh()  # returns once the final update has been shown (no event loop here)
        done = time.perf_counter() - t0
    finally:
        for widget, cb in watchers:
            widget.unobserve(cb, names="value")
    final = panel.updates[-1]
    if not final.final or final.from_cache:
        raise RuntimeError(f"{lever} -> {value}: expected a fresh, complete evaluation")
    marks["first_chart_s"] = drawn[FIRST[0]]
    marks["first_charts_s"] = max(drawn[n] for n in FIRST)
    marks["final_s"] = done
    marks["final_replications"] = final.results.replications
    marks["final_compute_s"] = final.elapsed
    marks["remembered"] = final.remembered  # replications re-judged without simulating
    return marks


PAGE_FIRST_GOAL_S, PAGE_FULL_GOAL_S = 3.0, 20.0
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


def page_load(preset_name: str, reps: int, workers: int, store: Path, delay_s: float = 0.0,
              chromium: str = "/usr/bin/chromium") -> dict[str, float]:  # fmt: skip
    """One cold ``sla-sim dashboard`` start, then the page opened in headless Chromium as soon
    as the command prints the page's address (what a planner waits for; the command prints it
    once its pre-heated kernel shows the panel): seconds from the command's start to that
    line, and from
    page load (``goto``) to the first estimate (the status line shows replications) and to the
    full picture (final status and every chart drawn). ``store`` is the run store (and its
    ``planner_cache``): empty for a first start, kept for a restart. ``delay_s``: how long
    after the address is printed the page is opened (a planner rarely opens it at once)."""
    import signal
    import socket
    import subprocess

    from playwright.sync_api import sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, SLA_SIM_STORE=str(store))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "sla_sim", "dashboard", "--preset", preset_name, "--reps",
           str(reps), "--workers", str(workers), "--port", str(port)]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=True, text=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the command prints the address when the page can be opened
            if url in line:
                url = line.split()[2]  # with this start's token
                break
        else:
            raise RuntimeError(f"the dashboard exited ({proc.wait()}) without printing {url}")
        server_s = time.perf_counter() - t0
        time.sleep(delay_s)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 2400})
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                    "http://127.0.0.1") else r.abort())  # fmt: skip
                t1 = time.perf_counter()
                page.goto(url, timeout=180_000)
                page.wait_for_selector(".sla-status span[data-reps]", timeout=300_000)
                first_s = time.perf_counter() - t1
                first_reps = int(page.locator(".sla-status span").get_attribute("data-reps"))
                page.wait_for_selector(".sla-status [data-final='1']", timeout=300_000)
                page.wait_for_function(
                    f"() => document.querySelectorAll('[class*=\"sla-chart-\"] svg').length"
                    f" >= {len(CHARTS)}", timeout=300_000)  # fmt: skip
                full_s = time.perf_counter() - t1
            finally:
                browser.close()
        deadline = time.perf_counter() + 120  # let the kernel finish keeping the results
        while not any((store / "planner_cache").glob(f"*-{reps}-v*/summary.json")):
            if time.perf_counter() > deadline:
                break
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)
    return {"server_s": round(server_s, 2), "first_estimate_s": round(first_s, 2),
            "first_estimate_reps": first_reps, "full_picture_s": round(full_s, 2)}


def bare_simulation_s(preset_name: str, reps: int, workers: int) -> float:
    """The reference: seconds for a bare ``Planner(reps, workers)`` in this process to simulate
    the preset's replications (workers started and imports done first, untimed; no page, no
    kernel, no charts). A page-load time divided by this says what the dashboard adds to the
    simulation itself, whatever the machine's speed."""
    planner = Planner(reps=reps, workers=workers)
    try:
        planner.warm_up()
        t0 = time.perf_counter()
        planner.evaluate_sync(preset(preset_name), lambda _u: None)
        return time.perf_counter() - t0
    finally:
        planner.close()


def page_load_report(preset_name: str, reps: int, workers: int) -> tuple[list[str], list[Any]]:
    """A cold start on an empty store, then a restart that finds the kept results; each row
    also as a ratio to the bare simulation of the same replications (:func:`bare_simulation_s`,
    measured first, in this process)."""
    import tempfile

    bare = bare_simulation_s(preset_name, reps, workers)
    rows = []
    with tempfile.TemporaryDirectory(prefix="sla-sim-bench-store-") as store:
        for label, delay in (("first start (empty store), page opened at once", 0.0),
                             ("restart (results kept in the store's planner_cache), page"
                              " opened at once", 0.0)):  # fmt: skip
            rows.append({"start": label, **page_load(preset_name, reps, workers, Path(store),
                                                     delay)})  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="sla-sim-bench-store-") as store:
        label = "first start (empty store), page opened 30 s after the address is printed"
        rows.append({"start": label, **page_load(preset_name, reps, workers, Path(store), 30.0)})
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [f"Page load of `sla-sim dashboard --preset {preset_name} --reps {reps} --workers"
             f" {workers}` in headless Chromium; {os.cpu_count()} CPUs, load average"
             f" {load:.1f} at the end. Reference, the bare simulation of the same {reps}"
             f" replications on {workers} workers in this process: {bare:.1f} s", "",
             "| start | address printed | page load → first estimate (reps) | page load → full"
             " picture | full picture ÷ reference |", "|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        r["reference_s"] = round(bare, 2)
        lines.append(f"| {r['start']} | {r['server_s']:.1f} s | {r['first_estimate_s']:.1f} s"
                     f" ({r['first_estimate_reps']}) | {r['full_picture_s']:.1f} s |"
                     f" {r['full_picture_s'] / bare:.2f} |")  # fmt: skip
    lines += ["", f"Goals: first estimate <= {PAGE_FIRST_GOAL_S:g} s and full picture <="
              f" {PAGE_FULL_GOAL_S:g} s after page load."]  # fmt: skip
    return lines, rows


def main(argv: list[str] | None = None) -> int:
    """Run the measurements, print the table, optionally write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="default")
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", metavar="PATH", help="also write the raw numbers as JSON")
    ap.add_argument("--engine", choices=("fast", "simpy"), default="fast",
                    help="event-loop engine of the scenario (simpy: the reference, for the"
                    " figure before the fast engine)")
    ap.add_argument("--page-load", action="store_true",
                    help="measure a cold `sla-sim dashboard` start in headless Chromium instead"
                    " (needs Chromium, Playwright and Voila)")
    args = ap.parse_args(argv)
    if args.page_load:
        lines, rows = page_load_report(args.preset, args.reps, args.workers)
        print("\n".join(lines))
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=2), encoding="utf-8")
        return 0

    planner = Planner(reps=args.reps, workers=args.workers)
    panel = PlannerPanel(preset(args.preset).model_copy(update={"engine": args.engine}),
                         planner=planner)  # fmt: skip
    t = time.perf_counter()
    panel.refresh()  # untimed: the page opening (workers, imports, vl-convert, every chart)
    warm = time.perf_counter() - t
    rows = []
    try:
        for lever, value in CHANGES:
            rows.append(measure(panel, lever, value))
    finally:
        planner.close()

    lines = [
        f"Planner latency: preset {args.preset!r}, engine {args.engine}, Planner(reps={args.reps},"
        f" workers={args.workers}) in a PlannerPanel, {os.cpu_count()} CPUs, Python"
        f" {platform.python_version()}; page opening (untimed) {warm:.2f} s; times include the"
        f" {DEBOUNCE_S:g} s debounce",
        "",
        "| lever change | first update (reps) | first chart drawn | both headline charts drawn"
        " | last replication in | full picture drawn |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        how = " (SLA only: re-judged)" if r["remembered"] == r["final_replications"] else ""
        lines.append(f"| {r['lever']} → {r['value']}{how} | {r['first_update_s']:.2f} s"
                     f" ({r['first_replications']}) | {r['first_chart_s']:.2f} s |"
                     f" {r['first_charts_s']:.2f} s | {r['final_compute_s']:.2f} s |"
                     f" {r['final_s']:.2f} s ({r['final_replications']}) |")  # fmt: skip
    worst_first = max(r["first_chart_s"] for r in rows)
    worst_final = max(r["final_s"] for r in rows)
    lines += ["", f"Goals: first updated chart <= {GOAL_FIRST_S:g} s (worst {worst_first:.2f} s:"
              f" {'met' if worst_first <= GOAL_FIRST_S else 'NOT met'}); full picture of"
              f" {args.reps} replications <= {GOAL_FINAL_S:g} s (worst {worst_final:.2f} s:"
              f" {'met' if worst_final <= GOAL_FINAL_S else 'NOT met'})."]  # fmt: skip
    print("\n".join(lines))
    if args.json:
        out = {"preset": args.preset, "reps": args.reps, "workers": args.workers,
               "cpus": os.cpu_count(), "python": platform.python_version(),
               "warm_up_s": warm, "changes": rows}  # fmt: skip
        Path(args.json).write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")
        print(f"\nraw numbers -> {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
