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


# The search index (SQLite only): FTS5 over views that gather each item's searchable text, keeping
# no copy of it (external content). `search_raw` is that text as stored; `search_source` is what the
# tokenizer reads, through `tracker_words` (Chinese cut into bigrams) and `tracker_inflate` (page
# texts are compressed), Python functions that tracker.search.index registers on every connection.
# The triggers are plain SQL, so any SQLite client may still write. Before a write changes what an
# indexed item's entry says, they note the item in `search_pending` with its text as the index has
# it, the first time in a transaction; `tracker.search.index.flush` removes those entries and adds
# them anew, and adds the items numbered above `search_state.upto` (the largest id indexed), one
# statement each, just before the transaction commits. So inserting items needs no trigger at all:
# a row trigger makes SQLite journal every row of a bulk insert, which cost as much again as the
# import's own writes, and FTS5 written from a trigger flushes its buffer at every row. Topic names
# have a small index of their own, rebuilt after a topic changes, and are matched at query time,
# so tagging never rewrites an entry.
SEARCH_COLUMNS = ("title", "notes", "text", "abstract", "authors")
_FTS_OPTIONS = "tokenize = 'porter unicode61 remove_diacritics 2'"


def _words_view(name: str, source: str, key: str) -> str:
    """A view of `source`'s searchable text as the tokenizer reads it."""
    return f"""CREATE VIEW {name} AS SELECT {key} AS id, tracker_words(title) AS title,
        CASE WHEN notes IS NOT NULL THEN tracker_words(notes) END AS notes,
        CASE WHEN text IS NOT NULL THEN tracker_words(tracker_inflate(text)) END AS text,
        CASE WHEN abstract IS NOT NULL THEN tracker_words(abstract) END AS abstract,
        CASE WHEN authors IS NOT NULL THEN tracker_words(authors) END AS authors
    FROM {source}"""


_SEARCH_SCHEMA = (
    # A crawled title is added only where it says something the curated one does not.
    """CREATE VIEW search_raw AS SELECT i.id AS id,
        CASE WHEN f.title IS NULL OR f.title = i.title THEN i.title ELSE i.title || ' ' || f.title END AS title,
        CASE WHEN i.notes != '' THEN i.notes END AS notes,
        t.text AS text,
        CASE WHEN p.abstract != '' THEN p.abstract END AS abstract,
        CASE WHEN p.authors != '[]' THEN p.authors END AS authors
    FROM item i LEFT JOIN fetch f ON f.item_id = i.id LEFT JOIN pagetext t ON t.item_id = i.id
        LEFT JOIN paper p ON p.item_id = i.id""",
    _words_view("search_source", "search_raw", "id"),
    f"""CREATE VIRTUAL TABLE search_index USING fts5({', '.join(SEARCH_COLUMNS)}, content = 'search_source',
        content_rowid = 'id', {_FTS_OPTIONS})""",
    """CREATE TABLE search_pending (item_id INTEGER PRIMARY KEY, indexed INTEGER NOT NULL, title TEXT,
        notes TEXT, text BLOB, abstract TEXT, authors TEXT)""",
    # The entries to remove, as the index has them.
    _words_view("search_pending_source", "search_pending WHERE indexed = 1", "item_id"),
    """CREATE VIEW search_topic_source AS SELECT id, tracker_words(title || ' ' || slug || ' ' || aliases) AS name
        FROM topic""",
    f"""CREATE VIRTUAL TABLE search_topic USING fts5(name, content = 'search_topic_source', content_rowid = 'id',
        {_FTS_OPTIONS})""",
    """CREATE TABLE search_state (id INTEGER PRIMARY KEY CHECK (id = 1), upto INTEGER NOT NULL,
        topics_stale INTEGER NOT NULL)""",
    # Built below from the rows already there.
    "INSERT INTO search_state (id, upto, topics_stale) VALUES (1, coalesce((SELECT max(id) FROM item), 0), 0)",
    "INSERT INTO search_index (search_index) VALUES ('rebuild')",
    "INSERT INTO search_topic (search_topic) VALUES ('rebuild')",
)
_NOTE_ENTRY = ("INSERT OR IGNORE INTO search_pending (item_id, indexed, title, notes, text, abstract, authors) "
               "SELECT r.id, r.id <= s.upto, r.title, r.notes, r.text, r.abstract, r.authors "
               "FROM search_raw r, search_state s WHERE r.id = {row}.{key};")


def _search_triggers(table: str, key: str, columns: str, present: str = "") -> list[str]:
    """Triggers noting, before a write to `table` changes an item's entry, the entry as it stands.

    `key` names the item; `present` (over `{row}`) holds where a row of `table` adds anything to the
    entry: where it does not, inserting or deleting that row changes nothing. (A new item needs no
    note: its id is above `search_state.upto`.)
    """
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns.split(", "))

    def when(row: str) -> str:
        return f" WHEN {present.format(row=row)}" if present else ""

    out = [f"CREATE TRIGGER search_{table}_bu BEFORE UPDATE OF {columns} ON {table} WHEN {changed} BEGIN "
           f"{_NOTE_ENTRY.format(row='OLD', key=key)} END",
           f"CREATE TRIGGER search_{table}_bd BEFORE DELETE ON {table}{when('OLD')} BEGIN "
           f"{_NOTE_ENTRY.format(row='OLD', key=key)} END"]
    if table == "item":
        # SQLite numbers a new row one above the largest id left: after deleting the largest items,
        # that may be at or below `upto`. Lowering `upto` to the largest id left keeps new items above it.
        out[1] = out[1].replace(" END", " UPDATE search_state SET upto = min(upto, coalesce("
                                "(SELECT max(id) FROM item WHERE id != OLD.id), 0)); END")
    else:
        out.append(f"CREATE TRIGGER search_{table}_bi BEFORE INSERT ON {table}{when('NEW')} BEGIN "
                   f"{_NOTE_ENTRY.format(row='NEW', key=key)} END")
    return out


def m010_search_index(conn: Connection) -> None:
    """The full-text search index and the triggers that keep it (SQLite only), built from the rows there."""
    if conn.dialect.name != "sqlite":
        return
    stale = "UPDATE search_state SET topics_stale = 1;"
    statements = [*_SEARCH_SCHEMA,
                  *_search_triggers("item", "id", "title, notes"),
                  *_search_triggers("fetch", "item_id", "title", "{row}.title IS NOT NULL"),
                  *_search_triggers("pagetext", "item_id", "text"),
                  *_search_triggers("paper", "item_id", "abstract, authors",
                                    "({row}.abstract != '' OR {row}.authors != '[]')"),
                  *(f"CREATE TRIGGER search_topic_{name} AFTER {event} ON topic BEGIN {stale} END"
                    for name, event in (("ai", "INSERT"), ("au", "UPDATE OF title, slug, aliases"),
                                        ("ad", "DELETE")))]
    for statement in statements:
        conn.exec_driver_sql(statement)


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


def m012_item_parent(conn: Connection) -> None:
    """Items by their parent: an item's page lists the children found on it (a listing's entries), and
    without this index every item page read the whole item table to find none."""
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_item_parent_id ON item (parent_id)")


def m013_search_paper_title(conn: Connection) -> None:
    """arXiv's own title joins an item's searchable title where it says something the curated one does not.

    m008 stored it after m010 had built the index, so the index's view is made again with it, the
    paper triggers also watch it, and the index is rebuilt from the rows there (SQLite only).
    """
    if conn.dialect.name != "sqlite":
        return
    statements = [
        "DROP VIEW search_source", "DROP VIEW search_raw",
        *(f"DROP TRIGGER search_paper_{name}" for name in ("bu", "bd", "bi")),
        """CREATE VIEW search_raw AS SELECT i.id AS id,
            i.title || CASE WHEN f.title IS NULL OR f.title = i.title THEN '' ELSE ' ' || f.title END
                    || CASE WHEN p.title IS NULL OR p.title = i.title THEN '' ELSE ' ' || p.title END AS title,
            CASE WHEN i.notes != '' THEN i.notes END AS notes,
            t.text AS text,
            CASE WHEN p.abstract != '' THEN p.abstract END AS abstract,
            CASE WHEN p.authors != '[]' THEN p.authors END AS authors
        FROM item i LEFT JOIN fetch f ON f.item_id = i.id LEFT JOIN pagetext t ON t.item_id = i.id
            LEFT JOIN paper p ON p.item_id = i.id""",
        _words_view("search_source", "search_raw", "id"),
        *_search_triggers("paper", "item_id", "abstract, authors, title",
                          "({row}.abstract != '' OR {row}.authors != '[]' OR {row}.title IS NOT NULL)"),
        "DELETE FROM search_pending",
        "UPDATE search_state SET upto = coalesce((SELECT max(id) FROM item), 0)",
        "INSERT INTO search_index (search_index) VALUES ('rebuild')",
    ]
    for statement in statements:
        conn.exec_driver_sql(statement)


MIGRATIONS: list[Migration] = [m001_core, m002_fetch, m003_papers, m004_goals, m005_tally,
                              m006_report_indexes, m007_checkpoints, m009_page_text,
                              m010_search_index, m008_paper_title, m011_fetch_dns, m012_item_parent,
                              m013_search_paper_title]

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
