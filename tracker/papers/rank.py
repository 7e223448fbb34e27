"""Ranking the inbox by fit with what the learner studies.

The score mixes three things, each in 0..1:
- similarity: tf-idf cosine between a paper's title and abstract and the nearest item the learner
  has digested or is reading, preferring items that share one of the paper's topics (the
  arxiv-sanity idea, with nearest neighbours instead of a per-user SVM so that each row can name
  the item it resembles);
- topic fit: how strongly the paper belongs to its best topic, halved when the learner has not
  started that topic yet;
- recency: halves every RECENCY_HALF_LIFE days.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Similarity dominates once there is a reading history; topic and recency order the rest.
W_SIMILAR, W_TOPIC, W_RECENT = 0.6, 0.25, 0.15
RECENCY_HALF_LIFE = 14.0
# A neighbour outside the paper's topics counts for half: related, but not what the learner studies there.
OTHER_TOPIC_FACTOR = 0.5
# Latin words of two or more letters, and Chinese in two-character pieces (a crude but fast
# stand-in for word segmentation; profiles mix Zhihu titles with English abstracts).
TOKEN_PATTERN = r"(?u)[a-z][a-z0-9]+|[\u3400-\u9fff]{2}"
ROWS_PER_BLOCK = 1000


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


def _neighbours(candidates: Sequence[Candidate], profile: Sequence[ProfileDoc]) -> list[tuple[float, int | None]]:
    """For each candidate: (similarity, index of the nearest profile doc) after the topic preference."""
    if not profile or not candidates:
        return [(0.0, None)] * len(candidates)
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(token_pattern=TOKEN_PATTERN, stop_words="english", sublinear_tf=True,
                                 dtype=np.float32)
    try:
        matrix = vectorizer.fit_transform([c.text for c in candidates] + [p.text for p in profile])
    except ValueError:  # no usable words anywhere (e.g. only punctuation)
        return [(0.0, None)] * len(candidates)
    cand, prof = matrix[: len(candidates)], matrix[len(candidates):].T.tocsr()
    slugs = sorted({s for c in candidates for s in c.topics} | {s for p in profile for s in p.topics})
    col = {s: i for i, s in enumerate(slugs)}
    prof_topics = np.zeros((len(slugs), len(profile)), dtype=np.float32)
    for j, p in enumerate(profile):
        for s in p.topics:
            prof_topics[col[s], j] = 1.0
    out: list[tuple[float, int | None]] = []
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
            out.append((value, int(j) if value > 0 else None))
    return out


def rank(candidates: Sequence[Candidate], profile: Sequence[ProfileDoc], now: datetime,
         active_topics: frozenset[str] = frozenset()) -> list[Ranked]:
    """Score and order inbox papers, best first; pure, so it can be measured and tested alone."""
    near = _neighbours(candidates, profile)
    rows = []
    for c, (similarity, j) in zip(candidates, near, strict=True):
        best_topic = max(c.topics, key=lambda s: (s in active_topics, c.topics[s]), default=None)
        topic_fit = 0.0
        if best_topic is not None:
            topic_fit = c.topics[best_topic] * (1.0 if best_topic in active_topics or not active_topics else 0.5)
        age = max(0.0, (now - c.published).total_seconds() / 86400) if c.published else None
        recency = 0.5 ** (age / RECENCY_HALF_LIFE) if age is not None else 0.0
        score = W_SIMILAR * similarity + W_TOPIC * topic_fit + W_RECENT * recency
        reason = []
        if j is not None:
            reason.append(f"like “{_short(profile[j].title)}” ({similarity:.2f})")
        elif not profile:
            reason.append("nothing digested yet to compare with")
        if best_topic is not None:
            started = " (started)" if best_topic in active_topics else ""
            reason.append(f"topic {best_topic}{started}")
        if age is not None:
            reason.append(f"{_age(age)} old")
        rows.append(Ranked(id=c.id, arxiv_id=c.arxiv_id, title=c.title,
                           topics=sorted(c.topics, key=lambda s: -c.topics[s]), score=round(score, 4),
                           published=c.published, reason="; ".join(reason),
                           similar_to=profile[j].id if j is not None else None))
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
