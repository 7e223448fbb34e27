"""Any HTML page: title, Open Graph, Twitter, citation_*, Dublin Core, JSON-LD, dates, text length."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urljoin

from tracker.crawl.sites import Extracted, Page
from tracker.crawl.sites.html import (
    Doc,
    clean_title,
    head_tags,
    ld_value,
    main_text,
    parse,
    person_names,
    reading_stats,
    script_challenge,
)

NAME = "generic"


def matches(url: str) -> bool:
    """Every page."""
    return True


def _first(meta: dict[str, str], *keys: str) -> str | None:
    return next((meta[k] for k in keys if meta.get(k)), None)


def describe(doc: Doc, owners: Sequence[str] = ()) -> tuple[str | None, dict[str, object], str]:
    """Title, metadata and main text of any page: the part every site extractor starts from.

    `owners`: names of the blog's owner, cut from the title's `…_NAME的博客` suffix (see `clean_title`).
    """
    head = head_tags(doc)
    meta, ld = head["meta"], head["ld"]
    site = _first(meta, "og:site_name", "application-name")
    ld_title = ld_value(ld, "headline", "name")
    title = (_first(meta, "citation_title", "dc.title", "og:title", "twitter:title")
             or (ld_title if isinstance(ld_title, str) else None)
             or clean_title(head["title"], site, owners) or doc.first_text("//h1"))
    authors = head["authors"] or person_names(ld_value(ld, "author", "creator"))
    text = main_text(doc)
    canonical = head["links"].get("canonical")
    out: dict[str, object] = {
        "description": _first(meta, "description", "og:description", "twitter:description", "dc.description"),
        "site_name": site,
        "type": _first(meta, "og:type") or ld_value(ld, "@type"),
        "image": _first(meta, "og:image", "twitter:image"),
        "canonical_url": urljoin(doc.page.final_url, canonical) if canonical else None,
        "language": head["lang"] or doc.page.headers.get("content-language") or _first(meta, "og:locale",
                                                                                        "dc.language"),
        "authors": authors,
        "published": _first(meta, "article:published_time", "citation_publication_date", "citation_date",
                            "dc.date", "dc.date.issued", "datepublished", "pubdate", "date")
        or ld_value(ld, "datePublished", "dateCreated"),
        "modified": _first(meta, "article:modified_time", "og:updated_time", "dc.date.modified", "datemodified")
        or ld_value(ld, "dateModified"),
        "keywords": [k.strip() for k in (_first(meta, "keywords", "citation_keywords") or "").replace("，", ",")
                     .split(",") if k.strip()],
        "doi": _first(meta, "citation_doi", "dc.identifier"),
        "pdf_url": _first(meta, "citation_pdf_url"),
        "journal": _first(meta, "citation_journal_title", "citation_conference_title"),
        "twitter_card": _first(meta, "twitter:card"),
        **reading_stats(text),
    }
    kept = {k: v for k, v in out.items() if v not in (None, [], "")}
    return (clean_title(title, site, owners) if title else None), kept, text


def extract(page: Page) -> Extracted:
    """Generic metadata of any HTML page; a page that is only a script challenge is blocked."""
    doc = parse(page)
    title, meta, text = describe(doc)
    wall = script_challenge(doc, text)
    if wall:
        return Extracted(title=None, meta=meta, text="", blocked=wall)
    return Extracted(title=title, meta=meta, text=text)
