"""Reading-list commands: import, topics, list, show, mark, note, tag, untag, classify, export, info."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tracker.cli.app import JsonOpt, app, read_tx, run, state, user_errors, write_file, write_tx
from tracker.cli.output import console, emit_json, plain, rich_text
from tracker.errors import UsageError

if TYPE_CHECKING:
    from tracker.store.db import Database


@app.command("import", epilog="Example: tracker import seeds/deep-learning.md")
def import_cmd(
    paths: list[Path] = typer.Argument(None, help="Outline files (default: every outline in seeds/)."),
    retire: bool = typer.Option(False, "--retire", help="Retire removed entries even when they are more than "
                                "a quarter of an outline's items (otherwise such an import is refused)."),
    as_json: bool = JsonOpt,
) -> None:
    """Import outlines: add new entries, update edited ones, retire removed ones. Safe to repeat."""
    from tracker import config, ingest

    summary = run(lambda database: ingest.import_files(
        database, ingest.outline_paths(config.seeds_dir(), paths or []), retire=retire))
    if as_json:
        emit_json(summary.as_json())
    else:
        print(f"{summary.files} file(s), {summary.topics} topics: {summary.added} added, {summary.updated} updated, "
              f"{summary.unchanged} unchanged, {summary.retired} retired")


@app.command("topics", epilog="Example: tracker topics --json")
def topics_cmd(as_json: bool = JsonOpt) -> None:
    """The outline topics, in outline order."""
    from tracker import topics

    rows = run(lambda database: read_tx(database, topics.list_topics))
    if as_json:
        emit_json([{k: r[k] for k in ("slug", "title", "parent", "group")} for r in rows])
        return
    from rich.table import Table

    table = Table("slug", "title", "group", "query")
    for r in rows:
        table.add_row(rich_text(r["slug"]), rich_text(r["title"]), str(r["group"]), rich_text(r["query"] or ""))
    console().print(table)


@app.command("list", epilog="Example: tracker list --topic cnn --status unread --limit 5")
def list_cmd(
    status: str | None = typer.Option(None, "--status", help="unread, reading, digested, skipped, inbox, dismissed"),
    topic: str | None = typer.Option(None, "--topic", help="Topic slug."),
    kind: str | None = typer.Option(None, "--kind", help="paper, question, article, listing, repo, book, ..."),
    limit: int | None = typer.Option(None, "--limit", help="At most N items."),
    retired: bool = typer.Option(False, "--retired", help="Include items removed from their outline."),
    as_json: bool = JsonOpt,
) -> None:
    """List items in outline order."""
    from tracker import items

    rows = run(lambda database: read_tx(database, items.list_items, status=status, topic=topic, kind=kind,
                                      limit=limit, include_retired=retired))
    if as_json:
        emit_json([r.as_json() for r in rows])
        return
    from rich.table import Table

    table = Table("id", "status", "kind", "title", "topics", "fetch")
    for r in rows:
        table.add_row(str(r.id), r.status, r.kind, rich_text(r.title), rich_text(", ".join(r.topics)),
                      r.fetch.state if r.fetch else "")
    console().print(table)


@app.command("show", epilog="Example: tracker show 12")
def show_cmd(item: str = typer.Argument(..., help="Id, URL or arXiv id."), as_json: bool = JsonOpt) -> None:
    """One item: status, topics, notes, history, crawl and paper details."""
    from tracker import items

    detail = run(lambda database: read_tx(database, items.show_item, item))
    if as_json:
        emit_json(detail.as_json())
        return
    view = detail.item
    lines = []
    if view.url:
        lines.append(plain(view.url))
    if view.section:
        lines.append(f"section: {plain(view.section)}")
    lines.append(f"topics: {plain(', '.join(view.topics)) or '-'}")
    if view.fetch:
        lines.append(f"fetch: {view.fetch.state} {view.fetch.http_status or ''} {plain(view.fetch.title or '')} "
                     f"({view.fetch.checked_at})")
    if detail.wayback:
        lines.append(f"archived copy: {plain(detail.wayback)}")
    if detail.paper:
        lines.append(f"paper: {plain(', '.join(detail.paper['authors'][:5]))} — {detail.paper['published']}")
    if detail.notes:
        lines.append("notes:\n  " + plain(detail.notes, lines=True).replace("\n", "\n  "))
    for event in detail.history:
        lines.append(f"  {event['at']}  {event['status']}" + (f"  ({plain(event['note'])})" if event["note"] else ""))
    if detail.parent:
        lines.append(f"found on: #{detail.parent['id']} {plain(detail.parent['url'] or '')}")
    if detail.children:
        lines.append(f"links to {len(detail.children)} item(s):")
        lines.extend(f"  #{c['id']} {plain(c['title'])}  {plain(c['url'] or '')}" for c in detail.children)
    heading = rich_text(view.title, style="bold")
    arxiv_title = detail.paper["title"] if detail.paper else None
    if detail.paper and arxiv_title and " ".join(arxiv_title.split()) != " ".join(view.title.split()):
        # The outline's words for a paper, with arXiv's own title beside them.
        heading += "  — arXiv: " + plain(arxiv_title) + f" (v{detail.paper['version']})"
    out = console()
    out.print(heading + f"  (#{view.id}, {view.kind}, {view.status})", highlight=False)
    for line in "\n".join(lines).split("\n"):  # the console prints each string as one line
        out.print(line, highlight=False)


@app.command("mark", epilog="Example: tracker mark 12 13 digested --at 2026-11-20 --note \"BN, §3\"")
def mark_cmd(
    args: list[str] = typer.Argument(..., metavar="ITEM... STATUS", help="Items, then a status."),
    at: str | None = typer.Option(None, "--at", help="When: ISO date or date-time, local time (default now)."),
    note: str | None = typer.Option(None, "--note", help="A note kept with the change."),
    as_json: bool = JsonOpt,
) -> None:
    """Change the status of items; every change is kept in their history."""
    from tracker import items, timeutil
    from tracker.store import db

    with user_errors():
        if len(args) < 2:
            raise UsageError("give at least one item and a status, e.g. `tracker mark 12 digested`")
        status = items.check_status(args[-1])
        when = timeutil.parse_when(at) if at is not None else db.utcnow()
    result = run(lambda database: write_tx(database, items.mark, args[:-1], status, when, note))
    if as_json:
        emit_json({"changed": result.changed, "unchanged": result.unchanged})
    else:
        print(f"{result.changed} changed, {result.unchanged} unchanged")


@app.command("note", epilog="Example: tracker note 12 \"reread section 3\"")
def note_cmd(item: str = typer.Argument(...), text: str = typer.Argument(...), as_json: bool = JsonOpt) -> None:
    """Add a line to an item's notes."""
    from tracker import items

    item_id = run(lambda database: write_tx(database, items.add_note, item, text))
    if as_json:
        emit_json({"id": item_id})
    else:
        print(f"noted on #{item_id}")


@app.command("tag", epilog="Example: tracker tag 12 optimization")
def tag_cmd(item: str = typer.Argument(...), slug: str = typer.Argument(...), as_json: bool = JsonOpt) -> None:
    """Tag an item with a topic by hand (wins over automatic tags, survives re-import)."""
    from tracker import items

    item_id = run(lambda database: write_tx(database, items.tag, item, slug))
    emit_json({"id": item_id, "tagged": slug}) if as_json else print(f"#{item_id} tagged {slug}")


@app.command("untag", epilog="Example: tracker untag 12 cnn")
def untag_cmd(item: str = typer.Argument(...), slug: str = typer.Argument(...), as_json: bool = JsonOpt) -> None:
    """Remove a topic from an item by hand (stays removed across re-imports)."""
    from tracker import items

    item_id = run(lambda database: write_tx(database, items.untag, item, slug))
    emit_json({"id": item_id, "untagged": slug}) if as_json else print(f"#{item_id} untagged {slug}")


@app.command("classify", epilog="Example: tracker classify \"Graph Convolutional Networks for text\"")
def classify_cmd(
    text: list[str] = typer.Argument(..., help="A title or any text."),
    limit: int | None = typer.Option(None, "--limit", help="At most N topics."),
    as_json: bool = JsonOpt,
) -> None:
    """Which outline topics a title belongs to, best first."""
    from tracker import config, topics

    guesses = run(lambda database: topics.classify(
        read_tx(database, topics.topic_defs) or topics.seed_topic_defs(config.seeds_dir()), " ".join(text),
        limit=limit))
    if as_json:
        emit_json([{"slug": g.slug, "title": g.title, "score": g.score} for g in guesses])
    elif not guesses:
        print("no topic fits")
    else:
        for g in guesses:
            print(f"{g.score:.3f}  {plain(g.slug)}  {plain(g.title)}")


@app.command("export", epilog="Example: tracker export --format markdown --out journal/outline.md")
def export_cmd(
    fmt: str = typer.Option("json", "--format", help="json, csv, markdown or bibtex."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file instead of stdout."),
    with_text: bool = typer.Option(False, "--with-text", help="With --format json: each item's kept page text."),
) -> None:
    """Export the reading list (Markdown imports back with its [x] statuses)."""
    from tracker import export

    def action(database: Database) -> str:
        if with_text:
            return read_tx(database, export.export_json, with_text=True)
        return read_tx(database, export.exporter(fmt))

    with user_errors():
        export.exporter(fmt)  # reject an unknown format before opening anything
        if with_text and export.exporter(fmt) is not export.export_json:
            raise UsageError("--with-text goes with --format json")
    text = run(action)
    if out is None:  # data for a pipe as it is; on a terminal, by the rule for people
        sys.stdout.write(plain(text, lines=True) if sys.stdout.isatty() else text)
        return
    with user_errors():
        write_file(out, text)


@app.command("info", epilog="Example: tracker info")
def info_cmd(as_json: bool = JsonOpt) -> None:
    """Which database, seeds and endpoints are in use."""
    from tracker import config
    from tracker.store.db import redact_url

    endpoints = config.endpoints()
    info = {
        "database": redact_url(config.database_url(state.db_url)),
        "workspace": str(config.find_workspace() or ""),
        "seeds": str(config.seeds_dir() or ""),
        "arxiv_api": endpoints.arxiv_api,
        "arxiv_rss": endpoints.arxiv_rss,
        "github_api": endpoints.github_api,
        "arxiv_delay": endpoints.arxiv_delay,
    }
    if as_json:
        emit_json(info)
    else:
        for key, value in info.items():
            print(f"{key:11} {plain(value)}")
