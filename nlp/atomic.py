"""Atomic file writes: the one copy every output of the project goes through.

A file is built under a hidden temp name in the target's folder and published with one
``os.replace``, so a reader (or a crash, Ctrl-C or SIGTERM) never sees half a file and an
earlier output survives a failed write. ``mkstemp`` makes files owner-only; published files get
the permissions any other file would get under the user's umask.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: str | os.PathLike[str], *, make_parents: bool = False) -> Iterator[Path]:
    """Yield a temp path beside ``target``; on a clean exit it replaces ``target`` in one rename.

    On any exception (KeyboardInterrupt and SystemExit included) the temp file is removed and
    ``target`` is left as it was.
    """
    target = Path(target)
    if make_parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(target: str | os.PathLike[str], text: str, *, make_parents: bool = False) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``target`` atomically."""
    with atomic_path(target, make_parents=make_parents) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(target)


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes, *, make_parents: bool = False) -> Path:
    with atomic_path(target, make_parents=make_parents) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(target)
