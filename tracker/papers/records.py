"""The values the arXiv sources produce, before anything is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PaperRecord:
    """One paper as arXiv describes it, at one version. Times are naive UTC."""

    arxiv_id: str  # base id, without version: 2401.01234 or hep-th/9901001
    version: int
    title: str
    authors: tuple[str, ...]
    abstract: str
    categories: tuple[str, ...]
    primary_category: str | None
    published: datetime | None
    updated: datetime | None
    doi: str | None
    journal_ref: str | None
    comment: str | None
    abs_url: str
    pdf_url: str | None
    announce_type: str | None = None  # feeds only: new, cross, replace, replace-cross
