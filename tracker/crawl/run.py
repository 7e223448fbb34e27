"""`tracker crawl`: which items are due, fetching and reading them, and storing each result as it arrives.

Everything runs in one process: fetching is bound by politeness (a few requests per host, robots.txt's
Crawl-delay), not by CPU. Results are committed as they arrive, so a crawl killed at any moment keeps
everything stored so far, and the next run starts with what is still due.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tracker import config, urls
from tracker.crawl.fetcher import NXDOMAIN, OFFLINE, Request, Response, ResponseStream, host_key
from tracker.crawl.marks import ReadingMark, left_behind, marks_prefix
from tracker.crawl.netguard import Resolver
from tracker.crawl.pools import load_connection_layer
from tracker.crawl.reading import OPENING, Outcome, failed, read_safely, start_reader
from tracker.crawl.settings import Settings
from tracker.store import db as dbmod
from tracker.store.pagetext import keep_text

# The light table handles, not the table models: a crawl's process stays smaller without SQLModel
# and pydantic, and every row it writes names each column that has a default.
from tracker.store.tables import fetch_t, item_t, tag_t

T = TypeVar("T")

# A page fetched well is looked at again a month later; a failing one after a day, a week, a month.
REFRESH = timedelta(days=30)
BACKOFF = (timedelta(days=1), timedelta(days=7), timedelta(days=30))
CHILD_CAP = 50
CRASHED = "crashed the reader"
DNS_GONE_AFTER = timedelta(days=1)
# Seconds into a crawl at which reading is prepared: by then the first requests are out, and their
# answers take longer than that to come.
PREPARE_AFTER = 0.03
# At most this many pages' outcomes, or this long, between commits.
HOLD_PAGES = 50
HOLD_SECONDS = 1.0
WRITE_CACHE_KIB = 4096  # each batch writes a few rows; a big cache only holds pages never read again
# Statuses whose items the crawler visits: everything on the reading list, not the paper inbox.
CRAWLED_STATUSES = ("unread", "reading", "digested", "skipped")


@dataclass
class CrawlSummary:
    """Counts of one crawl, as the contract names them."""

    checked: int = 0
    ok: int = 0
    unchanged: int = 0
    blocked: int = 0
    gone: int = 0
    error: int = 0
    skipped: int = 0
    discovered: int = 0
    offline: int = 0  # errors because no network could be reached (counted in `error` too)

    def as_json(self) -> dict[str, int]:
        """The contract's summary."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Due:
    """An item to crawl and what the last crawl left for conditional requests."""

    id: int
    url: str
    parent_id: int | None
    etag: str | None
    last_modified: str | None
    attempts: int
    fetched: bool = False  # a fetch row exists (crawled before)
    dns_missing_since: datetime | None = None  # first found unknown (NXDOMAIN) while other names resolved


def _crawlable(url: str | None) -> bool:
    # arXiv pages are described by the paper fetcher, from the arXiv API.
    return url is not None and url.startswith(("http://", "https://")) and urls.parse_arxiv_id(url) is None


_WITH_FETCH = item_t.outerjoin(fetch_t, fetch_t.c.item_id == item_t.c.id)
# Items the crawler visits: with a URL, on the reading list, not retired.
_CRAWLED = (item_t.c.url.is_not(None), item_t.c.retired.is_(False), item_t.c.status.in_(CRAWLED_STATUSES))


def _known(conn: Connection, *where: Any) -> list[tuple[Any, ...]]:
    """Crawled items' rows with what their last fetch left, in id order."""
    query = (select(item_t.c.id, item_t.c.url, item_t.c.parent_id, fetch_t.c.etag, fetch_t.c.last_modified,
                    fetch_t.c.attempts, fetch_t.c.next_due, fetch_t.c.item_id.label("fetched"),
                    fetch_t.c.dns_missing_since)
             .select_from(_WITH_FETCH).where(*_CRAWLED, *where).order_by(item_t.c.id))
    # One fetchall, and rows unpacked as tuples: a driver call and attribute lookups per row were
    # most of this query's time, which a crawl spends before its first request goes out.
    return [tuple(row) for row in conn.execute(query).all()]


def _due(row: tuple[Any, ...]) -> Due:
    item_id, url, parent_id, etag, last_modified, attempts, _next_due, fetched, missing = row
    return Due(id=item_id, url=url, parent_id=parent_id, etag=etag, last_modified=last_modified,
               attempts=attempts or 0, fetched=fetched is not None, dns_missing_since=missing)


def due_items(conn: Connection, now: datetime, force: bool) -> tuple[list[Due], int]:
    """Items whose URL should be fetched now, and how many with a URL are not due (skipped)."""
    due, skipped = [], 0
    for row in _known(conn):
        url, next_due, fetched = row[1], row[6], row[7]
        if not _crawlable(url):
            skipped += 1
        elif force or fetched is None or next_due is None or next_due <= now:
            due.append(_due(row))
        else:
            skipped += 1
    return due, skipped


def record_crashes(database: dbmod.Database, item_ids: list[int], now: datetime) -> None:
    """Record the pages that ended a crawl's process while it read them (see `tracker.crawl.marks`)."""
    with database.write() as conn:
        crashed = [_due(row) for row in _known(conn, item_t.c.id.in_(item_ids))]
        store(conn, [(item, failed(item.url, CRASHED)) for item in crashed], now, 0)


def interleave(items: Iterable[T], host_of: Callable[[T], str]) -> list[T]:
    """Round-robin by host, so one slow or strict host does not hold every slot; each host's order kept."""
    by_host: dict[str, deque[T]] = defaultdict(deque)
    for item in items:
        by_host[host_of(item)].append(item)
    queues = list(by_host.values())
    out: list[T] = []
    while queues:
        queues = [q for q in queues if q]
        for q in queues:
            out.append(q.popleft())
    return out


def requests_for(items: list[Due], endpoints: config.Endpoints, force: bool) -> Iterator[Request]:
    """The request for each item: its URL, or the site's API call (GitHub)."""
    from tracker.crawl.sites import api_call

    for item in items:
        call = api_call(item.url, endpoints)
        etag, modified = (None, None) if force else (item.etag, item.last_modified)
        url, headers = (call.url, call.headers) if call is not None else (item.url, ())
        yield Request(key=item.id, url=url, etag=etag, last_modified=modified, headers=headers)


_UPDATE_FETCH = fetch_t.update().where(fetch_t.c.item_id == bindparam("fetched_item"))


def settle_dns(item: Due, outcome: Outcome, now: datetime) -> Outcome:
    """An unknown host name is `gone` once it was unknown at two checks a day or more apart; before, an error."""
    if outcome.cause != NXDOMAIN:
        return outcome
    since = item.dns_missing_since or now
    if now - since >= DNS_GONE_AFTER:
        return replace(outcome, state="gone", error=f"{outcome.error}, since {since:%Y-%m-%d}")
    return replace(outcome, state="error", error=f"{outcome.error}; gone if it is still unknown a day later")


def _fetch_values(item: Due, outcome: Outcome, now: datetime) -> dict[str, Any]:
    if outcome.cause == OFFLINE:
        # Nothing is known of the page itself: its back-off stays, and the next run tries it again.
        return dict(state="error", http_status=None, final_url=outcome.final_url, checked_at=now,
                    attempts=item.attempts, error=outcome.error, next_due=now)
    failing = outcome.state in ("blocked", "gone", "error")
    attempts = (item.attempts + 1) if failing else 0
    values: dict[str, Any] = dict(state=outcome.state, http_status=outcome.http_status, final_url=outcome.final_url,
                                  checked_at=now, attempts=attempts, error=outcome.error,
                                  next_due=now + (BACKOFF[min(attempts, len(BACKOFF)) - 1] if failing else REFRESH),
                                  dns_missing_since=(item.dns_missing_since or now) if outcome.cause == NXDOMAIN
                                  else None)
    if outcome.state == "ok":
        values.update(title=outcome.title, meta=json.dumps(outcome.meta, ensure_ascii=False, default=str),
                      text=outcome.text[:OPENING] or None, etag=outcome.etag, last_modified=outcome.last_modified)
    return values


def store(conn: Connection, results: list[tuple[Due, Outcome]], now: datetime, child_cap: int) -> int:
    """Record a batch of crawled items; returns the number of child items discovered.

    Fetch rows are written with one executemany per statement shape (a failed page keeps its
    earlier title and metadata, so its row has fewer columns). An `ok` page's readable text is kept
    (`tracker.store.pagetext`). Topics a page suggested (`outcome.tags`) are kept only if no topic
    claims the item by now.
    """
    groups: dict[tuple[bool, tuple[str, ...]], list[dict[str, Any]]] = {}
    for item, outcome in results:
        values = _fetch_values(item, outcome, now)
        groups.setdefault((item.fetched, tuple(values)), []).append({"item_id": item.id, **values})
    for (fetched, _columns), rows in groups.items():
        if fetched:
            conn.execute(_UPDATE_FETCH, [{"fetched_item": row.pop("item_id"), **row} for row in rows])
            continue
        for row in rows:
            row.setdefault("meta", "{}")  # a first fetch that failed has no metadata yet
        try:
            with conn.begin_nested():
                conn.execute(fetch_t.insert(), rows)
        except IntegrityError:
            # Another crawl stored some of these meanwhile: update where a row exists, insert the rest.
            for row in rows:
                params = {"fetched_item": row["item_id"], **{k: v for k, v in row.items() if k != "item_id"}}
                if conn.execute(_UPDATE_FETCH, params).rowcount == 0:
                    conn.execute(fetch_t.insert(), row)
    discovered = 0
    for item, outcome in results:
        if outcome.state == "ok":
            keep_text(conn, item.id, outcome.text, now)  # for reading offline and for search
        if outcome.tags and conn.execute(select(tag_t.c.slug).where(tag_t.c.item_id == item.id)
                                         .limit(1)).first() is None:
            conn.execute(tag_t.insert(), [dict(item_id=item.id, slug=slug, origin="auto", score=score)
                                          for slug, score in outcome.tags])
        if outcome.children:
            discovered += _add_children(conn, item.id, outcome.children[:child_cap], now)
    return discovered


def _add_children(conn: Connection, parent_id: int, children: tuple[Any, ...], now: datetime) -> int:
    """Articles of a listing become items tied to it, with its topics; known ones are left alone."""
    parent = conn.execute(select(item_t.c.outline_id, item_t.c.section).where(item_t.c.id == parent_id)).one()
    parent_tags = conn.execute(select(tag_t.c.slug).where(tag_t.c.item_id == parent_id,
                                                           tag_t.c.origin != "untag")).scalars().all()
    keys = {urls.normalize_url(c.url): c for c in children}
    known = set(conn.execute(select(item_t.c.key).where(item_t.c.key.in_(list(keys)))).scalars())
    added = 0
    for position, (key, child) in enumerate(keys.items()):
        if key in known:
            continue
        result = conn.execute(item_t.insert().values(
            key=key, url=key, title=child.title[:500], kind=urls.kind_from_url(key), status="unread", source="crawl",
            outline_id=parent.outline_id, section=parent.section, position=position, retired=False,
            parent_id=parent_id, notes="", added_at=now))
        child_id = result.inserted_primary_key[0]  # type: ignore[index]
        for slug in parent_tags:
            conn.execute(tag_t.insert().values(item_id=child_id, slug=slug, origin="parent", score=1.0))
        added += 1
    return added


def crawl(database: dbmod.Database, settings: Settings, *, force: bool = False, child_cap: int = CHILD_CAP,
          now: datetime | None = None, progress: Callable[[int, int], None] | None = None,
          cookies: str | Path | None = None, resolve: Resolver | None = None,
          reader: Reader = read_safely) -> CrawlSummary:
    """Fetch every due item, storing each result as it comes; returns the summary counts.

    `cookies` is a Netscape cookies.txt with the learner's own logins (default: TRACKER_COOKIES); it is
    read first, so a bad file stops the crawl before anything is fetched. `resolve` looks up host
    names and `reader` reads a fetched page; tests give their own.
    """
    from tracker import topics
    from tracker.crawl.cookies import load_cookies
    from tracker.crawl.netguard import system_resolver

    cookies_file = config.cookies_file(cookies)
    jar = load_cookies(cookies_file) if cookies_file else None
    now = now or dbmod.utcnow()
    marks = marks_prefix(database.url, config.user_data_dir())
    crashed = left_behind(marks)
    if crashed:
        record_crashes(database, crashed, now)
    with database.read() as conn:
        items, skipped = due_items(conn, now, force)
        defs = topics.topic_defs(conn)
        tagged = set(conn.execute(select(tag_t.c.item_id).distinct()).scalars())
    summary = CrawlSummary(skipped=skipped)
    if not items:
        return summary
    by_id = {item.id: item for item in items}
    requests = list(requests_for(items, config.endpoints(), force))
    hosts = {req.url: host_key(req.url) for req in requests}
    jobs = [Job(request=req, item=by_id[req.key], classify=req.key not in tagged)
            for req in interleave(requests, lambda req: hosts[req.url])]
    with ReadingMark(marks) as mark, _Ledger(database, summary, child_cap, len(jobs), progress, mark) as ledger:
        asyncio.run(_fetch_and_read(jobs, settings, ledger, reader, lambda: _prepare_reading(defs), jar,
                                    resolve or system_resolver))
    return summary


@dataclass(frozen=True)
class Job:
    """One page to fetch and read: the request, its item, and whether to suggest topics for it."""

    request: Request
    item: Due
    classify: bool


Reader = Callable[[str, bool, Response, bool], Outcome]


class _Ledger:
    """Stores what the crawl learns, committing as it goes.

    Outcomes are held and committed together whenever no other response is waiting to be read, and
    at least every `HOLD_PAGES` pages or `HOLD_SECONDS`, whichever comes first: a commit costs more
    than storing a page, and a crawl killed at any moment loses at most what it held. Each page is
    noted in the crawl's reading mark (`tracker.crawl.marks`) while it is read, so that a page that
    takes the whole process down is known to the next run, which records it instead of reading it.
    """

    def __init__(self, database: dbmod.Database, summary: CrawlSummary, child_cap: int, total: int,
                 progress: Callable[[int, int], None] | None, mark: ReadingMark) -> None:
        self.database, self.summary, self.child_cap = database, summary, child_cap
        self.total, self.progress, self.mark = total, progress, mark
        self.held: list[tuple[Due, Outcome]] = []
        self.conn: Connection | None = None
        self.committed_at = time.monotonic()

    def __enter__(self) -> _Ledger:
        # One connection for the whole crawl, its page cache capped once and the file not mapped: a
        # crawl writes many small transactions, each touching pages it never reads again, and mapped
        # pages of a growing database would count against the process's memory.
        self.conn = self.database.engine.connect()
        driver = self.conn.connection.driver_connection
        if self.database.is_sqlite and driver is not None:
            driver.execute(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")
            driver.execute("PRAGMA mmap_size = 0")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.conn is not None
        try:
            self.flush()
        finally:
            driver = self.conn.connection.driver_connection
            if self.database.is_sqlite and driver is not None:  # as the next user of this connection expects
                driver.execute(f"PRAGMA cache_size = -{dbmod.CACHE_KIB}")
                driver.execute(f"PRAGMA mmap_size = {dbmod.MMAP_BYTES}")
            self.conn.close()

    def read(self, job: Job, response: Response, reader: Reader) -> None:
        """Read the page, noted in the reading mark while it is, and hold its outcome for the next commit."""
        self.mark.reading(job.item.id)
        outcome = reader(job.item.url, job.item.parent_id is not None, response, job.classify)
        self.mark.done()
        self.held.append((job.item, settle_dns(job.item, outcome, dbmod.utcnow())))
        if len(self.held) >= HOLD_PAGES or time.monotonic() - self.committed_at >= HOLD_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Commit every outcome held."""
        held, self.held = self.held, []
        self.committed_at = time.monotonic()
        if not held:
            return
        conn = self.conn
        assert conn is not None, "a ledger is used inside its with block"
        conn.info["immediate"] = True  # BEGIN IMMEDIATE, as Database.write takes it
        with conn.begin():
            self.summary.discovered += store(conn, held, dbmod.utcnow(), self.child_cap)
        for _item, outcome in held:
            self.summary.checked += 1
            setattr(self.summary, outcome.state, getattr(self.summary, outcome.state) + 1)
            if outcome.cause == OFFLINE:
                self.summary.offline += 1
        if self.progress is not None:
            self.progress(self.summary.checked, self.total)


async def _fetch_and_read(jobs: list[Job], settings: Settings, ledger: _Ledger, reader: Reader,
                          prepare: Callable[[], None], cookies: CookieJar | None, resolve: Resolver) -> None:
    """Fetch every job's page, and read and record each as it arrives.

    `prepare` loads what reading needs (lxml, the extractors, the classifier); it runs once the first
    requests are out, while their answers are awaited, or at the latest before the first page is read.
    """
    by_id = {job.item.id: job for job in jobs}
    pending_prepare = [prepare]

    def prepare_once() -> None:
        while pending_prepare:
            pending_prepare.pop()()

    # Before the clock starts: loaded inside the first request, the connection layer could take longer
    # than PREPARE_AFTER, and reading would be prepared before the first requests went out.
    await load_connection_layer()
    asyncio.get_running_loop().call_later(PREPARE_AFTER, prepare_once)
    stream = ResponseStream((job.request for job in jobs), settings, cookies, resolve)
    async with contextlib.aclosing(stream.responses()) as responses:
        async for response in responses:
            # One turn of the loop before reading: the request waiting for the slot this response
            # freed goes out now, instead of after every page of the same burst has been read.
            await asyncio.sleep(0)
            prepare_once()
            ledger.read(by_id[response.key], response, reader)
            if not stream.ready():  # nothing else to read now: commit what was read
                ledger.flush()


def _prepare_reading(topic_defs: list[Any]) -> None:
    """Load what reading uses (every site extractor, the HTML parser) and build the classifier."""
    from tracker.crawl.sites import html, site_for

    site_for("")  # imports every site extractor
    html.prepare()
    start_reader(topic_defs)
