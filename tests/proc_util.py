"""Process trees read from /proc (Linux), for the tests that check nothing is left running."""

from __future__ import annotations

from pathlib import Path


def parent_map(zombies: bool = True) -> dict[int, int]:
    """pid -> parent pid of every process; ``zombies=False`` leaves out processes that have
    exited and wait to be reaped."""
    parents: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if zombies or fields[0] != "Z":
                parents[int(d.name)] = int(fields[1])
    return parents


def descendants(pid: int, parents: dict[int, int] | None = None) -> set[int]:
    """Every descendant of ``pid`` (not ``pid`` itself) in ``parents`` (default: all of
    :func:`parent_map`)."""
    parents = parent_map() if parents is None else parents
    out: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        kids = {c for c, pp in parents.items() if pp == p}
        out |= kids
        todo += list(kids)
    return out


def alive(pid: int) -> bool:
    """Whether process ``pid`` is running (exists and is not a zombie waiting to be reaped)."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
