"""What every calibration step shares: the estimate, the calibration, the step base (the
export's columns as hours, ``add``), helpers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sla_sim.crm.load import CrmExport
from sla_sim.scenario import Scenario
from sla_sim.scenario.distributions import Empirical, Exponential, Gamma, LogNormal

HOURS_PER_MONTH = 365.25 / 12 * 24
_NS_PER_H = 3_600_000_000_000
MIN_EVENTS = 20  # fewer events than this in a channel: the channel uses the pooled estimate
SQL_RATE_CAP = 0.99  # highest sql_rate a derived split applies (beyond it: the win rate)


@dataclass
class Estimate:
    """One fitted parameter: scenario path, value, 95% interval, unit, method, data used."""

    path: str
    value: float
    low: float
    high: float
    unit: str
    method: str
    n: int
    fields: str
    exact: bool = False  # identified exactly (counts, observed hours), no sampling interval
    derived: bool = False  # not identified: solved from identified ones and kept base values

    def covers(self, truth: float) -> bool:
        """Whether ``truth`` lies inside the interval."""
        return self.low - 1e-12 <= truth <= self.high + 1e-12

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (rounded) form."""
        def r(v: float | None) -> float | None:
            return None if v is None or not np.isfinite(v) else float(f"{v:.6g}")

        return {"path": self.path, "value": r(self.value), "low": r(self.low),
                "high": r(self.high), "unit": self.unit, "method": self.method, "n": self.n,
                "fields": self.fields, "exact": self.exact,
                "derived": self.derived}  # fmt: skip


@dataclass
class Calibration:
    """The calibrated scenario and everything needed to trust it."""

    scenario: Scenario
    estimates: list[Estimate]
    not_identified: list[dict[str, str]]
    naive: dict[str, Any]
    export: dict[str, Any]
    checks: dict[str, Any] = field(default_factory=dict)

    def get(self, path: str) -> Estimate:
        """The estimate of one scenario path."""
        for e in self.estimates:
            if e.path == path:
                return e
        raise KeyError(path)

    def as_dict(self) -> dict[str, Any]:
        """``calibration.json``: aggregates only."""
        return {"scenario": self.scenario.name, "export": self.export,
                "estimates": [e.as_dict() for e in self.estimates],
                "not_identified": self.not_identified, "naive_estimates": self.naive,
                "checks": self.checks}  # fmt: skip


# ---------------------------------------------------------------------------------- helpers
def _h(a: pd.Series | np.ndarray) -> np.ndarray:
    """datetime64[ns, UTC] -> float hours since the epoch (NaN where missing)."""
    s = pd.Series(a) if not isinstance(a, pd.Series) else a
    if isinstance(s.dtype, pd.DatetimeTZDtype):  # int64 view, no conversion through objects
        i = s.astype("datetime64[ns, UTC]").array.asi8
        out = i / _NS_PER_H
        out[i == np.iinfo(np.int64).min] = np.nan
        return out
    v = s.to_numpy(dtype="datetime64[ns]")
    out = v.astype(np.int64) / _NS_PER_H
    out[np.isnat(v)] = np.nan
    return out


def _lognormal_fit(x: np.ndarray) -> tuple[float, float, tuple[float, float], tuple[float, float]]:
    """Log-normal (mean, cv) by maximum likelihood, with 95% intervals: the cv from the exact
    chi-square interval of the log variance, the mean by Cox's method (t quantile)."""
    lx = np.log(x)
    n = len(lx)
    mu, s2 = float(lx.mean()), float(lx.var())
    S2 = float(lx.var(ddof=1))
    mean = math.exp(mu + s2 / 2)
    cv = math.sqrt(math.expm1(s2))
    se = math.sqrt(S2 / n + S2 * S2 / (2 * (n - 1)))
    tq = float(stats.t.ppf(0.975, n - 1))
    centre = mu + S2 / 2
    lo2 = (n - 1) * S2 / float(stats.chi2.ppf(0.975, n - 1))
    hi2 = (n - 1) * S2 / float(stats.chi2.ppf(0.025, n - 1))
    return (mean, cv, (math.exp(centre - tq * se), math.exp(centre + tq * se)),
            (math.sqrt(math.expm1(lo2)), math.sqrt(math.expm1(hi2))))


def _dist(kind: str, mean: float, cv: float) -> Any:
    if kind == "lognormal":
        return LogNormal(mean=mean, cv=cv)
    if kind == "exponential":
        return Exponential(mean=mean)
    return Gamma(mean=mean, cv=cv)


class Steps:
    """The state every calibration step reads and writes."""

    def __init__(self, export: CrmExport, base: Scenario) -> None:
        self.x = export
        self.base = base
        self.L = export.leads
        self.C = export.exported_at.value / _NS_PER_H  # hours since epoch
        self.tz = export.mapping.timezone
        self.est: list[Estimate] = []
        self.naive: dict[str, Any] = {}
        self.checks: dict[str, Any] = {}
        self.updates: dict[str, Any] = {}  # scenario path -> value
        self.channels = sorted(self.L["channel"].astype(str).unique())
        self.ch = pd.Categorical(self.L["channel"].astype(str), self.channels).codes
        self.H = {c: _h(self.L[c]) for c in self.L.columns if c.endswith("_at")}
        base_ch = {c.name: c for c in base.channels}
        self.base_ch = {c: base_ch.get(c, base.channels[0]) for c in self.channels}
        self.trend = self.every_row_mql = False  # set by volumes() when there are days enough

    def add(self, path: str, value: float, ci: tuple[float, float], unit: str, method: str,
            n: int, fields: str, exact: bool = False, apply: Any = None,
            derived: bool = False) -> None:  # fmt: skip
        self.est.append(Estimate(path, float(value), float(ci[0]), float(ci[1]), unit, method,
                                 int(n), fields, exact, derived))  # fmt: skip
        if isinstance(apply, (Gamma, LogNormal, Exponential, Empirical)):  # the whole distribution
            self.updates[path.rsplit(".", 1)[0]] = apply
        else:
            self.updates[path] = value if apply is None else apply

    # ------------------------------------------------------------------ steps
    def run(self) -> None:
        self.volumes()
        self.scores()
        self.mql_share()
        self.handoff()
        self.contact()
        self.first_touch()
        self.qualification()
        self.sales()
        self.opportunity_table()
        self.capacity()


# schema ranges of fitted scalars: an estimate outside is applied at the bound and reported
# under checks.applied_at_the_schema_bound in calibration.json (never silently)
_BOUNDS = {"follow_up.score_slope_per_10_points": (0.0, 3.0),
           "arrivals.daily_volume_cv": (0.0, 3.0)}  # fmt: skip


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``a.b[name].c`` (list items by name, or by index) in a scenario dict."""
    import re

    parts = re.findall(r"[^.\[\]]+|\[[^\]]+\]", path)
    cur: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part.startswith("["):
            key = part[1:-1]
            if key.isdigit():
                idx = int(key)
                if last:
                    cur[idx] = value
                    return
                cur = cur[idx]
            else:
                match = [x for x in cur if x.get("name") == key]
                if not match:
                    return
                cur = match[0]
            continue
        if last:
            if isinstance(value, (Gamma, LogNormal, Exponential)):
                value = value.model_dump(mode="python")
            cur[part] = value
            return
        if part not in cur:
            return
        cur = cur[part]
