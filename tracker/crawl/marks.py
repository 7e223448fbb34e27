"""Which page a crawl is reading, kept outside the database so that noting it costs no commit.

lxml is C code: a page can take the whole process down while it is read. So before each page is
read, the crawl writes the page's item id into a small file of its own beside the database, and
blanks it once the page is read. The file is locked while its crawl runs; the operating system
drops the lock when the process dies. The next crawl takes every unlocked file it finds: an id
still in one is a page that ended its crawl, and is recorded as such instead of being read again
(see `tracker.crawl.run`). Writing the file is a system call, not a transaction, and survives the
death of the process that wrote it, which is the failure it is for.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
from pathlib import Path
from types import TracebackType

from tracker.lock import try_lock

_WIDTH = 20  # an id, padded, so that every write replaces the whole of the last one


def marks_prefix(db_url: str, fallback_dir: Path) -> Path:
    """Where a database's crawls keep their files: beside a SQLite file, else in the per-user data folder."""
    prefix = "sqlite:///"
    if db_url.startswith(prefix) and db_url[len(prefix):] not in ("", ":memory:"):
        return Path(db_url[len(prefix):].split("?", 1)[0] + ".reading")
    # Named by a digest of the URL: the URL may hold a password, which no file name should show.
    return fallback_dir / f"reading-{hashlib.sha256(db_url.encode()).hexdigest()[:16]}"


def left_behind(prefix: Path) -> list[int]:
    """Item ids that crawls which died were reading; their files are removed. Live crawls' are left alone."""
    found = []
    own = prefix.with_name(f"{prefix.name}.{os.getpid()}")
    for path in sorted(prefix.parent.glob(glob.escape(prefix.name) + ".*")):
        if not path.name[len(prefix.name) + 1:].isdigit():
            continue  # not a crawl's (those end in their process id)
        if path == own:
            # This process's own crawl: opening its file again and closing it would drop the lock
            # (POSIX record locks belong to the process, not to the file handle).
            continue
        try:
            handle = open(path, "r+b")  # noqa: SIM115 - closed below, after the unlink
        except OSError:
            continue
        with handle:
            if not try_lock(handle):
                continue  # its crawl is running
            content = handle.read().strip()
            with contextlib.suppress(OSError):
                path.unlink()
        if content.isdigit():
            found.append(int(content))
    return found


class ReadingMark:
    """This crawl's file: `reading(id)` before a page is read, `done()` after.

    Where the file cannot be made (a read-only folder), marks are not kept: the crawl goes on, and a
    page that kills it would be read again by the next crawl.
    """

    def __init__(self, prefix: Path) -> None:
        self.path = prefix.with_name(f"{prefix.name}.{os.getpid()}")
        self.fd: int | None = None

    def __enter__(self) -> ReadingMark:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "w+b")  # kept open for the crawl, closed in __exit__
        except OSError:
            return self
        if not try_lock(handle):  # cannot happen for a file named by this process's id; be safe anyway
            handle.close()
            return self
        self._handle = handle
        self.fd = handle.fileno()
        return self

    def reading(self, item_id: int) -> None:
        """Note that item `item_id`'s page is being read now."""
        if self.fd is not None:
            self._write(f"{item_id:<{_WIDTH}}".encode())

    def done(self) -> None:
        """The page noted last was read."""
        if self.fd is not None:
            self._write(b" " * _WIDTH)

    def _write(self, data: bytes) -> None:
        assert self.fd is not None
        os.lseek(self.fd, 0, os.SEEK_SET)
        os.write(self.fd, data)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.fd is None:
            return
        self.fd = None
        with contextlib.suppress(OSError):
            self.path.unlink()
        self._handle.close()
