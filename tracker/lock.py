"""A non-blocking, process-wide lock so that two `tracker sync` runs never overlap.

The operating system drops the lock when its process dies, so a killed sync never
leaves a stale lock behind (unlike a pid file).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from tracker.errors import Busy, DatabaseError


def lock_path_for(db_url: str, fallback_dir: Path) -> Path:
    """The lock file beside a SQLite database, else in the per-user data folder."""
    prefix = "sqlite:///"
    if db_url.startswith(prefix) and db_url[len(prefix):] not in ("", ":memory:"):
        return Path(db_url[len(prefix):].split("?", 1)[0] + ".sync.lock")
    return fallback_dir / "sync.lock"


def try_lock(handle: IO[Any]) -> bool:
    """Take the lock on an open file without waiting; False if another process holds it."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    # A POSIX record lock belongs to the process that took it, and goes when that process ends.
    try:
        fcntl.lockf(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:  # EAGAIN or EACCES, as the system reports a held lock
        return False


@contextmanager
def exclusive(path: Path, what: str = "sync") -> Iterator[None]:
    """Hold the lock at `path` for the block, or raise Busy at once if another process has it.

    DatabaseError where the lock file cannot be made (a read-only folder or file).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise DatabaseError(f"cannot take the {what} lock {path}: {exc.strerror or exc} "
                            "(the lock lives beside the database: is its folder read-only?)") from None
    with handle:
        if not try_lock(handle):
            raise Busy(f"another tracker {what} is running (lock {path}); try again when it has finished")
        with contextlib.suppress(OSError):  # the pid is for people reading the file; a full disk may refuse it
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
        yield
