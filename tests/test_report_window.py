"""The report's lead outcomes cover the measured window and reconcile with its funnel; the
whole-run terminal states are labelled as such; prose columns align left."""

from __future__ import annotations

import re

import pytest

from sla_sim.batch.replications import run_replications
from sla_sim.batch.results import Results
from sla_sim.report import document
from sla_sim.scenario.io import apply_assignments
from sla_sim.scenario.presets import preset


@pytest.fixture(scope="module")
def results() -> Results:
    short = apply_assignments(preset("default"),
                              ["horizon.warmup_days=20", "horizon.measure_months=1"])
    return run_replications(short, reps=3, seed=5, workers=1, progress=False,
                            keep_log_of=None)  # fmt: skip


def _md_table(md: str, heading: str) -> dict[str, list[str]]:
    """The first table after a Markdown heading: first cell -> the row's cells."""
    part = md.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in part.splitlines() if ln.startswith("| ")]
    return {cells[0]: cells for cells in
            ([c.strip() for c in r.strip("|").split("|")] for r in rows[1:])}  # fmt: skip


def test_outcomes_reconcile_with_the_measured_funnel(results: Results) -> None:
    """Leads created, MQLs, SQLs, opportunities and wins in the outcomes table are the funnel's
    counts of the measured window; the whole-run states (warm-up included) are bigger and are
    titled so."""
    md = document._to_markdown(document._blocks(results, []))
    table = _md_table(md, "Lead outcomes in the measured window")
    tot = results.summary().query("period == 'total'").set_index("metric")["mean"]
    for metric, label in document.OUTCOMES:
        assert table[label][2] == f"{tot[metric]:,.0f}", label
    states = _md_table(md, "Lead terminal states")
    header = next(ln for ln in md.split("## Lead terminal states\n", 1)[1].splitlines()
                  if ln.startswith("| "))  # fmt: skip
    assert "Leads created in the measured window" in header
    assert "All leads of the run (warm-up included)" in header
    inside = sum(float(v[1].replace(",", "")) for v in states.values())
    whole = sum(float(v[3].replace(",", "")) for v in states.values())
    assert inside == pytest.approx(tot["leads_created"], abs=len(states))  # rounded cells
    assert whole > inside  # the warm-up's leads are in the whole-run columns


def test_terminal_states_of_the_window_reconcile_per_replication(results: Results) -> None:
    """In every replication the leads created in the measured window end in exactly one state:
    their counts add up to the funnel's leads created, and no state holds more of them than
    of the whole run's leads."""
    t = results.terminal.set_index("replication")
    inside = t[[c for c in t.columns if c.startswith("measured_")]]
    whole = t[[c for c in t.columns if not c.startswith("measured_")]]
    assert len(inside.columns) == len(whole.columns) == 5
    created = results.wide("total")["leads_created"]
    assert (inside.sum(axis=1) == created).all()
    assert (whole.sum(axis=1) > created).all()
    for state in whole.columns:
        assert (inside[f"measured_{state}"] <= whole[state]).all(), state


def test_glossary_meaning_aligns_left(results: Results) -> None:
    page = document._to_html(document._blocks(results, []), {}, "t")
    glossary = page.split("<h2>Glossary</h2>", 1)[1]
    assert "<th class='text'>Meaning</th>" in glossary
    cells = re.findall(r"<tr><td><code>[^<]+</code></td><td class='text'>[^<]*</td>"
                       r"<td class='text'>[^<]+</td></tr>", glossary)
    assert len(cells) >= 20
    assert "td.text" in document.CSS
    assert "text-align:left" in document.CSS.split("td.text", 1)[1][:40]
