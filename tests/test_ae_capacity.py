"""The AE pool when its capacity binds, read back from the event log.

The slot cap alone (no selling time): at most ``max_open_opportunities`` open per AE, SQLs wait
first come first served, and no SQL waits while an AE has a free slot. The shortened default
preset with 2 AEs of 3 open opportunities each and 3-day sales cycles, so that most SQLs queue.

Selling time: the same preset with 2 AEs at 2 selling hours an opportunity (5.9 business hours
of the AE calendar at the default 0.34 selling share), so that SQLs queue all month: an
AE works one opportunity at a time, only in its business hours, an SQL waits only while every
AE is busy, first come first served, and each AE opens as many opportunities as its business
hours hold.
"""

from __future__ import annotations

import numpy as np
import pytest

from sla_sim.events import CODE
from sla_sim.model.funnel import FunnelModel
from sla_sim.scenario.distributions import Constant
from sla_sim.scenario.io import set_path
from sla_sim.scenario.presets import preset
from sla_sim.streams import Streams, replication_seed

AES, CAP = 2, 3


@pytest.fixture(scope="module")
def ae_log() -> dict[str, np.ndarray]:
    sc = preset("default")
    changes = {"horizon.warmup_days": 20, "horizon.measure_months": 1, "ae.count": AES,
               "ae.max_open_opportunities": CAP,
               "ae.selling_hours_per_opportunity": 0.0}  # fmt: skip
    changes |= {f"channels[{i}].cycle_days": Constant(value=3.0) for i in range(len(sc.channels))}
    for path, value in changes.items():
        sc = set_path(sc, path, value)
    return FunnelModel(sc, Streams(replication_seed(9, 0))).run().columns()


def rows(cols: dict[str, np.ndarray], *events: str) -> np.ndarray:
    return np.isin(cols["event"], [CODE[e] for e in events])


def test_no_ae_holds_more_than_its_cap_and_each_reaches_it(ae_log: dict[str, np.ndarray]) -> None:
    """Counting +1 at each opportunity opened and -1 at each closed (closes first at equal
    times), every AE's open count stays within [0, cap] and reaches the cap."""
    cols = ae_log
    m = rows(cols, "opp_open", "won", "lost")
    ae, t = cols["rep"][m], cols["time_h"][m]
    step = np.where(cols["event"][m] == CODE["opp_open"], 1, -1)
    assert np.isfinite(t).all()
    for a in range(AES):
        k = ae == a
        order = np.lexsort((step[k], t[k]))  # by time, then -1 before +1
        level = np.cumsum(step[k][order])
        assert level.min() >= 0, a
        assert level.max() == CAP, (a, level.max())


def test_sqls_wait_first_come_first_served_and_only_when_every_slot_is_taken(
    ae_log: dict[str, np.ndarray],
) -> None:
    """Every SQL gets its opportunity at or after qualifying; the ones that wait are served in
    SQL order, and each is opened at the instant another opportunity of that AE closes (no SQL
    waits while a slot is free)."""
    cols = ae_log
    key = cols["lead"].astype(np.int64) * (1 << 16) + cols["episode"]
    sql = dict(zip(key[rows(cols, "sql")].tolist(), cols["time_h"][rows(cols, "sql")].tolist(),
                   strict=True))  # fmt: skip
    o = rows(cols, "opp_open")
    opened = list(zip(key[o].tolist(), cols["time_h"][o].tolist(), cols["rep"][o].tolist(),
                      strict=True))  # fmt: skip
    assert all(t >= sql[k] for k, t, _ in opened)
    waited = [(sql[k], t, a) for k, t, a in opened if t > sql[k]]
    assert len(waited) > 50
    opens_in_sql_order = [t for _, t, _ in sorted(waited)]
    assert opens_in_sql_order == sorted(opens_in_sql_order)
    c = rows(cols, "won", "lost")
    closes = set(zip(cols["time_h"][c].tolist(), cols["rep"][c].tolist(), strict=True))
    assert all((t, a) in closes for _, t, a in waited)


@pytest.fixture(scope="module")
def selling() -> tuple[dict[str, np.ndarray], FunnelModel]:
    sc = preset("default")
    for path, value in {"horizon.warmup_days": 20, "horizon.measure_months": 1,
                        "ae.count": AES, "ae.selling_hours_per_opportunity": 2.0}.items(
                        ):  # fmt: skip
        sc = set_path(sc, path, value)
    model = FunnelModel(sc, Streams(replication_seed(9, 0)))
    return model.run().columns(), model


def test_an_ae_sells_one_opportunity_at_a_time_in_its_business_hours(selling) -> None:
    """Each opportunity opens in the AE calendar's working hours and the AE's next one opens
    no earlier than its selling hours end; as SQLs queue all along, each next one opens
    exactly then (or at the next opening), so an AE opens as many opportunities as its
    business hours hold."""
    cols, model = selling
    cal, work = model.ae_cal, model.sc.ae.work_business_hours
    assert work == pytest.approx(2.0 / 0.34)
    o = rows(cols, "opp_open")
    t, ae = cols["time_h"][o], cols["rep"][o]
    np.testing.assert_array_equal(cols["value"][o], work)
    assert cal.is_open_many(t).all()
    for a in range(AES):
        opens = np.sort(t[ae == a])
        done = cal.add_business_hours_many(opens[:-1], np.full(len(opens) - 1, work))
        np.testing.assert_array_equal(opens[1:], cal.next_open_many(done))
        held = cal.business_hours_between(opens[0], opens[-1]) / work
        assert len(opens) - 1 == pytest.approx(held), a  # the hours bound the throughput
    assert len(t) > 80


def test_sqls_wait_for_an_ae_first_come_first_served(selling) -> None:
    """Every SQL opens at or after qualifying; the ones that waited open in SQL order."""
    cols, _ = selling
    key = cols["lead"].astype(np.int64) * (1 << 16) + cols["episode"]
    s = rows(cols, "sql")
    sql = dict(zip(key[s].tolist(), cols["time_h"][s].tolist(), strict=True))
    o = rows(cols, "opp_open")
    opened = sorted(zip(key[o].tolist(), cols["time_h"][o].tolist(), strict=True),
                    key=lambda kt: sql[kt[0]])  # fmt: skip
    assert all(t >= sql[k] for k, t in opened)
    waited = [t for k, t in opened if t > sql[k]]
    assert len(waited) > 50
    assert waited == sorted(waited)
