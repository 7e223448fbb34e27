"""The typer application and what every command module shares: options, errors, the database.

Command modules (`tracker.cli.items`, `crawl`, `papers`, `reports`, `sync` ...) register their
commands on `app` or its groups; `tracker.cli` imports them all. Each command parses its options,
calls one core function and prints; no SQL, HTML or HTTP here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from tracker.errors import Busy, TrackerError, Unavailable, UsageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from tracker.store.db import Database

app = typer.Typer(
    help="Track a curated reading list: import outlines, crawl links, fetch arXiv papers, report progress.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
report_app = typer.Typer(help="Study reports.")
app.add_typer(report_app, name="report")
papers_app = typer.Typer(help="New arXiv papers for the outline's topics: fetch, rank, accept or dismiss.",
                         no_args_is_help=True)
app.add_typer(papers_app, name="papers")

T = TypeVar("T")


class State:
    """Options given before the command."""

    db_url: str | None = None


state = State()

JsonOpt = typer.Option(False, "--json", help="Print one JSON document and nothing else.")


@app.callback()
def _global(
    db: str | None = typer.Option(None, "--db", help="Database file or SQLAlchemy URL (env TRACKER_DB)."),
) -> None:
    """Global options."""
    state.db_url = db


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error and exit."""
    from tracker.cli.output import plain

    sys.stderr.write(f"error: {plain(message)}\n")
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a TrackerError, or a database failure that is the world's (disk full, read-only, locked,
    server silent), into `error: ...` on stderr and its exit status: 1 where trying again later may
    be all it takes, else 2."""
    try:
        yield
    except (Busy, Unavailable) as exc:
        fail(str(exc), code=1)
    except TrackerError as exc:
        fail(str(exc))
    except Exception as exc:
        known = _world_error(exc)
        if known is None:
            raise
        fail(str(known), code=1 if isinstance(known, Unavailable) else 2)


def _world_error(exc: Exception) -> TrackerError | None:
    """The database layer's one-line error for `exc`, or None where it is a bug."""
    if "sqlalchemy" not in sys.modules and "sqlite3" not in sys.modules:
        return None  # no database was touched
    from tracker import config
    from tracker.store.db import explain

    return explain(exc, config.database_url(state.db_url))


def open_database() -> Database:
    """Open the database chosen by --db, TRACKER_DB or the workspace."""
    from tracker import config
    from tracker.store import db

    return db.open_db(config.database_url(state.db_url))


def run(action: Callable[[Database], T]) -> T:
    """Open the database, run `action` with it, and close it, turning user errors into messages."""
    with user_errors():
        database = open_database()
        try:
            return action(database)
        finally:
            database.close()
    raise AssertionError("unreachable")  # user_errors always exits on error


def read_tx(database: Database, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run `fn(conn, ...)` in a read transaction."""
    with database.read() as conn:
        return fn(conn, *args, **kwargs)


def write_tx(database: Database, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run `fn(conn, ...)` in one write transaction."""
    with database.write() as conn:
        return fn(conn, *args, **kwargs)


def check_limit_and_topic(conn: Connection, limit: int | None, topic: str | None) -> None:
    """The shared checks of `--limit` and `--topic` for commands that list suggestions."""
    from tracker.topics import check_topic

    if limit is not None and limit < 1:
        raise UsageError("--limit must be 1 or more")
    if topic is not None:
        check_topic(conn, topic)


def write_file(path: Path, text: str) -> None:
    """Write an export or report the user asked for: whole, or the old file left as it was."""
    from tracker.files import write_atomic

    write_atomic(path, text)
