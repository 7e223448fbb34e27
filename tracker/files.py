"""Files the tracker writes for the user (exports, reports): whole or not at all."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from tracker.errors import UsageError


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder, renamed over the old one.

    A write that fails (a full disk, a quota, an interrupt) leaves the old file whole and no
    temporary file behind; UsageError says why. A symbolic link is followed, so the file it
    points to is the one replaced. The new file keeps the old one's permissions.
    """
    target = path.resolve() if path.is_symlink() else path
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise UsageError(f"cannot write {path}: {exc.strerror or exc} (the file is as it was)") from None
        raise


def _mode_for(target: Path) -> int:
    """The old file's permissions, else what a new file gets under the umask (mkstemp's are 0600)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask
