"""The sweep heatmap shows P(breach) or P(met) per sweep point."""

from __future__ import annotations

import pandas as pd
import pytest

from sla_sim.report.charts import sweep_heatmap


def _table() -> pd.DataFrame:
    rows = []
    for a in (1, 2):
        for b in (10, 20):
            for rep, v in enumerate((0.0, 1.0, 1.0, 1.0) if a == 2 else (0.0, 0.0, 0.0, 1.0)):
                rows.append({"a": a, "b": b, "replication": rep, "period": "total",
                             "metric": "x_breach", "value": v})  # fmt: skip
    return pd.DataFrame(rows)


def test_heatmap_cells_are_breach_probabilities_or_their_complement():
    """Each cell is the mean of the 0/1 metric over replications, or 1 - mean with met=True."""
    t = _table()
    data = sweep_heatmap(t, "a", "b", "x_breach", "P").to_dict()["datasets"]
    cells = next(iter(data.values()))
    got = {(c["x"], c["y"]): c["p"] for c in cells}
    assert got[(1, 10)] == pytest.approx(0.25)
    assert got[(2, 20)] == pytest.approx(0.75)
    met = next(iter(sweep_heatmap(t, "a", "b", "x_breach", "P", met=True).to_dict()
                    ["datasets"].values()))  # fmt: skip
    assert {(c["x"], c["y"]): c["p"] for c in met}[(1, 10)] == pytest.approx(0.75)
    # coloured by the risk of a miss with the planner's bands, whichever way it is shown: a
    # 75 % chance of meeting is a 25 % risk (medium), not a reassuring colour
    risk = {(c["x"], c["y"]): c["risk"] for c in met}
    assert risk[(1, 10)] == "medium: 10 to 50 %"
    assert risk[(2, 20)] == "high: 50 % or more"


def test_heatmap_rejects_a_metric_not_in_the_table():
    """Asking for a metric the sweep did not record is a clear error naming it."""
    with pytest.raises(ValueError, match="nope"):
        sweep_heatmap(_table(), "a", "b", "nope", "P")


def test_heatmap_cells_print_probabilities_as_every_table_does():
    """The cells read '25%' (d3's '.0%') beside the '25 %' of every table and the planner; now
    they print :func:`sla_sim.metrics.numbers.prob`'s text, and so does the tooltip."""
    from sla_sim.metrics.numbers import prob

    chart = sweep_heatmap(_table(), "a", "b", "x_breach", "P").to_dict()
    cells = next(iter(chart["datasets"].values()))
    assert {c["label"] for c in cells} == {prob(0.25), prob(0.75)} == {"25 %", "75 %"}
    text = next(layer for layer in chart["layer"] if layer["mark"]["type"] == "text")
    assert text["encoding"]["text"] == {"field": "label", "type": "nominal"}
    assert "'format'" not in str(chart["layer"])  # no d3 percent format left to print 25%
