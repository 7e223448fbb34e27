"""`tracker papers ...`: fetch new arXiv papers, rank the inbox, accept, dismiss, show."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from tracker.cli.app import JsonOpt, check_limit_and_topic, papers_app, read_tx, run, write_tx
from tracker.cli.output import emit_json, plain, say

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from tracker.papers.inbox import Ranked


@papers_app.command("fetch", epilog="Example: tracker papers fetch --topic gan --days 7")
def papers_fetch_cmd(
    topic: str | None = typer.Option(None, "--topic", help="Only this topic's query and feed matches."),
    days: int | None = typer.Option(None, "--days", help="Look back N days instead of since the last fetch."),
    max_results: int | None = typer.Option(None, "--max", help="At most N papers per query."),
    deadline: float | None = typer.Option(None, "--deadline", metavar="SECONDS",
                                          help="Stop the whole fetch after this long (default 600)."),
    as_json: bool = JsonOpt,
) -> None:
    """Fetch new arXiv papers for every topic into the inbox, resolve the outlines' arXiv links, and check
    stored papers for new versions."""
    from tracker.sync import fetch_papers, papers_line

    lines = None if as_json or not sys.stderr.isatty() else say
    summary = run(lambda database: fetch_papers(database, topic, days, max_results, lines, deadline))
    if as_json:
        emit_json(summary.as_json())
        return
    print(plain(papers_line(summary)))
    for slug, n in summary.topics.items():
        print(f"  {plain(slug)}: {n}")


@papers_app.command("inbox", epilog="Example: tracker papers inbox --topic gnn --limit 20")
def papers_inbox_cmd(
    topic: str | None = typer.Option(None, "--topic", help="Only this topic."),
    limit: int | None = typer.Option(None, "--limit", help="At most N papers."),
    as_json: bool = JsonOpt,
) -> None:
    """Papers waiting in the inbox, best fit with what you study first, each with its reason."""
    from tracker.papers.inbox import ranked_inbox

    def action(conn: Connection) -> list[Ranked]:
        check_limit_and_topic(conn, limit, topic)
        return ranked_inbox(conn, topic=topic, limit=limit)

    rows = run(lambda database: read_tx(database, action))
    if as_json:
        emit_json([r.as_json() for r in rows])
        return
    if not rows:
        print("the inbox is empty")
    for r in rows:
        print(f"#{r.id:<6} {r.score:.3f}  {plain(r.arxiv_id)}  {plain(r.title)}\n        {plain(r.reason)}")


def _move_papers(refs: list[str], to: str, as_json: bool) -> None:
    from tracker.papers.store import move
    from tracker.store import db

    result = run(lambda database: write_tx(database, move, refs, to, db.utcnow()))
    if as_json:
        emit_json({"changed": result.changed, "unchanged": result.unchanged})
    else:
        print(f"{result.changed} changed, {result.unchanged} unchanged")


@papers_app.command("accept", epilog="Example: tracker papers accept 2401.00001 311")
def papers_accept_cmd(items_: list[str] = typer.Argument(..., metavar="ITEM..."), as_json: bool = JsonOpt) -> None:
    """Move papers from the inbox onto the reading list (as unread)."""
    _move_papers(items_, "unread", as_json)


@papers_app.command("dismiss", epilog="Example: tracker papers dismiss 312 313")
def papers_dismiss_cmd(items_: list[str] = typer.Argument(..., metavar="ITEM..."), as_json: bool = JsonOpt) -> None:
    """Dismiss papers: they leave the inbox and never come back."""
    _move_papers(items_, "dismissed", as_json)


@papers_app.command("show", epilog="Example: tracker papers show 1512.03385")
def papers_show_cmd(item: str = typer.Argument(..., help="Id, URL or arXiv id."), as_json: bool = JsonOpt) -> None:
    """A paper's metadata and abstract."""
    from tracker import items

    detail = run(lambda database: read_tx(database, items.show_item, item))
    if as_json:
        emit_json(detail.as_json())
        return
    view, paper = detail.item, detail.paper
    print(f"{plain(view.title)}\n#{view.id} · {view.status} · {plain(', '.join(view.topics)) or 'no topic'}")
    if paper is None:
        print("no arXiv metadata yet (run `tracker papers fetch`)")
        return
    print(plain(", ".join(paper["authors"])))
    print(plain(f"arXiv:{paper['arxiv_id']}v{paper['version']} [{paper['primary_category']}]  "
                f"published {paper['published']}, updated {paper['updated']}"))
    for name in ("journal_ref", "doi", "comment"):
        if paper[name]:
            print(f"{name}: {plain(paper[name])}")
    print(f"{plain(paper['abs_url'])}\n\n{plain(paper['abstract'], lines=True)}")
