"""Reading the inbox and the learner's profile from the database, for ranking and `papers show`."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from tracker.papers.rank import Candidate, ProfileDoc, Ranked, rank
from tracker.store import db as dbmod
from tracker.store.models import Fetch, Paper

item_t, tag_t = dbmod.item_t, dbmod.tag_t
paper_t = Paper.__table__  # type: ignore[attr-defined]
fetch_t = Fetch.__table__  # type: ignore[attr-defined]

# What the learner studies: items they have finished or are in the middle of.
PROFILE_STATUSES = ("digested", "reading")
# Crawled page text is long and noisy; its opening says what the page is about.
PAGE_TEXT_CHARS = 1500


def _tag_scores(conn: Connection) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = defaultdict(dict)
    for item_id, slug, origin, score in conn.execute(
            select(tag_t.c.item_id, tag_t.c.slug, tag_t.c.origin, tag_t.c.score).where(tag_t.c.origin != "untag")):
        # A topic the learner or a query chose is certain; the classifier's is as sure as its score.
        out[item_id][slug] = 1.0 if origin in ("manual", "query", "section") else float(score or 0.0)
    return out


def load_candidates(conn: Connection, tags: dict[int, dict[str, float]], topic: str | None) -> list[Candidate]:
    """Inbox papers with their text, optionally only one topic's."""
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


def load_profile(conn: Connection, tags: dict[int, dict[str, float]]) -> list[ProfileDoc]:
    """Digested and reading items, with paper abstracts and the start of crawled text where known."""
    query = (select(item_t.c.id, item_t.c.title, paper_t.c.abstract, fetch_t.c.title.label("page_title"),
                    fetch_t.c.text)
             .select_from(item_t.outerjoin(paper_t, paper_t.c.item_id == item_t.c.id)
                          .outerjoin(fetch_t, fetch_t.c.item_id == item_t.c.id))
             .where(item_t.c.status.in_(PROFILE_STATUSES), item_t.c.retired.is_(False)))
    out = []
    for row in conn.execute(query):
        parts = [row.title, row.abstract or "", row.page_title or "", (row.text or "")[:PAGE_TEXT_CHARS]]
        out.append(ProfileDoc(id=row.id, title=row.title, text=". ".join(p for p in parts if p),
                              topics=frozenset(tags.get(row.id, {}))))
    return out


def ranked_inbox(conn: Connection, topic: str | None = None, limit: int | None = None,
                 now: datetime | None = None) -> list[Ranked]:
    """`tracker papers inbox`: the inbox, best fit first."""
    tags = _tag_scores(conn)
    profile = load_profile(conn, tags)
    active = frozenset(s for doc in profile for s in doc.topics)
    rows = rank(load_candidates(conn, tags, topic), profile, now or dbmod.utcnow(), active)
    return rows[:limit] if limit is not None else rows
