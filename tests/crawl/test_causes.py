"""Failure reasons grouped by cause for the crawl's one-line summary."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from tracker.crawl.causes import cause, causes_since, summary_line
from tracker.store import db as dbmod
from tracker.store.tables import fetch_t, item_t


def test_reasons_from_every_site_fall_into_a_few_causes() -> None:
    assert cause("zhihu login wall") == "login"
    assert cause("redirected to /signin") == "login"
    assert cause("login expired") == "login expired"
    assert cause("offline: no network") == "offline"
    assert cause("csdn verification page") == "anti-bot check"
    assert cause("timeout after 20 s") == "timeout"
    assert cause("HTTP 503") == "HTTP 503"
    assert cause("robots.txt disallows") == "robots.txt"
    assert cause(None) == "unknown"
    assert cause("something nobody foresaw") == "other"


def test_summary_line_names_states_with_their_causes() -> None:
    counts = {"checked": 90, "ok": 3, "unchanged": 0, "blocked": 79, "gone": 0, "error": 8, "skipped": 0}
    causes = {"blocked": Counter({"login": 79}), "error": Counter({"offline": 8})}
    assert summary_line(counts, causes) == "90 checked — 3 ok, 79 blocked (login), 8 error (offline)"
    mixed = {"error": Counter({"timeout": 5, "HTTP 503": 2, "offline": 1, "other": 1})}
    line = summary_line({"checked": 9, "error": 9}, mixed)
    assert line == "9 checked — 9 error (timeout 5, HTTP 503 2, offline 1, 1 more causes)"
    assert summary_line({"checked": 0}, {}) == "0 checked — nothing was due"


def test_causes_since_counts_only_this_runs_failures(database: dbmod.Database) -> None:
    now = dbmod.utcnow()
    with database.write() as conn:
        for i, (state, error, when) in enumerate([
            ("blocked", "zhihu login wall", now), ("blocked", "redirected to /login", now),
            ("error", "timeout after 20 s", now), ("ok", None, now),
            ("error", "timeout after 20 s", now - timedelta(days=2)),  # an older run's
        ], start=1):
            conn.execute(item_t.insert().values(id=i, key=f"k{i}", url=f"https://e.org/{i}", title=f"t{i}",
                                                kind="page", status="unread", position=i, source="outline",
                                                retired=False, notes="", added_at=now, section="",
                                                status_at=now))
            conn.execute(fetch_t.insert().values(item_id=i, state=state, error=error, checked_at=when, attempts=0,
                                                 meta="{}"))
    with database.read() as conn:
        found = causes_since(conn, now - timedelta(seconds=1))
    assert found == {"blocked": Counter({"login": 2}), "error": Counter({"timeout": 1})}
