"""Reading the inbox and the learner's profile from the database, for ranking and `papers show`.

The profile is streamed in chunks into a bounded `Profile` (see `tracker.papers.rank`), so ranking
holds the inbox and a few hundred items, never every digested document. `InboxRanking` keeps a
ranked inbox between requests for the web app and ranks again only when the profile or the set
of papers changed.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from tracker.papers.rank import Candidate, Profile, ProfileBuilder, ProfileDoc, Ranked, rank
from tracker.store import db as dbmod
from tracker.store.models import Fetch, Paper

item_t, tag_t, event_t = dbmod.item_t, dbmod.tag_t, dbmod.event_t
paper_t = Paper.__table__  # type: ignore[attr-defined]
fetch_t = Fetch.__table__  # type: ignore[attr-defined]

# What the learner studies: items they have finished or are in the middle of.
PROFILE_STATUSES = ("digested", "reading")
# Crawled page text is long and noisy; its opening says what the page is about.
PAGE_TEXT_CHARS = 1500
# Profile items read per query: bounded memory, few round trips.
PROFILE_CHUNK = 500


def _tag_score(origin: str, score: float | None) -> float:
    # A topic the learner or a query chose is certain; the classifier's is as sure as its score.
    return 1.0 if origin in ("manual", "query", "section") else float(score or 0.0)


def _inbox_tags(conn: Connection) -> dict[int, dict[str, float]]:
    """Topic tags of the papers in the inbox."""
    out: dict[int, dict[str, float]] = defaultdict(dict)
    query = (select(tag_t.c.item_id, tag_t.c.slug, tag_t.c.origin, tag_t.c.score)
             .select_from(tag_t.join(item_t, item_t.c.id == tag_t.c.item_id))
             .where(item_t.c.status == "inbox", tag_t.c.origin != "untag"))
    for item_id, slug, origin, score in conn.execute(query):
        out[item_id][slug] = _tag_score(origin, score)
    return out


def load_candidates(conn: Connection, topic: str | None = None) -> list[Candidate]:
    """Inbox papers with their text, optionally only one topic's."""
    tags = _inbox_tags(conn)
    query = (select(item_t.c.id, item_t.c.arxiv_id, item_t.c.title, paper_t.c.abstract, paper_t.c.published)
             .select_from(item_t.outerjoin(paper_t, paper_t.c.item_id == item_t.c.id))
             .where(item_t.c.status == "inbox"))
    out = []
    for row in conn.execute(query):
        topics = tags.get(row.id, {})
        if topic is not None and topic not in topics:
            continue
        out.append(Candidate(id=row.id, arxiv_id=row.arxiv_id, title=row.title,
                             text=f"{row.title}. {row.abstract or ''}", topics=topics, published=row.published))
    return out


def _profile_ids(conn: Connection) -> list[int]:
    """Ids of the digested and reading items, the most recently changed first."""
    query = (select(item_t.c.id).where(item_t.c.status.in_(PROFILE_STATUSES), item_t.c.retired.is_(False))
             .order_by(item_t.c.status_at.desc(), item_t.c.id.desc()))
    return list(conn.execute(query).scalars())


def profile_docs(conn: Connection) -> Iterator[ProfileDoc]:
    """Digested and reading items, newest first, with paper abstracts and the start of crawled text."""
    ids = _profile_ids(conn)
    for chunk in dbmod.chunks(ids, PROFILE_CHUNK):
        topics: dict[int, set[str]] = defaultdict(set)
        for item_id, slug in conn.execute(select(tag_t.c.item_id, tag_t.c.slug)
                                          .where(tag_t.c.item_id.in_(chunk), tag_t.c.origin != "untag")):
            topics[item_id].add(slug)
        query = (select(item_t.c.id, item_t.c.title, paper_t.c.abstract, fetch_t.c.title.label("page_title"),
                        func.substr(fetch_t.c.text, 1, PAGE_TEXT_CHARS).label("text"))
                 .select_from(item_t.outerjoin(paper_t, paper_t.c.item_id == item_t.c.id)
                              .outerjoin(fetch_t, fetch_t.c.item_id == item_t.c.id))
                 .where(item_t.c.id.in_(chunk)))
        rows = {row.id: row for row in conn.execute(query)}
        for item_id in chunk:
            row = rows[item_id]
            parts = [row.title, row.abstract or "", row.page_title or "", row.text or ""]
            yield ProfileDoc(id=row.id, title=row.title, text=". ".join(p for p in parts if p),
                             topics=frozenset(topics.get(item_id, ())))


def load_profile(conn: Connection) -> Profile:
    """The learner's bounded profile, from everything digested or being read."""
    builder = ProfileBuilder()
    for doc in profile_docs(conn):
        builder.add(doc)
    return builder.build()


def ranked_inbox(conn: Connection, topic: str | None = None, limit: int | None = None,
                 now: datetime | None = None) -> list[Ranked]:
    """`tracker papers inbox`: the inbox, best fit first."""
    profile = load_profile(conn)
    rows = rank(load_candidates(conn, topic), profile, now or dbmod.utcnow(), profile.active)
    return rows[:limit] if limit is not None else rows


@dataclass(frozen=True)
class InboxPage:
    """One page of the ranked inbox, with the abstracts of its papers."""

    rows: list[Ranked]
    total: int
    offset: int
    abstracts: dict[int, str]


def abstracts(conn: Connection, ids: list[int]) -> dict[int, str]:
    """The arXiv abstracts of the given items (those that have one)."""
    if not ids:
        return {}
    query = select(paper_t.c.item_id, paper_t.c.abstract).where(paper_t.c.item_id.in_(ids))
    return {item_id: text or "" for item_id, text in conn.execute(query)}


class InboxRanking:
    """The ranked inbox, kept between requests (the web app's inbox pages).

    Ranking again costs a second or two on a large inbox, so it happens only when the profile
    changed (something digested, started or undone) or papers arrived; papers accepted or
    dismissed since merely drop out of the kept order. Tag changes count as arrivals.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._rows: list[Ranked] = []
        self.rankings = 0  # how many times it ranked, for tests and the benchmark

    def page(self, conn: Connection, topic: str | None = None, offset: int = 0, limit: int = 50,
             now: datetime | None = None) -> InboxPage:
        """Papers `offset` to `offset + limit` of the inbox (one topic's, if given), best first."""
        with self._lock:
            key = _ranking_key(conn)
            if key != self._key:
                self._rows = ranked_inbox(conn, now=now)
                self._key = key
                self.rankings += 1
            rows = self._rows
        live = _inbox_ids(conn, topic)
        current = [r for r in rows if r.id in live]
        shown = current[offset:offset + limit]
        return InboxPage(rows=shown, total=len(current), offset=offset,
                         abstracts=abstracts(conn, [r.id for r in shown]))


def _ranking_key(conn: Connection) -> tuple[Any, ...]:
    """What the ranking depends on, cheaply: the profile's items and the newest item and tag."""
    profile = conn.execute(select(func.count(), func.max(item_t.c.status_at), func.total(item_t.c.id))
                           .where(item_t.c.status.in_(PROFILE_STATUSES), item_t.c.retired.is_(False))).one()
    newest = conn.execute(select(func.max(item_t.c.id))).scalar()
    tags = conn.execute(select(func.count(), func.max(tag_t.c.score)).select_from(tag_t)).one()
    return (*profile, newest, *tags)


def _inbox_ids(conn: Connection, topic: str | None) -> set[int]:
    query = select(item_t.c.id).where(item_t.c.status == "inbox")
    if topic is not None:
        query = query.where(item_t.c.id.in_(select(tag_t.c.item_id).where(tag_t.c.slug == topic,
                                                                           tag_t.c.origin != "untag")))
    return set(conn.execute(query).scalars())
