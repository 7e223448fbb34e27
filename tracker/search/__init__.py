"""Full-text search over items: titles, notes, page text, paper abstracts and authors, topic names.

    search(conn, "BN 为什么有效", status="digested") -> [Hit, ...]

On SQLite the FTS5 index of migration m010 ranks with bm25 (`fts`); on other databases a slower
scan gives the same kind of answer (`scan`). Both read queries the same way (`query`) and show the
same snippets (`snippets`); `index` keeps the index in step with every write, `words` is how
Chinese reaches the tokenizer. Hits exclude retired items and dismissed papers unless asked for.
A query's terms are all required; where that finds fewer than `limit` items and the query holds a
run of three or more CJK characters, items holding only part of such a run (some of its bigrams)
follow, ranked after the exact ones. A query matching more than `fts.CAP` items ranks a bounded set
of candidates (the newest matches and the newest whose title holds the query), to stay within a
search's time on lists of 100,000 items.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, TypedDict, Unpack

from tracker.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.engine import Connection

    from tracker.search.query import Query
    from tracker.store.db import Database

# What `--in` may name: indexed columns a person asks for by name.
FIELDS = ("title", "notes", "text", "abstract")
MAX_LIMIT = 1_000


@dataclass(frozen=True)
class Hit:
    """One item found: what a results row shows, its score (higher is better) and where the snippet matched."""

    id: int
    title: str
    status: str
    topics: tuple[str, ...]
    kind: str
    snippet: str
    score: float
    # [start, end) character offsets of each match in `snippet`.
    matches: tuple[tuple[int, int], ...] = ()

    def as_json(self) -> dict[str, object]:
        """The contract's keys, plus `matches` as [start, end] pairs."""
        return {"id": self.id, "title": self.title, "status": self.status, "topics": list(self.topics),
                "kind": self.kind, "snippet": self.snippet, "score": self.score,
                "matches": [list(m) for m in self.matches]}


def _check(status: str | None, kind: str | None, field: str | None, limit: int) -> None:
    from tracker.store.states import KINDS, PAPER_STATES, STATUSES

    statuses = (*STATUSES, *PAPER_STATES)
    if status is not None and status not in statuses:
        raise UsageError(f"unknown status {status!r}: use one of {', '.join(statuses)}")
    if kind is not None and kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    if field is not None and field not in FIELDS:
        raise UsageError(f"unknown field {field!r} for --in: use one of {', '.join(FIELDS)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"--limit must be between 1 and {MAX_LIMIT}")


def search(conn: Connection, query: str, *, topic: str | None = None, status: str | None = None,
           kind: str | None = None, field: str | None = None, limit: int = 20,
           use_index: bool | None = None) -> list[Hit]:
    """Items matching `query`, best first, at most `limit`; UsageError for a query or option that cannot be used.

    `field` limits matching to one of FIELDS. `use_index=False` takes the scan that databases
    without the index use (None: the index where there is one).
    """
    from tracker.search import fts
    from tracker.search.query import parse

    _check(status, kind, field, limit)
    parsed = parse(query)
    if topic is not None:
        from tracker.topics import check_topic

        check_topic(conn, topic)
    indexed = fts.available(conn) if use_index is None else use_index and fts.available(conn)
    found = _ranked(conn, parsed, indexed, topic=topic, status=status, kind=kind, field=field, limit=limit)
    if len(found) < limit and parsed.relaxable:
        found += _ranked(conn, parsed, indexed, topic=topic, status=status, kind=kind, field=field,
                         limit=limit - len(found), relaxed=True, leave_out=[i for i, _ in found])
    return _hits(conn, parsed, found, field)


def _ranked(conn: Connection, parsed: Query, indexed: bool, *, topic: str | None, status: str | None,
            kind: str | None, field: str | None, limit: int, relaxed: bool = False,
            leave_out: list[int] | None = None) -> list[tuple[int, float]]:
    if indexed:
        from tracker.search import fts

        where = ["i.retired = 0", "i.status = :status" if status else "i.status != 'dismissed'"]
        where += ["i.kind = :kind"] if kind else []
        where += ["i.id IN (SELECT item_id FROM itemtopic WHERE slug = :topic AND origin != 'untag')"] if topic else []
        params = {"status": status, "kind": kind, "topic": topic}
        return fts.ranked(conn, parsed, where, {k: v for k, v in params.items() if v is not None},
                          relaxed=relaxed, column=field, limit=limit, leave_out=leave_out or [])
    from sqlalchemy import select

    from tracker.search import scan
    from tracker.store.tables import item_t, tag_t

    filters = [item_t.c.retired.is_(False),
               item_t.c.status == status if status else item_t.c.status != "dismissed"]
    if kind:
        filters.append(item_t.c.kind == kind)
    if topic:
        filters.append(item_t.c.id.in_(select(tag_t.c.item_id).where(tag_t.c.slug == topic,
                                                                       tag_t.c.origin != "untag")))
    return scan.ranked(conn, parsed, filters, relaxed=relaxed, column=field, limit=limit, leave_out=leave_out or [])


# A hit's snippet is looked for in the opening of its page's text only: a kept text may be a megabyte,
# and unpacking and scanning the whole of fifty of them cost a search several times its ranking.
SNIPPET_TEXT_BYTES = 100_000


@cache
def _shown() -> Select:
    """The columns a hit shows, for a list of ids: built once, since every search asks it."""
    from sqlalchemy import bindparam, select

    from tracker.store.tables import fetch_t, item_t, pagetext_t, paper_t

    return (select(item_t.c.id, item_t.c.status, item_t.c.kind, item_t.c.title, fetch_t.c.title, paper_t.c.title,
                   item_t.c.notes, paper_t.c.abstract, paper_t.c.authors, pagetext_t.c.text)
            .select_from(item_t.outerjoin(fetch_t, fetch_t.c.item_id == item_t.c.id)
                         .outerjoin(paper_t, paper_t.c.item_id == item_t.c.id)
                         .outerjoin(pagetext_t, pagetext_t.c.item_id == item_t.c.id))
            .where(item_t.c.id.in_(bindparam("ids", expanding=True))))


def _hits(conn: Connection, parsed: Query, found: list[tuple[int, float]], field: str | None) -> list[Hit]:
    from tracker.search import scan
    from tracker.search.snippets import pattern, snippet
    from tracker.store import db as dbmod

    if not found:
        return []
    ids = [item_id for item_id, _ in found]
    # Rows unpacked, not read by attribute name: a Row's names cost about a microsecond each.
    rows = {row[0]: tuple(row) for row in conn.execute(_shown(), {"ids": ids})}
    topics = dbmod.item_topics(conn, ids)
    marks = pattern(parsed)
    order = [field] if field else ["notes", "text", "abstract", "title", "authors"]
    out = []
    for item_id, score in found:
        _, status, kind, title, page_title, paper_title, notes, abstract, authors, text = rows[item_id]
        fields = scan.fields(title, page_title, paper_title, notes, abstract, authors, text,
                             opening=SNIPPET_TEXT_BYTES)
        shown, matches = snippet([fields[name] for name in order], marks)
        out.append(Hit(id=item_id, title=title, status=status, topics=tuple(topics.get(item_id, [])),
                       kind=kind, snippet=shown, score=score, matches=matches))
    return out


class SearchOptions(TypedDict, total=False):
    """`search`'s keyword options, for callers that pass them on."""

    topic: str | None
    status: str | None
    kind: str | None
    field: str | None
    limit: int
    use_index: bool | None


def search_database(database: Database, query: str, **options: Unpack[SearchOptions]) -> list[Hit]:
    """`search` on an open database, first taking in writes that clients without the tracker left noted."""
    found = search_if_current(database, query, **options)
    if found is not None:
        return found
    with database.write():
        pass  # the commit brings the index up to date
    with database.read() as conn:
        return search(conn, query, **options)


def search_if_current(database: Database, query: str, **options: Unpack[SearchOptions]) -> list[Hit] | None:
    """`search` if the index is in step with the tables (always, but where another program wrote to
    them without the tracker); None where a write must bring it up to date first, and no write is made."""
    from tracker.search import index

    with database.read() as conn:
        driver = conn.connection.driver_connection
        if isinstance(driver, sqlite3.Connection) and index.behind(driver):
            return None
        return search(conn, query, **options)


def rebuild(database: Database) -> int:
    """Remake the search index from the tables (SQLite); returns how many items it now holds (0 elsewhere)."""
    from tracker.search import index

    if not database.is_sqlite:
        return 0
    with database.write() as conn:
        driver = conn.connection.driver_connection
        if not isinstance(driver, sqlite3.Connection):
            return 0
        index.rebuild(driver)
        return int(conn.exec_driver_sql("SELECT count(*) FROM item").scalar_one())
