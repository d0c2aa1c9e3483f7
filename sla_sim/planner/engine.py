"""The planner's engine: levers bound to scenario fields, and progressive, cancellable results.

No widgets here (see :mod:`sla_sim.planner.panel`): a :class:`Lever` maps one control value to
scenario changes, :func:`levers_for` lists the levers of a scenario, and :class:`Planner` turns
a set of lever values into Results that arrive progressively — a first estimate from a couple
of replications, refined batch by batch to the full count. A newer request cancels stale work,
finished settings are served from a cache, and settings that differ from earlier ones only in
the SLA are re-judged by the workers on the replications they remember, without simulating.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from sla_sim.batch.executors import mp_context
from sla_sim.batch.limits import check_cost, check_workers
from sla_sim.batch.results import Results, scenario_hash
from sla_sim.batch.worker import ReplicationFailure, ReplicationResult, run_chunk
from sla_sim.errors import Issue, ScenarioError, SlaSimError
from sla_sim.scenario.io import set_path, validate
from sla_sim.scenario.schema import Scenario

WORKER_NICE = 5  # how much lower the planner's workers run than the process showing results
STANDARD_CADENCE = [0.0, 1.0, 3.0, 6.0, 10.0, 15.0, 21.0, 28.0]
HANDOFF_CHOICES = {
    "real time": {"mode": "realtime", "batch_every_hours": None, "batch_local_hours": []},
    "every hour": {"mode": "batch", "batch_every_hours": 1.0, "batch_local_hours": []},
    "every 4 hours": {"mode": "batch", "batch_every_hours": 4.0, "batch_local_hours": []},
    "twice daily (09:00, 14:00)": {"mode": "batch", "batch_every_hours": None,
                                   "batch_local_hours": [9.0, 14.0]},
    "daily at 09:00": {"mode": "batch", "batch_every_hours": None, "batch_local_hours": [9.0]},
}  # fmt: skip


@dataclass(frozen=True)
class Lever:
    """One control: a name, a label, a range or choices, and the scenario fields it sets.

    ``paths`` are the scenario fields the lever writes; ``apply(scenario_dict, value)`` writes
    them (default: the value to the single path).
    """

    name: str
    label: str
    paths: tuple[str, ...]
    value: Any
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[str, ...] | None = None
    integer: bool = False
    apply: Callable[[Scenario, Any], Scenario] | None = field(default=None, compare=False)

    def set(self, scenario: Scenario, value: Any) -> Scenario:
        """The scenario with this lever at ``value`` (validated; ScenarioError names the
        lever)."""
        if self.choices is not None and value not in self.choices:
            raise ScenarioError([Issue(self.label, f"must be one of {list(self.choices)}",
                                       value)])  # fmt: skip
        if self.choices is None and self.low is not None and self.high is not None and not (
            self.low <= value <= self.high
        ):
            raise ScenarioError([Issue(self.label, f"must be in [{self.low}, {self.high}]",
                                       value)])  # fmt: skip
        try:
            if self.apply is not None:
                return self.apply(scenario, value)
            return set_path(scenario, self.paths[0], int(value) if self.integer else value)
        except ScenarioError as err:
            issues = [Issue(f"{self.label} ({i.path})", i.rule, i.value) if i.path in self.paths
                      else Issue(self.label, f"conflicts with {i.path} (now {i.value!r}): {i.rule}",
                                 value) for i in err.issues]  # fmt: skip
            raise ScenarioError(issues, "planner settings") from None


def _set_cadence(sc: Scenario, n: int) -> Scenario:
    data = sc.model_dump()
    cadence = [float(d) for d in sc.follow_up.cadence_days]
    extra = [d for d in STANDARD_CADENCE if d > cadence[-1]]
    cadence = (cadence + extra)[: int(n)] if n > len(cadence) else cadence[: int(n)]
    data["follow_up"]["cadence_days"] = cadence
    return validate(data, "planner settings")


def _set_handoff(sc: Scenario, choice: str) -> Scenario:
    data = sc.model_dump()
    data["handoff"].update(HANDOFF_CHOICES[choice])
    return validate(data, "planner settings")


def _set_team_reps(team: str) -> Callable[[Scenario, Any], Scenario]:
    """A headcount lever's setter: the team's reps, and with a rota (``rep_calendars``, one
    calendar per rep) the rota resized with them, each new rep taking the calendar of the rep
    at the same place in the old list (the share on each calendar kept as closely as whole reps
    allow)."""

    def apply(sc: Scenario, n: Any) -> Scenario:
        data = sc.model_dump()
        spec = next(t for t in data["teams"] if t["name"] == team)
        n = int(n)
        old = spec["rep_calendars"]
        if old:
            spec["rep_calendars"] = [old[i * len(old) // n] for i in range(n)]
        spec["reps"] = n
        return validate(data, "planner settings")

    return apply


def _handoff_choice(sc: Scenario) -> str:
    h = sc.handoff
    for name, fields in HANDOFF_CHOICES.items():
        if (h.mode == fields["mode"] and h.batch_every_hours == fields["batch_every_hours"]
                and list(h.batch_local_hours) == fields["batch_local_hours"]):
            return name
    return "real time"


def levers_for(sc: Scenario) -> list[Lever]:
    """The SLA and capacity levers of a scenario, at its current values."""
    team = sc.teams[0]
    out = [
        Lever("mql_threshold", "MQL score threshold (points)", ("mql_threshold_points",),
              sc.mql_threshold_points, 30, 90, 1),
        Lever("first_touch", "First-touch SLA (business hours)",
              ("sla.first_touch_within_business_hours",),
              sc.sla.first_touch_within_business_hours, 0.5, 24, 0.5),
        Lever("attempts", "Attempts in the cadence", ("follow_up.cadence_days",),
              len(sc.follow_up.cadence_days), 1, len(STANDARD_CADENCE), 1, integer=True,
              apply=_set_cadence),
        Lever("attempts_required", "Attempts owed by the SLA", ("sla.attempts_required",),
              sc.sla.attempts_required, 1, len(STANDARD_CADENCE), 1, integer=True),
        Lever("disposition_days", "Disposition window (days)",
              ("sla.disposition_within_days",), sc.sla.disposition_within_days, 1, 45, 1),
        Lever("handoff", "Handoff cadence", ("handoff.mode", "handoff.batch_every_hours",
                                             "handoff.batch_local_hours"),
              _handoff_choice(sc), choices=tuple(HANDOFF_CHOICES), apply=_set_handoff),
        Lever("sdr_count", "SDRs" if len(sc.teams) == 1 else f"SDRs: {team.name}",
              (f"teams[{team.name}].reps",), team.reps, 1, max(30, team.reps * 3), 1,
              integer=True, apply=_set_team_reps(team.name)),
        Lever("ae_count", "AEs", ("ae.count",), sc.ae.count, 1, max(30, sc.ae.count * 3), 1,
              integer=True),
    ]  # fmt: skip
    out += _policy_levers(sc)
    for other in sc.teams[1:]:
        out.append(Lever(f"sdr_count:{other.name}", f"SDRs: {other.name}",
                         (f"teams[{other.name}].reps",), other.reps, 1, max(30, other.reps * 3),
                         1, integer=True, apply=_set_team_reps(other.name)))  # fmt: skip
    for ch in sc.channels:
        top = max(1000.0, round(ch.leads_per_month * 3, -2))
        out.append(Lever(f"volume:{ch.name}", f"Leads/month: {ch.name}",
                         (f"channels[{ch.name}].leads_per_month",), ch.leads_per_month, 0, top,
                         50))  # fmt: skip
    out += _plan_levers(sc)
    return out


def _nice_step(value: float) -> float:
    """A round slider step near a hundredth of ``value`` (1, 2 or 5 x 10^k)."""
    import math

    raw = max(abs(value) / 100.0, 1e-9)
    k = 10.0 ** math.floor(math.log10(raw))
    return next(m * k for m in (1, 2, 5, 10) if m * k >= raw)


def _plan_levers(sc: Scenario) -> list[Lever]:
    """The targets both sides sign up to (revenue target, MQL commitment, acceptance-rate
    minimum, compliance target) and, per channel, the win rate and the mean deal value."""
    s, cur = sc.sla, sc.currency
    rev_step = _nice_step(s.revenue_target_per_month)
    out = [
        Lever("revenue_target", f"Revenue target per month ({cur})",
              ("sla.revenue_target_per_month",), s.revenue_target_per_month, 0,
              max(3 * s.revenue_target_per_month, 100 * rev_step), rev_step),
        Lever("mql_commitment", "MQL commitment per month", ("sla.mql_commitment_per_month",),
              s.mql_commitment_per_month, 0, max(3 * s.mql_commitment_per_month, 100), 10),
        Lever("acceptance_min", "Acceptance rate minimum (share of MQLs)",
              ("sla.acceptance_rate_min",), s.acceptance_rate_min, 0.0, 1.0, 0.01),
        Lever("compliance_target", "Compliance target (share of MQLs per clause)",
              ("sla.lead_compliance_target",), s.lead_compliance_target, 0.5, 1.0, 0.01),
    ]  # fmt: skip
    for ch in sc.channels:
        out.append(Lever(f"win_rate:{ch.name}", f"Win rate: {ch.name}",
                         (f"channels[{ch.name}].win_rate",), ch.win_rate, 0.01, 1.0, 0.01))
        mean = getattr(ch.deal_value, "mean", None)
        if mean is not None:  # distributions given by their mean (lognormal, gamma, ...)
            step = _nice_step(mean)
            out.append(Lever(f"deal_value:{ch.name}", f"Deal value, mean ({cur}): {ch.name}",
                             (f"channels[{ch.name}].deal_value.mean",), mean, step,
                             max(3 * mean, 100 * step), step))  # fmt: skip
    return out


WORK_ORDERS = ("due_first", "new_first", "deadline_first")
RAMPS = {"no ramp": [], "2 months (50%, then full)": [0.5],
         "3 months (25/50/75%)": [0.25, 0.5, 0.75]}  # fmt: skip


def _policy_levers(sc: Scenario) -> list[Lever]:
    """Policy and capacity-over-time levers of the first team: work order, reassignment time,
    hires per month and their ramp."""
    team = sc.teams[0]
    t = f"teams[{team.name}]"
    ramp = next((k for k, v in RAMPS.items() if v == list(team.ramp_by_tenure_month)),
                None)  # fmt: skip
    out = [
        Lever("work_order", "Work order", (f"{t}.work_order",), team.work_order,
              choices=WORK_ORDERS),
        Lever("reassign_after", "Reassign untouched after (business h, 0 = never)",
              (f"{t}.reassign_after_business_hours",),
              team.reassign_after_business_hours or 0.0, 0.0, 24.0, 0.5,
              apply=lambda s, v, t=t: set_path(s, f"{t}.reassign_after_business_hours",
                                               float(v) if v > 0 else None)),
        Lever("hires_per_month", "SDR hires per month (from month 2)", (f"{t}.hires",),
              _hires_per_month(sc), 0, 10, 1, integer=True, apply=_set_hires),
    ]  # fmt: skip
    if ramp is not None:  # a ramp the picker cannot show is left alone
        out.append(Lever("ramp", "Ramp of new SDRs", (f"{t}.ramp_by_tenure_month",), ramp,
                         choices=tuple(RAMPS),
                         apply=lambda s, v, t=t: set_path(s, f"{t}.ramp_by_tenure_month",
                                                          RAMPS[v])))  # fmt: skip
    return out


def _hire_dates(sc: Scenario) -> list[Any]:
    """The first day of each measured month after the first (or of the only one)."""
    import datetime as dt

    m0 = sc.horizon.measure_start
    out = []
    for k in range(1, sc.horizon.measure_months):
        m = m0.month - 1 + k
        out.append(dt.date(m0.year + m // 12, m % 12 + 1, 1))
    return out or [m0]  # one measured month: the hires join on its first day


def _hires_per_month(sc: Scenario) -> int:
    """n if the first team hires n SDRs on the first of every measured month after the first
    (as this lever sets it), else 0."""
    hires = sc.teams[0].hires
    dates = _hire_dates(sc)
    if hires and [h.start for h in hires] == dates and len({h.reps for h in hires}) == 1:
        return hires[0].reps
    return 0


def _set_hires(sc: Scenario, n: int) -> Scenario:
    data = sc.model_dump()
    data["teams"][0]["hires"] = [{"start": d, "reps": int(n)} for d in _hire_dates(sc)] if n else []
    return validate(data, "planner settings")


def apply_levers(base: Scenario, levers: list[Lever], values: dict[str, Any]) -> Scenario:
    """The base scenario with every lever set to ``values[name]``; unknown names are errors.

    Every problem is reported at once, naming the lever.
    """
    by_name = {lv.name: lv for lv in levers}
    unknown = [k for k in values if k not in by_name]
    if unknown:
        raise ScenarioError([Issue(k, "is not a planner lever", values[k]) for k in unknown],
                            "planner settings")  # fmt: skip
    sc, issues = base, []
    for name, value in values.items():
        lever = by_name[name]
        if value == lever.value:
            continue
        try:
            sc = lever.set(sc, value)
        except ScenarioError as err:
            issues += [_in_words(i, levers) for i in err.issues]
    if issues:
        raise ScenarioError(issues, "planner settings")
    return sc


def _in_words(issue: Issue, levers: list[Lever]) -> Issue:
    """An issue whose rule names another lever's field: that field by its lever's label (a
    planner moves levers, not fields)."""
    rule = issue.rule
    for lv in sorted(levers, key=lambda lv: -max(len(p) for p in lv.paths)):
        for path in lv.paths:
            rule = rule.replace(f"{path} (now", f"{lv.label} (now").replace(
                f"of {path}", f"of {lv.label.lower()}")
    return Issue(issue.path, rule, issue.value)


@dataclass
class Update:
    """A progressive result: the Results so far, and whether the full count is reached."""

    results: Results
    final: bool
    elapsed: float
    from_cache: bool = False
    remembered: int = 0  # replications re-judged on a worker's remembered measurement


class Planner:
    """Progressive evaluation of scenarios on a persistent pool of worker processes."""

    def __init__(self, reps: int = 100, seed: int = 20260101, workers: int = 2,
                 first_batch: int = 2, cache_size: int = 32) -> None:  # fmt: skip
        """``cache_size``: how many finished settings to keep (least recently used dropped
        first; each holds its metrics and one replication's event log, about 7 MB on the
        default scenario)."""
        if reps < 1 or workers < 1 or first_batch < 1 or cache_size < 1:
            raise ScenarioError([Issue("planner", "reps, workers, first_batch and cache_size"
                                       " must be >= 1",
                                       (reps, workers, first_batch, cache_size))])  # fmt: skip
        check_workers(workers)  # before any worker process starts
        self.reps, self.seed, self.workers = reps, seed, workers
        self._first_batch = first_batch
        self.cache_size = cache_size
        self.cache: OrderedDict[str, Results] = OrderedDict()
        #: a folder keeping finished results across kernels and server restarts, for the
        #: evaluations asked to persist (the panel's starting scenario): a new page shows them
        #: at once instead of simulating again (None: memory only)
        self.disk_cache: Path | None = None
        self._pools: list[ProcessPoolExecutor] | None = None
        self._generation = 0

    @property
    def pools(self) -> list[ProcessPoolExecutor]:
        """One single-process pool per worker, started on first use.

        Replication ``r`` always runs on worker ``r % workers``, which remembers what it
        measured (``run_one(remember=True)``): when only SLA settings change, the model is not
        run again and a worker re-judges its replications in milliseconds.

        Workers run at a lower CPU priority (``nice`` +:data:`WORKER_NICE`) than the process
        that shows the results, so drawing charts is not slowed by the simulations running
        beside it; on an otherwise idle machine the workers still get every spare cycle.
        """
        if self._pools is None:
            self._pools = [ProcessPoolExecutor(1, mp_context=mp_context(),
                                               initializer=_lower_priority)
                           for _ in range(self.workers)]  # fmt: skip
        return self._pools

    def warm_up(self) -> None:
        """Start the workers (and their imports) ahead of the first request."""
        futs = [pool.submit(_noop) for pool in self.pools]
        for f in futs:
            f.result()

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pools is not None:
            for pool in self._pools:
                pool.shutdown(wait=False, cancel_futures=True)
            self._pools = None

    def set_reps(self, reps: int) -> None:
        """Change the replication count of the next evaluations (precision vs waiting time);
        what the workers remember and the cache of finished settings stay valid."""
        if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
            raise ScenarioError([Issue("replications", "must be an integer >= 1", reps)])
        self.reps = reps

    @property
    def first_batch(self) -> int:
        """Replications behind the first estimate (at most the replication count)."""
        return min(self._first_batch, self.reps)

    def key(self, scenario: Scenario) -> str:
        """Cache key: scenario content, seed and replication count."""
        return f"{scenario_hash(scenario)}:{self.seed}:{self.reps}"

    def _submit(self, scenario: Scenario) -> list[Future[list[Any]]]:
        payload = scenario.model_dump_json()
        pools = self.pools
        return [pools[r % len(pools)].submit(run_chunk, payload, self.seed, [r],
                                             0 if r == 0 else None, None, True)
                for r in range(self.reps)]  # fmt: skip

    def _assemble(self, scenario: Scenario, done: list[ReplicationResult], t0: float
                  ) -> Results:  # fmt: skip
        return Results.from_replications(scenario, self.seed, done,
                                         wall_seconds=time.perf_counter() - t0,
                                         workers=self.workers)  # fmt: skip

    def _milestones(self) -> list[int]:
        marks, n = [], self.first_batch
        while n < self.reps:
            marks.append(n)
            n = max(n + 1, n * 3)
        return [*marks, self.reps]

    def disk_path(self, scenario: Scenario) -> Path | None:
        """Where finished results of these settings are kept on disk: keyed by scenario hash,
        seed, replications and sla_sim version (None without a :attr:`disk_cache`)."""
        if self.disk_cache is None:
            return None
        from sla_sim.batch.results import package_version

        return Path(self.disk_cache) / (f"{self.key(scenario).replace(':', '-')}"
                                        f"-v{package_version()}")  # fmt: skip

    def _from_disk(self, scenario: Scenario) -> Results | None:
        path = self.disk_path(scenario)
        if path is None or not (path / "summary.json").is_file():
            return None
        try:
            res = Results.load(path)
        except (OSError, ValueError, KeyError, SlaSimError):
            return None  # unreadable (an older layout, a half-copied folder): simulate again
        return res if res.replications == self.reps else None

    #: Longest wait for another process's results of the same settings before simulating them
    #: here anyway (a claim older than this, or of a process that is gone, is ignored).
    CLAIM_WAIT_S = 120.0

    def _claim_path(self, scenario: Scenario) -> Path | None:
        path = self.disk_path(scenario)
        return None if path is None else path.with_name(f"{path.name}.computing")

    def _claim(self, scenario: Scenario) -> Path | None:
        """Say on disk that this process is computing these settings (its pid in a file)."""
        import os

        claim = self._claim_path(scenario)
        if claim is None:
            return None
        try:
            claim.parent.mkdir(parents=True, exist_ok=True)
            claim.write_text(str(os.getpid()), encoding="utf-8")
        except OSError:
            return None
        return claim

    def claimed_elsewhere(self, scenario: Scenario) -> bool:
        """Whether another live process is computing these settings for the disk cache: its
        claim is fresh and its results are not kept yet (they are renamed into place whole).
        A missing or half-written claim, one of this process, one older than CLAIM_WAIT_S or
        of a process that is gone says nobody else is."""
        import os

        claim, kept = self._claim_path(scenario), self.disk_path(scenario)
        if claim is None or kept is None or kept.exists():
            return False
        try:
            pid = int(claim.read_text(encoding="utf-8").strip())
            age = time.time() - claim.stat().st_mtime
        except (OSError, ValueError):
            return False
        return pid != os.getpid() and age <= self.CLAIM_WAIT_S and _alive(pid)

    async def _wait_for_other(self, scenario: Scenario, gen: int) -> Results | None:
        """Results of these settings kept by another live process that claimed them, once they
        appear (None at once when nobody else is computing them, or after CLAIM_WAIT_S)."""
        deadline = time.monotonic() + self.CLAIM_WAIT_S
        while (gen == self._generation and time.monotonic() < deadline
               and self.claimed_elsewhere(scenario)):  # fmt: skip
            await asyncio.sleep(0.25)
        return self._from_disk(scenario)

    def _to_disk(self, scenario: Scenario, res: Results) -> None:
        """Keep finished results on disk (written aside, then renamed into place)."""
        import os
        import shutil

        path = self.disk_path(scenario)
        if path is None or path.exists():
            return
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        try:
            res.save(tmp)
            os.replace(tmp, path)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # a cache: never fail the panel for it

    async def evaluate(self, scenario: Scenario, on_update: Callable[[Update], None],
                       on_progress: Callable[[int, int], None] | None = None,
                       persist: bool = False) -> None:
        """Call ``on_update`` as results refine (first after ``first_batch`` replications), and
        ``on_progress(done, total)`` as each replication finishes (cheap: no results built).
        With ``persist`` (and a :attr:`disk_cache`), finished results are read from and kept
        on disk.

        Starting another evaluation cancels this one: it returns without further updates.
        Settings over the cost limits (:func:`sla_sim.batch.limits.check_cost`: a scenario file
        with huge volumes, say) raise its ScenarioError before anything is submitted.
        """
        check_cost(scenario, self.reps, min(self.workers, self.reps))
        self._generation += 1
        gen = self._generation
        key, reps = self.key(scenario), self.reps
        if persist and key not in self.cache:
            kept = self._from_disk(scenario)
            if kept is not None:
                self.cache[key] = kept
        if key in self.cache:
            self.cache.move_to_end(key)  # most recently used
            if on_progress is not None:
                on_progress(reps, reps)
            on_update(Update(self.cache[key], True, 0.0, from_cache=True))
            return
        claim = None
        if persist and self.disk_cache is not None:
            # another kernel (a page, or the dashboard's pre-heated one) may be computing the
            # same settings: wait for its results instead of simulating them twice at once
            kept = await self._wait_for_other(scenario, gen)
            if gen != self._generation:
                return
            if kept is not None:
                self.cache[key] = kept
                if on_progress is not None:
                    on_progress(reps, reps)
                on_update(Update(kept, True, 0.0, from_cache=True))
                return
            claim = self._claim(scenario)
        t0 = time.perf_counter()
        try:
            futures = self._submit(scenario)
        except BrokenProcessPool:
            self._lost_worker()
        wrapped = [asyncio.wrap_future(f) for f in futures]
        done: list[ReplicationResult] = []
        failures: list[ReplicationFailure] = []
        marks = self._milestones()
        try:
            for coro in asyncio.as_completed(wrapped):
                try:
                    outcome = (await coro)[0]
                except BrokenProcessPool:
                    if gen != self._generation:
                        return
                    self._lost_worker()
                if gen != self._generation:
                    return
                if isinstance(outcome, ReplicationFailure):
                    failures.append(outcome)
                else:
                    done.append(outcome)
                n = len(done) + len(failures)
                if on_progress is not None:
                    on_progress(n, reps)
                if n in marks and done:
                    res = self._assemble(scenario, done, t0)
                    final = n == reps
                    if final and not failures:
                        self.cache[key] = res
                        while len(self.cache) > self.cache_size:
                            self.cache.popitem(last=False)  # the least recently used
                    on_update(Update(res, final, time.perf_counter() - t0,
                                     remembered=sum(r.remembered for r in done)))
                    if final and not failures and persist:
                        self._to_disk(scenario, res)
        finally:
            for f in futures:
                f.cancel()
            if claim is not None:
                claim.unlink(missing_ok=True)
        if failures:
            from sla_sim.batch.replications import ReplicationError

            raise ReplicationError(failures)

    def _lost_worker(self) -> NoReturn:
        """A worker process died (killed, or out of memory): start fresh ones next time and
        say so."""
        self.close()
        raise SlaSimError("a planner worker process died (killed, or out of memory?); new"
                          " workers start with the next change — move a lever to try again")

    def evaluate_sync(self, scenario: Scenario, on_update: Callable[[Update], None],
                      on_progress: Callable[[int, int], None] | None = None,
                      persist: bool = False) -> None:
        """The same, blocking (for scripts, tests and benchmarks)."""
        asyncio.run(self.evaluate(scenario, on_update, on_progress, persist))


def _alive(pid: int) -> bool:
    """Whether a process with this pid exists (on this machine)."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _lower_priority() -> None:
    """Worker initializer: lower this process's CPU priority (where the OS allows it)."""
    import contextlib
    import os

    with contextlib.suppress(AttributeError, OSError):  # no os.nice on Windows
        os.nice(WORKER_NICE)


def _noop() -> int:
    """Import the model's modules in a worker ahead of the first request."""
    import sla_sim.batch.worker
    import sla_sim.metrics

    sla_sim.batch.worker.warm_up()  # load the compiled code before the first estimate
    return len(sla_sim.metrics.METRIC_DOCS) + len(sla_sim.batch.worker.__name__)
