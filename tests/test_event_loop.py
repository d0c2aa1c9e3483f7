"""The model's event loop (:class:`sla_sim.model.calls.Loop`) runs callbacks in exactly the order
SimPy runs the same timeouts: by time, then priority, then creation, whichever of its two heaps
holds them; ``run_until`` stops before its end time as ``Environment.run(until=...)`` does."""

from __future__ import annotations

import random

import pytest
import simpy
from simpy.core import EmptySchedule

from sla_sim.model.calls import Call, Loop


def _plan(seed: int, n: int = 400) -> list[tuple[str, float]]:
    """A seeded mix of (how, delay): many ties (delays on a 0.25 h grid), some far ahead."""
    rng = random.Random(seed)
    kinds = ("call", "call_far", "Call", "timeout")
    return [(rng.choice(kinds), rng.randrange(0, 40) / 4 + (rng.random() < 0.2) * 500.0)
            for _ in range(n)]  # fmt: skip


def _run_on_loop(plan: list[tuple[str, float]], until: float) -> list[tuple[float, int]]:
    env = Loop()
    seen: list[tuple[float, int]] = []
    for i, (how, delay) in enumerate(plan):
        if how == "call":
            env.call(delay, lambda k: seen.append((env.now, k)), i)
        elif how == "call_far":
            env.call_far(delay, lambda k: seen.append((env.now, k)), i)
        elif how == "Call":
            Call(env, delay, lambda ev: seen.append((env.now, ev.value)), i)
        else:
            env.timeout(delay, i).callbacks.append(lambda ev: seen.append((env.now, ev.value)))
    env.run_until(until)
    assert env.now == until
    return seen


def _run_on_simpy(plan: list[tuple[str, float]], until: float) -> list[tuple[float, int]]:
    env = simpy.Environment()
    seen: list[tuple[float, int]] = []
    for i, (_how, delay) in enumerate(plan):
        env.timeout(delay, i).callbacks.append(lambda ev: seen.append((env.now, ev.value)))
    env.run(until=until)
    return seen


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_callbacks_run_in_simpys_order_across_both_heaps(seed: int) -> None:
    plan = _plan(seed)
    until = 9.0  # a grid time: entries at exactly 9.0 must not run
    got = _run_on_loop(plan, until)
    assert got == _run_on_simpy(plan, until)
    assert len(got) == sum(d < until for _, d in plan)
    assert all(t < until for t, _ in got)
    everything = _run_on_loop(plan, 1000.0)
    assert everything == _run_on_simpy(plan, 1000.0)
    assert len(everything) == len(plan)


def test_callbacks_scheduled_while_running_keep_the_order() -> None:
    """A callback that schedules more (as reps do) at the current time and later: same-time
    entries run after those already due then, in creation order, from either heap."""
    env = Loop()
    seen: list[str] = []

    def first(_arg: None) -> None:
        seen.append("first")
        env.call_far(0.0, seen.append, "far-now")
        env.call(0.0, seen.append, "near-now")
        env.call_far(1.0, seen.append, "far-later")
        env.call(1.0, seen.append, "near-later")

    env.call(2.0, first)
    env.call(2.0, seen.append, "tie-made-before")
    env.run_until(10.0)
    assert seen == ["first", "tie-made-before", "far-now", "near-now", "far-later",
                    "near-later"]  # fmt: skip


def test_a_second_run_until_ends_at_its_own_time() -> None:
    """Runs resume where the last one stopped, as the model's warm-up and window runs do."""
    env = Loop()
    seen: list[float] = []
    for t in (1.0, 3.0, 4.0, 6.0, 7.5):
        env.call(t, lambda _a: seen.append(env.now))
    env.run_until(2.0)
    env.run_until(5.0)
    assert env.now == 5.0
    assert seen == [1.0, 3.0, 4.0]
    env.run_until(7.0)
    assert seen == [1.0, 3.0, 4.0, 6.0]


def test_peek_step_drop_and_bad_end() -> None:
    env = Loop()
    assert env.peek() == float("inf")
    with pytest.raises(EmptySchedule):
        env.step()
    got: list[object] = []
    env.call_far(5.0, got.append, "far")
    env.call(7.0, got.append, "near")
    env.call_far(9.0, got.append, "far later")
    assert env.peek() == 5.0  # the far heap's top is the next entry
    env.step()
    assert (env.now, got) == (5.0, ["far"])  # step passes the entry's argument
    assert env.peek() == 7.0  # now the near heap's, though the far heap is not empty
    env.step()
    assert (env.now, got) == (7.0, ["far", "near"])
    env.drop_pending()
    assert env.peek() == float("inf")
    with pytest.raises(ValueError, match="until"):
        env.run_until(env.now)  # not after now
    with pytest.raises(ValueError, match="until"):
        env.run_until(env.now - 1.0)


def test_a_failed_simpy_event_raises_as_in_simpy() -> None:
    env = Loop()
    ev = env.event()
    cause = KeyError("boom")
    ev.fail(cause)
    with pytest.raises(KeyError, match="boom") as raised:
        env.run_until(1.0)
    assert raised.value.__cause__ is cause  # SimPy's way: a copy, caused by the original
    env = Loop()  # (a loop that raised is not resumed: the model never does)
    defused = env.event()
    defused.fail(KeyError("quiet"))
    defused.defused = True
    env.run_until(2.0)  # a defused failure is ignored, as in SimPy
    assert env.now == 2.0
