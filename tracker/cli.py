"""The `tracker` command line: parse options, call one core function, print.

No SQL, HTML or HTTP here. Heavy libraries (httpx, bs4, arxiv, sklearn, rich) are
imported inside the commands that need them, so `tracker progress` starts fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer

from tracker.errors import Busy, TrackerError, UsageError

app = typer.Typer(
    help="Track a curated reading list: import outlines, crawl links, fetch arXiv papers, report progress.",
    no_args_is_help=True,
    add_completion=False,
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


def open_database() -> Any:
    """Open the database chosen by --db, TRACKER_DB or the workspace."""
    from tracker import config
    from tracker.store import db

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

@app.command("import")
def import_cmd(
    paths: list[Path] = typer.Argument(None, help="Outline files (default: every outline in seeds/)."),
    as_json: bool = JsonOpt,
) -> None:
    """Import outlines: add new entries, update edited ones, retire removed ones. Safe to repeat."""
    from tracker import config, ingest

    def action(database: Any) -> Any:
        files = ingest.outline_paths(config.seeds_dir(), paths or [])
        return ingest.import_files(database, files)

    summary = run(action)
    if as_json:
        emit_json(summary.as_json())
    else:
        print(f"{summary.files} file(s), {summary.topics} topics: {summary.added} added, {summary.updated} updated, "
              f"{summary.unchanged} unchanged, {summary.retired} retired")


@app.command("topics")
def topics_cmd(as_json: bool = JsonOpt) -> None:
    """The outline topics, in outline order."""
    from tracker import topics

    rows = run(lambda database: _read(database, topics.list_topics))
    if as_json:
        emit_json([{k: r[k] for k in ("slug", "title", "parent", "group")} for r in rows])
        return
    from rich.table import Table

    table = Table("slug", "title", "group", "query")
    for r in rows:
        table.add_row(str(r["slug"]), str(r["title"]), str(r["group"]), str(r["query"] or ""))
    console().print(table)


def _read(database: Any, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with database.read() as conn:
        return fn(conn, *args, **kwargs)


def _write(database: Any, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with database.write() as conn:
        return fn(conn, *args, **kwargs)


@app.command("list")
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

    rows = run(lambda database: _read(database, items.list_items, status=status, topic=topic, kind=kind,
                                      limit=limit, include_retired=retired))
    if as_json:
        emit_json([r.as_json() for r in rows])
        return
    from rich.table import Table

    table = Table("id", "status", "kind", "title", "topics", "fetch")
    for r in rows:
        table.add_row(str(r.id), r.status, r.kind, r.title, ", ".join(r.topics), r.fetch.state if r.fetch else "")
    console().print(table)


@app.command("show")
def show_cmd(item: str = typer.Argument(..., help="Id, URL or arXiv id."), as_json: bool = JsonOpt) -> None:
    """One item: status, topics, notes, history, crawl and paper details."""
    from tracker import items

    detail = run(lambda database: _read(database, items.show_item, item))
    if as_json:
        emit_json(detail.as_json())
        return
    view = detail.item
    lines = [f"[bold]{view.title}[/bold]  (#{view.id}, {view.kind}, {view.status})"]
    if view.url:
        lines.append(view.url)
    if view.section:
        lines.append(f"section: {view.section}")
    lines.append(f"topics: {', '.join(view.topics) or '-'}")
    if view.fetch:
        lines.append(f"fetch: {view.fetch.state} {view.fetch.http_status or ''} {view.fetch.title or ''} "
                     f"({view.fetch.checked_at})")
    if detail.wayback:
        lines.append(f"archived copy: {detail.wayback}")
    if detail.paper:
        lines.append(f"paper: {', '.join(detail.paper['authors'][:5])} — {detail.paper['published']}")
    if detail.notes:
        lines.append("notes:\n  " + detail.notes.replace("\n", "\n  "))
    for event in detail.history:
        lines.append(f"  {event['at']}  {event['status']}" + (f"  ({event['note']})" if event["note"] else ""))
    from rich.markup import escape

    out = console()
    for i, line in enumerate(lines):
        out.print(line if i == 0 else escape(line), highlight=False)


@app.command("mark")
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
        when = timeutil.parse_when(at) if at else db.utcnow()
    result = run(lambda database: _write(database, items.mark, args[:-1], status, when, note))
    if as_json:
        emit_json({"changed": result.changed, "unchanged": result.unchanged})
    else:
        print(f"{result.changed} changed, {result.unchanged} unchanged")


@app.command("note")
def note_cmd(item: str = typer.Argument(...), text: str = typer.Argument(...), as_json: bool = JsonOpt) -> None:
    """Add a line to an item's notes."""
    from tracker import items

    item_id = run(lambda database: _write(database, items.add_note, item, text))
    if as_json:
        emit_json({"id": item_id})
    else:
        print(f"noted on #{item_id}")


@app.command("tag")
def tag_cmd(item: str = typer.Argument(...), slug: str = typer.Argument(...), as_json: bool = JsonOpt) -> None:
    """Tag an item with a topic by hand (wins over automatic tags, survives re-import)."""
    from tracker import items

    item_id = run(lambda database: _write(database, items.tag, item, slug))
    emit_json({"id": item_id, "tagged": slug}) if as_json else print(f"#{item_id} tagged {slug}")


@app.command("untag")
def untag_cmd(item: str = typer.Argument(...), slug: str = typer.Argument(...), as_json: bool = JsonOpt) -> None:
    """Remove a topic from an item by hand (stays removed across re-imports)."""
    from tracker import items

    item_id = run(lambda database: _write(database, items.untag, item, slug))
    emit_json({"id": item_id, "untagged": slug}) if as_json else print(f"#{item_id} untagged {slug}")


@app.command("classify")
def classify_cmd(
    text: list[str] = typer.Argument(..., help="A title or any text."),
    limit: int | None = typer.Option(None, "--limit", help="At most N topics."),
    as_json: bool = JsonOpt,
) -> None:
    """Which outline topics a title belongs to, best first."""
    from tracker import config, topics

    def action(database: Any) -> Any:
        defs = _read(database, topics.topic_defs) or topics.seed_topic_defs(config.seeds_dir())
        return topics.classify(defs, " ".join(text), limit=limit)

    guesses = run(action)
    if as_json:
        emit_json([{"slug": g.slug, "title": g.title, "score": g.score} for g in guesses])
    elif not guesses:
        print("no topic fits")
    else:
        for g in guesses:
            print(f"{g.score:.3f}  {g.slug}  {g.title}")


@app.command("export")
def export_cmd(
    fmt: str = typer.Option("json", "--format", help="json, csv, markdown or bibtex."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file instead of stdout."),
) -> None:
    """Export the reading list (Markdown imports back with its [x] statuses)."""
    from tracker import export

    def action(database: Any) -> str:
        return _read(database, export.exporter(fmt))

    with user_errors():
        export.exporter(fmt)  # reject an unknown format before opening anything
    text = run(action)
    if out is None:
        sys.stdout.write(text)
        return
    with user_errors():
        _write_file(out, text)


def _write_file(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


@app.command("info")
def info_cmd(as_json: bool = JsonOpt) -> None:
    """Which database, seeds and endpoints are in use."""
    from tracker import config

    endpoints = config.endpoints()
    info = {
        "database": config.database_url(state.db_url),
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
            print(f"{key:11} {value}")

def _check_limit_and_topic(conn: Any, limit: int | None, topic: str | None) -> None:
    """The shared checks of `--limit` and `--topic` for commands that list suggestions."""
    from tracker.topics import check_topic

    if limit is not None and limit < 1:
        raise UsageError("--limit must be 1 or more")
    if topic is not None:
        check_topic(conn, topic)


# --- crawl -------------------------------------------------------------------------------


def crawl_settings(concurrency: int = 8, per_host: int = 1, delay: float = 1.0, timeout: float = 20.0,
                   max_bytes: int = 5_000_000) -> Any:
    """Crawl limits from the options, rejecting values that make no sense."""
    from tracker.crawl.fetcher import Settings

    if concurrency < 1 or per_host < 1:
        raise UsageError("--concurrency and --per-host must be 1 or more")
    if delay < 0 or timeout <= 0 or max_bytes < 1:
        raise UsageError("--delay must be 0 or more, --timeout and --max-bytes more than 0")
    return Settings(concurrency=concurrency, per_host=per_host, delay=delay, timeout=timeout, max_bytes=max_bytes)


@app.command("crawl")
def crawl_cmd(
    concurrency: int = typer.Option(8, "--concurrency", help="Requests in flight at once, all hosts together."),
    per_host: int = typer.Option(1, "--per-host", help="Requests in flight to one host."),
    delay: float = typer.Option(1.0, "--delay", help="Seconds between two requests to one host."),
    timeout: float = typer.Option(20.0, "--timeout", help="Seconds one request may take, all of it."),
    max_bytes: int = typer.Option(5_000_000, "--max-bytes", help="Largest page body read (after decompression)."),
    force: bool = typer.Option(False, "--force", help="Fetch every item again, fresh or not."),
    as_json: bool = JsonOpt,
) -> None:
    """Fetch the curated links: each site's metadata, every failure recorded, politely."""
    from tracker.crawl.run import crawl

    with user_errors():
        settings = crawl_settings(concurrency, per_host, delay, timeout, max_bytes)
    if as_json or not sys.stdout.isatty():
        summary = run(lambda database: crawl(database, settings, force=force))
    else:
        with crawl_progress() as report:
            summary = run(lambda database: crawl(database, settings, force=force, progress=report))
    if as_json:
        emit_json(summary.as_json())
    else:
        print(", ".join(f"{n} {name}" for name, n in summary.as_json().items()))


@contextmanager
def crawl_progress(screen: Any = None, every: float = 0.1) -> Iterator[Callable[[int, int], None]]:
    """A progress bar for the crawl on `screen` (a rich console; None: the terminal), redrawn as
    results arrive, at most every `every` seconds.

    Drawn from the crawl's own thread, not by rich's refresh thread: the crawl forks its workers
    only from a process with no other thread running (see `tracker.crawl.workers.start_method`).
    """
    import time

    from rich.progress import Progress

    with Progress(transient=True, auto_refresh=False, console=screen) as bar:
        task = bar.add_task("crawling", total=None)
        drawn = [0.0]

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            now = time.monotonic()
            if now - drawn[0] >= every or done == total:
                drawn[0] = now
                bar.refresh()

        yield report


# --- papers ------------------------------------------------------------------------------


def _say(message: str) -> None:
    """Progress lines for a person watching: on stderr, so stdout stays clean for pipes."""
    sys.stderr.write(message + "\n")


def fetch_papers_step(database: Any, topic: str | None = None, days: int | None = None,
                      max_results: int | None = None, progress: Callable[[str], None] | None = None) -> Any:
    """Run a paper fetch over the stored topics (shared by `papers fetch` and `sync`)."""
    from tracker import topics
    from tracker.papers.fetch import fetch_papers

    defs = _read(database, topics.topic_defs)
    return fetch_papers(database, defs, topic=topic, days=days, max_results=max_results, progress=progress)


@papers_app.command("fetch")
def papers_fetch_cmd(
    topic: str | None = typer.Option(None, "--topic", help="Only this topic's query and feed matches."),
    days: int | None = typer.Option(None, "--days", help="Look back N days instead of since the last fetch."),
    max_results: int | None = typer.Option(None, "--max", help="At most N papers per query."),
    as_json: bool = JsonOpt,
) -> None:
    """Fetch new arXiv papers for every topic into the inbox, and resolve the outlines' arXiv links."""
    say = None if as_json or not sys.stderr.isatty() else _say
    summary = run(lambda database: fetch_papers_step(database, topic, days, max_results, say))
    if as_json:
        emit_json(summary.as_json())
        return
    print(f"{summary.queries} queries, {summary.fetched} fetched: {summary.new} new, {summary.updated} updated, "
          f"{summary.resolved} outline links resolved")
    for slug, n in summary.topics.items():
        print(f"  {slug}: {n}")
    for error in summary.errors:
        print(f"  failed: {error}")


@papers_app.command("inbox")
def papers_inbox_cmd(
    topic: str | None = typer.Option(None, "--topic", help="Only this topic."),
    limit: int | None = typer.Option(None, "--limit", help="At most N papers."),
    as_json: bool = JsonOpt,
) -> None:
    """Papers waiting in the inbox, best fit with what you study first, each with its reason."""
    from tracker.papers.inbox import ranked_inbox

    def action(conn: Any) -> Any:
        _check_limit_and_topic(conn, limit, topic)
        return ranked_inbox(conn, topic=topic, limit=limit)

    rows = run(lambda database: _read(database, action))
    if as_json:
        emit_json([r.as_json() for r in rows])
        return
    if not rows:
        print("the inbox is empty")
    for r in rows:
        print(f"#{r.id:<6} {r.score:.3f}  {r.arxiv_id}  {r.title}\n        {r.reason}")


def _move_papers(refs: list[str], to: str, as_json: bool) -> None:
    from tracker.papers.store import move
    from tracker.store import db

    result = run(lambda database: _write(database, move, refs, to, db.utcnow()))
    if as_json:
        emit_json({"changed": result.changed, "unchanged": result.unchanged})
    else:
        print(f"{result.changed} changed, {result.unchanged} unchanged")


@papers_app.command("accept")
def papers_accept_cmd(items_: list[str] = typer.Argument(..., metavar="ITEM..."), as_json: bool = JsonOpt) -> None:
    """Move papers from the inbox onto the reading list (as unread)."""
    _move_papers(items_, "unread", as_json)


@papers_app.command("dismiss")
def papers_dismiss_cmd(items_: list[str] = typer.Argument(..., metavar="ITEM..."), as_json: bool = JsonOpt) -> None:
    """Dismiss papers: they leave the inbox and never come back."""
    _move_papers(items_, "dismissed", as_json)


@papers_app.command("show")
def papers_show_cmd(item: str = typer.Argument(..., help="Id, URL or arXiv id."), as_json: bool = JsonOpt) -> None:
    """A paper's metadata and abstract."""
    from tracker import items

    detail = run(lambda database: _read(database, items.show_item, item))
    if as_json:
        emit_json(detail.as_json())
        return
    view, paper = detail.item, detail.paper
    print(f"{view.title}\n#{view.id} · {view.status} · {', '.join(view.topics) or 'no topic'}")
    if paper is None:
        print("no arXiv metadata yet (run `tracker papers fetch`)")
        return
    print(", ".join(paper["authors"]))
    print(f"arXiv:{paper['arxiv_id']}v{paper['version']} [{paper['primary_category']}]  "
          f"published {paper['published']}, updated {paper['updated']}")
    for name in ("journal_ref", "doi", "comment"):
        if paper[name]:
            print(f"{name}: {paper[name]}")
    print(f"{paper['abs_url']}\n\n{paper['abstract']}")


# --- reports, next, sync -----------------------------------------------------------------


@report_app.command("weekly")
def report_weekly_cmd(
    week: str | None = typer.Option(None, "--week", help="ISO week, e.g. 2026-W47 (default: this week)."),
    fmt: str = typer.Option("md", "--format", help="md, html or json."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file (e.g. reports/2026-W47.md)."),
    as_json: bool = JsonOpt,
) -> None:
    """The week's report: digested, started, per-topic change, streak, new papers."""
    from tracker.report import weekly, weeks

    fmt = "json" if as_json else fmt
    with user_errors():
        if fmt not in ("md", "html", "json"):
            raise UsageError(f"unknown report format {fmt!r}: use md, html or json")
        if week is not None:
            weeks.parse_week(week)
    report = run(lambda database: _read(database, weekly.weekly_report, week))
    if fmt == "html":
        from tracker.report.html import render_html

        text = render_html(report)
    elif fmt == "json":
        text = json.dumps(report.as_json(), ensure_ascii=False) + "\n"
    else:
        text = weekly.render_markdown(report)
    if out is None:
        sys.stdout.write(text)
        return
    with user_errors():
        _write_file(out, text)
    if not as_json:
        print(out)


@app.command("goal")
def goal_cmd(
    slug: str | None = typer.Argument(None, help="Topic slug (omit to list goals)."),
    per_week: int | None = typer.Argument(None, help="Items to digest per week; 0 removes the goal."),
    as_json: bool = JsonOpt,
) -> None:
    """Set a weekly goal for a topic (`tracker goal cnn 3`), or list the goals."""
    from tracker.report import goals

    def action(conn: Any) -> Any:
        if slug is not None:
            goals.set_goal(conn, slug, per_week)
        return goals.list_goals(conn)

    rows = run(lambda database: _write(database, action))
    if as_json:
        emit_json(rows)
    else:
        for row in rows:
            print(f"{row['slug']}: {row['per_week']} per week")


@app.command("next")
def next_cmd(
    limit: int = typer.Option(10, "--limit", help="At most N suggestions."),
    topic: str | None = typer.Option(None, "--topic", help="Only this topic."),
    as_json: bool = JsonOpt,
) -> None:
    """What to read next: what you are reading, then the curriculum's next topic."""
    from tracker.report.next import suggest_next

    def action(conn: Any) -> Any:
        _check_limit_and_topic(conn, limit, topic)
        return suggest_next(conn, limit=limit, topic=topic)

    suggestions = run(lambda database: _read(database, action))
    if as_json:
        emit_json([s.as_json() for s in suggestions])
        return
    if not suggestions:
        print("nothing left to read: well done")
    for s in suggestions:
        print(f"#{s.id:<5} {s.title}\n       {s.reason}")


@app.command("sync")
def sync_cmd(as_json: bool = JsonOpt) -> None:
    """The main job: import the seeds, crawl what is due, fetch new papers, then print progress."""
    from tracker import config, ingest, lock
    from tracker.report.progress import compute_progress, render_progress
    from tracker.sync import run_steps

    url = config.database_url(state.db_url)

    def action(database: Any) -> Any:
        def import_step() -> dict[str, Any]:
            seeds = config.seeds_dir()
            paths = ingest.outline_paths(seeds, []) if seeds else []
            return ingest.import_files(database, paths).as_json()

        def crawl_step() -> dict[str, Any]:
            from tracker.crawl.run import crawl

            return crawl(database, crawl_settings()).as_json()

        def papers_step() -> dict[str, Any]:
            return dict(fetch_papers_step(database).as_json())

        def weeks_step() -> dict[str, Any]:
            # Weeks that ended since the last sync get their checkpoint, so old weeks report fast.
            from tracker.report.checkpoints import close_weeks

            with database.write() as conn:
                return {"closed": close_weeks(conn)}

        summary = run_steps([("import", import_step), ("crawl", crawl_step), ("papers", papers_step),
                             ("weeks", weeks_step)])
        return summary, _read(database, compute_progress)

    with user_errors(), lock.exclusive(lock.lock_path_for(url, config.user_data_dir())):
        summary, progress = run(action)
    if as_json:
        emit_json({**summary.as_json(), "progress": progress.as_json()})
    else:
        for name, step in summary.steps.items():
            print(f"{name}: {summary.failed.get(name) or json.dumps(step, ensure_ascii=False)}")
        console().print(render_progress(progress))
    if not summary.completed:
        raise typer.Exit(1)


@app.command("progress")
def progress_cmd(as_json: bool = JsonOpt) -> None:
    """Progress per outline topic, grouped as the outline groups them, with overall totals."""
    from tracker.report.progress import compute_progress, render_progress

    progress = run(lambda database: _read(database, compute_progress))
    if as_json:
        emit_json(progress.as_json())
    else:
        console().print(render_progress(progress))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: typer's own usage errors become one `error:` line too."""
    import gc

    try:
        _run_app(argv)
    finally:
        # The interpreter's last garbage collection walks every object the command loaded, only to
        # free memory the system takes back anyway: 0.2-0.3 s after a crawl on the project's VM.
        # Frozen objects are left out of it (files and the database are closed by then).
        gc.freeze()


def _run_app(argv: list[str] | None) -> None:
    try:
        code = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    except typer.TyperException as exc:
        # Usage errors (bad option, missing argument, wrong type): exit 2 like every user error.
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        sys.stderr.write(f"error: {' '.join(message.split())}\n")
        sys.exit(getattr(exc, "exit_code", 2) or 2)
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
