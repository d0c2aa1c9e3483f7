"""The event loop's plumbing: a SimPy timeout that carries its one callback, and a pause of
automatic garbage collection for the length of a replication.

The model's event loop is callback-driven (see :mod:`sla_sim.model.sdr`): every scheduled thing
is a timeout whose single callback does the work. ``env.timeout(d).callbacks.append(cb)``
builds a bound method, a timeout and an empty callback list, then appends; :class:`Call` is the
same :class:`simpy.events.Timeout`, built with its callback in one step. It is scheduled exactly
like a timeout (``env.schedule`` at normal priority, ordered by time then creation), so
results are the same as with ``env.timeout``.

:class:`Loop` is the model's environment: the same scheduler, with cheaper heap entries. SimPy
keeps ``(time, priority, id, event)`` entries and :meth:`simpy.Environment.step` runs the
event's callbacks; a :class:`Loop` entry ``(time, priority, id, function, argument)`` names its
callback itself, so :meth:`Loop.call` schedules a callback with no event object at all (no
timeout, no callback list) and :meth:`Loop.run_until` is a bare pop-and-call loop. Ids come
from the same counter, so entries are ordered exactly as SimPy orders events.

A :class:`Loop` keeps two heaps: callbacks due long after most others (AE closes weeks ahead,
re-routes after nurture; several hundred pending) go to a second one with
:meth:`Loop.call_far`, so the heap of the frequent events (attempt ends, wake-ups, routing;
a few dozen pending) stays shallow. The loop always takes the smaller of the two tops, and
entries are unique by id, so the order is the one a single heap would give.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from heapq import heappop, heappush
from typing import Any

from simpy import Environment
from simpy.core import EmptySchedule, Infinity
from simpy.events import NORMAL, URGENT, Event, Timeout


class Call(Timeout):
    """A timeout of ``delay`` hours (>= 0, unchecked) whose only callback is ``callback``;
    ``value`` is the event's value (``event.value``)."""

    def __init__(self, env: Environment, delay: float, callback: Callable[[Event], None],
                 value: Any = None) -> None:  # fmt: skip
        # Timeout.__init__ inlined (as SimPy itself inlines Event.__init__ there)
        self.env = env
        self.callbacks = [callback]
        self._value = value
        self._delay = delay
        self._ok = True
        env.schedule(self, NORMAL, delay)


def _fire(event: Event) -> None:
    """Process a SimPy event taken off a :class:`Loop`'s heap, as ``Environment.step`` does."""
    callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
    for callback in callbacks:
        callback(event)
    if not event._ok and not hasattr(event, "_defused"):  # a failed event crashes the run
        exc = type(event._value)(*event._value.args)
        exc.__cause__ = event._value
        raise exc


class _HorizonError(Exception):
    """Raised by the entry :meth:`Loop.run_until` schedules at its end time."""


def _reach_horizon(_arg: None) -> None:
    raise _HorizonError


class Loop(Environment):
    """A SimPy environment whose heap entries carry their callback (see the module docstring).

    SimPy events scheduled on it (a :class:`Call`, ``env.timeout``, ...) still work: their entry
    calls :func:`_fire`. Generator processes are not supported by :meth:`run_until`'s caller
    (the model has none); :meth:`step`, :meth:`peek` and :meth:`run` work as in SimPy.
    """

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self._far: list[tuple[float, int, int, Callable[[Any], None], Any]] = []

    def schedule(self, event: Event, priority: Any = NORMAL, delay: float = 0) -> None:
        """Schedule a SimPy event (its entry processes it with :func:`_fire`)."""
        heappush(self._queue, (self._now + delay, priority, next(self._eid), _fire, event))

    def call(self, delay: float, function: Callable[[Any], None], argument: Any = None) -> None:
        """Call ``function(argument)`` ``delay`` hours (>= 0, unchecked) from now: ordered like
        ``Call(env, delay, ...)`` made at this point, at the cost of one tuple."""
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), function,
                               argument))  # fmt: skip

    def call_far(self, delay: float, function: Callable[[Any], None],
                 argument: Any = None) -> None:  # fmt: skip
        """:meth:`call`, for a callback due long after most pending ones (same run order; it
        keeps the heap of the frequent events small, see the module docstring)."""
        heappush(self._far, (self._now + delay, NORMAL, next(self._eid), function, argument))

    def _next_heap(self) -> list[Any]:
        """The heap whose top entry runs next."""
        queue, far = self._queue, self._far
        return far if far and (not queue or far[0] < queue[0]) else queue

    def peek(self) -> float:
        """The time of the next entry (``inf`` if none)."""
        heap = self._next_heap()
        return heap[0][0] if heap else Infinity

    def step(self) -> None:
        """Process the next entry (raises :class:`simpy.core.EmptySchedule` if none)."""
        try:
            self._now, _, _, function, argument = heappop(self._next_heap())
        except IndexError:
            raise EmptySchedule from None
        function(argument)

    def drop_pending(self) -> None:
        """Forget every scheduled entry."""
        self._queue.clear()
        self._far.clear()

    def run_until(self, until: float) -> None:
        """``run(until=until)`` for a number ``until`` > now: entries before ``until`` run, in
        order; an entry at ``until`` itself does not (SimPy's end event is urgent). The end is
        one more entry, whose callback raises to leave the loop."""
        at = float(until)
        if at <= self._now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        queue, far = self._queue, self._far
        heappush(queue, (self._now + (at - self._now), URGENT, next(self._eid),
                         _reach_horizon, None))  # fmt: skip
        try:  # ``queue`` holds the end entry until the loop ends: never empty here
            while True:
                if far and far[0] < queue[0]:
                    self._now, _, _, function, argument = heappop(far)
                else:
                    self._now, _, _, function, argument = heappop(queue)
                function(argument)
        except _HorizonError:
            pass


@contextmanager
def gc_paused() -> Iterator[None]:
    """Suspend automatic garbage collection inside the block (restored after, even on error).

    A replication allocates hundreds of thousands of small objects (event rows, per-lead draws,
    events) and frees them by reference counting; collections triggered meanwhile would
    traverse them all for nothing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
