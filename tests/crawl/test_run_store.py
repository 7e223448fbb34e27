"""Storing crawl results in batches: one statement per shape, and a row another crawl stored first."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from tracker.crawl.reading import Outcome
from tracker.crawl.run import Due, fetch_t, store
from tracker.store import db as dbmod

NOW = datetime(2026, 11, 25, 8, 0)


def _db(tmp_path: Path, n: int) -> dbmod.Database:
    database = dbmod.open_db(f"sqlite:///{tmp_path / 's.db'}")
    with database.write() as conn:
        conn.execute(dbmod.item_t.insert(), [dict(key=f"https://x.example/{i}", url=f"https://x.example/{i}",
                                                  title=f"item {i}", kind="web", status="unread", source="outline",
                                                  section="", position=i, retired=False, notes="", added_at=NOW)
                                             for i in range(n)])
    return database


def _ok(title: str) -> Outcome:
    return Outcome(state="ok", http_status=200, final_url="https://x.example/", error=None, title=title,
                   meta={"description": title}, text="body", children=(), etag='"e"')


def _gone() -> Outcome:
    return Outcome(state="gone", http_status=404, final_url="https://x.example/", error="HTTP 404", title=None,
                   meta={}, text="", children=())


def test_a_batch_mixes_new_and_known_rows_and_failures_keep_earlier_metadata(tmp_path: Path) -> None:
    database = _db(tmp_path, 4)
    first = [Due(id=i, url=f"https://x.example/{i - 1}", parent_id=None, etag=None, last_modified=None, attempts=0)
             for i in (1, 2, 3)]
    with database.write() as conn:
        store(conn, [(first[0], _ok("one")), (first[1], _ok("two")), (first[2], _gone())], NOW, 50)
    again = [Due(id=1, url="u", parent_id=None, etag='"e"', last_modified=None, attempts=0, fetched=True),
             Due(id=3, url="u", parent_id=None, etag=None, last_modified=None, attempts=1, fetched=True),
             Due(id=4, url="u", parent_id=None, etag=None, last_modified=None, attempts=0)]
    with database.write() as conn:
        store(conn, [(again[0], _gone()), (again[1], _gone()), (again[2], _ok("four"))], NOW, 50)
    with database.read() as conn:
        rows = {r.item_id: r for r in conn.execute(select(fetch_t))}
    assert sorted(rows) == [1, 2, 3, 4]
    assert rows[1].state == "gone" and rows[1].title == "one"  # a failure keeps what the page said before
    assert json.loads(rows[1].meta) == {"description": "one"} and rows[1].attempts == 1
    assert rows[2].state == "ok" and rows[2].title == "two"
    assert rows[3].state == "gone" and rows[3].attempts == 2
    assert rows[4].title == "four"
    database.close()


def test_rows_another_crawl_stored_meanwhile_are_updated_not_duplicated(tmp_path: Path) -> None:
    database = _db(tmp_path, 3)
    items = [Due(id=i, url="u", parent_id=None, etag=None, last_modified=None, attempts=0) for i in (1, 2, 3)]
    with database.write() as conn:  # another crawl got to item 2 first
        store(conn, [(items[1], _ok("theirs"))], NOW, 50)
    with database.write() as conn:  # this crawl still believes none of the three has a row
        store(conn, [(item, _ok(f"ours {item.id}")) for item in items], NOW, 50)
    with database.read() as conn:
        rows = {r.item_id: r.title for r in conn.execute(select(fetch_t))}
    assert rows == {1: "ours 1", 2: "ours 2", 3: "ours 3"}
    database.close()


def test_requests_are_interleaved_by_host_each_host_in_its_own_order() -> None:
    from tracker.crawl.fetcher import host_key
    from tracker.crawl.run import interleave

    urls = [f"http://a.example/{i}" for i in range(4)] + ["http://b.example/0", "http://b.example:8080/0",
                                                           "http://b.example/1"]
    assert interleave(urls, host_key) == ["http://a.example/0", "http://b.example/0", "http://b.example:8080/0",
                                          "http://a.example/1", "http://b.example/1", "http://a.example/2",
                                          "http://a.example/3"]
    assert interleave([], host_key) == []


def test_a_failing_page_is_tried_again_after_a_day_a_week_then_a_month() -> None:
    from datetime import timedelta

    from tracker.crawl.reading import failed
    from tracker.crawl.run import _fetch_values

    waits = []
    for attempts in range(5):
        item = Due(id=1, url="https://x.example/1", parent_id=None, etag=None, last_modified=None,
                   attempts=attempts, fetched=attempts > 0)
        values = _fetch_values(item, failed("https://x.example/1", "HTTP 500", 500), NOW)
        assert values["attempts"] == attempts + 1
        waits.append((values["next_due"] - NOW).days)
    assert waits == [1, 7, 30, 30, 30]
    good = _fetch_values(item, _ok("t"), NOW)
    assert good["attempts"] == 0 and good["next_due"] - NOW == timedelta(days=30)  # a success starts over
