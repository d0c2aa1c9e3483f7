"""Human units: one formatting module for the console, the panel and the report."""

from __future__ import annotations

import math

import pytest

from sla_sim.report import units as u
from sla_sim.scenario.io import set_path
from sla_sim.scenario.presets import preset


@pytest.mark.parametrize(
    ("value", "text"),
    [(6_988_123.4, "USD 6.99M"), (850_000, "USD 850k"), (1_234, "USD 1,234"),
     (1.2e9, "USD 1.20B"), (-25_000, "-USD 25.0k"), (0, "USD 0"), (math.nan, "–"),
     (None, "–")],
)  # fmt: skip
def test_money(value: float, text: str) -> None:
    assert u.money(value, "USD") == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(999_600, "USD 1.00M"), (-999_700, "-USD 1.00M"), (999_960_000, "USD 1.00B"),
     (9_999.6, "USD 10,000"), (99_950, "USD 100k"), (2.5e12, "USD 2,500B")],
)  # fmt: skip
def test_money_rounds_before_it_picks_the_unit(value: float, text: str) -> None:
    """Just under a unit's boundary, three significant digits carry into the next unit: the
    old code printed ``USD 1e+03k`` for 999,600 (and ``USD 1e+03M`` for 999.96M)."""
    assert u.money(value, "USD") == text


def test_money_keeps_its_trailing_zeros_so_a_column_lines_up() -> None:
    """Three significant digits always, zeros included: the money table of ``run`` printed
    ``USD 4.6M`` under ``USD 4.71M`` and ``USD 53k`` beside ``USD 53.8k`` (the zeros were dropped),
    so a column did not line up on its decimals and one figure read two ways (``USD 2.5M`` in a
    sentence, ``USD 2.50M`` nowhere). Every value in the megas of a column has two decimals."""
    column = [u.money(x, "USD") for x in (4_710_000, 4_600_000, 4_750_000, 4_000_000)]
    assert column == ["USD 4.71M", "USD 4.60M", "USD 4.75M", "USD 4.00M"]
    assert {len(c) for c in column} == {9}
    assert u.money(53_000, "USD") == "USD 53.0k"
    assert u.money(100_000_000, "USD") == "USD 100M"  # no dangling decimal point
    assert u.money(30_000, "USD", signed=True) == "+USD 30.0k"


def test_prob_interval_prints_both_ends_as_probabilities() -> None:
    assert u.prob_interval(0.842, 1.0) == "84.2 % .. 100 %"
    assert u.prob_interval(None, 1.0) == "–"


def test_signed_and_other_units() -> None:
    assert u.money(120_000, "EUR", signed=True) == "+EUR 120k"
    assert u.percent(0.874) == "87.4 %"
    assert u.prob(0.75) == "75 %"
    assert u.prob(0.125) == "12.5 %"
    assert u.prob(0.0001) == "<0.1 %"
    assert u.prob(0.9999) == ">99.9 %"
    assert u.prob(1.0) == "100 %"
    assert u.prob(0.0) == "0 %"
    assert u.hours(2.5) == "2.5 h"
    assert u.hours(250.4) == "250 h"
    assert u.days(12.34) == "12.3 days"
    assert u.count(1234.4) == "1,234"


def test_metric_formats_follow_the_metric_unit() -> None:
    assert u.metric_value("revenue", 6_988_000, "USD") == "USD 6.99M"
    assert u.metric_value("first_touch_breach", 0.75) == "75 %"
    assert u.metric_value("acceptance_rate", 0.3123) == "31.2 %"
    assert u.metric_value("response_hours_p50", 2.46) == "2.5 h"
    assert u.metric_value("response_business_hours_p90", 3.0) == "3.0 business h"
    assert u.metric_value("sales_cycle_days_mean", 41.26) == "41.3 days"
    assert u.metric_value("wins", 272.4) == "272"
    assert u.metric_diff("revenue", 120_000, "USD") == "+USD 120k"
    assert u.metric_diff("first_touch_compliance", -0.031) == "-3.1 pp"
    assert u.metric_diff("response_hours_p50", -0.5) == "-0.5 h"
    assert u.metric_label("first_touch_compliance") == "First touch compliance"
    assert u.metric_label("response_hours_p50") == "Response, clock hours (median)"


def test_period_span_names_the_measured_months() -> None:
    sc = preset("default")
    assert u.period_span(sc) == "quarter 2026-01..03"
    assert u.period_span(set_path(sc, "horizon.measure_months", 1)) == "month 2026-01"
    late = set_path(set_path(sc, "horizon.measure_start", "2026-11-01"),
                    "horizon.measure_months", 6)  # fmt: skip
    assert u.period_span(late) == "6 months 2026-11..2027-04"


def test_field_units_come_from_the_field_names() -> None:
    assert u.field_value("sla.first_touch_within_business_hours", 4.0) == "4 business h"
    assert u.field_value("sla.revenue_target_per_month", 2_500_000, "USD") == "USD 2.50M"
    assert u.field_value("channels[paid].deal_value.mean", 20_000, "USD") == "USD 20.0k"
    assert u.field_value("channels[paid].leads_per_month", 1600) == "1,600 per month"
    assert u.field_value("sla.acceptance_rate_min", 0.25) == "25 %"
    assert u.field_value("teams[sdr].reps", 12) == "12 people"
    assert u.field_value("follow_up.cadence_days", [0, 1, 3]) == "[0, 1, 3] days"
    assert u.field_value("horizon.warmup_days", 90) == "90 days"
    assert u.field_value("mql_threshold_points", 55) == "55 points"
    assert u.field_value("name", "x") == "'x'"


def test_field_values_of_whole_items_and_absent_fields() -> None:
    from sla_sim.errors import MISSING

    assert u.field_value("channels[tv]", MISSING) == "(absent)"
    assert u.field_value("channels[tv]", {"name": "tv", "leads_per_month": 10}) == "item 'tv'"
    assert (u.field_value("channels[paid].cycle_days", {"kind": "gamma", "mean": 38.0, "cv": 0.6})
            == "gamma(mean=38, cv=0.6)")


def test_replications_are_counted_in_words() -> None:
    """Chart subtitles and the console said 'share of 1 replications'."""
    from sla_sim.report.units import n_replications

    assert n_replications(1) == "1 replication"
    assert n_replications(4) == "4 replications"
    assert n_replications(1000) == "1,000 replications"


def test_a_share_field_reads_as_its_term() -> None:
    """`scenario diff` of a recommendation wrote the acceptance minimum '20.0 % -> 31.7 %'
    where the planner's note, the run's label and sla.md write '20 % -> 31.7 %'; a scenario's
    share prints as the term now, and a tiny rate keeps its digits instead of '<0.1 %'."""
    assert u.field_value("sla.acceptance_rate_min", 0.2) == "20 %"
    assert u.field_value("sla.acceptance_rate_min", 0.3172) == "31.7 %"
    assert u.field_value("sla.lead_compliance_target", 0.85) == u.prob(0.85)
    assert u.field_value("channels[paid].win_rate", 0.439) == "43.9 %"
    assert u.field_value("channels[paid].win_rate", 0.0003) == "0.03 %"
    assert u.field_value("channels[paid].win_rate", 0.9997) == "99.97 %"


def test_a_difference_that_rounds_to_zero_has_no_minus() -> None:
    """compare printed ``-0.0 pp`` and ``-0.00x`` beside ``+0.0 pp`` for differences that
    round to zero (a tiny negative mean), and ``-USD 0``: they now read as an exact zero."""
    assert u.points(-4e-5, signed=True) == u.points(0.0, signed=True) == "+0.0 pp"
    assert u.metric_diff("revenue", -0.3, "USD") == u.metric_diff("revenue", 0.0, "USD")
    assert u.metric_diff("revenue", -0.3, "USD") == "USD 0"
    assert u.hours(-0.04, signed=True) == "+0.0 h"
    assert u.days(-0.04, signed=True) == "+0.0 days"
    assert u.percent(-1e-5) == "0.0 %"
    assert u.points(-0.021, signed=True) == "-2.1 pp"  # a real difference keeps its sign
    assert u.money(-3, "USD", signed=True) == "-USD 3"
