"""Dask worker plugins: every worker loads the fast engine's compiled code at set-up, and the
workers of a local cluster die with the process that started the cluster and leave Ctrl-C to
it, like the workers of the process pool.

Imported only when a Dask client is made (it needs ``distributed``).
"""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from sla_sim.batch.worker import die_with_parent, leave_signals_to_parent

__all__ = ["LikePoolWorkers", "WarmFastEngine"]


class LikePoolWorkers(WorkerPlugin):
    """On each (re)started worker: ignore SIGINT, take SIGTERM's default action, and exit
    within :data:`~sla_sim.batch.worker.PARENT_CHECK_S` seconds of its parent's death."""

    name = "sla-sim-like-pool-workers"

    def setup(self, worker: Any) -> None:
        leave_signals_to_parent()
        die_with_parent()


class WarmFastEngine(WorkerPlugin):
    """On each (re)started worker, before its first task: load the fast engine's compiled event
    loop (:func:`sla_sim.model.funnel.warm_up`), so that no replication pays for it. A Dask
    worker is not forked from the process that made the client, so it cannot inherit it."""

    name = "sla-sim-warm-fast-engine"

    def setup(self, worker: Any) -> None:
        from sla_sim.model.funnel import warm_up

        warm_up()
