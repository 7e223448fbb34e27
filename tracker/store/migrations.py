"""The append-only list of schema migrations.

Each migration is frozen: it declares its own tables with SQLAlchemy Core instead of
reading `models.py`, so a database created today and one created by the first
release end up with the same schema. Never edit a shipped migration; add one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.engine import Connection

Migration = Callable[[Connection], None]


def m001_core(conn: Connection) -> None:
    """Outlines, topics, items, their status events and topic tags: the foundation."""
    md = MetaData()
    Table(
        "outline", md,
        Column("id", Integer, primary_key=True),
        Column("name", String, nullable=False, unique=True),
        Column("path", String, nullable=False),
        Column("title", String, nullable=False, default=""),
        Column("digest", String, nullable=False, default=""),
        Column("imported_at", DateTime, nullable=False),
    )
    Table(
        "topic", md,
        Column("id", Integer, primary_key=True),
        Column("slug", String, nullable=False, unique=True),
        Column("title", String, nullable=False),
        Column("parent", String),
        Column("group_no", Integer, nullable=False, default=0),
        Column("position", Integer, nullable=False, default=0),
        Column("outline_id", Integer, ForeignKey("outline.id")),
        Column("aliases", Text, nullable=False, default="[]"),
        Column("query", Text),
        Column("categories", Text, nullable=False, default="[]"),
    )
    Table(
        "item", md,
        Column("id", Integer, primary_key=True),
        Column("key", String, nullable=False, unique=True),
        Column("url", String),
        Column("arxiv_id", String, index=True),
        Column("title", String, nullable=False),
        Column("kind", String, nullable=False),
        Column("status", String, nullable=False, default="unread"),
        Column("source", String, nullable=False, default="outline"),
        Column("outline_id", Integer, ForeignKey("outline.id"), index=True),
        Column("section", String, nullable=False, default=""),
        Column("position", Integer, nullable=False, default=0),
        Column("retired", Boolean, nullable=False, default=False),
        Column("parent_id", Integer, ForeignKey("item.id")),
        Column("notes", Text, nullable=False, default=""),
        Column("added_at", DateTime, nullable=False),
        Column("status_at", DateTime),
        Column("started_at", DateTime),
        Column("digested_at", DateTime),
    )
    Table(
        "event", md,
        Column("id", Integer, primary_key=True),
        Column("item_id", Integer, ForeignKey("item.id"), nullable=False, index=True),
        Column("status", String, nullable=False),
        Column("at", DateTime, nullable=False, index=True),
        Column("note", Text),
        # Reports ask "last status of this item before time T": one index walk each.
        Index("ix_event_item_at", "item_id", "at"),
    )
    Table(
        "itemtopic", md,
        Column("item_id", Integer, ForeignKey("item.id"), primary_key=True),
        Column("slug", String, primary_key=True, index=True),
        Column("origin", String, nullable=False, default="auto"),
        Column("score", Float, nullable=False, default=0.0),
    )
    md.create_all(conn)


def _item_stub(md: MetaData) -> Table:
    # Later migrations only need to know that item.id exists, for their foreign keys.
    return Table("item", md, Column("id", Integer, primary_key=True))


def m002_fetch(conn: Connection) -> None:
    """What the crawler saw at each URL, with its conditional-request validators and back-off."""
    md = MetaData()
    _item_stub(md)
    fetch = Table(
        "fetch", md,
        Column("item_id", Integer, ForeignKey("item.id"), primary_key=True),
        Column("state", String, nullable=False),
        Column("http_status", Integer),
        Column("title", String),
        Column("final_url", String),
        Column("checked_at", DateTime, nullable=False),
        Column("etag", String),
        Column("last_modified", String),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_due", DateTime, index=True),
        Column("error", Text),
        Column("meta", Text, nullable=False, default="{}"),
        Column("text", Text),
    )
    md.create_all(conn, tables=[fetch])


def m003_papers(conn: Connection) -> None:
    """arXiv metadata of papers and the per-topic fetch window."""
    md = MetaData()
    _item_stub(md)
    paper = Table(
        "paper", md,
        Column("item_id", Integer, ForeignKey("item.id"), primary_key=True),
        Column("arxiv_id", String, nullable=False, unique=True),
        Column("version", Integer, nullable=False, default=1),
        Column("authors", Text, nullable=False, default="[]"),
        Column("abstract", Text, nullable=False, default=""),
        Column("categories", Text, nullable=False, default="[]"),
        Column("primary_category", String),
        Column("published", DateTime, index=True),
        Column("updated", DateTime),
        Column("doi", String),
        Column("journal_ref", String),
        Column("comment", Text),
        Column("abs_url", String),
        Column("pdf_url", String),
        Column("fetched_at", DateTime),
    )
    topicfetch = Table(
        "topicfetch", md,
        Column("slug", String, primary_key=True),
        Column("last_success", DateTime, nullable=False),
    )
    md.create_all(conn, tables=[paper, topicfetch])


def m004_goals(conn: Connection) -> None:
    """Per-topic weekly goals, for the report's pace line."""
    md = MetaData()
    Table(
        "goal", md,
        Column("slug", String, primary_key=True),
        Column("per_week", Integer, nullable=False),
    )
    md.create_all(conn)


# The tally: how many live (not retired) items are in each status, overall (slug '') and per topic
# tag. Reports read it instead of joining every tag to its item (slow on a large list). SQLite
# triggers keep it exact on every write, whichever code path makes it; other databases have no
# tally and reports count directly. `tracker.store.tally` pauses the triggers around bulk imports.
TALLY_FILL = (
    "DELETE FROM tally",
    "INSERT INTO tally (slug, status, n) SELECT '', status, count(*) FROM item WHERE retired = 0 GROUP BY status",
    "INSERT INTO tally (slug, status, n) SELECT t.slug, i.status, count(*) FROM itemtopic t "
    "JOIN item i ON i.id = t.item_id WHERE t.origin != 'untag' AND i.retired = 0 GROUP BY t.slug, i.status",
)
_BUMP = "ON CONFLICT (slug, status) DO UPDATE SET n = n + excluded.n"
_TALLY_TRIGGERS = (
    # Tags already carrying a new item's id count too: left behind by a deleted item whose id SQLite
    # reuses, which only a database without foreign keys allows.
    f"""CREATE TRIGGER tally_item_insert AFTER INSERT ON item WHEN NEW.retired = 0 BEGIN
        INSERT INTO tally (slug, status, n) VALUES ('', NEW.status, 1) {_BUMP};
        INSERT INTO tally (slug, status, n) SELECT slug, NEW.status, 1 FROM itemtopic
            WHERE item_id = NEW.id AND origin != 'untag' {_BUMP};
    END""",
    f"""CREATE TRIGGER tally_item_update AFTER UPDATE OF status, retired ON item
    WHEN OLD.status IS NOT NEW.status OR OLD.retired IS NOT NEW.retired BEGIN
        UPDATE tally SET n = n - 1 WHERE OLD.retired = 0 AND status = OLD.status AND (slug = ''
            OR slug IN (SELECT slug FROM itemtopic WHERE item_id = OLD.id AND origin != 'untag'));
        INSERT INTO tally (slug, status, n) SELECT '', NEW.status, 1 WHERE NEW.retired = 0 {_BUMP};
        INSERT INTO tally (slug, status, n) SELECT slug, NEW.status, 1 FROM itemtopic
            WHERE NEW.retired = 0 AND item_id = NEW.id AND origin != 'untag' {_BUMP};
    END""",
    """CREATE TRIGGER tally_item_delete AFTER DELETE ON item WHEN OLD.retired = 0 BEGIN
        UPDATE tally SET n = n - 1 WHERE status = OLD.status AND (slug = ''
            OR slug IN (SELECT slug FROM itemtopic WHERE item_id = OLD.id AND origin != 'untag'));
    END""",
    f"""CREATE TRIGGER tally_tag_insert AFTER INSERT ON itemtopic WHEN NEW.origin != 'untag' BEGIN
        INSERT INTO tally (slug, status, n) SELECT NEW.slug, status, 1 FROM item
            WHERE id = NEW.item_id AND retired = 0 {_BUMP};
    END""",
    """CREATE TRIGGER tally_tag_delete AFTER DELETE ON itemtopic WHEN OLD.origin != 'untag' BEGIN
        UPDATE tally SET n = n - 1 WHERE slug = OLD.slug
            AND status = (SELECT status FROM item WHERE id = OLD.item_id AND retired = 0);
    END""",
    f"""CREATE TRIGGER tally_tag_update AFTER UPDATE OF item_id, slug, origin ON itemtopic
    WHEN OLD.item_id IS NOT NEW.item_id OR OLD.slug IS NOT NEW.slug
        OR (OLD.origin = 'untag') IS NOT (NEW.origin = 'untag') BEGIN
        UPDATE tally SET n = n - 1 WHERE OLD.origin != 'untag' AND slug = OLD.slug
            AND status = (SELECT status FROM item WHERE id = OLD.item_id AND retired = 0);
        INSERT INTO tally (slug, status, n) SELECT NEW.slug, status, 1 FROM item
            WHERE NEW.origin != 'untag' AND id = NEW.item_id AND retired = 0 {_BUMP};
    END""",
)


def m005_tally(conn: Connection) -> None:
    """Per-topic status counts kept by triggers (SQLite only), filled from the rows already there."""
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql("CREATE TABLE tally (slug VARCHAR NOT NULL, status VARCHAR NOT NULL, "
                         "n INTEGER NOT NULL, PRIMARY KEY (slug, status)) WITHOUT ROWID")
    for statement in (*_TALLY_TRIGGERS, *TALLY_FILL):
        conn.exec_driver_sql(statement)


def m006_report_indexes(conn: Connection) -> None:
    """Indexes for the weekly report, replacing three that wider ones now hold as prefixes.

    Every report question about events is a time range ("digested this week", "changed since")
    or an item's status at a time: with the status and item in both indexes, each is answered from
    an index alone. The item indexes serve "added this week" and "reading since".
    """
    md = MetaData()
    # Stubs naming only the indexed columns; SQLAlchemy quotes what each database needs (`fetch` is
    # a keyword in PostgreSQL).
    event = Table("event", md, Column("id", Integer, primary_key=True), Column("item_id", Integer),
                  Column("status", String), Column("at", DateTime))
    item = Table("item", md, Column("id", Integer, primary_key=True), Column("added_at", DateTime),
                 Column("status", String), Column("status_at", DateTime))
    fetch = Table("fetch", md, Column("item_id", Integer, primary_key=True), Column("state", String),
                  Column("checked_at", DateTime))
    for name in ("ix_event_at", "ix_event_item_id", "ix_event_item_at"):
        Index(name, event.c.at).drop(conn, checkfirst=True)
    for index in (
        Index("ix_event_at_status_item", event.c.at, event.c.status, event.c.item_id),
        # ... and "digested this week", "digested on this day": only the rows of that status.
        Index("ix_event_status_at_item", event.c.status, event.c.at, event.c.item_id),
        # "The status of this item at time T" (its last event by T, the later id winning a tie)
        # reads one index entry: the id is named so that it sorts before the status.
        Index("ix_event_item_at_id_status", event.c.item_id, event.c.at, event.c.id, event.c.status),
        Index("ix_item_added_at", item.c.added_at),
        Index("ix_item_status_at", item.c.status, item.c.status_at),
        # Links found gone or blocked in a week; without it SQLite walks every item to find them.
        Index("ix_fetch_state_checked", fetch.c.state, fetch.c.checked_at),
    ):
        index.create(conn)


# Checkpoints: the tally as it stood at past instants (the starts of ISO weeks), so that a report
# on a week long ago reads two of them instead of finding every item's status then. Triggers drop
# every checkpoint that a write makes wrong: an event dated before it, or any change to which
# items and tags are on the list (past totals count today's list). SQLite only, as the tally.
CHECKPOINT_CLEAR = ("DELETE FROM checkpoint", "DELETE FROM weekclose")
# A paper fetched into the inbox was never on the reading list before it has an event: adding it,
# or tagging it, changes no past count. (The fetcher adds papers on every sync.)
_COUNTED_BEFORE = ("EXISTS (SELECT 1 FROM event WHERE item_id = {0}.item_id) "
                   "OR EXISTS (SELECT 1 FROM item WHERE id = {0}.item_id AND source != 'arxiv')")


def _dropping(name: str, when: str, where: str = "") -> str:
    """A trigger that drops the checkpoints (all, or those `where` says) that its write makes wrong."""
    body = "".join(f"\n        {statement}{where};" for statement in CHECKPOINT_CLEAR)
    return f"CREATE TRIGGER tally_checkpoint_{name} {when} BEGIN{body}\n    END"


_CHECKPOINT_TRIGGERS = (
    _dropping("event_insert", "AFTER INSERT ON event", " WHERE moment > NEW.at"),
    _dropping("event_delete", "AFTER DELETE ON event", " WHERE moment > OLD.at"),
    _dropping("event_update", "AFTER UPDATE ON event", " WHERE moment > OLD.at OR moment > NEW.at"),
    _dropping("item_insert", "AFTER INSERT ON item WHEN NEW.retired = 0 AND NEW.source != 'arxiv'"),
    _dropping("item_delete", "AFTER DELETE ON item WHEN OLD.retired = 0"),
    _dropping("item_update", "AFTER UPDATE OF retired, source ON item "
                             "WHEN OLD.retired IS NOT NEW.retired OR OLD.source IS NOT NEW.source"),
    _dropping("tag_insert", f"AFTER INSERT ON itemtopic WHEN {_COUNTED_BEFORE.format('NEW')}"),
    _dropping("tag_delete", f"AFTER DELETE ON itemtopic WHEN {_COUNTED_BEFORE.format('OLD')}"),
    _dropping("tag_update", "AFTER UPDATE ON itemtopic"),
)


def m007_checkpoints(conn: Connection) -> None:
    """Past tallies at week starts, dropped by triggers when a write changes them (SQLite only)."""
    if conn.dialect.name != "sqlite":
        return
    # A checkpoint counts the events before `moment`: live items per status, overall (slug '') and
    # per topic. Its `weekclose` row marks it complete and holds what else the report asks of the
    # week that ended there: the days-digested streak up to its end, and the items digested in it.
    conn.exec_driver_sql("CREATE TABLE checkpoint (moment DATETIME NOT NULL, slug VARCHAR NOT NULL, "
                         "status VARCHAR NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (moment, slug, status)) "
                         "WITHOUT ROWID")
    conn.exec_driver_sql("CREATE TABLE weekclose (moment DATETIME NOT NULL PRIMARY KEY, streak INTEGER NOT NULL, "
                         "digested INTEGER NOT NULL)")
    for statement in _CHECKPOINT_TRIGGERS:
        conn.exec_driver_sql(statement)


def m009_page_text(conn: Connection) -> None:
    """The readable text of each item's last `ok` page, zlib-compressed, for offline reading and search."""
    md = MetaData()
    _item_stub(md)
    pagetext = Table(
        "pagetext", md,
        Column("item_id", Integer, ForeignKey("item.id"), primary_key=True),
        Column("text", LargeBinary, nullable=False),
        Column("chars", Integer, nullable=False),
        # A re-crawl that finds the same text only moves `fetched_at`: the search index stays as it is.
        Column("digest", String, nullable=False),
        Column("fetched_at", DateTime, nullable=False),
    )
    md.create_all(conn, tables=[pagetext])


def m008_paper_title(conn: Connection) -> None:
    """arXiv's own title of each paper, beside its item's title (which for a curated paper is the outline's).

    Filled here where the database already holds it: a paper fetched from arXiv has arXiv's title
    as its item's title, kept in step with each new version. A paper curated in an outline never
    had its arXiv title stored, so its title stays empty here; the next `papers fetch` asks arXiv for
    every paper without one. Versions were stored from the start (m003) and need nothing.
    """
    conn.exec_driver_sql("ALTER TABLE paper ADD COLUMN title VARCHAR")
    conn.exec_driver_sql("UPDATE paper SET title = (SELECT item.title FROM item WHERE item.id = paper.item_id) "
                         "WHERE item_id IN (SELECT id FROM item WHERE source = 'arxiv')")


def m011_fetch_dns(conn: Connection) -> None:
    """When the crawler first found an item's host name unknown (NXDOMAIN) while other names resolved.

    A name is taken for gone only when it is still unknown a day or more later: one failed lookup
    can be a resolver's bad moment, and a laptop offline must not mark the reading list dead.
    """
    column_type = DateTime().compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE fetch ADD COLUMN dns_missing_since {column_type}")


MIGRATIONS: list[Migration] = [m001_core, m002_fetch, m003_papers, m004_goals, m005_tally,
                              m006_report_indexes, m007_checkpoints, m009_page_text,
                              m008_paper_title, m011_fetch_dns]

_LEDGER = MetaData()
ledger = Table(
    "tracker_migrations", _LEDGER,
    Column("name", String, primary_key=True),
    Column("applied_at", DateTime, nullable=False),
)


def applied(conn: Connection) -> set[str]:
    """Names of the migrations this database has had."""
    try:
        return {row[0] for row in conn.execute(text("SELECT name FROM tracker_migrations"))}
    except Exception:  # no ledger yet: a blank database
        conn.rollback()
        return set()


def migrate(conn: Connection, upto: int | None = None) -> list[str]:
    """Apply the migrations not yet applied, in order; return their names."""
    done = applied(conn)
    todo = [m for m in MIGRATIONS[:upto] if m.__name__ not in done]
    if not todo:
        return []
    _LEDGER.create_all(conn)
    for step in todo:
        step(conn)
        conn.execute(ledger.insert().values(name=step.__name__, applied_at=datetime.now(UTC).replace(tzinfo=None)))
    conn.commit()
    return [m.__name__ for m in todo]
