"""What people read: Altair charts (:mod:`~sla_sim.report.charts`), the run report in
Markdown/HTML (:mod:`~sla_sim.report.document`) and the words for each commitment
(:mod:`~sla_sim.report.labels`)."""
