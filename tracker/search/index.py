"""Keeping the search index: the SQL functions its views call, the catch-up before each commit, a rebuild.

Migration m010 made the index (`search_index`, FTS5) and the triggers that note, in
`search_pending`, every item whose searchable text a write changes. `flush` turns those notes into
index updates, set-wise, just before the transaction commits (tracker.store.db calls it on every
commit); `rebuild` remakes the whole index from the tables. Imported on every database open, so it
stays small: no SQLAlchemy models, no query code.
"""

from __future__ import annotations

import sqlite3
import zlib

from tracker.search.words import index_words

_COLUMNS = "title, notes, text, abstract, authors"
_WORK = ("SELECT EXISTS (SELECT 1 FROM search_pending), upto, coalesce((SELECT max(id) FROM item), 0), "
         "topics_stale FROM search_state")
# Old entries out (as the index has them), then new ones in as the tables say now: items above the
# last indexed id, and noted ones below it (which are no longer there if they were deleted).
_REMOVE = f"INSERT INTO search_index (search_index, rowid, {_COLUMNS}) SELECT 'delete', id, {_COLUMNS} " \
    "FROM search_pending_source"
_ADD = (f"INSERT INTO search_index (rowid, {_COLUMNS}) SELECT id, {_COLUMNS} FROM search_source WHERE id > :upto "
        f"UNION ALL SELECT s.id, {', '.join('s.' + c for c in _COLUMNS.split(', '))} FROM search_pending p "
        "JOIN search_source s ON s.id = p.item_id WHERE p.item_id <= :upto")
_DONE = ("DELETE FROM search_pending", "UPDATE search_state SET upto = :top")
_TOPICS = ("INSERT INTO search_topic (search_topic) VALUES ('rebuild')", "UPDATE search_state SET topics_stale = 0")
_REBUILD = ("DELETE FROM search_pending",
            "UPDATE search_state SET upto = coalesce((SELECT max(id) FROM item), 0), topics_stale = 0",
            "INSERT INTO search_index (search_index) VALUES ('rebuild')",
            "INSERT INTO search_topic (search_topic) VALUES ('rebuild')")


def inflate(data: bytes | None) -> str | None:
    """A stored page text (zlib over UTF-8) as text."""
    if data is None:
        return None
    return zlib.decompress(data).decode("utf-8")


def register(dbapi_conn: sqlite3.Connection) -> None:
    """Give a sqlite3 connection the functions the search index's views call."""
    dbapi_conn.create_function("tracker_words", 1, index_words, deterministic=True)
    dbapi_conn.create_function("tracker_inflate", 1, inflate, deterministic=True)


def flush(dbapi_conn: sqlite3.Connection | None) -> bool:
    """Bring the index up to date with the writes made so far in this transaction; True if any were.

    Works on the driver's connection, inside the caller's open transaction. A database without the
    index (another backend, or one not yet migrated to m010) has nothing to flush, nor has a
    connection the pool has already let go of (SQLAlchemy then gives None for its driver connection).
    """
    if dbapi_conn is None:
        return False
    try:
        noted, upto, top, topics = dbapi_conn.execute(_WORK).fetchone()
    except sqlite3.OperationalError:  # no such table: this database has no index
        return False
    if noted or top != upto:
        if noted:
            dbapi_conn.execute(_REMOVE)
        dbapi_conn.execute(_ADD, {"upto": upto})
        for statement in _DONE:
            dbapi_conn.execute(statement, {"top": top})
    if topics:
        for statement in _TOPICS:
            dbapi_conn.execute(statement)
    return bool(noted or top != upto or topics)


def behind(dbapi_conn: sqlite3.Connection) -> bool:
    """True if writes are noted that no commit has taken into the index (made by a client without it)."""
    try:
        noted, upto, top, topics = dbapi_conn.execute(_WORK).fetchone()
    except sqlite3.OperationalError:
        return False
    return bool(noted or top != upto or topics)


def rebuild(dbapi_conn: sqlite3.Connection) -> None:
    """Remake the whole index (and the topic names') from the tables, inside the caller's transaction."""
    for statement in _REBUILD:
        dbapi_conn.execute(statement)
