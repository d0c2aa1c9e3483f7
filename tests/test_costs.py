"""Costs, profit, CAC and the marginal value of a lever (sla_sim.metrics.costs, Results.costs,
sla_sim.batch.marginal): exact against hand sums, undefined where they must be, paired."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from sla_sim import preset, preset_names, run_replications
from sla_sim.batch.marginal import marginal
from sla_sim.batch.results import Results
from sla_sim.batch.worker import run_one, simulation_key
from sla_sim.cli.main import main
from sla_sim.horizon import TOTAL, window_for
from sla_sim.metrics.costs import cost_keys, cost_rows, expected_monthly_cost
from sla_sim.metrics.docs import metric_doc
from sla_sim.scenario.costs import CostsSpec
from sla_sim.scenario.io import dump_yaml, set_path, validate
from tests.conftest import SEED, make_tiny

PRICES = {"teams": [{"name": "sdr", "rep_cost_per_month_amount": 10_000.0,
                     "hire_cost_amount": 1_000.0, "ramp_cost_amount": 500.0}],
          "ae": {"rep_cost_per_month_amount": 8_000.0, "commission_share": 0.1},
          "channels": [{"name": c, "cost_per_lead_amount": 50.0, "fixed_per_month_amount": 200.0}
                       for c in ("inbound", "paid", "events", "outbound", "partner")]}  # fmt: skip


def test_costs_are_exact_against_a_hand_computed_month() -> None:
    """Fixed headcount plus two hires on 15 January, constant cost per lead: the month's cost
    is rep-months x price + hires x (hire + ramp) + AEs + commission on booked revenue + leads x
    price + fixed spend, to the cent; CAC is that over the month's wins."""
    sc = set_path(make_tiny({"teams[sdr].hires": [{"start": dt.date(2026, 1, 15), "reps": 2}]}),
                  "costs", PRICES)  # fmt: skip
    r = run_one(sc, SEED, 0, keep_log=True)
    res = Results.from_replications(sc, SEED, [r])
    log, win = r.log, window_for(sc)
    (month,) = win.months
    frame = log.to_frame()
    t = frame["time_h"].to_numpy()
    inside = (t >= month.start_h) & (t < month.end_h)
    won = inside & (frame["event"].astype(str).to_numpy() == "won")
    revenue = float(frame["value"].to_numpy()[won].sum())
    wins = int(won.sum())
    created = log.leads["created_h"]
    leads = [int(np.count_nonzero((created >= month.start_h) & (created < month.end_h)
                                  & (log.leads["channel"] == ci))) for ci in range(5)]
    rep_months = 10 + 2 * 17 / 31  # ten all January, two from the 15th (17 of 31 days)
    hand = (rep_months * 10_000 + 2 * (1_000 + 500) + sc.ae.count * 8_000 + 0.1 * revenue
            + sum(50.0 * n + 200.0 for n in leads))  # fmt: skip
    for period in (month.label, TOTAL):
        assert res.column("revenue", period)[0] == pytest.approx(revenue, rel=1e-12)
        assert res.column("cost_total", period)[0] == pytest.approx(hand, rel=1e-12)
        assert res.column("cost_team_sdr", period)[0] == pytest.approx(
            rep_months * 10_000 + 3_000, rel=1e-12)
        assert res.column("cac", period)[0] == pytest.approx(hand / wins, rel=1e-12)
        assert res.column("gross_profit", period)[0] == pytest.approx(revenue - hand, rel=1e-12)
    assert r.drivers[(month.label, "hires_sdr")] == 2
    assert r.drivers[(month.label, "rep_months_sdr")] == pytest.approx(rep_months, rel=1e-12)


def test_cac_of_a_month_without_wins_is_undefined() -> None:
    """CAC (and every ratio) with a zero denominator is NaN: never infinite, never 0."""
    sc = make_tiny()
    drivers = {("m", "months"): np.ones(3), **{("m", f"leads_{c}"): np.full(3, 10.0)
               for c in sc.channel_names()}, ("m", "rep_months_sdr"): np.full(3, 10.0),
               ("m", "hires_sdr"): np.zeros(3)}  # fmt: skip
    kpis = {("m", "revenue"): np.array([0.0, 5e4, 0.0]), ("m", "mqls"): np.array([0, 4.0, 3]),
            ("m", "sqls"): np.array([0.0, 2, 1]), ("m", "wins"): np.array([0.0, 2, 0])}
    rows = cost_rows(drivers, kpis, sc, ["m"])
    cac = rows[("m", "cac")]
    assert np.isnan(cac[0])
    assert np.isnan(cac[2])
    assert cac[1] == pytest.approx(rows[("m", "cost_total")][1] / 2)
    assert np.isnan(rows[("m", "cost_per_sql")][0])
    assert np.isnan(rows[("m", "cost_per_mql")][0])
    assert not np.isinf(np.concatenate(list(rows.values()))).any()


def test_simulated_zero_win_months_have_undefined_cac() -> None:
    """In a simulated month with no win, cac is NaN and the summary counts only defined ones."""
    sc = make_tiny({f"channels[{c}].win_rate": 0.002 for c in range(5)})
    res = run_replications(sc, reps=3, seed=SEED, workers=1, progress=False)
    wins, cac = res.column("wins"), res.column("cac")
    assert (wins == 0).any(), "the near-zero win rate should leave a month without a win"
    assert np.isnan(cac[wins == 0]).all()
    assert np.isfinite(cac[wins > 0]).all()
    s = res.costs.summary().set_index(["period", "metric"])
    assert s.loc[(TOTAL, "cac"), "n"] == int((wins > 0).sum())


@pytest.fixture(scope="module")
def plain_and_priced() -> tuple[Results, Results, Results]:
    """The tiny scenario without a costs section, with default costs spelled out, and with
    other prices: two replications each."""
    data = make_tiny().model_dump(mode="json")
    data.pop("costs")
    plain = validate(data)
    explicit = set_path(plain, "costs", CostsSpec().model_dump())
    other = set_path(plain, "costs", PRICES)
    return tuple(run_replications(sc, reps=2, seed=SEED, workers=1, progress=False)
                 for sc in (plain, explicit, other))  # type: ignore[return-value]


def test_costs_never_change_the_simulation(plain_and_priced) -> None:
    """A scenario without costs gives the same KPIs bit for bit as with any prices (the preset
    checksums pin those), one simulation serves them all, and its cost metrics are the
    defaults'."""
    plain, explicit, other = plain_and_priced
    for r in (explicit, other):
        assert r.keys == plain.keys
        np.testing.assert_array_equal(r.values, plain.values)
        assert simulation_key(r.scenario) == simulation_key(plain.scenario)
    np.testing.assert_array_equal(plain.costs.values, explicit.costs.values)
    assert not np.array_equal(plain.costs.values, other.costs.values)
    sdr = plain.column("cost_team_sdr")
    np.testing.assert_allclose(sdr, 10 * 9_250.0)  # ten SDRs for one month at the default
    assert plain.costs.keys == [(p, m) for p in (*[q.label for q in window_for(
        plain.scenario).months], TOTAL) for m in cost_keys(plain.scenario)]  # fmt: skip


def test_costs_are_saved_and_loaded_with_the_run(plain_and_priced, tmp_path: Path) -> None:
    """summary.json carries the cost metrics; a saved run loads with the same costs."""
    res = plain_and_priced[2]
    res.save(tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["costs"]["currency"] == "USD"
    got = summary["costs"]["periods"][TOTAL]["gross_profit"]["mean"]
    assert got == pytest.approx(float(np.mean(res.column("gross_profit"))), rel=1e-6)
    back = Results.load(tmp_path)
    np.testing.assert_array_equal(back.costs.values, res.costs.values)


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_validates_with_costs(name: str) -> None:
    """Each preset costs every team and channel (listed or by default), survives a YAML round
    trip, and prices its plan before simulating."""
    sc = preset(name)
    again = validate(yaml.safe_load(dump_yaml(sc)))
    assert again.costs == sc.costs
    for team in sc.team_names():
        assert sc.costs.team(team).rep_cost_per_month_amount > 0
    for ch in sc.channel_names():
        assert sc.costs.channel(ch).cost_per_lead_amount > 0
    plan = expected_monthly_cost(sc, revenue_per_month=1e6)
    assert set(plan) == {*(f"cost_team_{t}" for t in sc.team_names()), "cost_ae",
                         *(f"cost_channel_{c}" for c in sc.channel_names()),
                         "cost_commission", "cost_total"}  # fmt: skip
    assert math.isfinite(plan["cost_total"])
    assert plan["cost_total"] == pytest.approx(sum(v for k, v in plan.items()
                                                   if k != "cost_total"))
    assert plan["cost_commission"] == pytest.approx(sc.costs.ae.commission_share * 1e6)
    for metric in cost_keys(sc):
        assert metric_doc(metric)[0], f"{metric} has no documented unit"


def test_expected_monthly_cost_of_the_default_plan() -> None:
    """Default plan: ten SDRs and 44 AEs at the benchmark costs, leads at list prices."""
    plan = expected_monthly_cost(preset("default"))
    assert plan["cost_team_sdr"] == pytest.approx(10 * 9_250.0)
    assert plan["cost_ae"] == pytest.approx(44 * 9_130.0)
    assert plan["cost_channel_paid"] == pytest.approx(1_600 * 116.0)
    assert plan["cost_commission"] == 0


@pytest.mark.parametrize(("costs", "field"), [
    ({"teams": [{"name": "sdr", "rep_cost_per_month_amount": -5}]},
     "costs.teams[0].rep_cost_per_month_amount"),
    ({"channels": [{"name": "paid", "cost_per_lead_amount": float("inf")}]},
     "costs.channels[0].cost_per_lead_amount"),
    ({"channels": [{"name": "tv", "cost_per_lead_amount": 10}]}, "costs.channels[0].name"),
    ({"teams": [{"name": "closers"}]}, "costs.teams[0].name"),
    ({"ae": {"commission_share": 1.5}}, "costs.ae.commission_share"),
])  # fmt: skip
def test_bad_costs_exit_2_naming_the_field(costs, field, tmp_path: Path, capsys) -> None:
    """Negative or infinite costs, an unknown team or channel: exit 2, the field named."""
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"base": "default", "costs": costs}))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert field in err
    assert "Traceback" not in err


def test_marginal_sdr_profit_is_paired_and_far_narrower_than_unpaired() -> None:
    """One more SDR on common random numbers: the paired 95% interval of the profit change is
    at least 3x narrower than the unpaired one; the cost of the SDR is exactly its month."""
    sc = make_tiny()
    study = marginal(sc, ["teams[sdr].reps"], reps=8, seed=SEED, progress=False)
    t = study.table.set_index("step")
    up = t.loc[1.0]
    assert up["from"] == 10
    assert up["to"] == 11
    paired = up["profit_high"] - up["profit_low"]
    assert 3 * paired <= 2 * up["profit_unpaired_half_width"], (paired,
                                                                 up["profit_unpaired_half_width"])
    # one SDR costs its month whatever else happens: +9,250 plus commission on the change
    assert up["cost"] == pytest.approx(9_250 + 0.1 * up["revenue"], rel=1e-9)
    assert up["profit"] == pytest.approx(up["revenue"] - up["cost"], rel=1e-9)


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shortened default scenario as a file."""
    path = tmp_path_factory.mktemp("costs") / "tiny.yaml"
    path.write_text(dump_yaml(make_tiny()))
    return path


def test_run_prints_profit_and_cac_beside_revenue(tiny_file: Path, tmp_path: Path,
                                                  capsys) -> None:  # fmt: skip
    """`sla-sim run` prints the money table: revenue, cost, gross profit and CAC."""
    assert main(["run", str(tiny_file), "--reps", "2", "--quiet", "--no-report",
                 "--out", str(tmp_path / "run")]) == 0  # fmt: skip
    out = capsys.readouterr().out
    money = out[out.index("Money, whole measured period"):]
    for label in ("Revenue", "Cost", "Gross profit", "CAC (cost per win)", "Return on spend"):
        assert f"\n{label} " in money
    assert (tmp_path / "run" / "cost_drivers.parquet").is_file()


def test_compare_and_marginal_commands_state_the_profit(tiny_file: Path, capsys) -> None:
    """`compare` ends with the one-line profit of the change and its interval; `marginal`
    prints its table and keeps the table and the chart in the store."""
    assert main(["compare", str(tiny_file), "--set-b", "teams[sdr].reps=12", "--reps", "3",
                 "--quiet"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    line = out.strip().splitlines()[-3]
    assert line.startswith("B - A: ")
    assert "revenue" in line
    assert "cost, profit" in line
    assert "(95% interval " in line
    assert main(["marginal", str(tiny_file), "--lever", "ae.count", "--reps", "2",
                 "--quiet"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "ae.count 44 -> 45" in out
    assert "ae.count 44 -> 43" in out
    folder = Path(out.split("table and chart: ")[1].split(",")[0]).parent
    assert (folder / "marginal.png").is_file()
    assert (folder / "marginal.csv").is_file()


def test_marginal_rejects_a_lever_that_is_no_number(tiny_file: Path, capsys) -> None:
    """A lever naming no numeric field exits 2 naming --lever."""
    assert main(["marginal", str(tiny_file), "--lever", "routing.rep_rule", "--reps", "2",
                 "--quiet"]) == 2  # fmt: skip
    assert "--lever" in capsys.readouterr().err


def test_planner_shows_cost_profit_and_the_cost_panel(plain_and_priced) -> None:
    """The planner's headline puts cost and profit beside revenue, its compare block states the
    profit of the change with its interval, and its cost panel stacks every team, the AEs,
    commission and every channel per month."""
    from sla_sim.batch.compare import paired_differences
    from sla_sim.planner.panel import CHARTS, comparison_html, headline_html, render_chart

    plain, _, other = plain_and_priced
    head = headline_html(other)
    assert "sla-money" in head
    assert "profit <b>USD" in head
    block = comparison_html(paired_differences(plain, other), other)
    assert "sla-profit" in block
    assert "Current - baseline: USD 0 revenue" in block  # same funnel, other prices
    assert "cost" in CHARTS
    svg = render_chart("cost", other)
    assert "<svg" in svg
    for part in ("SDR team sdr", "AEs", "commission", "channel paid"):
        assert part in svg


def test_rebuilt_teams_and_channels_drop_stale_cost_entries() -> None:
    """A mapping whose channels and teams were rebuilt (a calibration) keeps only the cost
    entries of the ones it still has; the rest are costed at the defaults."""
    from sla_sim.scenario.costs import keep_known_costs

    data = preset("smb_inbound").model_dump(mode="python")
    data["channels"][0]["name"] = "organic_search"
    data["costs"]["teams"] = [{"name": "sdr"}, {"name": "gone"}]
    sc = validate(keep_known_costs(data))
    assert [c.name for c in sc.costs.channels] == ["paid", "social"]
    assert [t.name for t in sc.costs.teams] == ["sdr"]
    assert sc.costs.channel("organic_search").cost_per_lead_amount == 135.0
