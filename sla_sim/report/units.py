"""Numbers in human units, one place for every console table, panel and report cell.

``USD 6.99M``, ``87.4 %``, ``2.5 h``, ``1,234``: never ``6.988e+06``. Every function takes a
plain number (NaN or None print as an en dash) and returns text; :func:`metric_value` and
:func:`metric_diff` pick the format from the metric's unit in
:data:`sla_sim.metrics.docs.METRIC_DOCS`, :func:`field_value` from a scenario field's name
(units are in the field names: ``_hours``, ``_days``, ``_per_month``, ``_points``...). The
plain formatters (:func:`money`, :func:`prob`, ...) and :func:`metric_value`,
:func:`metric_diff` live in :mod:`sla_sim.metrics.numbers`, where ``recommend`` and ``batch``,
below the report, read them too.
"""

from __future__ import annotations

from typing import Any

from sla_sim.metrics.docs import metric_label
from sla_sim.metrics.numbers import (
    DASH,
    _num,
    _unit,
    count,
    days,
    hours,
    metric_diff,
    metric_value,
    money,
    percent,
    points,
    prob,
    prob_interval,
)

__all__ = [
    "comparison_table",
    "count",
    "days",
    "field_unit",
    "field_value",
    "hours",
    "measured_months",
    "metric_diff",
    "metric_label",
    "metric_value",
    "money",
    "n_replications",
    "percent",
    "period_span",
    "points",
    "prob",
    "prob_interval",
    "significant",
]


def n_replications(n: Any) -> str:
    """``1 replication``, ``4 replications``, ``1,000 replications``."""
    v = _num(n)
    return f"{count(v)} replication{'' if v == 1 else 's'}"


def measured_months(what: Any) -> list[str]:
    """The month labels a run measured (its results' periods: a measured CRM export covers
    its own months, not its base scenario's horizon) or, for a scenario, its horizon's."""
    from sla_sim.horizon import TOTAL, window_for

    if hasattr(what, "keys") and hasattr(what, "scenario"):  # a Results
        return [p for p in dict.fromkeys(p for p, _ in what.keys) if p != TOTAL]
    return [p.label for p in window_for(what).months]


def period_span(what: Any) -> str:
    """Which months the whole measured period covers: ``quarter 2026-01..03``,
    ``month 2026-02``, ``6 months 2026-11..2027-04``; ``what`` is a run's results (the months
    it measured) or a scenario (its horizon's)."""
    labels = measured_months(what)
    if not labels:
        return "no measured month"
    first, last = labels[0], labels[-1]
    if len(labels) == 1:
        return f"month {first}"
    end = last[5:] if last[:4] == first[:4] else last
    what = "quarter" if len(labels) == 3 else f"{len(labels)} months"
    return f"{what} {first}..{end}"


def month_name(label: Any) -> str:
    """``2026-03`` -> ``March 2026`` (anything else unchanged)."""
    import calendar

    text = str(label)
    try:
        year, month = text.split("-")
        return f"{calendar.month_name[int(month)]} {int(year)}"
    except (ValueError, IndexError):
        return text


def worst_month(risk: Any) -> str:
    """``March 2026: 23 %``: a clause's worst month and its P(breach), or a dash when no month
    was judged or none was ever breached (``risk``: a row of
    :func:`sla_sim.batch.breach.clause_risk`)."""
    if not risk["worst_month"] or not risk["p_worst_month"] > 0:
        return DASH  # no month judged, or none ever breached
    return f"{month_name(risk['worst_month'])}: {prob(risk['p_worst_month'])}"


def risk_sentence(risk: Any, label: str) -> str:
    """The one way every surface states a clause's risk: the chance that some month of the
    window breaches it, and its worst month (``risk`` is a row of
    :func:`sla_sim.batch.breach.clause_risk`)."""
    text = f"{label}: breached in at least one month in {prob(risk['p_any_month'])} of replications"
    if worst_month(risk) != DASH:
        text += f" (worst month {worst_month(risk)})"
    return text


# ------------------------------------------------------------------ scenario fields
_MONEY_FIELDS = ("revenue_target_per_month", "deal_value")


#: Readable names of the scenario fields planners sweep and compare most.
FIELD_LABELS: dict[str, str] = {
    "ae.count": "AEs",
    "mql_threshold_points": "MQL score threshold (points)",
    "sla.first_touch_within_business_hours": "First-touch SLA (business hours)",
    "sla.attempts_required": "Attempts owed by the SLA",
    "sla.disposition_within_days": "Disposition window (days)",
    "sla.handoff_within_hours": "Handoff window (hours)",
    "sla.revenue_target_per_month": "Revenue target per month",
    "sla.mql_commitment_per_month": "MQL commitment per month",
}


def field_label(path: str) -> str:
    """A scenario field's readable name: ``teams[sdr].reps`` -> ``SDRs (team sdr)``,
    ``channels[paid].leads_per_month`` -> ``Leads per month (channel paid)``."""
    if path in FIELD_LABELS:
        return FIELD_LABELS[path]
    import re

    m = re.fullmatch(r"(teams|channels)\[([^\]]+)\]\.(\w+)", path)
    if m:
        what = "SDRs" if m.group(3) == "reps" else m.group(3).replace("_", " ").capitalize()
        return f"{what} ({m.group(1)[:-1]} {m.group(2)})"
    return path.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def field_unit(path: str) -> str:
    """The unit of a scenario field from its path (the units are in the field names)."""
    parts = [p for p in path.replace("]", "").replace("[", ".").split(".") if p]
    names = [p for p in parts if not p.lstrip("-").isdigit()]
    leaf = names[-1] if names else path
    owner = next((n for n in reversed(names) if n in _MONEY_FIELDS), None)
    if leaf in _MONEY_FIELDS or (owner and leaf in ("mean", "low", "high", "mode", "scale",
                                                    "values")):  # fmt: skip
        return "currency"
    for suffix, unit in (("_business_hours", "business h"), ("_hours", "h"), ("_days", "days"),
                         ("_minutes", "min"), ("_points", "points"),
                         ("_per_month", "per month")):  # fmt: skip
        if leaf.endswith(suffix) or suffix.strip("_") == leaf:
            return unit
        if any(n.endswith(suffix) for n in names[:-1]) and leaf in ("mean", "low", "high",
                                                                    "mode", "scale"):
            return unit
    if leaf.endswith(("_rate", "_share", "_min", "_target")) and "revenue" not in leaf:
        return "ratio"
    if leaf in ("reps", "count", "max_active_leads", "max_open_opportunities"):
        return "people" if leaf in ("reps", "count") else "count"
    return ""


def _share_term(v: float) -> str:
    """A share a scenario sets (a rate, a minimum, a target) as its label, sla.md and the
    planner write the term (``20 %``, ``31.7 %``, :func:`prob`); a rate too small or too
    close to 1 for one decimal keeps its digits (``0.03 %``, ``99.97 %``), never ``<0.1 %``:
    an input is shown as given."""
    if 0 < abs(v) < 0.0005 or 0.9995 <= v < 1:
        return f"{v * 100:.6g} %"
    return prob(v)


def field_value(path: str, value: Any, currency: str = "") -> str:
    """A scenario field's value with its unit (``4 business h``, ``USD 24.0k``, ``25 %``);
    ``(absent)`` for a field or list item that scenario does not have."""
    from sla_sim.errors import MISSING

    if value is MISSING:
        return "(absent)"
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return repr(value) if isinstance(value, str) else str(value).lower()
    if isinstance(value, (list, tuple)):
        unit = field_unit(path)
        inner = ", ".join(f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in value)
        return f"[{inner}]" + (f" {unit}" if unit and unit not in ("ratio", "currency") else "")
    if isinstance(value, dict):
        if "name" in value:  # a whole list item (a channel, a team) only one side has
            return f"item {value['name']!r}"
        if "kind" in value:  # a distribution of another family: lognormal(mean=24000, cv=0.9)
            args = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}"
                             for k, v in value.items() if k != "kind")  # fmt: skip
            return f"{value['kind']}({args})"
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    unit = field_unit(path)
    if unit == "currency":
        return money(value, currency)
    if unit == "ratio":
        return _share_term(float(value))
    v = float(value)
    text = f"{v:,.0f}" if v.is_integer() else f"{v:,.4g}"
    return f"{text} {unit}" if unit and unit != "count" else text


# ------------------------------------------------------------------ comparisons
def _interval(metric: str, lo: Any, hi: Any, currency: str) -> str:
    if _num(lo) is None or _num(hi) is None:
        return DASH
    return f"{metric_diff(metric, lo, currency)} .. {metric_diff(metric, hi, currency)}"


def significant(low: Any, high: Any) -> bool:
    """Whether a 95% interval of a difference excludes zero."""
    lo, hi = _num(low), _num(high)
    return lo is not None and hi is not None and (lo > 0 or hi < 0)


#: How large a difference must be to matter to a planner (docs/metrics.md, "Material
#: differences"): ratios and probabilities by at least 1 percentage point; money, counts,
#: hours and days by at least 1 % of the baseline's value. A difference is highlighted only when
#: it is material *and* its paired interval excludes zero: detectable is not the same as large.
MATERIAL_POINTS = 0.01
MATERIAL_SHARE = 0.01


def material(metric: str, diff: Any, baseline: Any) -> bool:
    """Whether a difference B - A is large enough to matter (see :data:`MATERIAL_POINTS`)."""
    d, a = _num(diff), _num(baseline)
    if d is None:
        return False
    if _unit(metric) in ("0/1", "ratio"):
        return abs(d) >= MATERIAL_POINTS - 1e-12
    return abs(d) >= MATERIAL_SHARE * abs(a) if a else d != 0


def comparison_table(table: Any, currency: str = "") -> Any:
    """A paired-differences table (``sla_sim.batch.compare.paired_differences``) as text in
    human units: metric label, A, B, B - A, the paired and unpaired 95% intervals, a
    ``significant`` flag (paired interval excludes 0) and a ``material`` flag (significant and
    at least as large as :func:`material` asks)."""
    import pandas as pd

    rows = []
    for r in table.itertuples(index=False):
        m = r.metric
        rows.append({
            "Metric": metric_label(m),
            "A": metric_value(m, r.mean_a, currency),
            "B": metric_value(m, r.mean_b, currency),
            "B − A": metric_diff(m, r.diff, currency),
            "95% CI, paired": _interval(m, r.paired_low, r.paired_high, currency),
            "95% CI, unpaired": _interval(m, r.unpaired_low, r.unpaired_high, currency),
            "significant": significant(r.paired_low, r.paired_high),
            "material": significant(r.paired_low, r.paired_high)
            and material(m, r.diff, r.mean_a),
        })  # fmt: skip
    return pd.DataFrame(rows)
