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

The words' weights (idf) come from the profile alone, so a `Model` made once scores any number of
papers, a block at a time, and papers arriving later are scored without touching the others. A
paper's words that no profile row has still count in its vector's length, as the rarest words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from scipy.sparse import csr_matrix

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
TOPIC_TERMS = 500
# Profiles of at most this many (word, row) cells are multiplied as a dense matrix (32 MB of float32).
DENSE_CELLS = 8_000_000


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


# English function words: frequent everywhere, so they say nothing about what a text is about.
_STOP_TEXT = """
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each either else ever few for from further
had has have having he her here hers herself him himself his how however if in into is it its itself
just least less may me might more most much must my myself neither no nor not now of off often on once
only or other our ours ourselves out over own per rather same shall she should since so some such than
that the their theirs them themselves then there these they this those though through thus to too
under until up upon us very via was we were what when where whether which while who whom whose why will
with within without would yet you your yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def analyzer() -> Callable[[str], list[str]]:
    """The tokenizer of the ranking: lower case, TOKEN_PATTERN, English function words dropped."""
    find = re.compile(TOKEN_PATTERN).findall

    def tokens(text: str) -> list[str]:
        return [word for word in find(text.lower()) if word not in STOP_WORDS]

    return tokens


def topic_profile(slug: str, texts: Iterable[str], tokens: Callable[[str], list[str]],
                  topic_terms: int | None = None) -> TopicProfile:
    """One topic's word profile from the texts of what was digested or read in it, in bounded memory."""
    keep = TOPIC_TERMS if topic_terms is None else topic_terms
    counts: Counter[str] = Counter()
    docs = 0
    for text in texts:
        docs += 1
        counts.update(tokens(text))
        if len(counts) > 4 * keep:
            counts = Counter(dict(counts.most_common(keep)))
    return TopicProfile(slug=slug, terms=dict(counts.most_common(keep)), docs=docs)


def profile_of(docs: Iterable[ProfileDoc], recent_docs: int | None = None,
               topic_terms: int | None = None) -> Profile:
    """The bounded profile of `docs`, given newest first (the database streams its own; see inbox.py)."""
    recent_docs = RECENT_DOCS if recent_docs is None else recent_docs
    topic_terms = TOPIC_TERMS if topic_terms is None else topic_terms
    recent: list[ProfileDoc] = []
    by_topic: dict[str, list[str]] = {}
    seen = 0
    for doc in docs:
        seen += 1
        if len(recent) < recent_docs:
            recent.append(doc)
        for slug in doc.topics:
            by_topic.setdefault(slug, []).append(doc.text)
    tokens = analyzer()
    topics = tuple(topic_profile(slug, texts, tokens, topic_terms) for slug, texts in sorted(by_topic.items())
                   if topic_terms > 0)
    return Profile(recent=tuple(recent), topics=topics, docs=seen)


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

    def as_json(self) -> dict[str, object]:
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


class Model:
    """A profile as tf-idf vectors over its own words: what papers are scored against."""

    def __init__(self, profile: Profile, active_topics: frozenset[str] | None = None) -> None:
        import numpy as np

        # The profile itself is not kept: its word counts are in the matrix now.
        self.empty = profile.empty
        self.active = profile.active if active_topics is None else active_topics
        self.tokens = analyzer()
        self.rows = [_Row(d.title, d.id, d.topics) for d in profile.recent]  # items first: they win ties
        counts: list[dict[str, float]] = [dict(Counter(self.tokens(d.text))) for d in profile.recent]
        for t in profile.topics:
            self.rows.append(_Row(t.slug, None, frozenset({t.slug})))
            counts.append(t.terms)
        self.vocabulary: dict[str, int] = {}
        for row in counts:
            for term in row:
                self.vocabulary.setdefault(term, len(self.vocabulary))
        df = np.zeros(len(self.vocabulary), dtype=np.float64)
        for row in counts:
            df[[self.vocabulary[t] for t in row]] += 1
        # Smoothed idf (scikit-learn's formula) over the profile's rows; an unseen word is the rarest.
        self.idf = np.log((1 + len(counts)) / (1 + df)) + 1
        self.unseen_idf = math.log(1 + len(counts)) + 1
        matrix = self._vectors(counts).T.tocsr()  # words x rows
        # Few words (a small or repetitive profile) make a dense product far cheaper than a sparse one.
        dense = matrix.shape[0] * matrix.shape[1] <= DENSE_CELLS
        self.matrix: NDArray[np.float64] | csr_matrix = matrix.toarray() if dense else matrix
        self.slugs = {s: i for i, s in enumerate(sorted({s for r in self.rows for s in r.topics}))}
        self.row_topics = np.zeros((len(self.slugs), len(self.rows)), dtype=np.float32)
        for j, r in enumerate(self.rows):
            for s in r.topics:
                self.row_topics[self.slugs[s], j] = 1.0

    def _vectors(self, counts: Sequence[Mapping[str, float]]) -> csr_matrix:
        """L2-normalised sublinear tf-idf rows; unseen words count in the length only."""
        import numpy as np
        from scipy.sparse import csr_matrix

        data: list[float] = []
        cols: list[int] = []
        indptr = [0]
        idf, vocabulary = self.idf, self.vocabulary
        for row in counts:
            start, length = len(data), 0.0
            for term, n in row.items():
                col = vocabulary.get(term)
                weight = (1.0 + math.log(n)) * (idf[col] if col is not None else self.unseen_idf)
                length += weight * weight
                if col is not None:
                    cols.append(col)
                    data.append(weight)
            if length > 0:
                scale = 1.0 / math.sqrt(length)
                data[start:] = [w * scale for w in data[start:]]
            indptr.append(len(data))
        return csr_matrix((np.array(data, dtype=np.float32), np.array(cols, dtype=np.int32), np.array(indptr)),
                          shape=(len(counts), len(vocabulary)))

    def nearest(self, candidates: Sequence[Candidate]) -> Iterator[tuple[float, _Row | None]]:
        """For each candidate: (similarity, the nearest profile row) after the topic preference."""
        import numpy as np

        if self.empty or not self.vocabulary:
            yield from [(0.0, None)] * len(candidates)
            return
        for start in range(0, len(candidates), ROWS_PER_BLOCK):
            block = candidates[start:start + ROWS_PER_BLOCK]
            sims = self._vectors([Counter(self.tokens(c.text)) for c in block]) @ self.matrix
            sims = sims if isinstance(sims, np.ndarray) else sims.toarray()
            cand_topics = np.zeros((len(block), len(self.slugs)), dtype=np.float32)
            for i, c in enumerate(block):
                for s in c.topics:
                    if s in self.slugs:
                        cand_topics[i, self.slugs[s]] = 1.0
            shared = (cand_topics @ self.row_topics) > 0
            weighted = np.where(shared, sims, sims * OTHER_TOPIC_FACTOR)
            best = weighted.argmax(axis=1)
            for i, j in enumerate(best):
                value = float(weighted[i, j])
                yield value, (self.rows[int(j)] if value > 0 else None)

    def score(self, candidates: Sequence[Candidate], now: datetime) -> list[Ranked]:
        """Each candidate's score and reason, in the order given."""
        out = []
        for c, (similarity, row) in zip(candidates, self.nearest(candidates), strict=True):
            out.append(self._ranked(c, similarity, row, now))
        return out

    def _ranked(self, c: Candidate, similarity: float, row: _Row | None, now: datetime) -> Ranked:
        active = self.active
        best_topic = max(c.topics, key=lambda s: (s in active, c.topics[s]), default=None)
        topic_fit = 0.0
        if best_topic is not None:
            topic_fit = c.topics[best_topic] * (1.0 if best_topic in active or not active else 0.5)
        age = max(0.0, (now - c.published).total_seconds() / 86400) if c.published else None
        recency = 0.5 ** (age / RECENCY_HALF_LIFE) if age is not None else 0.0
        score = W_SIMILAR * similarity + W_TOPIC * topic_fit + W_RECENT * recency
        reason = []
        if row is not None and row.item_id is not None:
            reason.append(f"like “{_short(row.label)}” ({similarity:.2f})")
        elif row is not None:
            reason.append(f"like what you read in {row.label} ({similarity:.2f})")
        elif self.empty:
            reason.append("nothing digested yet to compare with")
        if best_topic is not None:
            started = " (started)" if best_topic in active else ""
            reason.append(f"topic {best_topic}{started}")
        if age is not None:
            reason.append(f"{_age(age)} old")
        return Ranked(id=c.id, arxiv_id=c.arxiv_id, title=c.title, topics=sorted(c.topics, key=lambda s: -c.topics[s]),
                      score=round(score, 4), published=c.published, reason="; ".join(reason),
                      similar_to=row.item_id if row is not None else None)


def order(rows: Iterable[Ranked]) -> list[Ranked]:
    """Best first: score, then the newest, then the id."""
    return sorted(rows, key=lambda r: (-r.score, -(r.published.timestamp() if r.published else -math.inf), r.id))


def rank(candidates: Sequence[Candidate], profile: Profile | Sequence[ProfileDoc], now: datetime,
         active_topics: frozenset[str] = frozenset()) -> list[Ranked]:
    """Score and order inbox papers, best first; pure, so it can be measured and tested alone.

    `profile` is a built Profile or the learner's items newest first (made into one here).
    """
    if not isinstance(profile, Profile):
        profile = profile_of(profile)
    return order(Model(profile, active_topics).score(candidates, now))


def _short(title: str, width: int = 50) -> str:
    return title if len(title) <= width else title[: width - 1] + "…"


def _age(days: float) -> str:
    if days < 1:
        return "under a day"
    if days < 60:
        return f"{int(days)} day{'s' if int(days) != 1 else ''}"
    return f"{int(days // 30)} months"
