"""Ranking on SQLite: FTS5's bm25 over the index, titles weighted above notes, abstracts and page text.

A term that names a topic (its title, slug or an alias, matched in the topic-name index) is also
satisfied by the items tagged with that topic; those rank after the items whose own text holds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, bindparam, text
from sqlalchemy.engine import Connection

from tracker.search.query import Query, Term

# bm25 weight of each indexed column, in the index's order: title, notes, text, abstract, authors.
WEIGHTS = (10.0, 5.0, 1.0, 2.0, 3.0)
_BM25 = f"bm25(search_index, {', '.join(map(str, WEIGHTS))})"


def available(conn: Connection) -> bool:
    """True where this database has the FTS5 index (SQLite, migrated to m010)."""
    if conn.dialect.name != "sqlite":
        return False
    return conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'search_index'").first() is not None


def _topics_naming(conn: Connection, term: Term, relaxed: bool) -> list[str]:
    sql = ("SELECT t.slug FROM search_topic JOIN topic t ON t.id = search_topic.rowid "
           "WHERE search_topic MATCH :q")
    return [row[0] for row in conn.execute(text(sql), {"q": term.fts(relaxed)})]


def ranked(conn: Connection, query: Query, filters: Sequence[str], params: dict[str, Any], *,
           relaxed: bool, column: str | None, limit: int, leave_out: Sequence[int] = ()) -> list[tuple[int, float]]:
    """(item id, score) of the best `limit` items, best first; `filters` are SQL conditions on item `i`."""
    where = list(filters)
    params = dict(params, limit=limit)
    binds: list[BindParameter[Any]] = []
    if leave_out:
        where.append("i.id NOT IN :leave_out")
        params["leave_out"] = list(leave_out)
        binds.append(bindparam("leave_out", expanding=True))
    naming = {} if column else {n: s for n, t in enumerate(query.wanted) if (s := _topics_naming(conn, t, relaxed))}
    if not naming:
        params["q"] = query.fts(relaxed, column)
        sql = (f"SELECT i.id, {_BM25} AS r FROM search_index JOIN item i ON i.id = search_index.rowid "
               f"WHERE search_index MATCH :q AND {' AND '.join(where)} ORDER BY r, i.id LIMIT :limit")
    else:
        for n, term in enumerate(query.wanted):
            params[f"t{n}"] = term.fts(relaxed)
            held = f"i.id IN (SELECT rowid FROM search_index WHERE search_index MATCH :t{n})"
            if n in naming:
                params[f"s{n}"] = naming[n]
                binds.append(bindparam(f"s{n}", expanding=True))
                held = (f"({held} OR i.id IN (SELECT item_id FROM itemtopic WHERE origin != 'untag' "
                        f"AND slug IN :s{n}))")
            where.append(held)
        if query.unwanted:
            params["out"] = " OR ".join(t.fts() for t in query.unwanted)
            where.append("i.id NOT IN (SELECT rowid FROM search_index WHERE search_index MATCH :out)")
        params["any"] = " OR ".join(t.fts(relaxed) for t in query.wanted)
        sql = (f"SELECT i.id, coalesce(h.r, 0) AS r FROM item i LEFT JOIN (SELECT rowid AS id, {_BM25} AS r "
               f"FROM search_index WHERE search_index MATCH :any) h ON h.id = i.id "
               f"WHERE {' AND '.join(where)} ORDER BY r, i.id LIMIT :limit")
    statement = text(sql).bindparams(*binds) if binds else text(sql)
    return [(int(item_id), round(-float(r), 4)) for item_id, r in conn.execute(statement, params)]
