"""Days and weeks of digesting: the streak of consecutive days, and items digested in a span.

Both read only the (status, at, item_id) event index. Week checkpoints (see `checkpoints`) store
each closed week's streak and count, so that a long streak or a chart of past weeks need not be
counted again from the events.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.engine import Connection

from tracker.store.tables import event_t
from tracker.timeutil import to_utc

if TYPE_CHECKING:
    from sqlalchemy import Select

# Days probed per statement, one EXISTS each.
BATCH = 31


@cache
def _digested_on_days() -> Select:
    # Built once, when first needed: building it costs as much as a few of the probes it replaces.
    return select(*(exists(select(event_t.c.id).where(
        event_t.c.at >= bindparam(f"start{i}"), event_t.c.at < bindparam(f"end{i}"), event_t.c.status == "digested"))
        for i in range(BATCH)))


def day_start(day: date) -> datetime:
    """A local day's first instant, as stored (naive UTC)."""
    return to_utc(datetime.combine(day, time()))


def streak(conn: Connection, last_day: date, stored: Mapping[datetime, int] | None = None) -> int:
    """Consecutive local days with something digested, ending on `last_day`.

    `stored` maps a week's start (naive UTC) to the streak that ended on the Sunday before it: where
    the walk back reaches such a Monday, the rest is read from there instead of probed.
    """
    stored = stored or {}
    count, day = 0, last_day
    while True:
        params = {}
        for i in range(BATCH):
            current = day - timedelta(days=i)
            params[f"start{i}"] = day_start(current)
            params[f"end{i}"] = day_start(current + timedelta(days=1))
        for i, found in enumerate(conn.execute(_digested_on_days(), params).one()):
            if not found:
                return count
            count += 1
            current = day - timedelta(days=i)
            if current.weekday() == 0 and params[f"start{i}"] in stored:
                return count + stored[params[f"start{i}"]]
        day -= timedelta(days=BATCH)


def digested_between(conn: Connection, start: datetime, end: datetime) -> int:
    """Distinct items with a `digested` event in [start, end)."""
    return int(conn.execute(select(func.count(event_t.c.item_id.distinct())).where(
        event_t.c.status == "digested", event_t.c.at >= start, event_t.c.at < end)).scalar_one())
