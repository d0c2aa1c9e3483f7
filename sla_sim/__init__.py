"""sla_sim: simulate the marketing-to-sales funnel and the SLA written on it.

Public API (everything else is reached through its module)::

    from sla_sim import Scenario, load_scenario, preset, run_replications
    results = run_replications(preset("default"), reps=20, seed=1)
    results.summary()
"""

from __future__ import annotations

from importlib import metadata as _metadata

from sla_sim.batch.replications import run_replication, run_replications
from sla_sim.batch.results import Results
from sla_sim.errors import ReconciliationError, ScenarioError, SlaSimError
from sla_sim.scenario.io import load as load_scenario
from sla_sim.scenario.io import save as save_scenario
from sla_sim.scenario.presets import preset, preset_names
from sla_sim.scenario.schema import Scenario

try:
    __version__ = _metadata.version("sla_sim")
except _metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = [
    "ReconciliationError",
    "Results",
    "Scenario",
    "ScenarioError",
    "SlaSimError",
    "__version__",
    "load_scenario",
    "preset",
    "preset_names",
    "run_replication",
    "run_replications",
    "save_scenario",
]
