"""A scenario with no leads at all is valid input: it runs, reconciles and reports zeros."""

from __future__ import annotations

from sla_sim import preset, run_replication
from sla_sim.events import _DTYPES, COLUMNS, EventLog
from sla_sim.scenario.io import set_path


def test_an_empty_event_log_keeps_its_column_types() -> None:
    cols = EventLog(["web"], ["smb"], ["sdr"]).columns()
    assert [cols[c].dtype for c in COLUMNS] == [d().dtype for d in _DTYPES]


def test_a_scenario_without_leads_runs_and_reports_zero() -> None:
    sc = preset("default")
    for i in range(len(sc.channels)):
        sc = set_path(sc, f"channels[{i}].leads_per_month", 0)
    out = run_replication(sc, 1, 0)
    values = dict(zip(out.keys, out.values, strict=True))
    assert values[("total", "leads_created")] == 0
    assert values[("total", "mqls")] == 0
    assert values[("total", "revenue")] == 0
