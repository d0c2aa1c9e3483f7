"""Charts of a recommendation (Altair, drawn offline by vl-convert): the trade-off menu, the
tornado, and P(met) per clause per month with its interval."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sla_sim.metrics.numbers import prob
from sla_sim.recommend.commitments import CLAUSE_WORDS
from sla_sim.recommend.policy_space import policy_words

if TYPE_CHECKING:
    import altair as alt

    from sla_sim.recommend.engine import Recommendation


def menu_chart(rec: Recommendation) -> alt.Chart:
    """SDRs needed per first-touch window (bars) with P(met) in the worst month (labels)."""
    import altair as alt

    df = pd.DataFrame([{"window": f"{r['first_touch_hours']:g} h", "hours": r["first_touch_hours"],
                        "sdrs": r["sdrs"] if r["sdrs"] is not None else r.get("sdrs_more_than"),
                        "label": (f"P(met) {prob(r['p_met'])}" if r["sdrs"] is not None
                                  else f"> {r.get('sdrs_more_than')}"),
                        "requested": "requested" if r["requested"] else "menu"}
                       for r in rec.menu])  # fmt: skip
    base = alt.Chart(df).encode(x=alt.X("window:N", sort=alt.SortField("hours"),
                                        title="first touch within (business hours)"))
    bars = base.mark_bar().encode(y=alt.Y("sdrs:Q", title="SDRs needed"),
                                  color=alt.Color("requested:N", title=None))
    text = base.mark_text(dy=-6).encode(y="sdrs:Q", text="label:N")
    return (bars + text).properties(title="Trade-off menu: SDRs per first-touch window",
                                    width=360, height=220)


def tornado_chart(rec: Recommendation) -> alt.HConcatChart:
    """Revenue P50 and P(first touch met) at -20 % and +20 % of each input, around the base."""
    import altair as alt

    rows = []
    for t in rec.tornado:
        for d in ("low", "high"):
            if f"revenue_p50_{d}" in t:
                rows.append({"input": t["input"], "move": "-20 %" if d == "low" else "+20 %",
                             "revenue_p50": t[f"revenue_p50_{d}"],
                             "base": t["revenue_p50_base"],
                             "p_ft": t[f"p_first_touch_met_{d}"],
                             "p_ft_base": t["p_first_touch_met_base"]})  # fmt: skip
    df = pd.DataFrame(rows)
    order = [t["input"] for t in rec.tornado]
    height = 22 * max(1, len(order))
    y = alt.Y("input:N", sort=order, title=None)
    color = alt.Color("move:N", title=None)
    rev = alt.Chart(df).mark_bar().encode(
        y=y, x=alt.X("revenue_p50:Q", title=f"monthly revenue P50 ({rec.recommended.currency})"),
        x2="base:Q", color=color).properties(width=300, height=height)
    ft = alt.Chart(df).mark_bar().encode(
        y=alt.Y("input:N", sort=order, axis=None),
        x=alt.X("p_ft:Q", title="P(first touch met in a month)", scale=alt.Scale(domain=[0, 1])),
        x2="p_ft_base:Q", color=color).properties(width=200, height=height)
    return alt.hconcat(rev, ft).properties(
        title="Sensitivity (tornado): each input alone at -20 % and +20 %, same seeds")


def pmet_chart(rec: Recommendation) -> alt.Chart:
    """P(met) per clause per month with 95 % Wilson intervals and the confidence line."""
    import altair as alt

    rows = [{"clause": CLAUSE_WORDS.get(c.clause, c.clause.replace("_", " ")), "month": m,
             "p_met": x.p, "low": x.low, "high": x.high}
            for c in rec.commitments for m, x in zip(c.months, c.p_met, strict=True) if x.n]
    df = pd.DataFrame(rows)
    base = alt.Chart(df).encode(y=alt.Y("clause:N", title=None),
                                yOffset="month:N", color=alt.Color("month:N"))
    points = base.mark_point(filled=True).encode(
        x=alt.X("p_met:Q", title="P(met in the month)", scale=alt.Scale(domain=[0, 1])))
    rules = base.mark_rule().encode(x="low:Q", x2="high:Q")
    line = alt.Chart(pd.DataFrame({"c": [rec.request.confidence]})).mark_rule(
        strokeDash=[4, 3], color="black").encode(x="c:Q")
    return (rules + points + line).properties(title="P(met) per clause and month", width=360,
                                              height=40 * max(1, len(rec.commitments)))


def frontier_chart(rec: Recommendation) -> alt.LayerChart:
    """Cost versus confidence: every plan simulated (policy x SDRs), its monthly cost against
    the worst P(met) of the sales clauses, with the confidence line and the chosen plan."""
    import altair as alt

    df = pd.DataFrame(rec.policies.get("frontier") or [])
    if df.empty:
        df = pd.DataFrame({"policy": [], "sdrs": [], "cost_per_month": [], "p_met_worst": []})
    chosen = rec.policies.get("chosen", "")
    df["plan"] = ["chosen" if r.policy == chosen and r.sdrs == sum(
        t.reps for t in rec.recommended.teams) else "simulated" for r in df.itertuples()]
    df["policy"] = [policy_words(s) for s in df["policy"]]
    base = alt.Chart(df).encode(
        x=alt.X("cost_per_month:Q", scale=alt.Scale(zero=False),  # as sla.md names it
                title=f"cost per month at the revenue target ({rec.recommended.currency})"),
        y=alt.Y("p_met_worst:Q", title="P(met), worst sales clause and month",
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("policy:N", title="policy (work order / assignment / levers)"))
    lines = base.mark_line(point=True)
    ring = base.transform_filter(alt.datum.plan == "chosen").mark_point(size=220, color="black")
    conf = alt.Chart(pd.DataFrame({"c": [rec.request.confidence]})).mark_rule(
        strokeDash=[4, 3], color="black").encode(y="c:Q")
    return (lines + ring + conf).properties(
        title="Cost versus confidence: plans simulated (common random numbers)", width=380,
        height=240)


CHARTS = {"menu": menu_chart, "tornado": tornado_chart, "p_met": pmet_chart,
          "frontier": frontier_chart}


def save_charts(rec: Recommendation, out_dir: Path) -> dict[str, str]:
    """Save every chart as SVG and PNG into ``out_dir``; returns the SVG texts by name."""
    from sla_sim.batch.files import atomic_write

    out_dir.mkdir(parents=True, exist_ok=True)
    svgs: dict[str, str] = {}
    for name, build in CHARTS.items():
        if name == "tornado" and not rec.tornado:
            continue
        chart: Any = build(rec)
        for ext in ("svg", "png"):  # a temporary name, renamed into place
            atomic_write(out_dir / f"{name}.{ext}", lambda tmp, c=chart: c.save(str(tmp)))
        svgs[name] = (out_dir / f"{name}.svg").read_text(encoding="utf-8")
    return svgs
