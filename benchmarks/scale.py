"""Scaling benchmarks of sla_sim's Monte Carlo machinery, in one process tree on this machine.

    python benchmarks/scale.py [--full] [--reps 40] [--repeats 2] [--json out.json]

(1) Parallel efficiency from 1 to 2 local worker processes, T1 / (2 T2), on the same ``--reps``
    replications (``run_replications``; results are identical, checked).
(2) Memory flatness of a stored run (``sla_sim.batch.runs.stored_run``, streamed to a run folder):
the
    peak RSS of one child process per measurement, read with ``getrusage(RUSAGE_CHILDREN)`` in a
    thin wrapper process around it (so no other process is counted), for 100 vs 2,000
    replications (5,000 with ``--full``; the goal is a ratio <= 1.5 at 5,000 vs 100). The child
    also reports its own ``RUSAGE_SELF`` peak.
(3) A Dask LocalCluster (2 single-threaded worker processes) vs the process pool (2 workers) on
    the same replications, including and excluding the cluster start-up (the cluster is warmed
    up by importing the model on each worker before the "excluding" timing).
(4) Seconds per replication, the per-task overhead of Dask (wall time per trivial task, and the
    round trip of a single one), and an estimate of the wall time of 1,000,000 replications on
    100 workers.

Quick mode (default) uses shortened scenarios so the whole script takes a few minutes on 2
cores; the table says which scenario each row used. ``--full`` uses the real default preset
throughout. Prints a Markdown table and, with ``--json``, writes the raw numbers.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a source checkout without installing
    sys.path.insert(0, str(ROOT))
# children (memory runs, Dask workers) must find the package too
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)

import numpy as np  # noqa: E402

from sla_sim.scenario.io import set_path  # noqa: E402
from sla_sim.scenario.presets import preset  # noqa: E402
from sla_sim.scenario.schema import Scenario  # noqa: E402

SEED = 20260101
TARGET_REPS, TARGET_WORKERS = 1_000_000, 100

# The wrapper runs one command and prints the peak RSS (KiB on Linux) of its children: exactly
# the measured process and its descendants, nothing else of this benchmark.
_WRAP = ("import resource, subprocess, sys\n"
         "rc = subprocess.run(sys.argv[1:]).returncode\n"
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
         "sys.exit(rc)\n")  # fmt: skip


# ---------------------------------------------------------------------------- scenarios
def scenario_for(kind: str) -> tuple[Scenario, str]:
    """A scenario and its description: ``default``, ``short`` or ``small``."""
    sc = preset("default")
    if kind == "default":
        return sc, "default preset (90-day warm-up, 3 months)"
    sc = set_path(set_path(sc, "horizon.warmup_days", 20), "horizon.measure_months", 1)
    if kind == "short":
        return sc, "default preset, 20-day warm-up, 1 month"
    sc = set_path(set_path(sc, "horizon.warmup_days", 5), "teams[sdr].reps", 2)
    for c in sc.channels:
        sc = set_path(sc, f"channels[{c.name}].leads_per_month", c.leads_per_month / 10)
    return sc, "default preset, 5-day warm-up, 1 month, 1/10 of the leads, 2 SDRs"


# ---------------------------------------------------------------------------- (2) memory
def memory_child(kind: str, reps: int, workers: int, out_json: str) -> None:
    """Run inside the measured child: one stored run, then report its own numbers."""
    from sla_sim.batch.runs import stored_run
    from sla_sim.batch.store import RunStore

    sc, _ = scenario_for(kind)
    with tempfile.TemporaryDirectory() as store:
        t0 = time.perf_counter()
        _, _, res = stored_run(sc, reps=reps, seed=SEED, workers=workers,
                               store=RunStore(store), progress=False)  # fmt: skip
        seconds = time.perf_counter() - t0
    Path(out_json).write_text(json.dumps({
        "reps": reps, "replications_done": res.replications, "seconds": seconds,
        "self_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))  # fmt: skip


def measure_memory(kind: str, reps: int, workers: int) -> dict[str, Any]:
    """Peak RSS of a fresh process running a stored run of ``reps`` replications."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "child.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child-memory", kind,
               str(reps), str(workers), str(out)]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _WRAP, *cmd], capture_output=True,
                              text=True, check=False)  # fmt: skip
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"memory child failed ({done.returncode}):\n{done.stderr}")
        child = json.loads(out.read_text())
    return {
        **child, "wall_seconds": wall,
        "maxrss_kib": int(done.stdout.strip().splitlines()[-1]),
        "parent_rusage_children_before_kib": before,
        "parent_rusage_children_after_kib": resource.getrusage(
            resource.RUSAGE_CHILDREN).ru_maxrss,
    }  # fmt: skip


# ---------------------------------------------------------------------------- (1) and (3)
def timed(fn: Any, repeats: int = 1) -> tuple[float, Any]:
    """Best wall seconds of ``repeats`` calls of ``fn()``, and the last value."""
    best, value = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def _noop(x: int) -> int:
    return x


def _warm() -> bool:
    import sla_sim.metrics
    import sla_sim.model.funnel
    import sla_sim.scenario.schema  # noqa: F401

    return True


def bench_executors(sc: Scenario, reps: int, repeats: int) -> dict[str, Any]:
    """Serial vs 2 processes vs Dask (with and without start-up) and Dask task overhead."""
    from sla_sim.batch.replications import run_replications

    kw = {"reps": reps, "seed": SEED, "progress": False, "keep_log_of": None}
    run_replications(sc, reps=2, seed=SEED + 1, progress=False)  # warm caches and imports
    t1, serial = timed(lambda: run_replications(sc, workers=1, **kw), repeats)
    t2, procs = timed(lambda: run_replications(sc, workers=2, **kw), repeats)
    out: dict[str, Any] = {
        "serial_seconds": t1, "processes2_seconds": t2, "parallel_efficiency": t1 / (2 * t2),
        "seconds_per_replication": t1 / reps,
        "worker_seconds_per_replication": serial.meta["seconds_per_replication_mean"],
        "processes_worker_seconds_per_replication": procs.meta["seconds_per_replication_mean"],
        "processes_identical_to_serial": bool(np.array_equal(serial.values, procs.values,
                                                             equal_nan=True)),
    }  # fmt: skip
    try:
        from dask.distributed import Client
    except ImportError:
        out["dask"] = "not installed"
        return out
    t_incl, dres = timed(lambda: run_replications(sc, workers=2, dask="local", **kw),
                         repeats)
    out["dask_including_startup_seconds"] = t_incl
    out["dask_identical_to_serial"] = bool(np.array_equal(serial.values, dres.values,
                                                          equal_nan=True))  # fmt: skip
    from sla_sim.batch.executors import local_cluster

    t_start, cluster = timed(lambda: local_cluster(2))
    try:
        with Client(cluster) as client:
            client.run(_warm)
            address = cluster.scheduler_address
            t_excl, dx = timed(lambda: run_replications(sc, workers=2, dask=address, **kw),
                              repeats)
            client.gather(client.map(_noop, range(20), pure=False))  # warm the task path
            n_tasks = 2000
            t_tasks, _ = timed(lambda: client.gather(client.map(_noop, range(n_tasks),
                                                                pure=False)))  # fmt: skip
            rtt = []
            for i in range(20):
                dt, _ = timed(lambda i=i: client.submit(_noop, i, pure=False).result())
                rtt.append(dt)
    finally:
        cluster.close()
    out |= {
        "dask_cluster_start_seconds": t_start, "dask_excluding_startup_seconds": t_excl,
        "dask_worker_seconds_per_replication": dx.meta["seconds_per_replication_mean"],
        "dask_vs_pool_including_startup": t_incl / t2,
        "dask_vs_pool_excluding_startup": t_excl / t2,
        "dask_trivial_tasks": n_tasks, "dask_seconds_per_trivial_task": t_tasks / n_tasks,
        "dask_single_task_round_trip_seconds": float(np.median(rtt)),
    }  # fmt: skip
    return out


def estimate(sec_per_rep: float, efficiency: float, task_overhead: float,
             reps_per_task: int = 10) -> dict[str, float]:  # fmt: skip
    """Wall time of TARGET_REPS replications on TARGET_WORKERS workers.

    Compute: reps x s / (workers x efficiency), with the 2-worker efficiency carried over
    (optimistic for a real cluster: no network, one machine). Scheduling: the Dask scheduler
    handles tasks one after the other, so tasks x per-task overhead is added (tasks of
    ``reps_per_task`` replications, the executors' maximum chunk size).
    """
    compute = TARGET_REPS * sec_per_rep / (TARGET_WORKERS * max(efficiency, 1e-9))
    tasks = TARGET_REPS / reps_per_task
    scheduling = tasks * task_overhead
    return {"compute_seconds": compute, "tasks": tasks, "scheduling_seconds": scheduling,
            "total_seconds": compute + scheduling}  # fmt: skip


# ---------------------------------------------------------------------------- report
def _h(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.3g} s"


def table(r: dict[str, Any]) -> str:
    """The Markdown table of the results."""
    e, m = r["executors"], r["memory"]
    lo, hi = m["runs"][0], m["runs"][-1]
    rows = [
        ("Scenario, (1) (3) (4)", r["scenario"],
         f"{r['reps']} replications, seed {SEED}, best of {r['repeats']}"),
        ("Serial wall time T1", f"{e['serial_seconds']:.2f} s",
         f"{e['seconds_per_replication']:.3f} s/replication"),
        ("2 processes wall time T2", f"{e['processes2_seconds']:.2f} s",
         ("identical to serial" if e["processes_identical_to_serial"] else "DIFFERENT values")
         + f"; in-worker {e['processes_worker_seconds_per_replication']:.3f} s/replication"),
        ("(1) Parallel efficiency T1/(2·T2)", f"{e['parallel_efficiency']:.2f}",
         "1.00 = perfect; includes pool start-up"),
    ]  # fmt: skip
    if isinstance(e.get("dask_including_startup_seconds"), float):
        ms = 1e3
        rows += [
            ("(3) Dask LocalCluster(2), incl. start-up",
             f"{e['dask_including_startup_seconds']:.2f} s",
             f"{e['dask_vs_pool_including_startup']:.2f}× the pool"
             + ("" if e["dask_identical_to_serial"] else "; DIFFERENT values")),
            ("(3) Dask cluster start-up alone", f"{e['dask_cluster_start_seconds']:.2f} s", ""),
            ("(3) Dask, excl. start-up (warm workers)",
             f"{e['dask_excluding_startup_seconds']:.2f} s",
             f"{e['dask_vs_pool_excluding_startup']:.2f}× the pool; in-worker "
             f"{e['dask_worker_seconds_per_replication']:.3f} s/replication"),
            ("(4) Dask overhead per trivial task",
             f"{e['dask_seconds_per_trivial_task'] * ms:.2f} ms",
             f"{e['dask_trivial_tasks']} no-op tasks via client.map"),
            ("(4) Dask single-task round trip",
             f"{e['dask_single_task_round_trip_seconds'] * ms:.1f} ms",
             "median of 20 submit().result()"),
        ]  # fmt: skip
    rows += [
        ("(4) Seconds per replication", f"{e['seconds_per_replication']:.3f} s",
         f"{r['scenario']}; in-worker {e['worker_seconds_per_replication']:.3f} s"),
        ("(4) Seconds per replication, default preset", f"{r['default_sec_per_rep']:.3f} s",
         "serial, mean of 3 after a warm-up replication"),
    ]  # fmt: skip
    for label, est in r["estimates"].items():
        rows.append((f"(4) 1,000,000 replications on 100 workers ({label})",
                     _h(est["total_seconds"]),
                     f"compute {_h(est['compute_seconds'])} + scheduling "
                     f"{est['tasks']:,.0f} tasks {_h(est['scheduling_seconds'])}"))
    rows += [
        ("Scenario, (2)", m["scenario"], f"stored_run, {m['workers']} worker(s), no report"),
    ]  # fmt: skip
    for run in m["runs"]:
        rows.append((f"(2) Peak RSS, {run['reps']:,} replications",
                     f"{run['maxrss_kib'] / 1024:.0f} MiB",
                     f"child's own peak {run['self_maxrss_kib'] / 1024:.0f} MiB; "
                     f"{run['seconds']:.1f} s"))
    rows += [
        (f"(2) Memory ratio {hi['reps']:,} / {lo['reps']:,}", f"{m['ratio']:.2f}",
         f"goal <= 1.5 at 5,000 / 100; growth {m['mib_per_1000_reps']:.1f} MiB per 1,000 "
         "replications"),
    ]  # fmt: skip
    w = [max(len(str(x[i])) for x in rows) for i in range(3)]
    head = ["Measure", "Value", "Notes"]
    w = [max(a, len(b)) for a, b in zip(w, head, strict=True)]
    lines = ["| " + " | ".join(h.ljust(n) for h, n in zip(head, w, strict=True)) + " |",
             "|" + "|".join("-" * (n + 2) for n in w) + "|"]
    lines += ["| " + " | ".join(str(c).ljust(n) for c, n in zip(row, w, strict=True)) + " |"
              for row in rows]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--full", action="store_true",
                   help="use the real default preset everywhere and 5,000 vs 100 replications")
    p.add_argument("--reps", type=int, default=40, help="replications for (1) and (3)")
    p.add_argument("--repeats", type=int, default=2,
                   help="timings of (1) and (3) are the best of this many runs")
    p.add_argument("--json", help="also write the raw numbers to this file")
    p.add_argument("--default-executors", action="store_true",
                   help="measure (1) and (3) on the real default preset (slower)")
    p.add_argument("--memory-reps", type=int, default=None,
                   help="replications of the larger memory run (default 2,000; 5,000 with"
                   " --full)")
    p.add_argument("--child-memory", nargs=4, metavar=("KIND", "REPS", "WORKERS", "OUT"),
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child_memory:
        kind, reps, workers, out = args.child_memory
        memory_child(kind, int(reps), int(workers), out)
        return 0

    exec_kind = "default" if args.full or args.default_executors else "short"
    mem_kind = "default" if args.full else "small"
    mem_reps = (100, args.memory_reps or (5000 if args.full else 2000))
    mem_workers = 2
    t_all = time.perf_counter()

    # (2) first, before this process has forked any other child
    runs = [measure_memory(mem_kind, n, mem_workers) for n in mem_reps]
    lo, hi = runs[0], runs[-1]
    memory = {
        "scenario": scenario_for(mem_kind)[1], "workers": mem_workers, "runs": runs,
        "ratio": hi["maxrss_kib"] / lo["maxrss_kib"],
        "mib_per_1000_reps": (hi["maxrss_kib"] - lo["maxrss_kib"]) / 1024
        / (hi["reps"] - lo["reps"]) * 1000,
    }  # fmt: skip

    sc, desc = scenario_for(exec_kind)
    executors = bench_executors(sc, args.reps, args.repeats)

    from sla_sim.batch.worker import run_one

    default, _ = scenario_for("default")
    run_one(default, SEED, 0)
    d = [timed(lambda i=i: run_one(default, SEED, i))[0] for i in range(1, 4)]
    default_spr = float(np.mean(d))
    eff = executors["parallel_efficiency"]
    overhead = executors.get("dask_seconds_per_trivial_task", 0.0)
    estimates = {
        "default preset": estimate(default_spr, eff, overhead),
        desc: estimate(executors["seconds_per_replication"], eff, overhead),
    }
    result = {
        "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg(),
        "mode": "full" if args.full else "quick", "scenario": desc, "reps": args.reps,
        "repeats": args.repeats,
        "executors": executors, "memory": memory, "default_sec_per_rep": default_spr,
        "estimates": estimates, "total_seconds": time.perf_counter() - t_all,
    }  # fmt: skip
    print(f"sla_sim scaling benchmark ({result['mode']} mode), Python {result['python']}, "
          f"{result['cpus']} CPUs, load average {os.getloadavg()[0]:.2f}, "
          f"{result['total_seconds']:.0f} s in all\n")
    print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
