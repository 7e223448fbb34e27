"""The topic vocabulary (topics files) and the classifier that tags titles with topics.

The classifier is deliberately simple and explainable: text and aliases become token
sequences (one token per CJK character, one per ASCII word, lightly stemmed), and a
trie finds the longest alias at each position, so `卷积神经网络` counts for CNN and not
also for its substring `神经网络`, and `gan` never matches inside `organ`.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from tracker.errors import InputError, NotFound
from tracker.store.tables import topic_t

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
TOKEN_RE = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
WEAK_FACTOR = 0.3
# Below this raw score a guess is noise rather than a topic.
MIN_SCORE = 0.3
FIRST_BONUS = 1.2
# Automatic tagging keeps at most two topics, the second only if it scores 80% of the first:
# most entries are about one thing, and a stray alias must not put them under a second topic.
MAX_AUTO_TOPICS = 2
SECOND_TOPIC_RATIO = 0.8


@dataclass(frozen=True)
class TopicDef:
    """A topic as a topics file (or an outline heading) defines it."""

    slug: str
    title: str
    parent: str | None
    group: int
    position: int
    aliases: tuple[str, ...] = ()
    query: str | None = None
    categories: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()


def topics_file_for(outline_path: Path) -> Path | None:
    """`NAME.topics.toml` beside `NAME.md`, if it exists."""
    candidate = outline_path.with_name(outline_path.stem + ".topics.toml")
    return candidate if candidate.exists() else None


def load_topics_file(path: Path) -> list[TopicDef]:
    """Read and check a topics file; any problem is one InputError line naming the file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"no topics file {path}") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory, not a topics file") from None
    except UnicodeDecodeError:
        raise InputError(f"topics file {path} is not UTF-8") from None
    except OSError as exc:
        raise InputError(f"cannot read topics file {path}: {exc.strerror}") from None
    return parse_topics(text, str(path))


def _strings(value: object, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: `{key}` must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def parse_topics(text: str, source: str = "<topics>") -> list[TopicDef]:
    """Topics from the text of a topics file, in file order."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"topics file {source} is not valid TOML: {exc}") from None
    raw = data.get("topic")
    if not isinstance(raw, list) or not raw:
        raise InputError(f"topics file {source} has no [[topic]] tables")
    topics: list[TopicDef] = []
    seen: set[str] = set()
    for pos, entry in enumerate(raw):
        topics.append(_topic(entry, pos, f"{source}: topic {pos + 1}", seen))
    for topic in topics:
        if topic.parent is not None and topic.parent not in seen:
            raise InputError(f"{source}: topic {topic.slug!r} has unknown parent {topic.parent!r}")
    return topics


def _topic(entry: object, pos: int, where: str, seen: set[str]) -> TopicDef:
    if not isinstance(entry, dict):
        raise InputError(f"{where} is not a table")
    slug, title = entry.get("slug"), entry.get("title")
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise InputError(f"{where}: `slug` must be lowercase letters, digits, '-', '_' or '.'")
    if not isinstance(title, str) or not title.strip():
        raise InputError(f"{where} ({slug}): `title` is missing")
    if slug in seen:
        raise InputError(f"{where}: slug {slug!r} is used twice")
    seen.add(slug)
    group, parent, query = entry.get("group", 0), entry.get("parent"), entry.get("query")
    if not isinstance(group, int) or isinstance(group, bool):
        raise InputError(f"{where} ({slug}): `group` must be a whole number")
    if parent is not None and not isinstance(parent, str):
        raise InputError(f"{where} ({slug}): `parent` must be a slug")
    if query is not None and not isinstance(query, str):
        raise InputError(f"{where} ({slug}): `query` must be a string")
    return TopicDef(slug=slug, title=title.strip(), parent=parent, group=group, position=pos,
                    aliases=_strings(entry.get("aliases"), where, "aliases"), query=query,
                    categories=_strings(entry.get("categories"), where, "categories"),
                    weak=_strings(entry.get("weak"), where, "weak"))


def _stem(word: str) -> str:
    # Plurals only: enough for "networks"/"network", "gans"/"gan"; applied to both sides.
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Lower-cased tokens: ASCII words (stemmed) and single CJK characters."""
    return [_stem(t) for t in TOKEN_RE.findall(text.lower())]


def _weight(toks: Sequence[str]) -> float:
    # Longer aliases are more specific: an ASCII word counts two units, a CJK character one.
    units = sum(1 if len(t) == 1 and not t.isascii() else 2 for t in toks)
    return 1.0 + 0.25 * min(max(units - 2, 0), 4)


class Classifier:
    """Ranks topics for a text by the aliases it contains."""

    def __init__(self, topics: Sequence[TopicDef]) -> None:
        self.entries: dict[tuple[str, ...], tuple[str, float]] = {}
        self.prefixes: set[tuple[str, ...]] = set()
        for topic in topics:
            self._add_topic(topic)

    def _add_topic(self, topic: TopicDef) -> None:
        weak = set(topic.weak)
        own = [topic.title, *topic.title.split()]
        for term in (*topic.aliases, *own):
            if term not in weak:
                self._add(term, topic.slug, 1.0)
        for term in topic.weak:
            self._add(term, topic.slug, WEAK_FACTOR)

    def _add(self, term: str, slug: str, factor: float) -> None:
        toks = tuple(tokens(term))
        if not toks or toks in self.entries:  # the first topic to claim an alias keeps it
            return
        if len(toks) == 1 and len(toks[0]) < 2:
            return  # a lone letter or character says nothing
        self.entries[toks] = (slug, _weight(toks) * factor)
        for end in range(1, len(toks) + 1):
            self.prefixes.add(toks[:end])

    def matches(self, text: str) -> list[tuple[str, str, float]]:
        """Aliases found in `text` as (alias, slug, weight), longest match first at each position."""
        toks = tokens(text)
        found: list[tuple[str, str, float]] = []
        i = 0
        while i < len(toks):
            best, end = None, i
            for j in range(i + 1, len(toks) + 1):
                key = tuple(toks[i:j])
                if key not in self.prefixes:
                    break
                if key in self.entries:
                    best, end = key, j
            if best is None:
                i += 1
                continue
            slug, weight = self.entries[best]
            found.append((" ".join(best), slug, weight))
            i = end
        return found

    def classify(self, text: str, limit: int | None = None) -> list[tuple[str, float]]:
        """(slug, score in 0..1) best first; empty where no topic fits."""
        raw: dict[str, float] = {}
        first: dict[str, int] = {}
        seen: set[str] = set()
        for alias, slug, weight in self.matches(text):
            if alias in seen:
                continue  # saying a term twice does not make a text more about it
            seen.add(alias)
            # The subject of a title or question usually comes first.
            raw[slug] = raw.get(slug, 0.0) + weight * (FIRST_BONUS if not first else 1.0)
            first.setdefault(slug, len(first))
        ranked = sorted((s for s in raw if raw[s] >= MIN_SCORE), key=lambda s: (-raw[s], first[s]))
        out = [(slug, round(1.0 - math.exp(-raw[slug]), 4)) for slug in ranked]
        return out[:limit] if limit is not None else out

    def tags(self, text: str) -> list[tuple[str, float]]:
        """The topics to tag `text` with: the best, and a runner-up only when it is nearly as strong."""
        ranked = self.classify(text, limit=MAX_AUTO_TOPICS)
        if not ranked:
            return []
        best = ranked[0][1]
        return [(slug, score) for slug, score in ranked if score >= best * SECOND_TOPIC_RATIO]

# The stored vocabulary: the topics as the database holds them.


@dataclass(frozen=True)
class Guess:
    """One line of `tracker classify`."""

    slug: str
    title: str
    score: float


def topic_defs(conn: Connection) -> list[TopicDef]:
    """Every stored topic, in outline order."""
    rows = conn.execute(select(topic_t).order_by(topic_t.c.outline_id, topic_t.c.position, topic_t.c.id))
    return [TopicDef(slug=r.slug, title=r.title, parent=r.parent, group=r.group_no, position=r.position,
                     aliases=tuple(json.loads(r.aliases or "[]")), query=r.query,
                     categories=tuple(json.loads(r.categories or "[]"))) for r in rows]


# Built once: a page of the web app checks its topic on every request.
_KNOWN = select(topic_t.c.slug).where(topic_t.c.slug == bindparam("slug"))


def check_topic(conn: Connection, slug: str) -> str:
    """A known topic slug, or NotFound."""
    if conn.execute(_KNOWN, {"slug": slug}).scalar() is None:
        raise NotFound(f"unknown topic {slug!r} (see `tracker topics`)")
    return slug


def list_topics(conn: Connection) -> list[dict[str, object]]:
    """`tracker topics`: slug, title, parent and group in outline order."""
    return [{"slug": t.slug, "title": t.title, "parent": t.parent, "group": t.group,
             "aliases": list(t.aliases), "query": t.query} for t in topic_defs(conn)]


def seed_topic_defs(seeds: Path | None) -> list[TopicDef]:
    """Topics from the workspace's topics files, for classifying before anything is imported."""
    if seeds is None:
        return []
    defs: list[TopicDef] = []
    for path in sorted(seeds.glob("*.topics.toml")):
        defs.extend(load_topics_file(path))
    return defs


def classify(defs: list[TopicDef], text: str, limit: int | None = None) -> list[Guess]:
    """The classifier's ranked guess for `text`, best first; empty where nothing fits."""
    titles = {d.slug: d.title for d in defs}
    ranked = Classifier(defs).classify(text, limit=limit)
    return [Guess(slug=slug, title=titles[slug], score=round(score, 4)) for slug, score in ranked]
