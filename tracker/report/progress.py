"""Study progress per outline topic now: the value classes every report shares, and today's counts.

`percent` is digested / (total − skipped) × 100, to one decimal. Retired items and
papers still in the inbox (or dismissed) are not part of the reading list, so they
never count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection

from tracker.store import tally
from tracker.store.states import STATUSES

if TYPE_CHECKING:
    from rich.console import RenderableType
    from sqlalchemy import ColumnElement

# Plain SQL for the one query `tracker progress` always runs: with the tally, it then needs no table
# handles at all, not even `tracker.store.tables`. The counts at past moments, in `moments`, use those.
# The report modules build on each other one way: progress (now) <- checkpoints (stored week starts)
# <- moments (any past moment, and the closing of weeks) <- weekly, next.
_TOPICS = text("SELECT slug, title, group_no FROM topic ORDER BY outline_id, position, id")


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

    def add_counts(self, rows: Iterable[tuple[str, str, int]]) -> None:
        """Count (slug, status, n) rows: slug '' is the whole list, other slugs their topic (unknown ones left out)."""
        by_slug = {t.slug: t for t in self.topics}
        for slug, status, n in rows:
            counts = self if slug == "" else by_slug.get(slug)
            if counts is not None:
                counts.add(status, n)

    def as_json(self) -> dict[str, object]:
        """The contract's `progress --json` shape (plus each topic's group)."""
        def counts(c: Counts) -> dict[str, object]:
            # By hand: dataclasses.asdict deep-copies, a visible share of `tracker progress` with many topics.
            return {"total": c.total, "digested": c.digested, "reading": c.reading, "unread": c.unread,
                    "skipped": c.skipped, "percent": c.percent}

        return {**counts(self), "topics": [{"slug": t.slug, "title": t.title, "group": t.group, **counts(t)}
                                           for t in self.topics]}


def _topics(conn: Connection) -> list[TopicProgress]:
    return [TopicProgress(slug=slug, title=title, group=group) for slug, title, group in conn.execute(_TOPICS)]


def live() -> ColumnElement[bool]:
    """The condition for items on the reading list (not retired)."""
    # Past totals count today's list, not only what had been imported by then: a learner who
    # back-dates a mark says the item was on their list, and papers still waiting in the inbox
    # at that moment drop out through their replayed status.
    from tracker.store.tables import item_t

    return item_t.c.retired.is_(False)


def compute_progress(conn: Connection) -> Progress:
    """Progress now, from each item's status (at a past moment: `moments.progress_at`)."""
    progress = Progress(topics=_topics(conn))
    _current(conn, progress)
    return progress


def _current(conn: Connection, progress: Progress) -> None:
    if tally.available(conn):  # kept by triggers: a few thousand rows at most, whatever the list's size
        progress.add_counts(tally.counts(conn))
        return
    # Elsewhere two aggregate queries, which join every tag to its item.
    from sqlalchemy import func, select

    from tracker.store.tables import item_t, tag_t

    for status, n in conn.execute(select(item_t.c.status, func.count()).where(live())
                                  .group_by(item_t.c.status)):
        progress.add(status, n)
    query = (select(tag_t.c.slug, item_t.c.status, func.count())
             .select_from(tag_t.join(item_t, item_t.c.id == tag_t.c.item_id))
             .where(tag_t.c.origin != "untag", live(), item_t.c.status.in_(STATUSES))
             .group_by(tag_t.c.slug, item_t.c.status))
    progress.add_counts(conn.execute(query))


def render_progress(progress: Progress) -> RenderableType:
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
