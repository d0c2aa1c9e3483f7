"""The Dask path keeps the process pool's guarantees: a task lost with its worker is run
again (results identical), and the workers of a local cluster ignore Ctrl-C and die with the
process that started them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from ci_env import require

from sla_sim.batch.replications import run_replications
from sla_sim.scenario.io import save
from tests.conftest import make_tiny
from tests.proc_util import alive, descendants

REPS, SEED = 2, 11
ROOT = Path(__file__).resolve().parents[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _workers(parent: int | None = None) -> list[int]:
    """Local Dask workers started by ``parent`` (default: this process) and ready (they name
    themselves so)."""
    out = []
    for pid in descendants(os.getpid() if parent is None else parent):
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


def test_kill_9_of_the_parent_leaves_no_dask_process_behind(tmp_path: Path) -> None:
    """``kill -9`` of a process running replications on a local Dask cluster: within 15 s no
    process it started (scheduler side, nannies, workers) is left running."""
    require("dask.distributed", "pip install -e .[dask]")
    scenario = save(make_tiny({"horizon.warmup_days": 240, "horizon.measure_months": 4}),
                    tmp_path / "sc.yaml")  # fmt: skip
    code = ("import sys\n"
            "from sla_sim.batch.replications import run_replications\n"
            "from sla_sim.scenario.io import load\n"
            "run_replications(load(sys.argv[1]), reps=40, seed=1, workers=2, dask='local',"
            " progress=False)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", code, str(scenario)], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        busy: list[int] = []
        while len(busy) < 2 and time.monotonic() < deadline and proc.poll() is None:
            busy = [p for p in _workers(proc.pid) if _cpu_seconds(p) > 1.0]
            time.sleep(0.1)
        if len(busy) < 2:
            proc.kill()
            pytest.fail("the Dask workers never started simulating:\n"
                        + proc.communicate()[1].decode(errors="replace")[-2000:])
        family = descendants(proc.pid)
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 15
        while (left := [p for p in family if alive(p)]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"left running after kill -9 of their parent: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in descendants(proc.pid):
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)


