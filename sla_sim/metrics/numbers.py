"""Numbers in human units, the one way every screen prints them: the terminal, the HTML
report, the notebooks, the planner panel and the SLA document of ``recommend`` (which sits
below the report and so imports them from here, not from :mod:`sla_sim.report.units`).

``USD 6.99M``, ``USD 4.60M``, ``87.4 %``, ``2.5 h``, ``1,234``: never ``6.988e+06``. Every
function takes a plain number (NaN or None print as an en dash) and returns text;
:func:`metric_value` and :func:`metric_diff` pick the format from a metric's unit
(:data:`sla_sim.metrics.docs.METRIC_DOCS`), for ``batch`` (``run --precision``) as for the report.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["DASH", "count", "days", "hours", "metric_diff", "metric_value", "money", "percent",
           "points", "prob", "prob_interval"]


DASH = "–"


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _sig3(v: float) -> str:
    """Three significant digits, trailing zeros kept (``4.60``, ``30.0``, ``850``): a column of
    money lines up on its decimals, and a figure reads the same in a sentence and a table."""
    return f"{v:#.3g}".removesuffix(".")


def _fixed(v: float, spec: str, signed: bool = False) -> str:
    """``v`` formatted by ``spec`` (``,.1f``), with ``+`` on positive values when ``signed``;
    a value that rounds to zero never prints ``-0.0`` (a difference of -0.0004 reads as an
    exact zero does)."""
    text = f"{v:{'+' if signed else ''}{spec}}"
    if text.startswith("-") and not any(c in "123456789" for c in text):
        text = ("+" if signed else "") + text[1:]
    return text


def money(x: Any, currency: str = "", signed: bool = False) -> str:
    """``USD 6.99M``, ``USD 4.60M``, ``USD 850k``, ``USD 30.0k``, ``USD 1,234``, ``USD 1.20B``
    (three significant digits from ten thousand up, trailing zeros kept so that ``USD 4.60M``
    stands beside ``USD 4.71M`` in a column; ``signed`` adds ``+`` to positive values). The unit
    is chosen after rounding: 999,700 is ``USD 1.00M``, never ``USD 1e+03k``."""
    v = _num(x)
    if v is None:
        return DASH
    sign = "-" if v < 0 else "+" if signed and v > 0 else ""
    a = abs(v)
    if a >= 1e4:
        a = float(f"{a:.3g}")  # three significant digits, then the unit they need
    if a >= 1e12:
        body = f"{a / 1e9:,.0f}B"
    elif a >= 1e9:
        body = f"{_sig3(a / 1e9)}B"
    elif a >= 1e6:
        body = f"{_sig3(a / 1e6)}M"
    elif a >= 1e4:
        body = f"{_sig3(a / 1e3)}k"
    else:
        body = f"{a:,.0f}"
        if body == "0":  # -0.4 rounds to an exact zero, unsigned as one
            sign = ""
    return f"{sign}{currency} {body}".strip() if currency else f"{sign}{body}"


def percent(x: Any, digits: int = 1, signed: bool = False) -> str:
    """A ratio as a percentage: 0.874 -> ``87.4 %``."""
    v = _num(x)
    if v is None:
        return DASH
    return f"{_fixed(v * 100, f'.{digits}f', signed)} %"


def prob(x: Any) -> str:
    """A probability or a share of a whole, on every screen (the terminal, the report, the
    notebooks, the planner, the SLA document): ``75 %``, ``12.5 %``; never a rare event
    rounded to 0 % or a likely one to 100 % (``<0.1 %``, ``>99.9 %``)."""
    v = _num(x)
    if v is None:
        return DASH
    if 0 < v < 0.0005:
        return "<0.1 %"
    if 0.9995 <= v < 1:
        return ">99.9 %"
    return f"{v * 100:.1f}".removesuffix(".0") + " %"


def prob_interval(low: Any, high: Any) -> str:
    """A probability's interval, both ends by :func:`prob`: ``84.2 % .. 100 %``."""
    if _num(low) is None or _num(high) is None:
        return DASH
    return f"{prob(low)} .. {prob(high)}"


def points(x: Any, signed: bool = False) -> str:
    """A difference of two ratios in percentage points: ``+3.1 pp``."""
    v = _num(x)
    return DASH if v is None else f"{_fixed(v * 100, '.1f', signed)} pp"


def hours(x: Any, unit: str = "h", signed: bool = False) -> str:
    """``2.5 h`` (one decimal below 100, none above; ``unit`` e.g. ``business h``)."""
    v = _num(x)
    if v is None:
        return DASH
    return f"{_fixed(v, ',.1f' if abs(v) < 100 else ',.0f', signed)} {unit}"


def days(x: Any, signed: bool = False) -> str:
    """``12.3 days``."""
    v = _num(x)
    if v is None:
        return DASH
    return f"{_fixed(v, ',.1f', signed)} days"


def count(x: Any, signed: bool = False, unit: str = "") -> str:
    """``1,234`` (one decimal below 10 for means of small counts)."""
    v = _num(x)
    if v is None:
        return DASH
    spec = ",.1f" if abs(v) < 10 and not float(v).is_integer() else ",.0f"
    text = _fixed(v, spec, signed)
    return f"{text} {unit}".rstrip()


def _unit(metric: str) -> str:
    from sla_sim.metrics.docs import metric_doc

    unit = metric_doc(metric)[0]
    return "currency" if unit.startswith("currency") else unit  # CAC: currency per win


def _in_unit(unit: str, x: Any, currency: str, signed: bool) -> str:
    """A value or a difference in a unit other than a share's (money, a multiple, hours,
    days, a count), with ``+`` on positive values when ``signed``."""
    if unit == "currency":
        return money(x, currency, signed=signed)
    if unit == "x":
        v = _num(x)
        return DASH if v is None else f"{_fixed(v, '.2f', signed)}x"
    if unit == "hours":
        return hours(x, signed=signed)
    if unit == "business hours":
        return hours(x, "business h", signed=signed)
    if unit == "days":
        return days(x, signed=signed)
    return count(x, signed=signed)


def metric_value(metric: str, x: Any, currency: str = "") -> str:
    """A metric's value (or mean across replications) in its unit: money for revenue,
    a probability for 0/1 breach indicators, a percentage for ratios, hours, days, counts."""
    unit = _unit(metric)
    if unit == "0/1":
        return prob(x)
    if unit == "ratio":
        return percent(x)
    return _in_unit(unit, x, currency, signed=False)


def metric_diff(metric: str, x: Any, currency: str = "", signed: bool = True) -> str:
    """A difference B - A of a metric, signed, in its unit (ratios and probabilities in
    percentage points); unsigned for a width (a half-width of an interval) when told."""
    unit = _unit(metric)
    if unit in ("0/1", "ratio"):
        return points(x, signed=signed)
    return _in_unit(unit, x, currency, signed)
