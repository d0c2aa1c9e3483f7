"""sla.mql_commitment_basis: how a monthly MQL commitment applies to months of unequal length."""

from __future__ import annotations

import datetime as dt

import pytest

from sla_sim.horizon import window_for
from sla_sim.metrics import DAYS_PER_MONTH, basis_months
from sla_sim.scenario.io import set_path
from sla_sim.scenario.presets import preset


def _months(basis_changes: dict | None = None, months: int = 3):
    sc = preset("default")
    for path, value in {"horizon.warmup_days": 0, "horizon.measure_months": months,
                        **(basis_changes or {})}.items():
        sc = set_path(sc, path, value)
    win = window_for(sc)
    return sc, win, [basis_months(win, sc, p) for p in win.months]


def test_default_basis_is_day() -> None:
    assert preset("default").sla.mql_commitment_basis == "day"


def test_day_basis_scales_by_local_days() -> None:
    """January 31 days, February 28, March 31 (across the DST change: still 31 local days)."""
    _, win, got = _months()
    assert [p.label for p in win.months] == ["2026-01", "2026-02", "2026-03"]
    for g, days in zip(got, (31, 28, 31), strict=True):
        assert g["day"] == pytest.approx(days / DAYS_PER_MONTH)
        assert g["month"] == pytest.approx(1.0)


def test_working_day_basis_counts_marketing_working_days_and_holidays() -> None:
    """Mon-Fri: January 2026 has 22 weekdays, February 20, March 22; a holiday removes one."""
    per_month = 5 * 365.25 / 7 / 12
    _, _, got = _months()
    assert [g["working_day"] * per_month for g in got] == pytest.approx([22, 20, 22])
    _, _, got = _months({"marketing_calendar.holidays": [dt.date(2026, 1, 1)]})
    assert got[0]["working_day"] * per_month == pytest.approx(21)


def test_flat_commitment_at_the_mean_rate_is_not_breached_in_february_by_construction() -> None:
    """Under 'day' the February commitment is 28/30.44 of the monthly figure, under 'month' the
    whole of it: a flat figure equal to the mean monthly MQLs owes 8 % more than February's
    expected MQLs under 'month', and exactly the expected number under 'day'."""
    _, _, got = _months()
    feb = got[1]
    expected_feb_mqls = 1600 * 28 / DAYS_PER_MONTH  # arrivals are per day
    assert 1600 * feb["day"] == pytest.approx(expected_feb_mqls)
    assert 1600 * feb["month"] > 1.08 * expected_feb_mqls


@pytest.mark.parametrize("basis", ["month", "day", "working_day"])
def test_judged_commitment_and_total(basis: str) -> None:
    """The measured commitment per month is per_month x that month's factor; the total sums."""
    from sla_sim.batch.worker import run_one

    sc = preset("default")
    for path, value in {"horizon.warmup_days": 20, "horizon.measure_months": 2,
                        "sla.mql_commitment_basis": basis}.items():
        sc = set_path(sc, path, value)
    r = run_one(sc, 3, 0)
    m = r.metrics.set_index(["period", "metric"])["value"]
    win = window_for(sc)
    parts = [sc.sla.mql_commitment_per_month * basis_months(win, sc, p)[basis]
             for p in win.months]
    for p, want in zip(win.months, parts, strict=True):
        assert m[(p.label, "mql_commitment")] == pytest.approx(want)
        assert m[(p.label, "mql_volume_breach")] == float(m[(p.label, "mqls")] < want)
    assert m[("total", "mql_commitment")] == pytest.approx(sum(parts))


def test_unknown_basis_is_rejected_naming_the_field() -> None:
    from sla_sim.errors import ScenarioError

    with pytest.raises(ScenarioError, match=r"sla\.mql_commitment_basis"):
        set_path(preset("default"), "sla.mql_commitment_basis", "week")
