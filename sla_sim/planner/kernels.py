"""The Jupyter kernel manager of ``sla-sim dashboard``: closed pages' kernels are culled, and
no more than ``max_kernels`` kernels live at once.

Jupyter server culls a kernel with no connection once it has been idle for
``cull_idle_timeout`` seconds. Voilà pre-heats a kernel (it runs the panel's notebook before
any page asks for it) and keeps it out of culling while it waits in its pool; but once handed
to a page its idle clock still starts from when it finished pre-heating, so a kernel that
waited longer than the timeout would be culled before the page's browser had connected. This
manager restarts the idle clock of a kernel the first time culling sees it out of the pool
(handed to a page, or started for one), so every page gets a full timeout to connect. The
worker processes of a culled kernel exit with it (:func:`sla_sim.batch.worker.die_with_parent`).

Every page gets its own kernel (about 0.5 GB with one worker), so a loop of page loads could
exhaust the machine. At most ``max_kernels`` kernels live at once, the pre-heated one
included: a start beyond that raises :class:`KernelCapError` (the server answers the page with
its "busy" page, :mod:`sla_sim.planner.server`); a refill of Voilà's pre-heated kernel that
would exceed it fails and is made again once a kernel has been shut down.

Used by :func:`sla_sim.planner.dashboard.voila_command`; imported only by the Voilà server.
"""

from __future__ import annotations

from typing import Any

from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Int

from sla_sim.planner.dashboard import MAX_KERNELS

__all__ = ["DashboardKernelManager", "KernelCapError"]


class KernelCapError(RuntimeError):
    """A page asked for a kernel while ``max_kernels`` kernels are alive."""


class DashboardKernelManager(AsyncMappingKernelManager):  # type: ignore[misc]
    """AsyncMappingKernelManager whose idle clock starts when a kernel reaches its page, and
    which never runs more than ``max_kernels`` kernels."""

    max_kernels = Int(MAX_KERNELS, config=True,
                      help="Most kernels alive at once, the pre-heated one included")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._seen: set[str] = set()
        self._stopping = False

    def live_kernels(self) -> int:
        """Kernels running or starting (a start that failed is not counted)."""
        starting = {k for k, task in self._pending_kernels.items() if not task.done()}
        return len(set(self._kernels) | starting)

    def _pool(self) -> list[Any]:
        """Voilà's pre-heat pool of the served notebook (its start tasks), failed starts
        dropped: empty when pre-heating is off."""
        pools: dict[str, list[Any]] = getattr(self, "_pools", {})
        for pool in pools.values():
            for task in [t for t in pool if t.done() and (t.cancelled() or t.exception())]:
                pool.remove(task)
        return [t for pool in pools.values() for t in pool]

    def room_for_page(self) -> bool:
        """Whether a page opened now gets a kernel: a pre-heated one is there or coming, or
        fewer than ``max_kernels`` are alive (a coming one may still fail: the cap is
        enforced by :meth:`start_kernel`)."""
        return bool(self._pool()) or self.live_kernels() < self.max_kernels

    async def start_kernel(self, **kwargs: Any) -> str:
        """Start a kernel unless ``max_kernels`` are alive: then raise KernelCapError. The
        count and the start's registration happen without yielding to other requests."""
        if self.live_kernels() >= self.max_kernels:
            raise KernelCapError(f"{self.live_kernels()} kernels alive, the most allowed"
                                 f" (--max-kernels {self.max_kernels})")  # fmt: skip
        return await super().start_kernel(**kwargs)

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        """Voilà calls this only for kernels out of its pool; the first call restarts the idle
        clock (the kernel was just handed to a page), later ones cull as Jupyter does."""
        if kernel_id not in self._seen:
            self._seen.add(kernel_id)
            kernel = self._kernels.get(kernel_id)
            if kernel is not None:
                kernel.last_activity = utcnow()
            return
        await super().cull_kernel_if_idle(kernel_id)

    async def shutdown_kernel(self, kernel_id: str, *args: Any, **kwargs: Any) -> None:
        """Shut a kernel down and forget it; pre-heat the next one if the cap had stopped
        Voilà's refill."""
        self._seen.discard(kernel_id)
        await super().shutdown_kernel(kernel_id, *args, **kwargs)
        notebook = getattr(self, "notebook_path", None)
        if not self._stopping and notebook is not None and not self._pool():
            self.fill_if_needed(delay=0, notebook_name=notebook)

    async def shutdown_all(self, *args: Any, **kwargs: Any) -> None:
        """Shut every kernel down, pre-heating none."""
        self._stopping = True
        await super().shutdown_all(*args, **kwargs)
