"""The readable text of crawled pages, kept for offline reading and for search.

One row per item (table `pagetext`, migration m009): the text of the last `ok` fetch, zlib
-compressed, at most `MAX_TEXT_BYTES` of UTF-8. A later `ok` fetch with different text replaces
it; a fetch that fails (`gone`, `blocked`, `error`) or is `unchanged` leaves it alone, so a dead
link's text survives. The crawl calls `keep_text` inside the transaction that stores the fetch.
"""

from __future__ import annotations

import codecs
import hashlib
import zlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from tracker.store.tables import pagetext_t

# "At most 1 MB of text a page": counted in UTF-8 bytes, cut at a character boundary.
MAX_TEXT_BYTES = 1_000_000
# zlib's fastest level: the crawl's own process packs every page it keeps, and the default level
# costs several times the CPU for little less space (docs/benchmarks.md has the figures).
LEVEL = 1

_UPDATE = pagetext_t.update().where(pagetext_t.c.item_id == bindparam("kept_item"))
_TOUCH = (pagetext_t.update().where(pagetext_t.c.item_id == bindparam("kept_item"))
          .values(fetched_at=bindparam("fetched_at")))


@dataclass(frozen=True)
class PageText:
    """The kept text of one item's page and when it was fetched (naive UTC)."""

    item_id: int
    text: str
    fetched_at: datetime


def capped(text: str) -> str:
    """`text` cut to at most MAX_TEXT_BYTES of UTF-8, never inside a character."""
    if len(text) * 4 <= MAX_TEXT_BYTES:  # short enough whatever its characters
        return text
    data = text.encode("utf-8")
    if len(data) <= MAX_TEXT_BYTES:
        return text
    return data[:MAX_TEXT_BYTES].decode("utf-8", "ignore")


def pack(text: str) -> bytes:
    """The stored form of a text: UTF-8, zlib-compressed."""
    return zlib.compress(text.encode("utf-8"), LEVEL)


def unpack(data: bytes | None) -> str | None:
    """The text from its stored form (None stays None)."""
    return None if data is None else zlib.decompress(data).decode("utf-8")


def unpack_opening(data: bytes | None, size: int) -> str | None:
    """The text's opening, at most `size` bytes of its UTF-8 (a character cut in two is left out)."""
    if data is None:
        return None
    # An incremental decoder holds back a character cut at the end, and only that.
    return codecs.getincrementaldecoder("utf-8")().decode(zlib.decompressobj().decompress(data, max(1, size)))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def keep_text(conn: Connection, item_id: int, text: str, fetched_at: datetime) -> bool:
    """Keep `text` as the page text of item `item_id`, fetched at `fetched_at` (naive UTC).

    Call it for a page fetched `ok`, inside the transaction that records the fetch (`conn` is that
    transaction's SQLAlchemy Connection; nothing is committed here). The text is capped at
    MAX_TEXT_BYTES and compressed. Blank text keeps what was there. The same text as before only
    moves `fetched_at` on, so the search index is not rewritten. Returns True when the stored text
    changed (a first text, or a new one).
    """
    text = capped(text.strip())
    if not text:
        return False
    digest = _digest(text)
    stored = conn.execute(select(pagetext_t.c.digest).where(pagetext_t.c.item_id == item_id)).first()
    if stored is not None and stored[0] == digest:
        conn.execute(_TOUCH, {"kept_item": item_id, "fetched_at": fetched_at})
        return False
    values = {"text": pack(text), "chars": len(text), "digest": digest, "fetched_at": fetched_at}
    if stored is None:
        conn.execute(pagetext_t.insert(), {"item_id": item_id, **values})
    else:
        conn.execute(_UPDATE, {"kept_item": item_id, **values})
    return True


_READ = select(pagetext_t.c.text, pagetext_t.c.fetched_at).where(pagetext_t.c.item_id == bindparam("item_id"))


def read_text(conn: Connection, item_id: int) -> PageText | None:
    """The kept page text of item `item_id`, or None where no page text was ever kept."""
    row = conn.execute(_READ, {"item_id": item_id}).first()
    if row is None:
        return None
    return PageText(item_id=item_id, text=unpack(row[0]) or "", fetched_at=row[1])


def all_texts(conn: Connection) -> dict[int, str]:
    """Every kept page text, by item id (for exports)."""
    return {int(item_id): unpack(data) or "" for item_id, data in
            conn.execute(select(pagetext_t.c.item_id, pagetext_t.c.text))}


@dataclass(frozen=True)
class Reading:
    """An item to read offline: what `tracker read` prints above the text, and the text (None if none kept)."""

    id: int
    title: str
    url: str | None
    fetched_at: str | None
    notes: str
    text: str | None

    def as_json(self) -> dict[str, object]:
        """The contract's keys, plus the notes."""
        return {"id": self.id, "title": self.title, "url": self.url, "fetched_at": self.fetched_at,
                "text": self.text, "notes": self.notes}


def reading(conn: Connection, ref: str) -> Reading:
    """The item named by `ref` (id, URL or arXiv id) with its kept page text; NotFound for an unknown item."""
    from tracker.store.db import resolve_item
    from tracker.store.tables import item_t
    from tracker.timeutil import iso_local

    item_id = resolve_item(conn, ref)
    row = conn.execute(select(item_t.c.title, item_t.c.url, item_t.c.notes).where(item_t.c.id == item_id)).one()
    kept = read_text(conn, item_id)
    return Reading(id=item_id, title=row.title, url=row.url, notes=row.notes or "",
                   fetched_at=iso_local(kept.fetched_at) if kept else None, text=kept.text if kept else None)
