"""Outline files -> database, idempotently.

Each file is one write transaction: a crash leaves either the old import or the new
one, never half. Statuses and notes belong to the learner and are never reset here;
an entry that left the outline is retired, never deleted, so its history stays.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection, Row

from tracker.errors import InputError, NotFound, Refused, UsageError
from tracker.outline import Entry, UnreadableOutline, parse_outline
from tracker.outline import Outline as ParsedOutline
from tracker.store import db as dbmod
from tracker.store import tally
from tracker.store.models import Event, Outline, Topic
from tracker.topics import Classifier, TopicDef, load_topics_file, topics_file_for

outline_t = Outline.__table__  # type: ignore[attr-defined]
topic_t = Topic.__table__  # type: ignore[attr-defined]
item_t = dbmod.item_t
tag_t = dbmod.tag_t
event_t = Event.__table__  # type: ignore[attr-defined]

# Tags that an import may rewrite; manual tags and untags are the learner's.
AUTO_ORIGINS = ("section", "auto")
# The tables a first import fills.
FILLED_TABLES = (item_t.name, event_t.name, tag_t.name)
# Up to this many changed items are handled by id; more, by whole-outline statements.
SMALL_CHANGE = 2000


@dataclass(frozen=True)
class SourceFile:
    """An outline file read and parsed, with its topics, before anything is written.

    `outline` is None when the file is byte-for-byte what the last import saw: there is
    nothing to compare, so it is not parsed again.
    """

    name: str
    path: Path
    outline: ParsedOutline | None
    topics: list[TopicDef]
    digest: str


@dataclass
class ImportSummary:
    """What an import did, as `tracker import --json` reports it."""

    files: int = 0
    topics: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    item_ids: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The contract's JSON shape."""
        return {
            "files": self.files,
            "topics": self.topics,
            "items": {"added": self.added, "updated": self.updated,
                      "unchanged": self.unchanged, "retired": self.retired},
        }


# An outline or topics file larger than this, or with a longer line, is refused before it is
# parsed: a reading list is at most a few megabytes, and `import /dev/zero` must not fill memory.
MAX_FILE_BYTES = 20_000_000
MAX_LINE_BYTES = 1_000_000


@dataclass(frozen=True)
class InputLimits:
    """The largest outline file and line an import reads."""

    file_bytes: int = MAX_FILE_BYTES
    line_bytes: int = MAX_LINE_BYTES


def input_limits(env: dict[str, str] | None = None) -> InputLimits:
    """The limits from TRACKER_MAX_OUTLINE_BYTES and TRACKER_MAX_LINE_BYTES, else the defaults."""
    import os

    env = dict(os.environ) if env is None else env
    return InputLimits(_env_bytes(env, "TRACKER_MAX_OUTLINE_BYTES", MAX_FILE_BYTES),
                       _env_bytes(env, "TRACKER_MAX_LINE_BYTES", MAX_LINE_BYTES))


def _env_bytes(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise UsageError(f"{name} must be a whole number of bytes, 1 or more (got {value!r})")
    return int(value)


def read_text(path: Path, limits: InputLimits | None = None) -> str:
    """A file's text as UTF-8, or a one-line InputError/NotFound; never more than the limits allow."""
    limits = limits or input_limits()
    if not path.exists():
        raise NotFound(f"no such file: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not an outline file")
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.file_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > limits.file_bytes:
        raise InputError(f"{path} is larger than {limits.file_bytes:,} bytes, too large for an outline "
                         "(TRACKER_MAX_OUTLINE_BYTES sets the limit); nothing imported")
    _check_lines(path, data, limits.line_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text (byte {exc.start})") from None


def _check_lines(path: Path, data: bytes, limit: int) -> None:
    """InputError naming the first line longer than `limit` bytes."""
    if len(data) <= limit:
        return
    lines = data.splitlines()  # \n, \r and \r\n, as the parser reads them
    if max(map(len, lines)) <= limit:
        return
    number = next(n for n, line in enumerate(lines, start=1) if len(line) > limit)
    raise InputError(f"{path}: line {number} is longer than {limit:,} bytes, too long for an outline "
                     "(TRACKER_MAX_LINE_BYTES sets the limit); nothing imported")


def outline_paths(seeds: Path | None, given: Sequence[Path]) -> list[Path]:
    """The outlines to import: those given, else every `*.md` in the seeds folder."""
    if given:
        return list(given)
    if seeds is None:
        raise NotFound("no seeds/ folder here or above; give outline files to import")
    return sorted(p for p in seeds.glob("*.md") if p.is_file())


def heading_slug(title: str) -> str:
    """A stable slug for a topic made from a heading: its ASCII words, else a short hash."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    if words and sum(len(w) for w in words) >= 3:
        return "-".join(words)[:48].strip("-")
    return "t-" + hashlib.sha1(title.encode("utf-8")).hexdigest()[:8]


def heading_topics(outline: ParsedOutline) -> list[TopicDef]:
    """One topic per heading that holds entries, in outline order (no topics file)."""
    holding = {entry.section for entry in outline.entries if entry.section}
    defs: list[TopicDef] = []
    seen: set[str] = set()
    for heading in outline.headings:
        if heading.path not in holding:
            continue
        slug = heading_slug(heading.title)
        while slug in seen:
            slug = heading_slug(" / ".join(heading.path) + f"#{len(seen)}")
        seen.add(slug)
        defs.append(TopicDef(slug=slug, title=heading.title, parent=None, group=0, position=len(defs)))
    return defs


def load_source(path: Path, known: dict[str, str]) -> SourceFile:
    """Read, parse and pair one outline with its topics file; raises before anything is written."""
    text = read_text(path)
    topics_path = topics_file_for(path)
    topics_text = read_text(topics_path) if topics_path else ""
    # Two halves, so an import can tell an edited topics file (retag everything) from an edited outline.
    digest = _sha(text) + ":" + _sha(topics_text)
    topics = load_topics_file(topics_path) if topics_path else []
    if known.get(path.stem) == digest:
        return SourceFile(name=path.stem, path=path, outline=None, topics=topics, digest=digest)
    try:
        outline = parse_outline(text)
    except UnreadableOutline as exc:
        raise InputError(f"cannot read all of {path} ({exc}); nothing imported") from None
    except RecursionError:
        raise InputError(f"cannot read all of {path} (nested too deeply); nothing imported") from None
    if not topics_path:
        topics = heading_topics(outline)
    return SourceFile(name=path.stem, path=path, outline=outline, topics=topics, digest=digest)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def import_files(database: dbmod.Database, paths: Iterable[Path], retire: bool = False) -> ImportSummary:
    """Import outline files: validate all of them first, then write each in its own transaction.

    An outline that would lose more than a quarter of its live items (and more than
    `RETIRE_FREELY`) at once is refused, with nothing written, unless `retire` is True: a
    broken or truncated file must not retire the learner's list.
    """
    with _collector_paused():
        return _import_files(database, list(paths), retire)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Run with Python's cyclic garbage collector off, and turn it back on after.

    An import keeps a million small objects alive until it ends (entries, rows), none of them
    garbage, and the collector's full passes would walk them all several times over.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _import_files(database: dbmod.Database, paths: list[Path], retire: bool) -> ImportSummary:
    with database.read() as conn:
        known = {r.name: r.digest for r in conn.execute(select(outline_t.c.name, outline_t.c.digest))}
    sources = [load_source(path, known) for path in paths]
    slugs: dict[str, str] = {}
    for src in sources:
        for topic in src.topics:
            other = slugs.setdefault(topic.slug, src.name)
            if other != src.name:
                raise InputError(f"topic slug {topic.slug!r} is used by both {other} and {src.name}")
    if not retire:
        with database.read() as conn:
            for src in sources:
                _check_retiring(conn, src)
    summary = ImportSummary()
    for src in sources:
        with database.write() as conn:
            _import_one(conn, src, summary, retire)
        summary.files += 1
        summary.topics += len(src.topics)
    return summary


def _check_retiring(conn: Connection, src: SourceFile) -> None:
    """Refused if importing `src` would retire too much of its outline's list at once."""
    if src.outline is None:
        return
    row = conn.execute(select(outline_t.c.id).where(outline_t.c.name == src.name)).first()
    if row is not None:
        _retire_plan(conn, row.id, {e.key for e in src.outline.entries}, src.path, check=True)


def _import_one(conn: Connection, src: SourceFile, summary: ImportSummary, retire: bool) -> None:
    now = dbmod.utcnow()
    row = conn.execute(select(outline_t.c.id, outline_t.c.digest).where(outline_t.c.name == src.name)).first()
    if row is not None and (src.outline is None or row.digest == src.digest):
        # Unchanged file: nothing to compare, nothing to write.
        summary.unchanged += conn.execute(
            select(func.count()).where(item_t.c.outline_id == row.id, item_t.c.retired.is_(False))
        ).scalar_one()
        return
    outline = src.outline
    assert outline is not None  # only unchanged files are left unparsed
    if row is None:
        inserted = conn.execute(outline_t.insert().values(
            name=src.name, path=str(src.path.resolve()), title=outline.title, digest="", imported_at=now,
        )).inserted_primary_key
        assert inserted is not None
        outline_id = inserted[0]
    else:
        outline_id = row.id
    old_digest = row.digest if row is not None else ""
    retag_all = old_digest.partition(":")[2] != src.digest.partition(":")[2]
    # A first import or a new topics file writes a row per entry, or two: count the tally once after.
    bulk = len(outline.entries) if row is None or retag_all else 0
    # Filling empty tables: their other indexes are built once at the end (about 1 s less for 100,000
    # entries, the rebuild itself included).
    empty = bulk >= tally.PAUSE_FROM and conn.execute(select(item_t.c.id).limit(1)).first() is None
    with tally.paused(conn, bulk), dbmod.indexes_built_after(conn, FILLED_TABLES if empty else ()):
        _sync_topics(conn, outline_id, src.topics)
        touched = _sync_items(conn, outline_id, outline.entries, now, summary, first=row is None,
                              check=None if retire else src.path)
        # On a first import every item is new, and so already among those touched.
        _tag_items(conn, outline_id, src, None if retag_all and row is not None else touched)
    conn.execute(update(outline_t).where(outline_t.c.id == outline_id).values(
        path=str(src.path.resolve()), title=outline.title, digest=src.digest, imported_at=now))


def _sync_topics(conn: Connection, outline_id: int, topics: list[TopicDef]) -> None:
    existing = {r.slug: r.id for r in conn.execute(
        select(topic_t.c.slug, topic_t.c.id).where(topic_t.c.outline_id == outline_id))}
    added = []
    for pos, topic in enumerate(topics):
        values = dict(title=topic.title, parent=topic.parent, group_no=topic.group, position=pos,
                      outline_id=outline_id, aliases=json.dumps(list(topic.aliases), ensure_ascii=False),
                      query=topic.query, categories=json.dumps(list(topic.categories)))
        if topic.slug in existing:
            conn.execute(update(topic_t).where(topic_t.c.id == existing.pop(topic.slug)).values(**values))
        else:
            added.append(dict(slug=topic.slug, **values))
    # In outline order, as one statement: an outline without a topics file has a topic per heading.
    dbmod.bulk_insert(conn, topic_t, added)
    if existing:
        gone = list(existing)
        conn.execute(delete(topic_t).where(topic_t.c.slug.in_(gone)))
        conn.execute(delete(tag_t).where(tag_t.c.slug.in_(gone), tag_t.c.origin.in_(AUTO_ORIGINS)))


def _section(entry: Entry) -> str:
    return " / ".join(entry.section)


def _sync_items(conn: Connection, outline_id: int, entries: Sequence[Entry], now: datetime,
                summary: ImportSummary, first: bool = False,
                check: Path | None = None) -> dict[int, tuple[str, str, str]]:
    """Add, update and retire this outline's items; return (key, title, section) of those needing tags.

    `first`: the outline is imported for the first time, so none of its items can be missing.
    `check`: the file's path where a retirement too large is to be refused (see `import_files`).
    """
    keys = [e.key for e in entries]
    # One pass over the item table beats thousands of IN-lists: an outline may hold 100,000 entries.
    wanted = set(keys)
    existing: dict[str, Row] = {r.key: r for r in conn.execute(select(
        item_t.c.key, item_t.c.id, item_t.c.title, item_t.c.kind, item_t.c.section, item_t.c.position,
        item_t.c.retired, item_t.c.outline_id, item_t.c.source, item_t.c.status,
    )) if r.key in wanted}
    new_rows: list[tuple[object, ...]] = []
    new_touched: list[tuple[str, str, str]] = []  # key, title, section of each new row
    done: list[int] = []  # indexes in new_rows of the entries ticked in the outline
    touched: dict[int, tuple[str, str, str]] = {}
    sections = _Sections()
    for entry in entries:
        old = existing.get(entry.key)
        if old is None:
            section = sections[entry.section]
            if entry.done:
                done.append(len(new_rows))
            when = now if entry.done else None
            new_rows.append((entry.key, entry.url, entry.arxiv_id, entry.title, entry.kind,
                             "digested" if entry.done else "unread", "outline", outline_id, section,
                             entry.position, False, "", now, when, when))
            new_touched.append((entry.key, entry.title, section))
            continue
        if old.outline_id not in (None, outline_id) and old.source == "outline" and not old.retired:
            summary.unchanged += 1  # curated by another outline that still lists it: that one owns it
            continue
        changes = _changes(old, entry, outline_id)
        if changes:
            conn.execute(update(item_t).where(item_t.c.id == old.id).values(**changes))
        if old.status in ("inbox", "dismissed"):
            # A fetched paper the learner now curates joins the reading list.
            _record(conn, old.id, "unread", now, "added to an outline")
        if set(changes) - {"position"} or old.status in ("inbox", "dismissed"):
            summary.updated += 1
            if "title" in changes or old.retired or first:  # first: taken over, never tagged by this outline
                touched[old.id] = (entry.key, entry.title, sections[entry.section])
        else:
            summary.unchanged += 1
    if new_rows:
        ids = _insert_items(conn, outline_id, new_rows)
        summary.added += len(new_rows)
        touched.update(zip(ids, new_touched, strict=True))
        dbmod.insert_rows(conn, event_t, ("item_id", "status", "at", "note"),
                          [(ids[i], "digested", now, "ticked in the outline") for i in done])
    if not first:
        summary.retired += _retire_missing(conn, outline_id, set(keys), check)
    return touched


class _Sections(dict[tuple[str, ...], str]):
    """An entry's section as the item table stores it, joined once per heading path."""

    def __missing__(self, path: tuple[str, ...]) -> str:
        joined = self[path] = " / ".join(path)
        return joined


# The columns of a new item's row, as _sync_items builds it.
_NEW_ITEM = ("key", "url", "arxiv_id", "title", "kind", "status", "source", "outline_id", "section", "position",
             "retired", "notes", "added_at", "status_at", "digested_at")


def _insert_items(conn: Connection, outline_id: int, rows: list[tuple[object, ...]]) -> list[int]:
    """Insert new items (rows of the columns _NEW_ITEM); return their ids, in order."""
    base = conn.execute(select(func.max(item_t.c.id))).scalar() or 0
    dbmod.insert_rows(conn, item_t, _NEW_ITEM, rows)
    # SQLite's executemany inserts the rows in order, numbering each one more than the largest id,
    # inside this write transaction: when the ids and the keys at both ends say so, that saves
    # reading 100,000 keys back. Otherwise ask.
    if conn.dialect.name == "sqlite":
        ends: dict[int, str] = dict(conn.execute(select(item_t.c.id, item_t.c.key).where(
            item_t.c.id.in_((base + 1, base + len(rows))))).all())
        count = conn.execute(select(func.count()).where(item_t.c.id > base)).scalar_one()
        if count == len(rows) and ends == {base + 1: rows[0][0], base + len(rows): rows[-1][0]}:
            return list(range(base + 1, base + len(rows) + 1))
    all_ids = _ids_of_outline(conn, outline_id)
    return [all_ids[str(row[0])] for row in rows]


def _changes(old: Row, entry: Entry, outline_id: int) -> dict[str, object]:
    wanted = dict(title=entry.title, kind=entry.kind, section=_section(entry), position=entry.position,
                  retired=False, outline_id=outline_id, source="outline")
    current = dict(title=old.title, kind=old.kind, section=old.section, position=old.position,
                   retired=old.retired, outline_id=old.outline_id, source=old.source)
    return {k: v for k, v in wanted.items() if current[k] != v}


# An import may retire this many items of an outline at once, whatever its size, without `retire`.
RETIRE_FREELY = 5


def _retire_missing(conn: Connection, outline_id: int, keys: set[str], check: Path | None) -> int:
    """Retire this outline's live items missing from `keys`, handing over those another outline lists."""
    gone, moves = _retire_plan(conn, outline_id, keys, check, check=check is not None)
    for item_id, (other_id, entry) in moves.items():
        conn.execute(update(item_t).where(item_t.c.id == item_id).values(
            outline_id=other_id, section=_section(entry), position=entry.position))
    for chunk in dbmod.chunks(gone, 900):
        conn.execute(update(item_t).where(item_t.c.id.in_(chunk)).values(retired=True))
    return len(gone)


def _retire_plan(conn: Connection, outline_id: int, keys: set[str], path: Path | None,
                 check: bool) -> tuple[list[int], dict[int, tuple[int, Entry]]]:
    """The items an import would retire, and those it would hand to another outline; Refused if
    `check` and the retired would be more than RETIRE_FREELY and more than a quarter of the live ones."""
    live = conn.execute(select(item_t.c.id, item_t.c.key).where(
        item_t.c.outline_id == outline_id, item_t.c.retired.is_(False), item_t.c.source == "outline")).all()
    dropped = {r.key: r.id for r in live if r.key not in keys}
    moves = _hand_over(conn, outline_id, dropped) if dropped else {}
    gone = [item_id for item_id in dropped.values() if item_id not in moves]
    if check and len(gone) > RETIRE_FREELY and len(gone) * 4 > len(live):
        raise Refused(f"importing {path} would retire {len(gone)} of its {len(live)} items, more than a quarter: "
                      "nothing imported. If the entries were removed on purpose, run `tracker import --retire`")
    return gone, moves


def _hand_over(conn: Connection, outline_id: int, dropped: dict[str, int]) -> dict[int, tuple[int, Entry]]:
    """Entries this outline dropped that another imported outline still lists: {item id: (that outline, entry)}.

    An item belongs to one outline; another that lists the same page leaves it to its owner. When
    the owner drops it, the other one takes it over now rather than at its own next change (an
    unchanged file is not even parsed). Other outlines are read from their files only here, when
    something was dropped; a file that is gone or unreadable is passed over.
    """
    wanted = dict(dropped)
    moves: dict[int, tuple[int, Entry]] = {}
    others = conn.execute(select(outline_t.c.id, outline_t.c.path).where(outline_t.c.id != outline_id)
                          .order_by(outline_t.c.id)).all()
    for other in others:
        try:
            entries = parse_outline(read_text(Path(other.path))).entries
        except (InputError, NotFound, UnreadableOutline, RecursionError):
            continue
        for entry in entries:
            item_id = wanted.pop(entry.key, None)
            if item_id is not None:
                moves[item_id] = (other.id, entry)
        if not wanted:
            break
    return moves


def _ids_of_outline(conn: Connection, outline_id: int) -> dict[str, int]:
    query = select(item_t.c.key, item_t.c.id).where(item_t.c.outline_id == outline_id)
    return {r.key: r.id for r in conn.execute(query)}


def _record(conn: Connection, item_id: int, status: str, at: datetime, note: str | None) -> None:
    conn.execute(event_t.insert().values(item_id=item_id, status=status, at=at, note=note))
    conn.execute(update(item_t).where(item_t.c.id == item_id).values(status=status, status_at=at))


def _tag_items(conn: Connection, outline_id: int, src: SourceFile,
               touched: dict[int, tuple[str, str, str]] | None) -> None:
    """Tag new or retitled items (every live item when `touched` is None): by section topic, else classifier."""
    if touched is not None and not touched:
        return
    live = item_t.c.retired.is_(False)
    of_outline = item_t.c.outline_id == outline_id
    if touched is None:
        query = select(item_t.c.id, item_t.c.key, item_t.c.title, item_t.c.section).where(of_outline, live)
        touched = {r.id: (r.key, r.title, r.section) for r in conn.execute(query)}
    live_count = conn.execute(select(func.count()).where(of_outline, live)).scalar_one()
    if len(touched) >= live_count:
        # Every item of the outline is retagged: clear its automatic tags in one statement.
        conn.execute(delete(tag_t).where(tag_t.c.item_id.in_(select(item_t.c.id).where(of_outline)),
                                         tag_t.c.origin.in_(AUTO_ORIGINS)))
    else:
        for chunk in dbmod.chunks(sorted(touched), 500):
            conn.execute(delete(tag_t).where(tag_t.c.item_id.in_(chunk), tag_t.c.origin.in_(AUTO_ORIGINS)))
    # Tags left on these items (manual, untag, from queries or parents) must not be duplicated.
    protected = _remaining_tags(conn, outline_id, None if len(touched) > SMALL_CHANGE else sorted(touched))
    by_title = {_norm(t.title): t.slug for t in src.topics}
    classifier = Classifier(src.topics)
    texts = _EntryTexts(src.outline)
    section_topic: dict[str, str | None] = {}
    new_tags: list[tuple[int, str, str, float]] = []
    for item_id, (key, title, section) in touched.items():
        if section not in section_topic:
            section_topic[section] = _section_topic(section, by_title)
        for slug, origin, score in _tags_for(title, key, texts, section_topic[section], classifier):
            if (item_id, slug) not in protected:
                new_tags.append((item_id, slug, origin, score))
    dbmod.insert_rows(conn, tag_t, ("item_id", "slug", "origin", "score"), new_tags)


def _remaining_tags(conn: Connection, outline_id: int, ids: list[int] | None) -> set[tuple[int, str]]:
    query = select(tag_t.c.item_id, tag_t.c.slug)
    if ids is None:
        query = query.select_from(tag_t.join(item_t, item_t.c.id == tag_t.c.item_id)).where(
            item_t.c.outline_id == outline_id)
        return {(r.item_id, r.slug) for r in conn.execute(query)}
    out: set[tuple[int, str]] = set()
    for chunk in dbmod.chunks(ids, 500):
        out.update((r.item_id, r.slug) for r in conn.execute(query.where(tag_t.c.item_id.in_(chunk))))
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


class _EntryTexts:
    """Entry texts by key, indexed only if some title needs its text to be classified."""

    def __init__(self, outline: ParsedOutline | None) -> None:
        self.outline = outline
        self.by_key: dict[str, str] | None = None

    def get(self, key: str) -> str:
        if self.by_key is None:
            self.by_key = {e.key: e.text for e in self.outline.entries} if self.outline else {}
        return self.by_key.get(key, "")


def _section_topic(section: str, by_title: dict[str, str]) -> str | None:
    """The topic of the nearest heading above an item that is a topic, if any."""
    for heading in reversed(section.split(" / ") if section else []):
        slug = by_title.get(_norm(heading))
        if slug:
            return slug
    return None


def _tags_for(title: str, key: str, texts: _EntryTexts, section_slug: str | None,
              classifier: Classifier) -> list[tuple[str, str, float]]:
    if section_slug:
        return [(section_slug, "section", 1.0)]
    # The title says what an entry is about; the surrounding text is only a fallback.
    ranked = classifier.tags(title) or classifier.tags(texts.get(key))
    return [(slug, "auto", score) for slug, score in ranked]
