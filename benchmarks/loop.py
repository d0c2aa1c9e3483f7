"""The fast engine's compiled event loop alone (``sla_sim.model.kernel.run_loop``), CPU time.

    python benchmarks/loop.py [--repeats 30] [--scale 1,16] [--work-order deadline_first]

Captures the arguments ``run_fast`` hands ``run_loop`` in one replication (every call: the loop
resumes when its recycle draws run out), then times ``run_loop`` on fresh copies of them
(copied outside the timing), ``--repeats`` times; prints the least and the median CPU time of
one replication's calls. ``--scale`` gives the multipliers of ``benchmarks/engine.py``'s scaled
scenario (leads, SDRs and AEs x k, a 30-day warm-up and one month) to time besides the default
preset; ``--work-order`` sets the first team's work order (the policy path).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:  # run from a source checkout without installing
        sys.path.insert(0, str(p))

from engine import SEED, scaled  # noqa: E402

from sla_sim.batch.worker import warm_up  # noqa: E402
from sla_sim.model import kernel  # noqa: E402
from sla_sim.model.funnel import FunnelModel  # noqa: E402
from sla_sim.scenario.io import set_path  # noqa: E402
from sla_sim.scenario.presets import preset  # noqa: E402
from sla_sim.scenario.schema import Scenario  # noqa: E402
from sla_sim.streams import Streams, replication_seed  # noqa: E402


def loop_calls(sc: Scenario) -> list[tuple[Any, ...]]:
    """Copies of the arguments of every ``run_loop`` call of replication 0 of ``sc``."""
    calls: list[tuple[Any, ...]] = []
    run_loop = kernel.run_loop

    def capture(*args: Any) -> Any:
        calls.append(copy.deepcopy(args))
        return run_loop(*args)

    kernel.run_loop = capture
    try:
        FunnelModel(sc, Streams(replication_seed(SEED, 0))).run()
    finally:
        kernel.run_loop = run_loop
    return calls


def time_loop(calls: list[tuple[Any, ...]], repeats: int) -> list[float]:
    """CPU seconds of all of ``calls``, ``repeats`` times, sorted."""
    out = []
    for _ in range(repeats):
        total = 0.0
        for args in calls:
            fresh = copy.deepcopy(args)
            t0 = time.process_time()
            kernel.run_loop(*fresh)
            total += time.process_time() - t0
        out.append(total)
    return sorted(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=30, help="timings per scenario")
    ap.add_argument("--scale", default="", help="multipliers k of the scaled scenario, e.g. 1,16")
    ap.add_argument("--work-order", default="due_first", help="the first team's work order")
    args = ap.parse_args(argv)
    warm_up()
    scs = {"default": preset("default")}
    for k in [int(x) for x in args.scale.split(",") if x]:
        scs[f"scaled x{k}"] = scaled(k, "fast")
    print("| scenario | run_loop calls | least ms | median ms |\n|---|---|---|---|")
    for name, sc in scs.items():
        sc = set_path(sc, "teams[0].work_order", args.work_order)
        calls = loop_calls(sc)
        ts = time_loop(calls, args.repeats)
        print(f"| {name} ({args.work_order}) | {len(calls)} | {ts[0] * 1e3:.2f} |"
              f" {ts[len(ts) // 2] * 1e3:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
