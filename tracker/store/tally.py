"""The tally of live items per status, overall and per topic, that SQLite's triggers keep.

Migration m005 creates the `tally` table and its triggers. Reading it replaces a join of every
tag with its item. A bulk write of tens of thousands of rows pauses the triggers (each row would
otherwise cost two extra statements) and recounts once at the end, inside the same transaction,
so no reader ever sees a stale tally.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection

from tracker.store.db import set_aside
from tracker.store.migrations import CHECKPOINT_CLEAR, TALLY_FILL

# Below this many rows to write, the triggers cost less than a recount of the whole list.
PAUSE_FROM = 5_000


def available(conn: Connection) -> bool:
    """True where the triggers keep a tally (SQLite)."""
    return conn.dialect.name == "sqlite"


def counts(conn: Connection) -> list[tuple[str, str, int]]:
    """(slug, status, n) for every non-empty count; slug '' is the whole list."""
    return [(slug, status, int(n)) for slug, status, n in
            conn.exec_driver_sql("SELECT slug, status, n FROM tally WHERE n != 0")]


def recount(conn: Connection) -> None:
    """Count the tally afresh from the items and their tags; past checkpoints may be wrong now, so drop them."""
    for statement in (*TALLY_FILL, *CHECKPOINT_CLEAR):
        conn.exec_driver_sql(statement)


@contextmanager
def paused(conn: Connection, rows: int) -> Iterator[None]:
    """Write `rows` rows inside with the triggers off when that is cheaper, then recount.

    The triggers are set aside (`db.set_aside`) and the tally recounted before they come back.
    """
    if not available(conn) or rows < PAUSE_FROM:
        yield
        return
    triggers = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'tally%'").all()
    with set_aside(conn, "TRIGGER", triggers, before_restoring=lambda: recount(conn)):
        yield
