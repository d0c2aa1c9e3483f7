"""Common random numbers (compare), parameter sweeps, and breach/revenue distributions."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sla_sim.batch import sweep as sweep_mod
from sla_sim.batch.breach import SIDES, breach_distributions, revenue_distribution
from sla_sim.batch.compare import HEADLINE, MONEY, paired_differences, run_pair
from sla_sim.batch.replications import run_replications
from sla_sim.batch.results import Results
from sla_sim.batch.sweep import design, parse_param, sweep
from sla_sim.cli.main import main
from sla_sim.errors import ScenarioError
from sla_sim.scenario.io import save, set_path
from sla_sim.scenario.schema import Scenario
from tests.conftest import make_tiny

SEED = 31337
PAIR_REPS = 12


def small(**overrides: Any) -> Scenario:
    """The tiny scenario with a 5-day warm-up, a tenth of the leads and 2 SDRs (~25 ms/rep)."""
    sc = make_tiny({"horizon.warmup_days": 5, "teams[sdr].reps": 2, **overrides})
    for c in sc.channels:
        sc = set_path(sc, f"channels[{c.name}].leads_per_month", c.leads_per_month / 10)
    return sc


# ---------------------------------------------------------------------------- compare (CRN)
@pytest.fixture(scope="module")
def pair() -> tuple[Results, Results]:
    """A = the tiny scenario (10 SDRs), B = A with 2 more SDRs, on common random numbers."""
    a = make_tiny()
    b = set_path(a, "teams[sdr].reps", a.teams[0].reps + 2)
    return run_pair(a, b, reps=PAIR_REPS, seed=SEED, workers=2, progress=False)


@pytest.fixture(scope="module")
def diffs(pair: tuple[Results, Results]) -> pd.DataFrame:
    """Paired differences B - A of the headline metrics, indexed by metric."""
    return paired_differences(*pair).set_index("metric")


@pytest.mark.parametrize("metric", ["first_touch_compliance", "revenue"])
def test_paired_ci_is_much_narrower_than_unpaired(diffs: pd.DataFrame, metric: str) -> None:
    """With common random numbers the paired CI is < half the width of the unpaired one.

    Observed width ratios over seeds 1-3 and this seed: first_touch_compliance ~0.3, revenue
    ~0.05 (revenue of the first measured month comes mostly from deals already in flight).
    """
    row = diffs.loc[metric]
    assert row["n"] == PAIR_REPS
    assert row["paired_high"] > row["paired_low"]
    assert row["width_ratio"] < 0.5


def test_ci_formulas_match_scipy(pair: tuple[Results, Results], diffs: pd.DataFrame) -> None:
    """The paired CI is scipy's one-sample t interval of B - A, the unpaired one Welch's."""
    ra, rb = pair
    for metric in ("first_touch_compliance", "revenue", "sdr_utilization"):
        xa, xb = ra.column(metric), rb.column(metric)
        row = diffs.loc[metric]
        paired = stats.ttest_1samp(xb - xa, 0.0).confidence_interval(0.95)
        welch = stats.ttest_ind(xb, xa, equal_var=False).confidence_interval(0.95)
        assert row["diff"] == pytest.approx(np.mean(xb - xa), rel=1e-12, abs=1e-12)
        assert (row["paired_low"], row["paired_high"]) == pytest.approx(tuple(paired), rel=1e-9)
        assert (row["unpaired_low"], row["unpaired_high"]) == pytest.approx(tuple(welch),
                                                                            rel=1e-9)


def test_more_sdrs_help_first_touch_and_lower_utilisation(diffs: pd.DataFrame) -> None:
    """Two more SDRs raise first-touch compliance and lower SDR utilisation (paired CIs)."""
    assert diffs.loc["first_touch_compliance", "paired_low"] > 0
    assert diffs.loc["sdr_utilization", "paired_high"] < 0


def test_created_leads_are_identical_between_a_and_b(pair: tuple[Results, Results]) -> None:
    """Arrivals do not depend on headcount: leads created match per replication and period."""
    ra, rb = pair
    np.testing.assert_array_equal(ra.replication_ids, rb.replication_ids)
    periods = sorted({p for p, _ in ra.keys})
    assert len(periods) == 2
    for p in periods:
        np.testing.assert_array_equal(ra.column("leads_created", p), rb.column("leads_created", p))
        np.testing.assert_array_equal(ra.column("mqls", p), rb.column("mqls", p))
    assert not np.array_equal(ra.column("sdr_utilization"), rb.column("sdr_utilization"))


def test_identical_scenarios_have_zero_paired_differences() -> None:
    """A vs A: every paired difference and paired CI bound is exactly 0."""
    sc = small()
    ra, rb = run_pair(sc, sc, reps=3, seed=SEED, progress=False)
    np.testing.assert_array_equal(ra.values, rb.values)
    table = paired_differences(ra, rb)
    assert list(table["metric"]) == [*HEADLINE, *MONEY]  # costs: both sides have them
    defined = table[table["n"] >= 2]
    assert len(defined) >= len(HEADLINE) - 2
    assert (defined[["diff", "paired_low", "paired_high"]] == 0).all().all()
    spread = defined[defined["unpaired_high"] > 0]
    assert len(spread) > 5
    assert (spread["width_ratio"] == 0).all()


# ---------------------------------------------------------------------------- sweep: parsing
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("teams[sdr].reps=6:9", ("teams[sdr].reps", (6.0, 9.0, True))),
        ("x=0.5:1.5", ("x", (0.5, 1.5, False))),
        ("x = 2:8:2", ("x", [2, 4, 6, 8])),
        ("x=1:2:0.5", ("x", [1.0, 1.5, 2.0])),
        ("x=3:3", ("x", (3.0, 3.0, True))),
        ("x=1,2,4", ("x", [1, 2, 4])),
        ("x=1.5, 2", ("x", [1.5, 2])),
        ("sla.first_touch_from=mql,assignment", ("sla.first_touch_from", ["mql", "assignment"])),
        ("x=-2:-1", ("x", (-2.0, -1.0, True))),
    ],
)
def test_parse_param(spec: str, expected: tuple[str, Any]) -> None:
    """``a:b`` is a range, ``a:b:step`` explicit stepped values, a comma list its values."""
    path, values = parse_param(spec)
    assert path == expected[0]
    assert values == expected[1]
    if isinstance(values, list):
        assert [type(v) for v in values] == [type(v) for v in expected[1]]


@pytest.mark.parametrize("spec", ["teams[sdr].reps", "=1:2", "x=", "x=5:1", "x=1:5:0",
                                  "x=1:5:-1"])  # fmt: skip
def test_bad_param_specs_name_the_option(spec: str) -> None:
    """A spec without path or values, a reversed range or a non-positive step names --param."""
    with pytest.raises(ScenarioError) as info:
        parse_param(spec)
    assert all(i.path.startswith("--param") for i in info.value.issues)


# ---------------------------------------------------------------------------- sweep: design
def test_grid_is_the_product_of_axes() -> None:
    """A grid has one row per combination of the axes' values (integer ranges inclusive)."""
    params = {"a": [1, 2, 3], "b": (1.0, 4.0, True), "c": ["x", "y"]}
    grid = design(params)
    assert len(grid) == 3 * 4 * 2
    assert list(grid.columns) == ["a", "b", "c"]
    assert set(map(tuple, grid.to_numpy().tolist())) == set(
        itertools.product([1, 2, 3], [1, 2, 3, 4], ["x", "y"]))


def test_grid_float_range_without_step_names_the_param() -> None:
    """A float range ``a:b`` in a grid is refused naming ``--param PATH``."""
    with pytest.raises(ScenarioError) as info:
        design({"n": [1], "f": (0.5, 1.5, False)})
    assert [i.path for i in info.value.issues] == ["--param f"]


def test_latin_hypercube_stratifies_every_axis() -> None:
    """LHS gives ``samples`` points, one per stratum of each axis, integers for integer ranges."""
    n = 7
    params = {"k": (1.0, 7.0, True), "f": (0.5, 1.5, False), "c": list("abcdefg")}
    pts = design(params, samples=n, seed=3)
    assert len(pts) == n
    assert pd.api.types.is_integer_dtype(pts["k"])
    assert sorted(pts["k"]) == list(range(1, 8))
    assert pts["f"].between(0.5, 1.5).all()
    assert sorted(np.floor((pts["f"] - 0.5) * n).astype(int)) == list(range(n))
    assert sorted(pts["c"]) == list("abcdefg")
    pd.testing.assert_frame_equal(pts, design(params, samples=n, seed=3))
    assert not pts.equals(design(params, samples=n, seed=4))


def test_latin_hypercube_integer_range_is_balanced() -> None:
    """With more samples than integers, each integer of the range appears equally often (±1)."""
    pts = design({"k": (2.0, 4.0, True)}, samples=20, seed=1)
    counts = pts["k"].value_counts()
    assert sorted(counts.index) == [2, 3, 4]
    assert counts.max() - counts.min() <= 1


def test_latin_hypercube_needs_a_sample() -> None:
    """``--samples 0`` is refused naming --samples."""
    with pytest.raises(ScenarioError, match="--samples"):
        design({"k": (1.0, 3.0, True)}, samples=0)


# ---------------------------------------------------------------------------- sweep: running
@pytest.fixture
def no_execute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any replication is started."""
    monkeypatch.setattr(sweep_mod, "execute", lambda *a, **k: pytest.fail("replications ran"))


@pytest.mark.parametrize(
    ("params", "path", "n_issues"),
    [
        ({"teams[sdr].nope": [1, 2]}, "--param teams[sdr].nope", 1),
        ({"channels[tv].leads_per_month": [1]}, "--param channels[tv].leads_per_month", 1),
        ({"teams[sdr].reps": [0, 2, 600]}, "--param teams[sdr].reps", 2),
        ({"teams[sdr].reps": [2], "sla.attempts_required": (0.0, 1.0, True)},
         "--param sla.attempts_required", 1),
    ],
)  # fmt: skip
def test_invalid_points_are_refused_before_running(no_execute: None, params: dict[str, Any],
                                                   path: str, n_issues: int) -> None:
    """A bad path or an out-of-range value raises ScenarioError naming ``--param PATH`` first."""
    with pytest.raises(ScenarioError) as info:
        sweep(small(), params, reps=2, seed=SEED, progress=False)
    assert [i.path for i in info.value.issues] == [path] * n_issues
    assert info.value.source == "sweep request"


def test_sweep_without_params_is_refused(no_execute: None) -> None:
    """A sweep with no parameter raises ScenarioError naming --param."""
    with pytest.raises(ScenarioError, match="--param"):
        sweep(small(), {}, reps=2, progress=False)


SWEEP_PARAMS = {"teams[sdr].reps": (2.0, 3.0, True),
                "sla.first_touch_within_business_hours": [2, 4]}


@pytest.fixture(scope="module")
def swept() -> pd.DataFrame:
    """A 2 x 2 grid over SDR headcount and the first-touch SLA, 2 replications per point."""
    return sweep(small(), SWEEP_PARAMS, reps=2, seed=SEED, progress=False)


def test_sweep_table_has_one_row_per_point_replication_period_metric(swept: pd.DataFrame
                                                                     ) -> None:  # fmt: skip
    """The sweep table is points x replications x periods x metrics, with parameter columns."""
    names = list(SWEEP_PARAMS)
    assert list(swept.columns) == ["point", *names, "replication", "period", "metric", "value"]
    n_keys = swept.groupby(["point", "replication"]).size()
    assert n_keys.nunique() == 1
    k = int(n_keys.iloc[0])
    assert len(swept) == 4 * 2 * k
    assert not swept.duplicated(["point", "replication", "period", "metric"]).any()
    points = swept.drop_duplicates("point").set_index("point")[names]
    assert set(map(tuple, points.to_numpy().tolist())) == {(2, 2), (2, 4), (3, 2), (3, 4)}
    assert (swept.groupby("point")[names].nunique() == 1).all().all()


def test_sweep_point_equals_a_plain_run_of_that_scenario(swept: pd.DataFrame) -> None:
    """Each point's values (KPIs and costs) equal run_replications of the scenario with those
    parameter values."""
    sdrs, ft = 3, 4
    sc = set_path(set_path(small(), "teams[sdr].reps", sdrs),
                  "sla.first_touch_within_business_hours", ft)  # fmt: skip
    res = run_replications(sc, reps=2, seed=SEED, progress=False, keep_log_of=None)
    mine = swept[(swept["teams[sdr].reps"] == sdrs)
                 & (swept["sla.first_touch_within_business_hours"] == ft)]
    got = mine.set_index(["replication", "period", "metric"])["value"]
    want = pd.concat([t.astype({"period": str, "metric": str}) for t in (
        res.table, res.costs.table)]).set_index(["replication", "period", "metric"])["value"]
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_exact=True)


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per model run (in this process) from here on."""
    import sla_sim.model.funnel as funnel

    out: list[int] = []
    real = funnel.FunnelModel.run

    def counted(self: Any) -> Any:
        out.append(1)
        return real(self)

    monkeypatch.setattr(funnel.FunnelModel, "run", counted)
    return out


def test_sweep_simulates_once_for_points_that_differ_only_in_sla(
    swept: pd.DataFrame, runs: list[int]
) -> None:
    """Points that differ only in SLA settings are simulated once per replication and judged
    under each SLA; their values are those of simulating each point on its own."""
    params = {"teams[sdr].reps": [3], "sla.first_touch_within_business_hours": [2, 4],
              "sla.attempts_required": [2, 3]}  # fmt: skip
    table = sweep(small(), params, reps=2, seed=SEED, progress=False)
    assert len(runs) == 2  # 4 points x 2 replications, one simulation per replication
    assert table["point"].nunique() == 4
    for ft in (2, 4):  # the same points in the 2 x 2 grid, simulated one by one
        mine = table[(table["sla.first_touch_within_business_hours"] == ft)
                     & (table["sla.attempts_required"] == 3)]
        ref = swept[(swept["teams[sdr].reps"] == 3)
                    & (swept["sla.first_touch_within_business_hours"] == ft)]
        key = ["replication", "period", "metric"]
        pd.testing.assert_series_equal(mine.set_index(key)["value"].sort_index(),
                                       ref.set_index(key)["value"].sort_index(),
                                       check_exact=True)  # fmt: skip


def test_compare_of_two_slas_simulates_each_replication_once(runs: list[int]) -> None:
    """A and B differing only in their SLA share one simulation per replication; each side
    equals a plain run of its scenario."""
    a = small()
    b = set_path(a, "sla.disposition_within_days", 3)
    plain = run_replications(b, reps=3, seed=SEED, progress=False, keep_log_of=None)
    runs.clear()
    ra, rb = run_pair(a, b, reps=3, seed=SEED, progress=False)
    assert len(runs) == 3
    assert np.array_equal(rb.values, plain.values, equal_nan=True)
    assert not np.array_equal(ra.values, rb.values, equal_nan=True)


def test_sweep_points_share_common_random_numbers(swept: pd.DataFrame) -> None:
    """Every point sees the same arrivals: leads created per replication agree across points."""
    created = swept[swept["metric"] == "leads_created"]
    per_rep = created.groupby(["replication", "period"], observed=True)["value"].nunique()
    assert (per_rep == 1).all()
    util = swept[(swept["metric"] == "sdr_utilization") & (swept["period"] == "total")]
    assert util.groupby("replication")["value"].nunique().min() > 1


def test_cli_sweep_writes_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`sla-sim sweep FILE --param ... --out x.csv` writes the tidy table and reports its size."""
    sc_file = save(small(), tmp_path / "sc.yaml")
    out = tmp_path / "deep" / "x.csv"
    code = main(["sweep", str(sc_file), "--param", "teams[sdr].reps=2:3", "--reps", "2",
                 "--seed", str(SEED), "--workers", "1", "--quiet", "--out", str(out)])
    assert code == 0
    table = pd.read_csv(out)
    assert list(table.columns) == ["point", "teams[sdr].reps", "replication", "period", "metric",
                                   "value"]  # fmt: skip
    k = table.groupby(["point", "replication"]).size().iloc[0]
    assert len(table) == 2 * 2 * k
    assert sorted(table["teams[sdr].reps"].unique()) == [2, 3]
    printed = capsys.readouterr().out
    assert f"{len(table):,} rows -> {out}" in printed


def test_cli_sweep_bad_param_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad sweep parameter exits 2 naming it, and writes nothing."""
    sc_file = save(small(), tmp_path / "sc.yaml")
    out = tmp_path / "x.csv"
    code = main(["sweep", str(sc_file), "--param", "teams[sdr].nope=1,2", "--reps", "1",
                 "--workers", "1", "--quiet", "--out", str(out)])
    assert code == 2
    assert "--param teams[sdr].nope" in capsys.readouterr().err
    assert not out.exists()


# ---------------------------------------------------------------------------- breach/revenue
@pytest.fixture(scope="module")
def two_months() -> Results:
    """20 replications of 2 measured months with thresholds set near the medians."""
    sc = small(**{"horizon.measure_months": 2, "sla.lead_compliance_target": 0.98,
                  "sla.mql_commitment_per_month": 150, "sla.revenue_target_per_month": 50_000})
    return run_replications(sc, reps=20, seed=11, progress=False, keep_log_of=None)


def test_p_breach_is_the_mean_of_the_indicator(two_months: Results) -> None:
    """p_breach is the mean of the 0/1 breach indicator, p_met its complement, n its count."""
    table = breach_distributions(two_months)
    assert len(table) == len(SIDES) * 3  # 2 months + total
    interior = 0
    for row in table.itertuples():
        ind = two_months.column(f"{row.clause}_breach", row.period)
        ok = ~np.isnan(ind)
        assert set(np.unique(ind[ok])) <= {0.0, 1.0}
        assert row.n == ok.sum()
        assert row.p_breach == np.mean(ind[ok])
        assert row.p_met == 1 - row.p_breach
        assert row.side == SIDES[row.clause]
        interior += 0 < row.p_breach < 1
    assert interior >= 5  # not a trivially all-0 / all-1 table


def test_compliance_spread_matches_the_columns(two_months: Results) -> None:
    """Per-lead clause rows carry the mean and quantiles of compliance across replications."""
    table = breach_distributions(two_months).set_index(["clause", "period"])
    for clause in ("handoff", "first_touch"):
        x = two_months.column(f"{clause}_compliance")
        row = table.loc[(clause, "total")]
        assert row["compliance_mean"] == pytest.approx(np.nanmean(x), rel=1e-12)
        assert (row["compliance_p10"], row["compliance_p90"]) == pytest.approx(
            tuple(np.nanpercentile(x, [10, 90])), rel=1e-12)


def test_cumulative_revenue_of_the_last_month_is_total_revenue(two_months: Results) -> None:
    """Monthly revenues add up to total revenue per replication; so do the cumulative rows."""
    months = ["2026-01", "2026-02"]
    monthly = np.column_stack([two_months.column("revenue", m) for m in months])
    total = two_months.column("revenue")
    np.testing.assert_allclose(monthly.sum(axis=1), total, rtol=1e-12)
    assert (total > 0).all()
    dist = revenue_distribution(two_months).set_index("period")
    assert list(dist.index) == [*months, "total"]
    last, tot = dist.loc["2026-02"], dist.loc["total"]
    for q in ("p10", "p50", "p90", "mean"):
        assert last[f"cumulative_{q}"] == pytest.approx(tot[f"revenue_{q}"], rel=1e-12)
        assert tot[f"cumulative_{q}"] == pytest.approx(tot[f"revenue_{q}"], rel=1e-12)
    first = dist.loc["2026-01"]
    assert first["cumulative_mean"] == pytest.approx(first["revenue_mean"], rel=1e-12)
    # 'day' basis: January's and February's targets cover their 59 days
    assert last["cumulative_target"] == pytest.approx(tot["target"], rel=1e-12)
    assert tot["target"] == pytest.approx(50_000 * 59 / (365.25 / 12), rel=1e-12)
    assert last["p_meet_cumulative_target"] == tot["p_meet_target"]


def test_p_meet_target_is_the_complement_of_the_breach_indicator(two_months: Results) -> None:
    """p_meet_target = 1 - mean(revenue_target_breach) = p_met of the revenue_target clause."""
    dist = revenue_distribution(two_months).set_index("period")
    breach = breach_distributions(two_months)
    breach = breach[breach["clause"] == "revenue_target"].set_index("period")
    interior = 0
    for period in dist.index:
        ind = two_months.column("revenue_target_breach", period)
        assert dist.loc[period, "p_meet_target"] == pytest.approx(1 - ind.mean(), abs=1e-12)
        assert dist.loc[period, "p_meet_target"] == pytest.approx(breach.loc[period, "p_met"],
                                                                  abs=1e-12)
        interior += 0 < dist.loc[period, "p_meet_target"] < 1
    assert interior >= 2


class _Columns:
    """Replication ids and per-metric values, as paired_differences reads a Results."""

    def __init__(self, values: dict[str, list[float]]) -> None:
        self.values = values
        self.replication_ids = np.arange(len(next(iter(values.values()))))
        self.costs = None

    def column(self, metric: str, period: str = "total") -> np.ndarray:
        return np.asarray(self.values[metric], float)


def test_intervals_of_shares_stay_within_what_a_share_can_be() -> None:
    """Four replications of a 0/1 breach (B breaches in all, A in one) gave a paired interval
    of -0.55 .. +1.05 in the planner's compare table: a difference of two shares lies within
    -1 .. +1, so the interval is cut there (its coverage only grows). Revenue, unbounded, is
    left as the t interval gives it."""
    a = _Columns({"revenue_target_breach": [1, 0, 0, 0], "first_touch_compliance":
                  [0.9, 0.1, 0.5, 0.95], "revenue": [1.0, 2.0, 3.0, 4.0]})
    b = _Columns({"revenue_target_breach": [1, 1, 1, 1], "first_touch_compliance":
                  [0.1, 0.95, 0.2, 0.05], "revenue": [9.0, 1.0, 3.0, 4.0]})
    t = paired_differences(a, b, metrics=("revenue_target_breach", "first_touch_compliance",
                                          "revenue")).set_index("metric")  # fmt: skip
    br = t.loc["revenue_target_breach"]
    assert br["diff"] == pytest.approx(0.75)
    assert br["paired_low"] == pytest.approx(0.75 - 3.182446 * 0.25, rel=1e-5)
    assert br["paired_high"] == 1.0
    assert br["unpaired_high"] == 1.0
    ft = t.loc["first_touch_compliance"]
    assert ft["paired_low"] == -1.0
    assert ft["paired_high"] < 1.0
    rv = t.loc["revenue"]
    assert rv["paired_high"] - rv["diff"] == pytest.approx(rv["diff"] - rv["paired_low"])
    assert rv["paired_low"] < -1.0 < 1.0 < rv["paired_high"]  # not cut: money is unbounded
