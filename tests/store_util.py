"""What the run-store tests share."""

from __future__ import annotations

from typing import Any


def interrupting_collect(after: int) -> Any:
    """A stand-in for runs.collect that feeds ``after`` results to the sink, then Ctrl-C."""

    def collect(outcomes: Any, on_result: Any = None, progress: bool = True,
                total: int | None = None, desc: str = "", keep: bool = True) -> Any:  # fmt: skip
        for i, out in enumerate(outcomes):
            if i == after:
                raise KeyboardInterrupt
            on_result(out)
        raise AssertionError("the run ended before the interruption")

    return collect
