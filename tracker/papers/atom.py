"""Parsing arXiv's Atom responses (API) into paper records, with lxml, strictly.

Strict on purpose: the `arxiv` package's own parser (4.x) reads with lxml's recover mode and
skips entries without `<published>`, so a truncated page looks like a short one and the API's
error entry disappears; here both are errors the caller retries and reports. feedparser is also
much slower on a large page (bench/bench_papers.py prints both).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from tracker.papers.records import PaperRecord

A = "{http://www.w3.org/2005/Atom}"
X = "{http://arxiv.org/schemas/atom}"
OS = "{http://a9.com/-/spec/opensearch/1.1/}"
_ID = re.compile(r"arxiv\.org/abs/(?P<id>[a-z\-]+(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5})(?:v(?P<v>\d+))?$", re.I)


class XmlElement(Protocol):
    """What the readers use of an lxml XML element (lxml's own element class is private)."""

    @property
    def text(self) -> str | None: ...

    def find(self, path: str) -> XmlElement | None: ...

    def findtext(self, path: str) -> str | None: ...

    def iterfind(self, path: str) -> Iterator[XmlElement]: ...

    def get(self, key: str) -> str | None: ...


class AtomError(Exception):
    """The response is not an arXiv Atom document, or arXiv reported an error in it."""


@dataclass(frozen=True)
class Page:
    """One page of API results."""

    records: list[PaperRecord]
    total: int | None
    start: int | None
    entries: int  # entries on the page, including any that could not be read


def text_of(el: XmlElement | None) -> str:
    """Whitespace-collapsed text of an element; empty for a missing one."""
    return " ".join(((el.text if el is not None else None) or "").split())


def parse_time(value: str | None) -> datetime | None:
    """An Atom/ISO time as naive UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def split_id(entry_id: str) -> tuple[str, int] | None:
    """(base id, version) of an entry id such as http://arxiv.org/abs/2401.01234v2."""
    match = _ID.search(entry_id.strip())
    if not match:
        return None
    return match.group("id"), int(match.group("v") or 1)


def parse_page(content: bytes) -> Page:
    """Records of an API response page; AtomError for a non-Atom body or arXiv's error entry."""
    from lxml import etree

    try:
        root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False, no_network=True,
                                                                huge_tree=True))
    except etree.XMLSyntaxError as exc:
        raise AtomError(f"malformed Atom: {exc}") from None
    if root.tag != A + "feed":
        raise AtomError(f"not an Atom feed (root element {etree.QName(root).localname})")
    records, entries = [], 0
    for entry in root.iterfind(A + "entry"):
        entries += 1
        entry_id = text_of(entry.find(A + "id"))
        if "/api/errors" in entry_id:
            raise AtomError("arXiv error: " + (text_of(entry.find(A + "summary")) or entry_id))
        record = _record(entry, entry_id)
        if record is not None:
            records.append(record)
    return Page(records=records, total=_int(root.find(OS + "totalResults")),
                start=_int(root.find(OS + "startIndex")), entries=entries)


def _int(el: XmlElement | None) -> int | None:
    text = text_of(el)
    return int(text) if text.isdigit() else None


def _record(entry: XmlElement, entry_id: str) -> PaperRecord | None:
    ids = split_id(entry_id)
    if ids is None:
        return None
    base, version = ids
    find = entry.find
    pdf = None
    for link in entry.iterfind(A + "link"):
        if link.get("title") == "pdf" or link.get("type") == "application/pdf":
            pdf = link.get("href")
    primary = find(X + "primary_category")
    categories = tuple(term for c in entry.iterfind(A + "category") if (term := c.get("term")))
    return PaperRecord(
        arxiv_id=base, version=version, title=text_of(find(A + "title")),
        authors=tuple(text_of(a.find(A + "name")) for a in entry.iterfind(A + "author")),
        abstract=text_of(find(A + "summary")), categories=categories,
        primary_category=primary.get("term") if primary is not None else (categories[0] if categories else None),
        published=parse_time(text_of(find(A + "published"))), updated=parse_time(text_of(find(A + "updated"))),
        # The API writes arxiv:doi and arxiv:journal_ref; the manual's prose also names arxiv:DOI and
        # arxiv:journal_reference, so either spelling is read.
        doi=text_of(find(X + "doi")) or text_of(find(X + "DOI")) or None,
        journal_ref=text_of(find(X + "journal_ref")) or text_of(find(X + "journal_reference")) or None,
        comment=text_of(find(X + "comment")) or None, abs_url=f"https://arxiv.org/abs/{base}", pdf_url=pdf,
    )
