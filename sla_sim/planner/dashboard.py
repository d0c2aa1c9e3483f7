"""``sla-sim dashboard``: the planner panel as a web page, served by Voilà on loopback only.

:func:`serve` writes a two-cell notebook (create a :class:`sla_sim.planner.panel.PlannerPanel` with
the given options, display it) into a temporary folder and runs Voilà on it. Voilà hides the
code and shows the widgets; every browser tab gets its own kernel. The server listens on the
loopback interface only, on an address of its own for this start (a random ``127.X.Y.Z``, so
that the browser sends its login cookie to no other server: :func:`loopback_address`),
answers only requests addressed to that address and port, shows the panel only with the random
token of this start (printed in the address), runs at most ``max_kernels`` kernels, and the
panel reads and writes files only in the folder the command was started in and the run store
(:mod:`sla_sim.planner.server`, :mod:`sla_sim.planner.folders`; docs/security.md). Ctrl-C (or
SIGTERM) stops Voilà, which shuts its kernels and their worker processes down.

    from sla_sim.planner.dashboard import serve
    serve(port=8866, preset="smb_inbound", reps=100)   # blocks until Ctrl-C
"""

from __future__ import annotations

import errno
import importlib.util
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sla_sim.errors import Issue, ScenarioError, SlaSimError

__all__ = ["SHARED_HOST", "TOKEN_ENV", "DashboardError", "check_host", "check_kernels_cost",
           "loopback_address", "notebook", "private_loopback", "serve", "voila_command",
           "write_template"]

#: The loopback address every system has. The dashboard listens on it only where it cannot
#: listen on one of its own (:func:`loopback_address`) or when ``--host 127.0.0.1`` asks for
#: it: browsers send a cookie of 127.0.0.1 to every server on 127.0.0.1, whatever its port.
SHARED_HOST = "127.0.0.1"
#: Random addresses tried before the port is reported in use (another may hold it there).
ADDRESS_TRIES = 3
NOTEBOOK_NAME = "sla_planner.ipynb"
STARTUP_TIMEOUT_S = 120.0
#: Longest wait, once Voilà answers, for its pre-heated kernel to show the panel before the
#: address is printed anyway.
READY_TIMEOUT_S = 120.0
READY_NAME = "kernel-ready"
#: Seconds after a page takes the pre-heated kernel before Voilà starts the next one (its
#: default is 1 s): the next kernel's start and imports would otherwise compete for the cores
#: with the first page's load. A second page opened within the delay waits for it (a few
#: seconds at most).
REFILL_DELAY_S = 5.0
STOP_TIMEOUT_S = 15.0
#: Seconds a kernel whose page was closed may sit idle before it is shut down (with its
#: worker processes); ``sla-sim dashboard --cull-after``.
CULL_AFTER_S = 60.0
#: Default of ``sla-sim dashboard --max-kernels``: kernels alive at once, the pre-heated one
#: included (each about 0.5 GB with one worker; :mod:`sla_sim.planner.kernels` enforces it).
MAX_KERNELS = 4
#: Memory of one planner kernel beside its simulation workers (measured: about 0.5 GB in all
#: with one worker on the default scenario), for the --max-kernels check.
KERNEL_BYTES = 250 * 2**20
#: The environment variable that hands the start's token to the server process (the command
#: line of a process is readable by every user of the machine, its environment is not).
TOKEN_ENV = "SLA_SIM_DASHBOARD_TOKEN"
TEMPLATE = "sla_sim_offline"
# Voilà's lab template links Font Awesome's CSS from a CDN. The panel uses no icons, so this
# template (the lab template, with any jsdelivr stylesheet link turned into an inert data: URL)
# keeps the page from reaching outside this machine.
_TEMPLATE_J2 = """{%- extends 'voila/templates/lab/index.html.j2' -%}
{%- block notebook_css -%}
{{ super() | replace('href="https://cdn.jsdelivr.net/', 'href="data:text/css,') }}
{%- endblock notebook_css -%}
"""
INSTALL_HINT = "install it with: pip install 'sla_sim[notebook]' (or: pip install voila)"


class DashboardError(SlaSimError):
    """The dashboard cannot be served (Voilà missing, port taken, server failed to start)."""


def notebook(preset: str = "default", scenario_path: str | Path | None = None, reps: int = 100,
             workdir: str | Path | None = None, workers: int = 2,
             ready_file: str | Path | None = None) -> dict[str, Any]:  # fmt: skip
    """The generated notebook (nbformat 4 JSON): create the panel with these options, show it.

    ``workdir`` (default: the current directory) becomes the kernel's working directory, so
    relative scenario files typed in the panel and "Save charts" resolve where the command ran;
    the panel reads and writes files only there and in the run store (``allowed_folders``).
    ``ready_file``: a file the notebook's last cell creates once the panel is shown (its
    evaluation started): :func:`serve` prints the page's address when the pre-heated kernel
    has created it, so a page opened then finds the first estimate computed or computing.
    """
    from sla_sim.batch.store import RunStore

    workdir = str(Path(workdir or os.getcwd()).resolve())
    folders = f"allowed_folders=[{workdir!r}, {str(RunStore().root)!r}]"
    if scenario_path is not None:
        source = str(Path(scenario_path).resolve())
        make = (
            f"from sla_sim import load_scenario\n"
            f"panel = PlannerPanel(scenario=load_scenario({source!r}), reps={int(reps)},"
            f" workers={int(workers)}, {folders})"
        )
    else:
        make = (f"panel = PlannerPanel(preset={preset!r}, reps={int(reps)},"
                f" workers={int(workers)}, {folders})")  # fmt: skip
    setup = f"import os\n\nfrom sla_sim.planner.panel import PlannerPanel\n\nos.chdir({workdir!r})"

    def cell(i: int, text: str) -> dict[str, Any]:
        return {"cell_type": "code", "execution_count": None, "id": f"cell-{i}",
                "metadata": {}, "outputs": [], "source": text}  # fmt: skip

    cells = [cell(0, setup), cell(1, f"{make}\n{_keep_on_disk()}panel")]
    if ready_file is not None:
        cells.append(cell(2, f"__import__('pathlib').Path({str(ready_file)!r}).touch()"))
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
            "title": "SLA planner",  # the browser tab's title
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write_template(jupyter_dir: Path) -> Path:
    """Write the offline Voilà template under ``jupyter_dir`` (a JUPYTER_PATH entry)."""
    folder = jupyter_dir / "voila" / "templates" / TEMPLATE
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "conf.json").write_text(json.dumps({"base_template": "lab"}), encoding="utf-8")
    (folder / "index.html.j2").write_text(_TEMPLATE_J2, encoding="utf-8")
    return folder


def _keep_on_disk() -> str:
    """The notebook line that keeps the starting scenario's finished results in the run store
    (``<store>/planner_cache``), so that a restarted server or a new page shows them at once."""
    from sla_sim.batch.store import RunStore

    folder = str(RunStore().root / "planner_cache")
    return f"panel.planner.disk_cache = __import__('pathlib').Path({folder!r})\n"


def voila_command(notebook_path: str | Path, port: int, cull_after: float = CULL_AFTER_S,
                  max_kernels: int = MAX_KERNELS,
                  host: str = SHARED_HOST) -> list[str]:  # fmt: skip
    """The Voilà command line: this Python running Voilà with the dashboard's guards
    (:mod:`sla_sim.planner.server`: Host allow-list, token, busy page beyond ``max_kernels``
    kernels), no browser, on the loopback address ``host`` only, exactly this port, the
    offline template (see :func:`write_template`), and one kernel pre-heated: it runs the
    panel's notebook when the server starts, so its workers are up and the first estimate is
    computing before anyone opens the page (Voilà starts the next one :data:`REFILL_DELAY_S`
    after a page takes it; a second page opened meanwhile waits for that kernel).

    Kernels whose page is gone (closed tab, no connection left) are shut down once idle for
    ``cull_after`` seconds (Jupyter server's kernel culling; connected pages and the
    pre-heated kernel are never culled, and a page gets a full ``cull_after`` to connect to the
    kernel handed to it: :class:`sla_sim.planner.kernels.DashboardKernelManager`); their
    simulation workers exit with them (they watch their parent process,
    :func:`sla_sim.batch.worker.die_with_parent`)."""
    interval = max(1, round(cull_after / 4))
    return [sys.executable, "-m", "sla_sim.planner.server", "--no-browser", f"--port={int(port)}",
            f"--Voila.ip={host}", "--Voila.port_retries=0", f"--template={TEMPLATE}",
            "--preheat_kernel=True", "--pool_size=1",
            f"--VoilaKernelManager.fill_delay={REFILL_DELAY_S:g}",
            f"--MappingKernelManager.cull_idle_timeout={max(1, round(cull_after))}",
            f"--MappingKernelManager.cull_interval={interval}",
            "--MappingKernelManager.cull_connected=False",
            f"--DashboardKernelManager.max_kernels={int(max_kernels)}",
            "--VoilaConfiguration.multi_kernel_manager_class="
            "sla_sim.planner.kernels.DashboardKernelManager", str(notebook_path)]  # fmt: skip


def _check(port: int, preset: str, scenario_path: str | Path | None, reps: int,
           workers: int | None = 2, max_kernels: int = MAX_KERNELS,
           host: str | None = None) -> tuple[int, str]:  # fmt: skip
    """Fail before starting anything: bad options or scenario, Voilà missing, port taken.
    Returns the workers per page (``None``: :func:`fitting_workers` for this machine) and the
    address to listen on (:func:`loopback_address`)."""
    issues = []
    if host is not None and (problem := check_host(host)):
        issues.append(Issue("--host", problem, host))
    if not (isinstance(max_kernels, int) and max_kernels >= 1):
        issues.append(Issue("--max-kernels", "must be an integer >= 1", max_kernels))
    if not 1 <= port <= 65535:
        issues.append(Issue("--port", "must be in 1..65535", port))
    if reps < 1:
        issues.append(Issue("--reps", "must be >= 1", reps))
    if workers is not None and workers < 1:
        issues.append(Issue("--workers", "must be >= 1", workers))
    if issues:
        raise ScenarioError(issues, "dashboard request")
    if scenario_path is not None:
        from sla_sim.scenario.io import load

        sc = load(scenario_path)  # a ScenarioError naming the file and every problem
    else:
        from sla_sim.scenario.presets import preset as get_preset

        sc = get_preset(preset)
    cores = os.cpu_count() or 1
    fitted = workers is None
    if workers is None:
        workers = fitting_workers(sc, reps, max_kernels, cores)
    check_kernels_cost(sc, reps, workers, max_kernels)
    if fitted and workers < cores:  # said once it does fit (it said so before a refusal)
        from sla_sim.batch.limits import Limits

        print(f"sla-sim dashboard: --workers {workers} per page, not one per core ({cores}):"
              f" {max_kernels} pages at once fit the memory limit"
              f" ({Limits.current().memory_gb:g} GB) with {workers}; set --workers or"
              " --max-kernels to choose", file=sys.stderr)  # fmt: skip
    if importlib.util.find_spec("voila") is None:
        raise DashboardError(f"the dashboard needs Voilà, which is not installed; {INSTALL_HINT}")
    return workers, loopback_address(port, host)


def check_host(host: str) -> str | None:
    """What is wrong with ``--host`` (``None``: nothing): it must be an IPv4 loopback address,
    127.0.0.1 or another of 127.0.0.0/8, written as four numbers."""
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        return "must be an IPv4 loopback address such as 127.0.0.1"
    if not address.is_loopback or str(address) != host:
        return "must be an IPv4 loopback address such as 127.0.0.1"
    return None


def private_loopback() -> str:
    """A random loopback address ``127.X.Y.Z`` other than 127.0.0.1 (Z in 1..254). On Linux all
    of 127.0.0.0/8 reaches this machine, and browsers keep cookies apart by host (not by
    port): the login cookie of a page at this address is sent to no server on 127.0.0.1 nor on
    another such address. Not a secret (every user can list listening sockets): it keeps
    cookies apart, the token keeps others out."""
    while True:
        address = (f"127.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
                   f".{1 + secrets.randbelow(254)}")  # fmt: skip
        if address != SHARED_HOST:
            return address


def _probe(address: str, port: int) -> None:
    """Bind ``address:port`` and let it go again; raises OSError if that is not possible."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, port))


def loopback_address(port: int, host: str | None = None) -> str:
    """The address the dashboard listens on, with ``port`` free there: ``host`` if given
    (``--host``), else a new :func:`private_loopback` address; where no such address can be
    bound (systems where only 127.0.0.1 is configured, such as macOS), :data:`SHARED_HOST`,
    said in one line on stderr. Raises DashboardError when the port is in use."""
    if host is not None:
        try:
            _probe(host, port)
        except OSError as err:
            raise DashboardError(f"cannot listen on {host} port {port}"
                                 f" ({err.strerror or err}); choose another --port or"
                                 " --host") from None  # fmt: skip
        return host
    reason = ""
    for _ in range(ADDRESS_TRIES):
        address = private_loopback()
        try:
            _probe(address, port)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:  # there, or on every address (0.0.0.0)
                continue
            reason = err.strerror or str(err)
            break
        return address
    else:
        raise DashboardError(f"port {port} is in use; choose another with --port")
    try:
        _probe(SHARED_HOST, port)
    except OSError:
        raise DashboardError(f"port {port} on {SHARED_HOST} is in use; choose another with"
                             " --port") from None  # fmt: skip
    print(f"sla-sim dashboard: no loopback address of its own here ({reason}); serving on"
          f" {SHARED_HOST}, whose login cookie the browser also sends to other servers on"
          f" {SHARED_HOST} (docs/security.md)", file=sys.stderr, flush=True)  # fmt: skip
    return SHARED_HOST


def fitting_workers(sc: Any, reps: int, max_kernels: int, cores: int) -> int:
    """Workers per page when ``--workers`` is not given: one per core, fewer if
    ``max_kernels`` pages with that many would be over the memory limit (1 at least; if
    even one worker does not fit, :func:`check_kernels_cost` says so)."""
    for w in range(max(1, cores), 1, -1):
        try:
            check_kernels_cost(sc, reps, w, max_kernels)
        except ScenarioError:
            continue
        return w
    return 1


def check_kernels_cost(sc: Any, reps: int, workers: int, max_kernels: int) -> None:
    """Refuse, before anything starts, a dashboard whose pages could take more than the
    memory limit: one page's evaluation (``reps`` replications of ``sc`` on ``workers``
    processes, each started whatever the replications: :func:`sla_sim.batch.limits.check_workers`
    and :func:`~sla_sim.batch.limits.check_cost`, naming --reps, --workers or the scenario's
    field), and ``max_kernels`` such pages at once, each kernel about
    :data:`KERNEL_BYTES` beside its workers (naming --max-kernels)."""
    from sla_sim.batch.limits import MEMORY_ENV, Limits, about, check_cost, check_workers

    check_workers(workers)
    est = check_cost(sc, reps, min(workers, reps))
    limit = Limits.current().memory_gb
    each = KERNEL_BYTES + est.memory_bytes
    if max_kernels * each > limit * 2**30:
        raise ScenarioError([Issue("--max-kernels", f"{max_kernels} planner kernels (one per"
                                   f" open page) of about {about(each / 2**30)} GB each with"
                                   f" --workers {workers} would need about"
                                   f" {about(max_kernels * each / 2**30)} GB; lower it or"
                                   f" --workers, or raise the limit ({limit:g} GB) with"
                                   f" --max-memory-gb or ${MEMORY_ENV}", max_kernels)],
                            "dashboard request (over the cost limits)")  # fmt: skip


def _answers(host: str, port: int) -> bool:
    """Whether Voilà answers HTTP yet. Asks for a static path, not the page: a page request
    would start a kernel. Any HTTP status (even 404) means the server is up."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/voila/static/", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


class _StopRequestedError(Exception):
    """Raised in the main thread by the SIGTERM handler."""


def _raise_stop(_signum: int, _frame: Any) -> None:
    raise _StopRequestedError


def _shutdown(proc: subprocess.Popen[bytes]) -> None:
    """Stop Voilà (SIGTERM: it shuts its kernels down), killing it only if it hangs."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(STOP_TIMEOUT_S)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):  # hung, or a second Ctrl-C
        proc.kill()
        proc.wait()


def serve(port: int = 8866, preset: str = "default", scenario_path: str | Path | None = None,
          reps: int = 100, open_browser: bool = False, workers: int | None = 2,
          cull_after: float = CULL_AFTER_S, max_kernels: int = MAX_KERNELS,
          host: str | None = None) -> int:  # fmt: skip
    """Serve the planner panel on http://127.X.Y.Z:PORT/?token=... until Ctrl-C (the address,
    a loopback address of this start unless ``host`` names one (:func:`loopback_address`),
    with a token made for this start, is printed once the panel is ready); returns an exit
    code.

    ``scenario_path`` (a YAML, TOML or JSON scenario) wins over ``preset``. Raises
    ScenarioError for invalid options and DashboardError when Voilà is missing, the port is
    taken or the server does not start. A kernel whose page is closed is shut down, with its
    workers, after ``cull_after`` idle seconds; at most ``max_kernels`` kernels live at once
    (further pages get a "busy" page).
    """
    if not (isinstance(cull_after, (int, float)) and 1 <= cull_after < 1e9):
        raise ScenarioError([Issue("--cull-after", "must be a number of seconds >= 1",
                                   cull_after)], "dashboard request")  # fmt: skip
    workers, host = _check(port, preset, scenario_path, reps, workers, max_kernels, host)
    folder = Path(tempfile.mkdtemp(prefix="sla-sim-dashboard-"))
    nb_path = folder / NOTEBOOK_NAME
    ready = folder / READY_NAME
    nb_path.write_text(json.dumps(notebook(preset, scenario_path, reps, workers=workers,
                                           ready_file=ready), indent=1),
                       encoding="utf-8")  # fmt: skip
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[2])  # the kernel imports this same sla_sim
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    write_template(folder / "jupyter")
    env["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(folder / "jupyter"), env.get("JUPYTER_PATH")) if p
    )
    token = secrets.token_urlsafe(24)
    env[TOKEN_ENV] = token
    url = f"http://{host}:{port}/"
    in_main = _is_main_thread()
    old = signal.signal(signal.SIGTERM, _raise_stop) if in_main else None
    proc = subprocess.Popen(voila_command(nb_path, port, cull_after, max_kernels, host),
                            cwd=folder, env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _answers(host, port):
            if proc.poll() is not None:
                raise DashboardError(f"Voilà exited with code {proc.returncode} before serving"
                                     f" {url} (its messages are above)")  # fmt: skip
            if time.monotonic() > deadline:
                raise DashboardError(f"Voilà did not answer on {url} within"
                                     f" {STARTUP_TIMEOUT_S:.0f} s")  # fmt: skip
            time.sleep(0.25)
        print("sla-sim dashboard: server up; starting the planner (its first estimate is"
              " computing)", file=sys.stderr, flush=True)  # fmt: skip
        _wait_ready(proc, ready, url)
        page = f"{url}?token={token}"
        print(f"sla-sim dashboard: {page}  (this machine only; Ctrl-C to stop)", flush=True)
        if open_browser:
            _open_in_browser(folder, page)
        return proc.wait()
    except (KeyboardInterrupt, _StopRequestedError):
        print("sla-sim dashboard: stopping", file=sys.stderr, flush=True)
        return 0
    finally:
        _shutdown(proc)
        if old is not None:
            signal.signal(signal.SIGTERM, old)
        shutil.rmtree(folder, ignore_errors=True)


def _open_in_browser(folder: Path, page: str) -> None:
    """Open ``page`` through a redirect file in ``folder`` (readable by this user only), as
    Jupyter does, so the token is not on the browser's command line for every user to see."""
    import html
    import webbrowser

    redirect = folder / "open.html"
    redirect.write_text(f"<!DOCTYPE html><meta http-equiv='refresh' content='0;url="
                        f"{html.escape(page)}'><a href='{html.escape(page)}'>SLA planner</a>",
                        encoding="utf-8")  # fmt: skip
    redirect.chmod(0o600)
    webbrowser.open(redirect.as_uri())


def _wait_ready(proc: subprocess.Popen[bytes], ready: Path, url: str) -> None:
    """Wait until the pre-heated kernel has shown the panel (``ready`` exists), so the address
    is printed when a page opened at once gets a planner that is already computing. After
    :data:`READY_TIMEOUT_S` (a very busy machine) the address is printed anyway."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not ready.exists():
        if proc.poll() is not None:
            raise DashboardError(f"Voilà exited with code {proc.returncode} before serving"
                                 f" {url} (its messages are above)")  # fmt: skip
        if time.monotonic() > deadline:
            print(f"sla-sim dashboard: the planner kernel is not ready after"
                  f" {READY_TIMEOUT_S:.0f} s; the page will show it when it is",
                  file=sys.stderr, flush=True)  # fmt: skip
            return
        time.sleep(0.1)


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
