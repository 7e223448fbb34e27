"""cnblogs (博客园) posts and their tag, category and list pages.

Posts are www.cnblogs.com/<user>/p/<id>.html (or /archive/YYYY/MM/DD/<id>.html); tags and
categories of a post are often loaded by script later, so only what the page carries is kept.
"""

from __future__ import annotations

import re

from tracker.crawl.sites import Extracted, Page
from tracker.crawl.sites.generic import describe
from tracker.crawl.sites.html import parse, script_challenge
from tracker.crawl.sites.listing import article_links

NAME = "cnblogs"
_HOST = re.compile(r"^https?://(?:www\.)?cnblogs\.com/", re.I)
_POST = re.compile(r"/p/[\w-]+\.html|/archive/\d{4}/\d{1,2}/\d{1,2}/[\w-]+\.html", re.I)


def matches(url: str) -> bool:
    """cnblogs URLs."""
    return bool(_HOST.match(url))


def extract(page: Page) -> Extracted:
    """A post's title, date, author and tags; or a listing page's post links."""
    doc = parse(page)
    title, meta, text = describe(doc)
    wall = script_challenge(doc, text)
    if wall:
        return Extracted(title=None, meta=meta, text="", blocked=f"cnblogs {wall}")
    if not _POST.search(page.final_url):
        meta["listing"] = True
        children = article_links(doc, lambda path: bool(_POST.search(path)))
        return Extracted(title=title, meta=meta, text=text, children=children)
    post_title = (doc.first_text('//*[@id="cb_post_title_url"]') or doc.first_text('//a[contains(@class,"postTitle2")]')
                  or doc.first_text('//h1[contains(@class,"postTitle")]') or title)
    user = re.match(r"^https?://(?:www\.)?cnblogs\.com/([^/]+)/", page.final_url)
    tag_links = doc.xpath('//*[@id="EntryTag"]//a | //*[@id="BlogPostCategory"]//a')
    tags = [" ".join(a.text_content().split()) for a in tag_links]
    meta.update({k: v for k, v in {
        "kind": "article", "published": doc.first_text('//*[@id="post-date"]') or meta.get("published"),
        "authors": meta.get("authors") or ([user.group(1)] if user else None),
        "tags": [t for t in dict.fromkeys(tags) if t],
    }.items() if v not in (None, [])})
    return Extracted(title=post_title, meta=meta, text=text)
