"""Progress now and at past moments, on rows written straight into a fresh database."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import pytest

from tests.conftest import Cli, run_tracker
from tracker.report import moments
from tracker.report.progress import compute_progress
from tracker.store import db as dbmod
from tracker.store.models import Event, Topic

topic_t = Topic.__table__  # type: ignore[attr-defined]
event_t = Event.__table__  # type: ignore[attr-defined]
T0 = datetime(2026, 11, 1, 12, 0)


def seed(database: dbmod.Database) -> None:
    """Two topics in two groups; six items, one retired, one an inbox paper."""
    with database.write() as conn:
        conn.execute(topic_t.insert(), [dict(slug="a", title="Topic A", group_no=1, position=0),
                                        dict(slug="b", title="Topic B", group_no=2, position=1)])
        rows = [("k1", "unread", "outline", False), ("k2", "unread", "outline", False),
                ("k3", "unread", "outline", False), ("k4", "unread", "outline", False),
                ("k5", "unread", "outline", True), ("k6", "inbox", "arxiv", False)]
        conn.execute(dbmod.item_t.insert(), [dict(key=k, title=k, kind="page", status=s, source=src, retired=r,
                                                  section="", position=i, notes="", added_at=T0)
                                             for i, (k, s, src, r) in enumerate(rows)])
        tags = [(1, "a", "auto"), (2, "a", "auto"), (3, "b", "auto"), (4, "b", "auto"), (5, "a", "auto"),
                (6, "a", "auto"), (4, "a", "untag")]
        conn.execute(dbmod.tag_t.insert(), [dict(item_id=i, slug=s, origin=o, score=1.0) for i, s, o in tags])


def change(database: dbmod.Database, item_id: int, status: str, at: datetime) -> None:
    from tracker.items import refresh_item_status

    with database.write() as conn:
        conn.execute(event_t.insert().values(item_id=item_id, status=status, at=at))
        refresh_item_status(conn, item_id)


def test_current_progress_counts_and_percent(database: dbmod.Database) -> None:
    seed(database)
    change(database, 1, "digested", datetime(2026, 11, 2))
    change(database, 2, "skipped", datetime(2026, 11, 3))
    change(database, 3, "reading", datetime(2026, 11, 3))
    with database.read() as conn:
        got = compute_progress(conn).as_json()
    assert got == {
        "total": 4, "digested": 1, "reading": 1, "unread": 1, "skipped": 1, "percent": 33.3,
        "topics": [
            {"slug": "a", "title": "Topic A", "group": 1, "total": 2, "digested": 1, "reading": 0, "unread": 0,
             "skipped": 1, "percent": 100.0},
            {"slug": "b", "title": "Topic B", "group": 2, "total": 2, "digested": 0, "reading": 1, "unread": 1,
             "skipped": 0, "percent": 0.0},
        ]}


def test_progress_at_a_past_moment_replays_history(database: dbmod.Database) -> None:
    seed(database)
    change(database, 1, "reading", datetime(2026, 11, 2))
    change(database, 1, "digested", datetime(2026, 11, 5))
    change(database, 3, "digested", datetime(2026, 11, 4))
    change(database, 3, "unread", datetime(2026, 11, 6))
    with database.read() as conn:
        before_any = moments.progress_at(conn, datetime(2026, 11, 1, 13))
        mid = moments.progress_at(conn, datetime(2026, 11, 4, 12))
        now = compute_progress(conn)
        before_added = moments.progress_at(conn, datetime(2026, 10, 1))
    assert (before_any.total, before_any.digested) == (4, 0)
    assert (mid.digested, mid.reading, mid.percent) == (1, 1, 25.0)
    assert [t.digested for t in mid.topics] == [0, 1]
    assert (now.digested, now.percent) == (1, 25.0)
    # Before any history, every item of today's list was unread; the inbox paper does not count.
    assert (before_added.total, before_added.unread, before_added.percent) == (4, 4, 0.0)


def test_cli_progress_json_and_text(cli: Cli, database: dbmod.Database) -> None:
    seed(database)
    change(database, 1, "digested", datetime(2026, 11, 2))
    data = cli.json("progress")
    assert data["digested"] == 1 and data["topics"][0]["percent"] == 50.0
    text = cli("progress").stdout
    assert "Topic A" in text and "50.0" in text and "█" in text


HEAVY = ("httpx", "bs4", "arxiv", "sklearn", "rich", "lxml", "sqlmodel", "sqlalchemy.orm", "tracker.store.models")


@pytest.mark.parametrize("args", [
    ("progress", "--json"),
    ("report", "weekly", "--format", "json"),
    ("report", "weekly", "--format", "md"),
    ("report", "weekly", "--format", "html"),
    ("next", "--json", "--topic", "a"),
    ("topics", "--json"),
])
def test_read_commands_import_no_models_network_or_parsing_libraries(args, database: dbmod.Database,  # type: ignore[no-untyped-def]
                                                                     db_path) -> None:
    """What keeps `progress`, the reports and `next` fast: they read through `tracker.store.tables`, not the models."""
    seed(database)
    change(database, 1, "digested", datetime(2026, 11, 2))
    probe = (f"import sys, runpy; sys.argv=['tracker', *{list(args)!r}]\n"
             "try:\n    runpy.run_module('tracker', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             f"heavy=[m for m in {HEAVY!r} if m in sys.modules]\n"
             "sys.stderr.write('HEAVY=' + ','.join(heavy))")
    import subprocess

    from tests.conftest import ROOT

    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env={"TRACKER_DB": str(db_path), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.stdout.strip(), result.stderr
    assert "HEAVY=" in result.stderr and result.stderr.split("HEAVY=")[1].strip() == ""
    if args[0] == "progress":
        assert json.loads(result.stdout)["total"] == 4
        assert run_tracker("progress", "--json").returncode == 0


def test_counting_at_a_moment_agrees_with_rewinding(database: dbmod.Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Far back, progress is counted directly instead of rewound; both must give the same answer."""
    import random



    seed(database)
    rng = random.Random(5)
    times = [datetime(2026, 11, 2 + day, hour) for day in range(6) for hour in (0, 9, 18)]
    for at in times:  # a history with same-instant events too (the later event wins)
        for item_id in rng.sample([1, 2, 3, 4, 5, 6], 2):
            change(database, item_id, rng.choice(["reading", "digested", "skipped", "unread", "dismissed"]), at)
    with database.read() as conn:
        today = compute_progress(conn)
        for at in [datetime(2026, 10, 30), *times, datetime(2026, 11, 9)]:
            monkeypatch.setattr(moments, "REWIND_LIMIT", 10**9)
            rewound = moments.rewound(conn, today, at).as_json()
            monkeypatch.setattr(moments, "REWIND_LIMIT", -1)
            counted = moments.rewound(conn, today, at).as_json()
            assert counted == rewound, at


def test_rewinding_from_a_later_known_moment_agrees_with_rewinding_from_now(database: dbmod.Database) -> None:
    """The weekly report takes a week's start back from its end; that must equal going back from today."""
    import random



    seed(database)
    rng = random.Random(8)
    times = [datetime(2026, 11, 2 + day, hour) for day in range(6) for hour in (0, 9, 18)]
    for at in times:
        for item_id in rng.sample([1, 2, 3, 4, 5, 6], 2):
            change(database, item_id, rng.choice(["reading", "digested", "skipped", "unread", "dismissed"]), at)
    walked_from: list[datetime | None] = []
    moved_back = moments.moved_back

    def spy(conn, progress, at, later=None):  # type: ignore[no-untyped-def]
        walked_from.append(later)
        return moved_back(conn, progress, at, later)

    with database.read() as conn:
        today = compute_progress(conn)
        for later in times[3::4]:
            known = (later, moments.rewound(conn, today, later))
            for at in [t for t in times if t < later] + [datetime(2026, 10, 30)]:
                walked_from.clear()
                moments.moved_back = spy  # type: ignore[assignment]
                try:
                    from_known = moments.rewound(conn, today, at, known=known).as_json()
                finally:
                    moments.moved_back = moved_back  # type: ignore[assignment]
                assert walked_from == [later]  # only the events between `at` and the known moment
                assert from_known == moments.rewound(conn, today, at).as_json(), (at, later)
