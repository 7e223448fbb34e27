"""Errors meant to be shown to a user.

The CLI turns every `TrackerError` into one `error: ...` line and exit status 2;
anything else escaping a command is a bug.

    TrackerError
    ├── UsageError        bad word, date, week or option value given by the user
    ├── NotFound          an item, topic or file named by the user does not exist
    ├── InputError        a file exists but cannot be read or parsed (outline, topics file)
    ├── DatabaseError     the database cannot be opened or is not ours, the disk is full or read-only
    │   └── Unavailable   locked past the busy timeout, or its server stopped answering (exit 1: try again)
    ├── Refused           the command would lose the learner's data unless told to (e.g. `import --retire`)
    └── Busy              another run holds the lock (exit 1 for `sync`, see cli)
"""

from __future__ import annotations


class TrackerError(Exception):
    """Base of every error the CLI shows as one line."""


class UsageError(TrackerError):
    """A value given by the user is not acceptable."""


class NotFound(TrackerError):
    """Something the user named does not exist."""


class InputError(TrackerError):
    """A file exists but its content cannot be used."""


class DatabaseError(TrackerError):
    """The database cannot be opened, created or migrated."""


class Unavailable(DatabaseError):
    """The database is there but cannot be used just now: locked by another process, or its server silent."""


class Refused(TrackerError):
    """Done as asked, the command would throw away much of what the learner has; it wants to be told."""


class Busy(TrackerError):
    """Another tracker process holds the lock this run needs."""
