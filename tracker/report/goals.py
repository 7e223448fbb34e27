"""Per-topic weekly goals, which the weekly report measures the pace against."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from tracker.errors import UsageError
from tracker.store.models import Goal
from tracker.topics import check_topic

goal_t = Goal.__table__  # type: ignore[attr-defined]


def set_goal(conn: Connection, slug: str, per_week: int | None) -> None:
    """Set (or with 0 remove) a topic's weekly goal."""
    check_topic(conn, slug)
    if per_week is None or per_week < 0:
        raise UsageError("give the number of items to digest per week, e.g. `tracker goal cnn 3`")
    conn.execute(delete(goal_t).where(goal_t.c.slug == slug))
    if per_week > 0:
        conn.execute(goal_t.insert().values(slug=slug, per_week=per_week))


def list_goals(conn: Connection) -> list[dict[str, object]]:
    """Every goal, by slug."""
    return [{"slug": r.slug, "per_week": r.per_week}
            for r in conn.execute(select(goal_t).order_by(goal_t.c.slug))]
