"""The trigger-kept tally agrees with a direct count after any sequence of writes."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Cli
from tracker.store import db as dbmod
from tracker.store import tally

STATUSES = ("unread", "reading", "digested", "skipped", "inbox")
SLUGS = ("a", "b")
ORIGINS = ("auto", "section", "manual", "untag")


def counted(conn: sqlite3.Connection) -> Counter[tuple[str, str]]:
    """What the tally should say, counted from the rows."""
    out: Counter[tuple[str, str]] = Counter()
    for (status,) in conn.execute("SELECT status FROM item WHERE retired = 0"):
        out["", status] += 1
    for slug, status in conn.execute("SELECT t.slug, i.status FROM itemtopic t JOIN item i ON i.id = t.item_id "
                                     "WHERE i.retired = 0 AND t.origin != 'untag'"):
        out[slug, status] += 1
    return out


def kept(conn: sqlite3.Connection) -> Counter[tuple[str, str]]:
    return Counter({(slug, status): n for slug, status, n in conn.execute("SELECT slug, status, n FROM tally")
                    if n})


item_ids = st.integers(1, 4)
operations = st.lists(st.one_of(
    st.tuples(st.just("add_item"), st.sampled_from(STATUSES), st.booleans()),
    st.tuples(st.just("status"), item_ids, st.sampled_from(STATUSES)),
    st.tuples(st.just("retire"), item_ids, st.booleans()),
    st.tuples(st.just("both"), item_ids, st.sampled_from(STATUSES), st.booleans()),
    st.tuples(st.just("tag"), item_ids, st.sampled_from(SLUGS), st.sampled_from(ORIGINS)),
    st.tuples(st.just("origin"), item_ids, st.sampled_from(SLUGS), st.sampled_from(ORIGINS)),
    st.tuples(st.just("reslug"), item_ids, st.sampled_from(SLUGS), st.sampled_from(SLUGS)),
    st.tuples(st.just("move_tag"), item_ids, st.sampled_from(SLUGS), item_ids),
    st.tuples(st.just("untag_row"), item_ids, st.sampled_from(SLUGS)),
    st.tuples(st.just("drop_item"), item_ids),
), max_size=40)


def apply(conn: sqlite3.Connection, op: tuple[object, ...]) -> None:
    kind, *args = op
    try:
        if kind == "add_item":
            status, retired = args
            conn.execute("INSERT INTO item (key, title, kind, status, source, section, position, retired, notes, "
                         "added_at) VALUES (hex(randomblob(8)), 't', 'page', ?, 'outline', '', 0, ?, '', "
                         "'2026-01-01 00:00:00.000000')", (status, retired))
        elif kind == "status":
            conn.execute("UPDATE item SET status = ? WHERE id = ?", (args[1], args[0]))
        elif kind == "retire":
            conn.execute("UPDATE item SET retired = ? WHERE id = ?", (args[1], args[0]))
        elif kind == "both":
            conn.execute("UPDATE item SET status = ?, retired = ? WHERE id = ?", (args[1], args[2], args[0]))
        elif kind == "tag":
            conn.execute("INSERT INTO itemtopic (item_id, slug, origin, score) VALUES (?, ?, ?, 1.0) "
                         "ON CONFLICT (item_id, slug) DO UPDATE SET origin = excluded.origin", args)
        elif kind == "origin":
            conn.execute("UPDATE itemtopic SET origin = ? WHERE item_id = ? AND slug = ?", (args[2], args[0], args[1]))
        elif kind == "reslug":
            conn.execute("UPDATE itemtopic SET slug = ? WHERE item_id = ? AND slug = ?", (args[2], args[0], args[1]))
        elif kind == "move_tag":
            conn.execute("UPDATE itemtopic SET item_id = ? WHERE item_id = ? AND slug = ?", (args[2], args[0], args[1]))
        elif kind == "untag_row":
            conn.execute("DELETE FROM itemtopic WHERE item_id = ? AND slug = ?", args)
        elif kind == "drop_item":
            conn.execute("DELETE FROM item WHERE id = ?", args)
    except sqlite3.IntegrityError:
        pass  # a duplicate tag or a foreign key: refused, and so nothing to count


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_tally_matches_a_direct_count_after_any_writes(database: dbmod.Database, db_path: Path,
                                                         ops: list[tuple[object, ...]]) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    # Foreign keys off, so that an item can be deleted while its tags remain: the triggers must
    # hold whatever order rows go in.
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("BEGIN")
    try:
        # Three items to start from, so that most operations find their rows.
        for op in (("add_item", "unread", False), ("add_item", "reading", False), ("add_item", "digested", True),
                   ("tag", 1, "a", "auto"), ("tag", 2, "a", "section"), ("tag", 3, "b", "manual"), *ops):
            apply(conn, op)
            assert kept(conn) == counted(conn), op
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def test_a_paused_bulk_write_is_recounted_and_the_triggers_come_back(database: dbmod.Database) -> None:
    rows = tally.PAUSE_FROM
    before = triggers(database)
    with database.write() as conn, tally.paused(conn, rows):
        assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                                    "AND name LIKE 'tally%'").scalar() == 0
        dbmod.bulk_insert(conn, dbmod.item_t, [dict(key=f"k{i}", title="t", kind="page", status="unread",
                                                    source="outline", section="", position=i, retired=False,
                                                    notes="", added_at=dbmod.utcnow()) for i in range(rows)])
        dbmod.bulk_insert(conn, dbmod.tag_t, [dict(item_id=i, slug="a", origin="auto", score=1.0)
                                              for i in range(1, 101)])
    assert triggers(database) == before
    with database.write() as conn:  # the triggers are back: one more change is counted
        conn.exec_driver_sql("UPDATE item SET status = 'digested' WHERE id = 1")
    with database.read() as conn:
        assert sorted(tally.counts(conn)) == [("", "digested", 1), ("", "unread", rows - 1),
                                              ("a", "digested", 1), ("a", "unread", 99)]


def triggers(database: dbmod.Database) -> list[str]:
    with database.read() as conn:
        return list(conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
                    .scalars())


def test_an_error_inside_a_pause_leaves_triggers_and_tally_as_they_were(database: dbmod.Database) -> None:
    before = triggers(database)
    assert len(before) >= 6
    with pytest.raises(RuntimeError), database.write() as conn, tally.paused(conn, tally.PAUSE_FROM):
        conn.exec_driver_sql("INSERT INTO item (key, title, kind, status, source, section, position, retired, "
                             "notes, added_at) VALUES ('x', 't', 'page', 'unread', 'outline', '', 0, 0, '', "
                             "'2026-01-01 00:00:00.000000')")
        raise RuntimeError("boom")
    assert triggers(database) == before
    with database.read() as conn:
        assert tally.counts(conn) == []


def test_a_large_first_import_and_later_marks_keep_progress_exact(cli: Cli, tmp_path: Path) -> None:
    lines = ["# Big", "", "## 主要内容", "", "强化学习", "", "## 强化学习", ""]
    lines += [f"- [x] [Q-learning note {i}](https://example.org/rl/{i})" if i % 3 == 0 else
              f"- [Q-learning note {i}](https://example.org/rl/{i})" for i in range(tally.PAUSE_FROM + 10)]
    outline = tmp_path / "big.md"
    outline.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli("import", str(outline))
    cli("mark", "1", "2", "reading")
    found = cli.json("progress", "--json")
    total = tally.PAUSE_FROM + 10
    digested = len(range(0, total, 3)) - 1  # item 1 (note 0) was ticked, and is now being read
    assert (found["total"], found["digested"], found["reading"]) == (total, digested, 2)
    assert [(t["total"], t["digested"], t["reading"]) for t in found["topics"]] == [(total, digested, 2)]


def test_upgrading_a_database_counts_its_rows_into_the_tally(db_path: Path) -> None:
    url = "sqlite:///" + str(db_path)
    old = dbmod.open_db(url, upto=4)  # before the tally
    with old.write() as conn:
        raw = conn.connection.driver_connection
        ops = [("add_item", "digested", False), ("add_item", "reading", False), ("add_item", "unread", True),
               ("tag", 1, "a", "auto"), ("tag", 2, "a", "manual"), ("tag", 2, "b", "untag"), ("tag", 3, "b", "auto")]
        for op in ops:
            apply(raw, op)
    old.close()
    new = dbmod.open_db(url)
    with new.read() as conn:
        got = Counter({(slug, status): n for slug, status, n in tally.counts(conn)})
    new.close()
    with sqlite3.connect(db_path) as conn:
        assert got == counted(conn) == Counter({("", "digested"): 1, ("", "reading"): 1, ("a", "digested"): 1,
                                                ("a", "reading"): 1})


def test_a_caught_error_inside_a_pause_still_leaves_triggers_and_a_true_tally(database: dbmod.Database) -> None:
    before = triggers(database)
    with database.write() as conn:
        try:
            with tally.paused(conn, tally.PAUSE_FROM):
                conn.exec_driver_sql("INSERT INTO item (key, title, kind, status, source, section, position, "
                                     "retired, notes, added_at) VALUES ('x', 't', 'page', 'reading', 'outline', '', "
                                     "0, 0, '', '2026-01-01 00:00:00.000000')")
                raise RuntimeError("handled by the caller, who commits")
        except RuntimeError:
            pass
    assert triggers(database) == before
    with database.read() as conn:
        assert tally.counts(conn) == [("", "reading", 1)]


def test_databases_without_the_tally_count_the_same_progress(cli: Cli, tmp_path: Path, db_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.report.test_weekly import setup
    from tracker.report.progress import compute_progress

    ids = setup(cli, tmp_path)
    cli("mark", str(ids["Basics one"]), "digested")
    cli("mark", str(ids["GAN one"]), "reading")
    cli("tag", str(ids["GAN one"]), "basics")
    database = dbmod.open_db("sqlite:///" + str(db_path))
    with database.read() as conn:
        kept = compute_progress(conn).as_json()
        monkeypatch.setattr(tally, "available", lambda conn: False)  # as on any other database
        direct = compute_progress(conn).as_json()
    database.close()
    assert direct == kept and kept["digested"] == 1 and kept["reading"] == 1
