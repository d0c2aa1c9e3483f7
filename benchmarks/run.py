"""Speed and memory benchmarks of sla_sim, in one process.

    python benchmarks/run.py [--leads 100000] [--reps-default 5] [--repeats 3] [--json out.json]

(a) The M/M/c reduction (λ = 9/h, μ = 1/h, c = 10) simulated by sla_sim (``FunnelModel.run``)
    and by an idiomatic SimPy model written below (a process per customer, a
    ``simpy.Resource(capacity=c)``, exponential service), for the same number of customers; best
    of ``--repeats`` runs each, reported as leads per second and the ratio sla_sim / idiomatic.
(b) Replications of the default preset, seconds per replication split into simulation
    (``FunnelModel.run``) and metrics (``sla_sim.metrics.compute``), plus the wall time of
    ``sla_sim.batch.replications.run_replication``; means over ``--reps-default`` replications.
(c) Memory: the tracemalloc peak of one default replication, and the process's maximum
    resident set size (``resource.getrusage``) after each section.

Prints a Markdown table (for benchmarks/README.md) and, with ``--json``, writes the raw numbers.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a source checkout without installing
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import simpy  # noqa: E402

from sla_sim import metrics  # noqa: E402
from sla_sim.analysis.queueing import mmc_mean_wait  # noqa: E402
from sla_sim.analysis.reductions import (  # noqa: E402
    MMC_MEASURE_START,
    measure_months_for,
    measure_span_hours,
    mmc_scenario,
)
from sla_sim.batch.replications import run_replication  # noqa: E402
from sla_sim.batch.worker import warm_up  # noqa: E402
from sla_sim.events import CODE  # noqa: E402
from sla_sim.horizon import horizon_hours  # noqa: E402
from sla_sim.model.funnel import FunnelModel  # noqa: E402
from sla_sim.scenario.presets import preset  # noqa: E402
from sla_sim.scenario.schema import Scenario  # noqa: E402
from sla_sim.streams import Streams, replication_seed  # noqa: E402

LAM, MU, C = 9.0, 1.0, 10
SEED = 20260101


def max_rss_mib() -> float:
    """Maximum resident set size of this process so far, in MiB (ru_maxrss: KiB on Linux)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


def mmc_benchmark_scenario(leads: int) -> Scenario:
    """The M/M/c reduction with a horizon of about ``leads / LAM`` hours (to within a day).

    The schema measures whole months, so whole months cover most of the span and warm-up days
    (simulated like the rest: the queue starts empty either way) make up the remainder.
    """
    target_h = leads / LAM
    months = measure_months_for(target_h) - 1
    if months == 0:  # under a month: one measured month is the minimum
        return mmc_scenario(LAM, MU, C, hours=target_h)
    span_h = measure_span_hours(months)
    return mmc_scenario(LAM, MU, C, hours=span_h, warmup_days=math.ceil((target_h - span_h) / 24))


def run_sla_sim(sc: Scenario, replication: int) -> tuple[float, int, float]:
    """(seconds, leads, mean wait in hours) of one sla_sim run of the M/M/c reduction."""
    gc.collect()
    t0 = time.perf_counter()
    model = FunnelModel(sc, Streams(replication_seed(SEED, replication)))
    log = model.run()
    seconds = time.perf_counter() - t0
    cols = log.columns()
    n = model.n_leads
    first = {}
    for code in ("routed", "attempt"):
        m = cols["event"] == CODE[code]
        t = np.full(n, np.nan)
        t[cols["lead"][m]] = cols["time_h"][m]
        first[code] = t
    return seconds, n, float(np.nanmean(first["attempt"] - first["routed"]))


def run_idiomatic(n: int, seed: int) -> tuple[float, float]:
    """(seconds, mean wait in hours) of an idiomatic SimPy M/M/c model with ``n`` customers.

    Inter-arrival and service times are pre-drawn with numpy (as a careful SimPy user would);
    each customer is a process that requests a ``simpy.Resource`` slot and holds it for its
    service time; the source process yields a timeout per inter-arrival gap.
    """
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / LAM, n).tolist()
    service = rng.exponential(1.0 / MU, n).tolist()
    waits = [0.0] * n
    gc.collect()
    t0 = time.perf_counter()
    env = simpy.Environment()
    reps = simpy.Resource(env, capacity=C)

    def customer(i: int):
        arrived = env.now
        with reps.request() as req:
            yield req
            waits[i] = env.now - arrived
            yield env.timeout(service[i])

    def source():
        for i in range(n):
            yield env.timeout(gaps[i])
            env.process(customer(i))

    env.process(source())
    env.run()
    return time.perf_counter() - t0, sum(waits) / n


def bench_mmc(leads: int, repeats: int) -> dict[str, Any]:
    """Section (a): best-of-``repeats`` throughput of sla_sim and of idiomatic SimPy."""
    sc = mmc_benchmark_scenario(leads)
    sla_runs = [run_sla_sim(sc, r) for r in range(repeats)]
    best = min(range(repeats), key=lambda i: sla_runs[i][0] / sla_runs[i][1])
    sla_s, n, sla_wait = sla_runs[best]
    idio_runs = [run_idiomatic(n, SEED + r) for r in range(repeats)]
    idio_s, idio_wait = min(idio_runs)
    ref = sc.model_copy(update={"engine": "simpy"})  # the reference engine, same leads
    ref_runs = [run_sla_sim(ref, r) for r in range(repeats)]
    ref_s = min(s / k for s, k, _ in ref_runs) * n
    return {
        "lam_per_h": LAM, "mu_per_h": MU, "c": C, "horizon_h": horizon_hours(sc)[2],
        "leads": n, "theory_mean_wait_h": mmc_mean_wait(LAM, MU, C),
        "sla_sim_seconds": sla_s, "sla_sim_leads_per_s": n / sla_s,
        "sla_sim_all_seconds": [s for s, _, _ in sla_runs], "sla_sim_mean_wait_h": sla_wait,
        "idiomatic_seconds": idio_s, "idiomatic_leads_per_s": n / idio_s,
        "idiomatic_all_seconds": [s for s, _ in idio_runs], "idiomatic_mean_wait_h": idio_wait,
        "ratio_sla_sim_over_idiomatic": (n / sla_s) / (n / idio_s),
        "simpy_engine_seconds": ref_s, "simpy_engine_leads_per_s": n / ref_s,
        "ratio_simpy_engine_over_idiomatic": idio_s / ref_s,
        "max_rss_mib_after": max_rss_mib(),
    }  # fmt: skip


def bench_default(reps: int) -> dict[str, Any]:
    """Section (b): seconds per default-preset replication, simulate vs metrics."""
    sc = preset("default")
    sim, met, whole, leads = [], [], [], []
    for r in range(reps):
        gc.collect()
        t0 = time.perf_counter()
        model = FunnelModel(sc, Streams(replication_seed(SEED, r)))
        log = model.run()
        t1 = time.perf_counter()
        metrics.compute(log, sc)
        t2 = time.perf_counter()
        sim.append(t1 - t0)
        met.append(t2 - t1)
        leads.append(model.n_leads)
        del model, log
        gc.collect()
        whole.append(run_replication(sc, SEED, r).seconds)
    return {
        "replications": reps, "leads_mean": float(np.mean(leads)),
        "simulate_s_mean": float(np.mean(sim)), "metrics_s_mean": float(np.mean(met)),
        "total_s_mean": float(np.mean(sim) + np.mean(met)),
        "run_replication_s_mean": float(np.mean(whole)),
        "simulate_s": sim, "metrics_s": met, "run_replication_s": whole,
        "max_rss_mib_after": max_rss_mib(),
    }  # fmt: skip


def bench_memory() -> dict[str, Any]:
    """Section (c): tracemalloc peak of one default replication (run_replication, metrics in)."""
    gc.collect()
    tracemalloc.start()
    try:
        run_replication(preset("default"), SEED, 0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {"tracemalloc_peak_mib": peak / 2**20, "max_rss_mib_after": max_rss_mib()}


def environment() -> dict[str, Any]:
    """Versions and machine, for the record."""
    import pandas
    import scipy

    return {
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "numpy": np.__version__, "scipy": scipy.__version__, "pandas": pandas.__version__,
        "simpy": simpy.__version__, "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }  # fmt: skip


def markdown(res: dict[str, Any]) -> str:
    """The results as a Markdown table."""
    a, b, c, env = res["mmc"], res["default"], res["memory"], res["environment"]
    rows = [
        ("M/M/c reduction (λ=9/h, μ=1/h, c=10): leads simulated", f"{a['leads']:,}"),
        (f"sla_sim `FunnelModel.run`, fast engine (best of {res['repeats']})",
         f"{a['sla_sim_leads_per_s']:,.0f} leads/s ({a['sla_sim_seconds']:.2f} s)"),
        (f"sla_sim `FunnelModel.run`, engine simpy (best of {res['repeats']})",
         f"{a['simpy_engine_leads_per_s']:,.0f} leads/s ({a['simpy_engine_seconds']:.2f} s):"
         f" {a['ratio_simpy_engine_over_idiomatic']:.2f}× idiomatic"),
        (f"idiomatic SimPy, `Resource(capacity=10)` (best of {res['repeats']})",
         f"{a['idiomatic_leads_per_s']:,.0f} leads/s ({a['idiomatic_seconds']:.2f} s)"),
        ("ratio sla_sim / idiomatic (throughput)", f"{a['ratio_sla_sim_over_idiomatic']:.2f}×"),
        ("mean wait: theory / sla_sim / idiomatic",
         f"{a['theory_mean_wait_h']:.3f} / {a['sla_sim_mean_wait_h']:.3f} /"
         f" {a['idiomatic_mean_wait_h']:.3f} h"),
        (f"default preset, ~{b['leads_mean']:,.0f} leads: simulate (`FunnelModel.run`)",
         f"{b['simulate_s_mean']:.3f} s/rep (mean of {b['replications']})"),
        ("default preset: metrics (`metrics.compute`)", f"{b['metrics_s_mean']:.3f} s/rep"),
        ("default preset: `run_replication` wall time", f"{b['run_replication_s_mean']:.3f} s/rep"),
        ("tracemalloc peak, one default replication", f"{c['tracemalloc_peak_mib']:.1f} MiB"),
        ("max RSS after (a) M/M/c / (b) default / (c) memory",
         f"{a['max_rss_mib_after']:.0f} / {b['max_rss_mib_after']:.0f} /"
         f" {c['max_rss_mib_after']:.0f} MiB"),
    ]  # fmt: skip
    out = ["| Measure | Value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    out.append("")
    out.append(f"Python {env['python']} ({env['implementation']}), numpy {env['numpy']}, "
               f"simpy {env['simpy']}, {env['platform']}.")  # fmt: skip
    return "\n".join(out)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run every section, print the table, optionally write JSON; return the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leads", type=int, default=100_000, help="customers in the M/M/c runs")
    ap.add_argument("--reps-default", type=int, default=5, help="default-preset replications")
    ap.add_argument("--repeats", type=int, default=3, help="M/M/c runs per model (best kept)")
    ap.add_argument("--json", type=Path, default=None, help="write the raw results here")
    args = ap.parse_args(argv)
    if args.leads < 1000 or args.reps_default < 1 or args.repeats < 1:
        ap.error("need --leads >= 1000, --reps-default >= 1 and --repeats >= 1")
    res: dict[str, Any] = {"repeats": args.repeats, "environment": environment(),
                           "mmc_measure_start": str(MMC_MEASURE_START)}  # fmt: skip
    warm_up()  # load the compiled code (compiled and cached on disk the first time)
    print(f"(a) M/M/c, {args.leads:,} leads, best of {args.repeats} ...", flush=True)
    res["mmc"] = bench_mmc(args.leads, args.repeats)
    print(f"(b) default preset, {args.reps_default} replications ...", flush=True)
    res["default"] = bench_default(args.reps_default)
    print("(c) memory ...", flush=True)
    res["memory"] = bench_memory()
    print()
    print(markdown(res))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=2), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return res


if __name__ == "__main__":
    main()
