"""Dates, ids and weeks at the edges (issue 21, findings 9, 10 and `--at ""` of 13)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.conftest import Cli, run_tracker
from tracker.errors import UsageError
from tracker.report.weeks import parse_week
from tracker.store import db as dbmod
from tracker.timeutil import iso_local, parse_when

OUTLINE = "# List\n\n" + "".join(f"- [entry {n}](http://127.0.0.1:9/{n})\n" for n in range(3))
NOW = datetime(2026, 11, 25, 12, 0)


@pytest.fixture
def listed(cli: Cli, tmp_path: Path) -> Cli:
    path = tmp_path / "list.md"
    path.write_text(OUTLINE, encoding="utf-8")
    cli("import", str(path))
    return cli


@pytest.mark.parametrize("value", ["2099-01-01", "9999-12-31T23:59:59", "2026-11-26T12:00:01+00:00",
                                   "1969-12-31T23:59:59+00:00", "0001-01-01", "", "   "])
def test_at_values_out_of_range_are_refused(value: str) -> None:
    with pytest.raises(UsageError):
        parse_when(value, now=NOW)


@pytest.mark.parametrize(("value", "stored"), [("2026-11-26T11:59:00+00:00", datetime(2026, 11, 26, 11, 59)),
                                               ("1970-01-01T00:00:00+00:00", datetime(1970, 1, 1)),
                                               ("2026-11-20T21:30Z", datetime(2026, 11, 20, 21, 30))])
def test_at_values_in_range_are_taken(value: str, stored: datetime) -> None:
    assert parse_when(value, now=NOW) == stored


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "Pacific/Kiritimati", "Etc/GMT+12"])
def test_the_far_ends_of_the_calendar_are_refused_in_every_time_zone(zone: str) -> None:
    import os
    import time

    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        for value in ("9999-12-31T23:59:59", "9999-12-31", "0001-01-01T00:00", "0001-01-01"):
            with pytest.raises(UsageError):
                parse_when(value)
        assert iso_local(datetime(9999, 12, 31, 23, 59, 59)).startswith("9999-12-31T")
        assert iso_local(datetime(1, 1, 1)).startswith("0001-01-01T")
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.parametrize("args", [["mark", "1", "reading", "--at", "2099-01-01"],
                                  ["mark", "1", "reading", "--at", "9999-12-31T23:59:59"],
                                  ["mark", "1", "reading", "--at", "1969-07-20"],
                                  ["mark", "1", "reading", "--at", ""],
                                  ["mark", "1", "reading", "--at="],
                                  ["show", "1000000000000000000000000"],
                                  ["mark", "99999999999999999999", "digested"],
                                  ["note", "18446744073709551616", "x"],
                                  ["report", "weekly", "--week", "0001-W01"],
                                  ["report", "weekly", "--week", "9999-W52"],
                                  ["report", "weekly", "--week", "1969-W52"],
                                  ["list", "--limit", "1000000000000000000000000"]])
def test_extreme_values_are_user_errors(listed: Cli, db_path: Path, args: list[str]) -> None:
    result = run_tracker(*args, env={"TZ": "Asia/Shanghai"})
    assert result.returncode == 2, (args, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, (args, result.stderr)
    assert listed.json("show", "1")["history"] == []


def test_a_refused_future_date_leaves_later_marks_working(listed: Cli) -> None:
    listed("mark", "1", "reading", "--at", "2099-01-01", code=2)
    assert listed.json("mark", "1", "digested") == {"changed": 1, "unchanged": 0}
    assert listed.json("show", "1")["status"] == "digested"


def test_the_largest_id_is_not_found_but_no_error(listed: Cli) -> None:
    result = listed("show", str(dbmod.MAX_ID), code=2)
    assert "no item" in result.stderr


@pytest.mark.parametrize("week", ["1970-W01", "9998-W52", "2026-W47"])
def test_weeks_in_range_are_reported(listed: Cli, week: str) -> None:
    assert parse_week(week)
    assert listed.json("report", "weekly", "--week", week)["week"] == week


def test_times_stored_at_the_calendars_end_do_not_break_the_commands(listed: Cli, database: dbmod.Database,
                                                                    db_path: Path) -> None:
    """A database written before dates were checked may hold 9999-12-31: show, next and export still work."""
    far = datetime(9999, 12, 31, 23, 59, 59)
    with database.write() as conn:
        conn.execute(update(dbmod.item_t).where(dbmod.item_t.c.id == 1).values(
            status="reading", status_at=far, started_at=far))
        conn.execute(dbmod.event_t.insert().values(item_id=1, status="reading", at=far, note=None))
        conn.execute(dbmod.event_t.insert().values(item_id=2, status="digested", at=datetime(1, 1, 1, 0, 0),
                                                   note=None))
    for zone in ("Asia/Shanghai", "America/New_York"):
        for args in (["show", "1"], ["show", "1", "--json"], ["next"], ["export", "--format", "json"],
                     ["export", "--format", "csv"], ["list"], ["report", "weekly"]):
            result = run_tracker(*args, env={"TZ": zone})
            assert result.returncode == 0, (zone, args, result.stderr)
            assert "Traceback" not in result.stderr
