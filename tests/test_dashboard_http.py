"""The real `sla-sim dashboard` attacked with raw HTTP, no browser (docs/security.md).

One server for the module (``--max-kernels 2``, one worker, a fast scenario), started by the
command as a user would and stopped by its process group after. Requests are written byte for
byte on a socket, so the Host header can be missing, doubled, in absolute form or spelt in
ways a browser would not send, and requests come as another user of the machine would make
them: with what ``ps`` shows (a kernel's id is on its command line), without the token.

- the server listens on a loopback address of its own (a random ``127.X.Y.Z``, not 127.0.0.1),
  so the browser sends its login cookie to no other server;
- Host: every name but that address with the port is refused: ``localhost``, ``127.0.0.1``,
  ``[::1]`` and other loopback addresses (whose cookies other servers get), a trailing dot,
  ``127.0.0.1.nip.io``, other spellings of 127.0.0.1, a missing or doubled Host, an
  absolute-form request line naming a foreign host;
- the Jupyter APIs a server usually has (kernels started, contents written or read,
  terminals, sessions) are not served, even with the token; Voilà's file and static routes
  give nothing outside their folders;
- a kernel's websocket and its shutdown refuse a request without the token, and a foreign
  Origin, and the kernel survives;
- Voilà's request-info socket (``/voila/query/<kernel id>``, no login) is not served: it used
  to hand the page request's query string, with the token, to anyone who read a kernel's id
  in ``ps``;
- the login cookie sent from a foreign or ``null`` Origin opens no kernel websocket and shuts
  no kernel down (no ``_xsrf``);
- with the token, a kernel's websocket still runs no code (``execute_request`` is dropped);
- the server listens on that address only.

Skipped when Voilà is missing, unless on CI.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_env import dashboard_server, fast_scenario
from ci_env import require
from proc_util import descendants

KERNEL_ID = re.compile(rb"kernel-([0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})\.json")
REFUSED = b"403 Forbidden: this dashboard answers only requests addressed to"
TIMEOUT_S = 120
#: The address the dashboard on each port printed (``127.X.Y.Z``), filled by ``served``.
ADDRESS: dict[int, str] = {}


def _here(port: int) -> str:
    """``address:port`` of the dashboard on ``port``: the Host a browser at its address sends."""
    return f"{ADDRESS[port]}:{port}"


def _neighbour(address: str) -> str:
    """Another loopback address, next to ``address`` (its last number one up or down)."""
    head, last = address.rsplit(".", 1)
    return f"{head}.{int(last) + 1 if int(last) < 254 else int(last) - 1}"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str, Path, int]]:
    """(port, token, the folder the command runs in, the command's pid) of one dashboard
    (three kernels: a page's, the pre-heated one, and one started for a page that did not
    take it)."""
    require("voila", "the dashboard needs it: pip install -e .[notebook]")
    folder = tmp_path_factory.mktemp("dash_http")
    scenario = fast_scenario(folder, warmup_days=10)
    env = {**os.environ, "SLA_SIM_STORE": str(folder / "store")}
    # kernels of pages that never connect are kept (--cull-after) while the module runs
    with dashboard_server(folder, scenario, "--reps", "2", "--workers", "1", "--max-kernels",
                          "3", "--cull-after", "900", env=env) as (url, proc):  # fmt: skip
        parts = urlsplit(url)
        assert parts.port is not None
        assert parts.hostname is not None
        ADDRESS[parts.port] = parts.hostname
        yield parts.port, parts.query.removeprefix("token="), folder, proc.pid


def _raw(port: int, request: bytes, wait_s: float = TIMEOUT_S, most: int = 200_000) -> bytes:
    """Send ``request`` as is on a new connection; what the server answered until it closed,
    ``most`` bytes came, or nothing came for ``wait_s`` seconds."""
    data = b""
    with socket.create_connection((ADDRESS[port], port), timeout=wait_s) as s:
        s.sendall(request)
        try:
            while len(data) < most and (chunk := s.recv(65536)):
                data += chunk
        except TimeoutError:
            pass
    return data


def _status(answer: bytes) -> int:
    return int(answer.split(b"\r\n", 1)[0].split()[1]) if answer.startswith(b"HTTP/") else 0


def _get(port: int, path: str, host: str | None, version: str = "1.1",
         extra: str = "") -> bytes:  # fmt: skip
    head = f"GET {path} HTTP/{version}\r\n"
    if host is not None:
        head += f"Host: {host}\r\n"
    return _raw(port, f"{head}{extra}Connection: close\r\n\r\n".encode())


def _kernel_ids(pid: int) -> set[str]:
    """The ids of the dashboard's kernels, read from their command lines as any user can."""
    ids = set()
    for child in descendants(pid):
        try:
            cmd = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        ids.update(m.decode() for m in KERNEL_ID.findall(cmd))
    return ids


@pytest.mark.parametrize("host", [
    "evil.example:{port}", "evil.example", "localhost.evil.example:{port}",
    "127.0.0.1.nip.io:{port}", "localhost.:{port}", "127.0.0.1.:{port}", "127.0.0.1:{other}",
    "127.0.0.1", "localhost", "127.1:{port}", "0x7f000001:{port}", "2130706433:{port}",
    "[::ffff:127.0.0.1]:{port}", "[0:0:0:0:0:0:0:1]:{port}", "localhost:0{port}",
    "{ip}.:{port}", "{ip}:{other}", "{ip}", "{ip}.nip.io:{port}",
])  # fmt: skip
def test_foreign_or_odd_host_names_are_refused_even_with_the_token(
        served: tuple[int, str, Path, int], host: str) -> None:  # fmt: skip
    port, token, _folder, _pid = served
    name = host.format(port=port, other=port + 1, ip=ADDRESS[port])
    for path in (f"/?token={token}", "/login", "/voila/static/"):
        answer = _get(port, path, name)
        assert _status(answer) == 403, (name, path, answer[:200])
        assert REFUSED in answer


def test_missing_doubled_and_absolute_form_hosts_are_refused(
        served: tuple[int, str, Path, int]) -> None:  # fmt: skip
    """No Host (HTTP/1.0 allows it, 1.1 does not), two Host headers, and a request line in
    absolute form: none reaches a page."""
    port, token, _folder, _pid = served
    assert _status(_get(port, "/login", None, "1.0")) == 403
    assert _status(_get(port, "/login", None)) == 400
    ours = _here(port)
    for first, second in ((ours, "evil.example"), ("evil.example", ours)):
        answer = _get(port, "/login", first, extra=f"Host: {second}\r\n")
        assert _status(answer) in (400, 403), answer[:200]
    answer = _get(port, f"http://{ours}/login", "evil.example")
    assert _status(answer) == 403
    # the request line's host is not the one checked, but neither does it reach a page
    answer = _get(port, f"http://evil.example:{port}/?token={token}", ours)
    assert _status(answer) == 404
    assert _status(_get(port, "/login", ours)) == 200


def test_only_its_own_loopback_address_is_answered(
        served: tuple[int, str, Path, int]) -> None:  # fmt: skip
    """The dashboard is at an address of its own, 127.X.Y.Z but not 127.0.0.1, and a request
    naming any other loopback name (``localhost``, ``127.0.0.1``, ``[::1]``, another
    127.X.Y.Z) with its port is refused even with the token: a page there would get a login
    cookie the browser also sends to other servers at that name. Its own address, in any
    case, gets the page."""
    port, token, _folder, _pid = served
    ip = ADDRESS[port]
    assert ip.startswith("127.")
    assert ip != "127.0.0.1", "the dashboard listens on the 127.0.0.1 every server shares"
    for name in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}",
                 f"{_neighbour(ip)}:{port}", f"127.0.0.2:{port}"):  # fmt: skip
        for path in (f"/?token={token}", "/login", "/voila/static/"):
            answer = _get(port, path, name)
            assert _status(answer) == 403, (name, path, answer[:200])
            assert f"addressed to {ip} with its port".encode() in answer, answer[:300]
    assert _status(_get(port, "/login", _here(port))) == 200
    assert _status(_get(port, "/login", _here(port).upper())) == 200  # digits: same name


def test_jupyter_apis_are_not_served_even_with_the_token(
        served: tuple[int, str, Path, int]) -> None:  # fmt: skip
    """Starting kernels or terminals, writing or reading files through the contents API: not
    there (405 or a login page with the token, 403 without); nothing is written."""
    port, token, folder, _pid = served
    body = b'{"type": "file", "format": "text", "content": "written by a request"}'
    for method, path in (("POST", "/api/kernels"), ("PUT", "/api/contents/pwned.txt"),
                         ("POST", "/api/contents"), ("PATCH", "/api/contents/fast.yaml"),
                         ("POST", "/api/terminals"), ("POST", "/api/sessions"),
                         ("PUT", "/api/contents/..%2f..%2fpwned.txt")):  # fmt: skip
        with_token = f"Authorization: token {token}\r\n"
        for auth in ("", with_token, f"{with_token}Origin: http://evil.example\r\n"):
            answer = _raw(port, (f"{method} {path} HTTP/1.1\r\nHost: {_here(port)}\r\n{auth}"
                                 f"Content-Type: application/json\r\nContent-Length: {len(body)}"
                                 "\r\nConnection: close\r\n\r\n").encode() + body)  # fmt: skip
            assert _status(answer) in (403, 404, 405), (method, path, auth, answer[:300])
    assert not list(folder.rglob("pwned*"))
    assert not list(folder.parent.glob("pwned*"))
    secret = Path("/etc/hostname").read_bytes().strip() or b"\0never"
    up = "../../../../.."
    paths = ["/api/contents/etc/hostname", "/files/etc/hostname",
             "/voila/files/%2e%2e/%2e%2e/etc/hostname", "/voila/files/sla_planner.ipynb",
             "/voila/tree", "/voila/api/contents"]  # fmt: skip
    for route in ("files", "static", "templates/lab/static", "labextensions", "api/themes"):
        paths.append(f"/voila/{route}/{up}/etc/hostname")
    for path in paths:
        answer = _get(port, path, _here(port),
                      extra=f"Authorization: token {token}\r\n")  # fmt: skip
        assert _status(answer) in (302, 403, 404, 500), (path, answer[:300])
        assert secret not in answer.split(b"\r\n\r\n", 1)[-1], path


def _ws_handshake(port: int, path: str, headers: str = "") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET {path} HTTP/1.1\r\nHost: {_here(port)}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
               f"Sec-WebSocket-Key: {key}\r\n{headers}\r\n")  # fmt: skip
    return _raw(port, request.encode(), wait_s=5)


@pytest.fixture(scope="module")
def opened(served: tuple[int, str, Path, int]) -> tuple[set[str], str, list[str]]:
    """A page opened with the token (it takes the pre-heated kernel): the ids of the kernels
    alive then, read from their command lines as any user of the machine can, the login
    cookie the answer set (what the browser sends with every later request), and the answer's
    ``Set-Cookie`` headers as sent."""
    port, token, _folder, pid = served
    answer = _get(port, f"/?token={token}", _here(port))
    assert _status(answer) == 200, answer[:300]
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin1")
    set_cookies = [line.split(":", 1)[1].strip() for line in head.split("\r\n")
                   if line.lower().startswith("set-cookie:")]  # fmt: skip
    cookies = [line.split(";", 1)[0].strip() for line in set_cookies]
    assert cookies, head
    deadline = time.monotonic() + TIMEOUT_S
    while not (ids := _kernel_ids(pid)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert ids, "no kernel process found"
    return ids, "; ".join(cookies), set_cookies


@pytest.fixture(scope="module")
def page_kernels(opened: tuple[set[str], str, list[str]]) -> set[str]:
    return opened[0]


def test_the_login_cookie_is_for_this_address_and_this_session_only(
        served: tuple[int, str, Path, int],
        opened: tuple[set[str], str, list[str]]) -> None:  # fmt: skip
    """The login cookie is named after the dashboard's own address (the browser keeps it to
    that host), HttpOnly, ``SameSite=Strict``, and has no expiry date: the browser drops it
    when it closes (tornado's default kept it 30 days); so does the ``_xsrf`` cookie."""
    port, _token, _folder, _pid = served
    _ids, _cookie, set_cookies = opened
    name = f"username-{ADDRESS[port].replace('.', '-')}-{port}="
    login = [c for c in set_cookies if c.startswith(name)]
    assert len(login) == 1, set_cookies
    head = _get(port, "/login", _here(port)).split(b"\r\n\r\n", 1)[0].decode("latin1")
    xsrf = [line.split(":", 1)[1].strip() for line in head.split("\r\n")
            if line.lower().startswith("set-cookie: _xsrf=")]  # fmt: skip
    assert len(xsrf) == 1, head  # the login form's
    for cookie in [*set_cookies, *xsrf]:
        attributes = {a.strip().split("=", 1)[0].lower(): a.strip().partition("=")[2]
                      for a in cookie.split(";")[1:]}  # fmt: skip
        assert "expires" not in attributes, cookie
        assert "max-age" not in attributes, cookie
        assert attributes.get("samesite") == "Strict", cookie
    assert "httponly" in login[0].lower()


def test_the_request_info_socket_does_not_hand_out_the_token(
        served: tuple[int, str, Path, int], page_kernels: set[str]) -> None:  # fmt: skip
    """Another user of the machine reads a kernel's id with ``ps`` and asks Voilà's request-info
    socket for it, without a login: no socket, and the token is not in the answer."""
    port, token, _folder, _pid = served
    for kernel_id in page_kernels:
        answer = _ws_handshake(port, f"/voila/query/{kernel_id}")
        assert _status(answer) != 101, answer[:300]
        assert token.encode() not in answer


def test_a_kernel_refuses_requests_without_the_token(
        served: tuple[int, str, Path, int], page_kernels: set[str]) -> None:  # fmt: skip
    """With a kernel's id from ``ps`` but no token: its websocket (any Origin), its details
    and its shutdown (Voilà's and Jupyter's, with or without a foreign Origin) are refused,
    and the kernel is still alive afterwards."""
    port, _token, _folder, pid = served
    ids = page_kernels
    for kernel_id in ids:
        own = f"Origin: http://{_here(port)}\r\n"
        for origin in ("", own, "Origin: http://evil.example\r\n"):
            answer = _ws_handshake(port, f"/api/kernels/{kernel_id}/channels", origin)
            assert _status(answer) == 403, answer[:300]
        answer = _get(port, f"/api/kernels/{kernel_id}", _here(port))
        assert _status(answer) in (302, 403), answer[:300]
        assert kernel_id.encode() not in answer.split(b"\r\n\r\n", 1)[-1]
        for method, path in (("DELETE", f"/api/kernels/{kernel_id}"),
                             ("POST", f"/voila/api/shutdown/{kernel_id}")):  # fmt: skip
            for origin in ("", "Origin: http://evil.example\r\n"):
                answer = _raw(port, (f"{method} {path} HTTP/1.1\r\nHost: {_here(port)}\r\n"
                                     f"{origin}Content-Length: 0\r\nConnection: close\r\n\r\n"
                                     ).encode())  # fmt: skip
                # 403, or 404 from Jupyter's Origin check of its APIs
                assert _status(answer) in (403, 404), (method, origin, answer[:300])
    assert ids <= _kernel_ids(pid)


def test_the_kernel_websocket_runs_no_code_even_with_the_token(
        served: tuple[int, str, Path, int], page_kernels: set[str],
        tmp_path: Path) -> None:  # fmt: skip
    """Over a kernel's websocket, with the token, Voilà passes widget messages only: a
    ``kernel_info_request`` is answered, an ``execute_request`` is dropped (the code, which
    would create a file, never runs)."""
    import asyncio
    import json
    import uuid

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    port, token, _folder, _pid = served
    kernel_id = sorted(page_kernels)[0]
    marker = tmp_path / "ran"

    def message(msg_type: str, content: dict[str, object]) -> str:
        header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "test",
                  "session": uuid.uuid4().hex, "date": "", "version": "5.3"}  # fmt: skip
        return json.dumps({"header": header, "parent_header": {}, "metadata": {},
                           "content": content, "channel": "shell", "buffers": []})  # fmt: skip

    async def talk() -> list[str]:
        request = HTTPRequest(f"ws://{_here(port)}/api/kernels/{kernel_id}/channels",
                              headers={"Authorization": f"token {token}"})  # fmt: skip
        ws = await websocket_connect(request)
        code = f"open({str(marker)!r}, 'w').write('x')"
        ws.write_message(message("execute_request", {
            "code": code, "silent": False, "store_history": False, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": True}))  # fmt: skip
        ws.write_message(message("kernel_info_request", {}))
        seen: list[str] = []
        deadline = asyncio.get_running_loop().time() + TIMEOUT_S
        while "kernel_info_reply" not in seen:
            left = deadline - asyncio.get_running_loop().time()
            raw = await asyncio.wait_for(ws.read_message(), max(left, 0.1))
            assert raw is not None, "the websocket closed"
            seen.append(json.loads(raw)["header"]["msg_type"])
        await asyncio.sleep(3)  # an execute_request that got through would have run by now
        ws.close()
        return seen

    seen = asyncio.run(talk())
    assert "execute_reply" not in seen
    assert not marker.exists()


def test_the_server_listens_on_loopback_only(served: tuple[int, str, Path, int]) -> None:
    """Every listening socket on the dashboard's port is bound to its own loopback address
    (read from /proc/net, as the kernel sees it): nothing on 0.0.0.0, 127.0.0.1 or an IPv6
    address."""
    port, _token, _folder, _pid = served
    bound = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                bound.append(address)
    own = socket.inet_aton(ADDRESS[port])[::-1].hex().upper()  # /proc/net: little-endian
    assert bound == [own], bound


def test_the_login_cookie_from_a_foreign_page_opens_nothing(
        served: tuple[int, str, Path, int],
        opened: tuple[set[str], str, list[str]]) -> None:  # fmt: skip
    """What a page of another site (or a sandboxed one, Origin ``null``) can make the browser
    send: the login cookie with its own Origin. The kernel's websocket refuses it (from the
    dashboard's own origin it opens), and a kernel's shutdown without the ``_xsrf`` token
    Jupyter puts in the page is refused; the kernel stays."""
    port, _token, _folder, pid = served
    ids, cookie, _set = opened
    kernel_id = sorted(ids)[0]
    path = f"/api/kernels/{kernel_id}/channels"
    for origin in ("http://evil.example", f"http://evil.example:{port}", "null",
                   f"http://localhost.evil.example:{port}", f"http://127.0.0.1:{port + 1}",
                   f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
        answer = _ws_handshake(port, path, f"Origin: {origin}\r\nCookie: {cookie}\r\n")
        assert _status(answer) == 403, (origin, answer[:300])
    answer = _ws_handshake(port, path, f"Origin: http://{_here(port)}\r\nCookie: {cookie}\r\n")
    assert _status(answer) == 101, answer[:300]
    for method, target in (("DELETE", f"/api/kernels/{kernel_id}"),
                           ("POST", f"/voila/api/shutdown/{kernel_id}")):  # fmt: skip
        for origin in ("", "Origin: http://evil.example\r\n", "Origin: null\r\n"):
            answer = _raw(port, (f"{method} {target} HTTP/1.1\r\nHost: {_here(port)}\r\n"
                                 f"{origin}Cookie: {cookie}\r\nContent-Length: 0\r\n"
                                 "Connection: close\r\n\r\n").encode())  # fmt: skip
            assert _status(answer) in (403, 404), (method, origin, answer[:300])
    assert kernel_id in _kernel_ids(pid)


def test_no_process_of_the_dashboard_holds_the_token_in_its_environment(
        served: tuple[int, str, Path, int],
        opened: tuple[set[str], str, list[str]]) -> None:  # fmt: skip
    """A page that does not take the pre-heated kernel (here ``&theme=dark``) gets a kernel
    started for it with the page request in its environment (``QUERY_STRING``,
    ``VOILA_REQUEST_URL``): the token used to be there, for its worker processes too. Now no
    process the server starts (kernels, their workers) has the token in its environment or
    on its command line."""
    port, token, _folder, pid = served
    before = _kernel_ids(pid)
    answer = _get(port, f"/?theme=dark&token={token}", _here(port))
    assert _status(answer) == 200, answer[:300]
    deadline = time.monotonic() + TIMEOUT_S
    while not (_kernel_ids(pid) - before) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _kernel_ids(pid) - before, "no kernel was started for the page"
    # the server's own /proc/PID/environ keeps the block it was started with (the token is
    # removed from its environment, not from that block: docs/security.md, "What it does not
    # protect against"); every process it starts gets the environment without the token
    servers = [c for c in descendants(pid)
               if b"sla_sim.planner.server" in Path(f"/proc/{c}/cmdline").read_bytes()]
    assert len(servers) == 1, servers
    checked = 0
    for child in descendants(servers[0]):
        try:
            environ = Path(f"/proc/{child}/environ").read_bytes()
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        assert token.encode() not in environ, cmdline
        assert token.encode() not in cmdline
        checked += 1
    assert checked >= 3  # the kernels, and their workers


def test_a_huge_request_body_is_refused_before_it_is_read(
        served: tuple[int, str, Path, int]) -> None:  # fmt: skip
    """Without the token, a local process announcing a 100 MB body (tornado's default limit,
    buffered before any handler runs) is answered at once; the server does not wait to hold
    it. (Sent: the headers only.)"""
    port, _token, _folder, _pid = served
    for host in (_here(port), "evil.example"):
        start = time.monotonic()
        answer = _raw(port, (f"POST /login HTTP/1.1\r\nHost: {host}\r\nContent-Length:"
                             f" {100 * 2**20 - 1}\r\nContent-Type: application/x-www-form-"
                             "urlencoded\r\n\r\n").encode(), wait_s=10)  # fmt: skip
        assert time.monotonic() - start < 8, "the server waited for the body"
        assert _status(answer) in (0, 400, 413), answer[:300]
