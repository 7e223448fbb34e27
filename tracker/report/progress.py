"""Study progress per outline topic, now or as it stood at any past moment.

`percent` is digested / (total − skipped) × 100, to one decimal. Retired items and
papers still in the inbox (or dismissed) are not part of the reading list, so they
never count.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, select, union_all
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


# Past this many status events since the moment, it is cheaper to look at every live item than to
# pick out the ones changed since.
REWIND_LIMIT = 50_000


def rewound(conn: Connection, now: Progress, at: datetime) -> Progress:
    """Today's progress taken back to time `at` (naive UTC), from the nearest checkpoint after it if any."""
    from tracker.report import checkpoints  # it builds on this module

    found = checkpoints.nearest_after(conn, at, now)
    if found is not None:
        moment, then = found
        return moved_back(conn, then, at, later=moment - timedelta(microseconds=1))
    return moved_back(conn, now, at)


def moved_back(conn: Connection, progress: Progress, at: datetime, later: datetime | None = None) -> Progress:
    """Progress as of `later` (default: now) taken back to the earlier time `at`.

    Only items whose status changed between the two move between the counts, and SQL counts those
    moves: one index probe per item for its last event by each time, then a grouping by topic.
    Python sees one row per (topic, status later, status then).
    """
    # Counts are flat dataclasses: copying each is a hundred times cheaper than deepcopy's generic walk.
    progress = replace(progress, topics=[replace(t) for t in progress.topics])
    by_slug = {t.slug: t for t in progress.topics}
    between = _after(at, later)
    events = conn.execute(select(func.count()).where(between)).scalar_one()
    if not events:
        return progress
    for slug, status_later, status_then, n in conn.execute(_moves(at, later, every_item=events > REWIND_LIMIT)):
        counts = progress if slug == "" else by_slug.get(slug)
        if counts is not None:
            counts.add(status_later, -n)
            counts.add(status_then, n)
    return progress


def _after(at: datetime, later: datetime | None) -> Any:
    """Events after `at`, up to and including `later` when given."""
    return event_t.c.at > at if later is None else and_(event_t.c.at > at, event_t.c.at <= later)


def status_at_time(at: datetime) -> Any:
    """An item's status at `at`, correlated to the item row: its last event by then, else how it began."""
    initial = case((item_t.c.source == "arxiv", "inbox"), else_="unread")
    # Its own alias of event, so that it also works inside a query that reads event itself.
    then = event_t.alias("status_then")
    last_event = (select(then.c.status).where(then.c.item_id == item_t.c.id, then.c.at <= at)
                  .order_by(then.c.at.desc(), then.c.id.desc()).limit(1).correlate(item_t).scalar_subquery())
    return func.coalesce(last_event, initial)


def _moves(at: datetime, later: datetime | None, every_item: bool) -> Any:
    """(slug, status later, status then, items) for live items whose status differs; slug '' is all."""
    status_later = item_t.c.status if later is None else status_at_time(later)
    query = select(item_t.c.id, status_later.label("now"), status_at_time(at).label("then")).where(_live())
    if not every_item:
        query = query.where(item_t.c.id.in_(select(event_t.c.item_id).where(_after(at, later))))
    # A common table expression used twice is computed once (SQLite materializes it); as a
    # subquery, its correlated status-then would run once for every place it is named.
    moved = query.cte("moved")
    overall = (select(literal("").label("slug"), moved.c.now, moved.c.then, func.count())
               .where(moved.c.now != moved.c.then).group_by(moved.c.now, moved.c.then))
    per_topic = (select(tag_t.c.slug, moved.c.now, moved.c.then, func.count())
                 .select_from(moved.join(tag_t, and_(tag_t.c.item_id == moved.c.id, tag_t.c.origin != "untag")))
                 .where(moved.c.now != moved.c.then).group_by(tag_t.c.slug, moved.c.now, moved.c.then))
    return union_all(overall, per_topic)


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
