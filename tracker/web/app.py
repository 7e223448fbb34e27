"""The web app's routes: each reads its input, calls the core function its CLI command calls, renders.

No rule lives here: statuses, dates, notes, tags, paper moves and the reports are checked and done by
tracker.items, tracker.papers, tracker.report and tracker.timeutil, whose TrackerError messages
become the 4xx pages. Pages read through `Database.read`, actions write through `Database.write`
(one transaction each, like a CLI command), so the CLI sees every change at once and the other way round.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from datetime import date, timedelta
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast
from urllib.parse import parse_qs, urlencode

import anyio
import anyio.to_thread
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.engine import Connection
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tracker import items
from tracker.errors import Busy, NotFound, TrackerError, UsageError
from tracker.papers.inbox import InboxPage, InboxRanking
from tracker.store.db import Database, utcnow
from tracker.store.states import KINDS, STATUSES
from tracker.web.cache import DataVersion, KeptValues
from tracker.web.security import Guard, GuardMiddleware

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy.pool import ConnectionPoolEntry

    from tracker.report.progress import TopicProgress
    from tracker.search import Hit
    from tracker.store.pagetext import PageText

T = TypeVar("T")
V = TypeVar("V")
P = ParamSpec("P")
HERE = Path(__file__).resolve().parent
TOPIC_PAGE = 200
INBOX_PAGE = 50
WEEK_PAGE = 200
NEXT_SHOWN = 20
SEARCH_SHOWN = 50
# Searches whose hits are kept until the next commit (about 30 KB each).
SEARCHES_KEPT = 256
# Larger than the largest note the core accepts (100 KB, up to three times that once form-encoded),
# so that an oversized note gets the core's own message; anything bigger is refused unread.
MAX_BODY = 1_000_000
# Threads for the reads that can take long; pages' short reads run on the event loop (Views.read).
READER_THREADS = 2
# Threads for writes: a write may wait for another program's transaction. Fewer than the connection pool
# holds (5, and 10 more on demand), so that waiting writes always leave the pages connections to read with.
WRITER_THREADS = 4
MOVES = {"accept": "unread", "dismiss": "dismissed"}


class Refused(Exception):
    """A request that may not proceed (wrong token, body too large): its status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Views:
    """The routes, over one open database."""

    def __init__(self, database: Database, guard: Guard) -> None:
        self.database, self.guard = database, guard
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                                     auto_reload=False, trim_blocks=True, lstrip_blocks=True)
        self.inbox = InboxRanking()
        self.version = DataVersion(database)
        # Reads that cost more than a page may spend, kept until the next commit: the outline's
        # progress and topic list, weekly reports and the pages of their lists.
        self.kept: KeptValues[Any] = KeptValues(size=64)
        self.searches: KeptValues[list[Hit]] = KeptValues(size=SEARCHES_KEPT)
        self.lanes: dict[str, anyio.CapacityLimiter] = {}  # made on the event loop, at the first page
        self.inline_reads = _reads_never_wait(database)

    # --- plumbing -------------------------------------------------------------------------

    async def read(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(conn, ...)` in a read transaction: for a page's reads, which take milliseconds (at most tens
        of them, once per commit), on the event loop's own thread where the database is a SQLite file in WAL
        mode.

        Python runs one thread at a time, and the `sqlite3` module lets go of the interpreter's lock at every
        row it steps to: a page read on another thread took its turns at the lock against the loop, a handoff
        a row. Measured under the web bench's load, an item page cost 5.6 ms of server CPU read on a thread and
        2.9 ms read here, a topic's page 10.2 ms and 7.0 ms. The loop waits meanwhile, as it would for the
        interpreter's lock. A read of a database server waits for the network instead, and one of a SQLite
        file in another journal mode may wait for a writer: there it goes to a thread, as do reads that can
        take long (`read_aside`).
        """
        if not self.inline_reads:
            return await self.read_aside(fn, *args, **kwargs)
        with self.database.read() as conn:
            return fn(conn, *args, **kwargs)

    async def read_aside(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args,
                         **kwargs: P.kwargs) -> T:
        """`read`, on a thread: for reads that can take long (a week's report, what to read next), which must
        not hold up every other page."""
        def work() -> T:
            with self.database.read() as conn:
                return fn(conn, *args, **kwargs)
        return await self.off_loop(work)

    async def off_loop(self, work: Callable[[], T], lane: str = "aside") -> T:
        """Run `work` on one of the threads of its lane.

        The inbox has a lane of its own: ranking it again after a digest takes seconds on a long list, one
        ranking at a time (InboxRanking's lock), and the inbox pages waiting for it must not hold up the
        other long reads. Writes have theirs: a write may wait for another program's transaction, and the
        writes waiting must not take every connection of the pool from the pages.
        """
        if not self.lanes:
            self.lanes.update(aside=anyio.CapacityLimiter(READER_THREADS), inbox=anyio.CapacityLimiter(1),
                              writes=anyio.CapacityLimiter(WRITER_THREADS))
        return await anyio.to_thread.run_sync(work, limiter=self.lanes[lane])

    async def write(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(conn, ...)` in one write transaction, on the writes' lane."""
        def work() -> T:
            with self.database.write() as conn:
                return fn(conn, *args, **kwargs)
        return await self.off_loop(work, lane="writes")

    async def topic_options(self) -> list[tuple[str, str]]:
        """(slug, label) of every topic in outline order, for the pages' topic menus."""
        from tracker.topics import list_topics

        def options(conn: Connection) -> list[tuple[str, str]]:
            return [(str(t["slug"]), f"{t['title']} ({t['slug']})") for t in list_topics(conn)]

        return await self.kept_read(("topic options",), options)

    async def topic_menu(self, selected: str | None = None, leave_out: Sequence[str] = ()) -> Markup:
        """The <option>s of every topic (but `leave_out`), `selected` chosen: made once per commit, not
        per page, since a list may hold a thousand topics."""
        async def build() -> tuple[dict[str, str], str]:
            options = {slug: f'<option value="{escape(slug)}">{escape(label)}</option>'
                       for slug, label in await self.topic_options()}
            return options, "".join(options.values())

        options, menu = await self.kept_value(self.kept, ("topic menu",), build)
        for slug in leave_out:  # an item's few topics: cut out of the whole menu, not a thousand options joined again
            if slug in options:
                menu = menu.replace(options[slug], "", 1)
        if selected in options:
            menu = menu.replace(options[selected], options[selected].replace("\">", "\" selected>", 1), 1)
        return Markup(menu)

    async def kept_read(self, key: tuple[Hashable, ...], fn: Callable[..., T], *args: Any, long: bool = False) -> T:
        """`read(fn, ...)`, or `read_aside` if `long`, kept until the database next changes."""
        reading = self.read_aside if long else self.read
        return cast(T, await self.kept_value(self.kept, key, lambda: reading(fn, *args)))

    async def kept_value(self, kept: KeptValues[V], key: tuple[Hashable, ...], make: Callable[[], Awaitable[V]]) -> V:
        """What `make()` gives, kept in `kept` under `key` until the database next changes."""
        version = self.version.current()  # before the work: a commit meanwhile makes the value stale at once
        found = kept.get(key, version)
        if found is None:
            found = await make()
            kept.put(key, version, found)
        return found

    def mark_inputs(self, back: str) -> dict[str, Markup]:
        """The inside of an item's mark form for each current status (and "" for none), coming back to `back`:
        rendered once per page, since a topic's list shows a hundred of them."""
        macros = self.templates.get_template("macros.html").make_module({"csrf": self.guard.token,
                                                                         "statuses": STATUSES})
        inputs = getattr(macros, "mark_inputs")  # noqa: B009 (a template's macro, unknown to the type checker)
        return {current: Markup(inputs(current or None, back)) for current in ("", *STATUSES)}

    def render(self, request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
        """A page from its template, with what every page shows (the bar, the form token)."""
        html = self.templates.get_template(name).render(
            csrf=self.guard.token, q=request.query_params.get("q", ""), here=_here(request),
            statuses=STATUSES, **context)
        return HTMLResponse(html, status_code=status)

    async def form(self, request: Request) -> dict[str, list[str]]:
        """The posted form, once its size and CSRF token are checked."""
        declared = request.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise Refused(413, "the request is too large")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                raise Refused(413, "the request is too large")
        try:
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise Refused(400, "the form is not UTF-8") from None
        token = request.headers.get("x-csrf-token") or _one(fields, "csrf")
        if not self.guard.token_ok(token):
            raise Refused(403, "the form's token is missing or out of date: reload the page and try again")
        return fields

    def done(self, request: Request, fields: dict[str, list[str]], fallback: str, **result: object) -> Response:
        """After an action: JSON for the page's script, else back to the page it came from."""
        if _wants_json(request):
            return JSONResponse({"ok": True, **result})
        back = _one(fields, "back")
        # Only a path on this server: never a redirect to another site.
        target = back if back and back.startswith("/") and not back.startswith("//") else fallback
        return RedirectResponse(target, status_code=303)

    # --- pages ----------------------------------------------------------------------------

    async def outline(self, request: Request) -> Response:
        """The groups and topics in outline order, each with its progress."""
        from tracker.report.progress import compute_progress

        progress = await self.kept_read(("progress",), compute_progress)
        groups: dict[int, list[TopicProgress]] = {}
        for topic in progress.topics:
            groups.setdefault(topic.group, []).append(topic)
        return self.render(request, "outline.html", nav="outline", title="Outline", progress=progress,
                           groups=groups)

    async def topic(self, request: Request) -> Response:
        """One topic's items in outline order, with their status, kind, crawl state and mark buttons."""
        from tracker.report.progress import compute_progress

        slug, page = request.path_params["slug"], _page(request)
        rows = await self.read(_topic_items, slug, (page - 1) * TOPIC_PAGE, TOPIC_PAGE + 1)
        progress = next(t for t in (await self.kept_read(("progress",), compute_progress)).topics if t.slug == slug)
        more = len(rows) > TOPIC_PAGE
        rows = rows[:TOPIC_PAGE]
        marks = self.mark_inputs(_here(request))
        return self.render(request, "topic.html", nav="outline", title=progress.title, topic=progress, rows=rows,
                           page=page, more=more, marks=defaultdict(lambda: marks[""], marks))

    async def item(self, request: Request) -> Response:
        """Everything about one item, with its mark, note and tag forms."""
        ref = request.path_params["ref"]

        def work(conn: Connection) -> tuple[items.ItemDetail, PageText | None]:
            detail = items.show_item(conn, ref)
            return detail, _page_text(conn, detail.item.id)

        detail, text = await self.read(work)
        menu = await self.topic_menu(leave_out=detail.item.topics)
        return self.render(request, "item.html", nav="", title=detail.item.title, detail=detail, view=detail.item,
                           text=text, menu=menu)

    async def inbox_page(self, request: Request) -> Response:
        """The inbox ranked as `papers inbox` ranks it, a page at a time, optionally one topic's."""
        from tracker.topics import check_topic

        topic, page = request.query_params.get("topic") or None, _page(request)

        version = self.version.current()

        def ranked(conn: Connection) -> InboxPage | None:
            if topic is not None:
                check_topic(conn, topic)
            if version is None:
                return None
            return self.inbox.page_if_ranked(conn, topic, (page - 1) * INBOX_PAGE, INBOX_PAGE, version)

        def work() -> InboxPage:
            with self.database.read() as conn:
                return self.inbox.page(conn, topic, (page - 1) * INBOX_PAGE, INBOX_PAGE, version=version)

        # A page of the kept ranking is a short read (see `read`); ranking again is not.
        shown = await self.read(ranked)
        if shown is None:
            shown = await self.off_loop(work, lane="inbox")
        menu = await self.topic_menu(topic)
        pages = max(1, math.ceil(shown.total / INBOX_PAGE))
        # Each paper's abstract and topics looked up here: a call made from a template costs several
        # times what it costs here, and a page makes a hundred of them.
        papers = [(row, shown.abstracts.get(row.id), ", ".join(row.topics)) for row in shown.rows]
        return self.render(request, "inbox.html", nav="inbox", title="Inbox", shown=shown, papers=papers,
                           menu=menu, topic=topic, page=page, pages=pages,
                           query=lambda p: _query(topic=topic, page=p))

    async def week(self, request: Request) -> Response:
        """The weekly report as the CLI writes it in HTML, with links, a page of its lists at a time."""
        from tracker.report import weekly, weeks
        from tracker.report.html import render_body

        label, page = request.query_params.get("week") or None, _page(request)
        if label is not None:
            weeks.parse_week(label)
        report = await self.kept_read(("week", label, date.today()), weekly.weekly_report, label, long=True)
        longest = max(len(report.digested), len(report.started))
        pages = max(1, math.ceil(longest / WEEK_PAGE))
        version = self.version.current()
        body = self.kept.get(("week body", report.week, date.today(), page), version)
        if body is None:
            body = render_body(report, link=lambda item_id: f"/item/{item_id}", start=(page - 1) * WEEK_PAGE,
                               count=WEEK_PAGE)
            self.kept.put(("week body", report.week, date.today(), page), version, body)
        monday = date.fromisoformat(report.start)
        return self.render(request, "week.html", nav="week", title=f"Week {report.week}", body=body, report=report,
                           page=page, pages=pages, previous=_week_label(monday - timedelta(days=7)),
                           following=_week_label(monday + timedelta(days=7)),
                           query=lambda p: _query(week=report.week, page=p))

    async def next_page(self, request: Request) -> Response:
        """What `tracker next` says."""
        from tracker.report.next import suggest_next

        suggestions = await self.read_aside(suggest_next, limit=NEXT_SHOWN)
        return self.render(request, "next.html", nav="next", title="Next", suggestions=suggestions)

    async def search_page(self, request: Request) -> Response:
        """`tracker search` in a form: the same function over the same database."""
        params = request.query_params
        wanted = {name: params.get(name) or None for name in ("topic", "status", "kind", "field")}
        text = params.get("q", "").strip()
        hits: list[Hit] = []
        if text:
            from tracker.search import SearchOptions, search_database, search_if_current

            options = SearchOptions(limit=SEARCH_SHOWN, topic=wanted["topic"], status=wanted["status"],
                                    kind=wanted["kind"], field=wanted["field"])

            async def find() -> list[Hit]:
                # On SQLite a read like a page's (see `read`), on the loop. Elsewhere the search scans
                # (seconds on a long list): a thread. Where SQLite's index must first take in another
                # program's writes, that write may wait for the other program: the writes' lane.
                if not self.inline_reads:
                    return await self.off_loop(lambda: search_database(self.database, text, **options))
                found = search_if_current(self.database, text, **options)
                if found is None:
                    found = await self.off_loop(lambda: search_database(self.database, text, **options), "writes")
                return found

            # The same search again (a common word, the back button) until the next commit: its hits as found.
            hits = await self.kept_value(self.searches, (text, *wanted.values()), find)
        menu = await self.topic_menu(wanted["topic"])
        return self.render(request, "search.html", nav="search", title=f"Search {text}" if text else "Search",
                           hits=[(hit, _segments(hit.snippet, hit.matches), ", ".join(hit.topics)) for hit in hits],
                           text=text, wanted=wanted, menu=menu, kinds=KINDS, searched=bool(text))

    async def report_css(self, request: Request) -> Response:
        """The weekly report's own style sheet, the one the CLI's HTML file carries inline."""
        from tracker.report.html import STYLE

        return Response(STYLE, media_type="text/css", headers={"cache-control": "max-age=3600"})

    # --- actions --------------------------------------------------------------------------

    async def mark(self, request: Request) -> Response:
        """`tracker mark ITEM STATUS [--at WHEN] [--note TEXT]` from a button."""
        from tracker.timeutil import parse_when

        fields = await self.form(request)
        ref, at, note = request.path_params["ref"], _one(fields, "at").strip(), _one(fields, "note").strip()
        status = _one(fields, "status")

        def work(conn: Connection) -> tuple[items.MarkResult, str, int]:
            checked = items.check_status(status)
            when = parse_when(at) if at else utcnow()
            result = items.mark(conn, [ref], checked, when, note or None)
            view = items.show_item(conn, ref).item
            return result, view.status, view.id

        result, now_status, item_id = await self.write(work)
        return self.done(request, fields, f"/item/{item_id}", id=item_id, status=now_status, changed=result.changed)

    async def note(self, request: Request) -> Response:
        """`tracker note ITEM TEXT`."""
        fields = await self.form(request)
        item_id = await self.write(items.add_note, request.path_params["ref"], _one(fields, "text"))
        return self.done(request, fields, f"/item/{item_id}", id=item_id)

    async def tag(self, request: Request) -> Response:
        """`tracker tag ITEM SLUG`."""
        return await self._tagging(request, items.tag)

    async def untag(self, request: Request) -> Response:
        """`tracker untag ITEM SLUG`."""
        return await self._tagging(request, items.untag)

    async def _tagging(self, request: Request, action: Callable[[Connection, str, str], int]) -> Response:
        fields = await self.form(request)
        item_id = await self.write(action, request.path_params["ref"], _one(fields, "slug").strip())
        return self.done(request, fields, f"/item/{item_id}", id=item_id)

    async def move(self, request: Request) -> Response:
        """`tracker papers accept ITEM...` and `tracker papers dismiss ITEM...`."""
        from tracker.papers.store import move

        fields = await self.form(request)
        action = _one(fields, "action")
        if action not in MOVES:
            raise UsageError(f"unknown action {action!r}: use accept or dismiss")
        refs = [ref for ref in fields.get("id", []) if ref.strip()]
        if not refs:
            raise UsageError("select at least one paper")
        result = await self.write(move, refs, MOVES[action], utcnow())
        return self.done(request, fields, "/inbox", changed=result.changed, unchanged=result.unchanged)

    # --- errors ---------------------------------------------------------------------------

    async def user_error(self, request: Request, exc: Exception) -> Response:
        """A TrackerError: the CLI's message, as a 4xx page (or JSON for the page's script)."""
        status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Busy) else 400
        return self.error(request, status, str(exc))

    async def refused(self, request: Request, exc: Exception) -> Response:
        """A request refused before anything was done."""
        assert isinstance(exc, Refused)
        return self.error(request, exc.status, str(exc))

    async def http_error(self, request: Request, exc: Exception) -> Response:
        """Starlette's own refusals: no such page, method not allowed."""
        assert isinstance(exc, HTTPException)
        message = {404: "no such page", 405: "this address does not take that method"}.get(exc.status_code,
                                                                                             exc.detail)
        return self.error(request, exc.status_code, message)

    async def crash(self, request: Request, exc: Exception) -> Response:
        """A bug: a plain 500 page, never a traceback."""
        return self.error(request, 500, "something went wrong inside the tracker; the change, if any, was not made")

    def error(self, request: Request, status: int, message: str) -> Response:
        """An error page carrying the message the CLI would print."""
        if _wants_json(request):
            return JSONResponse({"ok": False, "error": message}, status_code=status)
        return self.render(request, "error.html", status=status, nav="", title=f"Error {status}", code=status,
                           message=message)


def create_app(database: Database, host: str = "127.0.0.1", port: int = 8765,
               guard: Guard | None = None) -> GuardMiddleware:
    """The ASGI application serving `database` at http://host:port (the address requests must name)."""
    guard = guard or Guard(host=host, port=port)
    _lean_connections(database)
    views = Views(database, guard)
    routes = [
        Route("/", views.outline),
        Route("/topic/{slug}", views.topic),
        Route("/item/{ref:path}/mark", views.mark, methods=["POST"]),
        Route("/item/{ref:path}/note", views.note, methods=["POST"]),
        Route("/item/{ref:path}/tag", views.tag, methods=["POST"]),
        Route("/item/{ref:path}/untag", views.untag, methods=["POST"]),
        Route("/item/{ref:path}", views.item),
        Route("/inbox", views.inbox_page),
        Route("/inbox", views.move, methods=["POST"]),
        Route("/week", views.week),
        Route("/next", views.next_page),
        Route("/search", views.search_page),
        Route("/report.css", views.report_css),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    handlers: dict[Any, Any] = {TrackerError: views.user_error, Refused: views.refused,
                                HTTPException: views.http_error, Exception: views.crash}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.views = views
    return GuardMiddleware(app, guard)


# A long-running server holds up to one connection per concurrent request: each gets a small page
# cache and no memory map (the CLI's 64 MB cache and 256 MB map suit one short command, not fifteen);
# the operating system's file cache serves the pages that miss it.
SERVER_CACHE_KIB = 2_048


def _lean_connections(database: Database) -> None:
    if not database.is_sqlite:
        return

    def lean(dbapi_conn: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA cache_size = -{SERVER_CACHE_KIB}")
        cursor.execute("PRAGMA mmap_size = 0")
        cursor.close()

    event.listen(database.engine, "connect", lean)
    database.engine.dispose()  # connections opened before (migrations) are made again, lean


def _reads_never_wait(database: Database) -> bool:
    """Whether a read of `database` never waits for another program: a SQLite file in WAL mode (on a file
    system where WAL cannot work, SQLite keeps its rollback journal, and readers wait for writers)."""
    if not database.is_sqlite:
        return False
    with database.read() as conn:
        return str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()).lower() == "wal"


def _one(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name)
    return values[0] if values else ""


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _here(request: Request) -> str:
    """This page's path and query, to come back to after an action."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


# Far past any list's end, and small enough that the offset it makes is a number SQLite takes.
MAX_PAGE = 1_000_000


def _page(request: Request) -> int:
    text = request.query_params.get("page", "1")
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_PAGE)) and 1 <= int(text) <= MAX_PAGE):
        raise UsageError(f"bad page {text[:20]!r}: use a whole number from 1 to {MAX_PAGE:,}")
    return int(text)


def _query(**params: str | int | None) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v is not None})


def _week_label(day: date) -> str:
    year, number = day.isocalendar()[:2]
    return f"{year}-W{number:02d}"


def _topic_items(conn: Connection, slug: str, offset: int, limit: int) -> list[items.ItemView]:
    """`tracker list --topic SLUG --limit N`, from the `offset`-th item (NotFound for an unknown topic)."""
    return items.list_items(conn, topic=slug, limit=limit, offset=offset)


def _page_text(conn: Connection, item_id: int) -> PageText | None:
    """The offline text of an item's page, where the crawler kept one."""
    try:
        from tracker.store.pagetext import read_text
    except ImportError:
        return None
    return read_text(conn, item_id)


def _segments(snippet: str, offsets: Iterable[Sequence[int]] | None) -> list[tuple[str, bool]]:
    """A search snippet cut into (text, is_match) pieces, so the template escapes each and bolds matches."""
    out, at = [], 0
    for start, end in sorted(tuple(pair) for pair in (offsets or [])):
        if start < at or end > len(snippet):
            continue
        out += [(snippet[at:start], False), (snippet[start:end], True)]
        at = end
    out.append((snippet[at:], False))
    return [piece for piece in out if piece[0]]
