"""Site extractors: one module per site, chosen by URL, each turning a fetched page into values.

Every module has `NAME`, `matches(url)` and `extract(page) -> Extracted`; `generic` matches
everything and goes last. GitHub repositories are read through the REST API instead of their
HTML page, so `api_call` says which request to send for a URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType

from tracker.config import Endpoints


@dataclass(frozen=True)
class Page:
    """A fetched page as the extractors see it."""

    url: str
    final_url: str
    status: int | None
    headers: Mapping[str, str]
    body: bytes
    charset: str | None


@dataclass(frozen=True)
class Child:
    """An article linked from a listing page."""

    url: str
    title: str


@dataclass(frozen=True)
class Extracted:
    """What a page says about itself. `blocked` is a reason when a 200 page is really a wall."""

    title: str | None
    meta: dict[str, object]
    text: str  # the readable main text, whole (the crawl keeps up to 1 MB of it for reading offline)
    blocked: str | None = None
    children: tuple[Child, ...] = ()


@dataclass(frozen=True)
class ApiCall:
    """A request to send instead of fetching the page itself."""

    url: str
    headers: tuple[tuple[str, str], ...]


def _modules() -> list[ModuleType]:
    from tracker.crawl.sites import cnblogs, csdn, generic, github, zhihu

    return [zhihu, csdn, cnblogs, github, generic]


def site_for(url: str) -> ModuleType:
    """The extractor module for a URL (generic when no site claims it)."""
    return next(m for m in _modules() if m.matches(url))


def api_call(url: str, endpoints: Endpoints) -> ApiCall | None:
    """The API request that replaces fetching `url`, for sites read through an API."""
    from tracker.crawl.sites import github

    return github.api_call(url, endpoints) if github.matches(url) else None
