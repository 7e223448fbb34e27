"""Study progress per outline topic, now or as it stood at any past moment.

`percent` is digested / (total − skipped) × 100, to one decimal. Retired items and
papers still in the inbox (or dismissed) are not part of the reading list, so they
never count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection

from tracker import db as dbmod
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
        def row(c: Counts) -> dict[str, Any]:
            out = {k: v for k, v in asdict(c).items() if k != "topics"}
            out["percent"] = c.percent
            return out

        return {**row(self), "topics": [row(t) for t in self.topics]}


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
    """Progress now (from each item's status) or at time `at` (naive UTC, from the history)."""
    progress = Progress(topics=_topics(conn))
    by_slug = {t.slug: t for t in progress.topics}
    if at is None:
        _current(conn, progress, by_slug)
    else:
        _historical(conn, progress, by_slug, at)
    return progress


def _current(conn: Connection, progress: Progress, by_slug: dict[str, TopicProgress]) -> None:
    # Two aggregate queries, whatever the size of the list: this is what `tracker progress` runs.
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


def statuses_at(conn: Connection, at: datetime) -> dict[int, str]:
    """Each live item's status at `at`: only items changed after `at` need their history read."""
    initial = case((item_t.c.source == "arxiv", "inbox"), else_="unread")
    current = {r.id: (r.status, r.initial) for r in conn.execute(
        select(item_t.c.id, item_t.c.status, initial.label("initial")).where(_live()))}
    changed = {r[0] for r in conn.execute(select(event_t.c.item_id).where(event_t.c.at > at).distinct())}
    out = {item_id: status for item_id, (status, _) in current.items()}
    ids = [i for i in changed if i in current]
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        last = (select(event_t.c.item_id, func.max(event_t.c.at).label("at"))
                .where(event_t.c.item_id.in_(chunk), event_t.c.at <= at)
                .group_by(event_t.c.item_id).subquery())
        before: dict[int, str] = {}
        rows = conn.execute(select(event_t.c.item_id, event_t.c.status).select_from(event_t.join(
            last, and_(event_t.c.item_id == last.c.item_id, event_t.c.at == last.c.at))).order_by(event_t.c.id))
        for item_id, status in rows:
            before[item_id] = status  # the latest id wins among events at the same instant
        for item_id in chunk:
            out[item_id] = before.get(item_id, current[item_id][1])
    return out


def progress_from_statuses(conn: Connection, status: dict[int, str]) -> Progress:
    """Progress from a known status of every live item (as `statuses_at` gives it)."""
    progress = Progress(topics=_topics(conn))
    _tally(conn, progress, {t.slug: t for t in progress.topics}, status)
    return progress


def _historical(conn: Connection, progress: Progress, by_slug: dict[str, TopicProgress], at: datetime) -> None:
    _tally(conn, progress, by_slug, statuses_at(conn, at))


def _tally(conn: Connection, progress: Progress, by_slug: dict[str, TopicProgress], status: dict[int, str]) -> None:
    for value in status.values():
        progress.add(value)
    for item_id, slug in conn.execute(select(tag_t.c.item_id, tag_t.c.slug).where(tag_t.c.origin != "untag")):
        topic = by_slug.get(slug)
        if topic is not None and item_id in status:
            topic.add(status[item_id])


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
