"""sla-sim recommend on a small scenario: exports, minimality, held-out check, bad requests.

One recommendation is computed once per module (a scaled-down default scenario: ~1,000 leads a
month, 30 days of warm-up, two measured months) and every test reads it.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from ci_env import require

from sla_sim.batch.replications import run_replications
from sla_sim.cli.main import main
from sla_sim.errors import ScenarioError
from sla_sim.metrics.numbers import prob, prob_interval
from sla_sim.recommend import exports
from sla_sim.recommend.commitments import AE_WAIT_BUSINESS_HOURS
from sla_sim.recommend.document import SECTIONS
from sla_sim.recommend.engine import recommend
from sla_sim.scenario.io import load, set_path
from sla_sim.scenario.presets import preset

SEED, REPS, CONF = 11, 16, 0.8
SMALL = {"horizon.warmup_days": 30, "horizon.measure_months": 2}


def scaled(overrides: dict, volume: float):
    """The default preset with ``overrides`` applied and every channel's leads x ``volume``."""
    sc = preset("default")
    for path, value in overrides.items():
        sc = set_path(sc, path, value)
    for ch in sc.channels:
        sc = set_path(sc, f"channels[{ch.name}].leads_per_month", ch.leads_per_month * volume)
    return sc


def small():
    return scaled(SMALL, 0.2)


@pytest.fixture(scope="module")
def rec():
    return recommend(small(), revenue_target=450_000, confidence=CONF, reps=REPS, seed=SEED,
                     workers=2, progress=False, sensitivity_reps=3, min_reps=8,
                     first_touch_menu=(2.0,))


@pytest.fixture(scope="module")
def out(rec, tmp_path_factory):
    d = tmp_path_factory.mktemp("rec")
    exports.write(rec, d)
    return d


def test_json_validates_against_its_schema(out: Path) -> None:
    jsonschema = require("jsonschema", "pip install -e .[dev]")
    doc = json.loads((out / "recommendation.json").read_text())
    jsonschema.validate(doc, exports.JSON_SCHEMA)
    assert doc["schema_version"] == exports.SCHEMA_VERSION
    bad = dict(doc, commitments=[dict(doc["commitments"][0], p_met=1.5)])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, exports.JSON_SCHEMA)


def test_json_has_what_the_issue_lists(out: Path) -> None:
    doc = json.loads((out / "recommendation.json").read_text())
    clauses = {c["clause"] for c in doc["commitments"]}
    assert {"mql_volume", "acceptance", "handoff", "first_touch", "attempts",
            "disposition"} <= clauses
    for c in doc["commitments"]:
        assert c["p_met_low"] <= (c["p_met"] or 0) <= c["p_met_high"] or c["p_met"] is None
        assert len(c["p_met_per_month"]) == 2
    roles = {h["role"] for h in doc["headcount"]}
    assert roles == {"SDR", "AE"}
    assert all({"analytic", "simulated"} <= set(h) for h in doc["headcount"])
    assert {"p10", "p50", "p90", "p_ge_target"} <= set(doc["revenue"][0])
    assert [v["channel"] for v in doc["volumes"]][-1] == "total"
    assert len(doc["sensitivity"]["inputs"]) == 10
    assert {"seed", "replications", "scenario_hash", "sla_sim_version"} <= set(doc["run"])


def test_csv_round_trips(rec, out: Path) -> None:
    with (out / "recommendation.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == exports.CSV_COLUMNS
    want = exports.csv_rows(rec)
    assert len(rows) == len(want)
    for got, w in zip(rows, want, strict=True):
        for k in exports.CSV_COLUMNS:
            if isinstance(w[k], float):
                assert float(got[k]) == pytest.approx(w[k], rel=1e-12)
            else:
                assert got[k] == str(w[k])


def test_sla_md_states_every_commitment_with_its_number(rec, out: Path) -> None:
    md = (out / "sla.md").read_text()
    for c in rec.commitments:
        assert c.statement in md
        w = c.p_met_min
        assert f"met in {prob(w.p)} of simulated months" in md
    for section in SECTIONS:
        assert f"## {section}" in md
    for words in ("sales-accepted lead", "Signatures", "R7 unreached", "first_touch_at",
                  "Escalation", "Effective 2026-01-01", "business hours"):
        assert words in md
    assert "1 clock hours" not in md
    assert "of the mql." not in md
    html = (out / "sla.html").read_text()
    assert "<svg" in html
    assert "http" not in re.sub(r'xmlns(:\w+)?="[^"]*"', "", html)  # nothing fetched online


def test_recommended_yaml_is_valid_input_with_the_recommendation(rec, out: Path) -> None:
    sc = load(out / "recommended.yaml")
    assert sc == rec.recommended.model_copy(update={"description": sc.description})
    assert f"{sc.teams[0].reps} SDRs" in sc.description
    assert f"{sc.ae.count} AEs" in sc.description
    hc = {h["team"]: h["simulated"] for h in rec.headcount}
    assert sc.teams[0].reps == hc[sc.teams[0].name]
    assert sc.ae.count == hc["ae"]
    by = {c.clause: c.target for c in rec.commitments}
    assert sc.sla.mql_commitment_per_month == by["mql_volume"]
    assert sc.sla.acceptance_rate_min == by["acceptance"]
    assert sc.sla.handoff_within_hours == by["handoff"]


def test_both_answers_and_the_binding_clause_are_reported(rec) -> None:
    assert rec.binding in {c.clause for c in rec.commitments}
    worst = min(c.p_met_min.p for c in rec.commitments if c.p_met_min.n)
    assert {c.clause: c.p_met_min.p for c in rec.commitments}[rec.binding] == worst
    f = rec.facts
    assert f["replications_simulated"] < f["replications_judged"]  # SLA variants re-judged


def test_every_commitment_is_met_in_sample(rec) -> None:
    for c in rec.commitments:
        for cell in c.p_met:
            if cell.n:
                assert cell.p >= CONF, (c.clause, cell)


def _p_met_by_month(results, sc) -> dict[str, list[float]]:
    """P(met) per clause and month from a Results, the AE capacity clause included."""
    months = [p for p in dict.fromkeys(p for p, _ in results.keys) if p != "total"]
    out = {}
    for cl in ("mql_volume", "acceptance", "handoff", "first_touch", "attempts", "disposition"):
        ps = []
        for m in months:
            x = results.column(f"{cl}_breach", m)
            x = x[~np.isnan(x)]
            ps.append(float(1 - x.mean()) if len(x) else math.nan)
        out[cl] = ps
    out["ae_capacity"] = [float(np.mean(np.nan_to_num(results.column(
        "ae_wait_business_hours_mean", m)) <= AE_WAIT_BUSINESS_HOURS)) for m in months]
    return out


@pytest.mark.slow
def test_held_out_seed_meets_every_clause_within_three_standard_errors(rec, out) -> None:
    """recommended.yaml's scenario on a seed the recommender never used meets every clause in
    every month, and the revenue target, with frequency >= c - 3 binomial standard errors."""
    n = 40
    sc = load(out / "recommended.yaml")
    res = run_replications(sc, reps=n, seed=SEED + 987_654, workers=2,
                           progress=False, keep_log_of=None)  # fmt: skip
    floor = CONF - 3 * math.sqrt(CONF * (1 - CONF) / n)
    p_met = _p_met_by_month(res, sc)
    p_met["revenue_target"] = [float(1 - res.column("revenue_target_breach", m).mean())
                               for m in rec.months]  # the month's target, on its basis
    for clause, ps in p_met.items():
        for p in ps:
            assert math.isnan(p) or p >= floor, (clause, ps, floor)


def test_one_sdr_or_ae_fewer_drops_a_clause_below_confidence(rec) -> None:
    """Minimal: with the same seeds (common random numbers), one SDR fewer breaks a sales
    clause in some month, and one AE fewer breaks the AE capacity clause."""
    sc = rec.recommended
    team = sc.teams[0].name
    sdr_k = max(d["replications"] for d in rec.facts["sdr_decisions"]
                if d["sdrs"] == sc.teams[0].reps - 1
                and d["policy"] == rec.policies["chosen"]
                and d["first_touch_hours"] == sc.sla.first_touch_within_business_hours)
    if sc.teams[0].reps > 1:
        fewer = set_path(sc, f"teams[{team}].reps", sc.teams[0].reps - 1)
        res = run_replications(fewer, reps=sdr_k, seed=SEED, workers=2, progress=False,
                               keep_log_of=None)  # fmt: skip
        p = _p_met_by_month(res, fewer)
        worst = min(min(p[c]) for c in ("first_touch", "attempts", "disposition"))
        assert worst < CONF
    if sc.ae.count > 1:
        fewer = set_path(sc, "ae.count", sc.ae.count - 1)
        res = run_replications(fewer, reps=REPS, seed=SEED, workers=2, progress=False,
                               keep_log_of=None)  # fmt: skip
        assert min(_p_met_by_month(res, fewer)["ae_capacity"]) < CONF


def test_menu_never_needs_fewer_sdrs_for_a_tighter_window(rec) -> None:
    menu = sorted(rec.menu, key=lambda r: r["first_touch_hours"])
    need = [r["sdrs"] if r["sdrs"] is not None else math.inf for r in menu]
    assert need == sorted(need, reverse=True)
    assert [r["first_touch_hours"] for r in menu if r["requested"]] == [4.0]


@pytest.mark.slow
def test_higher_revenue_target_never_lowers_volume_or_headcount() -> None:
    kw = {"confidence": CONF, "reps": 12, "seed": SEED, "workers": 2, "progress": False,
          "tornado": False, "min_reps": 6, "first_touch_menu": (),
          "keep": ("teams[sdr].work_order",)}  # headcount under one policy
    lo = recommend(small(), revenue_target=300_000, **kw)
    hi = recommend(small(), revenue_target=600_000, **kw)
    for a, b in zip(lo.recommended.channels, hi.recommended.channels, strict=True):
        assert b.leads_per_month >= a.leads_per_month
    assert hi.recommended.teams[0].reps >= lo.recommended.teams[0].reps
    assert hi.recommended.ae.count >= lo.recommended.ae.count
    by_lo = {c.clause: c.target for c in lo.commitments}
    by_hi = {c.clause: c.target for c in hi.commitments}
    assert by_hi["mql_volume"] >= by_lo["mql_volume"]


@pytest.mark.slow
def test_tighter_first_touch_never_lowers_the_sdr_count() -> None:
    kw = {"revenue_target": 450_000, "confidence": CONF, "reps": 12, "seed": SEED,
          "workers": 2, "progress": False, "tornado": False, "min_reps": 6,
          "first_touch_menu": (), "keep": ("teams[sdr].work_order",)}
    loose = recommend(small(), **kw)
    tight = recommend(set_path(small(), "sla.first_touch_within_business_hours", 1.0), **kw)
    assert tight.recommended.teams[0].reps >= loose.recommended.teams[0].reps


def test_kept_lever_is_not_changed() -> None:
    sc = set_path(small(), "teams[sdr].reps", 4)
    r = recommend(sc, revenue_target=450_000, confidence=CONF, reps=8, seed=SEED, workers=2,
                  progress=False, tornado=False, min_reps=8, first_touch_menu=(),
                  keep=("teams[sdr].reps", "ae.count"))  # fmt: skip
    assert r.recommended.teams[0].reps == 4
    assert r.recommended.ae.count == sc.ae.count
    assert all(h["kept"] for h in r.headcount)
    assert "p_ge_target" in r.revenue[-1]


def test_infeasible_request_names_the_lever_that_runs_out() -> None:
    sc = set_path(small(), "sla.first_touch_within_business_hours", 0.05)
    with pytest.raises(ScenarioError, match=r"teams\[sdr\]\.reps: runs out"):
        recommend(sc, confidence=CONF, reps=6, seed=SEED, workers=2, progress=False,
                  tornado=False, min_reps=6, first_touch_menu=(), max_headcount=3,
                  keep=("channels",))  # fmt: skip


@pytest.mark.parametrize(("argv", "words"), [
    (["--revenue-target", "-1"], "--revenue-target: must be a finite amount"),
    (["--confidence", "0.5"], "--confidence: must be strictly between 0.5 and 0.999"),
    (["--confidence", "0.999"], "--confidence"),
    (["--keep", "teams[nobody].reps"], "--keep teams[nobody].reps: names no scenario field"),
    (["--keep", "sla.no_such_field"], "names no scenario field"),
    (["--reps", "1"], "--reps: must be >= 2"),
])
def test_bad_requests_exit_2_with_a_clear_message(argv, words, capsys) -> None:
    assert main(["recommend", "--quiet", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err
    assert "Traceback" not in err


def test_infeasible_request_exits_2_from_the_cli(tmp_path, capsys) -> None:
    sets = [f"{k}={v}" for k, v in SMALL.items()] + [
        "sla.first_touch_within_business_hours=0.05"]
    argv = ["recommend", "--quiet", "--reps", "6", "--seed", "3", "--workers", "2",
            "--max-headcount", "2", "--keep", "channels", "--no-sensitivity",
            "--store", str(tmp_path / "store")]
    for s in sets:
        argv += ["--set", s]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "runs out" in err
    assert "teams[sdr].reps" in err


def test_schema_option_prints_the_schema(capsys) -> None:
    assert main(["recommend", "--schema"]) == 0
    assert json.loads(capsys.readouterr().out) == exports.JSON_SCHEMA


def test_planner_recommend_fills_the_levers(rec, monkeypatch: pytest.MonkeyPatch) -> None:
    """The panel's Recommend action loads the recommendation into the levers: SDR and AE
    headcount, first touch and MQL commitment read what the recommender chose."""
    require("ipywidgets", "pip install -e .[notebook]")
    from sla_sim.planner.engine import Planner
    from sla_sim.planner.panel import PlannerPanel

    planner = Planner(reps=2, workers=1)
    try:
        panel = PlannerPanel(scenario=small(), planner=planner)
        calls: list[tuple[float, int]] = []

        def fake_now(confidence: float, reps: int):
            calls.append((confidence, reps))
            return rec

        monkeypatch.setattr(panel, "_recommend_now", fake_now)
        panel.recommend_button.click()  # no event loop here: runs synchronously
        assert calls == [(0.9, 40)]
        got = panel.values()
        want = rec.recommended
        assert got["sdr_count"] == next(t.reps for t in want.teams if t.name == "sdr")
        assert got["ae_count"] == want.ae.count
        assert got["first_touch"] == want.sla.first_touch_within_business_hours
        assert got["mql_commitment"] == pytest.approx(want.sla.mql_commitment_per_month)
        assert rec.binding in panel.recommend_note.value
        assert panel.current_scenario() == want
    finally:
        planner.close()


def test_sla_html_speaks_words(out: Path) -> None:
    """The SLA document a VP signs: no code name and no scientific notation in its visible
    text (CRM field names it maps clauses to are set as code, on purpose)."""
    from words import code_words, visible_text

    assert code_words(visible_text((out / "sla.html").read_text(encoding="utf-8"))) == []


def test_the_chosen_plan_costs_the_same_in_every_table(rec, out: Path) -> None:
    """The policy table's chosen row, the cost frontier's point of the plan and 'Expected cost
    of the plan per month' are one price (the plan's AEs): the table priced the plans with the
    AEs the SDR search simulated (the analytic guess), 1,815,384 against 1,751,474 USD on the
    default preset, both labelled the plan's cost per month."""
    pol = rec.policies
    total = pol["cost_per_month"]["cost_total"]
    chosen = next(p for p in pol["plans"] if p["policy"] == pol["chosen"])
    assert chosen["cost_per_month"] == pytest.approx(total, rel=1e-9)
    point = [f for f in pol["frontier"] if f["policy"] == pol["chosen"]
             and f["staffing"] == chosen["staffing"]]  # fmt: skip
    assert point
    assert point[0]["cost_per_month"] == pytest.approx(total, rel=1e-9)
    own = next(p for p in pol["plans"] if p["headcount_only"])
    assert pol["saving_per_month"] == pytest.approx(own["cost_per_month"] - total, rel=1e-9)
    text = (out / "sla.md").read_text()
    assert f"Cost of the plan at the revenue target: {total:,.0f}" in text
    assert f"| {chosen['sdrs']} | {total:,.0f} |" in text


def test_the_requested_menu_row_is_the_plan(rec, out: Path) -> None:
    """The trade-off menu's requested window shows the plan's revenue P50 and first-touch
    P(met), the numbers of the headline and the commitment: it showed the SDR search's
    candidate, simulated with the analytic AEs (default preset: revenue P50 2,762,848 in the
    menu against 2,720,653 USD a month in the headline, 54 AEs against the plan's 47)."""
    row = next(r for r in rec.menu if r["requested"])
    assert row["aes"] == rec.recommended.ae.count
    assert row["revenue_p50"] == pytest.approx(rec.revenue[-1]["p50"], rel=1e-12)
    ft = next(c for c in rec.commitments if c.clause == "first_touch")
    assert row["p_met"] == pytest.approx(ft.p_met_min.p, rel=1e-12)
    assert f"{row['revenue_p50']:,.0f}" in (out / "sla.md").read_text()


def test_money_on_the_terminal_names_its_currency(rec) -> None:
    """The terminal's revenue line names the currency, as sla.md does ('revenue per month:
    P10 2,330,412 P50 ...' had none), and so does the revenue shortfall's reach."""
    from sla_sim.cli.recommend import summary

    cur = rec.recommended.currency
    line = next(x for x in summary(rec).splitlines() if "revenue per month" in x)
    assert f"revenue per month ({cur}): P10" in line
    for s in rec.shortfalls:
        if s["clause"] == "revenue":
            assert f"{s['tightest_term_met']:,.0f} {cur} per month" in s["statement"]


def test_the_planner_states_the_plans_money_and_marginal_value(rec) -> None:
    """The planner's Recommend note carries the plan's money and the marginal value of a rep
    in the terminal's and sla.md's words and numbers; it showed only the expected cost (at
    the target), no profit and no marginal value."""
    require("ipywidgets", "pip install -e .[notebook]")
    import html

    from sla_sim.planner.panel import recommendation_html
    from sla_sim.recommend.marginal import marginal_table, money_sentence

    note = recommendation_html(rec)
    assert html.escape(money_sentence(rec.money)) in note
    for row in marginal_table(rec.marginal)[1:]:
        assert "".join(f"<td>{html.escape(c)}</td>" for c in row) in note
    assert "at the revenue target" in note  # the priced cost says what it assumes, as sla.md


def test_the_two_monthly_costs_of_a_plan_are_named_alike_on_every_screen(rec, out: Path) -> None:
    """The planner's note showed 'Expected cost 1,815,384 USD per month' beside the money
    line's 'cost 1,790,112' (the mean at each replication's simulated revenue): two monthly
    costs of one plan under near-identical labels, and sla.md called the first 'Expected cost
    of the plan per month'. Now the terminal, sla.md and the planner state the priced one in
    one sentence, 'Cost of the plan at the revenue target', and the money line's 'cost at that
    revenue'."""
    require("ipywidgets", "pip install -e .[notebook]")
    import html

    from sla_sim.cli.recommend import summary
    from sla_sim.planner.panel import recommendation_html
    from sla_sim.recommend.marginal import money_sentence, target_cost_sentence

    cur = rec.recommended.currency
    total = rec.policies["cost_per_month"]["cost_total"]
    sentence = target_cost_sentence(rec.policies, cur)
    assert sentence.startswith(f"Cost of the plan at the revenue target: {total:,.0f} {cur}")
    assert ", cost at that revenue " in money_sentence(rec.money)
    terminal = summary(rec)
    md = " ".join((out / "sla.md").read_text(encoding="utf-8").split())
    note = recommendation_html(rec)
    assert sentence in terminal
    assert sentence in md
    assert html.escape(sentence) in note
    for screen in (terminal, md, note):
        assert "Expected cost" not in screen
        assert "at that revenue" in screen
    # the cost frontier's axis names the same price as the policy table and the sentence
    from sla_sim.recommend.charts import frontier_chart

    assert f"cost per month at the revenue target ({cur})" in str(frontier_chart(rec).to_dict())
    assert f"| cost per month at the revenue target ({cur}) |" in md


def test_runs_show_of_a_recommendation_states_its_money(rec, tmp_path, capsys) -> None:
    """`runs show` of a recommendation's store entry prints the plan's money and the marginal
    value of a rep, the terminal's lines from recommendation.json; it printed run.json alone."""
    from sla_sim.batch.store import RunStore
    from sla_sim.cli.recommend import summary

    run_id, _ = exports.keep(rec, RunStore(tmp_path / "store"), 1.0, None)
    capsys.readouterr()
    assert main(["runs", "show", run_id, "--store", str(tmp_path / "store")]) == 0
    shown = capsys.readouterr().out
    terminal = [ln for ln in summary(rec).splitlines()
                if ln.startswith(("  money ", "    SDRs", "    AEs", "  marginal value",
                                  "  Cost of the plan at the revenue target"))]
    assert terminal
    for line in terminal:
        assert line in shown, line


def test_acceptance_is_a_percentage_on_every_screen(rec, out: Path) -> None:
    """The acceptance commitment reads '31.7 %' on the terminal as in sla.md ('At least 31.7 %
    of the MQLs ...'), the term signed, not rounded to a whole percent; the terminal printed
    '0.31 share' and the shortfalls 'at 0.31 share', 'at 1933 MQLs' (no thousands separator)
    beside sla.md's '1,933 MQLs'."""
    from sla_sim.cli.recommend import summary
    from sla_sim.recommend.commitments import term_text

    acc = next(c for c in rec.commitments if c.clause == "acceptance")
    pct = prob(acc.target)
    line = next(ln for ln in summary(rec).splitlines() if " acceptance " in ln)
    assert " ".join(line.split()[2:4]) == pct
    assert f"At least {pct} of the MQLs" in (out / "sla.md").read_text()
    assert term_text(0.31, "share") == "31 %"
    assert term_text(0.3172, "share") == "31.7 %"  # the term signed, not 32 % (stricter)
    assert term_text(1933.0, "MQLs") == "1,933 MQLs"
    for s in rec.shortfalls:
        if s["clause"] != "revenue":
            assert f" at {term_text(s['term'], s['unit'])}: met in" in s["statement"]


def test_probabilities_read_on_every_screen_as_run_prints_them(rec, out: Path) -> None:
    """P(met), its interval, the confidence and every share print as ``run``, the report and
    the notebooks do (``87.5 %``, units.prob): the terminal and sla.md of ``recommend`` rounded
    them to whole percents without the space (``88%``, ``84%-100%``)."""
    from sla_sim.cli.recommend import summary

    text, md = summary(rec), (out / "sla.md").read_text()
    # a percentage glued to its number is a label ("95% interval"), never a figure
    for page in (text, md):
        assert not re.search(r"\d%(?! (t )?(interval|Wilson|lower))", page), page
    for c in rec.commitments:
        w = c.p_met_min
        if w.n:
            assert f"{prob(w.p)}  {prob_interval(w.low, w.high)}" in " ".join(
                ln for ln in text.splitlines() if f" {c.clause} " in ln).replace("   ", "  ")
            assert f"met in {prob(w.p)} of simulated months" in md
    assert f"in at least {prob(CONF)}" in md or "Not every commitment" in md
    # the confidence as sla.md states it, not the option's 0.8
    assert text.startswith(f"Recommendation at confidence {prob(CONF)} (P(met)")
    assert f"at revenue confidence {prob(CONF)}" in text


def test_the_menu_row_at_the_revenue_confidence_is_the_plan(rec) -> None:
    """The revenue-confidence menu's row at the plan's own confidence shows the plan's volume
    (the default recommendation showed 7,455 leads a month at 90 % beside a plan of 7,153)."""
    from sla_sim.cli.recommend import summary

    status = rec.facts["revenue_status"]
    rows = {r["revenue_confidence"]: r for r in rec.revenue_menu}
    assert CONF in rows
    if status == "not met":
        assert not rows[CONF]["plan"]
    else:
        assert rows[CONF]["plan"]
        assert rows[CONF]["leads_per_month"] == pytest.approx(
            rec.volumes[-1]["leads_per_month"], rel=1e-12)
        leads = rec.volumes[-1]["leads_per_month"]
        shown = summary(rec)
        assert f"{prob(CONF)} -> {leads:,.0f} leads/month (the plan)" in shown
        assert "(estimate)" in shown


def test_the_plans_money_and_revenue_line_share_one_percentile(rec) -> None:
    """`money` (the terminal's and sla.md's money sentence) states P10 / P90 per month as the
    revenue line does (replications x months pooled): the JSON held two 'revenue per month
    P10's, 2,697,450 in `money` (of each replication's mean month) beside 2,330,412 in
    `revenue` (default preset)."""
    m, r = rec.money, rec.revenue[-1]
    assert m["revenue_per_month_mean"] == pytest.approx(r["mean"], rel=1e-9)
    assert m["revenue_per_month_p10"] == pytest.approx(r["p10"], rel=1e-9)
    assert m["revenue_per_month_p90"] == pytest.approx(r["p90"], rel=1e-9)
