"""Search and offline reading: `tracker search`, `tracker read`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from tracker.cli.app import JsonOpt, app, read_tx, run, user_errors
from tracker.cli.output import console, emit_json, plain
from tracker.errors import UsageError

if TYPE_CHECKING:
    from rich.text import Text

    from tracker.search import Hit
    from tracker.store.db import Database


# Unknown options are words: `tracker search normalization -dropout` leaves out what holds "dropout".
@app.command("search", context_settings={"ignore_unknown_options": True},
             epilog="Example: tracker search normalization -dropout --in abstract")
def search_cmd(
    words: list[str] | None = typer.Argument(None, help='Words to find; "a phrase", -word to leave out, word* '
                                             "for a prefix.", metavar="QUERY"),
    topic: str | None = typer.Option(None, "--topic", help="Only items of this topic (slug)."),
    status: str | None = typer.Option(None, "--status", help="unread, reading, digested, skipped, inbox, dismissed"),
    kind: str | None = typer.Option(None, "--kind", help="paper, question, article, listing, repo, book, ..."),
    field: str | None = typer.Option(None, "--in", help="Only this field: title, notes, text or abstract."),
    limit: int = typer.Option(20, "--limit", help="At most N items."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Remake the search index from the database first."),
    as_json: bool = JsonOpt,
) -> None:
    """Find items by their titles, notes, page text, abstracts, authors and topic names, best first."""
    from tracker import search

    query = " ".join(words) if words else None
    with user_errors():
        if query is None and not rebuild:
            raise UsageError('give something to search for, e.g. `tracker search "batch normalization"`')

    def action(database: Database) -> tuple[int | None, list[Hit]]:
        rebuilt = search.rebuild(database) if rebuild else None
        if query is None:
            return rebuilt, []
        return rebuilt, search.search_database(database, query, topic=topic, status=status, kind=kind,
                                               field=field, limit=limit)

    rebuilt, hits = run(action)
    if as_json:
        emit_json({"rebuilt": rebuilt} if query is None else [hit.as_json() for hit in hits])
        return
    if rebuilt is not None:
        sys.stderr.write(f"search index rebuilt: {rebuilt} items\n")
    if query is None:
        return
    out = console()
    if not hits:
        out.print("no items found", highlight=False)
    for hit in hits:
        out.print(_row(hit), highlight=False)


def _row(hit: Hit) -> Text:
    """`#id  status  topics  title`, then the snippet indented, its matches in bold."""
    from rich.text import Text

    line = Text(f"#{hit.id}  {hit.status}  ")
    line.append(plain(", ".join(hit.topics) or "-"), style="cyan")
    line.append("  ")
    if hit.snippet == hit.title:  # the match is in the title: shown once, marked there
        return line + _marked(hit.snippet, hit.matches)
    line.append(plain(hit.title))
    if hit.snippet:
        line.append("\n    ")
        line.append_text(_marked(hit.snippet, hit.matches))
    return line


def _marked(snippet: str, matches: tuple[tuple[int, int], ...]) -> Text:
    """The snippet as text, never markup, its matches in bold."""
    from rich.text import Text

    out, at = Text(), 0
    for start, end in matches:
        out.append(plain(snippet[at:start]))
        out.append(plain(snippet[start:end]), style="bold")
        at = end
    out.append(plain(snippet[at:]))
    return out


@app.command("read", epilog="Example: tracker read 12 | less")
def read_cmd(item: str = typer.Argument(..., help="Id, URL or arXiv id."), as_json: bool = JsonOpt) -> None:
    """The page text kept from an item's last good crawl, for reading offline (through a pager on a terminal)."""
    from tracker.store import pagetext

    found = run(lambda database: read_tx(database, pagetext.reading, item))
    if as_json:
        emit_json(found.as_json())
        return
    lines = [plain(found.title), plain(found.url or "(no link)")]
    lines.append(f"fetched: {found.fetched_at}" if found.fetched_at else "fetched: never kept (crawl it first)")
    if found.notes:
        lines.append("notes:\n  " + plain(found.notes, lines=True).replace("\n", "\n  "))
    document = "\n".join(lines) + "\n\n" + (plain(found.text, lines=True) if found.text else "(no page text kept)") \
        + "\n"
    if sys.stdout.isatty():
        import pydoc

        pydoc.pager(document)
    else:
        sys.stdout.write(document)
