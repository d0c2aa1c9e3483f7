"""Lead draws: everything about a lead that involves no contention, drawn up front.

Per channel, from that channel's named streams: arrival times, scores, segments, nurture delays,
handoff operations delays, and the draws the event loop will need if the lead is worked — per
attempt a contact uniform and a work time, the qualify/disqualify uniforms, the sales-cycle
length, the win uniform and the deal value. Every lead gets every draw whether or not it ever
becomes an MQL, so changing the threshold, capacity or SLA moves no other lead's random numbers
(common random numbers between scenarios).

Leads are numbered in order of creation time. Per-lead arrays are sorted that way; the
per-attempt and per-worked-lead draws stay in draw order (``order`` maps lead id to draw row), so
the model gathers them only for the leads it actually works.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from sla_sim.model import arrivals, nurture
from sla_sim.scenario.schema import Scenario
from sla_sim.streams import Streams

#: per-lead draws, sorted by creation time
LEAD_FIELDS = ("t", "channel", "segment", "score", "ops", "nurture")
#: draws used only when the lead is worked, kept in draw order (gather with ``order``)
WORK_FIELDS = ("u_contact", "work", "u_q", "u_d", "cycle", "u_win", "deal")


@dataclass
class LeadDraws:
    """The up-front draws of one replication.

    ``lead[f]`` for f in :data:`LEAD_FIELDS` is indexed by lead id (creation order). The work
    draws (:data:`WORK_FIELDS`) stay in draw order, in one part per channel (``parts[c][f]``;
    row ``r`` of the concatenation is :attr:`work`'s row ``r``), ``order[lead]`` being the row
    of a lead: they are gathered for the leads the model works (:meth:`gather`) without
    concatenating the whole draw first. ``u_contact`` and ``work`` (rep hours) have one column
    per attempt.
    """

    lead: dict[str, np.ndarray]
    parts: list[dict[str, np.ndarray]]
    order: np.ndarray

    @property
    def n(self) -> int:
        """Number of leads."""
        return len(self.order)

    @property
    def work(self) -> dict[str, np.ndarray]:
        """The work draws of every lead, in draw order (the parts concatenated)."""
        return {k: np.concatenate([p[k] for p in self.parts]) for k in WORK_FIELDS}

    def gather(self, leads: np.ndarray) -> dict[str, np.ndarray]:
        """The work draws of the given lead ids, in that order."""
        rows = self.order[leads]
        parts = [_work_part(p) for p in self.parts]
        if _same_widths(parts):  # one compiled pass per part
            from sla_sim.model.passes import gather_part  # numba: loaded on first use

            n, (uc, wk) = len(rows), parts[0][:2]  # type: ignore[index]
            out = {"u_contact": np.empty((n, uc.shape[1])), "work": np.empty((n, wk.shape[1])),
                   **{k: np.empty(n) for k in WORK_FIELDS[2:]}}  # fmt: skip
            rows = np.asarray(rows, dtype=np.int64)
            lo = 0
            for p in parts:
                hi = lo + len(p[2])  # type: ignore[index]
                gather_part(rows, lo, hi, *p, *(out[k] for k in WORK_FIELDS))  # type: ignore[misc]
                lo = hi
            return out
        if len(self.parts) == 1:
            return {k: v[rows] for k, v in self.parts[0].items()}
        sizes = [len(p["u_q"]) for p in self.parts]
        starts = np.cumsum([0, *sizes])
        part = np.searchsorted(starts[1:], rows, side="right")  # which part holds each row
        out = {k: np.empty((len(rows), *v.shape[1:]), dtype=v.dtype)
               for k, v in self.parts[0].items()}  # fmt: skip
        for c, p in enumerate(self.parts):
            at = np.flatnonzero(part == c)
            local = rows[at] - starts[c]
            for k, v in p.items():
                out[k][at] = v[local]
        return out


def _work_part(p: dict[str, np.ndarray]) -> tuple[np.ndarray, ...] | None:
    """A part's work draws in :data:`WORK_FIELDS` order, as the contiguous float64 arrays the
    compiled gather takes, or ``None`` when they are not of that shape (gathered by numpy)."""
    if set(p) != set(WORK_FIELDS):
        return None
    fields = [p[k] for k in WORK_FIELDS]
    n = len(fields[2])
    if not all(isinstance(v, np.ndarray) and v.dtype == np.float64 and len(v) == n
               and v.ndim == (2 if i < 2 else 1) for i, v in enumerate(fields)):  # fmt: skip
        return None
    return tuple(np.ascontiguousarray(v) for v in fields)


def _same_widths(parts: list[tuple[np.ndarray, ...] | None]) -> bool:
    """Whether every part is of the compiled gather's shape, with the same attempt columns."""
    if not parts or any(p is None for p in parts):
        return False
    return len({(p[0].shape[1], p[1].shape[1]) for p in parts}) == 1  # type: ignore[index]


#: the most values :func:`choose` picks among by comparisons (more go to ``Generator.choice``)
CHOOSE_MAX = 16


def choose(rng: np.random.Generator, values: list[int], p: np.ndarray, n: int) -> np.ndarray:
    """``rng.choice(values, size=n, p=p)`` as int64: the same uniforms and the same picks.

    numpy's ``Generator.choice`` with ``p`` (replacement) normalises ``p.cumsum()`` by its last
    element, draws ``random(n)`` and picks ``values[cdf.searchsorted(u, side="right")]``, the
    number of cumulative shares at or below each uniform. For a few values that number is
    counted by one comparison per value in one compiled pass (a binary search per draw costs
    about 11 ns on uniform draws, mispredicted; the comparisons about 1 ns per value), after
    the checks ``choice`` makes; anything else (many values, shares it would reject) goes to
    ``choice`` itself.
    """
    p = np.asarray(p, dtype=np.float64)
    k = len(p)
    if (not 0 < k <= CHOOSE_MAX or len(values) != k or p.ndim != 1
            or not bool(np.all(np.isfinite(p))) or not bool(np.all(p >= 0))
            or abs(math.fsum(p.tolist()) - 1.0) > 1e-9):  # fmt: skip
        return np.asarray(rng.choice(values, size=n, p=p), dtype=np.int64)
    cdf = p.cumsum()
    cdf /= cdf[-1]
    u = rng.random(n)
    vals = np.asarray(values, dtype=np.int64)
    from sla_sim.model.passes import pick_by_cdf  # numba: on first use

    out, ok = pick_by_cdf(u, cdf, vals)
    if ok:
        return out
    return vals[cdf.searchsorted(u, side="right")]  # raises as choice does


def draw_leads(sc: Scenario, streams: Streams, segments: list[str], threshold: float,
               n_attempts: int, origin: datetime, end_h: float) -> LeadDraws:  # fmt: skip
    """Draw every lead of the horizon ``[0, end_h)`` (model hours from ``origin``)."""
    n_hours = math.ceil(end_h)
    grid = arrivals.hour_grid(origin, n_hours)
    profile = arrivals.base_profile(sc, grid)
    fu, A, st = sc.follow_up, n_attempts, streams
    parts: dict[str, list[np.ndarray]] = {k: [] for k in LEAD_FIELDS}
    work_parts: list[dict[str, np.ndarray]] = []
    seg_index = {s: i for i, s in enumerate(segments)}
    for c, ch in enumerate(sc.channels):
        name = ch.name
        t = arrivals.draw_channel_arrivals(sc, c, profile, grid, st, end_h)
        n = len(t)
        score = 100.0 * st(f"score:{name}").beta(ch.score_alpha, ch.score_beta, n)
        segs = [seg_index[s] for s in ch.segment_mix]
        probs = np.asarray(list(ch.segment_mix.values()), dtype=np.float64)
        seg = choose(st(f"segment:{name}"), segs, probs / probs.sum(), n)
        below = score < threshold
        nd = np.full(n, np.inf)
        nd[below] = nurture.nurture_delays(score[below], threshold, sc.nurture,
                                           st(f"nurture:{name}"))  # fmt: skip
        parts["t"].append(t)
        parts["channel"].append(np.full(n, c, dtype=np.int64))
        parts["segment"].append(np.asarray(seg, dtype=np.int64))
        parts["score"].append(score)
        parts["nurture"].append(nd)
        parts["ops"].append(np.asarray(sc.handoff.ops_delay_hours.sample(st(f"handoff:{name}"),
                                                                         n)))  # fmt: skip
        work = fu.attempt_minutes.sample(st(f"work:{name}"), n * A)
        work /= 60.0  # minutes to hours, in place
        uq = st(f"qualify:{name}").random((n, 2))
        work_parts.append({
            "u_contact": st(f"contact:{name}").random((n, A)), "work": work.reshape(n, A),
            "u_q": uq[:, 0].copy(), "u_d": uq[:, 1].copy(),
            "cycle": np.asarray(ch.cycle_days.sample(st(f"cycle:{name}"), n)) * 24,
            "u_win": st(f"win:{name}").random(n),
            "deal": np.asarray(ch.deal_value.sample(st(f"deal:{name}"), n))})  # fmt: skip
    if not work_parts:  # no channel: no lead
        work_parts.append({k: np.empty((0, A)) if k in ("u_contact", "work") else np.empty(0)
                           for k in WORK_FIELDS})  # fmt: skip
    if not parts["t"]:
        return LeadDraws({k: np.empty(0) for k in LEAD_FIELDS}, work_parts, np.empty(0, np.intp))
    t = np.concatenate(parts["t"])
    order = np.argsort(t, kind="stable")  # (each channel's times ascend: a merge of runs)
    lead = {k: (t if k == "t" else np.concatenate(v, dtype=v[0].dtype))[order]
            for k, v in parts.items()}  # fmt: skip
    return LeadDraws(lead, work_parts, order)
