"""Week checkpoints: reports read from them say exactly what reports counted from now say."""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.report.test_weekly import local_tz, setup  # noqa: F401  (local_tz is a fixture)
from tracker.report import checkpoints, moments
from tracker.store import db as dbmod
from tracker.timeutil import to_utc

WEEKS = ["2026-W40", "2026-W42", "2026-W44", "2026-W45", "2026-W46", "2026-W47"]


def history(cli: Cli, ids: dict[str, int], seed: int = 5) -> None:
    """Random back-dated marks over eight weeks, Monday midnights and Sunday nights included."""
    rng = random.Random(seed)
    start = datetime(2026, 9, 28)
    for _ in range(40):
        at = start + timedelta(minutes=rng.randrange(8 * 7 * 24 * 60))
        if rng.random() < 0.2:
            at = at.replace(hour=0, minute=0)  # on a day's first minute, Mondays among them
        status = rng.choice(["reading", "digested", "digested", "skipped", "unread"])
        cli("mark", str(rng.choice(list(ids.values()))), status, "--at", at.strftime("%Y-%m-%dT%H:%M"))


def reports(cli: Cli) -> dict[str, Any]:
    out = {}
    for week in WEEKS:
        report = cli.json("report", "weekly", "--week", week)
        report.pop("suggestions")  # reasons name "reading since" dates, the same either way
        out[week] = report
    return out


def stored(database: dbmod.Database) -> list[datetime]:
    with database.read() as conn:
        return sorted(checkpoints.closed_weeks(conn))


def close(database: dbmod.Database, now: datetime) -> int:
    with database.write() as conn:
        return moments.close_weeks(conn, now.astimezone())


NOW = datetime(2026, 11, 25, 12, 0)


def closed_history(cli: Cli, tmp_path: Path, db_path: Path, seed: int) -> tuple[dict[str, int], dbmod.Database,
                                                                                list[datetime]]:
    """A random history with its weeks closed: the item ids, the open database, the closed weeks."""
    ids = setup(cli, tmp_path)
    history(cli, ids, seed=seed)
    database = dbmod.open_db("sqlite:///" + str(db_path))
    close(database, NOW)
    return ids, database, stored(database)


def test_reports_from_checkpoints_equal_reports_counted_from_now(cli: Cli, tmp_path: Path, db_path: Path,
                                                                   local_tz: str) -> None:  # noqa: F811
    ids = setup(cli, tmp_path)
    history(cli, ids)
    counted = reports(cli)
    database = dbmod.open_db("sqlite:///" + str(db_path))
    written = close(database, NOW)
    assert written == len(stored(database)) >= 9  # every week start from the first mark's week to this one
    assert reports(cli) == counted
    assert close(database, NOW) == 0  # nothing new to close
    database.close()


def test_writes_drop_exactly_the_checkpoints_they_change(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    ids, database, moments = closed_history(cli, tmp_path, db_path, seed=8)
    # A mark back-dated into week 44 changes the checkpoints after it, not those before.
    cli("mark", str(ids["Basics one"]), "reading", "--at", "2026-10-28T10:00")
    kept = stored(database)
    event_at = to_utc(datetime(2026, 10, 28, 10, 0))
    assert kept == [m for m in moments if m <= event_at] and 0 < len(kept) < len(moments)
    counted = reports(cli)
    close(database, NOW)
    assert stored(database) == moments and reports(cli) == counted
    # A new tag changes past per-topic counts: every checkpoint goes.
    cli("tag", str(ids["GAN one"]), "basics")
    assert stored(database) == []
    close(database, NOW)
    assert reports(cli) == counted_now(cli)
    database.close()


def counted_now(cli: Cli) -> dict[str, Any]:
    """The reports with no checkpoints to start from."""
    saved = checkpoints.nearest_after, checkpoints.closed_weeks
    try:
        checkpoints.nearest_after = lambda *args, **kwargs: None  # type: ignore[assignment]
        checkpoints.closed_weeks = lambda *args: {}  # type: ignore[assignment]
        return reports(cli)
    finally:
        checkpoints.nearest_after, checkpoints.closed_weeks = saved


def test_a_paper_arriving_in_the_inbox_keeps_the_checkpoints(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    from tests.papers.records_factory import record
    from tracker.papers.store import store_papers

    _, database, moments = closed_history(cli, tmp_path, db_path, seed=9)
    with database.write() as conn:
        store_papers(conn, [record("2401.00001", title="A new GAN")], datetime(2026, 11, 24), query_slug="gen")
    assert stored(database) == moments
    cli("papers", "accept", "2401.00001")  # accepted now: the past is as it was
    assert stored(database) == moments
    database.close()


@pytest.mark.parametrize("weeks", [0, 3])
def test_sync_closes_the_weeks(cli: Cli, tmp_path: Path, weeks: int) -> None:
    ids = setup(cli, tmp_path)
    for back in range(weeks):
        cli("mark", str(ids["Basics one"]), "reading", "--at",
            (datetime.now() - timedelta(weeks=back + 1)).strftime("%Y-%m-%dT%H:%M"))
    found = cli.json("sync", "--json", code=None)
    assert found["weeks"]["closed"] == (weeks + 1 if weeks else 0)


def test_a_long_streak_and_the_chart_read_the_closed_weeks(cli: Cli, tmp_path: Path, db_path: Path,
                                                           local_tz: str) -> None:  # noqa: F811
    ids = setup(cli, tmp_path)
    items = [ids["Basics one"], ids["Basics two"]]
    for day in range(28):  # every day from Monday 26 October to Sunday 22 November
        moment = datetime(2026, 10, 26) + timedelta(days=day)
        item = items[day % 2]
        cli("mark", str(item), "reading", "--at", (moment + timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M"))
        cli("mark", str(item), "digested", "--at", (moment + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M"))
    database = dbmod.open_db("sqlite:///" + str(db_path))
    assert close(database, NOW) == 5  # the starts of weeks 44 to 48
    with database.read() as conn:
        closed = checkpoints.closed_weeks(conn)
    database.close()
    assert sorted(streak for streak, _ in closed.values()) == [0, 7, 14, 21, 28]
    assert sorted(digested for _, digested in closed.values()) == [0, 2, 2, 2, 2]
    report = cli.json("report", "weekly", "--week", "2026-W47")
    assert report["streak_days"] == 28
    # The streak before week 47 is read from its closed week, not probed: a stored value shows through.
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE weekclose SET streak = streak + 100 WHERE streak = 21")
    assert cli.json("report", "weekly", "--week", "2026-W47")["streak_days"] == 128
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE weekclose SET streak = streak - 100 WHERE streak = 121")
    assert [w["digested"] for w in report["history"][-5:]] == [0, 2, 2, 2, 2]
    assert reports(cli) == counted_now(cli)


@pytest.fixture
def tehran(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Iran's clocks went forward at midnight on Monday 22 March 2021: that Monday had no 00:00."""
    monkeypatch.setenv("TZ", "Asia/Tehran")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_weeks_close_where_a_monday_has_no_midnight(cli: Cli, tmp_path: Path, db_path: Path, tehran: None) -> None:
    ids = setup(cli, tmp_path)
    cli("mark", str(ids["Basics one"]), "digested", "--at", "2021-03-10T12:00")
    cli("mark", str(ids["Basics two"]), "digested", "--at", "2021-03-24T12:00")
    counted = {week: cli.json("report", "weekly", "--week", week) for week in ("2021-W11", "2021-W12", "2021-W13")}
    database = dbmod.open_db("sqlite:///" + str(db_path))
    assert close(database, datetime(2021, 4, 20, 12, 0)) == 7  # the Mondays from 8 March to 19 April
    database.close()
    assert {week: cli.json("report", "weekly", "--week", week) for week in counted} == counted


def test_a_first_import_tags_the_items_it_takes_over(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    from tests.papers.records_factory import record
    from tests.test_import import write
    from tracker.papers.store import store_papers

    database = dbmod.open_db("sqlite:///" + str(db_path))
    with database.write() as conn:
        store_papers(conn, [record("2401.00001", title="A new GAN")], datetime(2026, 11, 24))
    database.close()
    outline = write(tmp_path / "course.md", "# Course\n\n## Basics\n\n- [A new GAN](https://arxiv.org/abs/2401.00001)\n")
    write(tmp_path / "course.topics.toml", '[[topic]]\nslug = "basics"\ntitle = "Basics"\n')
    cli("import", str(outline))
    shown = cli.json("show", "2401.00001")
    assert shown["status"] == "unread" and shown["topics"] == ["basics"]
