"""Page text storage: kept compressed, capped, replaced on change, untouched otherwise."""

from __future__ import annotations

import zlib
from datetime import datetime

import pytest
from sqlalchemy import select

from tracker.store import db as dbmod
from tracker.store import pagetext
from tracker.store.tables import pagetext_t

T1 = datetime(2026, 11, 20, 8, 0)
T2 = datetime(2026, 11, 27, 8, 0)


def add_item(conn: object, title: str = "BN") -> int:
    result = conn.execute(dbmod.item_t.insert().values(  # type: ignore[attr-defined]
        key=f"https://a.example/{title}", url=f"https://a.example/{title}", title=title, kind="page",
        status="unread", source="outline", section="", position=0, retired=False, notes="", added_at=T1))
    return int(result.inserted_primary_key[0])


@pytest.fixture
def item(database: dbmod.Database) -> int:
    with database.write() as conn:
        return add_item(conn)


def stored_row(database: dbmod.Database, item_id: int) -> tuple[bytes, int, datetime]:
    with database.read() as conn:
        row = conn.execute(select(pagetext_t.c.text, pagetext_t.c.chars, pagetext_t.c.fetched_at)
                           .where(pagetext_t.c.item_id == item_id)).one()
    return bytes(row[0]), int(row[1]), row[2]


def test_text_round_trips_and_is_stored_compressed(database: dbmod.Database, item: int) -> None:
    text = "Batch Normalization 为什么有效？它让损失曲面更平滑。" * 200
    with database.write() as conn:
        assert pagetext.keep_text(conn, item, text, T1) is True
    blob, chars, fetched_at = stored_row(database, item)
    assert zlib.decompress(blob).decode("utf-8") == text
    assert len(blob) < len(text.encode("utf-8")) / 5
    assert (chars, fetched_at) == (len(text), T1)
    with database.read() as conn:
        kept = pagetext.read_text(conn, item)
    assert kept == pagetext.PageText(item_id=item, text=text, fetched_at=T1)


def test_no_text_is_none(database: dbmod.Database, item: int) -> None:
    with database.read() as conn:
        assert pagetext.read_text(conn, item) is None


def test_a_changed_page_replaces_the_text_and_the_same_text_only_moves_the_date(
        database: dbmod.Database, item: int) -> None:
    with database.write() as conn:
        pagetext.keep_text(conn, item, "first version", T1)
    with database.write() as conn:
        assert pagetext.keep_text(conn, item, "first version", T2) is False
    with database.read() as conn:
        assert pagetext.read_text(conn, item) == pagetext.PageText(item, "first version", T2)
    with database.write() as conn:
        assert pagetext.keep_text(conn, item, "second version", T2) is True
    with database.read() as conn:
        assert pagetext.read_text(conn, item) == pagetext.PageText(item, "second version", T2)
        assert conn.execute(select(pagetext_t.c.item_id)).all() == [(item,)]


def test_blank_text_keeps_what_was_there(database: dbmod.Database, item: int) -> None:
    with database.write() as conn:
        pagetext.keep_text(conn, item, "worth keeping", T1)
        assert pagetext.keep_text(conn, item, "  \n ", T2) is False
        assert pagetext.keep_text(conn, add_item(conn, "other"), "", T2) is False
    with database.read() as conn:
        assert pagetext.read_text(conn, item) == pagetext.PageText(item, "worth keeping", T1)
        assert conn.execute(select(pagetext_t.c.item_id)).all() == [(item,)]


@pytest.mark.parametrize("unit", ["a", "卷", "😀"])
def test_text_is_capped_at_one_megabyte_on_a_character_boundary(database: dbmod.Database, item: int,
                                                                unit: str) -> None:
    text = unit * (pagetext.MAX_TEXT_BYTES // len(unit.encode("utf-8")) + 10)
    with database.write() as conn:
        pagetext.keep_text(conn, item, text, T1)
        kept = pagetext.read_text(conn, item)
    assert kept is not None
    size = len(kept.text.encode("utf-8"))
    assert pagetext.MAX_TEXT_BYTES - 4 < size <= pagetext.MAX_TEXT_BYTES
    assert set(kept.text) == {unit}


def test_text_is_written_in_the_callers_transaction(database: dbmod.Database, item: int) -> None:
    with pytest.raises(RuntimeError), database.write() as conn:
        pagetext.keep_text(conn, item, "rolled back with the fetch", T1)
        raise RuntimeError("the crawl's batch failed")
    with database.read() as conn:
        assert pagetext.read_text(conn, item) is None


def test_the_opening_of_a_text_is_cut_on_a_character_boundary() -> None:
    text = "卷积神经网络" * 100
    packed = pagetext.pack(text)
    for size in (1, 2, 3, 4, 100, 10_000):
        opening = pagetext.unpack_opening(packed, size)
        assert opening is not None and text.startswith(opening)
        assert len(opening.encode("utf-8")) == min(size - size % 3, len(text.encode("utf-8")))
    assert pagetext.unpack_opening(None, 10) is None
