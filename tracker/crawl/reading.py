"""Reading fetched pages: the site extractor, the wall checks and the topic classifier.

Pure functions of a response; what they return is all the database needs to record the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from tracker.crawl.fetcher import Response

# Redirects to these paths mean the site wants a login (or a human check) before it shows the page.
_LOGIN = ("/login", "/signin", "/sign_in", "/passport", "/account/unhuman", "/accounts/login")


@dataclass(frozen=True)
class Outcome:
    """A response read by its site's extractor: what gets stored."""

    state: str
    http_status: int | None
    final_url: str
    error: str | None
    title: str | None
    meta: dict[str, Any]
    text: str  # the page's whole readable text
    children: tuple[Any, ...]
    tags: tuple[tuple[str, float], ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    cause: str | None = None  # the fetcher's: "offline" or "nxdomain"


LOGIN_EXPIRED = "login expired"
# The opening of a page's text goes with its fetch record and to the classifier: enough to tell its
# topics, now and when classifying again later. The whole text is kept apart (tracker.store.pagetext).
OPENING = 3_000


def interpret(url: str, is_child: bool, response: Response) -> Outcome:
    """Decide an item's state from the response and its site's extractor (walls count as blocked)."""
    from tracker.crawl.sites import Page, site_for

    site = site_for(url)
    page = Page(url=url, final_url=response.final_url, status=response.http_status,
                headers=response.headers, body=response.body, charset=response.charset)
    state, error = response.state, response.error
    title, meta, text, children = None, {}, "", ()
    if state == "ok" and any(marker in response.final_url.lower() for marker in _LOGIN) and \
            response.final_url != response.url:
        state, error = "blocked", "redirected to a sign-in page"
    elif state == "ok":
        try:
            extracted = site.extract(page)
        except RecursionError:
            extracted = None
            state, error = "error", "page too deeply nested to read"
        if extracted is not None:
            title, meta, text, children = extracted.title, extracted.meta, extracted.text, extracted.children
            if extracted.blocked:
                state, error = "blocked", extracted.blocked
    elif state in ("blocked", "gone", "error") and hasattr(site, "blocked_status"):
        reason = site.blocked_status(page)
        if reason:
            state, error = "blocked", reason
    walled = state == "blocked" and (error != response.error or response.http_status in (401, 403))
    if walled and response.login:
        # The learner's own cookies went with the request, and the site still put its wall up.
        error = LOGIN_EXPIRED
    if is_child:
        children = ()  # one level deep: an article found on a listing does not bring its own links
    return Outcome(state=state, http_status=response.http_status, final_url=response.final_url, error=error,
                   title=title, meta=meta, text=text, children=children, etag=response.headers.get("etag"),
                   last_modified=response.headers.get("last-modified"), cause=response.cause)


_classifier: Any = None


def start_reader(topic_defs: Sequence[Any]) -> None:
    """Build the classifier `read_page` uses, once per crawl."""
    global _classifier
    from tracker.topics import Classifier

    _classifier = Classifier(topic_defs) if topic_defs else None


def read_page(url: str, is_child: bool, response: Response, classify: bool) -> Outcome:
    """Interpret a response and, for an item no topic claims yet, suggest topics from what the page says."""
    outcome = interpret(url, is_child, response)
    if not classify or outcome.state != "ok" or _classifier is None:
        return outcome
    description = str(outcome.meta.get("description") or "")
    tags = _classifier.tags(" ".join([outcome.title or "", description])) or _classifier.tags(outcome.text[:OPENING])
    return replace(outcome, tags=tuple(tags))


def failed(final_url: str, reason: str, http_status: int | None = None) -> Outcome:
    """The outcome of a page that could not be read at all."""
    return Outcome(state="error", http_status=http_status, final_url=final_url, error=reason[:200], title=None,
                   meta={}, text="", children=())


def read_safely(url: str, is_child: bool, response: Response, classify: bool) -> Outcome:
    """`read_page`, with an extractor's bug recorded as this page's error instead of ending the crawl."""
    try:
        return read_page(url, is_child, response, classify)
    except Exception as exc:
        return failed(response.final_url, f"reading failed: {type(exc).__name__}: {exc}", response.http_status)
