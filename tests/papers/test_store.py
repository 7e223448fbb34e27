"""Storing fetched papers: one item per base id, versions update, the inbox and its moves."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from tests.papers.records_factory import record
from tracker.papers.store import paper_t, store_papers
from tracker.store import db as dbmod
from tracker.topics import Classifier, parse_topics

NOW = datetime(2026, 11, 25, 8, 0)
TOPICS = parse_topics("""
[[topic]]
slug = "gnn"
title = "图神经网络"
aliases = ["graph neural network", "GCN"]

[[topic]]
slug = "gan"
title = "生成对抗网络"
aliases = ["generative adversarial network", "GAN"]
""")


def _items(database: dbmod.Database) -> list[dict]:
    with database.read() as conn:
        return [dict(r) for r in conn.execute(select(dbmod.item_t).order_by(dbmod.item_t.c.id)).mappings()]


def _tags(database: dbmod.Database) -> set[tuple[int, str, str]]:
    with database.read() as conn:
        return {(r.item_id, r.slug, r.origin) for r in conn.execute(select(dbmod.tag_t))}


def test_new_papers_wait_in_the_inbox_tagged_by_query_and_classifier(database: dbmod.Database) -> None:
    recs = [record("2411.00001", title="A graph neural network for molecules"),
            record("2411.00002", title="Sampling tricks", abstract="We train a generative adversarial network.")]
    with database.write() as conn:
        result = store_papers(conn, recs, NOW, query_slug="gnn", classifier=Classifier(TOPICS))
    assert (result.new, result.updated, result.unchanged) == (2, 0, 0)
    rows = _items(database)
    assert [(r["key"], r["status"], r["source"], r["kind"]) for r in rows] == [
        ("arxiv:2411.00001", "inbox", "arxiv", "paper"), ("arxiv:2411.00002", "inbox", "arxiv", "paper")]
    first, second = rows[0]["id"], rows[1]["id"]
    assert _tags(database) == {(first, "gnn", "query"), (second, "gnn", "query"), (second, "gan", "auto")}


def test_same_paper_from_two_topics_and_two_versions_is_one_item(database: dbmod.Database) -> None:
    with database.write() as conn:
        store_papers(conn, [record("2411.00001", version=1, title="Old title")], NOW, query_slug="gnn")
        second = store_papers(conn, [record("2411.00001", version=2, title="New title",
                                            updated=datetime(2026, 11, 24)),
                                     record("2411.00001", version=1, title="Old title")], NOW, query_slug="gan")
    assert (second.new, second.updated, second.unchanged) == (0, 1, 0)
    rows = _items(database)
    assert len(rows) == 1 and rows[0]["title"] == "New title"
    with database.read() as conn:
        paper = conn.execute(select(dbmod.item_t.c.id).where(dbmod.item_t.c.arxiv_id == "2411.00001")).scalar()
        version = conn.execute(select(paper_t.c.version)).scalar()
    assert paper == rows[0]["id"] and version == 2
    assert {(s, o) for _, s, o in _tags(database)} == {("gnn", "query"), ("gan", "query")}


def test_refetching_an_unchanged_paper_changes_nothing(database: dbmod.Database) -> None:
    with database.write() as conn:
        store_papers(conn, [record("2411.00001")], NOW, query_slug="gnn")
    before = _items(database)
    with database.write() as conn:
        again = store_papers(conn, [record("2411.00001")], NOW, query_slug="gnn")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)
    assert _items(database) == before


def test_outline_link_gets_metadata_but_keeps_title_status_and_tags(tmp_path: Path, cli, database) -> None:
    outline = tmp_path / "list.md"
    outline.write_text("# Reading\n\n## Vision\n\n- [x] [ResNet, the curated title](https://arxiv.org/abs/1512.03385v2)\n",
                       encoding="utf-8")
    cli("import", str(outline))
    with database.write() as conn:
        result = store_papers(conn, [record("1512.03385", version=3, title="Deep Residual Learning")], NOW,
                              query_slug="gnn")
    assert (result.new, result.updated) == (0, 1)
    shown = cli.json("show", "1512.03385")
    assert shown["title"] == "ResNet, the curated title" and shown["status"] == "digested"
    assert shown["paper"]["version"] == 3 and shown["paper"]["authors"] == ["Ada Lovelace", "Alan Turing"]
    assert shown["topics"] == ["vision"]  # the outline's section, not the query that found it


def test_accept_dismiss_and_a_dismissed_paper_never_returns(cli, database: dbmod.Database) -> None:
    with database.write() as conn:
        store_papers(conn, [record("2411.00001"), record("2411.00002")], NOW)
    assert cli.json("papers", "accept", "2411.00001") == {"changed": 1, "unchanged": 0}
    assert cli.json("papers", "dismiss", "arXiv:2411.00002v1") == {"changed": 1, "unchanged": 0}
    assert cli.json("papers", "dismiss", "2411.00002") == {"changed": 0, "unchanged": 1}
    with database.write() as conn:
        again = store_papers(conn, [record("2411.00002", version=2)], NOW)
    assert again.new == 0
    statuses = {r["arxiv_id"]: r["status"] for r in _items(database)}
    assert statuses == {"2411.00001": "unread", "2411.00002": "dismissed"}
    history = cli.json("show", "2411.00002")["history"]
    assert [h["status"] for h in history] == ["dismissed"]
    assert cli.json("progress")["total"] == 1  # the accepted paper counts, the dismissed one does not
    assert cli.json("papers", "inbox") == []


def test_accepting_a_curated_item_is_a_clear_error(tmp_path: Path, cli) -> None:
    outline = tmp_path / "list.md"
    outline.write_text("- [A page](https://example.org/a)\n", encoding="utf-8")
    cli("import", str(outline))
    result = cli("papers", "accept", "https://example.org/a", code=2)
    assert result.stderr.startswith("error:") and "curated" in result.stderr
    assert cli("papers", "accept", "9999", code=2).stderr.startswith("error: no item")


def test_papers_show_prints_the_abstract(cli, database: dbmod.Database) -> None:
    with database.write() as conn:
        store_papers(conn, [record("2411.00007", abstract="Graphs   all the\nway down.")], NOW)
    out = cli("papers", "show", "2411.00007").stdout
    assert "Graphs   all the\nway down." in out or "Graphs all the way down." in out
    assert "Ada Lovelace, Alan Turing" in out
    data = cli.json("papers", "show", "2411.00007")
    assert json.dumps(data["paper"]["categories"]) == '["cs.LG"]'


def test_migration_fills_arxiv_titles_it_knows_and_a_fetch_fills_the_rest(db_path: Path, cli, server,
                                                                           monkeypatch) -> None:
    """A database from before m008_paper_title: fetched papers' titles are arXiv's; curated ones wait for a fetch."""
    from tests.papers.arxiv_fixtures import FakeArxiv, Paper
    from tracker.store import migrations

    url = "sqlite:///" + str(db_path)
    before = [m.__name__ for m in migrations.MIGRATIONS].index("m008_paper_title")
    old = dbmod.open_db(url, upto=before)
    with old.write() as conn:
        for item_id, key, title, source, status in ((1, "arxiv:1512.03385", "ResNet, my words", "outline", "reading"),
                                                    (2, "arxiv:2411.00001", "Graph nets at scale", "arxiv", "inbox")):
            conn.exec_driver_sql(
                "INSERT INTO item (id, key, url, arxiv_id, title, kind, status, source, section, position, retired, "
                "notes, added_at) VALUES (?, ?, ?, ?, ?, 'paper', ?, ?, '', 0, 0, '', '2026-11-20 00:00:00')",
                (item_id, key, "https://arxiv.org/abs/" + key[6:], key[6:], title, status, source))
            conn.exec_driver_sql("INSERT INTO paper (item_id, arxiv_id, version, authors, abstract, categories, "
                                 "fetched_at) VALUES (?, ?, 2, '[]', '', '[]', ?)",
                                 (item_id, key[6:], datetime.now().replace(microsecond=0)))
    old.close()
    new = dbmod.open_db(url)
    with new.read() as conn:
        titles = dict(conn.execute(select(paper_t.c.arxiv_id, paper_t.c.title)).all())
    new.close()
    assert titles == {"1512.03385": None, "2411.00001": "Graph nets at scale"}

    fake = FakeArxiv(papers={"1512.03385": Paper("1512.03385", version=2, title="Deep Residual Learning")})
    server.routes["/api/query"] = fake
    monkeypatch.setenv("TRACKER_ARXIV_API_URL", server.url("/api/query"))
    summary = cli.json("papers", "fetch")
    assert [c["id_list"] for c in fake.calls if c.get("id_list")] == ["1512.03385"]  # only the one without a title
    assert summary["updated"] == 1
    shown = cli.json("show", "1512.03385")
    assert shown["title"] == "ResNet, my words" and shown["status"] == "reading"
    assert (shown["paper"]["title"], shown["paper"]["version"]) == ("Deep Residual Learning", 2)


def test_a_new_version_at_the_same_number_is_not_lost_and_an_older_one_is_ignored(database) -> None:
    with database.write() as conn:
        store_papers(conn, [record("2411.00001", version=2, title="Second")], NOW)
        older = store_papers(conn, [record("2411.00001", version=1, title="First")], NOW)
        journal = record("2411.00001", version=2, title="Second")
        journal = journal.__class__(**{**journal.__dict__, "journal_ref": "JMLR 27"})
        same = store_papers(conn, [journal], NOW)
        feed = store_papers(conn, [record("2411.00001", version=2, title="Second, as announced",
                                          announce_type="cross")], NOW)
    assert (older.updated, older.unchanged) == (0, 1)
    assert same.updated == 1  # arXiv added a journal reference without a new version
    assert (feed.updated, feed.unchanged) == (0, 1)  # a feed at the same version says nothing new
    with database.read() as conn:
        row = conn.execute(select(paper_t.c.title, paper_t.c.version, paper_t.c.journal_ref)).one()
    assert tuple(row) == ("Second", 2, "JMLR 27")
