"""Opening the database: engine, pragmas, migrations, and the queries several modules share."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Select, create_engine, event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from tracker.errors import DatabaseError, NotFound
from tracker.search import index as search_index
from tracker.store import migrations


def __getattr__(name: str) -> Any:
    # The shared tables `item_t`, `event_t` and `tag_t`, built on first use: opening a database
    # does not need the table models, and `tracker progress` never builds them.
    from tracker.store import models

    tables = {"item_t": models.Item, "event_t": models.Event, "tag_t": models.ItemTopic}
    if name not in tables:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    table = tables[name].__table__  # type: ignore[attr-defined]
    globals()[name] = table
    return table


BUSY_TIMEOUT_MS = 30_000
# 64 MB of page cache: big imports build indexes over 100,000 rows; the default 2 MB thrashes.
CACHE_KIB = 65_536
MMAP_BYTES = 256 * 1024 * 1024


def utcnow() -> datetime:
    """Now, as the naive UTC datetime the database stores."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Database:
    """An open, migrated database."""

    engine: Engine
    url: str

    @property
    def is_sqlite(self) -> bool:
        """True for SQLite, where the WAL and immediate-transaction tuning applies."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading; nothing it does is committed."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self, cache_kib: int | None = None) -> Iterator[Connection]:
        """A write transaction, taken immediately so two writers queue instead of deadlocking.

        `cache_kib` caps SQLite's page cache for it: a long stream of small writes (a crawl)
        touches many pages once each, and would otherwise grow the cache to its full 64 MB.
        """
        with self.engine.connect() as conn:
            conn.info["immediate"] = True
            # Through the driver, outside SQLAlchemy's transaction bookkeeping (a pragma is not a write).
            driver = conn.connection.driver_connection if cache_kib is not None and self.is_sqlite else None
            if driver is not None:
                driver.execute(f"PRAGMA cache_size = -{int(cache_kib or 0)}")
            try:
                with conn.begin():
                    yield conn
            finally:
                if driver is not None:
                    driver.execute(f"PRAGMA cache_size = -{CACHE_KIB}")

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url[len(prefix):] in ("", ":memory:"):
        return None
    return Path(url[len(prefix):].split("?", 1)[0])


def _tune_sqlite(engine: Engine) -> None:
    # pysqlite opens transactions lazily and only for DML; take control so that
    # BEGIN happens where SQLAlchemy says, and writers can ask for BEGIN IMMEDIATE.
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        # Reads map the file instead of copying each page through a read() call: reports touch
        # thousands of pages of a large history once each.
        cur.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        cur.close()
        # The search index's views call these (migration m010).
        search_index.register(dbapi_conn)

    @event.listens_for(engine, "commit")
    def on_commit(conn: Connection) -> None:
        # The search index takes in the writes this transaction made, as part of it.
        search_index.flush(conn.connection.driver_connection)

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        immediate = conn.info.pop("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def open_db(url: str, upto: int | None = None) -> Database:
    """Open (creating if needed) and migrate the database at `url`."""
    path = _sqlite_path(url)
    if path is not None:
        if path.is_dir():
            raise DatabaseError(f"cannot open database {path}: it is a directory")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create the database folder {path.parent}: {exc.strerror}") from None
    try:
        engine = create_engine(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise DatabaseError(f"cannot open database {url}: {exc}") from None
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    try:
        with engine.connect() as conn:
            migrations.migrate(conn, upto=upto)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise DatabaseError(f"cannot open database {path or url}: {reason}") from None
    return Database(engine=engine, url=url)


def bulk_insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows with the same keys; on SQLite straight through the driver's executemany.

    SQLAlchemy's per-row parameter processing costs about a second per 100,000 rows, which is
    most of an outline import's budget; other databases take the portable Core path.
    """
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), rows)
        return
    names = list(rows[0])
    times = [i for i, n in enumerate(names) if isinstance(table.c[n].type, DateTime)]
    # SQLAlchemy's SQLite DateTime always writes microseconds; so must we, or string comparisons
    # of times in queries would disagree at whole seconds. Imports repeat one `now`: format it once.
    formatted: dict[datetime, str] = {}

    def text(value: datetime | None) -> str | None:
        if value is None:
            return None
        if value not in formatted:
            formatted[value] = value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return formatted[value]

    getter = itemgetter(*names)
    values = [getter(row) for row in rows] if len(names) > 1 else [(row[names[0]],) for row in rows]
    if times:
        converted = []
        for record in values:
            fields = list(record)
            for i in times:
                fields[i] = text(fields[i])
            converted.append(tuple(fields))
        values = converted
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    conn.exec_driver_sql(sql, values)


def chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """`values` in slices of `size`, for IN lists that must stay under SQLite's parameter limit."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def resolve_item(conn: Connection, ref: str) -> int:
    """The id of the item named by numeric id, URL or arXiv id; NotFound otherwise."""
    from tracker import urls

    item_t = __getattr__("item_t")
    ref = ref.strip()
    if ref.isdigit():
        found = conn.execute(select(item_t.c.id).where(item_t.c.id == int(ref))).scalar()
        if found is not None:
            return int(found)
    arxiv_id = urls.parse_arxiv_id(ref)
    if arxiv_id:
        found = conn.execute(select(item_t.c.id).where(item_t.c.arxiv_id == arxiv_id)).scalar()
        if found is not None:
            return int(found)
    if "://" in ref or ref.startswith("www."):
        normalized = urls.normalize_url(ref)
        found = conn.execute(select(item_t.c.id).where(item_t.c.key == normalized)).scalar()
        if found is None:
            found = conn.execute(
                select(item_t.c.id).where(item_t.c.url == normalized).order_by(item_t.c.retired, item_t.c.id)
            ).scalar()
        if found is not None:
            return int(found)
    raise NotFound(f"no item {ref!r} (give an id, a URL or an arXiv id)")


def item_topics(conn: Connection, item_ids: list[int] | Select[Any] | None = None) -> dict[int, list[str]]:
    """Effective topic slugs per item (the given ids, or those a query selects): every tag but removed ones."""
    from tracker.store.tables import tag_t  # a read: the reports call this without the table models

    query = select(tag_t.c.item_id, tag_t.c.slug).where(tag_t.c.origin != "untag")
    if item_ids is not None:
        query = query.where(tag_t.c.item_id.in_(item_ids))
    out: dict[int, list[str]] = {}
    for item_id, slug in conn.execute(query.order_by(tag_t.c.item_id, tag_t.c.score.desc(), tag_t.c.slug)):
        out.setdefault(item_id, []).append(slug)
    return out
