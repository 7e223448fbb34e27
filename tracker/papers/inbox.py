"""Reading the inbox and the learner's profile from the database, for ranking and `papers show`.

The profile is read in two bounded passes (see `tracker.papers.rank`): the RECENT_DOCS items most
recently digested or started, then every topic's digested and reading items, topic by topic, each
topic's words counted and cut to its heaviest before the next. Ranking holds the inbox and that
profile, never every digested document. `InboxRanking` keeps a ranked inbox between requests for
the web app: it builds the profile again only when something was digested, started or undone (or
tags or retirements changed), and scores only the papers that arrived since.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from operator import attrgetter
from typing import TYPE_CHECKING

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.engine import Connection

from tracker.papers import rank as rankmod
from tracker.papers.rank import Candidate, Model, Profile, ProfileDoc, Ranked, topic_profile
from tracker.store import db as dbmod
from tracker.store.models import Fetch, Paper

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Row

item_t, tag_t, event_t = dbmod.item_t, dbmod.tag_t, dbmod.event_t
paper_t = Paper.__table__  # type: ignore[attr-defined]
fetch_t = Fetch.__table__  # type: ignore[attr-defined]

# What the learner studies: items they have finished or are in the middle of.
PROFILE_STATUSES = ("digested", "reading")
# Crawled page text is long and noisy; its opening says what the page is about.
PAGE_TEXT_CHARS = 1500
# Rows fetched at a time from a streamed query.
STREAM_ROWS = 1000


def _tag_score(origin: str, score: float | None) -> float:
    # A topic the learner or a query chose is certain; the classifier's is as sure as its score.
    return 1.0 if origin in ("manual", "query", "section") else float(score or 0.0)


def _in_profile() -> ColumnElement[bool]:
    return and_(item_t.c.status.in_(PROFILE_STATUSES), item_t.c.retired.is_(False))


def _texts(query: Select) -> Select:
    """`query` over items, with the columns a profile text is made of."""
    return (query.add_columns(item_t.c.title, paper_t.c.abstract, fetch_t.c.title.label("page_title"),
                              func.substr(fetch_t.c.text, 1, PAGE_TEXT_CHARS).label("text"))
            .outerjoin(paper_t, paper_t.c.item_id == item_t.c.id).outerjoin(fetch_t, fetch_t.c.item_id == item_t.c.id))


def _text(row: Row) -> str:
    parts = [row.title, row.abstract or "", row.page_title or "", row.text or ""]
    return ". ".join(p for p in parts if p)


def load_candidates(conn: Connection, topic: str | None = None, ids: Sequence[int] | None = None) -> list[Candidate]:
    """Inbox papers with their text: all, one topic's, or the given ids that are in the inbox."""
    tags: dict[int, dict[str, float]] = defaultdict(dict)
    tag_query = (select(tag_t.c.item_id, tag_t.c.slug, tag_t.c.origin, tag_t.c.score)
                 .select_from(tag_t.join(item_t, item_t.c.id == tag_t.c.item_id))
                 .where(item_t.c.status == "inbox", tag_t.c.origin != "untag"))
    query = (select(item_t.c.id, item_t.c.arxiv_id, item_t.c.title, paper_t.c.abstract, paper_t.c.published)
             .select_from(item_t.outerjoin(paper_t, paper_t.c.item_id == item_t.c.id))
             .where(item_t.c.status == "inbox"))
    rows: list[Row] = []
    if ids is None:
        for item_id, slug, origin, score in conn.execute(tag_query):
            tags[item_id][slug] = _tag_score(origin, score)
        rows = list(conn.execute(query))
    else:
        for chunk in dbmod.chunks(list(ids), 500):
            for item_id, slug, origin, score in conn.execute(tag_query.where(tag_t.c.item_id.in_(chunk))):
                tags[item_id][slug] = _tag_score(origin, score)
            rows += conn.execute(query.where(item_t.c.id.in_(chunk)))
    out = []
    for row in rows:
        topics = tags.get(row.id, {})
        if topic is not None and topic not in topics:
            continue
        out.append(Candidate(id=row.id, arxiv_id=row.arxiv_id, title=row.title,
                             text=f"{row.title}. {row.abstract or ''}", topics=topics, published=row.published))
    return out


def recent_docs(conn: Connection, limit: int) -> list[ProfileDoc]:
    """The `limit` items most recently digested or started, newest first, with their topics."""
    if limit <= 0:
        return []
    query = (_texts(select(item_t.c.id).select_from(item_t)).where(_in_profile())
             .order_by(item_t.c.status_at.desc(), item_t.c.id.desc()).limit(limit))
    rows = list(conn.execute(query))
    topics: dict[int, set[str]] = defaultdict(set)
    for chunk in dbmod.chunks([r.id for r in rows], 500):
        for item_id, slug in conn.execute(select(tag_t.c.item_id, tag_t.c.slug)
                                          .where(tag_t.c.item_id.in_(chunk), tag_t.c.origin != "untag")):
            topics[item_id].add(slug)
    return [ProfileDoc(id=r.id, title=r.title, text=_text(r), topics=frozenset(topics.get(r.id, ()))) for r in rows]


def _topic_texts(conn: Connection) -> Iterator[tuple[str, Iterator[str]]]:
    """(slug, the texts of its digested and reading items), one topic after another, streamed."""
    query = (_texts(select(tag_t.c.slug).select_from(tag_t.join(item_t, item_t.c.id == tag_t.c.item_id)))
             .where(tag_t.c.origin != "untag", _in_profile()).order_by(tag_t.c.slug))
    result = conn.execution_options(yield_per=STREAM_ROWS).execute(query)
    for slug, rows in groupby(result, key=attrgetter("slug")):
        yield slug, (_text(row) for row in rows)


def load_profile(conn: Connection) -> Profile:
    """The learner's bounded profile, from everything digested or being read."""
    tokens = rankmod.analyzer()
    topics = tuple(topic_profile(slug, texts, tokens) for slug, texts in _topic_texts(conn))
    docs = conn.execute(select(func.count()).select_from(item_t).where(_in_profile())).scalar() or 0
    return Profile(recent=tuple(recent_docs(conn, rankmod.RECENT_DOCS)), topics=topics, docs=int(docs))


def score_papers(conn: Connection, model: Model, ids: Sequence[int], now: datetime) -> Iterator[Ranked]:
    """The inbox papers among `ids` scored by `model`, read a block at a time."""
    for chunk in dbmod.chunks(list(ids), rankmod.ROWS_PER_BLOCK):
        yield from model.score(load_candidates(conn, ids=chunk), now)


def ranked_inbox(conn: Connection, topic: str | None = None, limit: int | None = None,
                 now: datetime | None = None) -> list[Ranked]:
    """`tracker papers inbox`: the inbox, best fit first."""
    model = Model(load_profile(conn))
    rows = rankmod.order(score_papers(conn, model, sorted(_inbox_ids(conn, topic)), now or dbmod.utcnow()))
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

    After any commit (the caller passes SQLite's data version; None means "look every time") it
    checks what changed: events that put an item into the profile or took one out, tag edits and
    retirements make it build the profile again and score every paper; new papers are scored
    alone; accepted or dismissed papers just leave the kept order.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        # (last event id, tag fingerprint, retired count)
        self._seen: tuple[int, tuple[float, ...], int | None] | None = None
        self._model: Model | None = None
        self._scored: dict[int, Ranked] = {}
        self._order: list[Ranked] = []
        self._shown: dict[str | None, list[Ranked]] = {}
        self.rankings = 0  # how many times it built the profile, for tests and the benchmark

    def page(self, conn: Connection, topic: str | None = None, offset: int = 0, limit: int = 50,
             now: datetime | None = None, version: int | None = None) -> InboxPage:
        """Papers `offset` to `offset + limit` of the inbox (one topic's, if given), best first."""
        with self._lock:
            if version is None or version != self._version:
                self._refresh(conn, now or dbmod.utcnow())
                self._version = version
            current = self._shown.get(topic)
            if current is None:
                live = _inbox_ids(conn, topic)
                current = self._shown[topic] = [r for r in self._order if r.id in live]
        return _page_of(conn, current, offset, limit)

    def page_if_ranked(self, conn: Connection, topic: str | None, offset: int, limit: int,
                       version: int) -> InboxPage | None:
        """`page`, where the kept ranking is that of database version `version` and holds `topic`'s list;
        else None, at once: never waiting for a ranking under way."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            current = self._shown.get(topic) if version == self._version else None
        finally:
            self._lock.release()
        return None if current is None else _page_of(conn, current, offset, limit)

    def _refresh(self, conn: Connection, now: datetime) -> None:
        self._shown.clear()
        last_event = conn.execute(select(func.max(event_t.c.id))).scalar() or 0
        # Tags added, removed or changed in origin, and items retired: cheap counts that move with them.
        marks = (tuple(conn.execute(select(func.count(), func.total(tag_t.c.score),
                                           func.total(tag_t.c.origin == "untag")).select_from(tag_t)).one()),
                 conn.execute(select(func.count()).select_from(item_t).where(item_t.c.retired.is_(True))).scalar())
        if self._model is None or self._seen is None or marks != self._seen[1:] or \
                _profile_touched(conn, self._seen[0], last_event):
            self._model = Model(load_profile(conn))
            self._scored = {}
            self.rankings += 1
        self._seen = (last_event, *marks)
        live = _inbox_ids(conn, None)
        self._scored = {i: r for i, r in self._scored.items() if i in live}
        fresh = sorted(i for i in live if i not in self._scored)
        for row in score_papers(conn, self._model, fresh, now):
            self._scored[row.id] = row
        self._order = rankmod.order(self._scored.values())


def _page_of(conn: Connection, ranked: list[Ranked], offset: int, limit: int) -> InboxPage:
    shown = ranked[offset:offset + limit]
    return InboxPage(rows=shown, total=len(ranked), offset=offset, abstracts=abstracts(conn, [r.id for r in shown]))


def _profile_touched(conn: Connection, after: int, upto: int) -> bool:
    """Whether the events after id `after` (up to `upto`) moved an item into or out of the profile."""
    if upto <= after:
        return False
    new = event_t.alias("new")
    earlier = event_t.alias("earlier")
    was_in = exists(select(earlier.c.id).where(earlier.c.item_id == new.c.item_id, earlier.c.id < new.c.id,
                                               earlier.c.status.in_(PROFILE_STATUSES)))
    query = select(new.c.id).where(new.c.id > after, new.c.id <= upto,
                                   new.c.status.in_(PROFILE_STATUSES) | was_in).limit(1)
    return conn.execute(query).first() is not None


def _inbox_ids(conn: Connection, topic: str | None) -> set[int]:
    query = select(item_t.c.id).where(item_t.c.status == "inbox")
    if topic is not None:
        query = query.where(item_t.c.id.in_(select(tag_t.c.item_id).where(tag_t.c.slug == topic,
                                                                           tag_t.c.origin != "untag")))
    return set(conn.execute(query).scalars())
