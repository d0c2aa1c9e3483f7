"""Planner latency: how long a planner waits after moving a lever.

    python benchmarks/planner_latency.py [--preset default] [--reps 100] [--workers 2]
                                         [--json out.json]

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

The issue's goals: first updated chart <= 1 s, full picture of 100 replications <= 15 s on a
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
GOAL_FIRST_S, GOAL_FINAL_S = 1.0, 15.0


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


def main(argv: list[str] | None = None) -> int:
    """Run the measurements, print the table, optionally write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="default")
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", metavar="PATH", help="also write the raw numbers as JSON")
    args = ap.parse_args(argv)

    planner = Planner(reps=args.reps, workers=args.workers)
    panel = PlannerPanel(preset(args.preset), planner=planner)
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
        f"Planner latency: preset {args.preset!r}, Planner(reps={args.reps},"
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
