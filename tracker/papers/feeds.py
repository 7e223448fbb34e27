"""arXiv's daily listing feeds (rss.arxiv.org): what was announced today in some categories.

Each item's description starts with `arXiv:ID Announce Type: new|cross|replace|replace-cross`
before the abstract; the announce type is also given as its own element.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from tracker.papers import http
from tracker.papers.atom import XmlElement, split_id, text_of
from tracker.papers.limiter import Limiter
from tracker.papers.records import PaperRecord

ARXIV_NS = "{http://arxiv.org/schemas/atom}"
DC_NS = "{http://purl.org/dc/elements/1.1/}"
_HEAD = re.compile(r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?", re.I)
_GUID = re.compile(r"oai:arXiv\.org:(?P<id>\S+)$", re.I)


def feed_url(endpoint: str, categories: Sequence[str]) -> str:
    """The feed of several categories at once, as rss.arxiv.org joins them."""
    return endpoint.rstrip("/") + "/" + "+".join(categories)


def parse_feed(content: bytes) -> list[PaperRecord]:
    """The records of an RSS document; an item without an arXiv id is skipped."""
    from lxml import etree

    try:
        root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise http.FetchFailed(f"malformed RSS: {exc}") from None
    if etree.QName(root).localname != "rss":
        raise http.FetchFailed(f"not an RSS feed (root element {etree.QName(root).localname})")
    out = []
    for item in root.iter("item"):
        record = _record(item)
        if record is not None:
            out.append(record)
    return out


def _record(item: XmlElement) -> PaperRecord | None:
    description = " ".join((item.findtext("description") or "").split())
    head = _HEAD.match(description)
    raw_id = head.group("id") if head else ""
    guid = _GUID.search(text_of(item.find("guid")))
    ids = split_id("arxiv.org/abs/" + (raw_id or (guid.group("id") if guid else "")))
    if ids is None:
        return None
    base, version = ids
    announce = text_of(item.find(ARXIV_NS + "announce_type")) or (head.group("type") if head else "") or None
    abstract = description[head.end():] if head else description
    categories = tuple(text_of(c) for c in item.iterfind("category") if text_of(c))
    creators = text_of(item.find(DC_NS + "creator"))
    published = _date(text_of(item.find("pubDate")))
    return PaperRecord(
        arxiv_id=base, version=version, title=text_of(item.find("title")),
        authors=tuple(a.strip() for a in creators.split(",") if a.strip()), abstract=abstract,
        categories=categories, primary_category=categories[0] if categories else None,
        published=published, updated=published, doi=None, journal_ref=None, comment=None,
        abs_url=f"https://arxiv.org/abs/{base}", pdf_url=f"https://arxiv.org/pdf/{base}v{version}",
        announce_type=announce.lower() if announce else None,
    )


def _date(value: str) -> datetime | None:
    try:
        stamp = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return stamp.astimezone(UTC).replace(tzinfo=None) if stamp.tzinfo else stamp


def fetch_feed(categories: Sequence[str], *, endpoint: str, limiter: Limiter, deadline: float = 60.0,
               retries: int = 3) -> tuple[list[PaperRecord], str | None]:
    """Today's announcements in `categories`, and an error line if the feed could not be read; `http.Stop` raised."""
    try:
        with http.client() as client:
            body = http.get(client, feed_url(endpoint, categories), None, limiter, deadline, retries)
        return parse_feed(body.content), None
    except http.Stop:
        raise
    except http.FetchFailed as exc:
        return [], str(exc)
