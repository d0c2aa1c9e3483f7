"""The Jupyter kernel manager of ``sla-sim dashboard``: closed pages' kernels are culled.

Jupyter server culls a kernel with no connection once it has been idle for
``cull_idle_timeout`` seconds. Voilà pre-heats a kernel (it runs the panel's notebook before
any page asks for it) and keeps it out of culling while it waits in its pool; but once handed
to a page its idle clock still starts from when it finished pre-heating, so a kernel that
waited longer than the timeout would be culled before the page's browser had connected. This
manager restarts the idle clock of a kernel the first time culling sees it out of the pool
(handed to a page, or started for one), so every page gets a full timeout to connect. The
worker processes of a culled kernel exit with it (:func:`sla_sim.batch.worker.die_with_parent`).

Used by :func:`sla_sim.planner.dashboard.voila_command`; imported only by the Voilà server.
"""

from __future__ import annotations

from typing import Any

from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

__all__ = ["DashboardKernelManager"]


class DashboardKernelManager(AsyncMappingKernelManager):  # type: ignore[misc]
    """AsyncMappingKernelManager whose idle clock starts when a kernel reaches its page."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._seen: set[str] = set()

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
        """Shut a kernel down and forget it."""
        self._seen.discard(kernel_id)
        await super().shutdown_kernel(kernel_id, *args, **kwargs)
