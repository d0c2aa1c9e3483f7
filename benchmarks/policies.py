"""Cost of each policy against the default replication (goal: at most +25 % each).

    python benchmarks/policies.py [--rounds 5] [--json out.json]

Each round runs one replication of every variant below in turn (same seed and replication, so
the same leads arrive), interleaved so that a change of machine load touches all variants
alike; the CPU time of the process (``time.process_time``) is taken per run and the median over
rounds is compared with the default's median. Ratios, not seconds, are the result.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a source checkout without installing
    sys.path.insert(0, str(ROOT))

from sla_sim import preset, run_replication  # noqa: E402
from sla_sim.scenario.io import apply_assignments  # noqa: E402

SEED = 20260101
LIMIT = 1.25
VARIANTS: dict[str, list[str]] = {
    "default": [],
    "assignment: pull": ["teams[sdr].assignment=pull"],
    "work_order: new_first": ["teams[sdr].work_order=new_first"],
    "work_order: deadline_first": ["teams[sdr].work_order=deadline_first"],
    "priority by channel": ["routing.priority_by=channel",
                            "routing.priority_order=[partner, inbound, events, paid, outbound]"],
    "reassign after 4 business hours": ["teams[sdr].reassign_after_business_hours=4"],
    "hires + ramp": ["teams[sdr].hires=[{start: 2026-02-01, reps: 3}]",
                     "teams[sdr].ramp_by_tenure_month=[0.25, 0.5, 0.75, 1.0]"],
    "attrition 3 %/month": ["teams[sdr].attrition_per_month=0.03"],
    "PTO 20 days/year": ["teams[sdr].pto_days_per_year=20"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--rounds", type=int, default=5, help="runs of each variant (median kept)")
    ap.add_argument("--json", type=Path, default=None, help="write the raw numbers here")
    args = ap.parse_args()
    base = preset("default")
    scenarios = {name: apply_assignments(base, sets) for name, sets in VARIANTS.items()}
    cpu: dict[str, list[float]] = {name: [] for name in scenarios}
    load0 = os.getloadavg()[0]
    for _ in range(args.rounds):
        for name, sc in scenarios.items():
            gc.collect()
            t0 = time.process_time()
            run_replication(sc, SEED, 0)
            cpu[name].append(time.process_time() - t0)
    ref = statistics.median(cpu["default"])
    rows = []
    for name, times in cpu.items():
        ratio = statistics.median(times) / ref
        rows.append({"variant": name, "cpu_s_median": statistics.median(times),
                     "ratio": ratio, "within_limit": ratio <= LIMIT})
        print(f"{name:<34} {statistics.median(times):6.3f} s CPU   x{ratio:4.2f}"
              f"{'' if ratio <= LIMIT else '   over the +25 % limit'}")
    print(f"(median of {args.rounds} rounds; load average {load0:.1f} -> "
          f"{os.getloadavg()[0]:.1f})")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "raw": cpu}, indent=2))


if __name__ == "__main__":
    main()
