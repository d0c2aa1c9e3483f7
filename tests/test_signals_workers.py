"""Ctrl-C in a terminal sends SIGINT to the whole process group: the command exits 130 with
one line, and its worker processes (which ignore SIGINT and leave the stop to their parent)
print no KeyboardInterrupt traceback."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sla_sim.scenario.io import save
from tests.conftest import make_tiny
from tests.proc_util import alive, descendants

ROOT = Path(__file__).resolve().parents[1]


def test_ctrl_c_to_the_process_group_exits_130_without_worker_tracebacks(tmp_path: Path
                                                                         ) -> None:  # fmt: skip
    """SIGINT to the group of ``sla-sim run --workers 2`` while both workers simulate: exit
    130, no traceback on stderr, no worker left."""
    sc = save(make_tiny({"horizon.warmup_days": 60, "horizon.measure_months": 3}),
              tmp_path / "sc.yaml")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    # 400 replications: seconds of work on the fast engine, so Ctrl-C lands mid-run
    proc = subprocess.Popen([sys.executable, "-m", "sla_sim", "run", str(sc), "--reps", "400",
                             "--workers", "2", "--no-report", "--store", str(tmp_path / "st")],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(descendants(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = descendants(proc.pid)
        assert len(workers) >= 2, "the workers never started"
        time.sleep(1.0)  # both inside a replication
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert "KeyboardInterrupt" not in err, err
    assert "interrupted" in err
    time.sleep(0.5)
    assert not [p for p in workers if alive(p)]


class _KernelLikeStream(io.TextIOBase):
    """An output stream guarded by a lock, as a Jupyter kernel's is (its I/O thread's)."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self.lock:
            return len(text)


def _say_something() -> int:
    print("a worker's line")
    print("and a warning", file=sys.stderr)
    return os.getpid()


def test_a_worker_forked_while_the_output_lock_is_held_still_prints(capfd: Any) -> None:
    """A worker forked from a kernel whose output lock another thread held at the fork writes
    to descriptors 1 and 2 instead of waiting for that lock forever (the planner's hang)."""
    from concurrent.futures import ProcessPoolExecutor

    from sla_sim.batch.worker import worker_context

    lock = threading.Lock()
    saved = sys.stdout, sys.stderr
    lock.acquire()  # held at the fork, as by the kernel's I/O thread mid-write
    pool = ProcessPoolExecutor(1, mp_context=worker_context("fork"))
    try:
        sys.stdout = sys.stderr = _KernelLikeStream(lock)
        pid = pool.submit(_say_something).result(timeout=30)
    finally:
        sys.stdout, sys.stderr = saved
        for proc in list(pool._processes.values()):  # a hung worker: stop it, fail the test
            proc.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        lock.release()
    assert pid != os.getpid()
    out, err = capfd.readouterr()
    assert "a worker's line" in out
    assert "and a warning" in err


def test_an_interrupt_seen_through_the_compiled_dispatcher_stops_the_chunk(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while numba dispatches a compiled call surfaces as a SystemError caused by the
    KeyboardInterrupt (or not at all): run_chunk stops with KeyboardInterrupt instead of
    recording a failed replication or running on (it did both: exit 1, or exit 0)."""
    from sla_sim.batch import worker
    from sla_sim.errors import clear_interrupt, interrupt_pending, note_interrupt

    calls: list[int] = []

    def wrapped(*_a: object, **_k: object) -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as err:
            raise SystemError("CPUDispatcher returned a result with an exception set") from err

    monkeypatch.setattr(worker, "run_one", wrapped)
    with pytest.raises(KeyboardInterrupt):
        worker.run_chunk(make_tiny().model_dump_json(), 1, [0, 1], None)

    def swallowed(*_a: object, r: int = 0, **_k: object) -> str:
        calls.append(1)
        note_interrupt()  # the handler ran, its exception was cleared by the dispatcher
        return "result"

    monkeypatch.setattr(worker, "run_one", swallowed)
    try:
        with pytest.raises(KeyboardInterrupt):
            worker.run_chunk(make_tiny().model_dump_json(), 1, [0, 1, 2], None)
    finally:
        clear_interrupt()
    assert calls == [1]
    assert not interrupt_pending()

    def plain_failure(*_a: object, **_k: object) -> None:
        raise ValueError("a real failure")

    monkeypatch.setattr(worker, "run_one", plain_failure)
    out = worker.run_chunk(make_tiny().model_dump_json(), 1, [0], None)
    assert type(out[0]).__name__ == "ReplicationFailure"
