"""Which files the planner panel may read or write when it is served as a web page.

``sla-sim dashboard`` gives its panel two folders: the one the command was started in and the
run store. A path typed into "File" or "Save charts" is resolved (``~``, relative to the
kernel's working folder, ``..`` and every symbolic link of its existing part) and allowed only
when the result lies inside one of them; anything else is refused before the file is opened,
so no line of it can reach the page.

    >>> from pathlib import Path
    >>> allowed_path("../etc/passwd", [Path("/srv/plans")], base=Path("/srv/plans")) is None
    True
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from sla_sim.errors import Issue, ScenarioError

__all__ = ["allowed_path", "confine"]


def _resolved(path: str | os.PathLike[str], base: Path) -> Path:
    p = Path(path).expanduser()
    return (p if p.is_absolute() else base / p).resolve()  # symlinks and '..' resolved


def allowed_path(path: str | os.PathLike[str], roots: Iterable[str | os.PathLike[str]],
                 base: Path | None = None) -> Path | None:  # fmt: skip
    """``path`` fully resolved when it lies inside one of ``roots`` (themselves resolved), else
    None. A relative ``path`` is taken from ``base`` (default: the current folder). A path
    that does not exist yet is judged by its existing part, symbolic links resolved."""
    base = Path.cwd() if base is None else base
    try:
        target = _resolved(path, base)
        folders = [_resolved(r, base) for r in roots]
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte, an unknown ~user
        return None
    return target if any(target.is_relative_to(f) for f in folders) else None


def confine(path: str | os.PathLike[str], roots: Iterable[str | os.PathLike[str]],
            field: str) -> Path:  # fmt: skip
    """:func:`allowed_path`, or a ScenarioError naming ``field``, the path as typed and the
    folders allowed (never anything read from the file)."""
    roots = list(roots)
    allowed = allowed_path(path, roots)
    if allowed is None:
        where = ", ".join(str(Path(r)) for r in roots)
        rule = f"must be inside the folders this dashboard may read or write ({where})"
        raise ScenarioError([Issue(field, rule, str(path))], "file request")
    return allowed
