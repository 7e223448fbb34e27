"""The weekly report against a scripted, back-dated history, checked as exact JSON."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.report.test_next import CURRICULUM, TOPICS
from tests.test_import import write


@pytest.fixture(params=["Asia/Shanghai", "America/New_York"])
def local_tz(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Week bounds are local: run every scenario in two time zones."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def setup(cli: Cli, tmp_path: Path) -> dict[str, int]:
    outline = write(tmp_path / "course.md", CURRICULUM)
    write(tmp_path / "course.topics.toml", TOPICS)
    cli.json("import", str(outline))
    return {i["title"]: i["id"] for i in cli.json("list")}


def test_scripted_history_exact_json(cli: Cli, tmp_path: Path, local_tz: str) -> None:
    ids = setup(cli, tmp_path)
    b1, b2, o1, g1 = ids["Basics one"], ids["Basics two"], ids["Opt one"], ids["GAN one"]
    # Week 46 (Nov 9-15): b1 digested on Sunday 23:59 local.
    cli("mark", str(b1), "digested", "--at", "2026-11-15T23:59")
    # Week 47 (Nov 16-22): Monday 00:00 local belongs to it.
    cli("mark", str(b2), "reading", "--at", "2026-11-16T00:00")
    cli("mark", str(b2), "digested", "--at", "2026-11-20T21:30")
    cli("mark", str(o1), "digested", "--at", "2026-11-21T08:00")
    cli("mark", str(o1), "digested", "--at", "2026-11-22T09:00")  # unchanged: already digested
    cli("mark", str(g1), "digested", "--at", "2026-11-22T10:00")
    cli("mark", str(g1), "unread", "--at", "2026-11-22T11:00")  # un-digested within the week: not listed
    report = cli.json("report", "weekly", "--week", "2026-W47")
    assert report["week"] == "2026-W47" and report["start"] == "2026-11-16" and report["end"] == "2026-11-22"
    assert [(d["id"], d["at"][:16]) for d in report["digested"]] == [(b2, "2026-11-20T21:30"),
                                                                     (o1, "2026-11-21T08:00")]
    assert [(s["id"], s["at"][:16]) for s in report["started"]] == [(b2, "2026-11-16T00:00")]
    assert report["digested"][0]["topics"] == ["basics"] and report["digested"][0]["title"] == "Basics two"
    # Friday (b2), Saturday (o1) and Sunday (g1, though undone an hour later) each saw a digest.
    assert report["streak_days"] == 3
    assert report["topics"] == [
        {"slug": "basics", "title": "Basics", "digested_this_week": 1, "digested_total": 2, "total": 2,
         "percent": 100.0, "delta": 50.0},
        {"slug": "opt", "title": "Optimization", "digested_this_week": 1, "digested_total": 1, "total": 1,
         "percent": 100.0, "delta": 100.0},
        {"slug": "gen", "title": "Generative models", "digested_this_week": 0, "digested_total": 0, "total": 2,
         "percent": 0.0, "delta": 0.0},
    ]
    week46 = cli.json("report", "weekly", "--week", "2026-W46")
    assert [d["id"] for d in week46["digested"]] == [b1] and week46["started"] == []
    assert week46["streak_days"] == 1


def test_year_whose_week_one_starts_in_december(cli: Cli, tmp_path: Path, local_tz: str) -> None:
    ids = setup(cli, tmp_path)
    cli("mark", str(ids["Basics one"]), "digested", "--at", "2024-12-30T00:00")  # Monday of 2025-W01
    cli("mark", str(ids["Basics two"]), "digested", "--at", "2024-12-29T23:59")  # Sunday of 2024-W52
    w1 = cli.json("report", "weekly", "--week", "2025-W01")
    assert (w1["start"], w1["end"]) == ("2024-12-30", "2025-01-05")
    assert [d["id"] for d in w1["digested"]] == [ids["Basics one"]]
    w53 = cli.json("report", "weekly", "--week", "2026-W53")
    assert (w53["start"], w53["end"]) == ("2026-12-28", "2027-01-03")


def test_bad_weeks_are_user_errors(cli: Cli, tmp_path: Path) -> None:
    from tests.conftest import run_tracker

    for bad in ("2025-W53", "2026-47", "W47", "2026-W00"):
        result = run_tracker("report", "weekly", "--week", bad, "--json")
        assert result.returncode == 2 and result.stderr.startswith("error: bad week"), bad


def test_markdown_to_a_journal_file(cli: Cli, tmp_path: Path) -> None:
    ids = setup(cli, tmp_path)
    cli("mark", str(ids["Basics one"]), "digested", "--at", "2026-11-18")
    out = tmp_path / "reports" / "2026-W47.md"
    cli("report", "weekly", "--week", "2026-W47", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Week 2026-W47 (2026-11-16 – 2026-11-22)")
    assert "- Basics one — basics (2026-11-18)" in text
    assert "| Basics | 1 | 1 | 2 | 50.0 | +50.0 |" in text


def test_added_items_and_the_best_new_papers_per_topic(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    from datetime import datetime

    from tests.papers.records_factory import record
    from tracker.papers.store import store_papers
    from tracker.store import db as dbmod

    setup(cli, tmp_path)  # five outline items, added now
    database = dbmod.open_db(f"sqlite:///{db_path}")
    arrived = datetime(2026, 11, 18, 12, 0)  # Wednesday of 2026-W47, UTC
    with database.write() as conn:
        store_papers(conn, [record(f"2611.0000{i}", published=datetime(2026, 11, 10 + i)) for i in range(5)],
                     arrived, query_slug="gen")
        store_papers(conn, [record("2611.00009", published=datetime(2026, 11, 17))], arrived)  # no topic
        # The classifier was surer of some papers than others: scores decide, then the newest.
        conn.exec_driver_sql("UPDATE itemtopic SET score = 0.5 WHERE slug = 'gen' AND item_id IN "
                             "(SELECT id FROM item WHERE arxiv_id IN ('2611.00003', '2611.00004'))")
    database.close()
    report = cli.json("report", "weekly", "--week", "2026-W47")
    assert report["new_papers"] == 6
    assert [p["title"] for p in report["papers"]["gen"]] == ["Paper 2611.00002", "Paper 2611.00001",
                                                              "Paper 2611.00000"]
    # The outline items were added this week (now), not in 2026-W47.
    this_week = cli.json("report", "weekly")
    assert this_week["added"] == 5 and this_week["new_papers"] == 0


# New York's clocks change in 2026-W44 and 2027-W11.
@pytest.mark.parametrize("label", ["2026-W44", "2026-W45", "2026-W47", "2027-W11"])
def test_local_times_of_a_week_read_as_iso_local_would(label: str, local_tz: str) -> None:
    from datetime import datetime, timedelta

    from tracker.report.weekly import local_iso
    from tracker.report.weeks import week_of
    from tracker.timeutil import iso_local

    week = week_of(label, datetime.now().astimezone())
    local = local_iso(week)
    moments = [week.start + timedelta(minutes=37 * i) for i in range(7 * 24 * 60 // 37)] + [week.last_moment]
    assert [local(m) for m in moments] == [iso_local(m) for m in moments]


def test_a_new_tracker_has_no_stale_topics_and_an_old_one_does(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    """Stale means "existed four weeks ago and untouched since", not "imported this morning"."""
    from datetime import timedelta

    from tracker.store import db as dbmod
    from tracker.store.tables import item_t

    ids = setup(cli, tmp_path)
    assert cli.json("report", "weekly")["untouched"] == []
    database = dbmod.open_db("sqlite:///" + str(db_path))
    with database.write() as conn:  # Basics and Optimization were imported six weeks ago
        conn.execute(item_t.update().where(item_t.c.id.in_([ids["Basics one"], ids["Basics two"], ids["Opt one"]]))
                     .values(added_at=dbmod.utcnow() - timedelta(weeks=6)))
    database.close()
    cli("mark", str(ids["Opt one"]), "reading")
    report = cli.json("report", "weekly")
    assert report["untouched"] == ["Basics"]  # Optimization was touched; Generative models is new
    assert "Untouched for four weeks or more: Basics." in cli("report", "weekly").stdout
