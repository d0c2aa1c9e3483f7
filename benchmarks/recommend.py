"""Benchmark of ``sla-sim recommend --preset default --confidence 0.9`` (goal: at most
3 minutes on the 2-core reference machine, all stages included).

    python benchmarks/recommend.py [--workers 2] [--reps 40] [--json out.json] [--cli]

Runs the recommendation exactly as the command does (same defaults: 40 replications at most
per candidate, 8 per sensitivity move, seed 20260101, all cores) and reports:

* wall time in total and per stage (analytic, volumes, sdr, ae, commitments, sensitivity) and
  the exports (JSON, CSV, Markdown/HTML, YAML and six chart files);
* replications simulated per stage, against replications judged: the number a search that
  re-simulated every candidate x SLA variant would have simulated;
* the CPU seconds of this process and its children, and the load average before and after, so
  a run on a busy machine is recognisable.

``--cli`` instead times the command itself in a subprocess (exports to a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a source checkout without installing
    sys.path.insert(0, str(ROOT))

LIMIT_S = 180.0


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def bench_api(workers: int, reps: int, engine: str = "fast") -> dict:
    from sla_sim.recommend import exports
    from sla_sim.recommend.engine import recommend
    from sla_sim.scenario.presets import preset

    load0, cpu0 = os.getloadavg()[0], _cpu()
    t0 = time.perf_counter()
    sc = preset("default").model_copy(update={"engine": engine})
    rec = recommend(sc, confidence=0.9, reps=reps, workers=workers, progress=False)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        exports.write(rec, d)
    t2 = time.perf_counter()
    f = rec.facts
    return {
        "command": "sla-sim recommend --preset default --confidence 0.9",
        "workers": workers, "reps": reps, "engine": engine,
        "wall_seconds": round(t2 - t0, 2), "recommend_seconds": round(t1 - t0, 2),
        "exports_seconds": round(t2 - t1, 2), "cpu_seconds": round(_cpu() - cpu0, 1),
        "seconds_per_stage": f["seconds_per_stage"],
        "replications_per_stage": f["replications_per_stage"],
        "replications_simulated": f["replications_simulated"],
        "replications_if_every_candidate_resimulated": f["replications_judged"],
        "load_average_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "within_limit": (t2 - t0) <= LIMIT_S,
        "answer": {"sdrs": [h["simulated"] for h in rec.headcount if h["role"] == "SDR"],
                   "sdrs_analytic": [h["analytic"] for h in rec.headcount if h["role"] == "SDR"],
                   "aes_analytic": [h["analytic"] for h in rec.headcount if h["role"] == "AE"],
                   "aes": [h["simulated"] for h in rec.headcount if h["role"] == "AE"],
                   "binding": rec.binding, "policy": rec.policies.get("chosen"),
                   "policies_screened": len(rec.policies.get("screen", []))},
        "python": platform.python_version(), "cores": os.cpu_count(),
    }  # fmt: skip


def bench_cli(workers: int, reps: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        cmd = [sys.executable, "-m", "sla_sim", "recommend", "--preset", "default",
               "--confidence", "0.9", "--quiet", "--workers", str(workers), "--reps", str(reps),
               "--store", str(Path(d) / "store"), "--out", str(Path(d) / "out")]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        wall = time.perf_counter() - t0
    return {"command": " ".join(cmd[2:]), "wall_seconds": round(wall, 2),
            "within_limit": wall <= LIMIT_S}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--cli", action="store_true", help="time the command in a subprocess")
    ap.add_argument("--engine", choices=("fast", "simpy"), default="fast",
                    help="event-loop engine (simpy: the reference, the figure before the fast"
                    " engine; API mode only)")
    ap.add_argument("--json", help="write the numbers to this file")
    a = ap.parse_args()
    out = bench_cli(a.workers, a.reps) if a.cli else bench_api(a.workers, a.reps, a.engine)
    print(json.dumps(out, indent=2))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
