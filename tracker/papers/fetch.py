"""`tracker papers fetch`: every topic's query, the daily feeds, and the outline's arXiv links.

All requests share one limiter (arXiv asks for one request at a time, three seconds apart),
which also holds the run's total deadline. Each page of results is committed as it arrives, so
a fetch cut short keeps what it stored; a topic's window only moves forward when its query ran
to the end. A fault that ends the run (arXiv unreachable, the deadline passed) is one error line,
and `stopped` says which: the next fetch does what this one did not.

Stored papers are asked about again by id at most once a week, for new versions and metadata
(a journal reference added later); the daily feeds' `replace` announcements update them sooner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from tracker import config
from tracker.errors import NotFound, UsageError
from tracker.papers.limiter import Limiter
from tracker.store import db as dbmod
from tracker.store.models import Paper, TopicFetch
from tracker.topics import Classifier, TopicDef

if TYPE_CHECKING:
    from tracker.papers.records import PaperRecord
    from tracker.papers.store import StoreResult

item_t = dbmod.item_t
paper_t = Paper.__table__  # type: ignore[attr-defined]
topic_fetch_t = TopicFetch.__table__  # type: ignore[attr-defined]

FIRST_LOOKBACK = timedelta(days=14)
# Submission time is not announcement time: a paper submitted before the last fetch can be
# announced after it, so every window reaches back two days past where the last one ended.
OVERLAP = timedelta(days=2)
# First announcements bring new papers; `replace` ones are new versions of papers, which only
# update those already stored.
FEED_TYPES = ("new", "cross")
REPLACE_TYPES = ("replace", "replace-cross")
LOOKUP_BATCH = 100
# A stored paper's latest version is asked for at most once a week, at most this many a run (the
# rest wait for the next run, oldest first): five requests, fifteen seconds at arXiv's pace.
RECHECK_EVERY = timedelta(days=7)
RECHECK_MAX = 500
DEFAULT_DEADLINE = 600.0  # the whole fetch
REQUEST_DEADLINE = 60.0  # one request, retries apart


@dataclass
class FetchSummary:
    """What a paper fetch did; `topics` counts the papers each topic's query and feed match brought."""

    queries: int = 0
    fetched: int = 0
    new: int = 0
    updated: int = 0
    resolved: int = 0
    feed: int = 0
    rechecked: int = 0
    topics: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None  # "unreachable" or "deadline" when the run ended early

    def as_json(self) -> dict[str, object]:
        """The contract's summary (extra keys allowed)."""
        return {"queries": self.queries, "fetched": self.fetched, "new": self.new, "updated": self.updated,
                "topics": self.topics, "resolved": self.resolved, "feed": self.feed, "rechecked": self.rechecked,
                "errors": self.errors, "stopped": self.stopped}


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
                 now: datetime | None = None, progress: Progress | None = None,
                 deadline: float = DEFAULT_DEADLINE, request_deadline: float = REQUEST_DEADLINE) -> FetchSummary:
    """Run every topic's query (or one topic's), the feeds of their categories, and resolve outline links.

    A full fetch (no `topic`) also asks for the latest versions of stored papers not checked for a
    week. `deadline` bounds the whole run and `request_deadline` each request, in seconds.
    """
    from tracker.papers import http

    if days is not None and days < 1:
        raise UsageError("--days must be 1 or more")
    if max_results is not None and max_results < 1:
        raise UsageError("--max must be 1 or more")
    if not deadline > 0 or not request_deadline > 0:
        raise UsageError("--deadline must be more than 0 seconds")
    chosen = defs
    if topic is not None:
        chosen = [d for d in defs if d.slug == topic]
        if not chosen:
            raise NotFound(f"no topic {topic!r} (see `tracker topics`)")
    now = now or dbmod.utcnow()
    ends = config.endpoints()
    run = _Run(database=database, limiter=Limiter(ends.arxiv_delay, deadline=deadline), now=now,
               classifier=Classifier(defs), summary=FetchSummary(), say=progress or (lambda _msg: None),
               deadline=request_deadline)
    try:
        if topic is None:
            _resolve_outline_links(run, ends.arxiv_api)
        for d in chosen:
            if d.query:
                _fetch_topic(run, d, ends.arxiv_api, days, max_results, page_size)
        categories = list(dict.fromkeys(c for d in chosen for c in d.categories))
        if categories:
            _fetch_feed(run, categories, ends.arxiv_rss, topic)
        if topic is None:
            _recheck_versions(run, ends.arxiv_api)
    except http.Stop as exc:
        run.summary.stopped = "unreachable" if isinstance(exc, http.Unreachable) else "deadline"
        run.summary.errors.append(f"{exc}; fetch stopped, the rest waits for the next one")
    return run.summary


@dataclass(frozen=True)
class _Run:
    """What every step of one fetch shares."""

    database: dbmod.Database
    limiter: Limiter
    now: datetime
    classifier: Classifier
    summary: FetchSummary
    say: Progress
    deadline: float  # per request


def _last_success(database: dbmod.Database, slug: str) -> datetime | None:
    with database.read() as conn:
        value = conn.execute(select(topic_fetch_t.c.last_success).where(topic_fetch_t.c.slug == slug)).scalar()
    return value


def _fetch_topic(run: _Run, d: TopicDef, endpoint: str, days: int | None, max_results: int | None,
                 page_size: int) -> None:
    from tracker.papers import arxiv_api
    from tracker.papers.store import store_papers

    assert d.query is not None
    summary = run.summary
    since = window_start(_last_success(run.database, d.slug), run.now, days)
    summary.queries += 1
    summary.topics.setdefault(d.slug, 0)
    run.say(f"{d.slug}: {d.query}")
    failed = None
    for records, error in arxiv_api.iter_search(d.query, since, endpoint=endpoint, limiter=run.limiter,
                                                page_size=page_size, max_results=max_results,
                                                deadline=run.deadline):
        if records:
            with run.database.write() as conn:
                stored = store_papers(conn, records, run.now, query_slug=d.slug, classifier=run.classifier)
            _count(summary, stored, len(records))
            summary.topics[d.slug] += len(stored.ids)
        if error:
            failed = error
    if failed:
        summary.errors.append(f"{d.slug}: {failed}")
        return
    with run.database.write() as conn:
        _set_last_success(conn, d.slug, run.now)


def _set_last_success(conn: Connection, slug: str, at: datetime) -> None:
    done = conn.execute(topic_fetch_t.update().where(topic_fetch_t.c.slug == slug).values(last_success=at))
    if not done.rowcount:
        conn.execute(topic_fetch_t.insert().values(slug=slug, last_success=at))


def _count(summary: FetchSummary, stored: StoreResult, fetched: int) -> None:
    summary.fetched += fetched
    summary.new += stored.new
    summary.updated += stored.updated


def _fetch_feed(run: _Run, categories: list[str], endpoint: str, topic: str | None) -> None:
    """The daily announcements of the topics' categories: new papers kept where the classifier finds
    a topic, new versions of papers already stored applied to them."""
    from tracker.papers import feeds
    from tracker.papers.store import store_papers

    summary = run.summary
    run.say("feed: " + "+".join(categories))
    records, error = feeds.fetch_feed(categories, endpoint=endpoint, limiter=run.limiter, deadline=run.deadline)
    if error:
        summary.errors.append(f"feed {'+'.join(categories)}: {error}")
    by_topic: dict[str, list[PaperRecord]] = {}
    for rec in records:
        if rec.announce_type not in FEED_TYPES:
            continue
        tags = run.classifier.tags(f"{rec.title}. {rec.abstract}")
        if topic is not None:
            tags = [t for t in tags if t[0] == topic]
        if tags:
            by_topic.setdefault(tags[0][0], []).append(rec)
    for slug, recs in by_topic.items():
        with run.database.write() as conn:
            stored = store_papers(conn, recs, run.now, classifier=run.classifier)
        _count(summary, stored, len(recs))
        summary.feed += len(recs)
        summary.topics[slug] = summary.topics.get(slug, 0) + len(recs)
    replaced = [rec for rec in records if rec.announce_type in REPLACE_TYPES]
    if replaced:
        with run.database.write() as conn:
            stored = store_papers(conn, replaced, run.now, add_new=False)
        summary.updated += stored.updated


def unresolved_ids(conn: Connection) -> list[str]:
    """arXiv ids linked from outlines whose metadata has not been fetched yet."""
    query = (select(item_t.c.arxiv_id)
             .select_from(item_t.outerjoin(paper_t, paper_t.c.item_id == item_t.c.id))
             .where(item_t.c.arxiv_id.is_not(None), paper_t.c.item_id.is_(None), item_t.c.source != "arxiv")
             .order_by(item_t.c.id))
    return [str(a) for a in conn.execute(query).scalars()]


def _resolve_outline_links(run: _Run, endpoint: str) -> None:
    with run.database.read() as conn:
        ids = unresolved_ids(conn)
    if ids:
        run.say(f"resolving {len(ids)} arXiv link(s) from the outlines")
        run.summary.resolved += _look_up(run, endpoint, ids, "lookup")


def due_for_recheck(conn: Connection, now: datetime, limit: int = RECHECK_MAX) -> list[str]:
    """arXiv ids of stored papers to ask about again: never titled, or not checked for a week; oldest first.

    Dismissed and retired papers are left alone: nobody will read them.
    """
    stale = now - RECHECK_EVERY
    query = (select(paper_t.c.arxiv_id)
             .select_from(paper_t.join(item_t, item_t.c.id == paper_t.c.item_id))
             .where(item_t.c.retired.is_(False), item_t.c.status != "dismissed",
                    or_(paper_t.c.title.is_(None), paper_t.c.fetched_at.is_(None), paper_t.c.fetched_at < stale))
             .order_by(paper_t.c.title.is_not(None), paper_t.c.fetched_at.is_not(None), paper_t.c.fetched_at,
                       paper_t.c.item_id)
             .limit(limit))
    return [str(a) for a in conn.execute(query).scalars()]


def _recheck_versions(run: _Run, endpoint: str) -> None:
    """Ask for the latest version of stored papers due for it; new versions update them (status, notes, tags kept)."""
    with run.database.read() as conn:
        ids = due_for_recheck(conn, run.now)
    if ids:
        run.say(f"checking {len(ids)} stored paper(s) for new versions")
        run.summary.rechecked += len(ids)
        run.summary.updated += _look_up(run, endpoint, ids, "versions")


def _look_up(run: _Run, endpoint: str, ids: list[str], what: str) -> int:
    """Look `ids` up by id list, storing each batch as it comes; returns how many papers changed."""
    from tracker.papers import arxiv_api
    from tracker.papers.store import store_papers

    changed = 0
    for start in range(0, len(ids), LOOKUP_BATCH):
        batch = ids[start:start + LOOKUP_BATCH]
        records, errors = arxiv_api.lookup(batch, endpoint=endpoint, limiter=run.limiter, batch=LOOKUP_BATCH,
                                           deadline=run.deadline)
        run.summary.errors.extend(f"{what}: {e}" for e in errors)
        if records:
            with run.database.write() as conn:
                stored = store_papers(conn, records, run.now, add_new=False)
            changed += stored.updated
    return changed
