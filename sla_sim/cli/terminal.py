"""What the command prints is text, never terminal control: user strings echoed back (a
scenario, team or channel name, a value in an error message) could carry ANSI escapes that
recolour, hide or rewrite what the terminal shows. While a command runs, its stdout and stderr
show every control character except newline, tab and carriage return (progress bars redraw
with it) as a visible ``\\xNN`` escape."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from sla_sim.errors import UNSAFE, printable

__all__ = ["UNSAFE", "SafeStream", "printable", "safe_terminal"]


class SafeStream:
    """A text stream that writes :func:`printable` text to the stream it wraps."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    @property
    def wrapped(self) -> TextIO:
        """The stream under the guard: progress bars draw on it (their text is the program's
        own, their description made :func:`printable`), so the cursor moves of nested bars
        work instead of showing as ``\\x1b[A``."""
        return self._stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def safe_terminal() -> Iterator[None]:
    """While the block runs, ``sys.stdout`` and ``sys.stderr`` print only safe text."""
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(old[0]), SafeStream(old[1])  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = old
