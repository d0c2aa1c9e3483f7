"""Charts of the CRM commands (Altair, saved offline through vl-convert)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sla_sim.metrics.docs import metric_label

__all__ = ["backtest_chart", "review_chart", "rolling_chart", "save"]


#: How a band is drawn: solid from the calibrated scenario, dashed where the forecast rests on
#: a model the export did not identify (the band leaves that model's uncertainty out).
BAND_KINDS = ("calibrated", "base model (not identified)")


def _bands(df: pd.DataFrame) -> tuple[pd.DataFrame, Any, list[str]]:
    """``df`` with its band kind, the dash encoding of the bands and the panels in the
    table's order (MQLs, wins, then the won curve by days)."""
    import altair as alt

    out = df.copy()
    flag = out["from_base"] if "from_base" in out else pd.Series(None, index=out.index)
    out["band"] = [BAND_KINDS[isinstance(f, str)] for f in flag]
    dash = alt.StrokeDash("band:N", title="band",
                          scale=alt.Scale(domain=list(BAND_KINDS), range=[[1, 0], [3, 2]]))
    order = list(dict.fromkeys(out["metric"]))
    return out, dash, order


def backtest_chart(table: pd.DataFrame) -> Any:
    """Per metric (small multiples): the simulated P10-P90 band and P50, and the observation."""
    import altair as alt

    df = table.copy()
    df["label"] = df["metric"] + " " + df["period"]
    df["metric"] = df["metric"].map(metric_label)
    df["inside"] = df["inside"].map({True: "inside P10-P90", False: "outside"}).fillna(
        "not judged")
    df, dash, order = _bands(df)
    base = alt.Chart(df).encode(y=alt.Y("period:N", title=None))
    band = base.mark_rule(strokeWidth=6, opacity=0.35).encode(
        x=alt.X("p10:Q", title="value", scale=alt.Scale(zero=False)), x2="p90:Q",
        strokeDash=dash)
    mid = base.mark_tick(thickness=2, size=14).encode(x="p50:Q")
    obs = base.mark_point(filled=True, size=70).encode(
        x="observed:Q", color=alt.Color("inside:N", title="observed"))
    return (alt.layer(band, mid, obs, data=df).properties(width=220, height=60)
            .facet(facet=alt.Facet("metric:N", title=None, sort=order), columns=3)
            .resolve_scale(x="independent")
            .properties(title="Backtest: observed against the simulated P10-P90"))


def rolling_chart(table: pd.DataFrame) -> Any:
    """Per metric, by origin: the simulated P10-P90 band and P50 (dashed where the forecast
    rests on a model the export did not identify), the naive forecast (cross) and the
    observation (dot, coloured by inside / outside the band)."""
    import altair as alt

    df = table.dropna(subset=["observed"]).copy()
    df["label"] = df["metric"] + " " + df["period"].where(df["period"] == "cohort", "")
    df["metric"] = df["metric"].map(metric_label)
    df["inside"] = df["inside"].map({True: "inside P10-P90", False: "outside"}).fillna(
        "not judged")
    df, dash, order = _bands(df)
    x = alt.X("origin:N", title="origin")
    base = alt.Chart().encode(x=x)
    band = base.mark_rule(strokeWidth=8, opacity=0.3).encode(
        y=alt.Y("p10:Q", title=None, scale=alt.Scale(zero=False)), y2="p90:Q",
        strokeDash=dash)
    mid = base.mark_tick(thickness=2, size=16).encode(y="p50:Q")
    naive = base.mark_point(shape="cross", size=70, color="#7f7f7f").encode(y="naive:Q")
    obs = base.mark_point(filled=True, size=60).encode(
        y="observed:Q", color=alt.Color("inside:N", title="observed"))
    return (alt.layer(band, mid, naive, obs, data=df).properties(width=200, height=140)
            .facet(facet=alt.Facet("metric:N", title=None, sort=order), columns=4)
            .resolve_scale(y="independent")
            .properties(title="Rolling-origin backtest: simulation P10-P90 and P50 (tick),"
                        " naive forecast (cross), observed (dot)"))


def review_chart(review: Any) -> Any:
    """Per clause and KPI: the simulated months (ticks) and the actual month (red rule)."""
    import altair as alt

    # only what the export measured: a clause without its fields has no actual to place
    act = review.table.dropna(subset=["actual"])[["metric", "actual"]].rename(
        columns={"actual": "value"}).assign(kind="actual")
    sims = review.simulated[review.simulated["metric"].isin(act["metric"])].assign(
        kind="simulated")
    df = pd.concat([sims[["metric", "value", "kind"]], act], ignore_index=True)
    df["metric"] = df["metric"].map(metric_label)
    x = alt.X("value:Q", title=None, scale=alt.Scale(zero=False))
    ticks = alt.Chart().mark_tick(opacity=0.4).encode(x=x).transform_filter(
        alt.datum.kind == "simulated")
    rule = alt.Chart().mark_rule(color="#d62728", strokeWidth=2).encode(x=x).transform_filter(
        alt.datum.kind == "actual")
    return (alt.layer(ticks, rule, data=df).properties(width=260, height=50)
            .facet(facet=alt.Facet("metric:N", title=None), columns=3)
            .resolve_scale(x="independent")
            .properties(title=f"Monthly review {review.month}: actual (red) among simulated"
                        " months"))


def save(chart: Any, path: str | Path) -> list[Path]:
    """Save as SVG and PNG beside each other (offline; each to a temporary name, renamed)."""
    from sla_sim.batch.files import atomic_write

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in ("svg", "png"):
        q = p.with_suffix(f".{ext}")
        out.append(atomic_write(q, lambda tmp: chart.save(str(tmp))))
    return out
