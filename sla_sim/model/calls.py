"""The event loop's plumbing: a SimPy timeout that carries its one callback, and a pause of
automatic garbage collection for the length of a replication.

The model's event loop is callback-driven (see :mod:`sla_sim.model.sdr`): every scheduled thing
is a timeout whose single callback does the work. ``env.timeout(d).callbacks.append(cb)``
builds a bound method, a timeout and an empty callback list, then appends; :class:`Call` is the
same :class:`simpy.events.Timeout`, built with its callback in one step. It is scheduled exactly
like a timeout (``env.schedule`` at normal priority, ordered by time then creation), so
results are the same as with ``env.timeout``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from simpy import Environment
from simpy.events import NORMAL, Event, Timeout


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
