"""Article links of a listing page: absolute, same host, de-duplicated, in page order, bounded.

A listing entry often wraps its title, summary, date and counts in one link, or links the same
article from a thumbnail, its title and a "read more" button. A child's title is the entry's own
title element (a heading, or an element whose class names a title) where the link holds or sits
in one; else the link's text, a short one winning over an empty one or a "read more".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from tracker.crawl.sites import Child
from tracker.crawl.sites.html import Doc

if TYPE_CHECKING:
    from lxml.html import HtmlElement

# Far more than any caller keeps (50 by default): enough to survive duplicates, never 50,000.
MAX_SCANNED = 500
# An entry's text beyond this is its summary too, not a title.
MAX_TITLE = 120
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Labels sites put inside a title element: CSDN's 原创/转载 type and its 试读 trial tags.
_BADGE = re.compile(r"article-type|badge|tag", re.I)
_TITLE_CLASS = re.compile(r"title", re.I)
_NOT_TITLES = frozenset({"阅读全文", "阅读更多", "查看全文", "继续阅读", "全文", "更多", "read more", "more",
                         "continue reading", "read the rest", "»", "..."})
# How good a title is: from a title element, a short link text, the link's title attribute, a long one.
_FROM_ELEMENT, _SHORT, _ATTRIBUTE, _LONG, _NONE = 4, 3, 2, 1, 0


def _is_title(el: HtmlElement) -> bool:
    return el.tag in _HEADINGS or bool(_TITLE_CLASS.search(el.get("class") or ""))


def _text(el: HtmlElement) -> str:
    """An element's text without the badges inside it."""
    if not any(_BADGE.search(b.get("class") or "") for b in el.iterdescendants() if isinstance(b.tag, str)):
        return " ".join(el.text_content().split())
    import copy

    clean = copy.deepcopy(el)
    for badge in [b for b in clean.iterdescendants() if isinstance(b.tag, str) and _BADGE.search(b.get("class") or "")]:
        if badge.getparent() is not None:
            badge.drop_tree()  # keeps the text that follows the badge
    return " ".join(clean.text_content().split())


def _title_element(a: HtmlElement) -> HtmlElement | None:
    """The innermost title element inside the link, else the nearest one around it (within a few levels)."""
    inside = next((el for el in a.iterdescendants() if isinstance(el.tag, str) and _is_title(el)), None)
    while inside is not None:
        deeper = next((el for el in inside.iterdescendants() if isinstance(el.tag, str) and _is_title(el)), None)
        if deeper is None:
            return inside
        inside = deeper
    if _is_title(a):
        return a
    for depth, parent in enumerate(a.iterancestors()):
        if depth >= 3 or parent.tag in ("body", "li", "article"):
            break
        if _is_title(parent):
            return a  # the link is the title (inside <h4> or <div class="postTitle">)
    return None


def _title(a: HtmlElement) -> tuple[int, str]:
    """A link's best title and its rank."""
    element = _title_element(a)
    if element is not None:
        text = _text(element)
        if text and text.lower() not in _NOT_TITLES:
            return _FROM_ELEMENT, text[:MAX_TITLE]
    text = _text(a)
    if text and text.lower() not in _NOT_TITLES and len(text) <= MAX_TITLE:
        return _SHORT, text
    attribute = " ".join((a.get("title") or "").split())
    if attribute:
        return _ATTRIBUTE, attribute[:MAX_TITLE]
    if text and text.lower() not in _NOT_TITLES:
        return _LONG, text[:MAX_TITLE]
    return _NONE, ""


def article_links(doc: Doc, is_article: Callable[[str], bool]) -> tuple[Child, ...]:
    """Links on the page that `is_article` accepts (by path), same host as the page, each with its best title."""
    host = (urlsplit(doc.page.final_url).hostname or "").lower()
    seen: dict[str, tuple[int, str]] = {}
    scanned = 0
    for a in doc.xpath("//a[@href]"):
        scanned += 1
        if scanned > MAX_SCANNED * 20 or len(seen) >= MAX_SCANNED:
            break
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        url = urljoin(doc.page.final_url, href).split("#", 1)[0]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() != host:
            continue
        if not is_article(parts.path):
            continue
        best = seen.get(url)
        if best is not None and best[0] >= _FROM_ELEMENT:
            continue
        found = _title(a)
        if best is None or found[0] > best[0]:
            seen[url] = found
    return tuple(Child(url=u, title=t or u) for u, (_, t) in seen.items())
