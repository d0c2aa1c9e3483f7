"""The dashboard in a real browser: `sla-sim dashboard` served by Voilà, driven by Chromium.

Starts the real command (``python -m sla_sim dashboard FILE --reps 6 --port P``) on a fast
scenario, opens the page in headless Debian Chromium through Playwright with every request that
is not for 127.0.0.1 aborted, waits for the charts and the final status, moves the SDR slider
with the keyboard (ipywidgets 8 sliders are noUiSlider), waits for the new final result and
checks that the charts were redrawn with different numbers. Screenshots go to test-artifacts/.

Skipped when Chromium, Playwright or Voilà is missing, unless the CI environment variable is
set: then their absence is a failure.
"""

from __future__ import annotations

import importlib.util
import re
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_env import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    LOCAL,
    dashboard_server,
    fast_scenario,
    free_port,
    local_only,
    require_browser,
)

pytestmark = pytest.mark.browser

REPS = 6
RESULT_S = 180


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[str]:
    """The URL of `sla-sim dashboard` on a fast scenario; the server is stopped by PID after."""
    require_browser()

    scenario = fast_scenario(tmp_path, warmup_days=30)
    with dashboard_server(tmp_path, scenario, "--reps", str(REPS)) as (url, _proc):
        yield url


def _response_median(svg: str) -> float:
    """The median response time quoted in the response-time chart's subtitle."""
    m = re.search(r"median ([\d.]+) h", svg)
    assert m, "no median in the response-time chart"
    return float(m.group(1))


def _stuck(page, tmp_path: Path, what: str) -> str:  # type: ignore[no-untyped-def]
    """What a page that never reached ``what`` showed, and the server's log: the failure
    message of an intermittent hang (seen twice in about 50 runs on 2026-12-06)."""
    status = page.locator(".sla-status").first
    shown = status.inner_text() if status.count() else "(no status line)"
    message = page.locator(".sla-message").first
    error = message.inner_text() if message.count() else ""
    log = tmp_path / "dashboard.log"
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
    return f"never reached {what}; status: {shown!r}; message: {error!r}; server log:\n{tail}"


def test_dashboard_redraws_when_a_lever_moves(dashboard: str, tmp_path: Path) -> None:
    """Charts appear offline, the SDR slider moves by keyboard, the charts are redrawn."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    page_errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.route("**/*", local_only)
            page.goto(dashboard)
            assert page.title() == "SLA planner"
            final = ".sla-status [data-final='1']"
            page.wait_for_selector(".sla-chart-revenue svg", timeout=RESULT_S * 1000)
            try:
                page.wait_for_selector(final, timeout=RESULT_S * 1000)
            except Exception:  # playwright's TimeoutError: say what the page showed
                pytest.fail(_stuck(page, tmp_path, "the final status"))
            page.wait_for_selector(".sla-chart-response svg", timeout=RESULT_S * 1000)
            page.screenshot(path=str(ARTIFACTS / "dashboard-initial.png"), full_page=True)
            status = page.locator(".sla-status span")
            assert status.get_attribute("data-reps") == str(REPS)
            before_status = status.inner_text()
            before_capacity = page.locator(".sla-chart-capacity svg").inner_html()
            before_median = _response_median(page.locator(".sla-chart-response").inner_html())

            sdr = page.locator(".widget-slider", has=page.locator(".widget-label",
                                                                  has_text="SDRs"))  # fmt: skip
            assert sdr.count() == 1, "exactly one slider labelled SDRs"
            start = int(sdr.locator(".widget-readout").inner_text())
            sdr.locator(".noUi-handle").first.focus()
            for _ in range(4):
                page.keyboard.press("ArrowRight")
            page.wait_for_function(
                """([before]) => {
                    const s = document.querySelector('.sla-status span');
                    const c = document.querySelector('.sla-chart-capacity svg');
                    return s && c && s.dataset.final === '1' && s.innerText !== before[0]
                        && c.innerHTML !== before[1];
                }""",
                arg=[[before_status, before_capacity]],
                timeout=RESULT_S * 1000,
            )
            page.screenshot(path=str(ARTIFACTS / "dashboard-after-sdr.png"), full_page=True)
            assert int(sdr.locator(".widget-readout").inner_text()) == start + 4
            assert status.get_attribute("data-reps") == str(REPS)
            after_median = _response_median(page.locator(".sla-chart-response").inner_html())
            content = page.content()
            message = page.locator(".sla-message").inner_text()
        finally:
            browser.close()
    assert after_median < before_median, (before_median, after_median)  # more SDRs: faster
    assert message.strip() == ""
    assert "Error loading script" not in content
    assert "chart unavailable" not in content
    outside = [u for u in requests if not u.startswith((LOCAL, "data:", "blob:"))]
    assert not outside, f"the page asked for resources outside 127.0.0.1: {outside}"
    assert not page_errors, page_errors


# ---------------------------------------------------------------------- without a browser
def test_generated_notebook_only_creates_and_shows_the_panel(tmp_path: Path) -> None:
    """The served notebook imports PlannerPanel with the options given and displays it."""
    from sla_sim.planner.dashboard import notebook

    nb = notebook(preset="smb_inbound", reps=7, workdir=tmp_path, workers=3)
    code = "\n".join(c["source"] for c in nb["cells"])
    assert "from sla_sim.planner.panel import PlannerPanel" in code
    assert "PlannerPanel(preset='smb_inbound', reps=7, workers=3)" in code
    assert nb["cells"][1]["source"].rstrip().endswith("panel")
    assert len(nb["cells"]) == 2  # no ready file asked for: create and show, nothing else
    ready = tmp_path / "ready"
    nb = notebook(preset="smb_inbound", reps=7, workdir=tmp_path, ready_file=ready)
    assert nb["cells"][-1]["source"] == f"__import__('pathlib').Path({str(ready)!r}).touch()"
    assert repr(str(tmp_path.resolve())) in code
    assert all(c["outputs"] == [] for c in nb["cells"])
    (tmp_path / "s.yaml").write_text("")
    nb = notebook(scenario_path=tmp_path / "s.yaml", reps=3)
    code = "\n".join(c["source"] for c in nb["cells"])
    assert f"load_scenario({str((tmp_path / 's.yaml').resolve())!r})" in code


def test_voila_listens_on_loopback_only() -> None:
    """Voilà is started without a browser, on 127.0.0.1, on exactly the port asked for."""
    from sla_sim.planner.dashboard import voila_command

    cmd = voila_command("x.ipynb", 8999)
    assert cmd[:3] == [sys.executable, "-m", "voila"]
    for flag in ("--no-browser", "--port=8999", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0"):
        assert flag in cmd
    # one kernel pre-heated, the next one started 5 s after a page takes it (a second page
    # opened meanwhile waits for it: tests/test_dashboard_culling.py opens ten in a row)
    assert "--preheat_kernel=True" in cmd
    assert "--pool_size=1" in cmd
    assert "--VoilaKernelManager.fill_delay=5" in cmd


def test_dashboard_errors_are_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """Bad options exit 2 naming them; a busy port or a missing Voilà exit 1 saying what to do."""
    from sla_sim.cli.main import main
    from sla_sim.planner import dashboard

    assert main(["dashboard", "--port", "0", "--reps", "0", "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert "--port" in err
    assert "--reps" in err
    assert "--workers" in err
    assert main(["dashboard", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err
    assert main(["dashboard", "x.yaml", "--preset", "default"]) == 2
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        if importlib.util.find_spec("voila") is not None:
            assert main(["dashboard", "--port", str(port)]) == 1
            assert f"port {port}" in capsys.readouterr().err
    monkeypatch.setattr(dashboard.importlib.util, "find_spec", lambda name: None)
    assert main(["dashboard", "--port", str(free_port())]) == 1
    err = capsys.readouterr().err
    assert "Voilà" in err
    assert "pip install" in err
