"""`tracker crawl`: which items are due, fetching them, and storing each result as it arrives.

Results are committed as they arrive (one short transaction per arriving batch), so a crawl killed
at any moment keeps everything stored so far, and the next run starts with what is still due.
Fetching and reading happen in `workers`; this module decides what to fetch and records results.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tracker import config, urls
from tracker.crawl.fetcher import Request, Settings, host_key
from tracker.crawl.reading import Outcome
from tracker.store import db as dbmod
from tracker.store.models import Fetch

T = TypeVar("T")
item_t, tag_t = dbmod.item_t, dbmod.tag_t
fetch_t = Fetch.__table__  # type: ignore[attr-defined]

# A page fetched well is looked at again a month later; a failing one after a day, a week, a month.
REFRESH = timedelta(days=30)
BACKOFF = (timedelta(days=1), timedelta(days=7), timedelta(days=30))
CHILD_CAP = 50
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


def _crawlable(url: str | None) -> bool:
    # arXiv pages are described by the paper fetcher, from the arXiv API.
    return url is not None and url.startswith(("http://", "https://")) and urls.parse_arxiv_id(url) is None


_WITH_FETCH = item_t.outerjoin(fetch_t, fetch_t.c.item_id == item_t.c.id)
# Items the crawler visits: with a URL, on the reading list, not retired.
_CRAWLED = (item_t.c.url.is_not(None), item_t.c.retired.is_(False), item_t.c.status.in_(CRAWLED_STATUSES))


def due_items(conn: Connection, now: datetime, force: bool) -> tuple[list[Due], int]:
    """Items whose URL should be fetched now, and how many with a URL are not due (skipped)."""
    query = (select(item_t.c.id, item_t.c.url, item_t.c.parent_id, fetch_t.c.etag, fetch_t.c.last_modified,
                    fetch_t.c.attempts, fetch_t.c.next_due, fetch_t.c.item_id.label("fetched"))
             .select_from(_WITH_FETCH).where(*_CRAWLED).order_by(item_t.c.id))
    due, skipped = [], 0
    # One fetchall, and rows unpacked as tuples: a driver call and eight attribute lookups per row
    # were most of this query's time, which a crawl spends before its first request goes out.
    for item_id, url, parent_id, etag, last_modified, attempts, next_due, fetched in conn.execute(query).all():
        if not _crawlable(url):
            skipped += 1
            continue
        if force or fetched is None or next_due is None or next_due <= now:
            due.append(Due(id=item_id, url=url, parent_id=parent_id, etag=etag, last_modified=last_modified,
                           attempts=attempts or 0, fetched=fetched is not None))
        else:
            skipped += 1
    return due, skipped


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


def _fetch_values(item: Due, outcome: Outcome, now: datetime) -> dict[str, Any]:
    failed = outcome.state in ("blocked", "gone", "error")
    attempts = (item.attempts + 1) if failed else 0
    values: dict[str, Any] = dict(state=outcome.state, http_status=outcome.http_status, final_url=outcome.final_url,
                                  checked_at=now, attempts=attempts, error=outcome.error,
                                  next_due=now + (BACKOFF[min(attempts, len(BACKOFF)) - 1] if failed else REFRESH))
    if outcome.state == "ok":
        values.update(title=outcome.title, meta=json.dumps(outcome.meta, ensure_ascii=False, default=str),
                      text=outcome.text or None, etag=outcome.etag, last_modified=outcome.last_modified)
    return values


def store(conn: Connection, results: list[tuple[Due, Outcome]], now: datetime, child_cap: int) -> int:
    """Record a batch of crawled items; returns the number of child items discovered.

    Fetch rows are written with one executemany per statement shape (a failed page keeps its
    earlier title and metadata, so its row has fewer columns). Topics a page suggested
    (`outcome.tags`) are kept only if no topic claims the item by now.
    """
    groups: dict[tuple[bool, tuple[str, ...]], list[dict[str, Any]]] = {}
    for item, outcome in results:
        values = _fetch_values(item, outcome, now)
        groups.setdefault((item.fetched, tuple(values)), []).append({"item_id": item.id, **values})
    for (fetched, _columns), rows in groups.items():
        if fetched:
            conn.execute(_UPDATE_FETCH, [{"fetched_item": row.pop("item_id"), **row} for row in rows])
            continue
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


def due_estimate(conn: Connection, now: datetime, force: bool) -> int:
    """At least as many as `due_items` returns, from one count (arXiv links are not told apart here)."""
    from sqlalchemy import func, or_

    query = select(func.count()).select_from(_WITH_FETCH).where(*_CRAWLED)
    if not force:
        query = query.where(or_(fetch_t.c.item_id.is_(None), fetch_t.c.next_due.is_(None), fetch_t.c.next_due <= now))
    return int(conn.execute(query).scalar_one())


def crawl(database: dbmod.Database, settings: Settings, *, force: bool = False, child_cap: int = CHILD_CAP,
          now: datetime | None = None, progress: Callable[[int, int], None] | None = None,
          workers: int | None = None) -> CrawlSummary:
    """Fetch every due item, storing each result as it comes; returns the summary counts.

    `workers` is the number of worker processes (None: chosen from the crawl's size and the cores;
    0: everything in this process). Results are stored in one transaction per arriving batch,
    committed at once: nothing is held back, and a burst costs one commit.
    """
    from tracker import topics
    from tracker.crawl.workers import MAX_WORKERS, Job, Workers, run_here, split_by_host, worker_count

    now = now or dbmod.utcnow()
    # Workers start first, from a quick count: forked ones from this process once it has loaded
    # httpx, spawned ones loading it while this process reads what is due and who fetches what.
    with database.read() as conn:
        estimate = due_estimate(conn, now, force)
    # (The hosts are not known yet: as many workers as there may be hosts for.)
    planned = worker_count(estimate, MAX_WORKERS, settings.concurrency) if workers is None else \
        min(workers, max(settings.concurrency, 1))  # each worker needs a slot of the global cap
    with Workers(planned) as pool:
        with database.read() as conn:
            items, skipped = due_items(conn, now, force)
            defs = topics.topic_defs(conn)
            tagged = set(conn.execute(select(tag_t.c.item_id).distinct()).scalars())
        summary = CrawlSummary(skipped=skipped)
        if not items:
            return summary
        by_id = {item.id: item for item in items}
        requests = list(requests_for(items, config.endpoints(), force))
        # Requests, not items, are grouped by host: every GitHub API call goes to one host. Each
        # request's host is worked out once (urlsplit was a third of this process's start-up).
        hosts = {req.url: host_key(req.url) for req in requests}
        jobs = [Job(request=req, url=by_id[req.key].url, is_child=by_id[req.key].parent_id is not None,
                    classify=req.key not in tagged)
                for req in interleave(requests, lambda req: hosts[req.url])]

        def record(results: list[tuple[int, Outcome]]) -> None:
            with database.write(cache_kib=WRITE_CACHE_KIB) as conn:
                summary.discovered += store(conn, [(by_id[i], o) for i, o in results], dbmod.utcnow(), child_cap)
            for _item_id, outcome in results:
                summary.checked += 1
                setattr(summary, outcome.state, getattr(summary, outcome.state) + 1)
                if progress is not None:
                    progress(summary.checked, len(items))

        count = worker_count(len(jobs), len(set(hosts.values())), settings.concurrency) if workers is None else \
            planned
        if count > 0:
            pool.run(split_by_host(jobs, count, hosts.__getitem__), settings, defs, record, hosts.__getitem__)
        else:
            pool.close()  # workers started on the estimate are not needed after all
            run_here(jobs, settings, defs, lambda item_id, outcome: record([(item_id, outcome)]))
    return summary
