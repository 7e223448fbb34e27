"""`tracker crawl`: which items are due, fetching them, and storing each result as it arrives.

Each response is committed in its own short transaction, so a crawl killed at any moment keeps
everything fetched so far, and the next run starts with what is still due.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from tracker import config, urls
from tracker import db as dbmod
from tracker.crawl.fetcher import Request, Response, Settings
from tracker.models import Fetch

item_t, tag_t = dbmod.item_t, dbmod.tag_t
fetch_t = Fetch.__table__  # type: ignore[attr-defined]

# A page fetched well is looked at again a month later; a failing one after a day, a week, a month.
REFRESH = timedelta(days=30)
BACKOFF = (timedelta(days=1), timedelta(days=7), timedelta(days=30))
CHILD_CAP = 50
# Statuses whose items the crawler visits: everything on the reading list, not the paper inbox.
CRAWLED_STATUSES = ("unread", "reading", "digested", "skipped")
_LOGIN = ("/login", "/signin", "/sign_in", "/passport", "/account/unhuman", "/accounts/login")


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


def _crawlable(url: str | None) -> bool:
    # arXiv pages are described by the paper fetcher, from the arXiv API.
    return url is not None and url.startswith(("http://", "https://")) and urls.parse_arxiv_id(url) is None


def due_items(conn: Connection, now: datetime, force: bool) -> tuple[list[Due], int]:
    """Items whose URL should be fetched now, and how many with a URL are not due (skipped)."""
    query = (select(item_t.c.id, item_t.c.url, item_t.c.parent_id, fetch_t.c.etag, fetch_t.c.last_modified,
                    fetch_t.c.attempts, fetch_t.c.next_due, fetch_t.c.item_id.label("fetched"))
             .select_from(item_t.outerjoin(fetch_t, fetch_t.c.item_id == item_t.c.id))
             .where(item_t.c.url.is_not(None), item_t.c.retired.is_(False),
                    item_t.c.status.in_(CRAWLED_STATUSES))
             .order_by(item_t.c.id))
    due, skipped = [], 0
    for row in conn.execute(query):
        if not _crawlable(row.url):
            skipped += 1
            continue
        if force or row.fetched is None or row.next_due is None or row.next_due <= now:
            due.append(Due(id=row.id, url=row.url, parent_id=row.parent_id, etag=row.etag,
                           last_modified=row.last_modified, attempts=row.attempts or 0))
        else:
            skipped += 1
    return due, skipped


def interleave(items: list[Due]) -> list[Due]:
    """Round-robin by host, so one slow or strict host does not hold every slot."""
    by_host: dict[str, deque[Due]] = defaultdict(deque)
    for item in items:
        by_host[urls.host_of(item.url)].append(item)
    queues = list(by_host.values())
    out: list[Due] = []
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


@dataclass(frozen=True)
class Outcome:
    """A response read by its site's extractor: what gets stored."""

    state: str
    http_status: int | None
    final_url: str
    error: str | None
    title: str | None
    meta: dict[str, Any]
    text: str
    children: tuple[Any, ...]


def interpret(item: Due, response: Response) -> Outcome:
    """Decide an item's state from the response and its site's extractor (walls count as blocked)."""
    from tracker.crawl.sites import Page, site_for

    site = site_for(item.url)
    page = Page(url=item.url, final_url=response.final_url, status=response.http_status,
                headers=response.headers, body=response.body, charset=response.charset)
    state, error = response.state, response.error
    title, meta, text, children = None, {}, "", ()
    if state == "ok" and any(marker in response.final_url.lower() for marker in _LOGIN) and \
            response.final_url != response.url:
        state, error = "blocked", "redirected to a sign-in page"
    elif state == "ok":
        try:
            extracted = site.extract(page)
        except RecursionError:
            extracted = None
            state, error = "error", "page too deeply nested to read"
        if extracted is not None:
            title, meta, text, children = extracted.title, extracted.meta, extracted.text, extracted.children
            if extracted.blocked:
                state, error = "blocked", extracted.blocked
    elif state in ("blocked", "gone", "error") and hasattr(site, "blocked_status"):
        reason = site.blocked_status(page)
        if reason:
            state, error = "blocked", reason
    if item.parent_id is not None:
        children = ()  # one level deep: an article found on a listing does not bring its own links
    return Outcome(state=state, http_status=response.http_status, final_url=response.final_url, error=error,
                   title=title, meta=meta, text=text, children=children)


def store(conn: Connection, item: Due, response: Response, outcome: Outcome, now: datetime,
          classifier: Any, child_cap: int) -> int:
    """Record one item's crawl; returns the number of child items discovered."""
    old = conn.execute(select(fetch_t).where(fetch_t.c.item_id == item.id)).mappings().first()
    failed = outcome.state in ("blocked", "gone", "error")
    attempts = (item.attempts + 1) if failed else 0
    values: dict[str, Any] = dict(state=outcome.state, http_status=outcome.http_status, final_url=outcome.final_url,
                                  checked_at=now, attempts=attempts, error=outcome.error,
                                  next_due=now + (BACKOFF[min(attempts, len(BACKOFF)) - 1] if failed else REFRESH))
    if outcome.state == "ok":
        values.update(title=outcome.title, meta=json.dumps(outcome.meta, ensure_ascii=False, default=str),
                      text=outcome.text or None, etag=response.headers.get("etag"),
                      last_modified=response.headers.get("last-modified"))
    if old is None:
        conn.execute(fetch_t.insert().values(item_id=item.id, **values))
    else:
        conn.execute(fetch_t.update().where(fetch_t.c.item_id == item.id).values(**values))
    if outcome.state == "ok" and classifier is not None:
        _classify(conn, item.id, outcome, classifier)
    return _add_children(conn, item.id, outcome.children[:child_cap], now) if outcome.children else 0


def _classify(conn: Connection, item_id: int, outcome: Outcome, classifier: Any) -> None:
    """An item no topic claims yet is tagged from what its page says about itself."""
    if conn.execute(select(tag_t.c.slug).where(tag_t.c.item_id == item_id).limit(1)).first() is not None:
        return
    description = str(outcome.meta.get("description") or "")
    tags = classifier.tags(" ".join([outcome.title or "", description])) or classifier.tags(outcome.text[:3000])
    for slug, score in tags:
        conn.execute(tag_t.insert().values(item_id=item_id, slug=slug, origin="auto", score=score))


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
          now: datetime | None = None, progress: Callable[[int, int], None] | None = None) -> CrawlSummary:
    """Fetch every due item, storing each result as it comes; returns the summary counts."""
    from tracker import vocab
    from tracker.topics import Classifier

    now = now or dbmod.utcnow()
    with database.read() as conn:
        items, skipped = due_items(conn, now, force)
        defs = vocab.topic_defs(conn)
    summary = CrawlSummary(skipped=skipped)
    if not items:
        return summary
    by_id = {item.id: item for item in items}
    classifier = Classifier(defs) if defs else None
    ordered = interleave(items)
    requests = requests_for(ordered, config.endpoints(), force)

    async def consume() -> None:
        from tracker.crawl.fetcher import fetch_all

        async for response in fetch_all(requests, settings):
            item = by_id[response.key]
            outcome = interpret(item, response)
            with database.write() as conn:
                summary.discovered += store(conn, item, response, outcome, dbmod.utcnow(), classifier, child_cap)
            summary.checked += 1
            setattr(summary, outcome.state, getattr(summary, outcome.state) + 1)
            if progress is not None:
                progress(summary.checked, len(items))

    asyncio.run(consume())
    return summary
