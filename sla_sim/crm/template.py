"""``sla-sim crm template``: an example mapping and a small example export to start from.

The example export is a simulated month of the default scenario written out as a CRM would
(:mod:`sla_sim.crm.export`), so that ``measure`` and ``calibrate`` run on it as they are.
"""

from __future__ import annotations

from pathlib import Path

from sla_sim.batch.files import atomic_write_text
from sla_sim.crm.export import log_to_export, write_export

__all__ = ["write_template"]

_HEADER = """\
# Mapping of a CRM export for sla-sim (see README, "From a CRM export").
# columns: canonical field -> column of your export. Required: lead_id, created_at, channel;
#   optional: segment owner team score mql_at routed_at assigned_at first_touch_at sql_at
#   disqualified_at recycled_at opportunity_opened_at closed_at stage amount opportunity_owner
#   and, for the activity table: activity_lead_id activity_at activity_outcome activity_owner
#   activity_duration_minutes. Each missing field costs some metrics or parameters; the
#   commands say which.
# values: your stage / outcome values per canonical value.
# timezone: of naive timestamps; exported_at: the censoring instant (default: latest seen).
# calendar: the sales team's working hours (business-hours SLA clocks).
"""


def write_template(folder: str | Path, seed: int = 1) -> list[Path]:
    """Write ``mapping.yaml``, ``leads.csv`` and ``activities.csv`` into ``folder``."""
    from sla_sim.batch.replications import run_replication
    from sla_sim.horizon import horizon_hours
    from sla_sim.scenario.io import set_path
    from sla_sim.scenario.presets import preset

    sc = preset("default")
    for path, value in (("horizon.warmup_days", 14), ("horizon.measure_months", 1),
                        ("nurture.engage_probability", 0.0)):  # fmt: skip
        sc = set_path(sc, path, value)
    for ch in sc.channels:  # a small example: a tenth of the default volume
        sc = set_path(sc, f"channels[{ch.name}].leads_per_month", ch.leads_per_month / 10)
    log = run_replication(sc, seed, 0, keep_log=True).log
    origin, _, end_h = horizon_hours(sc)
    frames = log_to_export(log, origin, end_h, sc.horizon.timezone)
    cal = sc.teams[0].calendar.model_dump(mode="json", exclude={"always_open"})
    leads, acts, mapping = write_export(frames, folder, "csv", calendar=cal, as_crm=True)
    atomic_write_text(mapping, _HEADER + mapping.read_text())
    return [mapping, leads, acts]
