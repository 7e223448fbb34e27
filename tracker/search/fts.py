"""Ranking on SQLite: FTS5's bm25 over the index, titles weighted above notes, abstracts and page text.

A term that names a topic (its title, slug or an alias, matched in the topic-name index) is also
satisfied by the items tagged with that topic; those rank after the items whose own text holds it.
Where a query matches more items than can be scored in a search's time, a bounded set of candidates
is scored instead (see `_best`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import BindParameter, bindparam, text
from sqlalchemy.engine import Connection

from tracker.search.query import Query, Term

# bm25 weight of each indexed column, in the index's order: title, notes, text, abstract, authors.
WEIGHTS = (10.0, 5.0, 1.0, 2.0, 3.0)
_BM25 = f"bm25(search_index, {', '.join(map(str, WEIGHTS))})"
# Matches ranked exactly; past this many, a bounded set of candidates is (see _candidates).
CAP = 500
TITLE_TIER = 100


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


def _matching(match: str, where: list[str], limit: str) -> str:
    """SQL for the ids of items matching `match` (a parameter) that pass `where`, newest first, unranked."""
    return (f"SELECT i.id FROM search_index JOIN item i ON i.id = search_index.rowid WHERE search_index MATCH {match} "
            f"AND {' AND '.join(where)} ORDER BY search_index.rowid DESC LIMIT {limit}")


def _best(conn: Connection, query: Query, where: list[str], params: dict[str, object], relaxed: bool,
          column: str | None, limit: int) -> list[tuple[int, float]]:
    """The best `limit` of a bounded set of candidates, chosen, scored and sorted in one statement.

    Up to CAP matches are all ranked. Beyond that, bm25 over every match would cost far more than a
    search may take (tens of thousands of rows at several microseconds each), so the candidates are
    the CAP newest matches and the TITLE_TIER newest whose title alone holds the whole query. One
    statement, so that only the rows shown come back to Python, not every candidate.
    """
    full = query.fts(relaxed, column)
    found = "SELECT id FROM (SELECT id FROM newest ORDER BY id DESC LIMIT :cap)"
    if column is None:
        # Tested once, before the title matches are read at all.
        beyond = "(SELECT count(*) FROM newest) > :cap"
        found += f" UNION SELECT id FROM ({_matching(':titled', [beyond, *where], ':tier')})"
    # `+rowid` keeps the candidates a filter over one pass of the matches from the oldest candidate on
    # (FTS5 starts at `rowid >=` itself): as a lookup, SQLite would run a query per id, and bm25 would
    # count every phrase's documents again for each.
    sql = (f"WITH newest(id) AS MATERIALIZED ({_matching(':m', where, ':cap + 1')}), found(id) AS ({found}) "
           f"SELECT rowid, {_BM25} AS r FROM search_index WHERE EXISTS (SELECT 1 FROM found) AND search_index MATCH :m "
           "AND rowid >= (SELECT min(id) FROM found) AND +rowid IN found ORDER BY r, rowid LIMIT :n")
    values = {**params, "m": full, "titled": f"{{title}} : ({full})", "cap": CAP, "tier": TITLE_TIER, "n": limit}
    return [(item_id, round(-float(r), 4)) for item_id, r in conn.execute(text(sql), values)]


def _named_candidates(conn: Connection, query: Query, naming: dict[int, list[str]], where: list[str],
                      params: dict[str, object], relaxed: bool) -> tuple[list[int], str]:
    """Items holding each wanted term in their text or by a topic naming it (the newest CAP), and how to score them."""
    where = list(where)
    params = dict(params)
    binds: list[BindParameter[object]] = []
    for n, term in enumerate(query.wanted):
        params[f"t{n}"] = term.fts(relaxed)
        held = f"i.id IN (SELECT rowid FROM search_index WHERE search_index MATCH :t{n})"
        if n in naming:
            params[f"s{n}"] = naming[n]
            binds.append(bindparam(f"s{n}", expanding=True))
            held = f"({held} OR i.id IN (SELECT item_id FROM itemtopic WHERE origin != 'untag' AND slug IN :s{n}))"
        where.append(held)
    if query.unwanted:
        params["out"] = " OR ".join(t.fts() for t in query.unwanted)
        where.append("i.id NOT IN (SELECT rowid FROM search_index WHERE search_index MATCH :out)")
    sql = f"SELECT i.id FROM item i WHERE {' AND '.join(where)} ORDER BY i.id DESC LIMIT :n"
    statement = text(sql).bindparams(*binds) if binds else text(sql)
    found = [row[0] for row in conn.execute(statement, {**params, "n": CAP})]
    return found, " OR ".join(t.fts(relaxed) for t in query.wanted)


def ranked(conn: Connection, query: Query, filters: Sequence[str], params: dict[str, object], *,
           relaxed: bool, column: str | None, limit: int, leave_out: Sequence[int] = ()) -> list[tuple[int, float]]:
    """(item id, score) of the best `limit` items, best first; `filters` are SQL conditions on item `i`."""
    where = list(filters)
    params = dict(params)
    if leave_out:
        # One JSON parameter, not one per id: SQLAlchemy would otherwise render hundreds of them per search.
        where.append("i.id NOT IN (SELECT value FROM json_each(:leave_out))")
        params["leave_out"] = json.dumps(list(leave_out))
    naming = {} if column else {n: s for n, t in enumerate(query.wanted) if (s := _topics_naming(conn, t, relaxed))}
    if not naming:
        return _best(conn, query, where, params, relaxed, column, limit)
    found, scoring = _named_candidates(conn, query, naming, where, params, relaxed)
    if not found:
        return []
    # Candidates that hold a term only by their topic's name may not match `scoring`: they score 0.
    statement = text(f"SELECT rowid, {_BM25} FROM search_index WHERE search_index MATCH :m AND rowid >= :low "
                     "AND +rowid IN (SELECT value FROM json_each(:ids))")
    scores = {item_id: -float(r) for item_id, r in conn.execute(statement, {"m": scoring, "ids": json.dumps(found),
                                                                           "low": min(found)})}
    best = sorted(found, key=lambda item_id: (-scores.get(item_id, 0.0), item_id))[:limit]
    return [(item_id, round(scores.get(item_id, 0.0), 4)) for item_id in best]
