"""Writing files safely: every export goes to a temporary name beside its final name, is flushed
to disk and renamed into place, so a reader never sees half a file and a full disk leaves no
partial file under a final name. An error names the final file it was writing.

One helper for every writer (run folders, reports, charts, recommendation exports, measured
exports): :func:`atomic_write` calls any ``write(tmp)``; the temporary name keeps the final
name's extension (``.report.tmp-123.html``), so writers that choose a format by extension (chart
libraries) write the right one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["ENVIRONMENTAL", "atomic_write", "atomic_write_bytes", "atomic_write_parquet",
           "atomic_write_text", "is_environmental", "linked_on_the_way", "staged"]  # fmt: skip

#: errno values that are the machine's fault, not the request's (exit 1, not 2).
ENVIRONMENTAL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EFBIG,
                           errno.ENOMEM})  # fmt: skip


def is_environmental(err: BaseException) -> bool:
    """Whether an error is an environmental failure (disk full, I/O error, read-only disk)."""
    return isinstance(err, OSError) and err.errno in ENVIRONMENTAL


def _tmp_name(path: Path) -> Path:
    """A hidden temporary name beside ``path`` that keeps its extension."""
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")


def _sync(tmp: Path, final: Path) -> None:
    """Flush a written temporary file to the disk before it is renamed to ``final`` (where a
    full disk shows up when the writer buffered)."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def named(err: OSError, path: Path) -> OSError:
    """The same error, naming the final file it was writing."""
    new = type(err)(err.errno, err.strerror or str(err)) if err.errno else OSError(str(err))
    new.filename = str(path)
    if new.strerror is None:
        new.strerror = str(err)
    return new


def linked_on_the_way(root: Path, relative: Path) -> Path | None:
    """The first folder between ``root`` and ``root / relative`` (both excluded) that is a
    symbolic link, if any: a command copying files into ``root`` never writes through one
    (it could point anywhere)."""
    here = root
    for part in relative.parts[:-1]:
        here = here / part
        if here.is_symlink():
            return here
    return None


def atomic_write(path: str | Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary name beside ``path``, flush it to disk and rename it
    into place (creating the parent folder). Anything already at the temporary name is
    removed first, never written through, and the rename replaces a link at ``path``, never
    its target. On any error the temporary file is removed and an OSError names ``path``.
    Returns ``path``."""
    path = Path(path)
    tmp = _tmp_name(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # whatever has the temporary name is a leftover, or a symbolic link planted there
        # (the name is predictable): writers open by name and would write through a link
        tmp.unlink(missing_ok=True)
        write(tmp)
        _sync(tmp, path)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise named(err, path) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file and an atomic rename."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame to Parquet atomically."""
    return atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))


@contextlib.contextmanager
def staged(folder: Path, moved: list[str] | None = None) -> Iterator[Path]:
    """A private staging folder inside ``folder``: whatever is written there is moved into
    ``folder`` (same relative paths, each file flushed and renamed) when the block ends, or
    removed if it raises. The relative paths moved are appended to ``moved``."""
    stage = folder / f".staging-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    try:
        yield stage
        for f in sorted(p for p in stage.rglob("*") if p.is_file()):
            final = folder / f.relative_to(stage)
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
                _sync(f, final)
                os.replace(f, final)
            except OSError as err:
                raise named(err, final) from err
            if moved is not None:
                moved.append(f.relative_to(stage).as_posix())
    finally:
        shutil.rmtree(stage, ignore_errors=True)
