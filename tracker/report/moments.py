"""Progress as it stood at a past moment: today's counts taken back through the changes since.

Also where the weekly checkpoints come from: `close_weeks` rewinds week by week and stores each.

Only items whose status then differs from their status now move between the counts, and SQL
counts those moves: one index probe per item for its last event by each time, then a grouping by
topic. A week checkpoint after the moment, where one is stored, is a nearer place to start from.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, case, func, literal, select, union_all
from sqlalchemy.engine import Connection

from tracker.report import checkpoints, days
from tracker.report.days import day_start
from tracker.report.progress import Progress, compute_progress, live
from tracker.store import tally
from tracker.store.tables import event_t, item_t, tag_t, weekclose_t

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, CompoundSelect

# Past this many status events since the moment, it is cheaper to look at every live item than to
# pick out the ones changed since.
REWIND_LIMIT = 50_000


def progress_at(conn: Connection, at: datetime) -> Progress:
    """Progress as it stood at time `at` (naive UTC)."""
    return rewound(conn, compute_progress(conn), at)


def rewound(conn: Connection, now: Progress, at: datetime,
            known: tuple[datetime, Progress] | None = None) -> Progress:
    """Today's progress taken back to time `at` (naive UTC), from the nearest checkpoint after it if any.

    `known` is a later moment already counted, and its progress (as of that moment, inclusive). Where
    no checkpoint lies between `at` and it, the rewind starts there and walks only the events in
    between: a week's start from its end, instead of every event since the week.
    """
    if known is not None and known[0] < at:
        known = None  # a moment before `at` cannot be rewound to it
    found = checkpoints.nearest_after(conn, at, now, until=known[0] if known is not None else None)
    if found is not None:
        moment, then = found
        return moved_back(conn, then, at, later=moment - timedelta(microseconds=1))
    if known is not None:
        moment, then = known
        return moved_back(conn, then, at, later=moment)
    return moved_back(conn, now, at)


def moved_back(conn: Connection, progress: Progress, at: datetime, later: datetime | None = None) -> Progress:
    """Progress as of `later` (default: now) taken back to the earlier time `at`.

    Python sees one row per (topic, status later, status then).
    """
    # Counts are flat dataclasses: copying each is far cheaper than deepcopy's generic walk.
    progress = replace(progress, topics=[replace(t) for t in progress.topics])
    events = conn.execute(select(func.count()).where(_after(at, later))).scalar_one()
    if events:
        moves = conn.execute(_moves(at, later, every_item=events > REWIND_LIMIT))
        progress.add_counts(row for slug, status_later, status_then, n in moves
                            for row in ((slug, status_later, -n), (slug, status_then, n)))
    return progress


def _after(at: datetime, later: datetime | None) -> ColumnElement[bool]:
    """Events after `at`, up to and including `later` when given."""
    return event_t.c.at > at if later is None else and_(event_t.c.at > at, event_t.c.at <= later)


def status_at_time(at: datetime) -> ColumnElement[str]:
    """An item's status at `at`, correlated to the item row: its last event by then, else how it began."""
    initial = case((item_t.c.source == "arxiv", "inbox"), else_="unread")
    # Its own alias of event, so that it also works inside a query that reads event itself.
    then = event_t.alias("status_then")
    last_event = (select(then.c.status).where(then.c.item_id == item_t.c.id, then.c.at <= at)
                  .order_by(then.c.at.desc(), then.c.id.desc()).limit(1).correlate(item_t).scalar_subquery())
    return func.coalesce(last_event, initial)


def _moves(at: datetime, later: datetime | None, every_item: bool) -> CompoundSelect:
    """(slug, status later, status then, items) for live items whose status differs; slug '' is all."""
    status_later = item_t.c.status if later is None else status_at_time(later)
    query = select(item_t.c.id, status_later.label("now"), status_at_time(at).label("then")).where(live())
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


def close_weeks(conn: Connection, now: datetime | None = None) -> int:
    """Store a checkpoint at every week start since the first status event that lacks one; return how many."""
    if not tally.available(conn):
        return 0
    first = conn.execute(select(func.min(event_t.c.at))).scalar()
    if first is None:
        return 0
    weeks = checkpoints.week_mondays(first, now or datetime.now().astimezone())
    mondays = {day_start(monday): monday for monday in weeks}
    starts = list(mondays)
    closed = checkpoints.closed_weeks(conn)
    missing = [start for start in starts if start not in closed]
    if not missing:
        return 0
    # Counts: walk back from now, one week at a time, so that each step looks only at that week's changes.
    progress, later = compute_progress(conn), None
    for start in reversed(starts):
        if start in closed:
            found = checkpoints.nearest_after(conn, start - timedelta(microseconds=1), progress)
            assert found is not None
            later, progress = found
            continue
        at = start - timedelta(microseconds=1)
        progress = moved_back(conn, progress, at, None if later is None else later - timedelta(microseconds=1))
        checkpoints.store_counts(conn, start, progress)
        later = start
    # Streaks and weekly counts: forward, so that each week's streak ends in the one stored before it.
    streaks = {moment: streak for moment, (streak, _) in closed.items()}
    for start in missing:
        sunday = mondays[start] - timedelta(days=1)
        streaks[start] = days.streak(conn, sunday, streaks)
        digested = days.digested_between(conn, day_start(sunday - timedelta(days=6)), start)
        conn.execute(weekclose_t.insert().values(moment=start, streak=streaks[start], digested=digested))
    return len(missing)
