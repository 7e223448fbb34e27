"""The database layer: migrations, WAL, concurrent writers, bad databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select
from sqlmodel import SQLModel

from tests.conftest import Cli, run_tracker
from tracker.errors import DatabaseError
from tracker.store import db as dbmod
from tracker.store import migrations


def test_blank_database_matches_the_models(db_path: Path) -> None:
    database = dbmod.open_db("sqlite:///" + str(db_path))
    insp = inspect(database.engine)
    for name, table in SQLModel.metadata.tables.items():
        stored = {c["name"] for c in insp.get_columns(name)}
        declared = {c.name for c in table.columns}
        assert stored == declared, name
    database.close()


def test_upgrade_from_first_migration_keeps_rows(db_path: Path) -> None:
    url = "sqlite:///" + str(db_path)
    old = dbmod.open_db(url, upto=1)
    with old.write() as conn:
        conn.exec_driver_sql(
            "INSERT INTO item (key, title, kind, status, source, section, position, retired, notes, added_at) "
            "VALUES ('https://a.example/x', 'A', 'page', 'reading', 'outline', '', 0, 0, 'my note', "
            "'2026-01-01 00:00:00')")
        conn.exec_driver_sql("INSERT INTO event (item_id, status, at) VALUES (1, 'reading', '2026-01-01 00:00:00')")
    old.close()
    new = dbmod.open_db(url)
    with new.read() as conn:
        names = set(migrations.applied(conn))
        row = conn.execute(select(dbmod.item_t.c.title, dbmod.item_t.c.notes, dbmod.item_t.c.status)).one()
        events = conn.exec_driver_sql("SELECT count(*) FROM event").scalar()
    new.close()
    assert names == {m.__name__ for m in migrations.MIGRATIONS}
    assert tuple(row) == ("A", "my note", "reading")
    assert events == 1


def test_sqlite_runs_in_wal_mode(database: dbmod.Database, db_path: Path) -> None:
    with database.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert Path(str(db_path) + "-wal").exists() or sqlite3.connect(db_path).execute(
        "PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_applies_nothing_twice(db_path: Path) -> None:
    url = "sqlite:///" + str(db_path)
    dbmod.open_db(url).close()
    database = dbmod.open_db(url)
    with database.read() as conn:
        assert migrations.migrate(conn) == []
    database.close()


def test_a_directory_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="directory"):
        dbmod.open_db("sqlite:///" + str(tmp_path))


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(DatabaseError, match="cannot open database"):
        dbmod.open_db("sqlite:///" + str(bogus))


def test_cli_reports_a_bad_database_in_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_bytes(b"garbage" * 500)
    result = run_tracker("--db", str(bogus), "progress", "--json")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert bogus.read_bytes() == b"garbage" * 500


def test_two_writers_at_once_both_succeed(db_path: Path) -> None:
    """Immediate transactions plus a busy timeout: concurrent writers queue instead of failing."""
    import threading

    url = "sqlite:///" + str(db_path)
    dbmod.open_db(url).close()
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        database = dbmod.open_db(url)
        try:
            for i in range(200):
                with database.write() as conn:
                    conn.exec_driver_sql(
                        "INSERT INTO item (key, title, kind, status, source, section, position, retired, notes, "
                        f"added_at) VALUES ('{tag}-{i}', 't', 'page', 'unread', 'outline', '', 0, 0, '', "
                        "'2026-01-01 00:00:00')")
                    n = conn.exec_driver_sql("SELECT count(*) FROM item").scalar()
                    conn.exec_driver_sql(f"UPDATE item SET position = {n} WHERE key = '{tag}-{i}'")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM item").fetchone()[0] == 600


def test_bulk_insert_stores_times_exactly_as_sqlalchemy_does(database: dbmod.Database) -> None:
    """Times are compared as strings in SQLite: both write paths must produce the same text."""
    from datetime import datetime

    from tracker.store.models import Event

    event_t = Event.__table__  # type: ignore[attr-defined]
    whole, fine = datetime(2026, 11, 20, 10, 0, 0), datetime(2026, 11, 20, 10, 0, 0, 250)
    with database.write() as conn:
        conn.exec_driver_sql("INSERT INTO item (key, title, kind, status, source, section, position, retired, "
                             "notes, added_at) VALUES ('k', 't', 'page', 'unread', 'outline', '', 0, 0, '', "
                             "'2026-01-01 00:00:00.000000')")
        dbmod.bulk_insert(conn, event_t, [dict(item_id=1, status="reading", at=whole, note=None),
                                          dict(item_id=1, status="digested", at=fine, note=None)])
        conn.execute(event_t.insert().values(item_id=1, status="unread", at=whole))
    with database.read() as conn:
        stored = [r[0] for r in conn.exec_driver_sql("SELECT at FROM event ORDER BY id")]
        same_instant = conn.execute(select(event_t.c.id).where(event_t.c.at == whole)).scalars().all()
    assert stored[0] == stored[2] == "2026-11-20 10:00:00.000000"
    assert stored[1] == "2026-11-20 10:00:00.000250"
    assert same_instant == [1, 3]


def test_an_items_children_are_found_by_index(database: dbmod.Database) -> None:
    """An item page asks for the item's children; SQLite must not read every item to answer."""
    with database.read() as conn:
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM item WHERE parent_id = 1"))
    assert "ix_item_parent_id" in plan, plan


def _indexes(db_path: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(db_path) as conn:
        return sorted(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall())


def test_indexes_built_after_a_fill_come_back_as_they_were(database: dbmod.Database, db_path: Path) -> None:
    before = _indexes(db_path)
    insert = ("INSERT INTO item (key, title, kind, status, source, section, position, retired, notes, added_at) "
              "VALUES (?, 't', 'page', 'unread', 'outline', '', ?, 0, '', '2026-01-01 00:00:00')")
    with database.write() as conn, dbmod.indexes_built_after(conn, ("item",)):
        inside = {name for name, table in conn.exec_driver_sql(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'") if table == "item"}
        assert inside == {"sqlite_autoindex_item_1"}  # the plain ones are gone; the unique one stays
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        raw.executemany(insert, [(f"k{n}", n) for n in range(50)])
        with pytest.raises(sqlite3.IntegrityError):  # the unique key still holds inside
            raw.execute(insert, ("k1", 99))
    assert _indexes(db_path) == before
    with sqlite3.connect(db_path) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        plan = " ".join(row[3] for row in check.execute("EXPLAIN QUERY PLAN SELECT id FROM item WHERE arxiv_id = 'x'"))
        assert "ix_item_arxiv_id" in plan


def test_a_caught_error_inside_still_brings_the_indexes_back(database: dbmod.Database, db_path: Path) -> None:
    before = _indexes(db_path)
    with database.write() as conn:
        try:
            with dbmod.indexes_built_after(conn, ("item", "event")):
                raise RuntimeError("handled by the caller, who commits")
        except RuntimeError:
            pass
    assert _indexes(db_path) == before


def test_a_first_import_makes_the_same_indexes_as_the_migrations(cli: Cli, tmp_path: Path, db_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.store import tally

    cli("list")  # a migrated, empty database
    before = _indexes(db_path)
    deferred: list[tuple[str, ...]] = []
    built_after = dbmod.indexes_built_after

    def spy(conn: Any, tables: tuple[str, ...]) -> Any:
        deferred.append(tuple(tables))
        return built_after(conn, tables)

    monkeypatch.setattr(dbmod, "indexes_built_after", spy)
    outline = tmp_path / "big.md"
    outline.write_text("# Big\n\n## 强化学习\n\n" + "".join(
        f"- [Q-learning note {i}](https://example.org/rl/{i})\n" for i in range(tally.PAUSE_FROM + 10)),
        encoding="utf-8")
    cli("import", str(outline))
    assert deferred == [("item", "event", "itemtopic")]  # the path under test was taken
    assert _indexes(db_path) == before
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    outline.write_text(outline.read_text(encoding="utf-8") + "- [one more](https://example.org/rl/more)\n",
                       encoding="utf-8")
    cli("import", str(outline))  # not a first import: nothing deferred
    assert deferred[1:] == [()]
