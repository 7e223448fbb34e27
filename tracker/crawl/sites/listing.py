"""Article links of a listing page: absolute, same host, de-duplicated, in page order, bounded."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

from tracker.crawl.sites import Child
from tracker.crawl.sites.html import Doc

# Far more than any caller keeps (50 by default): enough to survive duplicates, never 50,000.
MAX_SCANNED = 500


def article_links(doc: Doc, is_article: Callable[[str], bool]) -> tuple[Child, ...]:
    """Links on the page that `is_article` accepts (by path), same host as the page."""
    host = (urlsplit(doc.page.final_url).hostname or "").lower()
    seen: dict[str, str] = {}
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
        if not is_article(parts.path) or url in seen:
            continue
        seen[url] = " ".join(a.text_content().split()) or url
    return tuple(Child(url=u, title=t) for u, t in seen.items())
