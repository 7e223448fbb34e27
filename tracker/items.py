"""Items as the learner sees them: listing, details, status changes with history, notes and tags."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cache
from typing import TypedDict

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, select, update
from sqlalchemy.engine import Connection, Row, RowMapping

from tracker.errors import UsageError
from tracker.store import db as dbmod
from tracker.store.models import Event, Fetch, Paper
from tracker.store.states import KINDS, PAPER_STATES, STATUSES, FetchState, Kind, PaperState, Status, is_status
from tracker.timeutil import iso_local
from tracker.topics import check_topic

item_t, tag_t = dbmod.item_t, dbmod.tag_t
event_t = Event.__table__  # type: ignore[attr-defined]
fetch_t = Fetch.__table__  # type: ignore[attr-defined]
paper_t = Paper.__table__  # type: ignore[attr-defined]

# Statuses `mark` accepts: the learner's four, plus the inbox ones papers move between.
MARKABLE = STATUSES
# A note is a line or a paragraph; anything longer is a paste gone wrong, and notes are shown whole.
MAX_NOTE_BYTES = 100_000


@dataclass(frozen=True)
class FetchView:
    """The crawler's last word on an item's URL."""

    state: FetchState
    http_status: int | None
    title: str | None
    checked_at: str | None
    final_url: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ItemView:
    """An item as `list` and `show` print it."""

    id: int
    url: str | None
    title: str
    kind: Kind
    status: Status | PaperState
    topics: list[str]
    section: str
    arxiv_id: str | None
    fetch: FetchView | None
    retired: bool = False

    def as_json(self) -> dict[str, object]:
        """The contract's shape (extra keys allowed)."""
        out = asdict(self)
        if self.fetch is not None:
            out["fetch"] = asdict(self.fetch)
        return out


class HistoryEvent(TypedDict):
    """One status change of an item."""

    status: str
    at: str | None
    note: str | None


class ItemRef(TypedDict):
    """The listing page a child item was found on."""

    id: int
    url: str | None


class ChildRef(TypedDict):
    """An item found on a listing page."""

    id: int
    url: str | None
    title: str


class PaperJson(TypedDict):
    """A paper's arXiv metadata as `show` gives it: lists decoded, times in local ISO form."""

    arxiv_id: str
    version: int
    authors: list[str]
    abstract: str
    categories: list[str]
    primary_category: str | None
    published: str | None
    updated: str | None
    doi: str | None
    journal_ref: str | None
    comment: str | None
    abs_url: str | None
    pdf_url: str | None
    fetched_at: str | None
    title: str | None


@dataclass(frozen=True)
class ItemDetail:
    """One item with its notes, history and paper metadata, as `show` prints it."""

    item: ItemView
    notes: str
    history: list[HistoryEvent]
    paper: PaperJson | None
    added_at: str | None
    wayback: str | None = None
    meta: dict[str, object] = field(default_factory=dict)
    parent: ItemRef | None = None
    children: list[ChildRef] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """`show --json`: the item as in `list`, plus notes, history, paper, parent and children."""
        return {**self.item.as_json(), "notes": self.notes, "history": self.history, "paper": self.paper,
                "added_at": self.added_at, "wayback": self.wayback, "meta": self.meta, "parent": self.parent,
                "children": self.children}


@dataclass(frozen=True)
class MarkResult:
    """How many items a `mark` changed."""

    changed: int
    unchanged: int


def check_note(text: str) -> str:
    """A note of acceptable size, or UsageError."""
    size = len(text.encode("utf-8"))
    if size > MAX_NOTE_BYTES:
        raise UsageError(f"the note is {size:,} bytes; a note may hold at most {MAX_NOTE_BYTES:,} bytes (100 KB)")
    return text


def check_status(word: str) -> Status:
    """A status word the learner may set, or UsageError."""
    if not is_status(word):
        raise UsageError(f"unknown status {word!r}: use one of {', '.join(MARKABLE)}")
    return word


def _columns() -> list[ColumnElement[object]]:
    # _view unpacks rows in this order.
    return [item_t.c.id, item_t.c.url, item_t.c.title, item_t.c.kind, item_t.c.status, item_t.c.section,
            item_t.c.arxiv_id, item_t.c.retired, fetch_t.c.state, fetch_t.c.http_status,
            fetch_t.c.title.label("fetch_title"), fetch_t.c.checked_at, fetch_t.c.final_url, fetch_t.c.error]


_VIEW_COLUMNS = len(_columns())


def _view(row: Row, topics: list[str]) -> ItemView:
    # Unpacked as a tuple: a Row's attributes are looked up by name, about a microsecond each,
    # which was most of the time a listing of a hundred items spent in Python.
    (item_id, url, title, kind, status, section, arxiv_id, retired, state, http_status, fetch_title, checked_at,
     final_url, error) = tuple(row)[:_VIEW_COLUMNS]
    fetch = None
    if state is not None:
        fetch = FetchView(state=state, http_status=http_status, title=fetch_title,
                          checked_at=iso_local(checked_at), final_url=final_url, error=error)
    return ItemView(id=item_id, url=url, title=title, kind=kind, status=status, topics=topics,
                    section=section, arxiv_id=arxiv_id, fetch=fetch, retired=bool(retired))


@cache
def _listing(status: bool, kind: bool, topic: bool, limit: bool, include_retired: bool, offset: bool) -> Select:
    """The listing statement for one combination of filters, built once: its values are bound at each call.

    Building and keying a statement of this size costs SQLAlchemy about as much as SQLite takes to run it.
    """
    query = select(*_columns()).select_from(item_t.outerjoin(fetch_t, fetch_t.c.item_id == item_t.c.id))
    query = query.where(item_t.c.status == bindparam("status")) if status else query.where(
        item_t.c.status.in_(STATUSES))
    if not include_retired:
        query = query.where(item_t.c.retired.is_(False))
    if kind:
        query = query.where(item_t.c.kind == bindparam("kind"))
    if topic:
        # A join, not `id IN (...)`: SQLite then starts from the topic's tags (by the slug index)
        # instead of walking every item of the listed statuses.
        query = query.join(tag_t, and_(tag_t.c.item_id == item_t.c.id, tag_t.c.slug == bindparam("topic"),
                                       tag_t.c.origin != "untag"))
    query = query.order_by(item_t.c.outline_id.is_(None), item_t.c.outline_id, item_t.c.position, item_t.c.id)
    query = query.limit(bindparam("limit")) if limit else query
    return query.offset(bindparam("offset")) if offset else query


def list_items(conn: Connection, status: str | None = None, topic: str | None = None, kind: str | None = None,
               limit: int | None = None, include_retired: bool = False, offset: int = 0) -> list[ItemView]:
    """Items in outline order, filtered, from the `offset`-th on; inbox and dismissed papers only when asked
    for by status."""
    if status is not None and status not in (*STATUSES, *PAPER_STATES):
        raise UsageError(f"unknown status {status!r}: use one of {', '.join((*STATUSES, *PAPER_STATES))}")
    if kind is not None and kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    if limit is not None and limit < 0:
        raise UsageError("--limit must be 0 or more")
    if offset < 0:
        raise UsageError("the offset must be 0 or more")
    if topic is not None:
        check_topic(conn, topic)
    values = {"status": status, "kind": kind, "topic": topic, "limit": limit, "offset": offset or None}
    query = _listing(status is not None, kind is not None, topic is not None, limit is not None, include_retired,
                     offset > 0)
    rows = conn.execute(query, {name: value for name, value in values.items() if value is not None}).all()
    tags = dbmod.item_topics(conn, [r[0] for r in rows] if len(rows) < 900 else None)
    return [_view(r, tags.get(r[0], [])) for r in rows]


# show_item's statements, built once (an item page asks all of them): building and keying each again
# cost SQLAlchemy more than SQLite takes to answer it.
_DETAIL = (select(*_columns(), item_t.c.notes, item_t.c.added_at, fetch_t.c.meta, item_t.c.parent_id)
           .select_from(item_t.outerjoin(fetch_t, fetch_t.c.item_id == item_t.c.id))
           .where(item_t.c.id == bindparam("id")))
_HISTORY = (select(event_t.c.status, event_t.c.at, event_t.c.note)
            .where(event_t.c.item_id == bindparam("id")).order_by(event_t.c.at, event_t.c.id))
_PAPER = select(paper_t).where(paper_t.c.item_id == bindparam("id"))
_PARENT = select(item_t.c.id, item_t.c.url).where(item_t.c.id == bindparam("id"))
_CHILDREN = (select(item_t.c.id, item_t.c.url, item_t.c.title)
             .where(item_t.c.parent_id == bindparam("id"), item_t.c.retired.is_(False))
             .order_by(item_t.c.position, item_t.c.id))


def show_item(conn: Connection, ref: str) -> ItemDetail:
    """Everything known about one item."""
    item_id = dbmod.resolve_item(conn, ref)
    row = conn.execute(_DETAIL, {"id": item_id}).one()
    notes, added_at, meta, parent_id = tuple(row)[_VIEW_COLUMNS:]
    view = _view(row, dbmod.item_topics(conn, [item_id]).get(item_id, []))
    history = [HistoryEvent(status=status, at=iso_local(at), note=note)
               for status, at, note in conn.execute(_HISTORY, {"id": item_id})]
    paper = conn.execute(_PAPER, {"id": item_id}).mappings().first()
    wayback = None
    if view.fetch is not None and view.fetch.state == "gone" and view.url:
        wayback = "https://web.archive.org/web/" + view.url
    parent = None
    if parent_id is not None:
        found = conn.execute(_PARENT, {"id": parent_id}).first()
        parent = ItemRef(id=found[0], url=found[1]) if found else None
    children = [ChildRef(id=child_id, url=url, title=title)
                for child_id, url, title in conn.execute(_CHILDREN, {"id": item_id})]
    return ItemDetail(item=view, notes=notes, history=history, paper=_paper_json(paper),
                      added_at=iso_local(added_at), wayback=wayback, meta=json.loads(meta or "{}"),
                      parent=parent, children=children)


def _paper_json(paper: RowMapping | None) -> PaperJson | None:
    if paper is None:
        return None
    return PaperJson(arxiv_id=paper["arxiv_id"], version=paper["version"],
                     authors=json.loads(paper["authors"] or "[]"), abstract=paper["abstract"],
                     categories=json.loads(paper["categories"] or "[]"), primary_category=paper["primary_category"],
                     published=iso_local(paper["published"]), updated=iso_local(paper["updated"]),
                     doi=paper["doi"], journal_ref=paper["journal_ref"], comment=paper["comment"],
                     abs_url=paper["abs_url"], pdf_url=paper["pdf_url"], fetched_at=iso_local(paper["fetched_at"]),
                     title=paper["title"])


def mark(conn: Connection, refs: Sequence[str], status: Status, at: datetime, note: str | None) -> MarkResult:
    """Give items a status at time `at` (naive UTC), each change an event; all refs resolve first."""
    check_status(status)
    if note:
        check_note(note)
    ids = list(dict.fromkeys(dbmod.resolve_item(conn, ref) for ref in refs))
    changed = 0
    for item_id in ids:
        if _status_at(conn, item_id, at) == status:
            continue
        conn.execute(event_t.insert().values(item_id=item_id, status=status, at=at, note=note))
        refresh_item_status(conn, item_id)
        if note:
            _append_note(conn, item_id, note)
        changed += 1
    return MarkResult(changed=changed, unchanged=len(ids) - changed)


def _status_at(conn: Connection, item_id: int, at: datetime) -> str:
    last = conn.execute(select(event_t.c.status).where(event_t.c.item_id == item_id, event_t.c.at <= at)
                        .order_by(event_t.c.at.desc(), event_t.c.id.desc()).limit(1)).scalar()
    if last is not None:
        return str(last)
    source = conn.execute(select(item_t.c.source).where(item_t.c.id == item_id)).scalar()
    return "inbox" if source == "arxiv" else "unread"


def refresh_item_status(conn: Connection, item_id: int) -> None:
    """Recompute status, status_at, started_at and digested_at from the item's events."""
    events = conn.execute(select(event_t.c.status, event_t.c.at).where(event_t.c.item_id == item_id)
                          .order_by(event_t.c.at, event_t.c.id)).all()
    if not events:
        return
    started = next((e.at for e in events if e.status == "reading"), None)
    digested = [e.at for e in events if e.status == "digested"]
    conn.execute(update(item_t).where(item_t.c.id == item_id).values(
        status=events[-1].status, status_at=events[-1].at, started_at=started,
        digested_at=digested[-1] if digested else None))


def _append_note(conn: Connection, item_id: int, text: str) -> None:
    notes = conn.execute(select(item_t.c.notes).where(item_t.c.id == item_id)).scalar() or ""
    joined = f"{notes}\n{text}" if notes else text
    conn.execute(update(item_t).where(item_t.c.id == item_id).values(notes=joined))


def add_note(conn: Connection, ref: str, text: str) -> int:
    """Append a line to an item's notes; returns the item id."""
    if not text.strip():
        raise UsageError("the note is empty")
    check_note(text)
    item_id = dbmod.resolve_item(conn, ref)
    _append_note(conn, item_id, text.strip())
    return item_id


def tag(conn: Connection, ref: str, slug: str) -> int:
    """Tag an item by hand; a manual tag wins over automatic ones and survives re-import."""
    item_id = dbmod.resolve_item(conn, ref)
    check_topic(conn, slug)
    _set_tag(conn, item_id, slug, "manual")
    return item_id


def untag(conn: Connection, ref: str, slug: str) -> int:
    """Remove a tag by hand; it stays removed across re-imports and re-classification."""
    item_id = dbmod.resolve_item(conn, ref)
    check_topic(conn, slug)
    _set_tag(conn, item_id, slug, "untag")
    return item_id


def _set_tag(conn: Connection, item_id: int, slug: str, origin: str) -> None:
    conn.execute(delete(tag_t).where(tag_t.c.item_id == item_id, tag_t.c.slug == slug))
    conn.execute(tag_t.insert().values(item_id=item_id, slug=slug, origin=origin, score=1.0))
