"""Exports: JSON and CSV for scripts and spreadsheets, Markdown that imports back with its statuses."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from tracker.errors import UsageError
from tracker.store import db as dbmod
from tracker.store.models import Event, Outline, Paper
from tracker.store.states import STATUSES
from tracker.timeutil import iso_local

item_t = dbmod.item_t
event_t = Event.__table__  # type: ignore[attr-defined]
outline_t = Outline.__table__  # type: ignore[attr-defined]
paper_t = Paper.__table__  # type: ignore[attr-defined]

CSV_COLUMNS = ("id", "title", "url", "kind", "status", "topics", "section", "arxiv_id", "outline",
               "added_at", "started_at", "digested_at", "notes")


def _rows(conn: Connection, arxiv_titles: bool = False) -> list[dict[str, Any]]:
    """Every live item; with `arxiv_titles` a paper takes arXiv's title (its own kept as `curated_title`)."""
    query = (select(item_t, outline_t.c.name.label("outline"), paper_t.c.title.label("arxiv_title"))
             .select_from(item_t.outerjoin(outline_t, outline_t.c.id == item_t.c.outline_id)
                          .outerjoin(paper_t, paper_t.c.item_id == item_t.c.id))
             .where(item_t.c.status.in_(STATUSES), item_t.c.retired.is_(False))
             .order_by(item_t.c.outline_id.is_(None), item_t.c.outline_id, item_t.c.position, item_t.c.id))
    tags = dbmod.item_topics(conn)
    out = []
    for row in conn.execute(query).mappings():
        record = dict(row)
        record["topics"] = tags.get(record["id"], [])
        arxiv_title = record.pop("arxiv_title")
        if arxiv_titles and arxiv_title:
            record["curated_title"], record["title"] = record["title"], arxiv_title
        for name in ("added_at", "started_at", "digested_at", "status_at"):
            record[name] = iso_local(record[name])
        out.append(record)
    return out


def export_json(conn: Connection, with_text: bool = False) -> str:
    """Every item with its topics and full status history; `with_text`, its kept page text too (or null)."""
    from tracker.store.pagetext import all_texts

    texts = all_texts(conn) if with_text else {}
    history: dict[int, list[dict[str, object]]] = defaultdict(list)
    for e in conn.execute(select(event_t).order_by(event_t.c.item_id, event_t.c.at, event_t.c.id)):
        history[e.item_id].append({"status": e.status, "at": iso_local(e.at), "note": e.note})
    items = []
    for record in _rows(conn, arxiv_titles=True):
        record["history"] = history.get(record["id"], [])
        if with_text:
            record["text"] = texts.get(record["id"])
        items.append(record)
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def export_csv(conn: Connection) -> str:
    """One row per item, topics joined by `;`; no cell a spreadsheet would run as a formula.

    Rows end in CRLF, as RFC 4180 has them: the csv module quotes only cells holding a character
    of the row ending, and a bare CR inside an unquoted cell would split its row.
    """
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for record in _rows(conn, arxiv_titles=True):
        row = {**record, "topics": ";".join(record["topics"])}
        writer.writerow({name: csv_cell(value) for name, value in row.items()})
    return buffer.getvalue()


# OWASP's rule against CSV injection: a cell starting with one of these is read as a formula by
# spreadsheets, so it is written after a `'`, which they show as text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell's value, a string that a spreadsheet would take for a formula prefixed with `'`."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


# What Markdown, or the outline reader after it, could take for markup in a title or heading:
# emphasis, code, links and images, HTML and entities, a heading's closing `#`s. CommonMark lets a
# backslash stand before any ASCII punctuation, so each is written escaped and reads back as itself.
_MD_SPECIAL_RE = re.compile(r"([\\`*_\[\]<>&#])")
_MD_URL_RE = re.compile(r"[\\()<> ]")


def md_escape(text: str) -> str:
    """Text that Markdown reads back as exactly `text`, never as markup."""
    return _MD_SPECIAL_RE.sub(r"\\\1", text)


def _md_url(url: str) -> str:
    """A link destination that Markdown reads back as `url`."""
    return _MD_URL_RE.sub(lambda m: "%20" if m.group() == " " else "\\" + m.group(), url)


def _entry_line(record: dict[str, Any]) -> str:
    box = "[x]" if record["status"] == "digested" else "[ ]"
    title = record["title"]
    if record["url"]:
        return f"- {box} [{md_escape(title)}]({_md_url(record['url'])})"
    if record["kind"] == "book" and title.startswith("《"):
        return f"- {box} {md_escape(title)}"
    return f"- {box} [{md_escape(title)}]"


def export_markdown(conn: Connection) -> str:
    """The outline again: its headings and entries with `[x]` boxes, then per-topic percentages."""
    from tracker.report.progress import compute_progress

    lines: list[str] = []
    current: list[str] = []
    for record in _rows(conn):
        path = [p for p in record["section"].split(" / ") if p] if record["section"] else []
        if path != current:
            keep = 0
            while keep < min(len(path), len(current)) and path[keep] == current[keep]:
                keep += 1
            for depth in range(keep, len(path)):
                lines += ["", "#" * min(depth + 1, 6) + " " + md_escape(path[depth]), ""]
            current = path
        lines.append(_entry_line(record))
    progress = compute_progress(conn)
    # The percentages as an indented code block: shown as written, and never read back as entries
    # (a topic named after a 《book》 would otherwise come back as one).
    lines += ["", "## Progress", ""]
    last_group = None
    for topic in progress.topics:
        if last_group is not None and topic.group != last_group:
            lines.append("")
        last_group = topic.group
        lines.append(f"    {topic.title}: {topic.digested}/{topic.total - topic.skipped} digested "
                     f"({topic.percent:.1f}%)")
    lines += ["", f"    Overall: {progress.digested}/{progress.total - progress.skipped} digested "
                  f"({progress.percent:.1f}%)"]
    return "\n".join(lines).lstrip("\n") + "\n"


def export_bibtex(conn: Connection) -> str:
    """BibTeX entries for the papers on the reading list, with arXiv's eprint fields."""
    from tracker.bibtex import PaperRef, render

    query = (select(item_t.c.id, item_t.c.title, item_t.c.arxiv_id, item_t.c.url, paper_t.c.authors,
                    paper_t.c.published, paper_t.c.primary_category, paper_t.c.doi, paper_t.c.journal_ref,
                    paper_t.c.version, paper_t.c.title.label("arxiv_title"))
             .select_from(item_t.outerjoin(paper_t, paper_t.c.item_id == item_t.c.id))
             .where(item_t.c.arxiv_id.is_not(None), item_t.c.status.in_(STATUSES), item_t.c.retired.is_(False))
             .order_by(item_t.c.outline_id.is_(None), item_t.c.outline_id, item_t.c.position, item_t.c.id))
    # arXiv's title is the paper's; the learner's own words for it go to `note`.
    refs = [PaperRef(arxiv_id=r.arxiv_id, title=r.arxiv_title or r.title,
                     authors=tuple(json.loads(r.authors or "[]")),
                     year=r.published.year if r.published else _year_of(r.arxiv_id),
                     primary_category=r.primary_category, doi=r.doi, journal_ref=r.journal_ref,
                     curated_title=r.title if r.arxiv_title and r.arxiv_title != r.title else None)
            for r in conn.execute(query)]
    return render(refs)


def _year_of(arxiv_id: str) -> int | None:
    """The year a new-style id (YYMM.NNNNN) or old-style id (archive/YYMMNNN) was issued."""
    digits = arxiv_id.split("/")[-1]
    if len(digits) >= 4 and digits[:2].isdigit():
        yy = int(digits[:2])
        return (1900 if yy >= 91 else 2000) + yy
    return None


def exporter(fmt: str) -> Callable[[Connection], str]:
    """The export function for a format name."""
    formats: dict[str, Callable[[Connection], str]] = {
        "json": export_json, "csv": export_csv, "markdown": export_markdown, "md": export_markdown,
        "bibtex": export_bibtex, "bib": export_bibtex,
    }
    if fmt not in formats:
        raise UsageError(f"unknown export format {fmt!r}: use json, csv, markdown or bibtex")
    return formats[fmt]
