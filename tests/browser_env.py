"""What the browser tests share: Debian Chromium and its flags, and `sla-sim dashboard` started
on a free port (of the loopback address it picks, a random 127.X.Y.Z), opened at the address it
prints (with this start's token) and stopped by its process group afterwards.

Skipped when Chromium, Playwright or Voilà is missing, unless on CI (``ci_env.on_ci``): then
their absence is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from ci_env import on_ci

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("SLA_SIM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
LOCAL = "http://127.0.0.1"
#: An address of the loopback network, as the dashboard prints it (``http://127.X.Y.Z``).
LOOPBACK = r"http://127\.\d{1,3}\.\d{1,3}\.\d{1,3}"
READY_S = 240  # until the command prints the page's address (after its kernel is ready)


def require_browser() -> None:
    """Skip (fail on CI) unless Chromium, Playwright and Voilà are all here."""
    missing = []
    if not CHROMIUM.is_file():
        missing.append(f"Chromium ({CHROMIUM}; apt-get install -y chromium)")
    for module, hint in (("playwright", "pip install playwright"),
                         ("voila", "pip install voila")):  # fmt: skip
        if importlib.util.find_spec(module) is None:
            missing.append(f"{module} ({hint})")
    if missing:
        reason = "browser test needs " + ", ".join(missing)
        if on_ci():  # CI="" counts as CI
            pytest.fail(f"{reason}: required on CI")
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def on_loopback(url: str) -> bool:
    """Whether ``url`` is an http address on this machine's loopback network (127.0.0.0/8)."""
    return re.match(rf"{LOOPBACK}(:\d+)?/", url) is not None


def local_only(route) -> None:  # type: ignore[no-untyped-def]
    """A Playwright route handler: requests for a loopback address (127.0.0.0/8) go through,
    every other is aborted."""
    if on_loopback(route.request.url):
        route.continue_()
    else:
        route.abort()


def printed_address(log_path: Path, port: int) -> str | None:
    """The page's address the command printed (``http://127.X.Y.Z:PORT/?token=...``), if yet."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    m = re.search(rf"^sla-sim dashboard: ({LOOPBACK}:{port}/\?token=[\w-]+) ", text, re.M)
    return m.group(1) if m else None


@contextmanager
def dashboard_server(tmp_path: Path, scenario: Path, *options: str,
                     env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run ``python -m sla_sim dashboard SCENARIO --port P *options`` in ``tmp_path`` until it
    prints the page's address; yield (that address, process); stop it by SIGTERM, then its
    process group. The command's output goes to ``tmp_path/dashboard.log``."""
    port = free_port()
    env = dict(env or os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    log_path = tmp_path / "dashboard.log"
    log = log_path.open("wb")
    cmd = [sys.executable, "-m", "sla_sim", "dashboard", str(scenario), "--port", str(port),
           *options]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + READY_S
        while (url := printed_address(log_path, port)) is None:
            if proc.poll() is not None:
                pytest.fail(f"the dashboard exited ({proc.returncode}):\n"
                            + log_path.read_text())  # fmt: skip
            if time.monotonic() > deadline:
                pytest.fail(f"the dashboard printed no address within {READY_S} s:\n"
                            + log_path.read_text(errors="replace")[-3000:])  # fmt: skip
            time.sleep(0.25)
        yield url, proc
    finally:
        proc.terminate()  # SIGTERM: the command stops Voilà, which shuts its kernels down
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its own process group, started above
            proc.wait()
        log.close()


def fast_scenario(tmp_path: Path, warmup_days: int) -> Path:
    """The default preset written to ``tmp_path/fast.yaml`` (as ``sla-sim init`` writes it) with
    a short warm-up and one measured month, so a dashboard shows results quickly."""
    import yaml

    from sla_sim.cli.main import main

    scenario = tmp_path / "fast.yaml"
    assert main(["init", "--out", str(scenario)]) == 0
    data = yaml.safe_load(scenario.read_text())
    data["horizon"]["warmup_days"] = warmup_days
    data["horizon"]["measure_months"] = 1
    scenario.write_text(yaml.safe_dump(data, sort_keys=False))
    return scenario
