"""Values kept between requests, dropped when the database changes.

SQLite counts commits: `PRAGMA data_version` on a connection changes whenever another connection
(a CLI command, a crawl, this server's own writes) commits. One connection kept for asking that
is enough to know whether a kept weekly report still holds. Other databases have no such counter,
so nothing is kept there.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

from tracker.store.db import Database

if TYPE_CHECKING:
    from sqlalchemy.pool import PoolProxiedConnection

V = TypeVar("V")


class DataVersion:
    """A number that changes whenever anything is committed to the database (None: unknown)."""

    def __init__(self, database: Database) -> None:
        self._lock = threading.Lock()
        self._conn: PoolProxiedConnection | None = database.engine.raw_connection() if database.is_sqlite else None

    def current(self) -> int | None:
        """The database's version now."""
        if self._conn is None:
            return None
        with self._lock:
            cursor = self._conn.cursor()
            try:
                cursor.execute("PRAGMA data_version")
                row = cursor.fetchone()
                return None if row is None else int(row[0])
            finally:
                cursor.close()

    def close(self) -> None:
        """Give the connection back."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class KeptValues(Generic[V]):
    """The last few values computed, each valid for the database version it was computed at."""

    def __init__(self, size: int) -> None:
        self._lock = threading.Lock()
        self._values: OrderedDict[Hashable, tuple[int, V]] = OrderedDict()
        self.size = size

    def get(self, key: Hashable, version: int | None) -> V | None:
        """The value kept for `key` if the database has not changed since; else None."""
        if version is None:
            return None
        with self._lock:
            found = self._values.get(key)
            if found is None or found[0] != version:
                return None
            self._values.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, version: int | None, value: V) -> None:
        """Keep `value` for `key` at `version`, forgetting the least recently used beyond `size`."""
        if version is None:
            return
        with self._lock:
            self._values[key] = (version, value)
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
