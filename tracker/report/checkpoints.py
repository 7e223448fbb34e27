"""Checkpoints: progress as it stood at the start of each past ISO week, kept for fast reports.

Progress at a past moment is today's progress taken back through every status change since, which
for a week a year ago means finding nearly every item's status then. `sync` closes the weeks
instead: it stores the counts at each week start once, walking back one week at a time (each step
costs only that week's changes). A report then starts from the nearest checkpoint after the moment
it needs. SQLite triggers (migration m007) drop the checkpoints that a later write makes wrong, so
a stored one is always exact; other databases have none and count from now.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from tracker.report.progress import Progress, TopicProgress
from tracker.report.weeks import week_of
from tracker.store import tally
from tracker.store.states import STATUSES
from tracker.store.tables import checkpoint_t, weekclose_t
from tracker.timeutil import to_local


def closed_weeks(conn: Connection) -> dict[datetime, tuple[int, int]]:
    """Each stored week end (naive UTC): the streak of days that ended with it, and the items digested in it."""
    if not tally.available(conn):
        return {}
    return {m: (s, d) for m, s, d in conn.execute(select(weekclose_t.c.moment, weekclose_t.c.streak,
                                                         weekclose_t.c.digested))}


def nearest_after(conn: Connection, at: datetime, shape: Progress,
                  until: datetime | None = None) -> tuple[datetime, Progress] | None:
    """The first checkpoint after `at` (and not after `until`) and the progress it holds (topics as in
    `shape`); None if there is none."""
    if not tally.available(conn):
        return None
    query = select(func.min(weekclose_t.c.moment)).where(weekclose_t.c.moment > at)
    if until is not None:
        query = query.where(weekclose_t.c.moment <= until)
    moment = conn.execute(query).scalar()
    if moment is None:
        return None
    progress = Progress(topics=[TopicProgress(slug=t.slug, title=t.title, group=t.group) for t in shape.topics])
    progress.add_counts(conn.execute(select(checkpoint_t.c.slug, checkpoint_t.c.status, checkpoint_t.c.n)
                                     .where(checkpoint_t.c.moment == moment)))
    return moment, progress


def week_mondays(first: datetime, now: datetime) -> list[date]:
    """The Mondays of every ISO week from the one holding `first` (naive UTC) to the one holding `now`."""
    # Stepped by dates: where clocks jump at midnight, a Monday's 00:00 does not exist, and converting
    # a week's end back to local time can land in the week before.
    monday = week_of(None, to_local(first)).monday
    last = week_of(None, now.astimezone()).monday
    mondays = []
    while monday <= last:
        mondays.append(monday)
        monday += timedelta(days=7)
    return mondays


def store_counts(conn: Connection, moment: datetime, progress: Progress) -> None:
    """Store `progress` as the checkpoint at `moment`."""
    rows = []
    for slug, counts in (("", progress), *((t.slug, t) for t in progress.topics)):
        rows += [dict(moment=moment, slug=slug, status=status, n=getattr(counts, status))
                 for status in STATUSES if getattr(counts, status)]
    if rows:
        conn.execute(checkpoint_t.insert(), rows)
