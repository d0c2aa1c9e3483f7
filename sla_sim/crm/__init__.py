"""From a CRM export to the event log: measure, calibrate (with censoring), backtest, review.

A CRM export (a lead table, an optional activity table, a YAML mapping) is read and checked by
:mod:`~sla_sim.crm.load`, mapped into the simulator's :class:`~sla_sim.events.EventLog` by
:mod:`~sla_sim.crm.to_log`, and then judged by the same metrics code as a simulated run
(:mod:`~sla_sim.crm.measure`). :mod:`~sla_sim.crm.calibrate` fits the scenario's parameters
with right-censoring handled; :mod:`~sla_sim.crm.backtest` and :mod:`~sla_sim.crm.review`
hold the model to what happened. Only aggregates and owner pseudonyms leave this package.
"""
