"""CSDN blog articles and their category and list pages.

Articles live at blog.csdn.net/<user>/article/details/<id>; listings (category_N.html,
article/list, column pages) link to articles, which become child items. CSDN also answers
bots with a 200 page that holds only a verification script: that is `blocked`.
"""

from __future__ import annotations

import re

from tracker.crawl.sites import Extracted, Page
from tracker.crawl.sites.generic import describe
from tracker.crawl.sites.html import Doc, parse, script_challenge, to_int
from tracker.crawl.sites.listing import article_links

NAME = "csdn"
_HOST = re.compile(r"^https?://(?:[\w-]+\.)?(?:blog\.)?csdn\.net/", re.I)
_ARTICLE = re.compile(r"/article/details/\d+", re.I)
_LISTING = re.compile(r"/category_\d+|/article/list|/column/|/nav/|/tag/|^https?://blog\.csdn\.net/[\w-]+/?$", re.I)
_USER = re.compile(r"^https?://blog\.csdn\.net/([^/?#]+)", re.I)
_NICKNAME = re.compile(r"""\bvar\s+nickName\s*=\s*["']([^"'\n]{1,60})["']""")
_CHALLENGE = ("安全验证", "请完成验证", "访问验证", "_waf_", "wafer", "captcha", "滑动验证")


def matches(url: str) -> bool:
    """CSDN blog URLs."""
    return bool(_HOST.match(url))


def owners(doc: Doc) -> list[str]:
    """The names a blog's owner goes by in its titles: the user id in the URL and the nickname on the page."""
    names = []
    user = _USER.match(doc.page.final_url) or _USER.match(doc.page.url)
    if user:
        names.append(user.group(1))
    for query in ('//a[contains(@class,"follow-nickName")]', '//*[contains(@class,"user-profile-head-name")]/div'):
        nickname = doc.first_text(query)
        if nickname:
            names.append(nickname)
    # Article and listing pages name their owner in a script too; a match found in the first
    # 200 KB is enough (the variable sits near the top).
    found = _NICKNAME.search(doc.html[:200_000]) if doc.tree is not None else None
    if found:
        names.append(found.group(1))
    return names


def extract(page: Page) -> Extracted:
    """An article's title, tags, date and views; or a listing's article links."""
    doc = parse(page)
    title, meta, text = describe(doc, owners(doc))
    h1 = doc.first_text('//h1[@id="articleContentId"]') or doc.first_text('//h1[contains(@class,"title-article")]')
    listing = bool(_LISTING.search(page.final_url)) and not _ARTICLE.search(page.final_url)
    wall = script_challenge(doc, text)
    if wall:
        return Extracted(title=None, meta=meta, text="", blocked=f"csdn {wall}")
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
