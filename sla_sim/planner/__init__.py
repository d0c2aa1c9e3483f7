"""The planner: the evaluation engine (:mod:`~sla_sim.planner.engine`), the ipywidgets panel
(:mod:`~sla_sim.planner.panel`) and the Voilà dashboard (:mod:`~sla_sim.planner.dashboard`)."""
