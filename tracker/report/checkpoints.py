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

from tracker.report import days
from tracker.report.days import day_start
from tracker.report.moments import moved_back
from tracker.report.progress import Progress, TopicProgress, compute_progress
from tracker.report.weeks import week_of
from tracker.store import tally
from tracker.store.states import STATUSES
from tracker.store.tables import checkpoint_t, event_t, weekclose_t
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


def close_weeks(conn: Connection, now: datetime | None = None) -> int:
    """Store a checkpoint at every week start since the first status event that lacks one; return how many."""
    if not tally.available(conn):
        return 0
    first = conn.execute(select(func.min(event_t.c.at))).scalar()
    if first is None:
        return 0
    mondays = {day_start(monday): monday for monday in week_mondays(first, now or datetime.now().astimezone())}
    starts = list(mondays)
    closed = closed_weeks(conn)
    missing = [start for start in starts if start not in closed]
    if not missing:
        return 0
    # Counts: walk back from now, one week at a time, so that each step looks only at that week's changes.
    progress, later = compute_progress(conn), None
    for start in reversed(starts):
        if start in closed:
            found = nearest_after(conn, start - timedelta(microseconds=1), progress)
            assert found is not None
            later, progress = found
            continue
        at = start - timedelta(microseconds=1)
        progress = moved_back(conn, progress, at, None if later is None else later - timedelta(microseconds=1))
        _store_counts(conn, start, progress)
        later = start
    # Streaks and weekly counts: forward, so that each week's streak ends in the one stored before it.
    streaks = {moment: streak for moment, (streak, _) in closed.items()}
    for start in missing:
        sunday = mondays[start] - timedelta(days=1)
        streaks[start] = days.streak(conn, sunday, streaks)
        digested = days.digested_between(conn, day_start(sunday - timedelta(days=6)), start)
        conn.execute(weekclose_t.insert().values(moment=start, streak=streaks[start], digested=digested))
    return len(missing)


def _store_counts(conn: Connection, moment: datetime, progress: Progress) -> None:
    rows = []
    for slug, counts in (("", progress), *((t.slug, t) for t in progress.topics)):
        rows += [dict(moment=moment, slug=slug, status=status, n=getattr(counts, status))
                 for status in STATUSES if getattr(counts, status)]
    if rows:
        conn.execute(checkpoint_t.insert(), rows)
