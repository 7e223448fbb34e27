"""Search without the FTS5 index (PostgreSQL or any other SQLAlchemy database): slower, never an error.

The database narrows the rows with case-insensitive LIKE (`ILIKE` where the backend has it) on the
first term; Python then checks every term in every field, page texts unpacked as it goes, and
ranks by the weight of the fields that hold them (the same weights as bm25's on SQLite).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.engine import Connection

from tracker.search.fts import WEIGHTS
from tracker.search.query import Query, Term
from tracker.search.snippets import stem
from tracker.search.words import CJK_CHARS, CJK_RUN
from tracker.store.pagetext import unpack, unpack_opening
from tracker.store.tables import fetch_t, item_t, pagetext_t, paper_t, tag_t, topic_t

if TYPE_CHECKING:
    from sqlalchemy import Row

COLUMNS = ("title", "notes", "text", "abstract", "authors")
_LATIN = "0-9A-Za-z\u00c0-\u024f"


def _needles(term: Term, relaxed: bool) -> list[str]:
    """Lower-case strings, every one of which a field holding `term` contains (any one of them, relaxed)."""
    out = []
    for piece in CJK_RUN.split(term.text):
        out += [w if term.prefix else stem(w) for w in re.findall(f"[{_LATIN}]+", piece.lower())]
    for run in CJK_RUN.findall(term.text):
        out.append(run)
    return out


def _bigrams(run: str) -> list[str]:
    return [run[i:i + 2] for i in range(len(run) - 1)]


def _word(needle: str) -> str:
    return f"(?<![{_LATIN}]){re.escape(needle)}[{_LATIN}]*"


def _holds(term: Term, relaxed: bool) -> list[re.Pattern[str]]:
    """Patterns that must all be found for a field to hold `term`."""
    if term.phrase:  # its words in order, with only spaces or punctuation between them
        tokens = re.findall(f"[{_LATIN}]+|[{CJK_CHARS}]+", term.text.lower())
        parts = [t if CJK_RUN.fullmatch(t) else _word(stem(t)) for t in tokens]
        return [re.compile(f"[^{_LATIN}{CJK_CHARS}]*".join(parts), re.IGNORECASE)]
    out = []
    for needle in _needles(term, relaxed):
        if CJK_RUN.fullmatch(needle):
            alternatives = _bigrams(needle) if relaxed and len(needle) > 2 and not term.phrase else [needle]
            out.append(re.compile("|".join(map(re.escape, alternatives))))
        else:
            out.append(re.compile(_word(needle), re.IGNORECASE))
    return out


def _held(patterns: list[re.Pattern[str]], text: str | None) -> bool:
    return bool(text) and all(p.search(text or "") for p in patterns)


def fields(title: str, page_title: str | None, paper_title: str | None, notes: str | None, abstract: str | None,
           authors: str | None, text: bytes | None, opening: int | None = None) -> dict[str, str | None]:
    """An item's searchable text by field: the curated title with any page or arXiv title that differs.

    `opening`: take only that many bytes of the page text (for showing, not for matching).
    """
    title = " ".join([title, *(other for other in (page_title, paper_title) if other and other != title)])
    names = " ".join(json.loads(authors)) if authors and authors != "[]" else None
    page = unpack(text) if opening is None else unpack_opening(text, opening)
    return {"title": title, "notes": notes or None, "text": page, "abstract": abstract or None,
            "authors": names}


def _topic_names(conn: Connection) -> dict[str, str]:
    return {slug: " ".join([title, slug, *json.loads(aliases or "[]")])
            for slug, title, aliases in conn.execute(select(topic_t.c.slug, topic_t.c.title, topic_t.c.aliases))}


def _rows(conn: Connection, query: Query, filters: Sequence[ColumnElement[bool]], relaxed: bool,
          named: dict[int, list[str]]) -> Iterator[Row]:
    first = query.wanted[0]
    needles = _needles(first, relaxed)
    if relaxed and first.cjk and len(first.text) > 2:
        needles = _bigrams(first.text)
    columns = (item_t.c.title, fetch_t.c.title, paper_t.c.title, item_t.c.notes, paper_t.c.abstract,
               paper_t.c.authors)
    # A row may hold the first term in a field, in its page text (unpacked here, not there), or by a topic.
    if not (relaxed and first.cjk and len(first.text) > 2):
        needles = needles[:1]  # every one is required: the first is enough to narrow by
    near = [or_(*(c.ilike(f"%{n}%") for c in columns for n in needles)) if needles else false()]
    near += [pagetext_t.c.item_id.is_not(None)]
    if named.get(0):
        near.append(item_t.c.id.in_(select(tag_t.c.item_id).where(tag_t.c.slug.in_(named[0]),
                                                                   tag_t.c.origin != "untag")))
    statement = (select(item_t.c.id, item_t.c.title, fetch_t.c.title.label("page_title"),
                        paper_t.c.title.label("paper_title"), item_t.c.notes, paper_t.c.abstract, paper_t.c.authors,
                        pagetext_t.c.text)
                 .select_from(item_t.outerjoin(fetch_t, fetch_t.c.item_id == item_t.c.id)
                              .outerjoin(paper_t, paper_t.c.item_id == item_t.c.id)
                              .outerjoin(pagetext_t, pagetext_t.c.item_id == item_t.c.id))
                 .where(*filters, or_(*near)))
    yield from conn.execute(statement)


def ranked(conn: Connection, query: Query, filters: Sequence[ColumnElement[bool]], *, relaxed: bool,
           column: str | None, limit: int, leave_out: Sequence[int] = ()) -> list[tuple[int, float]]:
    """(item id, score) of the best `limit` items, best first, checked field by field in Python."""
    wanted = [_holds(t, relaxed) for t in query.wanted]
    unwanted = [_holds(t, False) for t in query.unwanted]
    named: dict[int, list[str]] = {}
    if column is None:
        names = _topic_names(conn)
        named = {n: [s for s, name in names.items() if _held(p, name)] for n, p in enumerate(wanted)}
    tagged: dict[int, set[str]] = {}
    if any(named.values()):
        for item_id, slug in conn.execute(select(tag_t.c.item_id, tag_t.c.slug).where(tag_t.c.origin != "untag")):
            tagged.setdefault(item_id, set()).add(slug)
    skip = set(leave_out)
    weight = dict(zip(COLUMNS, WEIGHTS, strict=True))
    scored = []
    for row in _rows(conn, query, filters, relaxed, named):
        if row.id in skip:
            continue
        found = fields(row.title, row.page_title, row.paper_title, row.notes, row.abstract, row.authors,
                       row.text)
        looked = {column: found[column]} if column else found
        if any(_held(p, t) for p in unwanted for t in looked.values()):
            continue
        score = 0.0
        for n, patterns in enumerate(wanted):
            best = max((weight[c] for c, t in looked.items() if _held(patterns, t)), default=None)
            if best is None and not set(named.get(n, ())) & tagged.get(row.id, set()):
                break
            score += best or 0.0
        else:
            scored.append((row.id, score))
    scored.sort(key=lambda pair: (-pair[1], pair[0]))
    return scored[:limit]
