"""The ``sla-sim`` command: :mod:`~sla_sim.cli.main` builds the parser from one module per
command group and turns errors into exit codes."""
