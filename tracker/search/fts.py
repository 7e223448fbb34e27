"""Ranking on SQLite: FTS5's bm25 over the index, titles weighted above notes, abstracts and page text.

A term that names a topic (its title, slug or an alias, matched in the topic-name index) is also
satisfied by the items tagged with that topic; those rank after the items whose own text holds it.
Where a query matches more items than can be scored in a search's time, a bounded set of candidates
is scored instead (see `_candidates`).
"""

from __future__ import annotations

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


def _ids(conn: Connection, match: str, where: list[str], params: dict[str, object], binds: list[BindParameter[object]],
         limit: int) -> list[int]:
    """Ids of items matching `match` that pass `where`, newest first, unranked (cheap)."""
    sql = (f"SELECT i.id FROM search_index JOIN item i ON i.id = search_index.rowid WHERE search_index MATCH :m "
           f"AND {' AND '.join(where)} ORDER BY search_index.rowid DESC LIMIT :n")
    statement = text(sql).bindparams(*binds) if binds else text(sql)
    return [row[0] for row in conn.execute(statement, {**params, "m": match, "n": limit})]


def _candidates(conn: Connection, query: Query, where: list[str], params: dict[str, object],
                binds: list[BindParameter[object]], relaxed: bool, column: str | None) -> tuple[list[int], str]:
    """A bounded set of items to rank, and the expression to score them with.

    Up to CAP matches are all ranked. Beyond that, bm25 over every match would cost far more than a
    search may take (tens of thousands of rows at several microseconds each), so the candidates are
    the CAP newest matches and the TITLE_TIER newest whose title alone holds the whole query.
    """
    full = query.fts(relaxed, column)
    found = _ids(conn, full, where, params, binds, CAP + 1)
    if len(found) <= CAP or column is not None:
        return found[:CAP], full
    titled = _ids(conn, f"{{title}} : ({full})", where, params, binds, TITLE_TIER)
    return list(dict.fromkeys(found[:CAP] + titled)), full


def _named_candidates(conn: Connection, query: Query, naming: dict[int, list[str]], where: list[str],
                      params: dict[str, object], binds: list[BindParameter[object]],
                      relaxed: bool) -> tuple[list[int], str]:
    """Items holding each wanted term in their text or by a topic naming it (the newest CAP), and how to score them."""
    where = list(where)
    params = dict(params)
    binds = list(binds)
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
    binds: list[BindParameter[object]] = []
    if leave_out:
        where.append("i.id NOT IN :leave_out")
        params["leave_out"] = list(leave_out)
        binds.append(bindparam("leave_out", expanding=True))
    naming = {} if column else {n: s for n, t in enumerate(query.wanted) if (s := _topics_naming(conn, t, relaxed))}
    if naming:
        found, scoring = _named_candidates(conn, query, naming, where, params, binds, relaxed)
    else:
        found, scoring = _candidates(conn, query, where, params, binds, relaxed, column)
    if not found:
        return []
    # One pass over the matches from the oldest candidate on (FTS5 starts at `rowid >=` itself), `+rowid`
    # keeping the list a filter: as a lookup, SQLite would run a query per id, and bm25 would count every
    # phrase's documents again for each.
    statement = text(f"SELECT rowid, {_BM25} FROM search_index WHERE search_index MATCH :m AND rowid >= :low "
                     "AND +rowid IN :ids").bindparams(bindparam("ids", expanding=True))
    scores = {item_id: -float(r) for item_id, r in conn.execute(statement, {"m": scoring, "ids": found,
                                                                           "low": min(found)})}
    best = sorted(found, key=lambda item_id: (-scores.get(item_id, 0.0), item_id))[:limit]
    return [(item_id, round(scores.get(item_id, 0.0), 4)) for item_id in best]
