"""Opening the database: engine, pragmas, migrations, and the queries several modules share."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import DateTime, Select, bindparam, create_engine, event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from tracker.errors import DatabaseError, NotFound, TrackerError, Unavailable, UsageError
from tracker.search import index as search_index
from tracker.store import migrations

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.pool import ConnectionPoolEntry

_T = TypeVar("_T")


def __getattr__(name: str) -> Table:
    # The shared tables `item_t`, `event_t` and `tag_t`, built on first use: opening a database
    # does not need the table models, and `tracker progress` never builds them.
    # The name is checked first: `from tracker.store.db import x` asks for `__path__` too, and that
    # must not load the models.
    models_of = {"item_t": "Item", "event_t": "Event", "tag_t": "ItemTopic"}
    if name not in models_of:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from tracker.store import models

    table = getattr(models, models_of[name]).__table__
    globals()[name] = table
    return table


BUSY_TIMEOUT_MS = 30_000
# 64 MB of page cache: big imports build indexes over 100,000 rows; the default 2 MB thrashes.
CACHE_KIB = 65_536
MMAP_BYTES = 256 * 1024 * 1024
# A database server that accepts a connection and then says nothing must not hang a command (or cron)
# for ever: libpq gives up connecting after this many seconds, and the server ends any statement
# running longer than the other (an import of 100,000 entries runs none near it).
SERVER_CONNECT_TIMEOUT_S = 10
SERVER_STATEMENT_TIMEOUT_MS = 300_000


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
    def on_connect(dbapi_conn: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
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
    """Open (creating if needed) and migrate the database at `url`.

    A SQLite file that holds another program's tables and none of the tracker's is refused
    before anything touches it (not even its journal mode).
    """
    path = _sqlite_path(url)
    shown = shown_url(url)
    if path is not None:
        if path.is_dir():
            raise DatabaseError(f"cannot open database {path}: it is a directory")
        _refuse_foreign(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create the database folder {path.parent}: {exc.strerror}") from None
    try:
        engine = create_engine(url, **_server_options(url))
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise DatabaseError(redact_url(f"cannot open database {shown}: {_first_line(exc)}", url)) from None
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    try:
        _migrate(engine, upto)
    except (SQLAlchemyError, sqlite3.Error) as exc:
        engine.dispose()
        known = explain(exc, url) if path is not None else None
        if isinstance(known, Unavailable):
            raise known from None  # locked: try again (exit 1), nothing to fix
        reason = _first_line(getattr(exc, "orig", None) or exc)
        code = _primary_code(exc)
        hint = f" ({_SQLITE_WORLD[code][0]})" if known is not None and code not in _SELF_EXPLAINED else ""
        raise DatabaseError(redact_url(f"cannot open database {shown}: {reason}{hint}", url)) from None
    return Database(engine=engine, url=url)


def _migrate(engine: Engine, upto: int | None) -> None:
    """Apply pending migrations, the check and the work in one write transaction.

    Two processes that open a new database at once: the second waits for the first to finish
    creating it (SQLite's busy timeout), then finds nothing left to do.
    """
    wanted = {m.__name__ for m in migrations.MIGRATIONS[:upto]}
    with engine.connect() as conn:
        pending = wanted - migrations.applied(conn)
        conn.rollback()
    if not pending:
        return
    with engine.connect() as conn:
        conn.info["immediate"] = True
        conn.begin()
        # With the ledger in place, `migrate` reads it without an error, which would end this transaction.
        migrations.ledger.create(conn, checkfirst=True)
        migrations.migrate(conn, upto=upto)


def _refuse_foreign(path: Path) -> None:
    """DatabaseError where `path` is a SQLite database whose tables are all another program's; looked at read-only."""
    from urllib.parse import quote

    try:
        if not path.is_file() or path.stat().st_size == 0:
            return
    except OSError:
        return  # opening it will say what is wrong
    names: set[str] = set()
    for mode in ("ro", "ro&immutable=1"):  # immutable: a WAL file whose folder cannot take a -shm
        try:
            probe = sqlite3.connect(f"file:{quote(str(path))}?mode={mode}", uri=True)
            try:
                names = {row[0] for row in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                probe.close()
            break
        except sqlite3.Error:
            continue
    if names and migrations.ledger.name not in names:
        shown = ", ".join(sorted(names)[:4]) + (", ..." if len(names) > 4 else "")
        raise DatabaseError(f"{path} is another program's database (tables {shown}), not the tracker's: "
                            "left untouched; give the tracker a file of its own with --db or TRACKER_DB")


def _server_options(url: str) -> dict[str, dict[str, object]]:
    """Engine options for a database server: connect and statement timeouts, unless the URL sets its own."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {}
    args: dict[str, object] = {}
    if "connect_timeout" not in parsed.query:
        args["connect_timeout"] = SERVER_CONNECT_TIMEOUT_S
    if "options" not in parsed.query:
        args["options"] = f"-c statement_timeout={SERVER_STATEMENT_TIMEOUT_MS}"
    return {"connect_args": args}


_URL_PASSWORD_RE = re.compile(r"([A-Za-z][\w+.-]*://[^\s:/?#@]*:)\S*@")
_QUERY_PASSWORD_RE = re.compile(r"((?:\bpassword|\bpasswd|\bpwd)=)(?!\*\*\*)[^&\s]*", re.IGNORECASE)


def redact_url(text: str, url: str | None = None) -> str:
    """`text` (a URL, or a message holding one) with every URL's password shown as `***`.

    Given the database `url`, its password is also hidden wherever else the text repeats it.
    """
    text = _QUERY_PASSWORD_RE.sub(r"\1***", _URL_PASSWORD_RE.sub(r"\1***@", text))
    if url:
        from sqlalchemy.engine import make_url

        try:
            password = make_url(url).password
        except (SQLAlchemyError, ValueError):
            password = None
        if password and len(password) >= 3:
            text = text.replace(str(password), "***")
    return text


def _primary_code(exc: BaseException) -> str:
    """SQLite's primary result code of an error (`SQLITE_READONLY` for `SQLITE_READONLY_DBMOVED`), or ''."""
    orig = getattr(exc, "orig", None) or exc
    name = str(getattr(orig, "sqlite_errorname", ""))
    return "_".join(name.split("_")[:2])


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


# SQLite's primary result codes that mean the world, not the tracker, went wrong: the message for each,
# and whether trying again later may be all it takes (exit 1) or the user has something to fix (exit 2).
_SQLITE_WORLD = {
    "SQLITE_FULL": ("the disk holding the database is full: free some space and run the command again", False),
    "SQLITE_READONLY": ("the database is read-only here: check the permissions of the file and its folder", False),
    "SQLITE_CANTOPEN": ("the database file cannot be opened: check that its folder exists and can be written",
                        False),
    "SQLITE_PERM": ("the database file cannot be opened: check its permissions", False),
    "SQLITE_IOERR": ("the disk reported an error reading or writing the database (is it full or read-only?)",
                     False),
    "SQLITE_CORRUPT": ("the database file is damaged", False),
    "SQLITE_NOTADB": ("the file is not a database", False),
    "SQLITE_BUSY": ("the database is locked by another process for longer than "
                    f"{BUSY_TIMEOUT_MS // 1000} s: try again when it has finished", True),
    "SQLITE_LOCKED": ("the database is locked by another process: try again when it has finished", True),
}


def shown_url(url: str) -> str:
    """How messages name a database: a SQLite file by its path, any other by its URL without password."""
    path = _sqlite_path(url)
    return str(path) if path is not None else redact_url(url)


# Codes whose SQLite message says it all when a database is opened.
_SELF_EXPLAINED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")


def explain(exc: BaseException, url: str = "") -> TrackerError | None:
    """The one-line error for a database failure that is the world's doing, not a bug, or None.

    A full disk, a read-only file or folder, a lock held past the busy timeout, a server that
    cannot be reached or stopped answering. The changes of the failed transaction are rolled
    back; what was committed stays. `url` names the database in the message.
    """
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    orig: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    about = f"database {shown_url(url)}: " if url else ""
    if isinstance(orig, OverflowError):  # a number the user typed, too large for a 64-bit column
        return UsageError(f"a number given is out of range: {_first_line(orig)}")
    if isinstance(orig, sqlite3.Error):
        primary = _primary_code(orig)
        if primary not in _SQLITE_WORLD:
            return None
        message, transient = _SQLITE_WORLD[primary]
        text = f"{message} ({about}{_first_line(orig)})"
        return Unavailable(text) if transient else DatabaseError(text)
    if isinstance(exc, OperationalError | InterfaceError):
        reason = redact_url(_first_line(orig), url)
        if getattr(orig, "sqlstate", None) == "57014":  # query_canceled: the statement timeout
            return Unavailable(f"the database server did not finish in time ({about}{reason})")
        return Unavailable(f"the database server cannot be reached or stopped answering ({about}{reason})")
    return None


@contextmanager
def indexes_built_after(conn: Connection, tables: Sequence[str]) -> Iterator[None]:
    """Inside, `tables` keep only their unique indexes; the others are built again from their stored
    definitions when the block ends, in the caller's transaction (SQLite; elsewhere nothing changes).

    For filling empty tables: SQLite builds an index over the rows already there by sorting them once,
    which costs less than keeping it in step row by row. Unique indexes stay, since they are constraints.
    """
    if conn.dialect.name != "sqlite" or not tables:
        yield
        return
    names = ", ".join("'" + table.replace("'", "''") + "'" for table in tables)
    indexes = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ({names})").all()
    with set_aside(conn, "INDEX", indexes):
        yield


@contextmanager
def set_aside(conn: Connection, kind: str, objects: Sequence[tuple[str, str]],
              before_restoring: Callable[[], None] | None = None) -> Iterator[None]:
    """Drop the schema objects `objects` ((name, sql) rows of sqlite_master, all of `kind`: INDEX,
    TRIGGER) for the block, then make them again from their stored definitions, after
    `before_restoring`; all in the caller's transaction, so whatever the latest migration made them
    is what comes back.

    Also when the block raises: a rollback undoes all of this anyway, but a caller that caught the
    error and committed must not be left without them. A database too broken to restore them will
    not commit either; the first error is the one to report.
    """
    for name, _ in objects:
        conn.exec_driver_sql(f'DROP {kind} "{name}"')

    def restore() -> None:
        if before_restoring is not None:
            before_restoring()
        for _, sql in objects:
            conn.exec_driver_sql(sql)

    try:
        yield
    except BaseException:
        with suppress(Exception):
            restore()
        raise
    restore()


def bulk_insert(conn: Connection, table: Table, rows: Sequence[Mapping[str, object]]) -> None:
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
    getter = itemgetter(*names)
    insert_rows(conn, table, names, [getter(row) for row in rows] if len(names) > 1 else
                [(row[names[0]],) for row in rows])


def insert_rows(conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Insert rows given as tuples of the columns `names`, in order; bulk_insert without the mappings."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])
        return
    times = [i for i, n in enumerate(names) if isinstance(table.c[n].type, DateTime)]
    if times:
        columns = [list(column) for column in zip(*rows, strict=True)]
        for i in times:
            columns[i] = _sqlite_times(columns[i])
        rows = list(zip(*columns, strict=True))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    conn.exec_driver_sql(sql, rows)


def _sqlite_times(values: list[object]) -> list[object]:
    """Datetimes as SQLAlchemy's SQLite DateTime writes them, always with microseconds.

    Otherwise string comparisons of times in queries would disagree at whole seconds. A bulk write
    repeats a few times (an import, one `now`): each is formatted once.
    """
    formatted: dict[object, object] = {None: None}
    for value in set(values).difference(formatted):
        formatted[value] = value.strftime("%Y-%m-%d %H:%M:%S.%f")  # type: ignore[attr-defined]
    return [formatted[value] for value in values]


def chunks(values: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    """`values` in slices of `size`, for IN lists that must stay under SQLite's parameter limit."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


# SQLite's integers, and so ids, are 64-bit.
MAX_ID = 2**63 - 1


@cache
def _by_id() -> Select:
    """resolve_item's statement for an id, built once (every item page and action asks it)."""
    item_t = __getattr__("item_t")
    return select(item_t.c.id).where(item_t.c.id == bindparam("id"))


def resolve_item(conn: Connection, ref: str) -> int:
    """The id of the item named by numeric id, URL or arXiv id; NotFound otherwise."""
    from tracker import urls

    item_t = __getattr__("item_t")
    ref = ref.strip()
    if ref.isascii() and ref.isdigit():
        if int(ref) > MAX_ID:
            raise UsageError(f"no item has the id {ref}: ids go up to {MAX_ID}")
        found = conn.execute(_by_id(), {"id": int(ref)}).scalar()
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


def item_topics(conn: Connection, item_ids: list[int] | Select | None = None) -> dict[int, list[str]]:
    """Effective topic slugs per item (the given ids, or those a query selects): every tag but removed ones."""
    if isinstance(item_ids, list):
        rows = conn.execute(_topics_of_ids(), {"ids": item_ids}).all()
    else:
        from tracker.store.tables import tag_t  # a read: the reports call this without the table models

        query = select(tag_t.c.item_id, tag_t.c.slug).where(tag_t.c.origin != "untag")
        if item_ids is not None:
            query = query.where(tag_t.c.item_id.in_(item_ids))
        rows = conn.execute(query.order_by(tag_t.c.item_id, tag_t.c.score.desc(), tag_t.c.slug)).all()
    out: dict[int, list[str]] = {}
    for item_id, slug in rows:
        out.setdefault(item_id, []).append(slug)
    return out


@cache
def _topics_of_ids() -> Select:
    """item_topics' statement for a list of ids, built once (every page of a listing asks it).

    The ids go as one expanding parameter, not a literal list: SQLAlchemy would check each id as an
    element of the statement, which cost as much as the query for a page of a hundred items.
    """
    from tracker.store.tables import tag_t

    return (select(tag_t.c.item_id, tag_t.c.slug)
            .where(tag_t.c.origin != "untag", tag_t.c.item_id.in_(bindparam("ids", expanding=True)))
            .order_by(tag_t.c.item_id, tag_t.c.score.desc(), tag_t.c.slug))
