"""Papers in the database: one item per arXiv paper, whoever found it, and the inbox moves.

A paper's identity is its base id (`arxiv:2401.01234`, the same key an outline link to it gets),
so versions, cross-listings, several topics' queries and the outline all land on one item.
Fetched papers start in the `inbox`; only the learner moves them out, and a dismissed paper
keeps its status, so fetching it again never brings it back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Row

from tracker.errors import UsageError
from tracker.papers.records import PaperRecord
from tracker.store import db as dbmod
from tracker.store.models import Event, Paper
from tracker.topics import Classifier

item_t, tag_t = dbmod.item_t, dbmod.tag_t
paper_t = Paper.__table__  # type: ignore[attr-defined]
event_t = Event.__table__  # type: ignore[attr-defined]

# SQLite allows 999 bound parameters in old builds; stay under it for IN lists.
CHUNK = 500


@dataclass
class StoreResult:
    """What storing one batch of records did."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: dict[str, int] = field(default_factory=dict)  # arxiv id -> item id, for every record stored


def item_key(arxiv_id: str) -> str:
    """The item key of a paper: the same one an outline link to it gets."""
    return f"arxiv:{arxiv_id}"


def newest(records: Iterable[PaperRecord]) -> dict[str, PaperRecord]:
    """One record per base id: the highest version, then the latest update."""
    out: dict[str, PaperRecord] = {}
    for rec in records:
        old = out.get(rec.arxiv_id)
        if old is None or _is_newer(rec, old.version, old.updated):
            out[rec.arxiv_id] = rec
    return out


def _is_newer(rec: PaperRecord, version: int | None, updated: datetime | None) -> bool:
    if version is None or rec.version != version:
        return version is None or rec.version > version
    return rec.updated is not None and updated is not None and rec.updated > updated


def _paper_row(rec: PaperRecord, item_id: int, now: datetime) -> dict[str, object]:
    return dict(
        item_id=item_id, arxiv_id=rec.arxiv_id, version=rec.version, title=rec.title,
        authors=_authors(rec), abstract=rec.abstract,
        categories=json.dumps(list(rec.categories)), primary_category=rec.primary_category,
        published=rec.published, updated=rec.updated, doi=rec.doi, journal_ref=rec.journal_ref,
        comment=rec.comment, abs_url=rec.abs_url, pdf_url=rec.pdf_url, fetched_at=now,
    )


def store_papers(conn: Connection, records: Iterable[PaperRecord], now: datetime, *,
                 query_slug: str | None = None, classifier: Classifier | None = None,
                 add_new: bool = True) -> StoreResult:
    """Add new papers to the inbox, update papers arXiv says more about, and tag fetched papers.

    `query_slug` is the topic whose query found the records; `classifier` tags new papers by their
    title and abstract. Items curated in an outline get their metadata (arXiv's title among it) but
    keep their own title and tags: the outline says what they are about. With `add_new` false only
    papers already stored are updated (a feed's `replace` announcements). Status, notes and tags
    are never touched.
    """
    latest = newest(records)
    result = StoreResult()
    if not latest:
        return result
    keys = [item_key(a) for a in latest]
    existing: dict[str, Row] = {}
    for chunk in dbmod.chunks(keys, CHUNK):
        query = (select(item_t.c.id, item_t.c.key, item_t.c.source, paper_t.c.version, paper_t.c.updated,
                        paper_t.c.title, paper_t.c.abstract, paper_t.c.authors, paper_t.c.categories,
                        paper_t.c.doi, paper_t.c.journal_ref, paper_t.c.comment,
                        paper_t.c.item_id.label("paper_of"))
                 .select_from(item_t.outerjoin(paper_t, paper_t.c.item_id == item_t.c.id))
                 .where(item_t.c.key.in_(chunk)))
        existing.update((row.key, row) for row in conn.execute(query))

    fresh = [rec for rec in latest.values() if item_key(rec.arxiv_id) not in existing] if add_new else []
    _insert_new(conn, fresh, now, result)
    changed: list[tuple[PaperRecord, Row]] = []
    added_meta: list[dict[str, object]] = []
    seen: list[int] = []
    for rec in latest.values():
        row = existing.get(item_key(rec.arxiv_id))
        if row is None:
            continue
        result.ids[rec.arxiv_id] = row.id
        if row.paper_of is None:
            added_meta.append(_paper_row(rec, row.id, now))  # an outline link, resolved for the first time
            result.updated += 1
        elif says_more(rec, row):
            changed.append((rec, row))
            result.updated += 1
        else:
            result.unchanged += 1
            if rec.announce_type is None:
                seen.append(row.id)
    dbmod.bulk_insert(conn, paper_t, added_meta)
    _update_versions(conn, changed, now)
    _mark_seen(conn, seen, now)

    fetched_ids = {result.ids[rec.arxiv_id] for rec in fresh}
    fetched_ids.update(row.id for row in existing.values() if row.source == "arxiv")
    _tag(conn, latest, result.ids, fetched_ids, {result.ids[r.arxiv_id] for r in fresh}, query_slug, classifier)
    return result


def says_more(rec: PaperRecord, row: Row) -> bool:
    """Whether a record tells more than the stored paper `row`: a later version, or new metadata at the same one.

    At the same version only the API's records count (arXiv adds a journal reference or DOI without
    a new version); a feed's carry less than the API's, and their time is the announcement's.
    """
    if rec.version != row.version:
        return rec.version > row.version
    if row.title is None:
        return bool(rec.title)  # stored before arXiv's titles were kept
    if rec.announce_type is not None:
        return False
    if rec.updated is not None and row.updated is not None and rec.updated > row.updated:
        return True
    return (rec.title, rec.abstract, _authors(rec), json.dumps(list(rec.categories)), rec.doi, rec.journal_ref,
            rec.comment) != (row.title, row.abstract, row.authors, row.categories, row.doi, row.journal_ref,
                             row.comment)


def _authors(rec: PaperRecord) -> str:
    return json.dumps(list(rec.authors), ensure_ascii=False)


def _insert_new(conn: Connection, fresh: list[PaperRecord], now: datetime, result: StoreResult) -> None:
    if not fresh:
        return
    dbmod.bulk_insert(conn, item_t, [dict(
        key=item_key(rec.arxiv_id), url=rec.abs_url, arxiv_id=rec.arxiv_id, title=rec.title, kind="paper",
        status="inbox", source="arxiv", section="", position=0, retired=False, notes="", added_at=now,
    ) for rec in fresh])
    by_key = {item_key(rec.arxiv_id): rec for rec in fresh}
    for chunk in dbmod.chunks(list(by_key), CHUNK):
        for item_id, key in conn.execute(select(item_t.c.id, item_t.c.key).where(item_t.c.key.in_(chunk))):
            result.ids[by_key[key].arxiv_id] = item_id
    dbmod.bulk_insert(conn, paper_t, [_paper_row(rec, result.ids[rec.arxiv_id], now) for rec in fresh])
    result.new += len(fresh)


def _update_versions(conn: Connection, changed: list[tuple[PaperRecord, Row]], now: datetime) -> None:
    """Store what arXiv says now; a fetched paper's title follows it, a curated one's does not.

    An API record replaces the whole record. A feed's `replace` announcement carries only the new
    version's title, abstract and time, so only those change (the DOI and journal reference stay).
    """
    if not changed:
        return
    full = [(rec, row) for rec, row in changed if rec.announce_type is None]
    if full:
        names = [c for c in _paper_row(full[0][0], 0, now) if c not in ("item_id", "arxiv_id")]
        _update(conn, names, [{**_paper_row(rec, row.id, now), "item_id": row.id} for rec, row in full])
    newer = [(rec, row) for rec, row in changed if rec.announce_type is not None and rec.version > row.version]
    _update(conn, ["version", "title", "abstract", "updated", "fetched_at"], [dict(
        item_id=row.id, version=rec.version, title=rec.title, abstract=rec.abstract, updated=rec.updated,
        fetched_at=now) for rec, row in newer])
    titled = [(rec, row) for rec, row in changed if rec.announce_type is not None and rec.version <= row.version]
    _update(conn, ["title"], [dict(item_id=row.id, title=rec.title) for rec, row in titled])
    titles = [{"b_id": row.id, "b_title": rec.title} for rec, row in changed if row.source == "arxiv" and rec.title]
    if titles:
        conn.execute(update(item_t).where(item_t.c.id == bindparam("b_id")).values(title=bindparam("b_title")),
                     titles)


def _update(conn: Connection, names: list[str], rows: list[dict[str, object]]) -> None:
    """Set the columns `names` of the paper rows given by `item_id` (one statement for all)."""
    if not rows:
        return
    statement = (update(paper_t).where(paper_t.c.item_id == bindparam("b_item_id"))
                 .values({name: bindparam("b_" + name) for name in names}))
    conn.execute(statement, [{"b_" + k: v for k, v in row.items() if k in names or k == "item_id"} for row in rows])


def _mark_seen(conn: Connection, item_ids: list[int], now: datetime) -> None:
    """Papers the API described unchanged were still checked now: the weekly version check can skip them."""
    for chunk in dbmod.chunks(item_ids, CHUNK):
        conn.execute(update(paper_t).where(paper_t.c.item_id.in_(chunk)).values(fetched_at=now))


def _tag(conn: Connection, latest: dict[str, PaperRecord], ids: dict[str, int], fetched: set[int],
         new: set[int], query_slug: str | None, classifier: Classifier | None) -> None:
    """Tag fetched papers with the topic that found them, and new ones by the classifier too."""
    targets = sorted(fetched)
    if not targets or (query_slug is None and (classifier is None or not new)):
        return
    present: set[tuple[int, str]] = set()
    for chunk in dbmod.chunks(targets, CHUNK):
        present.update(conn.execute(select(tag_t.c.item_id, tag_t.c.slug).where(tag_t.c.item_id.in_(chunk))))
    rows: list[dict[str, object]] = []

    def add(item_id: int, slug: str, origin: str, score: float) -> None:
        if (item_id, slug) not in present:
            present.add((item_id, slug))
            rows.append(dict(item_id=item_id, slug=slug, origin=origin, score=score))

    for arxiv_id, rec in latest.items():
        item_id = ids[arxiv_id]
        if item_id not in fetched:
            continue
        if query_slug is not None:
            add(item_id, query_slug, "query", 1.0)
        if classifier is not None and item_id in new:
            for slug, score in classifier.tags(f"{rec.title}. {rec.abstract}"):
                add(item_id, slug, "auto", score)
    dbmod.bulk_insert(conn, tag_t, rows)


@dataclass(frozen=True)
class MoveResult:
    """What `papers accept` or `papers dismiss` did."""

    changed: int
    unchanged: int


def move(conn: Connection, refs: Sequence[str], to: str, at: datetime) -> MoveResult:
    """Accept papers into the reading list (`unread`) or dismiss them for good; each move is an event."""
    from tracker.items import refresh_item_status

    if to not in ("unread", "dismissed"):
        raise UsageError(f"papers can be moved to unread or dismissed, not {to!r}")
    ids = list(dict.fromkeys(dbmod.resolve_item(conn, ref) for ref in refs))
    rows = {r.id: r for r in conn.execute(select(item_t.c.id, item_t.c.status, item_t.c.source, item_t.c.title)
                                          .where(item_t.c.id.in_(ids)))}
    changed = 0
    for item_id in ids:
        row = rows[item_id]
        if row.source != "arxiv":
            raise UsageError(f"#{item_id} is curated in an outline, not a fetched paper; use `tracker mark`")
        wanted = {"unread": ("inbox", "dismissed"), "dismissed": ("inbox", "unread")}[to]
        if row.status not in wanted:
            continue  # already moved, or the learner has started it: leave it
        conn.execute(event_t.insert().values(item_id=item_id, status=to, at=at, note=None))
        refresh_item_status(conn, item_id)
        changed += 1
    return MoveResult(changed=changed, unchanged=len(ids) - changed)
