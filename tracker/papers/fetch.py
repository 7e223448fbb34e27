"""`tracker papers fetch`: every topic's query, the daily feeds, and the outline's arXiv links.

All requests share one limiter (arXiv asks for one request at a time, three seconds apart).
Each page of results is committed as it arrives, so a fetch cut short keeps what it stored;
a topic's window only moves forward when its query ran to the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from tracker import config
from tracker.errors import NotFound, UsageError
from tracker.store import db as dbmod
from tracker.store.models import Paper, TopicFetch
from tracker.topics import Classifier, TopicDef

item_t = dbmod.item_t
paper_t = Paper.__table__  # type: ignore[attr-defined]
topic_fetch_t = TopicFetch.__table__  # type: ignore[attr-defined]

FIRST_LOOKBACK = timedelta(days=14)
# Submission time is not announcement time: a paper submitted before the last fetch can be
# announced after it, so every window reaches back two days past where the last one ended.
OVERLAP = timedelta(days=2)
# Only first announcements matter; `replace` items are new versions of old papers.
FEED_TYPES = ("new", "cross")
LOOKUP_BATCH = 100


@dataclass
class FetchSummary:
    """What a paper fetch did; `topics` counts the papers each topic's query and feed match brought."""

    queries: int = 0
    fetched: int = 0
    new: int = 0
    updated: int = 0
    resolved: int = 0
    feed: int = 0
    topics: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The contract's summary (extra keys allowed)."""
        return {"queries": self.queries, "fetched": self.fetched, "new": self.new, "updated": self.updated,
                "topics": self.topics, "resolved": self.resolved, "feed": self.feed, "errors": self.errors}


Progress = Callable[[str], None]


def window_start(last_success: datetime | None, now: datetime, days: int | None) -> datetime:
    """Where a topic's query stops looking back."""
    if days is not None:
        return now - timedelta(days=days)
    if last_success is None:
        return now - FIRST_LOOKBACK
    return last_success - OVERLAP


def fetch_papers(database: dbmod.Database, defs: list[TopicDef], *, topic: str | None = None,
                 days: int | None = None, max_results: int | None = None, page_size: int = 200,
                 now: datetime | None = None, progress: Progress | None = None) -> FetchSummary:
    """Run every topic's query (or one topic's), the feeds of their categories, and resolve outline links."""
    from tracker.papers.limiter import Limiter

    if days is not None and days < 1:
        raise UsageError("--days must be 1 or more")
    if max_results is not None and max_results < 1:
        raise UsageError("--max must be 1 or more")
    chosen = defs
    if topic is not None:
        chosen = [d for d in defs if d.slug == topic]
        if not chosen:
            raise NotFound(f"no topic {topic!r} (see `tracker topics`)")
    now = now or dbmod.utcnow()
    ends = config.endpoints()
    limiter = Limiter(ends.arxiv_delay)
    classifier = Classifier(defs)
    summary = FetchSummary()
    say = progress or (lambda _msg: None)

    if topic is None:
        _resolve_outline_links(database, ends.arxiv_api, limiter, now, summary, say)
    for d in chosen:
        if d.query:
            _fetch_topic(database, d, ends.arxiv_api, limiter, classifier, now, days, max_results, page_size,
                         summary, say)
    categories = list(dict.fromkeys(c for d in chosen for c in d.categories))
    if categories:
        _fetch_feed(database, categories, ends.arxiv_rss, limiter, classifier, topic, now, summary, say)
    return summary


def _last_success(database: dbmod.Database, slug: str) -> datetime | None:
    with database.read() as conn:
        value = conn.execute(select(topic_fetch_t.c.last_success).where(topic_fetch_t.c.slug == slug)).scalar()
    return value


def _fetch_topic(database: dbmod.Database, d: TopicDef, endpoint: str, limiter: Any, classifier: Classifier,
                 now: datetime, days: int | None, max_results: int | None, page_size: int,
                 summary: FetchSummary, say: Progress) -> None:
    from tracker.papers import arxiv_api
    from tracker.papers.store import store_papers

    assert d.query is not None
    since = window_start(_last_success(database, d.slug), now, days)
    summary.queries += 1
    summary.topics.setdefault(d.slug, 0)
    say(f"{d.slug}: {d.query}")
    failed = None
    for records, error in arxiv_api.iter_search(d.query, since, endpoint=endpoint, limiter=limiter,
                                                page_size=page_size, max_results=max_results):
        if records:
            with database.write() as conn:
                stored = store_papers(conn, records, now, query_slug=d.slug, classifier=classifier)
            _count(summary, stored, len(records))
            summary.topics[d.slug] += len(stored.ids)
        if error:
            failed = error
    if failed:
        summary.errors.append(f"{d.slug}: {failed}")
        return
    with database.write() as conn:
        _set_last_success(conn, d.slug, now)


def _set_last_success(conn: Connection, slug: str, at: datetime) -> None:
    done = conn.execute(topic_fetch_t.update().where(topic_fetch_t.c.slug == slug).values(last_success=at))
    if not done.rowcount:
        conn.execute(topic_fetch_t.insert().values(slug=slug, last_success=at))


def _count(summary: FetchSummary, stored: Any, fetched: int) -> None:
    summary.fetched += fetched
    summary.new += stored.new
    summary.updated += stored.updated


def _fetch_feed(database: dbmod.Database, categories: list[str], endpoint: str, limiter: Any,
                classifier: Classifier, topic: str | None, now: datetime, summary: FetchSummary,
                say: Progress) -> None:
    """The daily announcements of the topics' categories, kept where the classifier finds a topic."""
    from tracker.papers import feeds
    from tracker.papers.store import store_papers

    say("feed: " + "+".join(categories))
    records, error = feeds.fetch_feed(categories, endpoint=endpoint, limiter=limiter)
    if error:
        summary.errors.append(f"feed {'+'.join(categories)}: {error}")
    by_topic: dict[str, list[Any]] = {}
    for rec in records:
        if rec.announce_type not in FEED_TYPES:
            continue
        tags = classifier.tags(f"{rec.title}. {rec.abstract}")
        if topic is not None:
            tags = [t for t in tags if t[0] == topic]
        if tags:
            by_topic.setdefault(tags[0][0], []).append(rec)
    for slug, recs in by_topic.items():
        with database.write() as conn:
            stored = store_papers(conn, recs, now, classifier=classifier)
        _count(summary, stored, len(recs))
        summary.feed += len(recs)
        summary.topics[slug] = summary.topics.get(slug, 0) + len(recs)


def unresolved_ids(conn: Connection) -> list[str]:
    """arXiv ids linked from outlines whose metadata has not been fetched yet."""
    query = (select(item_t.c.arxiv_id)
             .select_from(item_t.outerjoin(paper_t, paper_t.c.item_id == item_t.c.id))
             .where(item_t.c.arxiv_id.is_not(None), paper_t.c.item_id.is_(None), item_t.c.source != "arxiv")
             .order_by(item_t.c.id))
    return [str(a) for a in conn.execute(query).scalars()]


def _resolve_outline_links(database: dbmod.Database, endpoint: str, limiter: Any, now: datetime,
                           summary: FetchSummary, say: Progress) -> None:
    from tracker.papers import arxiv_api
    from tracker.papers.store import store_papers

    with database.read() as conn:
        ids = unresolved_ids(conn)
    if not ids:
        return
    say(f"resolving {len(ids)} arXiv link(s) from the outlines")
    for start in range(0, len(ids), LOOKUP_BATCH):
        batch = ids[start:start + LOOKUP_BATCH]
        records, errors = arxiv_api.lookup(batch, endpoint=endpoint, limiter=limiter, batch=LOOKUP_BATCH)
        summary.errors.extend(f"lookup: {e}" for e in errors)
        if records:
            with database.write() as conn:
                stored = store_papers(conn, records, now)
            summary.resolved += stored.updated + stored.new
