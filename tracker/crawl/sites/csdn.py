"""CSDN blog articles and their category and list pages.

Articles live at blog.csdn.net/<user>/article/details/<id>; listings (category_N.html,
article/list, column pages) link to articles, which become child items. CSDN also answers
bots with a 200 page that holds only a verification script: that is `blocked`.
"""

from __future__ import annotations

import re

from tracker.crawl.sites import Extracted, Page
from tracker.crawl.sites.generic import describe
from tracker.crawl.sites.html import parse, to_int
from tracker.crawl.sites.listing import article_links

NAME = "csdn"
_HOST = re.compile(r"^https?://(?:[\w-]+\.)?(?:blog\.)?csdn\.net/", re.I)
_ARTICLE = re.compile(r"/article/details/\d+", re.I)
_LISTING = re.compile(r"/category_\d+|/article/list|/column/|/nav/|/tag/|^https?://blog\.csdn\.net/[\w-]+/?$", re.I)
_CHALLENGE = ("安全验证", "请完成验证", "访问验证", "_waf_", "wafer", "captcha", "滑动验证")


def matches(url: str) -> bool:
    """CSDN blog URLs."""
    return bool(_HOST.match(url))


def extract(page: Page) -> Extracted:
    """An article's title, tags, date and views; or a listing's article links."""
    doc = parse(page)
    title, meta, text = describe(doc)
    h1 = doc.first_text('//h1[@id="articleContentId"]') or doc.first_text('//h1[contains(@class,"title-article")]')
    listing = bool(_LISTING.search(page.final_url)) and not _ARTICLE.search(page.final_url)
    if not h1 and not listing and (len(text) < 400 and any(m in doc.html for m in _CHALLENGE)):
        return Extracted(title=None, meta=meta, text="", blocked="csdn verification page")
    if listing:
        meta["listing"] = True
        children = article_links(doc, lambda path: bool(_ARTICLE.search(path)))
        return Extracted(title=title, meta=meta, text=text, children=children)
    tags = [t for t in (" ".join(x.text_content().split()) for x in doc.xpath('//a[contains(@class,"tag-link")]'))
            if t]
    date = doc.first_text('//span[contains(@class,"time")]')
    if date:
        found = re.search(r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?", date)
        date = found.group(0) if found else date
    author = doc.first_text('//a[contains(@class,"follow-nickName")]')
    meta.update({k: v for k, v in {
        "kind": "article", "tags": list(dict.fromkeys(tags)), "published": date or meta.get("published"),
        "authors": [author] if author else meta.get("authors"),
        "view_count": to_int(doc.first_text('//span[contains(@class,"read-count")]')),
    }.items() if v not in (None, [])})
    return Extracted(title=h1 or title, meta=meta, text=text)
