"""Results of many replications: a tidy table plus metadata, summaries and a results folder.

``Results.table`` has one row per replication x period x metric. ``summary()`` gives, per period
and metric, the mean, standard deviation, standard error and P10/P50/P90 across replications; for
the 0/1 breach indicators the mean is the probability of a breach.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sla_sim.scenario import Scenario

if TYPE_CHECKING:
    from sla_sim.montecarlo import ReplicationResult

__all__ = ["Results", "package_version", "scenario_hash"]

QUANTILES = (0.1, 0.5, 0.9)


def package_version() -> str:
    """Installed version of sla_sim (or 'unknown' when run from a source tree)."""
    try:
        return metadata.version("sla_sim")
    except metadata.PackageNotFoundError:
        return "unknown"


def scenario_hash(scenario: Scenario) -> str:
    """Short content hash of a scenario (identical scenarios hash alike)."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()[:12]


@dataclass
class Results:
    """Many replications of one scenario."""

    scenario: Scenario
    table: pd.DataFrame
    terminal: pd.DataFrame
    meta: dict[str, Any]
    event_log: pd.DataFrame | None = field(default=None, repr=False)

    @classmethod
    def from_replications(
        cls, scenario: Scenario, seed: int, reps: list[ReplicationResult],
        wall_seconds: float = float("nan"), workers: int = 1,
    ) -> Results:  # fmt: skip
        """Gather replication results (any order) into one Results, sorted by replication."""
        reps = sorted(reps, key=lambda r: r.replication)
        frames = [r.metrics.assign(replication=r.replication) for r in reps]
        table = pd.concat(frames, ignore_index=True)[["replication", "period", "metric", "value"]]
        terminal = pd.DataFrame([{"replication": r.replication, **r.terminal} for r in reps])
        logs = [r for r in reps if r.log is not None]
        event_log = logs[0].log.to_frame().assign(replication=logs[0].replication) if logs else None
        meta = {
            "scenario_name": scenario.name,
            "scenario_hash": scenario_hash(scenario),
            "seed": seed,
            "replications": len(reps),
            "sla_sim_version": package_version(),
            "python": platform.python_version(),
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "wall_seconds": round(wall_seconds, 3),
            "seconds_per_replication_mean": round(float(np.mean([r.seconds for r in reps])), 4),
            "workers": workers,
            "currency": scenario.currency,
        }
        return cls(scenario, table, terminal, meta, event_log)

    @property
    def replications(self) -> int:
        """Number of replications."""
        return int(self.table["replication"].nunique())

    def wide(self, period: str | None = "total") -> pd.DataFrame:
        """One row per replication (x period), one column per metric."""
        t = self.table if period is None else self.table[self.table["period"] == period]
        idx = ["replication"] if period is not None else ["replication", "period"]
        out = t.pivot_table(index=idx, columns="metric", values="value", aggfunc="first",
                            dropna=False)
        out.columns.name = None
        return out

    def summary(self) -> pd.DataFrame:
        """Per period and metric: n, mean, std, sem, p10, p50, p90 across replications."""
        g = self.table.groupby(["period", "metric"], sort=False)["value"]
        out = g.agg(n="count", mean="mean", std="std")
        out["sem"] = out["std"] / np.sqrt(out["n"].where(out["n"] > 0))
        q = g.quantile(list(QUANTILES)).unstack()
        q.columns = [f"p{round(c * 100)}" for c in q.columns]
        return out.join(q).reset_index()

    def metric(self, name: str, period: str = "total") -> pd.Series:
        """Values of one metric across replications for one period."""
        t = self.table
        sel = t[(t["metric"] == name) & (t["period"] == period)]
        if sel.empty:
            from sla_sim.errors import Issue, ScenarioError

            known = sorted(t["metric"].unique())
            raise ScenarioError([Issue("metric", f"must be one of {known[:6]}...", name)])
        return sel.set_index("replication")["value"]

    def summary_json(self) -> dict[str, Any]:
        """Summary as a JSON-ready dict: meta, lead states, and period -> metric -> stats."""
        s = self.summary()
        periods: dict[str, dict[str, dict[str, float | None]]] = {}
        for row in s.itertuples(index=False):
            stats = {k: _num(getattr(row, k)) for k in ("n", "mean", "std", "sem", "p10",
                                                        "p50", "p90")}  # fmt: skip
            periods.setdefault(row.period, {})[row.metric] = stats
        states = self.terminal.drop(columns="replication").mean().round(2).to_dict()
        return {"meta": self.meta, "lead_terminal_states_mean": states, "periods": periods}

    # ------------------------------------------------------------------ persistence
    def save(self, out_dir: str | Path, report: bool = True) -> Path:
        """Write the results folder: summary.json, replications (Parquet), events (Parquet),
        scenario.yaml and, if ``report``, report.md and report.html."""
        from sla_sim.scenario_io import save as save_scenario

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        save_scenario(self.scenario, out / "scenario.yaml")
        (out / "summary.json").write_text(json.dumps(self.summary_json(), indent=2) + "\n")
        self.table.to_parquet(out / "replications.parquet", index=False)
        self.terminal.to_parquet(out / "lead_states.parquet", index=False)
        if self.event_log is not None:
            self.event_log.to_parquet(out / "events.parquet", index=False)
        if report:
            from sla_sim.report import write_report

            write_report(self, out)
        return out

    @classmethod
    def load(cls, out_dir: str | Path) -> Results:
        """Read a results folder written by :meth:`save`."""
        from sla_sim.scenario_io import load as load_scenario

        d = Path(out_dir)
        scenario = load_scenario(d / "scenario.yaml")
        summary = json.loads((d / "summary.json").read_text())
        table = pd.read_parquet(d / "replications.parquet")
        terminal = pd.read_parquet(d / "lead_states.parquet")
        ev = d / "events.parquet"
        return cls(scenario, table, terminal, summary["meta"],
                   pd.read_parquet(ev) if ev.exists() else None)


def _num(x: Any) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else round(f, 6)
