"""Zhihu questions (www.zhihu.com/question/N) and column articles (zhuanlan.zhihu.com/p/N).

Zhihu renders its data into `<script id="js-initialData">` (entities.questions / entities.articles)
and repeats some of it in `itemprop` meta tags. Its walls: a 403 whose JSON body carries an
error code (40362 and friends), redirects to /account/unhuman or /signin, and 200 pages that
hold none of the question's data.
"""

from __future__ import annotations

import json
import re

from tracker.crawl.sites import Extracted, Page
from tracker.crawl.sites.generic import describe
from tracker.crawl.sites.html import Doc, json_script, parse, to_int

NAME = "zhihu"
_QUESTION = re.compile(r"^https?://(?:www\.)?zhihu\.com/question/(\d+)(?:/answer/\d+)?/?(?:[?#].*)?$", re.I)
_ARTICLE = re.compile(r"^https?://zhuanlan\.zhihu\.com/p/(\d+)/?(?:[?#].*)?$", re.I)
_WALL_URL = re.compile(r"/account/unhuman|/signin|/signup|/login", re.I)
_WALL_TEXT = ("安全验证", "unhuman", "请求存在异常", "系统监测到您的网络环境存在异常")
# Zhihu's own name as a page's whole title ("知乎 - 有问题，就会有答案"): its home and sign-in pages.
_SITE_TITLE = re.compile(r"^\s*知乎\s*(?:[-–—|]|$)")


def matches(url: str) -> bool:
    """Zhihu question and column article URLs."""
    return bool(_QUESTION.match(url) or _ARTICLE.match(url))


def blocked_status(page: Page) -> str | None:
    """Why a non-200 or redirected Zhihu page is a wall, if it is one."""
    if _WALL_URL.search(page.final_url):
        return "zhihu sign-in or anti-bot wall"
    if page.status == 403 and page.body:
        try:
            error = json.loads(page.body.decode("utf-8", "replace")).get("error", {})
        except (ValueError, AttributeError):
            return None
        if isinstance(error, dict) and error.get("code"):
            return f"zhihu refused (error {error['code']})"
    return None


def _entity(data: object, kind: str, key: str) -> dict[str, object]:
    found: object = data
    for step in ("initialState", "entities", kind):
        if not isinstance(found, dict):
            return {}
        found = found.get(step)
    if not isinstance(found, dict):
        return {}
    value = found.get(key) or (next(iter(found.values())) if len(found) == 1 else None)
    return value if isinstance(value, dict) else {}


def _itemprop(doc: Doc, name: str) -> str | None:
    values = doc.strings(f'//meta[@itemprop="{name}"]/@content')
    return values[0] if values else None


def extract(page: Page) -> Extracted:
    """A question's title, counts and topics, or an article's title, author, dates and votes."""
    wall = blocked_status(page)
    doc = parse(page)
    title, meta, text = describe(doc)
    if wall or any(marker in doc.html[:20_000] for marker in _WALL_TEXT):
        return Extracted(title=None, meta=meta, text="", blocked=wall or "zhihu anti-bot check page")
    data = json_script(doc, "js-initialData")
    question = _QUESTION.match(page.url) or _QUESTION.match(page.final_url)
    if question:
        q = _entity(data, "questions", question.group(1))
        qtitle = q.get("title") or doc.first_text('//h1[contains(@class,"QuestionHeader-title")]') or \
            _itemprop(doc, "name")
        listed = q.get("topics")
        topics = [t.get("name") for t in (listed if isinstance(listed, list) else []) if isinstance(t, dict)
                  and t.get("name")]
        if not topics:
            keywords = _itemprop(doc, "keywords") or meta.get("keywords")
            topics = keywords if isinstance(keywords, list) else [k for k in str(keywords or "").split(",") if k]
        meta.update({k: v for k, v in {
            "kind": "question", "question_id": question.group(1),
            "answer_count": to_int(q.get("answerCount") or _itemprop(doc, "answerCount")),
            "follower_count": to_int(q.get("followerCount") or _itemprop(doc, "zhihu:followerCount")
                                     or _itemprop(doc, "followerCount")),
            "visit_count": to_int(q.get("visitCount")), "topics": topics,
        }.items() if v not in (None, [])})
        if not qtitle:
            return Extracted(title=None, meta=meta, text="", blocked="zhihu page without the question's data")
        return Extracted(title=str(qtitle), meta=meta, text=" ".join([str(q.get("detail") or ""), text]).strip())
    article = _ARTICLE.match(page.url) or _ARTICLE.match(page.final_url)
    a = _entity(data, "articles", article.group(1)) if article else {}
    # Without the article's data, heading or headline the page's <title> has to do, unless it is only
    # Zhihu's own name: a sign-in wall served in the article's place.
    atitle = a.get("title") or doc.first_text('//h1[contains(@class,"Post-Title")]') or \
        _itemprop(doc, "headline") or (title if title and not _SITE_TITLE.match(title) else None)
    found = a.get("author")
    author: dict[str, object] = found if isinstance(found, dict) else {}
    meta.update({k: v for k, v in {
        "kind": "article", "article_id": article.group(1) if article else None,
        "authors": [author["name"]] if author.get("name") else meta.get("authors"),
        "published": a.get("created") or _itemprop(doc, "datePublished") or meta.get("published"),
        "modified": a.get("updated") or _itemprop(doc, "dateModified") or meta.get("modified"),
        "vote_count": to_int(a.get("voteupCount")),
    }.items() if v not in (None, [])})
    if not atitle:
        return Extracted(title=None, meta=meta, text="", blocked="zhihu page without the article's data")
    return Extracted(title=str(atitle), meta=meta, text=text)
