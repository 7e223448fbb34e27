"""Stored tables (SQLModel) and the plain values passed between modules.

Times are stored as naive UTC datetimes (plain SQLAlchemy `DateTime` columns, since
SQLModel's own datetime type insists on time zones); conversion to local time happens only
where a person reads them (reports, `show`). Lists and dicts are stored as JSON
text so the schema stays portable across SQLAlchemy backends.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, LargeBinary
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig


class _Table(SQLModel):
    """Base of the stored tables."""

    # The tables are used for their SQLAlchemy columns; pydantic's validator for each is built only
    # if a model is ever validated, so importing the models stays cheap for every command.
    model_config = SQLModelConfig(defer_build=True)


class Outline(_Table, table=True):
    """One imported Markdown outline."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    path: str
    title: str = ""
    digest: str = ""
    imported_at: datetime = Field(sa_type=DateTime)


class Topic(_Table, table=True):
    """A topic of an outline, in outline order."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True)
    title: str
    parent: str | None = None
    group_no: int = 0
    position: int = 0
    outline_id: int | None = Field(default=None, foreign_key="outline.id")
    aliases: str = "[]"
    query: str | None = None
    categories: str = "[]"


class Item(_Table, table=True):
    """Anything to read: a curated link, a book, a paper."""

    id: int | None = Field(default=None, primary_key=True)
    # Identity across imports: normalized URL, `arxiv:ID`, or `title:...` for link-less entries.
    key: str = Field(unique=True)
    # No index on url: `key` is the normalized URL. Every index costs time on a 100,000-entry import.
    url: str | None = None
    arxiv_id: str | None = Field(default=None, index=True)
    title: str
    kind: str
    status: str = "unread"
    source: str = "outline"
    outline_id: int | None = Field(default=None, foreign_key="outline.id", index=True)
    section: str = ""
    position: int = 0
    retired: bool = False
    parent_id: int | None = Field(default=None, foreign_key="item.id", index=True)
    notes: str = ""
    added_at: datetime = Field(sa_type=DateTime, index=True)
    # Indexed with status (migration m006): "in `reading` since before ..." is one range.
    status_at: datetime | None = Field(default=None, sa_type=DateTime)
    started_at: datetime | None = Field(default=None, sa_type=DateTime)
    digested_at: datetime | None = Field(default=None, sa_type=DateTime)


class Event(_Table, table=True):
    """One status change of an item: the full history is these rows."""

    id: int | None = Field(default=None, primary_key=True)
    # Indexed as (item_id, at, id, status), (at, status, item_id), (status, at, item_id): migration m006.
    item_id: int = Field(foreign_key="item.id")
    status: str
    at: datetime = Field(sa_type=DateTime)
    note: str | None = None


class ItemTopic(_Table, table=True):
    """A topic tag. `origin` says who set it: section, auto, query, parent, manual or untag."""

    item_id: int = Field(foreign_key="item.id", primary_key=True)
    slug: str = Field(primary_key=True, index=True)
    origin: str = "auto"
    score: float = 0.0


class Fetch(_Table, table=True):
    """What the crawler last saw at an item's URL."""

    item_id: int = Field(foreign_key="item.id", primary_key=True)
    state: str
    http_status: int | None = None
    title: str | None = None
    final_url: str | None = None
    checked_at: datetime = Field(sa_type=DateTime)
    etag: str | None = None
    last_modified: str | None = None
    attempts: int = 0
    next_due: datetime | None = Field(default=None, sa_type=DateTime, index=True)
    error: str | None = None
    meta: str = "{}"
    text: str | None = None
    dns_missing_since: datetime | None = Field(default=None, sa_type=DateTime)


class Paper(_Table, table=True):
    """arXiv metadata of a paper item."""

    item_id: int = Field(foreign_key="item.id", primary_key=True)
    arxiv_id: str = Field(unique=True)
    version: int = 1
    authors: str = "[]"
    abstract: str = ""
    categories: str = "[]"
    primary_category: str | None = None
    published: datetime | None = Field(default=None, sa_type=DateTime, index=True)
    updated: datetime | None = Field(default=None, sa_type=DateTime)
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    fetched_at: datetime | None = Field(default=None, sa_type=DateTime)
    title: str | None = None  # arXiv's, at `version`; the item's own title may be the outline's


class TopicFetch(_Table, table=True):
    """Where the last successful arXiv fetch of a topic ended, for the next window."""

    slug: str = Field(primary_key=True)
    last_success: datetime = Field(sa_type=DateTime)


class Goal(_Table, table=True):
    """A learner's weekly goal of digested items for a topic."""

    slug: str = Field(primary_key=True)
    per_week: int


class PageText(_Table, table=True):
    """The readable text of an item's last `ok` page, zlib-compressed (tracker.store.pagetext)."""

    item_id: int = Field(foreign_key="item.id", primary_key=True)
    text: bytes = Field(sa_type=LargeBinary)
    chars: int
    digest: str
    fetched_at: datetime = Field(sa_type=DateTime)
