"""What the command prints is text, never terminal control: user strings echoed back (a
scenario, team or channel name, a value in an error message) could carry ANSI escapes that
recolour, hide or rewrite what the terminal shows. While a command runs, its stdout and stderr
show every control character except newline, tab and carriage return (progress bars redraw
with it) as a visible ``\\xNN`` escape."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO

__all__ = ["SafeStream", "printable", "safe_terminal"]

#: C0 controls but tab, newline and carriage return; DEL; C1 controls (ESC is 0x1b, CSI 0x9b).
UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every control character shown as ``\\xNN``."""
    return UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class SafeStream:
    """A text stream that writes :func:`printable` text to the stream it wraps."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

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
