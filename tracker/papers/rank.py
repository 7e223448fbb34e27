"""Ranking the inbox by fit with what the learner studies.

The score mixes three things, each in 0..1:
- similarity: tf-idf cosine between a paper's title and abstract and the learner's profile,
  preferring profile rows that share one of the paper's topics (the arxiv-sanity idea);
- topic fit: how strongly the paper belongs to its best topic, halved when the learner has not
  started that topic yet;
- recency: halves every RECENCY_HALF_LIFE days.

The profile is bounded whatever the history's length: one row per topic, the summed words of
everything digested or read there (its heaviest TOPIC_TERMS words), plus the RECENT_DOCS items
most recently digested or started, so that a row can name the item a paper resembles. Measured
against the whole history as neighbours (docs/benchmarks.md, "Inbox ranking"), the topic rows keep
old interests that a window of recent items forgets, and the recent items keep what is read now.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Similarity dominates once there is a reading history; topic and recency order the rest.
W_SIMILAR, W_TOPIC, W_RECENT = 0.6, 0.25, 0.15
RECENCY_HALF_LIFE = 14.0
# A profile row outside the paper's topics counts for half: related, but not what the learner studies there.
OTHER_TOPIC_FACTOR = 0.5
# Latin words of two or more letters, and Chinese in two-character pieces (a crude but fast
# stand-in for word segmentation; profiles mix Zhihu titles with English abstracts).
TOKEN_PATTERN = r"(?u)[a-z][a-z0-9]+|[\u3400-\u9fff]{2}"
ROWS_PER_BLOCK = 1000
# The bounds of the profile: items named as neighbours, and words kept per topic. A topic's counts
# are cut back to its heaviest TOPIC_TERMS words whenever they pass four times that, so building
# never holds more either.
RECENT_DOCS = 500
TOPIC_TERMS = 3000


@dataclass(frozen=True)
class Candidate:
    """An inbox paper to rank."""

    id: int
    arxiv_id: str | None
    title: str
    text: str
    topics: dict[str, float]  # slug -> tag score
    published: datetime | None


@dataclass(frozen=True)
class ProfileDoc:
    """Something the learner digested or is reading: what the inbox is compared with."""

    id: int
    title: str
    text: str
    topics: frozenset[str]


@dataclass(frozen=True)
class TopicProfile:
    """What was digested or read in one topic, as summed word counts (its heaviest words only)."""

    slug: str
    terms: dict[str, float]
    docs: int


@dataclass(frozen=True)
class Profile:
    """The learner's profile in bounded memory: recent items to name, one word profile per topic."""

    recent: tuple[ProfileDoc, ...] = ()
    topics: tuple[TopicProfile, ...] = ()
    docs: int = 0  # everything it was built from

    @property
    def active(self) -> frozenset[str]:
        """Topics the learner has digested or read something in."""
        return frozenset(t.slug for t in self.topics) | frozenset(s for d in self.recent for s in d.topics)

    @property
    def empty(self) -> bool:
        """True when nothing was digested or read yet."""
        return not self.recent and not self.topics


def analyzer() -> Callable[[str], list[str]]:
    """The tokenizer of the ranking: lower case, TOKEN_PATTERN, English stop words dropped."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(token_pattern=TOKEN_PATTERN, stop_words="english").build_analyzer()


@dataclass
class ProfileBuilder:
    """Builds a Profile from items given newest first, holding no more than the profile's bounds."""

    recent_docs: int = field(default_factory=lambda: RECENT_DOCS)
    topic_terms: int = field(default_factory=lambda: TOPIC_TERMS)
    _tokens: Callable[[str], list[str]] = field(default_factory=analyzer)
    _recent: list[ProfileDoc] = field(default_factory=list)
    _terms: dict[str, Counter[str]] = field(default_factory=dict)
    _docs: dict[str, int] = field(default_factory=dict)
    _seen: int = 0

    def add(self, doc: ProfileDoc) -> None:
        """Take one item into the profile (items must come newest first)."""
        self._seen += 1
        if len(self._recent) < self.recent_docs:
            self._recent.append(doc)
        if not doc.topics or not self.topic_terms:
            return
        counts = Counter(self._tokens(doc.text))
        for slug in doc.topics:
            terms = self._terms.setdefault(slug, Counter())
            terms.update(counts)
            self._docs[slug] = self._docs.get(slug, 0) + 1
            if len(terms) > self.topic_terms * 4:
                self._terms[slug] = Counter(dict(terms.most_common(self.topic_terms)))

    def build(self) -> Profile:
        """The profile of everything added."""
        topics = tuple(TopicProfile(slug=slug, terms=dict(terms.most_common(self.topic_terms)),
                                    docs=self._docs[slug]) for slug, terms in sorted(self._terms.items()))
        return Profile(recent=tuple(self._recent), topics=topics, docs=self._seen)


def profile_of(docs: Iterable[ProfileDoc]) -> Profile:
    """The bounded profile of `docs`, newest first."""
    builder = ProfileBuilder()
    for doc in docs:
        builder.add(doc)
    return builder.build()


@dataclass(frozen=True)
class Ranked:
    """One inbox row, with the reason it ranks where it does."""

    id: int
    arxiv_id: str | None
    title: str
    topics: list[str]
    score: float
    published: datetime | None
    reason: str
    similar_to: int | None

    def as_json(self) -> dict[str, Any]:
        """The contract's inbox row (extra keys allowed)."""
        from tracker.timeutil import iso_local

        return {"id": self.id, "arxiv_id": self.arxiv_id, "title": self.title, "topics": self.topics,
                "score": self.score, "published": iso_local(self.published), "reason": self.reason,
                "similar_to": self.similar_to}


@dataclass(frozen=True)
class _Row:
    """A profile row: an item (named in reasons) or a topic's summed words."""

    label: str
    item_id: int | None
    topics: frozenset[str]


def _profile_rows(profile: Profile, tokens: Callable[[str], list[str]]) -> tuple[list[_Row], list[dict[str, float]]]:
    # Items first: on a tie with their own topic's row, the item is the one named.
    rows = [_Row(d.title, d.id, d.topics) for d in profile.recent]
    counts: list[dict[str, float]] = [dict(Counter(tokens(d.text))) for d in profile.recent]
    for t in profile.topics:
        rows.append(_Row(t.slug, None, frozenset({t.slug})))
        counts.append(t.terms)
    return rows, counts


def _neighbours(candidates: Sequence[Candidate], profile: Profile) -> list[tuple[float, _Row | None]]:
    """For each candidate: (similarity, the nearest profile row) after the topic preference."""
    if profile.empty or not candidates:
        return [(0.0, None)] * len(candidates)
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfTransformer

    tokens = analyzer()
    rows, prof_counts = _profile_rows(profile, tokens)
    cand_counts = [Counter(tokens(c.text)) for c in candidates]
    if not any(cand_counts) or not any(prof_counts):  # no usable words anywhere (e.g. only punctuation)
        return [(0.0, None)] * len(candidates)
    counts = DictVectorizer(dtype=np.float32).fit_transform([*cand_counts, *prof_counts])
    matrix = TfidfTransformer(sublinear_tf=True).fit_transform(counts).astype(np.float32)
    cand, prof = matrix[: len(candidates)], matrix[len(candidates):].T.tocsr()
    slugs = sorted({s for c in candidates for s in c.topics} | {s for r in rows for s in r.topics})
    col = {s: i for i, s in enumerate(slugs)}
    prof_topics = np.zeros((len(slugs), len(rows)), dtype=np.float32)
    for j, r in enumerate(rows):
        for s in r.topics:
            prof_topics[col[s], j] = 1.0
    out: list[tuple[float, _Row | None]] = []
    for start in range(0, len(candidates), ROWS_PER_BLOCK):
        block = candidates[start:start + ROWS_PER_BLOCK]
        sims = (cand[start:start + len(block)] @ prof).toarray()
        cand_topics = np.zeros((len(block), len(slugs)), dtype=np.float32)
        for i, c in enumerate(block):
            for s in c.topics:
                cand_topics[i, col[s]] = 1.0
        shared = (cand_topics @ prof_topics) > 0
        weighted = np.where(shared, sims, sims * OTHER_TOPIC_FACTOR)
        best = weighted.argmax(axis=1)
        for i, j in enumerate(best):
            value = float(weighted[i, j])
            out.append((value, rows[int(j)] if value > 0 else None))
    return out


def rank(candidates: Sequence[Candidate], profile: Profile | Sequence[ProfileDoc], now: datetime,
         active_topics: frozenset[str] = frozenset()) -> list[Ranked]:
    """Score and order inbox papers, best first; pure, so it can be measured and tested alone.

    `profile` is a built Profile or the learner's items newest first (made into one here).
    """
    if not isinstance(profile, Profile):
        profile = profile_of(profile)
    near = _neighbours(candidates, profile)
    rows = []
    for c, (similarity, row) in zip(candidates, near, strict=True):
        best_topic = max(c.topics, key=lambda s: (s in active_topics, c.topics[s]), default=None)
        topic_fit = 0.0
        if best_topic is not None:
            topic_fit = c.topics[best_topic] * (1.0 if best_topic in active_topics or not active_topics else 0.5)
        age = max(0.0, (now - c.published).total_seconds() / 86400) if c.published else None
        recency = 0.5 ** (age / RECENCY_HALF_LIFE) if age is not None else 0.0
        score = W_SIMILAR * similarity + W_TOPIC * topic_fit + W_RECENT * recency
        reason = []
        if row is not None and row.item_id is not None:
            reason.append(f"like “{_short(row.label)}” ({similarity:.2f})")
        elif row is not None:
            reason.append(f"like what you read in {row.label} ({similarity:.2f})")
        elif profile.empty:
            reason.append("nothing digested yet to compare with")
        if best_topic is not None:
            started = " (started)" if best_topic in active_topics else ""
            reason.append(f"topic {best_topic}{started}")
        if age is not None:
            reason.append(f"{_age(age)} old")
        rows.append(Ranked(id=c.id, arxiv_id=c.arxiv_id, title=c.title,
                           topics=sorted(c.topics, key=lambda s: -c.topics[s]), score=round(score, 4),
                           published=c.published, reason="; ".join(reason),
                           similar_to=row.item_id if row is not None else None))
    rows.sort(key=lambda r: (-r.score, -(r.published.timestamp() if r.published else -math.inf), r.id))
    return rows


def _short(title: str, width: int = 50) -> str:
    return title if len(title) <= width else title[: width - 1] + "…"


def _age(days: float) -> str:
    if days < 1:
        return "under a day"
    if days < 60:
        return f"{int(days)} day{'s' if int(days) != 1 else ''}"
    return f"{int(days // 30)} months"
