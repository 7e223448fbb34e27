"""Random queries, random Chinese texts and random writes: search answers or says why, and the index stays true."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from tests.test_search import add, consistent
from tracker import search
from tracker.errors import UsageError
from tracker.store import db as dbmod
from tracker.store.pagetext import keep_text
from tracker.store.tables import fetch_t, item_t, pagetext_t, paper_t

T0 = datetime(2026, 11, 20, 8, 0)
# Few characters, so that random texts share many bigrams.
HAN = "卷积神经网络正则化梯度"
FUZZY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dbmod.Database]:
    """One database for every example of a test; `emptied` clears it (through the triggers) before each."""
    database = dbmod.open_db("sqlite:///" + str(tmp_path_factory.mktemp("scratch") / "s.db"))
    yield database
    database.close()


def emptied(database: dbmod.Database) -> dbmod.Database:
    with database.write() as conn:
        for table in (fetch_t, pagetext_t, paper_t, item_t):
            conn.execute(delete(table))
    return database


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dbmod.Database]:
    database = dbmod.open_db("sqlite:///" + str(tmp_path_factory.mktemp("fuzz") / "t.db"))
    with database.write() as conn:
        for title in ("卷积神经网络 BN normalization", "Dropout 正则化", "梯度 descent", "NEAR and AND or OR"):
            add(conn, title, notes="note: \"quoted\" *star*")
    yield database
    database.close()


QUERIES = st.text(alphabet=st.sampled_from(list('"*-:()^{}+ NEARORANDNOTbn' + HAN + "\u3000\t\\'")), max_size=24) | \
    st.text(max_size=24)


@FUZZY
@given(query=QUERIES, use_index=st.booleans(), field=st.sampled_from([None, *search.FIELDS]))
def test_any_query_gives_hits_or_a_usage_error(filled: dbmod.Database, query: str, use_index: bool,
                                               field: str | None) -> None:
    try:
        hits = search.search_database(filled, query, use_index=use_index, field=field)
    except UsageError:
        return
    for hit in hits:
        assert all(0 <= a < b <= len(hit.snippet) for a, b in hit.matches)


@FUZZY
@given(titles=st.lists(st.text(alphabet=st.sampled_from(HAN + " ab"), min_size=1, max_size=12), min_size=1,
                       max_size=8),
       pair=st.tuples(st.sampled_from(HAN), st.sampled_from(HAN)))
def test_every_two_character_query_finds_exactly_the_items_holding_it(scratch: dbmod.Database, titles: list[str],
                                                                      pair: tuple[str, str]) -> None:
    database = emptied(scratch)
    with database.write() as conn:
        ids = [add(conn, "x " + t) for t in titles]
    query = "".join(pair)
    holding = {i for i, t in zip(ids, titles, strict=True) if query in t}
    for use_index in (True, False):
        found = {h.id for h in search.search_database(database, query, limit=100, use_index=use_index)}
        assert found == holding, (use_index, query, titles)


WRITES = st.lists(st.tuples(st.sampled_from(["add", "title", "notes", "text", "fetch", "paper", "retire", "delete"]),
                            st.integers(0, 5), st.text(alphabet=st.sampled_from(HAN + " abc"), max_size=10)),
                  min_size=1, max_size=12)


def _write(conn: Any, op: str, n: int, words: str) -> None:
    ids = [row[0] for row in conn.exec_driver_sql("SELECT id FROM item ORDER BY id")]
    if op == "add" or not ids:
        add(conn, "t " + words)
        return
    item = ids[n % len(ids)]
    if op == "title":
        conn.execute(update(item_t).where(item_t.c.id == item).values(title="t " + words))
    elif op == "notes":
        conn.execute(update(item_t).where(item_t.c.id == item).values(notes=words))
    elif op == "text":
        keep_text(conn, item, words or "x", T0)
    elif op == "fetch":
        if conn.execute(update(fetch_t).where(fetch_t.c.item_id == item).values(title=words or None)).rowcount == 0:
            conn.execute(fetch_t.insert().values(item_id=item, state="ok", checked_at=T0, title=words or None,
                                                 attempts=0, meta="{}"))
    elif op == "paper":
        if conn.execute(update(paper_t).where(paper_t.c.item_id == item).values(abstract=words)).rowcount == 0:
            conn.execute(paper_t.insert().values(item_id=item, arxiv_id=f"2601.{item:05d}", version=1,
                                                 abstract=words, authors='["A B"]', categories="[]"))
    elif op == "retire":
        conn.execute(update(item_t).where(item_t.c.id == item).values(retired=True))
    else:
        for table in (fetch_t, pagetext_t, paper_t):
            conn.execute(delete(table).where(table.c.item_id == item))
        conn.execute(delete(item_t).where(item_t.c.id == item))


@FUZZY
@given(batches=st.lists(WRITES, min_size=1, max_size=3))
def test_any_writes_leave_the_index_true_to_the_tables(scratch: dbmod.Database,
                                                       batches: list[list[tuple[str, int, str]]]) -> None:
    database = emptied(scratch)
    for batch in batches:  # each batch one transaction, the index brought up to date at its commit
        with database.write() as conn:
            for op, n, words in batch:
                _write(conn, op, n, words)
    consistent(database)
    for query in ("卷积", "网络", "正则", "梯度", "abc", "神经网"):
        assert {h.id for h in search.search_database(database, query, limit=100)} == \
            {h.id for h in search.search_database(database, query, limit=100, use_index=False)}, query
