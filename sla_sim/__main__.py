"""``python -m sla_sim`` runs the ``sla-sim`` command."""

import sys

from sla_sim.cli.main import main

sys.exit(main())
