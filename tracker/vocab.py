"""The stored topic vocabulary: listing topics and classifying text against them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Connection

from tracker.errors import NotFound
from tracker.tables import topic_t
from tracker.topics import Classifier, TopicDef, load_topics_file


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


def check_topic(conn: Connection, slug: str) -> str:
    """A known topic slug, or NotFound."""
    if conn.execute(select(topic_t.c.slug).where(topic_t.c.slug == slug)).scalar() is None:
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
