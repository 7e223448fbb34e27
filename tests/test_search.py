"""Search: what is found, in what order, through which writes, on the index and on the scan."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.papers.records_factory import record
from tracker import search
from tracker.errors import NotFound, UsageError
from tracker.papers.store import store_papers
from tracker.store import db as dbmod
from tracker.store import migrations
from tracker.store.pagetext import keep_text
from tracker.store.tables import fetch_t, item_t, tag_t, topic_t

T0 = datetime(2026, 11, 20, 8, 0)
_KEYS = itertools.count()
BOTH = pytest.mark.parametrize("use_index", [True, False], ids=["fts", "scan"])


def add(conn: Any, title: str, *, notes: str = "", kind: str = "page", status: str = "unread",
        retired: bool = False) -> int:
    """One item, written as the tracker writes them."""
    n = next(_KEYS)
    result = conn.execute(item_t.insert().values(
        key=f"https://a.example/{n}", url=f"https://a.example/{n}", title=title, kind=kind, status=status,
        source="outline", section="", position=n, retired=retired, notes=notes, added_at=T0))
    return int(result.inserted_primary_key[0])


def add_topic(conn: Any, slug: str, title: str, aliases: str = "[]") -> None:
    conn.execute(topic_t.insert().values(slug=slug, title=title, parent=None, group_no=0, position=0,
                                         outline_id=None, aliases=aliases, query=None, categories="[]"))


def tag(conn: Any, item_id: int, slug: str, origin: str = "manual") -> None:
    conn.execute(tag_t.insert().values(item_id=item_id, slug=slug, origin=origin, score=1.0))


def ids(database: dbmod.Database, query: str, **options: Any) -> list[int]:
    return [hit.id for hit in search.search_database(database, query, limit=100, **options)]


def consistent(database: dbmod.Database) -> None:
    """FTS5's own check of the index against the tables it reads (fails as 'malformed' otherwise)."""
    with database.write() as conn:
        conn.exec_driver_sql("INSERT INTO search_index (search_index, rank) VALUES ('integrity-check', 1)")
        conn.exec_driver_sql("INSERT INTO search_topic (search_topic, rank) VALUES ('integrity-check', 1)")


@pytest.fixture
def sample(database: dbmod.Database) -> dict[str, int]:
    """A small mixed-language list: curated titles, notes, a page text, a paper, topics."""
    with database.write() as conn:
        add_topic(conn, "regularization", "模型正则化", '["regularization", "dropout"]')
        add_topic(conn, "cnn", "卷积神经网络", '["CNN"]')
        out = {
            "bn": add(conn, "深度学习中 Batch Normalization为什么效果好？", notes="BN smooths the loss surface",
                      kind="question"),
            "conv": add(conn, "卷积神经网络的卷积核大小如何确定", kind="question"),
            "norm": add(conn, "Layer normalized activations", kind="article"),
            "page": add(conn, "A blog post", kind="article"),
            "dropout": add(conn, "Dropout: a simple way to prevent overfitting", kind="paper", status="digested"),
            "old": add(conn, "正则化 retired entry", retired=True),
        }
        keep_text(conn, out["page"], "梯度下降的步长。Gradient descent normalizes nothing; 正则项 keeps weights small.",
                  T0)
        tag(conn, out["dropout"], "regularization")
        tag(conn, out["conv"], "cnn", origin="section")
    return out


@BOTH
def test_a_two_character_chinese_query_finds_every_item_holding_it(database: dbmod.Database,
                                                                   sample: dict[str, int], use_index: bool) -> None:
    assert ids(database, "卷积", use_index=use_index) == [sample["conv"]]
    assert ids(database, "梯度", use_index=use_index) == [sample["page"]]
    # 正则 is in a page text, and it names the topic the dropout paper is tagged with; the retired
    # item holding it is left out.
    assert ids(database, "正则", use_index=use_index) == [sample["page"], sample["dropout"]]
    assert ids(database, "效果", use_index=use_index) == [sample["bn"]]


@BOTH
def test_english_word_forms_mixed_queries_phrases_and_exclusions(database: dbmod.Database, sample: dict[str, int],
                                                                 use_index: bool) -> None:
    found = ids(database, "normalization", use_index=use_index)
    assert set(found) == {sample["bn"], sample["norm"], sample["page"]}
    # Exact first; then items holding part of the Chinese run (为什么 but not 有效).
    assert ids(database, "BN 为什么有效", use_index=use_index) == [sample["bn"]]
    assert ids(database, '"loss surface"', use_index=use_index) == [sample["bn"]]
    assert ids(database, '"surface loss"', use_index=use_index) == []
    assert set(ids(database, "normalization -BN", use_index=use_index)) == {sample["norm"], sample["page"]}
    assert set(ids(database, 'normalization -"gradient descent"', use_index=use_index)) == {sample["bn"],
                                                                                            sample["norm"]}
    assert ids(database, "overfit*", use_index=use_index) == [sample["dropout"]]


@BOTH
def test_filters_and_fields(database: dbmod.Database, sample: dict[str, int], use_index: bool) -> None:
    assert ids(database, "normalization", field="title", use_index=use_index) in (
        [sample["bn"], sample["norm"]], [sample["norm"], sample["bn"]])
    assert ids(database, "normalization", field="text", use_index=use_index) == [sample["page"]]
    assert ids(database, "BN", field="notes", use_index=use_index) == [sample["bn"]]
    assert ids(database, "BN", field="title", use_index=use_index) == []
    assert ids(database, "normalization", kind="question", use_index=use_index) == [sample["bn"]]
    assert ids(database, "dropout", status="digested", use_index=use_index) == [sample["dropout"]]
    assert ids(database, "dropout", status="unread", use_index=use_index) == []
    assert ids(database, "卷积", topic="cnn", use_index=use_index) == [sample["conv"]]
    assert ids(database, "卷积", topic="regularization", use_index=use_index) == []
    assert ids(database, "正则", status="unread", use_index=use_index) == [sample["page"]]


def test_the_index_and_the_scan_agree_on_what_they_find(database: dbmod.Database, sample: dict[str, int]) -> None:
    for query in ("卷积", "正则", "normalization", "BN 为什么有效", "gradient", '"gradient descent"', "dropout -simple",
                  "卷积核 大小", "network", "cnn", "weights"):
        assert set(ids(database, query)) == set(ids(database, query, use_index=False)), query


def test_titles_rank_above_notes_and_notes_above_page_text(database: dbmod.Database) -> None:
    with database.write() as conn:
        in_text = add(conn, "Plain page")
        keep_text(conn, in_text, "a long text " * 20 + "about attention " + "and more words " * 20, T0)
        in_notes = add(conn, "Another page", notes="attention, as I understood it")
        in_title = add(conn, "Attention is all you need")
    for use_index in (True, False):
        assert ids(database, "attention", use_index=use_index) == [in_title, in_notes, in_text]


def test_hits_carry_what_a_row_shows_and_where_the_snippet_matched(database: dbmod.Database,
                                                                     sample: dict[str, int]) -> None:
    [hit] = search.search_database(database, "梯度")
    assert (hit.id, hit.title, hit.status, hit.kind, hit.topics) == (sample["page"], "A blog post", "unread",
                                                                     "article", ())
    assert hit.score > 0
    assert [hit.snippet[a:b] for a, b in hit.matches] == ["梯度"]
    [hit] = search.search_database(database, "normalization", field="text")
    assert [hit.snippet[a:b] for a, b in hit.matches] == ["normalizes"]
    [hit] = search.search_database(database, "dropout", status="digested")
    assert hit.topics == ("regularization",)
    assert hit.as_json()["matches"] == [list(m) for m in hit.matches]


def test_a_long_text_gives_a_short_snippet_around_the_match(database: dbmod.Database) -> None:
    with database.write() as conn:
        item = add(conn, "Long read")
        keep_text(conn, item, "filler words here " * 500 + "卷积 appears once " + "more filler " * 500, T0)
    [hit] = search.search_database(database, "卷积")
    assert len(hit.snippet) <= search.snippets.WIDTH + 2
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert [hit.snippet[a:b] for a, b in hit.matches] == ["卷积"]


def test_every_write_path_keeps_the_index_in_step(database: dbmod.Database) -> None:
    with database.write() as conn:
        item = add(conn, "Residual learning")
    assert ids(database, "residual") == [item]
    with database.write() as conn:  # a note, a new title
        conn.execute(update(item_t).where(item_t.c.id == item).values(notes="恒等映射 shortcut", title="深度残差"))
    assert ids(database, "恒等映射") == ids(database, "残差") == [item]
    assert ids(database, "residual") == []
    with database.write() as conn:  # the crawl: a page title, then the page text, then a changed text
        conn.execute(fetch_t.insert().values(item_id=item, state="ok", checked_at=T0, title="ResNet explained",
                                             attempts=0, meta="{}"))
        keep_text(conn, item, "identity mappings in deep residual networks", T0)
    assert ids(database, "resnet") == ids(database, "identity") == [item]
    with database.write() as conn:
        keep_text(conn, item, "a different page now", T0)
        conn.execute(update(fetch_t).where(fetch_t.c.item_id == item).values(state="gone", title=None))
    assert ids(database, "identity") == ids(database, "resnet") == []
    assert ids(database, "different") == [item]
    with database.write() as conn:  # papers: abstract and authors
        store_papers(conn, [record("1512.03385", title="Deep Residual Learning for Image Recognition",
                                   abstract="Deeper neural networks are more difficult to train.",
                                   authors=("Kaiming He", "Xiangyu Zhang"))], T0)
    [paper] = ids(database, "kaiming")
    assert ids(database, "difficult train") == [paper]
    assert ids(database, "difficult", status="inbox") == [paper]
    consistent(database)


def test_topic_names_find_tagged_items_and_follow_renames(database: dbmod.Database) -> None:
    with database.write() as conn:
        add_topic(conn, "gnn", "图神经网络", '["graph neural networks"]')
        tagged = add(conn, "Semi-supervised classification with GCN")
        holding = add(conn, "图神经网络综述")
        tag(conn, tagged, "gnn")
    assert ids(database, "图神经") == [holding, tagged]
    assert ids(database, "graph") == [tagged]
    assert ids(database, "graph", field="title") == []
    with database.write() as conn:
        conn.execute(update(topic_t).where(topic_t.c.slug == "gnn").values(title="图网络", aliases="[]"))
    assert ids(database, "graph") == []
    with database.write() as conn:
        conn.execute(update(tag_t).where(tag_t.c.item_id == tagged).values(origin="untag"))
    assert tagged not in ids(database, "图网络")
    consistent(database)


def test_retired_items_and_dismissed_papers_only_when_asked(database: dbmod.Database) -> None:
    with database.write() as conn:
        retired = add(conn, "Capsule networks", retired=True)
        dismissed = add(conn, "Capsule routing", kind="paper", status="dismissed")
    assert ids(database, "capsule") == []
    assert ids(database, "capsule", status="dismissed") == [dismissed]
    with database.write() as conn:
        conn.execute(update(item_t).where(item_t.c.id == retired).values(retired=False))
    assert ids(database, "capsule") == [retired]


@pytest.mark.parametrize("options", [{"status": "done"}, {"kind": "video"}, {"field": "url"}, {"limit": 0},
                                     {"limit": 5000}])
def test_bad_options_are_usage_errors(database: dbmod.Database, options: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        search.search_database(database, "x", **options)


def test_an_unknown_topic_is_not_found(database: dbmod.Database) -> None:
    with pytest.raises(NotFound):
        search.search_database(database, "x", topic="nope")


def test_writes_from_clients_without_the_tracker_are_caught_up_before_a_search(database: dbmod.Database,
                                                                              db_path: Path) -> None:
    with database.write() as conn:
        item = add(conn, "Kept by the tracker")
    raw = sqlite3.connect(db_path)  # no tracker functions registered: plain SQL triggers only
    with raw:
        raw.execute("UPDATE item SET title = 'Written by hand' WHERE id = ?", (item,))
        raw.execute("INSERT INTO item (key, title, kind, status, source, section, position, retired, notes, "
                    "added_at) VALUES ('k2', 'Another by hand', 'page', 'unread', 'outline', '', 9, 0, '', "
                    "'2026-11-20 08:00:00')")
    raw.close()
    assert set(ids(database, "hand")) == {item, item + 1}
    assert ids(database, "kept") == []
    consistent(database)


def test_a_search_that_must_not_write_says_so_when_the_index_is_behind(database: dbmod.Database,
                                                                       db_path: Path) -> None:
    with database.write() as conn:
        item = add(conn, "Kept by the tracker")
    assert [hit.id for hit in search.search_if_current(database, "kept") or []] == [item]
    raw = sqlite3.connect(db_path)
    with raw:
        raw.execute("UPDATE item SET title = 'Written by hand' WHERE id = ?", (item,))
    raw.close()
    assert search.search_if_current(database, "hand") is None
    raw = sqlite3.connect(db_path)
    # Nothing was written: the note another program's write left is still waiting to be taken in.
    assert raw.execute("SELECT count(*) FROM search_pending").fetchone()[0] == 1
    raw.close()
    assert ids(database, "hand") == [item]  # search_database makes the write, and finds it
    assert [hit.id for hit in search.search_if_current(database, "hand") or []] == [item]


def test_rebuild_remakes_the_index(database: dbmod.Database, db_path: Path, sample: dict[str, int]) -> None:
    raw = sqlite3.connect(db_path)
    with raw:  # an index emptied behind the tracker's back
        raw.execute("INSERT INTO search_index (search_index) VALUES ('delete-all')")
    raw.close()
    assert ids(database, "梯度") == []
    assert search.rebuild(database) == len(sample)
    assert ids(database, "梯度") == [sample["page"]]
    consistent(database)


def test_the_migration_indexes_a_database_made_before_it(db_path: Path) -> None:
    url = "sqlite:///" + str(db_path)
    before = migrations.MIGRATIONS.index(migrations.m010_search_index)
    old = dbmod.open_db(url, upto=before)
    with old.write() as conn:
        item = add(conn, "反向传播 backpropagation", notes="链式法则")
        keep_text(conn, item, "the chain rule, applied backwards", T0)
    old.close()
    new = dbmod.open_db(url)
    try:
        assert ids(new, "链式") == ids(new, "反向传播") == ids(new, "chain") == [item]
        consistent(new)
    finally:
        new.close()


def test_a_database_without_the_index_searches_by_scanning(database: dbmod.Database, db_path: Path,
                                                           sample: dict[str, int]) -> None:
    raw = sqlite3.connect(db_path)
    with raw:  # as on PostgreSQL: no FTS5 table at all
        raw.execute("DROP TABLE search_index")
    raw.close()
    with database.read() as conn:
        assert not search.fts.available(conn)
    assert ids(database, "卷积") == [sample["conv"]]
    assert ids(database, "BN 为什么有效") == [sample["bn"]]


def test_past_the_cap_the_newest_matches_and_the_title_matches_are_ranked(database: dbmod.Database,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search.fts, "CAP", 4)
    monkeypatch.setattr(search.fts, "TITLE_TIER", 2)
    with database.write() as conn:
        titled = add(conn, "Dropout explained")
        older = [add(conn, "Regularization notes", notes="dropout again") for _ in range(3)]
        newer = []
        for _ in range(8):
            newer.append(add(conn, "Some page"))
            keep_text(conn, newer[-1], "a page that mentions dropout once among many other words " * 3, T0)
    found = ids(database, "dropout")
    assert found[0] == titled  # old, but its title holds the query
    assert set(found) == {titled, *newer[-4:]}  # and the newest matches; older notes are past the cap
    assert not set(found) & set(older)


@BOTH
def test_a_curated_paper_is_found_by_arxivs_own_title(database: dbmod.Database, use_index: bool) -> None:
    """The outline calls it one thing, arXiv another: both titles find it."""
    with database.write() as conn:
        result = conn.execute(item_t.insert().values(
            key="arxiv:1512.03385", url="https://arxiv.org/abs/1512.03385", arxiv_id="1512.03385",
            title="捷径连接的实证研究 shortcut study", kind="paper", status="unread", source="outline", section="",
            position=1, retired=False, notes="", added_at=T0))
        item = int(result.inserted_primary_key[0])
    assert ids(database, "resnet", use_index=use_index) == []
    with database.write() as conn:
        store_papers(conn, [record("1512.03385", title="ResNet: Deep Residual Learning")], T0)
    assert ids(database, "resnet", use_index=use_index) == [item]
    assert ids(database, "捷径", use_index=use_index) == [item]
    assert ids(database, "residual", field="title", use_index=use_index) == [item]
    if use_index:
        consistent(database)


def test_the_paper_title_migration_indexes_titles_stored_before_it(db_path: Path) -> None:
    url = "sqlite:///" + str(db_path)
    database = dbmod.open_db(url, upto=migrations.MIGRATIONS.index(migrations.m013_search_paper_title))
    with database.write() as conn:
        conn.execute(item_t.insert().values(
            key="arxiv:1512.03385", url="https://arxiv.org/abs/1512.03385", arxiv_id="1512.03385",
            title="shortcut study", kind="paper", status="unread", source="outline", section="",
            position=1, retired=False, notes="", added_at=T0))
        store_papers(conn, [record("1512.03385", title="ResNet: Deep Residual Learning")], T0)
    database.close()
    database = dbmod.open_db(url)
    try:
        assert len(ids(database, "resnet")) == 1
        consistent(database)
    finally:
        database.close()


def test_a_long_pages_snippet_comes_from_its_opening(database: dbmod.Database) -> None:
    opening = "卷积网络的开头 convolution opening words. "
    filler = "填充的正文没有要找的词。" * 40_000  # about 1.4 MB of UTF-8, kept as its first megabyte
    with database.write() as conn:
        early = add(conn, "Early match")
        keep_text(conn, early, opening + filler, T0)
        late = add(conn, "Late match")
        keep_text(conn, late, opening + filler[:60_000] + " kingfisher " + filler, T0)
    hits = search.search_database(database, "convolution", field="text")
    assert {hit.id for hit in hits} == {early, late}
    assert all("convolution" in hit.snippet and hit.matches for hit in hits)
    # Found by the index anywhere in the text; its snippet looked for only in the opening (past it: the opening).
    [hit] = search.search_database(database, "kingfisher")
    assert hit.id == late and hit.snippet.startswith(opening.split()[0]) and not hit.matches


def test_snippet_marks_words_where_they_start_and_chinese_anywhere() -> None:
    from tracker.search.query import parse
    from tracker.search.snippets import pattern, snippet

    text = "abnormal data, normalized 卷积网络 and a normalization; 网络卷积 renorm"
    shown, spans = snippet([text], pattern(parse("normalization 卷积")))
    assert [shown[a:b] for a, b in spans] == ["normalized", "卷积", "normalization", "卷积"]
    shown, spans = snippet(["xnorm norm* normal"], pattern(parse("norm*")))
    assert [shown[a:b] for a, b in spans] == ["norm", "normal"]
