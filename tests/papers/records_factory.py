"""Paper records for storage and ranking tests (the Atom/RSS builders live beside the source tests)."""

from __future__ import annotations

from datetime import datetime

from tracker.papers.records import PaperRecord


def record(arxiv_id: str, version: int = 1, title: str | None = None, abstract: str = "An abstract.",
           published: datetime | None = None, updated: datetime | None = None,
           categories: tuple[str, ...] = ("cs.LG",), authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing"),
           announce_type: str | None = None) -> PaperRecord:
    """A paper record with sensible defaults."""
    published = published or datetime(2026, 11, 20, 12, 0)
    return PaperRecord(
        arxiv_id=arxiv_id, version=version, title=title or f"Paper {arxiv_id}", authors=authors,
        abstract=abstract, categories=categories, primary_category=categories[0], published=published,
        updated=updated or published, doi=None, journal_ref=None, comment=None,
        abs_url=f"https://arxiv.org/abs/{arxiv_id}", pdf_url=f"https://arxiv.org/pdf/{arxiv_id}v{version}",
        announce_type=announce_type,
    )
