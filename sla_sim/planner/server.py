"""The Voilà server of ``sla-sim dashboard``: it answers only requests addressed to the address
it listens on, shows the panel only to a browser holding the start's token, and answers "busy"
rather than start more kernels than allowed.

- **Host allow-list.** A request whose ``Host`` header is not the address the server listens
  on (``--Voila.ip``, a random ``127.X.Y.Z`` of this start: :func:`host_allowed`) with its
  port gets 403 before any handler runs: no page, no kernel, no websocket. This stops DNS
  rebinding (a site whose name is made to resolve to a loopback address sends its own name as
  the Host), and keeps the login cookie to that one address: a page at ``localhost`` or
  ``127.0.0.1`` would get a cookie the browser sends to every server there. Only on
  127.0.0.1 itself (no address of its own, or ``--host 127.0.0.1``) are ``localhost`` and
  ``[::1]`` accepted as well, as they always were. Voilà itself switches Jupyter's own Host
  check off.
- **Session cookies.** The login cookie and the ``_xsrf`` cookie have no expiry date (the
  browser drops them when it closes; tornado's default keeps them 30 days) and are
  ``SameSite=Strict``. They are signed with a secret Voilà makes at each start, so a cookie
  of an earlier start opens nothing.
- **Token.** The page (and every kernel request) needs the random token that
  :func:`sla_sim.planner.dashboard.serve` made for this start and printed in the address
  (Jupyter's token login: the first request carries ``?token=``, later ones a cookie).
  The token reaches this process in the environment variable
  :data:`~sla_sim.planner.dashboard.TOKEN_ENV` (not the command line, which other users of the
  machine can read), which is removed before any kernel starts; once a page request is logged
  in, its ``token`` is dropped from the query Voilà hands to the page's kernel
  (:func:`drop_token`).
- **Small bodies.** A request body over :data:`MAX_BODY_BYTES` is refused before it is read
  (tornado's default buffers 100 MB per connection, before any handler).
- **Busy page.** When ``max_kernels`` kernels are alive
  (:class:`sla_sim.planner.kernels.DashboardKernelManager`), a page gets HTTP 503 with a page
  saying so and what to do, instead of a kernel.

- **No unauthenticated request-info socket.** Voilà serves ``/voila/query/<kernel id>``, a
  websocket without any login on which a pre-heated kernel may wait for the request that took
  it (``voila.utils.wait_for_request``); the server sends it that page request's query
  string, which holds the token. A kernel's id is on its command line (its connection file's
  name), which every user of the machine can read with ``ps``, so another user could read the
  token there. The generated notebook never waits for a request: this server drops the route
  (such a request reaches the page handler, which asks for the login) and keeps no request
  info (:func:`forget_request_info`).

The websocket Origin check of Jupyter server is kept. Run as ``python -m
sla_sim.planner.server [Voilà options] NOTEBOOK`` (what
:func:`sla_sim.planner.dashboard.voila_command` builds); imported only by that process.
"""

from __future__ import annotations

import os
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode

import tornado.web
from tornado.httputil import HTTPServerRequest
from tornado.log import app_log
from tornado.routing import Matcher
from voila.app import Voila
from voila.request_info_handler import RequestInfoSocketHandler
from voila.tornado.handler import TornadoVoilaHandler

from sla_sim.planner.dashboard import SHARED_HOST, TOKEN_ENV
from sla_sim.planner.kernels import KernelCapError

__all__ = ["COOKIE_OPTIONS", "LOCAL_NAMES", "DashboardVoila", "allowed_names", "busy_page",
           "drop_token", "forget_request_info", "host_allowed", "main"]

#: The names a browser may use for a dashboard on 127.0.0.1 (with its port).
LOCAL_NAMES = ("localhost", SHARED_HOST, "[::1]")
#: Options of the login and ``_xsrf`` cookies: no expiry date (a session cookie), and never
#: sent with a request another site starts.
COOKIE_OPTIONS: dict[str, Any] = {"expires_days": None, "samesite": "Strict"}
#: Largest request body the server reads (a page, a login, a kernel's shutdown need a few
#: bytes; widget messages go over the websocket).
MAX_BODY_BYTES = 1 << 20
#: Seconds a busy page asks the browser to wait before trying again.
RETRY_AFTER_S = 30


def allowed_names(ip: str) -> tuple[str, ...]:
    """The host names a request may address a server listening on ``ip`` by: that address
    alone, or :data:`LOCAL_NAMES` for 127.0.0.1 (whose cookies every server there gets
    anyway)."""
    return LOCAL_NAMES if ip == SHARED_HOST else (ip,)


def host_allowed(host: str, port: int, ip: str = SHARED_HOST) -> bool:
    """Whether a request's ``Host`` header names the address this server listens on (``ip``)
    and its port: one of :func:`allowed_names` followed by ``:port`` (the port may be left out
    only when it is 80, as browsers do). Case does not matter; anything else is refused."""
    names = {f"{n}:{port}" for n in allowed_names(ip)}
    if port == 80:
        names.update(allowed_names(ip))
    return host.strip().lower() in names


def busy_page(max_kernels: int, cull_after_s: float) -> str:
    """The HTML of the answer to a page opened while ``max_kernels`` kernels are alive."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>SLA planner: busy</title>"
        "</head><body style='font-family:sans-serif;max-width:640px;margin:40px auto'>"
        "<h1 class='sla-busy'>The SLA planner is busy</h1>"
        f"<p>{max_kernels} planner kernel{'s are' if max_kernels != 1 else ' is'} running, the"
        f" most this dashboard allows (<code>sla-sim dashboard --max-kernels"
        f" {max_kernels}</code>). Each open page holds one.</p>"
        f"<p>Close a planner page you no longer need: its kernel is shut down after"
        f" {cull_after_s:g} s without it. Then reload this page. To allow more pages at once,"
        " restart the dashboard with a larger <code>--max-kernels</code> (about 0.5 GB of"
        " memory each).</p></body></html>"
    )


def forget_request_info() -> None:
    """Make Voilà keep no request info for pre-heated kernels: it would otherwise hold every
    page request's query string (with the token) for a ``/voila/query`` socket this server
    does not serve. Called once by :class:`DashboardVoila`, in the server process only."""

    def _drop(cls: type, msg: dict[str, Any]) -> None:
        return None

    RequestInfoSocketHandler.send_updates = classmethod(_drop)  # type: ignore[method-assign,assignment]
    RequestInfoSocketHandler._cache.clear()


class _ForeignHost(Matcher):
    """Matches every request whose Host is not allowed (:func:`host_allowed`)."""

    def __init__(self, port: int, ip: str) -> None:
        self.port = port
        self.ip = ip

    def match(self, request: HTTPServerRequest) -> dict[str, Any] | None:
        return None if host_allowed(request.host, self.port, self.ip) else {}


class _RefusedHandler(tornado.web.RequestHandler):
    """403 for any request to a foreign Host; nothing of the dashboard is reached."""

    def initialize(self, names: tuple[str, ...]) -> None:
        self.names = names

    def prepare(self) -> None:
        app_log.warning("refused a request for Host %r (not this server's address and port)",
                        self.request.host[:100])  # fmt: skip
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        listed = (" or ".join(self.names) if len(self.names) < 3
                  else f"{', '.join(self.names[:-1])} or {self.names[-1]}")  # fmt: skip
        self.finish(f"403 Forbidden: this dashboard answers only requests addressed to"
                    f" {listed} with its port.\n")  # fmt: skip


def drop_token(request: HTTPServerRequest) -> None:
    """Remove ``token`` from a request's query once the login is done: Voilà hands the query
    string and the full address to the page's kernel (``QUERY_STRING``,
    ``VOILA_REQUEST_URL`` in the environment of a kernel started for the page), and the
    token must reach no kernel."""
    if "token" not in request.query_arguments:
        return
    kept = [(k, v) for k, v in parse_qsl(request.query, keep_blank_values=True) if k != "token"]
    request.query = urlencode(kept)
    request.uri = request.path + (f"?{request.query}" if request.query else "")
    request.query_arguments.pop("token", None)
    request.arguments.pop("token", None)


class _PageHandler(TornadoVoilaHandler):  # type: ignore[misc]
    """Voilà's page, or the busy page when no kernel may be started for it."""

    @tornado.web.authenticated  # type: ignore[misc]
    async def get(self, path: str | None = None) -> None:
        drop_token(self.request)
        if not self.kernel_manager.room_for_page():
            self._busy()
            return
        await super().get(path)

    def _busy(self) -> None:
        km = self.kernel_manager
        self.set_status(503)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Retry-After", str(RETRY_AFTER_S))
        self.set_header("Cache-Control", "no-store")
        self.finish(busy_page(km.max_kernels, float(km.cull_idle_timeout)))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """A start refused for the cap while Voilà was serving the page: the busy page."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, KernelCapError) and not self._headers_written:
            self._busy()
            return
        super().write_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, KernelCapError):
            app_log.warning("busy page served: %s", value)
            return
        super().log_exception(typ, value, tb)


class DashboardVoila(Voila):  # type: ignore[misc]
    """Voilà with the Host allow-list, the token taken from the environment, session cookies,
    the busy page, and no unauthenticated request-info socket (see the module's docstring)."""

    def initialize(self, argv: list[str] | None = None) -> None:
        super().initialize(argv)
        # never without a token: one made here if the launcher gave none
        self.token = os.environ.pop(TOKEN_ENV, "") or secrets.token_urlsafe(32)

    def init_settings(self) -> dict[str, Any]:
        """Voilà's settings, with :data:`COOKIE_OPTIONS` for the login and ``_xsrf`` cookies."""
        settings: dict[str, Any] = super().init_settings()
        provider = self.identity_provider
        provider.cookie_options = {**COOKIE_OPTIONS, **provider.cookie_options}
        settings["xsrf_cookie_kwargs"] = {**COOKIE_OPTIONS,
                                          **settings.get("xsrf_cookie_kwargs", {})}  # fmt: skip
        return settings

    def listen(self) -> None:
        """Voilà's listen, with request bodies of at most :data:`MAX_BODY_BYTES`: tornado's
        default (100 MB, buffered before any handler, the Host check included) would let any
        local process make the server hold 100 MB per connection."""
        listen = self.app.listen

        def bounded(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("max_body_size", MAX_BODY_BYTES)
            return listen(*args, **kwargs)

        self.app.listen = bounded
        super().listen()

    def init_handlers(self) -> list[Any]:
        forget_request_info()
        names = allowed_names(self.ip)
        handlers: list[Any] = [(_ForeignHost(int(self.port), self.ip), _RefusedHandler,
                                {"names": names})]  # fmt: skip
        for rule in super().init_handlers():
            if rule[1] is RequestInfoSocketHandler:
                continue  # unauthenticated, and it hands out the token (module docstring)
            if rule[1] is TornadoVoilaHandler:
                rule = (rule[0], _PageHandler, *rule[2:])
            handlers.append(rule)
        return handlers


main = DashboardVoila.launch_instance

if __name__ == "__main__":
    main()
