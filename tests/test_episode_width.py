"""The event log's ``episode`` column holds any episode a run can reach: a lead recycled more
than 32,767 times (an int16's range) keeps its episode numbers, in every way rows enter the
log (row tuples, bulk rows, a compiled loop's row matrices, with either column builder), and
the metrics join rows on (lead, episode) without two episodes of a lead (or of two leads)
sharing a key."""

from __future__ import annotations

import numpy as np
import pytest

from sla_sim.events import CODE, EventLog
from sla_sim.metrics import _has_row
from sla_sim.metrics.backlog import assignments
from sla_sim.metrics.episodes import EP_BASE, build_episodes
from sla_sim.metrics.kernels import _EP_BASE
from sla_sim.model.funnel import FunnelModel
from sla_sim.scenario import Scenario
from sla_sim.scenario.presets import preset
from sla_sim.streams import Streams, replication_seed

#: episodes past int16 (32,767) and past the old keys' base (2**16)
HIGH = (1, 32_768, 40_000, 65_537, 2_000_000_000)


def _log(builder: str) -> EventLog:
    log = EventLog(["c"], ["s"], ["t"])
    log.set_leads(*(np.zeros(2) for _ in range(4)))
    if builder == "compiled":
        from sla_sim.model.passes import log_columns

        log.builder = log_columns
    return log


@pytest.mark.parametrize("builder", ["numpy", "compiled"])
def test_every_way_into_the_log_keeps_high_episodes(builder: str) -> None:
    """Row tuples, bulk rows and row matrices keep episodes past int16 exactly (the int16
    column wrapped 40,000 to -25,536)."""
    log = _log(builder)
    n = len(HIGH)
    log.rows.extend((0, ep, 1.0, CODE["mql"], 0, -1, -1, np.nan) for ep in HIGH)
    log.add_many(np.zeros(n, dtype=np.int64), np.array(HIGH), np.full(n, 2.0), "routed", 0)
    ints = np.array([[1, ep, CODE["assigned"], 0, 0, -1] for ep in HIGH], dtype=np.int64)
    log.add_columns(ints, np.tile([3.0, np.nan], (n, 1)))
    log.rows.append((1, HIGH[-1], 4.0, CODE["recycled"], 0, 0, -1, np.nan))
    got = log.columns()["episode"]
    assert got.tolist() == [*HIGH, *HIGH, *HIGH, HIGH[-1]]
    assert log.to_frame()["episode"].tolist() == got.tolist()


def _two_leads_many_episodes() -> dict[str, np.ndarray]:
    """Leads 0 and 1, each with episodes 1, 32,768, 65,537 (1 + 2**16) and 2e9: mql, routed,
    assigned and a first attempt per episode, times increasing with the episode."""
    rows = []
    for lead in (0, 1):
        for i, ep in enumerate((1, 32_768, 65_537, 2_000_000_000)):
            t0 = 10.0 * i + lead
            rows += [(lead, ep, t0, CODE["mql"], 0, -1, -1),
                     (lead, ep, t0 + 1, CODE["routed"], 0, -1, -1),
                     (lead, ep, t0 + 2, CODE["assigned"], 0, 0, -1),
                     (lead, ep, t0 + 3 + lead, CODE["attempt"], 0, 0, 0)]  # fmt: skip
    log = EventLog(["c"], ["s"], ["t"])
    log.rows.extend((*r, np.nan) for r in rows)
    return log.columns(sort=False)


def test_metrics_tell_high_episodes_apart() -> None:
    """Every episode is its own: with keys ``lead * 2**16 + episode`` episode 65,537 of lead
    0 would be episode 1 of lead 1."""
    assert EP_BASE == _EP_BASE
    cols = _two_leads_many_episodes()
    ep = build_episodes(cols, attempts_required=1)
    assert len(ep) == 8
    assert (ep.lead.tolist(), (ep.key % EP_BASE).tolist()) == (
        [0] * 4 + [1] * 4, [1, 32_768, 65_537, 2_000_000_000] * 2)
    # the first attempt 1 h after assignment for lead 0, 2 h for lead 1, in every episode
    np.testing.assert_array_equal(ep.first_attempt - ep.assigned, [1.0] * 4 + [2.0] * 4)
    by_event = [np.flatnonzero(cols["event"] == k) for k in range(len(CODE))]
    paired = assignments(cols, by_event)
    assert len(paired.key) == 8
    np.testing.assert_array_equal(paired.end - paired.start, [1.0] * 4 + [2.0] * 4)
    mql, att = by_event[CODE["mql"]].astype(np.intp), by_event[CODE["attempt"]].astype(np.intp)
    assert _has_row(cols, att, mql).all()
    # only episode 1 of lead 0 (not 1 + 2**16 of lead 0, nor episode 1 of lead 1)
    assert _has_row(cols, att, mql[:1]).tolist() == [True] + [False] * 7


def recycling_loop(engine: str) -> Scenario:
    """A few leads (Poisson, 2 a month) on one always-open rep, each reached at once, never
    qualified nor disqualified, so recycled, and re-qualified after one nurture touch 26 s
    later: about 45,000 MQL episodes per lead in one month."""
    sc = preset("default").model_dump(mode="json")
    sc["channels"] = [sc["channels"][0] | {"leads_per_month": 2, "sql_rate": 1e-6,
                                           "score_alpha": 50, "score_beta": 1}]  # fmt: skip
    team = {k: v for k, v in sc["teams"][0].items() if k not in ("channels", "segments")}
    sc["teams"] = [team | {"reps": 1, "calendar": {"always_open": True},
                           "max_active_leads": 1000, "shrinkage": 0}]  # fmt: skip
    sc["routing"]["team_rule"] = "single"
    sc["nurture"].update(touch_interval_days=3e-4, engage_probability=1.0,
                         score_lift_points=50, recycle_score_points=1)  # fmt: skip
    sc["follow_up"].update(cadence_days=[0], disqualify_share=0,
                           attempt_minutes={"kind": "constant", "value": 0.01})  # fmt: skip
    sc["follow_up"]["contact"].update(p_initial=1.0, p_floor=1.0 - 1e-9)
    sc["handoff"] = {"mode": "realtime", "ops_delay_hours": {"kind": "constant", "value": 0.0}}
    sc["sla"]["attempts_required"] = 1
    sc["horizon"].update(warmup_days=0, measure_months=1)
    return Scenario.model_validate(sc | {"engine": engine})


def _run(engine: str) -> FunnelModel:
    model = FunnelModel(recycling_loop(engine), Streams(replication_seed(1, 0)))
    model.run()
    return model


def test_a_lead_recycled_past_int16_keeps_counting_its_episodes() -> None:
    """A run whose leads are recycled some 45,000 times each (fast engine, about 1 s): every
    MQL row starts the next episode of its lead (1, 2, ... with no wrap to -32,768), and the
    metrics count every episode."""
    model = _run("fast")
    assert model.engine == "fast"
    cols = model.log.columns()
    mql = cols["event"] == CODE["mql"]
    lead, ep = cols["lead"][mql], cols["episode"][mql]
    assert ep.max() > 40_000
    for x in np.unique(lead):
        assert ep[lead == x].tolist() == list(range(1, int((lead == x).sum()) + 1))
    episodes = build_episodes(model.log.columns(sort=False), 1, model.log.event_rows())
    assert len(episodes) == int(mql.sum())
    assert len(np.unique(episodes.key)) == len(episodes)


@pytest.mark.slow
def test_both_engines_write_the_same_long_recycling_log() -> None:
    """SimPy (about 6 s) writes the same log, episodes included, row for row."""
    fast, ref = _run("fast"), _run("simpy")
    assert ref.engine == "simpy"
    a, b = fast.log.columns(sort=False), ref.log.columns(sort=False)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
