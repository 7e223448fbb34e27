"""The `tracker` command line: parse options, call one core function, print.

No SQL, HTML or HTTP here. Heavy libraries (httpx, bs4, arxiv, sklearn, rich) are
imported inside the commands that need them, so `tracker progress` starts fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer

from tracker.errors import Busy, TrackerError

app = typer.Typer(
    help="Track a curated reading list: import outlines, crawl links, fetch arXiv papers, report progress.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
papers_app = typer.Typer(help="New arXiv papers for the outline's topics: fetch, inbox, accept, dismiss.")
report_app = typer.Typer(help="Study reports.")
app.add_typer(papers_app, name="papers")
app.add_typer(report_app, name="report")

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


def open_database() -> Any:
    """Open the database chosen by --db, TRACKER_DB or the workspace."""
    from tracker import config, db

    return db.open_db(config.database_url(state.db_url))


def run(action: Callable[[Any], T]) -> T:
    """Open the database, run `action` with it, and close it, turning user errors into messages."""
    with user_errors():
        database = open_database()
        try:
            return action(database)
        finally:
            database.close()
    raise AssertionError("unreachable")  # user_errors always exits on error


def emit_json(value: Any) -> None:
    """Write exactly one JSON document to stdout."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")


def console() -> Any:
    """A rich console for human output (imported only when a person is reading)."""
    from rich.console import Console

    return Console()


# --- foundation commands -------------------------------------------------------------

# --- crawl -----------------------------------------------------------------------------

# --- papers ----------------------------------------------------------------------------

# --- reports, next, sync -----------------------------------------------------------------


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
