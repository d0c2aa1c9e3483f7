"""The origins of a rolling backtest (``--origins START:END``) and the months simulated past
its test window: light (pandas only), so ``sla-sim backtest --origins`` checks the whole
request's cost before the calibration and simulation modules are imported."""

from __future__ import annotations

import pandas as pd

from sla_sim.errors import Issue, ScenarioError

__all__ = ["FOLLOW_UP_MONTHS", "monthly_origins"]

FOLLOW_UP_MONTHS = 3  # simulated beyond the test window so the cohort's 90 days are seen


def monthly_origins(spec: str) -> list[str]:
    """``START:END`` (dates, both included) -> the first days of the months from START's."""
    start, sep, end = spec.partition(":")
    try:
        if not sep:
            raise ValueError
        a, b = pd.Timestamp(start), pd.Timestamp(end)
    except ValueError:
        raise ScenarioError([Issue("--origins", "must be START:END (YYYY-MM-DD:YYYY-MM-DD)",
                                   spec)]) from None  # fmt: skip
    if b < a:
        raise ScenarioError([Issue("--origins", "END must not come before START", spec)])
    first = a.to_period("M").to_timestamp()
    first = first if first == a.normalize() else first + pd.DateOffset(months=1)
    out = [str(d.date()) for d in pd.date_range(first, b, freq="MS")]
    if not out:
        raise ScenarioError([Issue("--origins", "holds no first day of a month", spec)])
    return out
