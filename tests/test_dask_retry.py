"""The Dask path keeps the process pool's guarantees: a task lost with its worker is run
again (results identical), and the workers of a local cluster ignore Ctrl-C and die with the
process that started them."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
from ci_env import require

from sla_sim.batch.replications import run_replications
from tests.conftest import make_tiny
from tests.proc_util import descendants

REPS, SEED = 2, 11


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _workers() -> list[int]:
    """Local Dask workers started by this process and ready (they name themselves so)."""
    out = []
    for pid in descendants(os.getpid()):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"dask worker [tcp"):
                out.append(pid)
        except OSError:
            continue
    return out


def _kill_a_busy_worker(found: dict[str, object], stop: threading.Event) -> None:
    """SIGKILL the first local Dask worker seen one CPU-second into a task (counted from when
    it was first seen ready: tasks are submitted as soon as the workers are)."""
    ready: dict[int, float] = {}
    while not stop.is_set():
        for pid in _workers():
            try:
                cpu = _cpu_seconds(pid)
                if cpu - ready.setdefault(pid, cpu) > 1.0:
                    found["status"] = Path(f"/proc/{pid}/status").read_text()
                    os.kill(pid, signal.SIGKILL)
                    found["pid"] = pid
                    return
            except OSError:
                continue
        time.sleep(0.05)


def test_a_task_lost_with_its_worker_is_run_again() -> None:
    """A Dask worker killed in the middle of a task (the scheduler told to give up at once):
    the task is submitted again and the run's values equal a serial run's."""
    require("dask.distributed", "pip install -e .[dask]")
    import dask

    # replications of about 2 CPU-seconds, one per worker
    sc = make_tiny({"horizon.warmup_days": 240, "horizon.measure_months": 4})
    found: dict[str, object] = {}
    stop = threading.Event()
    killer = threading.Thread(target=_kill_a_busy_worker, args=(found, stop), daemon=True)
    killer.start()
    try:
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            got = run_replications(sc, reps=REPS, seed=SEED, workers=2, dask="local",
                                   progress=False)  # fmt: skip
    finally:
        stop.set()
        killer.join()
    assert "pid" in found, "no worker was seen busy"
    want = run_replications(sc, reps=REPS, seed=SEED, workers=1, progress=False)
    assert np.array_equal(got.wide(None).to_numpy(), want.wide(None).to_numpy())
    # the killed worker ignored SIGINT (bit 2 of its ignored-signal mask)
    ignored = next(line for line in str(found["status"]).splitlines() if line.startswith("SigIgn"))
    assert int(ignored.split()[1], 16) & (1 << (signal.SIGINT - 1))


def _fast_engine_loaded() -> bool:
    """Run in a worker: whether its process has loaded the fast engine's compiled loop."""
    from sla_sim.model import funnel

    return funnel._warm


def test_local_dask_workers_load_the_fast_engine_at_set_up() -> None:
    """A Dask worker is not forked from the process that made the cluster: it loads the fast
    engine's compiled loop at set-up (the WarmFastEngine plugin), before its first task, so
    that no replication pays for it."""
    require("dask.distributed", "pip install -e .[dask]")
    from dask.distributed import Client

    from sla_sim.batch.executors import local_cluster

    cluster = local_cluster(1)
    try:
        with Client(cluster) as client:
            assert list(client.run(_fast_engine_loaded).values()) == [True]
    finally:
        cluster.close()
