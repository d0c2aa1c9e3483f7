"""Results of many replications: a tidy table plus metadata, summaries and a results folder.

``Results.table`` has one row per replication x period x metric. ``summary()`` gives, per period
and metric, the mean, standard deviation, standard error and P10/P50/P90 across replications; for
the 0/1 breach indicators the mean is the probability of a breach.
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sla_sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sla_sim.batch.worker import ReplicationResult

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


class Results:
    """Many replications of one scenario, held as a (replication x (period, metric)) array.

    ``table`` gives the tidy long form (replication, period, metric, value); ``wide()`` one row
    per replication; ``summary()`` the statistics across replications.
    """

    def __init__(
        self,
        scenario: Scenario,
        keys: list[tuple[str, str]],
        replication: np.ndarray,
        values: np.ndarray,
        terminal: pd.DataFrame,
        meta: dict[str, Any],
        event_log: pd.DataFrame | None = None,
        failures: list[Any] | None = None,
        drivers: pd.DataFrame | None = None,
    ) -> None:
        order = np.argsort(replication, kind="stable")
        self.scenario = scenario
        self.keys = list(keys)
        self.replication_ids = np.asarray(replication, dtype=np.int64)[order]
        self.values = np.asarray(values, dtype=np.float64).reshape(len(order), len(self.keys))[
            order]
        self.terminal = terminal.sort_values("replication").reset_index(drop=True)
        self.meta = meta
        self.event_log = event_log
        self.failures = list(failures or [])
        self._table: pd.DataFrame | None = None
        self._summary: pd.DataFrame | None = None
        # what the costs multiply, one row per replication x period x driver (None: not known)
        self.drivers = drivers
        self._costs: Results | None = None

    @classmethod
    def from_replications(
        cls, scenario: Scenario, seed: int, reps: list[ReplicationResult],
        wall_seconds: float = float("nan"), workers: int = 1, extra_meta: dict | None = None,
        failures: list[Any] | None = None,
    ) -> Results:  # fmt: skip
        """Gather replication results (any order) into one Results."""
        if not reps:
            from sla_sim.errors import SlaSimError

            raise SlaSimError("no replication completed")
        keys = list(reps[0].keys)
        values = np.vstack([r.values for r in reps])
        ids = np.asarray([r.replication for r in reps])
        terminal = pd.DataFrame([{"replication": r.replication, **r.terminal} for r in reps])
        logs = sorted((r for r in reps if r.log is not None), key=lambda r: r.replication)
        event_log = logs[0].log.to_frame().assign(replication=logs[0].replication) if logs else None
        drivers = pd.DataFrame(
            [(r.replication, p, d, v) for r in reps for (p, d), v in r.drivers.items()],
            columns=["replication", "period", "driver", "value"]) if all(
            r.drivers for r in reps) else None  # fmt: skip
        from sla_sim.model.engine import describe as describe_engine  # the model loads lazily

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
            "engine": describe_engine(scenario),
            **(extra_meta or {}),
        }
        return cls(scenario, keys, ids, values, terminal, meta, event_log, failures, drivers)

    @property
    def costs(self) -> Results | None:
        """The cost metrics of every replication under ``scenario.costs`` (cost by team and
        channel, total, profit, CAC ...; :mod:`sla_sim.metrics.costs`) as Results of their own,
        or None when the run kept no cost drivers (a run stored before costs existed)."""
        if self._costs is None and self.drivers is not None:
            self._costs = self.priced(self.scenario)
        return self._costs

    def priced(self, scenario: Scenario) -> Results | None:
        """The cost metrics of these replications under the costs of ``scenario`` (same funnel,
        other prices), as Results; None without cost drivers."""
        from sla_sim.metrics.costs import cost_keys, cost_rows

        if self.drivers is None:
            return None
        d = self.drivers.pivot_table(index="replication", columns=["period", "driver"],
                                     values="value", aggfunc="first", observed=True)
        d = d.reindex(self.replication_ids)
        periods = list(dict.fromkeys(p for p, _ in self.keys))
        drivers = {key: d[key].to_numpy(np.float64) for key in d.columns}
        metrics = {(p, m): self.column(m, p) for p in periods
                   for m in ("revenue", "mqls", "sqls", "wins")}  # fmt: skip
        rows = cost_rows(drivers, metrics, scenario, periods)
        keys = [(p, m) for p in periods for m in cost_keys(scenario)]
        values = np.column_stack([rows[k] for k in keys]) if keys else np.empty((0, 0))
        meta = {**self.meta, "kind": "costs", "currency": scenario.currency}
        return Results(scenario, keys, self.replication_ids, values, self.terminal, meta)

    @property
    def replications(self) -> int:
        """Number of replications."""
        return len(self.replication_ids)

    @property
    def table(self) -> pd.DataFrame:
        """Tidy table: one row per replication x period x metric."""
        if self._table is None:
            n, k = self.values.shape
            periods = pd.Categorical([p for p, _ in self.keys],
                                     categories=list(dict.fromkeys(p for p, _ in self.keys)))
            metrics = pd.Categorical([m for _, m in self.keys],
                                     categories=list(dict.fromkeys(m for _, m in self.keys)))
            self._table = pd.DataFrame({
                "replication": np.repeat(self.replication_ids, k),
                "period": pd.Categorical.from_codes(np.tile(periods.codes, n),
                                                    categories=periods.categories),
                "metric": pd.Categorical.from_codes(np.tile(metrics.codes, n),
                                                    categories=metrics.categories),
                "value": self.values.ravel(),
            })  # fmt: skip
        return self._table

    def column(self, metric: str, period: str = "total") -> np.ndarray:
        """Values of one metric for one period, one per replication (sorted by replication);
        cost metrics (:attr:`costs`) too."""
        try:
            j = self.keys.index((period, metric))
        except ValueError:
            costs = self.costs if (period, "revenue") in self.keys else None
            if costs is not None and (period, metric) in costs.keys:
                return costs.column(metric, period)
            from sla_sim.errors import Issue, ScenarioError

            periods = sorted({p for p, _ in self.keys})
            metrics = sorted({m for _, m in self.keys})
            field = "metric" if metric not in metrics else "period"
            allowed = metrics if field == "metric" else periods
            raise ScenarioError([Issue(field, f"must be one of {', '.join(allowed)}",
                                       metric if field == "metric" else period)]) from None
        return self.values[:, j]

    def metric(self, name: str, period: str = "total") -> pd.Series:
        """Values of one metric across replications for one period."""
        return pd.Series(self.column(name, period), index=pd.Index(self.replication_ids,
                                                                  name="replication"), name=name)

    def wide(self, period: str | None = "total") -> pd.DataFrame:
        """One row per replication (x period), one column per metric."""
        if period is None:
            t = self.table
            out = t.pivot_table(index=["replication", "period"], columns="metric", values="value",
                                aggfunc="first", dropna=False, observed=True)
            out.columns = list(out.columns)
            return out
        cols = [(j, m) for j, (p, m) in enumerate(self.keys) if p == period]
        return pd.DataFrame(self.values[:, [j for j, _ in cols]], columns=[m for _, m in cols],
                            index=pd.Index(self.replication_ids, name="replication"))

    def summary(self) -> pd.DataFrame:
        """Per period and metric: n, mean, std, sem, p10, p50, p90 across replications."""
        if self._summary is not None:
            return self._summary.copy()
        v = self.values
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                n = np.sum(~np.isnan(v), axis=0)
                mean = np.nanmean(v, axis=0)
                std = np.nanstd(v, axis=0, ddof=1) if len(v) > 1 else np.full(len(self.keys),
                                                                              np.nan)
                q = np.nanpercentile(v, [q * 100 for q in QUANTILES], axis=0)
        out = pd.DataFrame({
            "period": [p for p, _ in self.keys], "metric": [m for _, m in self.keys],
            "n": n, "mean": mean, "std": std,
        })  # fmt: skip
        out["sem"] = out["std"] / np.sqrt(out["n"].where(out["n"] > 0))
        for i, qq in enumerate(QUANTILES):
            out[f"p{round(qq * 100)}"] = q[i]
        self._summary = out
        return out.copy()

    def periods_json(self) -> dict[str, dict[str, dict[str, float | None]]]:
        """The summary as period -> metric -> statistic -> value (JSON-ready)."""
        periods: dict[str, dict[str, dict[str, float | None]]] = {}
        for row in self.summary().itertuples(index=False):
            stats = {k: _num(getattr(row, k)) for k in ("n", "mean", "std", "sem", "p10",
                                                        "p50", "p90")}  # fmt: skip
            periods.setdefault(row.period, {})[row.metric] = stats
        return periods

    def summary_json(self) -> dict[str, Any]:
        """Summary as a JSON-ready dict: meta, lead states, and period -> metric -> stats."""
        periods = self.periods_json()
        from sla_sim.batch.breach import breach_distributions, revenue_distribution

        states = self.terminal.drop(columns="replication").mean().round(2).to_dict()
        out = {
            "meta": self.meta,
            "lead_terminal_states_mean": states,
            "breach": _records(breach_distributions(self)),
            "revenue": _records(revenue_distribution(self)),
            "periods": periods,
        }
        costs = self.costs
        if costs is not None:  # cost metrics, per period -> metric -> stats, like "periods"
            out["costs"] = {"currency": self.scenario.currency,
                            "periods": costs.periods_json()}  # fmt: skip
        return out

    # ------------------------------------------------------------------ persistence
    def saved_files(self) -> list[str]:
        """The files :meth:`save` writes (names inside the results folder)."""
        names = ["scenario.yaml", "summary.json", "replications.parquet", "lead_states.parquet"]
        return names + (["events.parquet"] if self.event_log is not None else [])

    def save(self, out_dir: str | Path) -> Path:
        """Write the results folder: summary.json, replications (Parquet), events (Parquet)
        and scenario.yaml (the report is written by
        :func:`sla_sim.report.document.write_report`)."""
        from sla_sim.batch.files import atomic_write_bytes, atomic_write_parquet
        from sla_sim.scenario.io import dump_yaml

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        # each file goes to a temporary name, is flushed and renamed: an error (a full disk)
        # names the file and leaves no partial file under its final name
        atomic_write_bytes(out / "scenario.yaml", dump_yaml(self.scenario).encode("utf-8"))
        atomic_write_bytes(out / "summary.json",
                           (json.dumps(self.summary_json(), indent=2) + "\n").encode())
        atomic_write_parquet(self.table, out / "replications.parquet")
        atomic_write_parquet(self.terminal, out / "lead_states.parquet")
        if self.drivers is not None:
            atomic_write_parquet(self.drivers, out / "cost_drivers.parquet")
        if self.event_log is not None:
            atomic_write_parquet(self.event_log, out / "events.parquet")
        return out

    @classmethod
    def load(cls, out_dir: str | Path) -> Results:
        """Read a results folder written by :meth:`save`."""
        from sla_sim.errors import Issue, ScenarioError
        from sla_sim.scenario.io import load as load_scenario

        d = Path(out_dir)
        missing = [n for n in ("scenario.yaml", "summary.json", "replications.parquet")
                   if not (d / n).is_file()]  # it said "must be an existing scenario file"
        if missing:
            raise ScenarioError([Issue("results folder", "must be a folder written by"
                                       f" Results.save or sla-sim run (no {', '.join(missing)})",
                                       str(out_dir))])  # fmt: skip
        scenario = load_scenario(d / "scenario.yaml")
        summary = json.loads((d / "summary.json").read_text())
        table = pd.read_parquet(d / "replications.parquet")
        res = cls.from_table(scenario, table, pd.read_parquet(d / "lead_states.parquet"),
                             summary["meta"], _maybe_parquet(d / "events.parquet"))
        res.drivers = _maybe_parquet(d / "cost_drivers.parquet")
        return res

    @classmethod
    def from_table(cls, scenario: Scenario, table: pd.DataFrame, terminal: pd.DataFrame,
                   meta: dict[str, Any], event_log: pd.DataFrame | None = None) -> Results:
        """Rebuild Results from a tidy (replication, period, metric, value) table."""
        first = table[table["replication"] == table["replication"].iloc[0]]
        keys = list(zip(first["period"].astype(str), first["metric"].astype(str), strict=True))
        ids = table["replication"].drop_duplicates().to_numpy()
        values = table["value"].to_numpy(np.float64).reshape(len(ids), len(keys))
        return cls(scenario, keys, ids, values, terminal, meta, event_log)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (_num(v) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                 else v) for k, v in row.items()} for row in df.to_dict("records")]


def _maybe_parquet(path: Path) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path.exists() else None


def _num(x: Any) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else round(f, 6)
