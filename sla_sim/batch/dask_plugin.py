"""A Dask worker plugin for the workers of a local cluster: they die with the process that
started the cluster and leave Ctrl-C to it, like the workers of the process pool.

Imported only when a local cluster is made (it needs ``distributed``).
"""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from sla_sim.batch.worker import die_with_parent, leave_signals_to_parent

__all__ = ["LikePoolWorkers"]


class LikePoolWorkers(WorkerPlugin):
    """On each (re)started worker: ignore SIGINT, take SIGTERM's default action, and exit
    within :data:`~sla_sim.batch.worker.PARENT_CHECK_S` seconds of its parent's death."""

    name = "sla-sim-like-pool-workers"

    def setup(self, worker: Any) -> None:
        leave_signals_to_parent()
        die_with_parent()
