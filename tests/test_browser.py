"""The dashboard in a real browser: `sla-sim dashboard` served by Voilà, driven by Chromium.

Starts the real command (``python -m sla_sim dashboard FILE --reps 6 --max-kernels 2 --port
P``) once for the module on a fast scenario and opens the address it prints (with this start's
token, on the random loopback address 127.X.Y.Z the command picks) in headless Debian Chromium
through Playwright, every request that is not for a loopback address aborted. It waits for
the charts and the final status, moves the SDR slider with the keyboard (ipywidgets 8 sliders
are noUiSlider), waits for the new final result and checks that the charts were redrawn with
different numbers. Screenshots go to test-artifacts/.

On the same server, the security model (docs/security.md): files outside the dashboard's
folders are refused by the panel without showing a line of them; a page loaded through a
foreign host name (Chromium's host-resolver rules map ``evil.example`` to the dashboard's
address, as DNS rebinding would) and a request with a foreign ``Host`` (``127.0.0.1`` and
``localhost`` included) get 403, no panel and no kernel; without the token there is no panel;
the login cookie the page got is not sent to other local servers (on 127.0.0.1 and on another
loopback address) visited in the same browser; beyond ``--max-kernels`` a page gets the busy
page. The
tests run in file order: the busy page comes last, once the panel's page holds a kernel.

Skipped when Chromium, Playwright or Voilà is missing, unless the CI environment variable is
set: then their absence is a failure.
"""

from __future__ import annotations

import base64
import http.client
import http.server
import importlib.util
import os
import re
import socket
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_env import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    LOOPBACK,
    dashboard_server,
    fast_scenario,
    free_port,
    local_only,
    require_browser,
)

pytestmark = pytest.mark.browser

REPS = 6
RESULT_S = 180
MAX_KERNELS = 2  # the panel page's kernel and the pre-heated one: a third page is "busy"
EVIL = "evil.example"
SECRET = "api_key: hunter2-never-shown"  # an unknown key: a scenario error would quote it


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(the printed address, the folder the command runs in) of one `sla-sim dashboard` on a
    fast scenario for the whole module; stopped by its process group after."""
    require_browser()
    folder = tmp_path_factory.mktemp("dashboard")
    scenario = fast_scenario(folder, warmup_days=30)
    env = {**os.environ, "SLA_SIM_STORE": str(folder / "store")}
    with dashboard_server(folder, scenario, "--reps", str(REPS), "--max-kernels",
                          str(MAX_KERNELS), env=env) as (url, _proc):  # fmt: skip
        yield url, folder


@pytest.fixture(scope="module")
def browser(served: tuple[str, Path]) -> Iterator[Any]:
    """One headless Chromium for the module, in which ``evil.example`` resolves to the
    dashboard's address."""
    from playwright.sync_api import sync_playwright

    address = urlsplit(served[0]).hostname
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM),
                              args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {EVIL} {address}"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def panel_page(served: tuple[str, Path],
               browser: Any) -> Iterator[tuple[Any, list, list, list]]:  # fmt: skip
    """The panel opened at the printed address: (page, URLs it requested, page errors,
    websocket URLs it opened)."""
    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    page_errors: list[str] = []
    sockets: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    page = context.new_page()  # a context of its own: other pages can share its cookies
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.route("**/*", local_only)
    page.goto(served[0])
    yield page, requests, page_errors, sockets
    context.close()


def _response_median(svg: str) -> float:
    """The median response time quoted in the response-time chart's subtitle."""
    m = re.search(r"median ([\d.]+) h", svg)
    assert m, "no median in the response-time chart"
    return float(m.group(1))


def _stuck(page, folder: Path, what: str) -> str:  # type: ignore[no-untyped-def]
    """What a page that never reached ``what`` showed, and the server's log: the failure
    message of an intermittent hang (twice in about 50 runs of this test on 2026-12-06)."""
    status = page.locator(".sla-status").first
    shown = status.inner_text() if status.count() else "(no status line)"
    message = page.locator(".sla-message").first
    error = message.inner_text() if message.count() else ""
    log = folder / "dashboard.log"
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
    return (f"never reached {what}; status: {shown!r}; message: {error!r}; server log:\n{tail}"
            f"\nprocesses:\n{_processes()}")


def _processes() -> str:
    """pid, parent, state, kernel wait channel, CPU ticks and command of every Python process:
    which of the kernel and its workers was waiting, and on what."""
    rows = []
    for d in Path("/proc").iterdir():
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "python" not in cmd:
                continue
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            wchan = (d / "wchan").read_text()
        except OSError:
            continue
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        rows.append(f"{d.name} ppid={fields[1]} {fields[0]} {wchan or '-'} cpu={ticks}"
                    f" {cmd[:160]}")  # fmt: skip
    return "\n".join(sorted(rows)) or "(none)"


def test_dashboard_redraws_when_a_lever_moves(panel_page: tuple[Any, list, list, list],
                                              served: tuple[str, Path]) -> None:  # fmt: skip
    """Charts appear offline, the SDR slider moves by keyboard, the charts are redrawn."""
    page, requests, page_errors, _sockets = panel_page
    assert page.title() == "SLA planner"
    final = ".sla-status [data-final='1']"
    page.wait_for_selector(".sla-chart-revenue svg", timeout=RESULT_S * 1000)
    try:
        page.wait_for_selector(final, timeout=RESULT_S * 1000)
    except Exception:  # playwright's TimeoutError: say what the page showed
        pytest.fail(_stuck(page, served[1], "the final status"))
    page.wait_for_selector(".sla-chart-response svg", timeout=RESULT_S * 1000)
    page.screenshot(path=str(ARTIFACTS / "dashboard-initial.png"), full_page=True)
    status = page.locator(".sla-status span")
    assert status.get_attribute("data-reps") == str(REPS)
    before_update = status.get_attribute("data-update")
    before_capacity = page.locator(".sla-chart-capacity svg").inner_html()
    before_median = _response_median(page.locator(".sla-chart-response").inner_html())

    sdr = page.locator(".widget-slider", has=page.locator(".widget-label", has_text="SDRs"))
    assert sdr.count() == 1, "exactly one slider labelled SDRs"
    readout = sdr.locator(".widget-readout")
    start = int(readout.inner_text())
    for _ in range(3):  # a key press the page dropped (focus taken by a redraw) is re-sent
        sdr.locator(".noUi-handle").first.focus()
        for _press in range(8):
            if int(readout.inner_text()) >= start + 4:
                break
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(50)
            if page.evaluate("() => document.activeElement?.classList.contains('noUi-handle')"
                             ) is not True:  # fmt: skip
                break
        if int(readout.inner_text()) == start + 4:
            break
    assert int(readout.inner_text()) == start + 4, "the SDR slider did not take the keys"
    try:  # the status line's update counter moves on, and the new final result is drawn
        page.wait_for_function(
            """([before]) => {
                const s = document.querySelector('.sla-status span');
                const c = document.querySelector('.sla-chart-capacity svg');
                return s && c && s.dataset.final === '1' && s.dataset.update !== before[0]
                    && c.innerHTML !== before[1];
            }""",
            arg=[[before_update, before_capacity]],
            timeout=RESULT_S * 1000,
        )
    except Exception:  # playwright's TimeoutError: say what the page showed
        pytest.fail(_stuck(page, served[1], "the final status after the SDR change"))
    page.screenshot(path=str(ARTIFACTS / "dashboard-after-sdr.png"), full_page=True)
    assert int(sdr.locator(".widget-readout").inner_text()) == start + 4
    assert status.get_attribute("data-reps") == str(REPS)
    after_median = _response_median(page.locator(".sla-chart-response").inner_html())
    content = page.content()
    message = page.locator(".sla-message").inner_text()
    assert after_median < before_median, (before_median, after_median)  # more SDRs: faster
    assert message.strip() == ""
    assert "Error loading script" not in content
    assert "chart unavailable" not in content
    origin = served[0].split("?")[0]  # http://127.X.Y.Z:PORT/
    assert re.fullmatch(rf"{LOOPBACK}:\d+/", origin), origin
    outside = [u for u in requests if not u.startswith((origin, "data:", "blob:"))]
    assert not outside, f"the page asked for resources outside {origin}: {outside}"
    assert not page_errors, page_errors


def test_panel_refuses_files_outside_its_folders(panel_page: tuple[Any, list, list, list],
                                                 served: tuple[str, Path],
                                                 tmp_path_factory: pytest.TempPathFactory,
                                                 ) -> None:  # fmt: skip
    """"File" and "Save charts" outside the start folder and the run store: refused, and the
    message shows no line of the file (a scenario error would quote ``api_key``'s value);
    also through a symbolic link inside the start folder and through '..'."""
    page = panel_page[0]
    folder = served[1]
    outside = tmp_path_factory.mktemp("outside")
    secret = outside / "secrets.yaml"
    secret.write_text(SECRET + "\n")
    (folder / "link.yaml").symlink_to(secret)
    up = os.path.relpath(secret, folder)  # ../outside0/secrets.yaml
    page.wait_for_selector(".sla-message", state="attached", timeout=RESULT_S * 1000)
    file_box = page.locator(".widget-text", has=page.locator(".widget-label", has_text="File"))
    message = page.locator(".sla-message")
    for typed in (str(secret), "link.yaml", up):
        file_box.locator("input").fill(typed)
        page.get_by_role("button", name="Load file").click()
        page.wait_for_function("t => document.querySelector('.sla-message').innerText"
                               ".includes(t)", arg=typed, timeout=30_000)  # fmt: skip
        shown = message.inner_text()
        assert "must be inside the folders this dashboard may read or write" in shown, shown
        assert "hunter2" not in shown
        assert "hunter2" not in page.content()
    target = outside / "charts"
    page.locator(".sla-save-folder input").fill(str(target))
    page.get_by_role("button", name="Save charts").click()
    page.wait_for_function("t => document.querySelector('.sla-message').innerText.includes(t)",
                           arg=str(target), timeout=30_000)  # fmt: skip
    assert "must be inside the folders" in message.inner_text()
    assert sorted(p.name for p in outside.iterdir()) == ["secrets.yaml"]  # nothing written


def _log(folder: Path) -> str:
    return (folder / "dashboard.log").read_text(errors="replace")


def test_a_page_through_a_foreign_host_name_gets_no_panel_and_no_kernel(
        served: tuple[str, Path], browser: Any) -> None:  # fmt: skip
    """DNS rebinding: a page at http://evil.example:PORT/ that reaches this server (even with
    the token) gets 403 and opens no websocket; the server logs the refusal and hands out no
    kernel."""
    url, folder = served
    port = urlsplit(url).port
    evil = f"http://{EVIL}:{port}"
    origin = f"http://{urlsplit(url).hostname}:{port}"
    kernels_before = _log(folder).count("Using pre-heated kernel")
    context = browser.new_context()
    try:
        page = context.new_page()
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(evil)
                   else r.abort())  # fmt: skip
        response = page.goto(url.replace(origin, evil))
        assert response is not None
        assert response.status == 403
        assert "answers only requests addressed to" in page.content()
        page.wait_for_timeout(1000)  # time for any script to open a kernel's websocket
        assert page.locator(".sla-status").count() == 0
        assert page.locator(".jupyter-widgets").count() == 0
        assert sockets == []
    finally:
        context.close()
    log = _log(folder)
    assert f"refused a request for Host '{EVIL}:{port}'" in log
    assert log.count("Using pre-heated kernel") == kernels_before


def test_without_the_token_there_is_no_panel(served: tuple[str, Path], browser: Any) -> None:
    """The address without its token, or with a wrong one, leads to the login form: no panel,
    no websocket."""
    url, _folder = served
    bare = url.split("?")[0]
    context = browser.new_context()
    try:
        for address in (bare, f"{bare}?token=not-the-token"):
            page = context.new_page()
            sockets: list[str] = []
            page.on("websocket", lambda ws, s=sockets: s.append(ws.url))
            page.route("**/*", local_only)
            page.goto(address)
            assert "/login" in page.url
            page.wait_for_timeout(1000)
            assert page.locator(".sla-status").count() == 0
            assert page.locator(".jupyter-widgets").count() == 0
            assert sockets == []
            page.close()
    finally:
        context.close()


def _get(url: str, host: str | None = None) -> tuple[int, str, Any]:
    """(status, body, headers) of a GET, redirects not followed, errors returned."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=RESULT_S) as r:
            return r.status, r.read().decode(errors="replace"), r.headers
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace"), err.headers


def test_a_request_with_a_foreign_host_header_is_refused(served: tuple[str, Path]) -> None:
    """``Host: evil.example:PORT``, a local name with another port, and the loopback names
    other than the dashboard's own address (``127.0.0.1``, ``localhost``, ``[::1]``) get 403
    on every path, even with the token; the dashboard's address with its port gets through."""
    url, _folder = served
    parts = urlsplit(url)
    port = parts.port
    own = parts.netloc  # 127.X.Y.Z:PORT
    for path in (f"/?{parts.query}", "/voila/static/", "/login", "/api/kernels"):
        for host in (f"{EVIL}:{port}", EVIL, f"{parts.hostname}:{port + 1}",
                     f"localhost.{EVIL}:{port}", f"127.0.0.1:{port}", f"localhost:{port}",
                     f"[::1]:{port}"):  # fmt: skip
            status, body, _ = _get(f"http://{own}{path}", host)
            assert status == 403, (path, host, status)
            assert f"answers only requests addressed to {parts.hostname} with its port" in body
    status, body, _ = _get(f"http://{own}/login", own)
    assert status == 200, (own, status)


def _handshake(address: str, port: int, path: str, origin: str, cookie: str) -> int:
    """The status of a websocket opening handshake for ``path`` sent with ``origin`` to the
    dashboard at ``address:port``."""
    conn = http.client.HTTPConnection(address, port, timeout=30)
    try:
        conn.request("GET", path, headers={
            "Host": f"{address}:{port}", "Origin": origin, "Cookie": cookie,
            "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()})  # fmt: skip
        return conn.getresponse().status
    finally:
        conn.close()


def test_a_kernel_websocket_from_a_foreign_origin_is_refused(
        served: tuple[str, Path], panel_page: tuple[Any, list, list, list]) -> None:  # fmt: skip
    """Jupyter's Origin check is kept: the panel's kernel websocket, asked for with the
    browser's login cookie (what a foreign page's request would carry) but from another
    origin, gets 403; from the dashboard's own origin it opens. (A request carrying the token
    itself skips the check in Jupyter: the token is the secret.)"""
    _url, folder = served
    page, _requests, _errors, sockets = panel_page
    page.wait_for_selector(".sla-status", state="attached", timeout=RESULT_S * 1000)
    channels = [u for u in sockets if "/api/kernels/" in u and "/channels" in u]
    assert channels, sockets
    parts = urlsplit(channels[0])
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    port = parts.port
    address = parts.hostname
    assert _handshake(address, port, parts.path, f"http://{EVIL}:{port}", cookie) == 403
    assert "Blocking Cross Origin WebSocket Attempt" in _log(folder)
    # a page of another local server (on 127.0.0.1, with the dashboard's port): refused too
    assert _handshake(address, port, parts.path, f"http://127.0.0.1:{port}", cookie) == 403
    own = f"http://{address}:{port}"
    assert _handshake(address, port, parts.path, own, cookie) == 101
    assert _handshake(address, port, parts.path, own, "") == 403  # no login


class _CookieRecorder(http.server.BaseHTTPRequestHandler):
    """A local web server's page that notes the Cookie header of every request it gets."""

    seen: list[str | None]

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Cookie"))
        body = b"<!DOCTYPE html><title>another local server</title><p>hello"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_the_login_cookie_goes_to_no_other_local_server(
        served: tuple[str, Path], panel_page: tuple[Any, list, list, list]) -> None:  # fmt: skip
    """Browsers keep cookies apart by host, not port: a dashboard on 127.0.0.1 had its login
    cookie (``username-127-0-0-1-PORT``) sent to every server on 127.0.0.1 the same browser
    visited, which could then use it. The dashboard is now on an address of its own: two other
    local servers (one on 127.0.0.1, one on the address next to the dashboard's), visited in
    the browser context that holds the login cookie, get no cookie at all."""
    url, _folder = served
    page = panel_page[0]
    page.wait_for_selector(".sla-status", state="attached", timeout=RESULT_S * 1000)
    parts = urlsplit(url)
    address = parts.hostname
    assert address is not None
    cookies = page.context.cookies()
    assert any(c["name"] == f"username-{address.replace('.', '-')}-{parts.port}"
               and c["domain"] == address for c in cookies), cookies  # fmt: skip
    head, last = address.rsplit(".", 1)
    neighbour = f"{head}.{int(last) + 1 if int(last) < 254 else int(last) - 1}"
    seen: list[str | None] = []
    handler = type("Recorder", (_CookieRecorder,), {"seen": seen})
    servers = [http.server.ThreadingHTTPServer((a, 0), handler) for a in ("127.0.0.1", neighbour)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    other = page.context.new_page()
    try:
        other.route("**/*", local_only)
        for s in servers:
            host, port = s.server_address[:2]
            response = other.goto(f"http://{host}:{port}/?visit=1")
            assert response is not None
            assert response.status == 200
        assert len(seen) >= len(servers), seen
        assert seen == [None] * len(seen), seen  # no Cookie header at all
    finally:
        other.close()
        for s in servers:
            s.shutdown()
            s.server_close()
    login = next(c for c in cookies if c["name"].startswith("username-"))
    assert login["expires"] == -1, login  # a session cookie: gone when the browser closes
    assert login["httpOnly"] is True
    assert login["sameSite"] == "Strict"


def test_pages_beyond_the_kernel_cap_get_the_busy_page(
        served: tuple[str, Path], panel_page: tuple[Any, list, list, list]) -> None:  # fmt: skip
    """With --max-kernels 2 and the panel's page holding one kernel, page loads (with the
    token) get a kernel until two are alive, then 503 and the busy page naming the flag.
    Runs last in this module: it leaves the server at its cap."""
    url, _folder = served
    panel_page[0].wait_for_selector(".sla-status", state="attached", timeout=RESULT_S * 1000)
    statuses = []
    for _ in range(MAX_KERNELS + 1):
        status, body, headers = _get(url)
        statuses.append(status)
        if status == 503:
            break
    assert statuses[-1] == 503, statuses
    assert statuses.count(200) <= MAX_KERNELS - 1, statuses  # the panel's page holds one
    assert "The SLA planner is busy" in body
    assert f"--max-kernels {MAX_KERNELS}" in body
    assert headers["Retry-After"]


# ---------------------------------------------------------------------- without a browser
def test_generated_notebook_only_creates_and_shows_the_panel(tmp_path: Path) -> None:
    """The served notebook imports PlannerPanel with the options given and displays it."""
    from sla_sim.planner.dashboard import notebook

    nb = notebook(preset="smb_inbound", reps=7, workdir=tmp_path, workers=3)
    code = "\n".join(c["source"] for c in nb["cells"])
    assert "from sla_sim.planner.panel import PlannerPanel" in code
    assert "PlannerPanel(preset='smb_inbound', reps=7, workers=3, allowed_folders=[" in code
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
    """Voilà is started without a browser, on the loopback address chosen (127.0.0.1 unless
    given), on exactly the port asked for."""
    from sla_sim.planner.dashboard import voila_command

    assert "--Voila.ip=127.31.4.159" in voila_command("x.ipynb", 8999, host="127.31.4.159")
    cmd = voila_command("x.ipynb", 8999)
    assert cmd[:3] == [sys.executable, "-m", "sla_sim.planner.server"]  # Voilà with its guards
    assert "--DashboardKernelManager.max_kernels=4" in cmd
    assert "--DashboardKernelManager.max_kernels=9" in voila_command("x.ipynb", 1, max_kernels=9)
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

    assert main(["dashboard", "--port", "0", "--reps", "0", "--workers", "0",
                 "--max-kernels", "0"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "--max-kernels" in err
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
        if importlib.util.find_spec("voila") is not None:  # (its own address is free)
            assert main(["dashboard", "--port", str(port), "--host", "127.0.0.1"]) == 1
            assert f"cannot listen on 127.0.0.1 port {port}" in capsys.readouterr().err
    monkeypatch.setattr(dashboard.importlib.util, "find_spec", lambda name: None)
    assert main(["dashboard", "--port", str(free_port())]) == 1
    err = capsys.readouterr().err
    assert "Voilà" in err
    assert "pip install" in err
