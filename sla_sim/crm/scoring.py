"""Scores of a backtest table: coverage, errors, pinball loss and skill against the naive.

Rows judged are those with both an observation and a forecast. Per row:

- **scaled error**: |forecast - observed| / observed (relative error, for counts and shares
  alike), for the simulation's P50 and for the naive forecast; the *mean scaled error* is its
  mean over the rows both forecasts cover;
- **absolute error** as people read it: counts relative (%), shares in percentage points;
- **pinball loss** of the P10 / P50 / P90 (mean over the three quantiles, on the scaled values);
  the naive forecast is a point forecast, its pinball loss is that of all three quantiles at
  the point, i.e. half its scaled error;
- **skill** = 1 - (simulation's mean scaled error) / (naive's): above 0 the simulation beats
  the naive forecast.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["QUANTILES", "add_errors", "summarise"]

QUANTILES = (0.1, 0.5, 0.9)


def _pinball(o: np.ndarray, q: dict[float, np.ndarray]) -> np.ndarray:
    loss = np.zeros(len(o))
    for tau, f in q.items():
        d = o - f
        loss += np.where(d >= 0, tau * d, (tau - 1) * d)
    return loss / len(q)


def add_errors(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (observed, p10, p50, p90, naive per row) with the per-row error columns."""
    t = table.copy()
    o = t["observed"].to_numpy(float)
    scale = np.where(o > 0, o, np.nan)
    share = t["metric"].str.startswith("won_within").to_numpy()
    for who, col in (("sim", "p50"), ("naive", "naive")):
        f = t[col].to_numpy(float)
        t[f"scaled_error_{who}"] = np.abs(f - o) / scale
        t[f"abs_error_{who}"] = np.where(share, 100 * np.abs(f - o), np.abs(f - o) / scale)
    cols = ("p10", "p50", "p90")
    q = {tau: t[c].to_numpy(float) / scale for tau, c in zip(QUANTILES, cols, strict=True)}
    t["pinball_sim"] = _pinball(o / scale, q)
    t["pinball_naive"] = _pinball(o / scale, {tau: t["naive"].to_numpy(float) / scale
                                              for tau in QUANTILES})  # fmt: skip
    return t


def summarise(table: pd.DataFrame) -> dict[str, Any]:
    """The scores of a backtest table (with :func:`add_errors`' columns)."""
    judged = table.dropna(subset=["observed", "p50"])
    both = judged.dropna(subset=["naive", "scaled_error_sim", "scaled_error_naive"])
    share = both["metric"].str.startswith("won_within")

    def m(x: pd.Series) -> float | None:
        return None if x.empty else round(float(x.mean()), 5)

    inside = judged["inside"].dropna().astype(bool)
    mse_sim, mse_naive = m(both["scaled_error_sim"]), m(both["scaled_error_naive"])
    return {
        "judged": len(inside),
        "coverage_p10_p90": None if inside.empty else round(float(inside.mean()), 4),
        "coverage_binomial_se": None if inside.empty else round(float(np.sqrt(
            0.8 * 0.2 / len(inside))), 4),
        "compared_with_naive": len(both),
        "mean_scaled_error": {"simulation": mse_sim, "naive": mse_naive},
        "skill": None if not mse_naive else round(1 - (mse_sim or 0.0) / mse_naive, 4),
        "mean_abs_error_counts_relative": {"simulation": m(both.loc[~share, "abs_error_sim"]),
                                           "naive": m(both.loc[~share, "abs_error_naive"])},
        "mean_abs_error_shares_pp": {"simulation": m(both.loc[share, "abs_error_sim"]),
                                     "naive": m(both.loc[share, "abs_error_naive"])},
        "pinball_loss": {"simulation": m(both["pinball_sim"]),
                         "naive": m(both["pinball_naive"])},
    }  # fmt: skip
