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

from tracker.errors import Busy, TrackerError, UsageError

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
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a TrackerError into `error: ...` on stderr and its exit status."""
    try:
        yield
    except Busy as exc:
        fail(str(exc), code=1)
    except TrackerError as exc:
        fail(str(exc))


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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
