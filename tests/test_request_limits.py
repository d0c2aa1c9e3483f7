"""Every input that scales work is estimated before anything runs: campaign bursts, hires,
revenue targets that scale volumes, and the replications of every command. An oversized
request exits 2 naming the field or option, in under 2 CPU-seconds and 300 MB, in a child
process whose address space is capped at 1 GB (a request not refused dies on the cap)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sla_sim.batch.limits import Limits, check_cost, leads_per_replication, work_sources
from sla_sim.cli.main import main
from sla_sim.errors import ScenarioError
from sla_sim.scenario.io import dump_yaml, set_path
from sla_sim.scenario.presets import preset
from tests.conftest import make_tiny
from tests.test_limits import _measured


def _raw(tmp_path: Path, name: str, edit: Callable[[dict[str, Any]], None],
         base: str = "tiny") -> Path:  # fmt: skip
    data = yaml.safe_load(dump_yaml(make_tiny() if base == "tiny" else preset(base)))
    edit(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _bursts(multiplier: float, days: float, leads: float | None = None
            ) -> Callable[[dict[str, Any]], None]:  # fmt: skip
    def edit(d: dict[str, Any]) -> None:
        if leads is not None:
            d["channels"][0]["leads_per_month"] = leads
        d["arrivals"]["bursts"] = [{"channel": d["channels"][0]["name"], "start_day": 0,
                                    "duration_days": days, "multiplier": multiplier}]
    return edit


def _january_only(leads: float) -> Callable[[dict[str, Any]], None]:
    """One measured month, January, a 5-day warm-up, and all the year's volume in January
    (month weights are normalised to mean 1 over the year: January gets 12 times)."""
    def edit(d: dict[str, Any]) -> None:
        d["channels"][0]["leads_per_month"] = leads
        d["arrivals"]["month_weights"] = [1.0] + [0.0] * 11
        d["horizon"].update(measure_start="2026-01-01", measure_months=1, warmup_days=5)
    return edit


def _hires(entries: int, reps: int) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        d["teams"][0]["hires"] = [{"start": "2026-01-05", "reps": reps}] * entries
    return edit


@pytest.fixture(scope="module")
def crm_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The example export and mapping of ``sla-sim crm template``."""
    out = tmp_path_factory.mktemp("crm")
    assert main(["crm", "template", "--out", str(out / "t"), "--force"]) == 0
    return out / "t" / "leads.csv", out / "t" / "mapping.yaml"


# case: (arguments, what the message must name)
CASES: dict[str, Callable[[Path, tuple[Path, Path]], tuple[list[str], str]]] = {
    "bursts_5000x_61_days": lambda p, _: (
        ["run", str(_raw(p, "b.yaml", _bursts(5000, 61))), "--reps", "2"],
        "arrivals.bursts[0].multiplier"),
    "bursts_1000x_within_the_schema": lambda p, _: (
        ["run", str(_raw(p, "b.yaml", _bursts(1000, 61, leads=5000))), "--reps", "2"],
        "arrivals.bursts[0].multiplier"),
    "hires_2000_entries_of_500": lambda p, _: (
        ["run", str(_raw(p, "h.yaml", _hires(2000, 500))), "--reps", "2"], "teams[0].hires"),
    "hires_1000_entries_of_500": lambda p, _: (
        ["run", str(_raw(p, "h.yaml", _hires(1000, 500), base="default")), "--reps", "2"],
        "teams[0].hires"),
    # about 1M leads at flat seasonality (within 8 GB), 10 times that in January alone
    "seasonality_in_january": lambda p, _: (
        ["run", str(_raw(p, "m.yaml", _january_only(850_000))), "--reps", "2",
         "--max-memory-gb", "8"], "channels[0].leads_per_month"),
    "recommend_reps_1e8": lambda p, _: (["recommend", "--reps", "100000000"], "--reps"),
    "recommend_revenue_1e10": lambda p, _: (["recommend", "--revenue-target", "1e10"],
                                            "--revenue-target"),
    "review_reps_1e9": lambda p, f: (
        ["review", str(f[0]), "--map", str(f[1]), "--scenario",
         str(_raw(p, "s.yaml", lambda d: None)), "--month", "2026-02", "--reps", "1000000000",
         "--out", str(p / "rv")], "--reps"),
    "backtest_reps_1e9": lambda p, f: (
        ["backtest", str(f[0]), "--map", str(f[1]), "--train-until", "2026-02-01",
         "--reps", "1000000000", "--out", str(p / "bt")], "--reps"),
    # each origin within the limits, all of them together 11,700 times over
    "backtest_origins_2026_to_2999": lambda p, f: (
        ["backtest", str(f[0]), "--map", str(f[1]), "--origins", "2026-01-01:2999-12-01",
         "--reps", "1000", "--out", str(p / "bt")], "--origins"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_oversized_input_is_refused_fast_and_small(case: str, tmp_path: Path,
                                                   crm_files: tuple[Path, Path]) -> None:
    """Each oversized request exits 2 naming the field or option, in under 2 CPU-seconds and
    300 MB, and writes nothing."""
    args, named = CASES[case](tmp_path, crm_files)
    if args[0] in ("run", "recommend"):
        args += ["--store", str(tmp_path / "store")]
    code, secs, mb, err = _measured([*args, "--quiet"], tmp_path)
    assert code == 2, err
    assert "Traceback" not in err
    assert named in err, err
    assert secs < 2.0, (secs, err)
    assert mb < 300, (mb, err)
    assert not (tmp_path / "store").exists() or not list((tmp_path / "store").iterdir())
    assert not (tmp_path / "rv").exists()
    assert not (tmp_path / "bt").exists()


def test_bursts_count_in_the_estimate() -> None:
    """A burst adds (multiplier - 1) x its days of the channel's volume, clipped to the
    horizon; overlapping bursts multiply, as in the model."""
    sc = make_tiny()
    base = leads_per_replication(sc)
    per_day = sc.channels[0].leads_per_month / 30.44
    name = sc.channels[0].name
    one = set_path(sc, "arrivals.bursts", [{"channel": name, "start_day": 2,
                                            "duration_days": 3, "multiplier": 5}])
    assert leads_per_replication(one) == pytest.approx(base + per_day * 3 * 4)
    two = set_path(one, "arrivals.bursts", [
        {"channel": name, "start_day": 2, "duration_days": 3, "multiplier": 5},
        {"channel": name, "start_day": 4, "duration_days": 2, "multiplier": 3}])
    # days 2-4 x5, day 4-5 x15, day 5-6 x3
    assert leads_per_replication(two) == pytest.approx(base + per_day * (2 * 4 + 14 + 2))
    late = set_path(sc, "arrivals.bursts", [{"channel": name, "start_day": 10_000,
                                             "duration_days": 3, "multiplier": 1000}])
    assert leads_per_replication(late) == pytest.approx(base)


def test_seasonality_counts_in_the_estimate() -> None:
    """Month weights (normalised to mean 1 over the year) count for the months the horizon
    covers: a one-month horizon in the only month with volume simulates about 12 times the
    channel's monthly leads (the warm-up's days in December add none)."""
    sc = set_path(set_path(set_path(make_tiny(), "horizon.measure_months", 1),
                           "horizon.warmup_days", 5), "horizon.measure_start",
                  dt.date(2026, 1, 1))  # fmt: skip
    flat = leads_per_replication(sc)
    january = set_path(sc, "arrivals.month_weights", [1.0] + [0.0] * 11)
    assert leads_per_replication(january) == pytest.approx(flat * 12 * 31 / 36, rel=0.01)
    even = set_path(sc, "arrivals.month_weights", [3.0] * 12)
    assert leads_per_replication(even) == pytest.approx(flat)


@pytest.mark.parametrize(("handoff", "named"), [
    ({"mode": "batch", "batch_every_hours": 1e-7}, "handoff.batch_every_hours"),
    ({"mode": "batch", "batch_local_hours": [i / 60 for i in range(1440)] + [0.0, 0.5]},
     "handoff.batch_local_hours"),
], ids=["every_1e-7_hours", "1442_daily_batches"])
def test_batch_handoffs_are_bounded(handoff: dict[str, Any], named: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """A batch every 1e-7 h made the model list 12 billion batch instants (a MemoryError of
    89 GB inside the replication, exit 1): the schema bounds both rules, exit 2 naming the
    field."""
    f = _raw(tmp_path, "h.yaml", lambda d: d.__setitem__("handoff", handoff))
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert named in err, err
    ok = _raw(tmp_path, "ok.yaml", lambda d: d.__setitem__(
        "handoff", {"mode": "batch", "batch_every_hours": 1 / 60}))  # fmt: skip
    assert main(["validate", str(ok)]) == 0


def test_hires_count_in_the_estimate_and_are_named() -> None:
    """Hired reps add rep-days; a plan too big for one replication is refused naming the
    team's hires, with the value of the reps hired."""
    sc = set_path(make_tiny(), "teams[0].hires",
                  [{"start": dt.date(2026, 1, 5), "reps": 500}] * 400)
    sources = {s[0]: s for s in work_sources(sc)}
    assert sources["teams[0].hires"][1] == 200_000
    with pytest.raises(ScenarioError, match=r"teams\[0\].hires") as info:
        check_cost(sc, 2, limits=Limits(memory_gb=4, cpu_hours=24))
    assert "200000" in str(info.value)
    check_cost(sc, 2, limits=Limits(memory_gb=64, cpu_hours=24))  # raised: let through


def test_schema_bounds_multipliers_and_lists(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    """The schema bounds a burst's multiplier and the lengths of bursts and hires, naming
    the field and the bound."""
    f = _raw(tmp_path, "x.yaml", _hires(1001, 1))
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert "teams[0].hires" in err
    assert "1000" in err


@pytest.mark.parametrize(("args", "named"), [
    (["recommend", "--revenue-target", "1e308"], "--revenue-target"),
    (["recommend", "--revenue-target", "-5"], "--revenue-target"),
    (["recommend", "--max-headcount", "0"], "--max-headcount"),
    (["review", "--reps", "0"], "--reps"),
    (["review", "--seed", "-1"], "--seed"),
    (["backtest", "--reps", "0"], "--reps"),
    (["backtest", "--test-months", "100000"], "--test-months"),
], ids=["recommend_revenue_1e308", "recommend_revenue_negative", "recommend_headcount_0",
        "review_reps_0", "review_seed_negative", "backtest_reps_0", "backtest_months_1e5"])
def test_bad_options_exit_2_naming_them(args: list[str], named: str, tmp_path: Path,
                                        crm_files: tuple[Path, Path],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Impossible option values exit 2 naming the option, never a traceback, writing
    nothing."""
    export = [str(crm_files[0]), "--map", str(crm_files[1]), "--out", str(tmp_path / "o")]
    if args[0] == "review":
        args = [*args, *export, "--month", "2026-02", "--scenario",
                str(_raw(tmp_path, "s.yaml", lambda d: None))]
    elif args[0] == "backtest":
        args = [*args, *export, "--train-until", "2026-02-01"]
    else:
        args = [*args, "--store", str(tmp_path / "store")]
    assert main([*args, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert named in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("command", ["review", "backtest"])
def test_review_and_backtest_take_the_limit_flags(command: str, tmp_path: Path,
                                                  crm_files: tuple[Path, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """``--max-cpu-hours`` sets the limit of review and backtest too (here lowered below one
    replication, so the request is refused before the export is read)."""
    args = [command, str(crm_files[0]), "--map", str(crm_files[1]), "--out",
            str(tmp_path / "o"), "--reps", "3", "--max-cpu-hours", "0.0000001", "--quiet"]
    if command == "review":
        args += ["--month", "2026-02", "--scenario", str(_raw(tmp_path, "s.yaml", lambda d: None))]
    else:
        args += ["--train-until", "2026-02-01"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "1e-07 CPU-hours" in err, err
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------- the same from Python
def _no_work(what: str) -> Callable[..., Any]:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError(f"{what} started: the request was not refused before the work")
    return refuse


def test_python_recommend_is_refused_before_any_replication(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """``recommend()`` from Python counts the replications it may simulate as the command
    does (it used to check only that --reps >= 2, then simulate)."""
    import sla_sim.recommend.search as search
    from sla_sim.recommend.engine import recommend

    monkeypatch.setattr(search, "execute", _no_work("a replication"))
    with pytest.raises(ScenarioError, match="--reps") as info:
        recommend(preset("default"), reps=100_000_000, progress=False)
    assert "cost limits" in str(info.value)
    assert "100000000" in str(info.value)
    with pytest.raises(ScenarioError, match="--revenue-target"):
        recommend(preset("default"), revenue_target=1e10, progress=False)


def test_python_backtest_review_and_rolling_are_refused_before_any_work(
        crm_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """``backtest()``, ``rolling_backtest()`` and ``review()`` from Python refuse an oversized
    request before calibrating, drawing or simulating: the rolling backtest counts its
    origins (each within the limits, together far over them)."""
    import sla_sim.crm.backtest as bt
    import sla_sim.crm.review as rv
    from sla_sim.crm.load import load_export

    exp = load_export(crm_files[0], crm_files[1])
    base = preset("default")
    for module, name in ((bt, "calibrate"), (bt, "draw_scenarios"), (bt, "simulate_months"),
                         (rv, "measure_export"), (rv, "simulate_months")):  # fmt: skip
        monkeypatch.setattr(module, name, _no_work(name))
    with pytest.raises(ScenarioError, match="--reps"):
        bt.backtest(exp, base, "2026-01-15", reps=1_000_000_000, progress=False)
    origins = bt.monthly_origins("2026-01-01:2999-12-01")
    with pytest.raises(ScenarioError, match="--origins") as info:
        bt.rolling_backtest(exp, base, origins, reps=1000, progress=False)
    assert f"{len(origins):,} origins" in str(info.value)
    with pytest.raises(ScenarioError, match="--reps"):
        rv.review(exp, base, "2026-01", reps=1_000_000_000, progress=False)


@pytest.mark.parametrize(("window", "named"), [
    (["--from", "0001-01-01"], "must be a date in"),
    (["--from", "1900-01-01", "--to", "9999-12-31"], "must be a date in"),
    (["--from", "1990-01-01"], "at most ten years"),
], ids=["year_1", "to_year_9999", "36_years"])
def test_measure_bounds_its_window(window: list[str], named: str, tmp_path: Path,
                                   crm_files: tuple[Path, Path],
                                   capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """The work of ``measure`` grows with its window's months (1900 to 2262 took 27 CPU-s,
    1700 on minutes), and a date before 1678 ended in a pandas traceback. A window over ten
    years or a date outside 1900 .. 2200 exits 2 naming the option, before measuring."""
    args = ["measure", str(crm_files[0]), "--map", str(crm_files[1]), *window,
            "--store", str(tmp_path / "st"), "--no-report"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert named in err, err
    assert "--from" in err or "--to" in err
    assert "Traceback" not in err
    assert not (tmp_path / "st").exists() or not any((tmp_path / "st").iterdir())


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1899-12"])
def test_review_refuses_a_month_outside_the_calendar_it_can_count(
        month: str, tmp_path: Path, crm_files: tuple[Path, Path],
        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """``review --month 9999-12`` ended in a traceback (year 10000 is out of range)."""
    args = ["review", str(crm_files[0]), "--map", str(crm_files[1]), "--month", month,
            "--scenario", str(_raw(tmp_path, "s.yaml", lambda d: None)),
            "--out", str(tmp_path / "rv"), "--reps", "2", "--quiet"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--month" in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "rv").exists()
