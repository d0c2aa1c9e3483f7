"""JupyterLab, as the README's set-up installs it, saves widget state with a notebook: a saved
notebook 01 reopens with its panel as last shown, not "Error displaying widget: model not found"
(JupyterLab's own default is not to save it). Asked of a real ``jupyter lab`` server through
its settings API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from ci_env import on_ci, require

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "sla_sim" / "data" / "jupyterlab" / "overrides.json"
PLUGIN = "@jupyter-widgets/jupyterlab-manager:plugin"

pytestmark = pytest.mark.notebooks


def test_shipped_override_turns_on_saving_widget_state() -> None:
    assert json.loads(SHIPPED.read_text(encoding="utf-8")) == {PLUGIN: {"saveState": True}}


def test_jupyterlab_of_this_environment_saves_widget_state() -> None:
    require("jupyterlab", "pip install -e .[notebook]")
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    if not installed.exists():
        reason = f"{installed} is missing: this environment was not set up by dev.sh"
        if on_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    lab = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", "--ServerApp.token=", "--ServerApp.password=",
         "--allow-root", f"--ServerApp.root_dir={ROOT / 'notebooks'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(Path("/nonexistent-user-settings"))},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/lab/api/settings/{PLUGIN}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    settings = json.load(resp)
                break
            except OSError:
                if time.monotonic() > deadline or lab.poll() is not None:
                    raise
                time.sleep(0.5)
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(30)
    # overrides.json changes the default the server hands the browser (no user settings here)
    assert settings["schema"]["properties"]["saveState"]["default"] is True, settings
    assert settings["settings"] == {}, settings
