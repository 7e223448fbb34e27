"""What to read next, following the curriculum.

Finish what is being read first; then the earliest outline group that is not done
(basics before architectures before generative models), within it the least-advanced
topic, curated items before papers, in outline order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, case, select
from sqlalchemy.engine import Connection

from tracker.report.progress import Progress, TopicProgress, compute_progress, live
from tracker.store import db as dbmod
from tracker.store.tables import item_t, tag_t
from tracker.timeutil import to_local

if TYPE_CHECKING:
    from sqlalchemy import Select


@dataclass(frozen=True)
class Suggestion:
    """One item to read, and why now."""

    id: int
    title: str
    topics: list[str]
    reason: str

    def as_json(self) -> dict[str, object]:
        """The contract's `next --json` row."""
        return asdict(self)


def _reading(conn: Connection, limit: int, topic: str | None) -> list[tuple[int, str, str]]:
    # Longest in `reading` first, counted from when it last became `reading`: the order of the
    # (status, status_at) index, so the first few come without sorting every item being read.
    query = select(item_t.c.id, item_t.c.title, item_t.c.status_at).where(live(), item_t.c.status == "reading")
    if topic is not None:
        query = query.where(item_t.c.id.in_(_tagged(topic)))
    rows = conn.execute(query.order_by(item_t.c.status_at, item_t.c.id).limit(limit))
    out = []
    for r in rows:
        since = r.status_at
        reason = f"reading since {to_local(since).date().isoformat()}" if since else "in progress"
        out.append((r.id, r.title, reason))
    return out


def _tagged(slug: str) -> Select:
    return select(tag_t.c.item_id).where(tag_t.c.slug == slug, tag_t.c.origin != "untag")


def _unread_in(conn: Connection, slug: str, limit: int) -> list[tuple[int, str]]:
    # Curated items (from outlines or their listings) before accepted papers, then outline order.
    paper_last = case((item_t.c.source == "arxiv", 1), else_=0)
    query = (select(item_t.c.id, item_t.c.title)
             .where(live(), item_t.c.status == "unread", item_t.c.id.in_(_tagged(slug)))
             .order_by(paper_last, item_t.c.outline_id, item_t.c.position, item_t.c.id).limit(limit))
    return [(r.id, r.title) for r in conn.execute(query)]


def _untagged_unread(conn: Connection, limit: int) -> list[tuple[int, str]]:
    tagged = select(tag_t.c.item_id).where(tag_t.c.origin != "untag")
    paper_last = case((item_t.c.source == "arxiv", 1), else_=0)
    query = (select(item_t.c.id, item_t.c.title)
             .where(and_(live(), item_t.c.status == "unread", item_t.c.id.not_in(tagged)))
             .order_by(paper_last, item_t.c.outline_id, item_t.c.position, item_t.c.id).limit(limit))
    return [(r.id, r.title) for r in conn.execute(query)]


def _curriculum(topics: list[TopicProgress]) -> list[TopicProgress]:
    """Topics with something unread: earliest unfinished group first, least advanced topic first within it."""
    order = {t.slug: i for i, t in enumerate(topics)}
    group_rank: dict[int, int] = {}
    for t in topics:
        group_rank.setdefault(t.group, len(group_rank))
    open_topics = [t for t in topics if t.unread > 0]
    return sorted(open_topics, key=lambda t: (group_rank[t.group], t.percent, order[t.slug]))


def suggest_next(conn: Connection, limit: int = 10, topic: str | None = None,
                 progress: Progress | None = None) -> list[Suggestion]:
    """Up to `limit` suggestions, each with a one-line reason (`progress`: today's, if already known)."""
    picked: dict[int, tuple[str, str]] = {}
    for item_id, title, reason in _reading(conn, limit, topic):
        picked[item_id] = (title, reason)
    progress = progress or compute_progress(conn)
    topics = [t for t in progress.topics if topic is None or t.slug == topic]
    for t in _curriculum(topics):
        if len(picked) >= limit:
            break
        group_note = f"group {t.group}, " if t.group else ""
        for item_id, title in _unread_in(conn, t.slug, limit + len(picked)):
            if len(picked) >= limit:
                break
            picked.setdefault(item_id, (title, f"next in {t.title} ({group_note}{t.percent:.1f}% digested)"))
    if topic is None and len(picked) < limit:
        for item_id, title in _untagged_unread(conn, limit):
            if len(picked) >= limit:
                break
            picked.setdefault(item_id, (title, "unread, not yet tied to a topic"))
    tags = dbmod.item_topics(conn, list(picked))
    return [Suggestion(id=i, title=t, topics=tags.get(i, []), reason=r) for i, (t, r) in picked.items()]
