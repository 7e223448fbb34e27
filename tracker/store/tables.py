"""Table handles for reading, without the table models.

`tracker.store.models` declares the schema with SQLModel. Importing it pulls in pydantic and SQLAlchemy's
ORM and maps nine classes, which costs more than a weekly report spends on its queries
(docs/benchmarks.md). The commands that only read (progress, reports, next) name their columns here
instead: a name and a type per column is all a SELECT needs. Defaults and constraints stay with the
models and the migrations, so the one writer through these handles, the crawl (which keeps its
process small for the same reason), gives every column a value where the model has a default.

`tests/test_tables.py` holds every handle to its model, column by column.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, Integer, LargeBinary, MetaData, String, Table

_md = MetaData()


def _table(name: str, *columns: Column[object]) -> Table:
    return Table(name, _md, *columns)


def _id(name: str = "id") -> Column[object]:
    return Column(name, Integer, primary_key=True)


item_t = _table(
    "item", _id(), Column("key", String), Column("url", String), Column("arxiv_id", String),
    Column("title", String), Column("kind", String), Column("status", String), Column("source", String),
    Column("outline_id", Integer), Column("section", String), Column("position", Integer),
    Column("retired", Boolean), Column("parent_id", Integer), Column("notes", String),
    Column("added_at", DateTime), Column("status_at", DateTime), Column("started_at", DateTime),
    Column("digested_at", DateTime),
)
event_t = _table(
    "event", _id(), Column("item_id", Integer), Column("status", String), Column("at", DateTime),
    Column("note", String),
)
tag_t = _table(
    "itemtopic", _id("item_id"), Column("slug", String, primary_key=True), Column("origin", String),
    Column("score", Float),
)
topic_t = _table(
    "topic", _id(), Column("slug", String), Column("title", String), Column("parent", String),
    Column("group_no", Integer), Column("position", Integer), Column("outline_id", Integer),
    Column("aliases", String), Column("query", String), Column("categories", String),
)
goal_t = _table("goal", Column("slug", String, primary_key=True), Column("per_week", Integer))
fetch_t = _table(
    "fetch", _id("item_id"), Column("state", String), Column("http_status", Integer), Column("title", String),
    Column("final_url", String), Column("checked_at", DateTime), Column("etag", String),
    Column("last_modified", String), Column("attempts", Integer), Column("next_due", DateTime),
    Column("error", String), Column("meta", String), Column("text", String),
    Column("dns_missing_since", DateTime),
)
paper_t = _table(
    "paper", _id("item_id"), Column("arxiv_id", String), Column("version", Integer), Column("authors", String),
    Column("abstract", String), Column("categories", String), Column("primary_category", String),
    Column("published", DateTime), Column("updated", DateTime), Column("doi", String),
    Column("journal_ref", String), Column("comment", String), Column("abs_url", String),
    Column("pdf_url", String), Column("fetched_at", DateTime), Column("title", String),
)

pagetext_t = _table(
    "pagetext", _id("item_id"), Column("text", LargeBinary), Column("chars", Integer), Column("digest", String),
    Column("fetched_at", DateTime),
)

# Stored progress at past week starts (report/checkpoints.py): SQLite only (migration m007), so no
# model declares them.
checkpoint_t = Table(
    "checkpoint", _md,
    Column("moment", DateTime, primary_key=True),
    Column("slug", String, primary_key=True),
    Column("status", String, primary_key=True),
    Column("n", Integer, nullable=False),
)
weekclose_t = Table(
    "weekclose", _md,
    Column("moment", DateTime, primary_key=True),
    Column("streak", Integer, nullable=False),
    Column("digested", Integer, nullable=False),
)
