"""Study progress per outline topic, now or as it stood at any past moment.

`percent` is digested / (total − skipped) × 100, to one decimal. Retired items and
papers still in the inbox (or dismissed) are not part of the reading list, so they
never count.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection

from tracker import db as dbmod
from tracker import tally
from tracker.models import STATUSES, Event, Topic

item_t, tag_t = dbmod.item_t, dbmod.tag_t
event_t = Event.__table__  # type: ignore[attr-defined]
topic_t = Topic.__table__  # type: ignore[attr-defined]


@dataclass
class Counts:
    """How many items are in each status, and the share digested."""

    total: int = 0
    digested: int = 0
    reading: int = 0
    unread: int = 0
    skipped: int = 0

    @property
    def percent(self) -> float:
        """digested / (total − skipped) × 100, one decimal; 0 when nothing counts."""
        base = self.total - self.skipped
        return round(100.0 * self.digested / base, 1) if base else 0.0

    def add(self, status: str, n: int = 1) -> None:
        """Count `n` items of `status` (statuses outside the reading list are ignored)."""
        if status in STATUSES:
            self.total += n
            setattr(self, status, getattr(self, status) + n)


@dataclass
class TopicProgress(Counts):
    """Progress of one outline topic."""

    slug: str = ""
    title: str = ""
    group: int = 0


@dataclass
class Progress(Counts):
    """Overall progress and each topic's, in outline order."""

    topics: list[TopicProgress] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The contract's `progress --json` shape (plus each topic's group)."""
        def counts(c: Counts) -> dict[str, Any]:
            # By hand: dataclasses.asdict deep-copies, a tenth of `tracker progress` with 1,000 topics.
            return {"total": c.total, "digested": c.digested, "reading": c.reading, "unread": c.unread,
                    "skipped": c.skipped, "percent": c.percent}

        return {**counts(self), "topics": [{"slug": t.slug, "title": t.title, "group": t.group, **counts(t)}
                                           for t in self.topics]}


def _topics(conn: Connection) -> list[TopicProgress]:
    rows = conn.execute(select(topic_t.c.slug, topic_t.c.title, topic_t.c.group_no)
                        .order_by(topic_t.c.outline_id, topic_t.c.position, topic_t.c.id))
    return [TopicProgress(slug=r.slug, title=r.title, group=r.group_no) for r in rows]


def _live() -> Any:
    # Past totals count today's list, not only what had been imported by then: a learner who
    # back-dates a mark says the item was on their list, and papers still waiting in the inbox
    # at that moment drop out through their replayed status.
    return item_t.c.retired.is_(False)


def compute_progress(conn: Connection, at: datetime | None = None) -> Progress:
    """Progress now (from each item's status) or at time `at` (naive UTC), rewound from now."""
    progress = Progress(topics=_topics(conn))
    _current(conn, progress, {t.slug: t for t in progress.topics})
    return progress if at is None else rewound(conn, progress, at)


# Rewinding costs a few queries per 500 items changed since the moment; past this many status
# events since, it is cheaper to count every item's status at the moment directly (one index probe
# per item, in SQL).
REWIND_LIMIT = 50_000


def rewound(conn: Connection, now: Progress, at: datetime) -> Progress:
    """Today's progress taken back to time `at`: through the items changed since, when they are few."""
    events_since = conn.execute(select(func.count()).where(event_t.c.at > at)).scalar_one()
    if events_since > REWIND_LIMIT:
        progress = Progress(topics=[TopicProgress(slug=t.slug, title=t.title, group=t.group) for t in now.topics])
        _counted_at(conn, progress, {t.slug: t for t in progress.topics}, at)
        return progress
    ids = changed_after(conn, at)
    # Counts are flat dataclasses: copying each is a hundred times cheaper than deepcopy's generic walk.
    progress = replace(now, topics=[replace(t) for t in now.topics])
    _rewind(conn, progress, {t.slug: t for t in progress.topics}, at, ids)
    return progress


def _counted_at(conn: Connection, progress: Progress, by_slug: dict[str, TopicProgress], at: datetime) -> None:
    """Like `_current`, over each live item's status at `at`: one pass, one index probe per item."""
    initial = case((item_t.c.source == "arxiv", "inbox"), else_="unread")
    last_event = (select(event_t.c.status).where(event_t.c.item_id == item_t.c.id, event_t.c.at <= at)
                  .order_by(event_t.c.at.desc(), event_t.c.id.desc()).limit(1).scalar_subquery())
    query = select(item_t.c.id, func.coalesce(last_event, initial)).where(_live())
    then: dict[int, str] = {item_id: status for item_id, status in conn.execute(query)}
    for status in then.values():
        progress.add(status)
    for item_id, slug in conn.execute(select(tag_t.c.item_id, tag_t.c.slug).where(tag_t.c.origin != "untag")):
        if item_id in then and slug in by_slug:
            by_slug[slug].add(then[item_id])


def _current(conn: Connection, progress: Progress, by_slug: dict[str, TopicProgress]) -> None:
    if tally.available(conn):  # kept by triggers: a few thousand rows at most, whatever the list's size
        for slug, status, n in tally.counts(conn):
            counts = progress if slug == "" else by_slug.get(slug)
            if counts is not None:
                counts.add(status, n)
        return
    # Elsewhere two aggregate queries, which join every tag to its item.
    for status, n in conn.execute(select(item_t.c.status, func.count()).where(_live())
                                  .group_by(item_t.c.status)):
        progress.add(status, n)
    query = (select(tag_t.c.slug, item_t.c.status, func.count())
             .select_from(tag_t.join(item_t, item_t.c.id == tag_t.c.item_id))
             .where(tag_t.c.origin != "untag", _live(), item_t.c.status.in_(STATUSES))
             .group_by(tag_t.c.slug, item_t.c.status))
    for slug, status, n in conn.execute(query):
        if slug in by_slug:
            by_slug[slug].add(status, n)


CHUNK = 500


def changed_after(conn: Connection, at: datetime) -> list[int]:
    """Live items with a status event after `at`: the only ones whose status then may differ from now."""
    # Deduplicated here, not with DISTINCT: SQLite would then walk the whole (item_id, at) index in
    # item order instead of the few recent rows of the `at` index.
    query = select(event_t.c.item_id).where(event_t.c.at > at)
    return sorted({item_id for (item_id,) in conn.execute(query)})


def statuses_at(conn: Connection, ids: list[int], at: datetime) -> dict[int, str]:
    """The status each of these live items had at `at`: its last event by then, else its creation status."""
    out: dict[int, str] = {}
    initial = case((item_t.c.source == "arxiv", "inbox"), else_="unread")
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for item_id, first in conn.execute(select(item_t.c.id, initial).where(item_t.c.id.in_(chunk), _live())):
            out[item_id] = first
        last = (select(event_t.c.item_id, func.max(event_t.c.at).label("at"))
                .where(event_t.c.item_id.in_(chunk), event_t.c.at <= at)
                .group_by(event_t.c.item_id).subquery())
        rows = conn.execute(select(event_t.c.item_id, event_t.c.status).select_from(event_t.join(
            last, and_(event_t.c.item_id == last.c.item_id, event_t.c.at == last.c.at))).order_by(event_t.c.id))
        for item_id, status in rows:
            if item_id in out:
                out[item_id] = status  # the latest id wins among events at the same instant
    return out


def _rewind(conn: Connection, progress: Progress, by_slug: dict[str, TopicProgress], at: datetime,
            ids: list[int]) -> None:
    then = statuses_at(conn, ids, at)
    for start in range(0, len(ids), CHUNK):
        chunk = [i for i in ids[start:start + CHUNK] if i in then]
        query = select(item_t.c.id, item_t.c.status).where(item_t.c.id.in_(chunk))
        now: dict[int, str] = {item_id: status for item_id, status in conn.execute(query)}
        tags: dict[int, list[str]] = {}
        for item_id, slug in conn.execute(select(tag_t.c.item_id, tag_t.c.slug).where(
                tag_t.c.item_id.in_(chunk), tag_t.c.origin != "untag")):
            tags.setdefault(item_id, []).append(slug)
        for item_id in chunk:
            if now[item_id] == then[item_id]:
                continue
            for counts in (progress, *(by_slug[s] for s in tags.get(item_id, ()) if s in by_slug)):
                counts.add(now[item_id], -1)
                counts.add(then[item_id], 1)


def render_progress(progress: Progress) -> Any:
    """A rich table: topics grouped as the outline groups them, with counts, percent and a bar."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"Progress: {progress.digested}/{progress.total - progress.skipped} digested "
                        f"({progress.percent:.1f}%)", title_justify="left")
    for name in ("topic", "done", "reading", "unread", "skipped", "%", ""):
        table.add_column(name, justify="right" if name not in ("topic", "") else "left")
    last_group = None
    for topic in progress.topics:
        if last_group is not None and topic.group != last_group:
            table.add_section()
        last_group = topic.group
        table.add_row(topic.title, f"{topic.digested}/{topic.total - topic.skipped}", str(topic.reading),
                      str(topic.unread), str(topic.skipped), f"{topic.percent:.1f}", _bar(topic.percent))
    return table if progress.topics else Text("No topics yet: run `tracker import`.")


def _bar(percent: float, width: int = 10) -> str:
    filled = round(percent / 100 * width)
    return "█" * filled + "░" * (width - filled)
