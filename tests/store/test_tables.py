"""The read handles in `tracker.store.tables` name the same columns, with the same types, as the models."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from tracker.store import db as dbmod
from tracker.store import models, tables

HANDLES = {
    "item_t": models.Item, "event_t": models.Event, "tag_t": models.ItemTopic, "topic_t": models.Topic,
    "goal_t": models.Goal, "fetch_t": models.Fetch, "paper_t": models.Paper, "pagetext_t": models.PageText,
}


@pytest.mark.parametrize("handle", sorted(HANDLES))
def test_handle_matches_its_model(handle: str) -> None:
    light = getattr(tables, handle)
    model = HANDLES[handle].__table__  # type: ignore[attr-defined]
    assert light.name == model.name
    assert list(light.c.keys()) == list(model.c.keys())
    for column in model.c:
        mine = light.c[column.name]
        # The type family: SQLModel declares text as its own String subtype.
        assert mine.type._type_affinity is column.type._type_affinity, column.name
        assert mine.primary_key == column.primary_key, column.name


def test_handles_name_only_columns_the_migrated_database_has(database: dbmod.Database) -> None:
    with database.read() as conn:
        found = inspect(conn)
        for handle in HANDLES:
            light = getattr(tables, handle)
            assert [c["name"] for c in found.get_columns(light.name)] == list(light.c.keys())
