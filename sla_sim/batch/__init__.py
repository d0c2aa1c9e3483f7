"""Many replications: executors (processes, Dask), the run store, results, compare, sweep.

Stage 5 of the data's journey: it runs the model (:mod:`sla_sim.model`) and judges each event
log with :mod:`sla_sim.metrics`, replication by replication, and keeps what comes out.
Submodules: :mod:`~sla_sim.batch.replications` (``run_replications``),
:mod:`~sla_sim.batch.executors`, :mod:`~sla_sim.batch.worker`, :mod:`~sla_sim.batch.store`,
:mod:`~sla_sim.batch.runs`, :mod:`~sla_sim.batch.results`, :mod:`~sla_sim.batch.compare`,
:mod:`~sla_sim.batch.sweep`, :mod:`~sla_sim.batch.breach`.
"""
