"""The dashboard's security model without a browser (docs/security.md): which paths the panel
may read or write (resolved through '..', '~' and symbolic links), the panel's "File" and "Save
charts" refusing the rest without a line of the file, which Host headers the server answers,
and the kernel cap refusing a start before anything is launched.

The same guards are checked end to end on a real server in tests/test_browser.py.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from ci_env import require

from sla_sim.planner.folders import allowed_path

SECRET = "api_key: hunter2-never-shown"  # a scenario error would quote the value of this key


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """A start folder and a store (allowed), a sibling whose name extends the start folder's,
    and an outside folder holding a secret; symbolic links from inside to outside."""
    work, store, outside = tmp_path / "plans", tmp_path / "store", tmp_path / "outside"
    sibling = tmp_path / "plans2"
    for d in (work, store, outside, sibling):
        d.mkdir()
    (outside / "secrets.yaml").write_text(SECRET + "\n")
    (work / "ok.yaml").write_text("base: default\n")
    (work / "to_secret.yaml").symlink_to(outside / "secrets.yaml")
    (work / "to_outside").symlink_to(outside, target_is_directory=True)
    (outside / "to_work").symlink_to(work, target_is_directory=True)
    return {"work": work, "store": store, "outside": outside, "sibling": sibling}


def test_paths_inside_the_folders_are_allowed_resolved(tree: dict[str, Path]) -> None:
    """Inside (absolute, relative, not yet existing, the folder itself, through a link that
    leads back inside): allowed, and the answer is the resolved path."""
    work, store = tree["work"], tree["store"]
    roots = [work, store]
    assert allowed_path(work / "ok.yaml", roots) == work / "ok.yaml"
    assert allowed_path("ok.yaml", roots, base=work) == work / "ok.yaml"
    assert allowed_path("sub/../ok.yaml", roots, base=work) == work / "ok.yaml"
    assert allowed_path(store / "planner_charts" / "x.png", roots) == store / "planner_charts/x.png"
    assert allowed_path(work, roots) == work
    assert allowed_path(tree["outside"] / "to_work" / "ok.yaml", roots) == work / "ok.yaml"


@pytest.mark.parametrize("typed", [
    "../outside/secrets.yaml",   # '..' out of the start folder
    "to_secret.yaml",            # a file link inside pointing outside
    "to_outside/new/x.png",      # a folder link inside, to a file not yet there
    "../plans2/x.yaml",          # a sibling whose name starts like the start folder's
    "/etc/passwd",
    "~/x.yaml",                  # the home folder (outside here)
    "",                          # the working folder, when it is not a root
    "bad\0name",                 # not a path the system accepts
])  # fmt: skip
def test_paths_outside_the_folders_are_refused(
        tree: dict[str, Path], typed: str, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("HOME", str(tree["outside"]))
    roots = [tree["work"], tree["store"]]
    base = tree["work"] if typed != "" else tree["outside"]
    assert allowed_path(typed, roots, base=base) is None


def test_a_link_loop_is_refused_not_raised(tree: dict[str, Path]) -> None:
    loop = tree["work"] / "loop"
    loop.symlink_to(loop)
    assert allowed_path(loop / "x", [tree["work"]]) in (None, loop / "x")  # never raises
    assert allowed_path(loop / "x", [tree["store"]]) is None


# ---------------------------------------------------------------------- the panel, headless
@pytest.fixture
def panel(tree: dict[str, Path], tiny_factory: Any,
          monkeypatch: pytest.MonkeyPatch) -> Any:  # fmt: skip
    """A panel as the dashboard builds it: confined to the start folder and the store, the
    kernel's working folder being the start folder."""
    require("ipywidgets", "the planner panel needs it: pip install -e .[notebook]")
    from sla_sim.planner.panel import PlannerPanel

    monkeypatch.chdir(tree["work"])
    p = PlannerPanel(scenario=tiny_factory(None), reps=2, workers=1,
                     allowed_folders=[tree["work"], tree["store"]])  # fmt: skip
    yield p
    p.planner.close()


@pytest.mark.parametrize("typed", ["../outside/secrets.yaml", "to_secret.yaml", "ABS"])
def test_panel_file_outside_is_refused_without_its_lines(panel: Any, tree: dict[str, Path],
                                                         typed: str) -> None:  # fmt: skip
    """"Load file" on a path outside: refused naming the field and the folders; the levers
    stay; no line of the file in the message (unconfined, the scenario error quotes it)."""
    typed = str(tree["outside"] / "secrets.yaml") if typed == "ABS" else typed
    base = panel.base
    panel.file_box.value = typed
    panel._on_load(None)
    shown = panel.message.value
    assert "File: must be inside the folders this dashboard may read or write" in shown
    assert str(tree["work"]) in shown
    assert "hunter2" not in shown
    assert panel.base is base


def test_panel_file_inside_is_loaded(panel: Any, tree: dict[str, Path]) -> None:
    """A scenario in the start folder loads (its name appears as the new base)."""
    (tree["work"] / "mine.yaml").write_text("base: default\nname: mine-inside\n"
                                            "horizon: {warmup_days: 10, measure_months: 1}\n")
    panel.file_box.value = "mine.yaml"
    panel.refresh = lambda: None  # the levers are rebuilt; no evaluation needed here
    panel._on_load(None)
    assert panel.message.value == ""
    assert panel.base.name == "mine-inside"


@pytest.mark.parametrize("folder", ["../outside/charts", "to_outside", "ABS"])
def test_panel_save_charts_outside_is_refused(panel: Any, tree: dict[str, Path],
                                              folder: str) -> None:  # fmt: skip
    """"Save charts" into a folder outside (typed, through '..' or a link): refused, nothing
    written there."""
    folder = str(tree["outside"]) if folder == "ABS" else folder
    assert panel.save_charts(folder, formats=("svg",)) == []
    assert "Save charts folder: must be inside the folders" in panel.message.value
    assert sorted(p.name for p in tree["outside"].iterdir()) == ["secrets.yaml", "to_work"]


def test_panel_save_charts_refuses_a_link_planted_inside(panel: Any,
                                                         tree: dict[str, Path]) -> None:
    """A chart file name inside the folder that is a link to a file outside: refused before
    any file is written (the link's target is left as it was)."""
    charts = tree["work"] / "charts"
    charts.mkdir()
    victim = tree["outside"] / "victim.txt"
    victim.write_text("keep me\n")
    (charts / "revenue.svg").symlink_to(victim)
    assert panel.save_charts(charts, formats=("svg",)) == []
    assert "must be inside the folders" in panel.message.value
    assert victim.read_text() == "keep me\n"
    assert sorted(p.name for p in charts.iterdir()) == ["revenue.svg"]


def test_panel_save_charts_inside_passes_the_check(panel: Any, tree: dict[str, Path]) -> None:
    """Into the store (where the default folder is) and the start folder the check lets the
    save go on: with nothing evaluated yet it says so instead of refusing."""
    for folder in (tree["store"] / "planner_charts", "charts", tree["work"]):
        assert panel.save_charts(folder, formats=("svg",)) == []
        assert "nothing to save yet" in panel.message.value
        assert "must be inside" not in panel.message.value
    target = tree["store"] / "planner_charts" / "revenue.svg"
    assert panel._confined(target, "Save charts folder") == target


def test_an_unconfined_panel_is_what_a_notebook_gets(tiny_factory: Any,
                                                     tmp_path: Path) -> None:  # fmt: skip
    """Without ``allowed_folders`` (a notebook user's own kernel) nothing is refused."""
    require("ipywidgets", "the planner panel needs it: pip install -e .[notebook]")
    from sla_sim.planner.panel import PlannerPanel

    p = PlannerPanel(scenario=tiny_factory(None), reps=2, workers=1)
    try:
        assert p.allowed_folders is None
        assert p._confined(tmp_path / "x", "File") == tmp_path / "x"
    finally:
        p.planner.close()


# ---------------------------------------------------------------------- the server's guards
@pytest.mark.parametrize(("host", "port", "allowed"), [
    ("127.0.0.1:8866", 8866, True),
    ("localhost:8866", 8866, True),
    ("LocalHost:8866", 8866, True),
    ("[::1]:8866", 8866, True),
    ("127.0.0.1:8867", 8866, False),      # another port
    ("127.0.0.1", 8866, False),           # no port (only right for port 80)
    ("localhost", 80, True),
    ("evil.example:8866", 8866, False),   # DNS rebinding: the attacker's own name
    ("localhost.evil.example:8866", 8866, False),
    ("127.0.0.2:8866", 8866, False),
    ("0.0.0.0:8866", 8866, False),
    ("::1:8866", 8866, False),            # IPv6 without brackets is not a Host form
    ("", 8866, False),
])  # fmt: skip
def test_host_allow_list(host: str, port: int, allowed: bool) -> None:
    """On 127.0.0.1 (no address of its own, or ``--host 127.0.0.1``): its names, as before."""
    require("voila", "the dashboard needs it: pip install -e .[notebook]")
    from sla_sim.planner.server import host_allowed

    assert host_allowed(host, port) is allowed
    assert host_allowed(host, port, "127.0.0.1") is allowed


@pytest.mark.parametrize(("host", "port", "allowed"), [
    ("127.31.4.159:8866", 8866, True),
    ("127.31.4.159:8867", 8866, False),   # another port
    ("127.31.4.159", 8866, False),
    ("127.31.4.159", 80, True),
    ("127.0.0.1:8866", 8866, False),      # a page there gets a cookie every server there gets
    ("localhost:8866", 8866, False),
    ("[::1]:8866", 8866, False),
    ("127.31.4.158:8866", 8866, False),   # another loopback address
    ("127.31.4.1590:8866", 8866, False),
    ("127.31.4.159.:8866", 8866, False),
    ("127.31.4.159.nip.io:8866", 8866, False),
    ("evil.example:8866", 8866, False),
])  # fmt: skip
def test_host_allow_list_on_an_address_of_its_own(host: str, port: int, allowed: bool) -> None:
    """On its own loopback address the server answers that address alone (with its port)."""
    require("voila", "the dashboard needs it: pip install -e .[notebook]")
    from sla_sim.planner.server import host_allowed

    assert host_allowed(host, port, "127.31.4.159") is allowed


def test_each_start_gets_a_loopback_address_of_its_own(
        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """A random 127.X.Y.Z, never 127.0.0.1, different from start to start, with the port free
    there even when 127.0.0.1 has it taken (another server on 127.0.0.1 does not stop the
    dashboard), and nothing said about it."""
    import ipaddress
    import socket

    from sla_sim.planner import dashboard

    seen = {dashboard.private_loopback() for _ in range(200)}
    assert "127.0.0.1" not in seen
    assert len(seen) > 190  # about 16.6 million addresses
    for a in seen:
        address = ipaddress.IPv4Address(a)
        assert address.is_loopback
        assert a.rsplit(".", 1)[1] not in ("0", "255")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        chosen = dashboard.loopback_address(port)
    assert chosen != "127.0.0.1"
    assert ipaddress.IPv4Address(chosen).is_loopback
    assert capsys.readouterr().err == ""


def test_where_only_127_0_0_1_exists_the_dashboard_says_so_and_uses_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """A system where 127.0.0.1 is the only loopback address (macOS): binding another fails
    with EADDRNOTAVAIL; the dashboard falls back to 127.0.0.1 and says in one line what that
    means for its cookie. With the port taken there too, it is an error naming the port."""
    import errno
    import socket

    from sla_sim.planner import dashboard

    real = dashboard._probe

    def only_127_0_0_1(address: str, port: int) -> None:
        if address != "127.0.0.1":
            raise OSError(errno.EADDRNOTAVAIL, "Can't assign requested address")
        real(address, port)

    monkeypatch.setattr(dashboard, "_probe", only_127_0_0_1)
    port = _free_port()
    assert dashboard.loopback_address(port) == "127.0.0.1"
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "serving on 127.0.0.1" in err
    assert "also sends to other servers on 127.0.0.1" in err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(dashboard.DashboardError, match=f"port {port} on 127.0.0.1 is in use"):
            dashboard.loopback_address(port)


def test_a_port_taken_on_every_address_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A port in use wherever the dashboard tries (as a server on 0.0.0.0 makes it): an error
    naming the port and --port, never another port."""
    import errno

    from sla_sim.planner import dashboard

    tried: list[str] = []

    def taken(address: str, port: int) -> None:
        tried.append(address)
        raise OSError(errno.EADDRINUSE, "Address already in use")

    monkeypatch.setattr(dashboard, "_probe", taken)
    with pytest.raises(dashboard.DashboardError, match="port 8866 is in use; choose another"
                       " with --port"):  # fmt: skip
        dashboard.loopback_address(8866)
    assert len(tried) == dashboard.ADDRESS_TRIES
    assert "127.0.0.1" not in tried


def test_host_option_picks_the_address(capsys: pytest.CaptureFixture[str]) -> None:
    """``--host`` names the loopback address to listen on (127.0.0.1 for an SSH tunnel, say):
    used as given, no fallback; anything but an IPv4 loopback address exits 2 naming it."""
    import socket

    from sla_sim.cli.main import build_parser, main
    from sla_sim.planner import dashboard

    port = _free_port()
    assert dashboard.loopback_address(port, "127.0.0.1") == "127.0.0.1"
    assert dashboard.loopback_address(port, "127.8.9.10") == "127.8.9.10"
    assert build_parser().parse_args(["dashboard", "--host", "127.0.0.1"]).host == "127.0.0.1"
    assert build_parser().parse_args(["dashboard"]).host is None
    for bad in ("0.0.0.0", "192.168.1.2", "localhost", "::1", "127.1", "127.0.0.01", "x"):
        assert main(["dashboard", "--host", bad, "--port", str(port)]) == 2, bad
        err = capsys.readouterr().err
        assert "--host: must be an IPv4 loopback address" in err, err
        assert f"(got '{bad}')" in err, err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with pytest.raises(dashboard.DashboardError, match=f"cannot listen on 127.0.0.1 port"
                           f" {taken}"):  # fmt: skip
            dashboard.loopback_address(taken, "127.0.0.1")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_busy_page_names_the_flag_and_what_to_do() -> None:
    require("voila", "the dashboard needs it: pip install -e .[notebook]")
    from sla_sim.planner.server import busy_page

    page = busy_page(3, 60.0)
    assert "The SLA planner is busy" in page
    assert "--max-kernels 3" in page
    assert "after 60 s" in page


def test_kernel_cap_refuses_a_start_before_launching_anything() -> None:
    """At ``max_kernels`` live (or starting) kernels a start raises KernelCapError at once,
    and a page finds no room unless a pre-heated kernel is waiting for it."""
    require("voila", "the dashboard needs it: pip install -e .[notebook]")
    from sla_sim.planner.kernels import DashboardKernelManager, KernelCapError

    km = DashboardKernelManager(max_kernels=2)
    assert km.room_for_page()
    km._kernels["a"] = object()
    loop = asyncio.new_event_loop()
    try:
        pending = loop.create_future()  # a kernel still starting counts
        km._pending_kernels["b"] = pending
        assert km.live_kernels() == 2
        assert not km.room_for_page()
        with pytest.raises(KernelCapError, match="--max-kernels 2"):
            loop.run_until_complete(km.start_kernel(kernel_name="python3"))
        pending.set_exception(RuntimeError("failed start"))  # a failed start does not count
        pending.exception()
        assert km.live_kernels() == 1
        assert km.room_for_page()
        km._kernels["b"] = object()
        ready = loop.create_future()
        ready.set_result({"kernel_id": "b"})
        km._pools = {"nb": [ready]}  # a pre-heated kernel waits: the page gets it
        assert km.room_for_page()
        failed = loop.create_future()
        failed.set_exception(KernelCapError("refill refused"))
        km._pools = {"nb": [failed]}  # a refill the cap refused is dropped, not handed out
        assert not km.room_for_page()
        assert km._pools == {"nb": []}
    finally:
        km._kernels.clear()
        km._pending_kernels.clear()
        loop.close()


def test_the_token_reaches_the_server_by_environment_not_command_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The command line (readable by every user of the machine) holds no token; the server
    takes it from the environment and removes it there before any kernel inherits it, and
    makes one of its own when none is given (never tokenless)."""
    require("voila", "the dashboard needs it: pip install -e .[notebook]")
    import signal

    from sla_sim.planner.dashboard import TOKEN_ENV, notebook, voila_command
    from sla_sim.planner.server import DashboardVoila

    nb = tmp_path / "nb.ipynb"
    nb.write_text(__import__("json").dumps(notebook(workdir=tmp_path)))
    assert "token" not in " ".join(voila_command(nb, 8866)[:-1]).lower()  # all but the file
    old = signal.getsignal(signal.SIGTERM)  # Voilà's initialize installs its own handler
    try:
        monkeypatch.setenv(TOKEN_ENV, "the-start-token")
        app = DashboardVoila()
        app.initialize([str(nb)])
        assert app.token == "the-start-token"
        assert TOKEN_ENV not in os.environ
        other = DashboardVoila()
        other.initialize([str(nb)])
        assert len(other.token) >= 32
    finally:
        signal.signal(signal.SIGTERM, old)


def test_the_command_line_defaults_are_the_documented_ones() -> None:
    """``sla-sim dashboard`` without flags: cap 4 and culling after 60 s, as the planner module
    and docs/security.md say."""
    from sla_sim.cli.main import build_parser
    from sla_sim.planner.dashboard import CULL_AFTER_S, MAX_KERNELS

    args = build_parser().parse_args(["dashboard"])
    assert args.max_kernels == MAX_KERNELS == 4
    assert args.cull_after == CULL_AFTER_S == 60
    args = build_parser().parse_args(["dashboard", "--max-kernels", "9"])
    assert args.max_kernels == 9


def test_open_hands_the_browser_a_private_redirect_not_the_token(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """``--open`` gives the browser a file only this user can read, which redirects to the
    address with the token: the token never appears on the browser's command line."""
    import stat
    import webbrowser

    from sla_sim.planner.dashboard import _open_in_browser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    page = "http://127.0.0.1:8866/?token=secret-token"
    _open_in_browser(tmp_path, page)
    assert len(opened) == 1
    assert opened[0].startswith("file://")
    assert "secret-token" not in opened[0]
    redirect = Path(opened[0].removeprefix("file://"))
    assert stat.S_IMODE(redirect.stat().st_mode) == 0o600
    assert f"url={page}" in redirect.read_text()


# ---------------------------------------------------------------------- what it may cost
@pytest.mark.parametrize(("options", "named"), [
    (["--reps", "1000000000"], "--reps"),
    (["--workers", "100000"], "--workers"),
    (["--max-kernels", "100000"], "--max-kernels"),
    (["--workers", "40", "--reps", "40", "--max-kernels", "40"], "--max-kernels"),
    (["HUGE"], "channels[0].leads_per_month"),
], ids=["reps_1e9", "workers_1e5", "max_kernels_1e5", "kernels_of_40_workers", "leads_1e9"])
def test_an_oversized_dashboard_is_refused_before_anything_starts(
        options: list[str], named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """Replications, workers and kernels each page of the dashboard may hold are estimated
    as for a run, and ``max_kernels`` pages at once against the memory limit: over it, exit 2
    naming the option (or the scenario's field) before a server or a kernel starts."""
    import subprocess

    from sla_sim.cli.main import main
    from sla_sim.scenario.io import save, set_path
    from sla_sim.scenario.presets import preset

    def no_server(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the server was started")

    monkeypatch.setattr(subprocess, "Popen", no_server)
    monkeypatch.delenv("SLA_SIM_MAX_MEMORY_GB", raising=False)
    huge = save(set_path(preset("default"), "channels[0].leads_per_month", 1e9),
                tmp_path / "huge.yaml")  # fmt: skip
    options = [str(huge) if o == "HUGE" else o for o in options]
    assert main(["dashboard", *options, "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert named in err, err
    assert "cost limits" in err
    assert "Traceback" not in err


def test_the_kernel_check_follows_the_memory_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--max-memory-gb`` (or $SLA_SIM_MAX_MEMORY_GB) raises the kernels' limit too."""
    from sla_sim.errors import ScenarioError
    from sla_sim.planner.dashboard import check_kernels_cost
    from sla_sim.scenario.presets import preset

    monkeypatch.setenv("SLA_SIM_MAX_MEMORY_GB", "4")
    with pytest.raises(ScenarioError, match="--max-kernels"):
        check_kernels_cost(preset("default"), 100, 2, 8)
    check_kernels_cost(preset("default"), 100, 2, 4)
    monkeypatch.setenv("SLA_SIM_MAX_MEMORY_GB", "64")
    check_kernels_cost(preset("default"), 100, 2, 8)


@pytest.mark.parametrize(("cores", "memory_gb", "expected"), [
    (2, 3.2, 1),     # a 4 GB, 2-core machine: 4 pages of 2 workers need 3.34 GB
    (2, 16.0, 2),    # room for one worker per core
    (64, 16.0, 12),  # 4 pages of 12 workers: 4 x (0.24 + 12 x 0.30) GB
], ids=["4GB_2cores", "20GB_2cores", "64cores"])
def test_the_default_workers_fit_the_memory_limit(
        cores: int, memory_gb: float, expected: int, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """Without --workers the dashboard starts on any machine: one worker per core, fewer when
    --max-kernels pages of that many would be over the memory limit (it refused its own
    defaults on a 4 GB, 2-core machine and on any 64-core one); it says so; an explicit
    --workers over the limit is still refused, naming the option."""
    import subprocess

    from sla_sim.cli.main import main
    from sla_sim.planner import dashboard
    from sla_sim.scenario.presets import preset

    monkeypatch.setenv("SLA_SIM_MAX_MEMORY_GB", str(memory_gb))
    monkeypatch.setattr(dashboard.os, "cpu_count", lambda: cores)
    assert dashboard.fitting_workers(preset("default"), 100, 4, cores) == expected
    import socket

    with socket.socket() as free:  # _check binds the port it is given to see it is free
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    chosen, address = dashboard._check(port, "default", None, 100, None, 4)
    assert chosen == expected
    assert address.startswith("127.")
    err = capsys.readouterr().err
    assert (f"--workers {expected} per page" in err) == (expected < cores), err
    if expected < cores:
        monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: pytest.fail("started"))
        assert main(["dashboard", "--workers", str(cores), "--port", "1"]) == 2
        err = capsys.readouterr().err
        assert "cost limits" in err, err
        assert "Traceback" not in err


def test_the_planner_refuses_oversized_settings_before_simulating(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The panel's engine (a notebook's ``PlannerPanel`` too) refuses more worker processes
    than the memory limit holds before starting one, and a scenario over the limits (one
    loaded with "File", say) before submitting a replication; the panel shows the message."""
    from sla_sim.errors import ScenarioError
    from sla_sim.planner.engine import Planner
    from sla_sim.scenario.io import set_path
    from sla_sim.scenario.presets import preset

    monkeypatch.delenv("SLA_SIM_MAX_MEMORY_GB", raising=False)
    with pytest.raises(ScenarioError, match="--workers"):
        Planner(reps=2, workers=100_000)
    planner = Planner(reps=2, workers=1)

    def no_work(*_args: Any) -> Any:
        raise AssertionError("a replication was submitted")

    monkeypatch.setattr(planner, "_submit", no_work)
    huge = set_path(preset("default"), "channels[0].leads_per_month", 1e9)
    try:
        with pytest.raises(ScenarioError, match=r"channels\[0\].leads_per_month"):
            planner.evaluate_sync(huge, lambda _u: None)
        planner.set_reps(1_000_000_000)
        with pytest.raises(ScenarioError, match="cost limits"):
            planner.evaluate_sync(preset("default"), lambda _u: None)
    finally:
        planner.close()
