"""Text rules of outline entries: generic link words, bare URLs, titles and their clean-up."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tracker import urls

# Link texts that say what a link is, not what it is about: never a title.
GENERIC_WORDS = frozenset({
    "pdf", "link", "links", "html", "url", "here", "this", "click", "click here", "code", "paper", "slides",
    "slide", "video", "videos", "arxiv", "github", "website", "homepage", "home page", "home", "project",
    "project page", "web", "site", "blog", "source", "source code", "src", "repo", "repository", "demo", "ppt",
    "doc", "docs", "abs", "abstract", "bib", "bibtex", "more", "read more", "full text", "poster", "talk",
    "notes", "ref", "reference", "references", "see", "answer", "post", "article", "page", "web page",
    "webpage", "wiki", "zhihu", "csdn", "youtube", "bilibili", "supplementary", "supp", "appendix", "dataset",
    "data", "download", "official code", "project website", "preprint", "openreview", "journal", "online",
    "知乎", "原文", "链接", "地址", "网页", "博客", "点这里", "这里", "此处", "点击", "点击这里", "下载", "pdf版",
    "pdf下载", "中文版", "英文版", "官网", "主页", "项目主页", "视频", "代码", "论文", "网址", "传送门", "下载地址",
    "原文链接", "项目地址", "论文地址", "代码地址", "视频地址", "官方网站", "网盘", "百度网盘", "在线阅读",
    "在线版", "翻译", "译文", "中文翻译", "回答", "文章", "b站", "幻灯片", "课件", "讲义", "笔记", "源码",
})
_GENERIC_STRIP = "[]()【】（）<>「」 \t\n.:：,，!！;；-*"
_CITATION_RE = re.compile(r"[\[(（【]?\s*\d{1,4}\s*[\])）】]?")
_ANY_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_CITATIONS_IN_TEXT_RE = re.compile(r"\[\s*\d{1,4}\s*\]")
_DOMAIN_RE = re.compile(r"(?:[\w-]+\.)+[a-z]{2,}(?:[/:?#]\S*)?", re.IGNORECASE)

# Bare links in text: http(s) or www. URLs (stopping at spaces, quotes and CJK punctuation),
# and `arXiv:` references.
_URL_STOP = "\\s<>\"`\u3000-\u303f\uff01-\uff5e\u2018-\u201f\u2026"
_TEXT_LINK_RE = re.compile(
    rf"(?<![A-Za-z0-9.\-_/@])(?P<url>(?:https?://|www\.)[^{_URL_STOP}]+)"
    r"|(?<![\w/.])(?P<ax>arxiv:\s?(?:\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)?(?:\.[a-z]{2})?/\d{7})(?:v\d+)?)",
    re.IGNORECASE,
)
_MAYBE_LINK_RE = re.compile(r"://|www\.|arxiv:", re.IGNORECASE)
_TRAILING = ".,;:!?'\"*_~，。；：！？、》」』】…"
_HOST_END_RE = re.compile(r"[^A-Za-z0-9.\-:@%_~\[\]]")
_WWW_OK_RE = re.compile(r"www\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?:[:/?#]|$)", re.IGNORECASE)

_BOOK_RE = re.compile(r"《\s*([^《》\n]{1,200}?)\s*》")
_BRACKET_TITLE_RE = re.compile(r"\[\s*([^\[\]]{2,300}?)\s*\]")
_QUOTED_RE = re.compile(r'"([^"\x00\n]{2,300})"|“([^”\x00]{2,300})”|「([^」\x00]{1,300})」|『([^』\x00]{1,300})』')
_LEAD = " \t\n-–—:：,，.。;；、|/>*•·"
_TAIL = " \t\n-–—:：,，.。;；、|/"
_PAIRS = {")": "(", "）": "（", "]": "[", "】": "【"}
MAX_TITLE = 200


def collapse(text: str) -> str:
    """Whitespace runs -> one space, trimmed."""
    return " ".join(text.split())


def is_generic(text: str, href: str = "") -> bool:
    """Whether a link text names the kind of link (`pdf`, `知乎`, a URL, `[1]`) rather than its subject."""
    word = text.strip(_GENERIC_STRIP).casefold()
    if not word or word in GENERIC_WORDS or (word[0].isdigit() and _CITATION_RE.fullmatch(word)):
        return True
    if word.startswith(("http://", "https://", "www.", "arxiv:")) or (href and word == href.casefold()):
        return True
    return "." in word and " " not in word and bool(_DOMAIN_RE.fullmatch(word))


def may_hold_links(text: str) -> bool:
    """A cheap test that text_links may find something."""
    return _MAYBE_LINK_RE.search(text) is not None


def text_links(text: str) -> Iterator[tuple[int, int, str]]:
    """Bare URLs and `arXiv:` references in plain text: (start, end, href)."""
    for match in _TEXT_LINK_RE.finditer(text):
        if match.group("ax"):
            arxiv_id = urls.parse_arxiv_id(match.group("ax"))
            if arxiv_id:
                yield match.start(), match.end(), urls.arxiv_abs_url(arxiv_id)
            continue
        url = _trim_url(match.group("url"))
        if url:
            yield match.start(), match.start() + len(url), url


def _trim_url(url: str) -> str:
    """A bare URL without the punctuation and CJK text that followed it; "" if nothing is left."""
    scheme_end = url.find("://") + 3 if "://" in url[:8] else 0
    host_end = _HOST_END_RE.search(url, scheme_end)
    if host_end and not url[host_end.start()].isascii():
        url = url[: host_end.start()]  # CJK right after the host is prose, not a path
    surplus = {")": url.count(")") - url.count("("), "]": url.count("]") - url.count("[")}
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _TRAILING:
            end -= 1
        elif last in surplus and surplus[last] > 0:  # an unbalanced bracket closes the prose around the link
            surplus[last] -= 1
            end -= 1
        else:
            break
    url = url[:end]
    if scheme_end:
        return url if len(url) > scheme_end and url[scheme_end] not in "/.:" else ""
    return url if _WWW_OK_RE.match(url) else ""


def trim_title(text: str) -> str:
    """A title without dangling punctuation at either end, cut to MAX_TITLE characters."""
    # Only the head can become the title: bound the work on a huge block.
    text = collapse(text[: 8 * MAX_TITLE])
    while True:
        before = text
        text = text.lstrip(_LEAD).rstrip(_TAIL)
        while text and text[-1] in _PAIRS and text.count(text[-1]) > text.count(_PAIRS[text[-1]]):
            text = text[:-1].rstrip(_TAIL)
        while text and text[0] in "(（[【" and _unbalanced_open(text):
            text = text[1:].lstrip(_LEAD)
        if text == before:
            break
    return cut(text)


def _unbalanced_open(text: str) -> bool:
    closer = {"(": ")", "（": "）", "[": "]", "【": "】"}[text[0]]
    return text.count(text[0]) > text.count(closer)


def cut(text: str, limit: int = MAX_TITLE) -> str:
    """Text cut at a word boundary so it fits in `limit` characters."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip(_TAIL)


def without_citations(text: str) -> str:
    """Text without citation marks such as `[12]`."""
    return _CITATIONS_IN_TEXT_RE.sub(" ", text) if "[" in text else text


def without_urls(text: str) -> str:
    """Text without the URLs written in it (inside code spans, say)."""
    return _ANY_URL_RE.sub(" ", text) if "://" in text or "www." in text else text


def title_candidates(bolds: list[str], residual: str) -> list[str]:
    """Bold and quoted spans outside links that read as a title (not `[12]`, `(Milestone)` or a `Label:`)."""
    spans = list(bolds)
    if any(q in residual for q in "\"“「『"):
        spans += [next(g for g in m.groups() if g is not None) for m in _QUOTED_RE.finditer(residual)]
    out = []
    for span in spans:
        raw = collapse(span.replace("\x00", " "))
        if not raw or raw[-1] in ":：" or (raw[0] in "(（[【" and raw[-1] in ")）]】"):
            continue
        title = trim_title(raw)
        if len(title) >= 2 and not is_generic(title):
            out.append(title)
    return out


def best_candidate(candidates: list[str]) -> str:
    """The longest candidate, the first among equals; "" when there is none."""
    return max(candidates, key=len) if candidates else ""


def book_titles(text: str) -> list[str]:
    """Every 《…》 title in text, brackets included, inner spaces trimmed, without repeats."""
    if "《" not in text:
        return []
    seen: dict[str, None] = {}
    for match in _BOOK_RE.finditer(text):
        inner = collapse(match.group(1))
        if inner:
            seen.setdefault(f"《{inner}》", None)
    return list(seen)


def bracket_title(text: str) -> str:
    """The title of a link-less `[Some title]` block (the brackets are all of it), else ""."""
    if not text.startswith("[") or not text.endswith("]"):
        return ""
    match = _BRACKET_TITLE_RE.fullmatch(text)
    if not match:
        return ""
    title = collapse(match.group(1))
    return "" if is_generic(title) or title.lower() in ("x", " ") else title
