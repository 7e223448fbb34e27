"""Shared page reading: one lxml tree for selectors and text, bs4 over the <head> for metadata.

Parsing a whole 100 KB page into a BeautifulSoup tree costs tens of milliseconds; the crawler's
budget is a few. So bs4 (with lxml as its parser) reads only the document's head, where the
metadata lives, and site selectors and the text length come from lxml's own tree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from tracker.crawl import charset as charsets
from tracker.crawl.sites import Page

if TYPE_CHECKING:
    from lxml.etree import XPath
    from lxml.html import HtmlElement, HTMLParser

# Reading speeds: about 400 Chinese characters or 230 English words a minute for study reading
# (the usual figures for adult silent reading, rounded down for technical text).
CJK_PER_MINUTE = 400
WORDS_PER_MINUTE = 230
_HEAD_END = re.compile(r"</head\s*>|<body[\s>]", re.I)
# CSDN's blog home pages add the fields their owner writes about: `_CSDN博客-深度学习,机器学习领域博主`.
_SUFFIXES = re.compile(r"\s*(?:[-_|–—]\s*)?(?:知乎|CSDN博客(?:-[^_|]{0,80}博主)?|CSDN|博客园|简书|掘金|GitHub)\s*$")


@dataclass
class Doc:
    """A parsed page: its lxml tree (None if unparseable), and its text decoded on first use."""

    page: Page
    charset: str | None
    tree: HtmlElement | None
    _html: str | None = None

    @property
    def html(self) -> str:
        """The page as text (decoded once, when an extractor first asks)."""
        if self._html is None:
            self._html = charsets.decode(self.page.body, self.charset)
        return self._html

    def _select(self, query: str) -> list[HtmlElement | str]:
        if self.tree is None:
            return []
        try:
            return list(self.tree.xpath(query))
        except Exception:  # lxml raises its own errors on pathological trees
            return []

    def xpath(self, query: str) -> list[HtmlElement]:
        """Elements matching an XPath query on the page (empty if it did not parse)."""
        return [el for el in self._select(query) if not isinstance(el, str)]

    def strings(self, query: str) -> list[str]:
        """Attribute values or text nodes matching an XPath query such as `//meta/@content`."""
        return [str(value) for value in self._select(query) if isinstance(value, str)]

    def first_text(self, query: str) -> str | None:
        """Whitespace-collapsed text of the first match of `query`."""
        for el in self._select(query):
            text = " ".join((el if isinstance(el, str) else el.text_content()).split())
            if text:
                return text
        return None


_UTF8_PARSER: HTMLParser | None = None
_TEXT_NODES: XPath | None = None
# Both are made on first use, so that importing this module stays light.


def prepare() -> tuple[HTMLParser, XPath]:
    """Import lxml and build the parser and XPath that reading uses (a crawl worker does it ahead of its first page)."""
    global _UTF8_PARSER, _TEXT_NODES
    import codecs

    import lxml.html
    from lxml import etree

    codecs.lookup("utf-16-be")  # for reading_stats; a codec's module is imported on first use

    if _UTF8_PARSER is None:
        _UTF8_PARSER = lxml.html.HTMLParser(encoding="utf-8")
    if _TEXT_NODES is None:
        _TEXT_NODES = etree.XPath("descendant::text()", smart_strings=False)
    return _UTF8_PARSER, _TEXT_NODES


def parse(page: Page) -> Doc:
    """Parse a page once; a page lxml cannot parse still yields its head metadata.

    UTF-8 bytes go to lxml as they are (libxml2 decodes them in C and replaces bad sequences),
    which saves decoding to a str and lxml encoding it back, a large share of parsing a page.
    Other charsets are decoded here first, GB2312/GBK as GB18030 (see `charset`).
    """
    import lxml.html

    parser = _UTF8_PARSER if _UTF8_PARSER is not None else prepare()[0]
    charset = page.charset or charsets.detect(page.headers.get("content-type"), page.body)
    doc = Doc(page=page, charset=charset, tree=None)
    try:
        if charsets.normalize(charset) in (None, "utf-8"):  # a BOM names its own charset, so never here
            if page.body.strip():
                doc.tree = lxml.html.document_fromstring(page.body, parser=parser)
        elif doc.html.strip():
            doc.tree = lxml.html.document_fromstring(doc.html)
    except Exception:  # malformed or absurdly nested markup: extract what the head says
        doc.tree = None
    return doc


def _tags(doc: Doc) -> list[tuple[str, dict[str, str], str]]:
    """(name, attributes, text) of the html, title, meta, link and script elements.

    From lxml's tree when the page parsed (a walk over the head is cheap); bs4, much slower on the
    same head, is the fallback for markup lxml gave up on.
    """
    wanted = ("html", "title", "meta", "link", "script")
    if doc.tree is not None:
        # Only a title's and a JSON-LD block's text is read (copying every inline script's is not free).
        return [(el.tag, dict(el.attrib), (el.text or "") if el.tag == "title" or _is_ld(el.get("type")) else "")
                for el in doc.tree.iter(*wanted)]
    from bs4 import BeautifulSoup, SoupStrainer

    match = _HEAD_END.search(doc.html)
    head = doc.html[: match.start()] if match else doc.html[:200_000]
    soup = BeautifulSoup(head, "lxml", parse_only=SoupStrainer(list(wanted)))
    out = []
    for tag in soup.find_all(list(wanted)):
        attrs = {k: " ".join(v) if isinstance(v, list) else str(v) for k, v in tag.attrs.items()}
        out.append((tag.name, attrs, tag.get_text()))
    return out


def _is_ld(script_type: str | None) -> bool:
    return script_type is not None and script_type.strip().lower() == "application/ld+json"


class Head(TypedDict):
    """What a page's head says: meta name/property/itemprop pairs, authors, links by rel, JSON-LD objects."""

    meta: dict[str, str]
    authors: list[str]
    links: dict[str, str]
    ld: list[dict[str, object]]
    lang: str | None
    title: str | None


def _json(text: str) -> object:
    """Parsed JSON, or None for broken or absurdly nested JSON (both are found on real pages)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def head_tags(doc: Doc) -> Head:
    """Page metadata: title, meta name/property/itemprop pairs, links, JSON-LD blocks, lang."""
    meta: dict[str, str] = {}
    authors: list[str] = []
    links: dict[str, str] = {}
    ld: list[object] = []
    lang: str | None = None
    title: str | None = None
    for name, attrs, text in _tags(doc):
        if name == "meta":
            key = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or "").strip().lower()
            value = " ".join((attrs.get("content") or "").split())
            if not key or not value:
                continue
            if key in ("citation_author", "dc.creator", "author", "article:author"):
                authors.append(value)
            meta.setdefault(key, value)
        elif name == "link" and attrs.get("href"):
            for rel in (attrs.get("rel") or "").lower().split():
                links.setdefault(rel, attrs["href"])
        elif name == "script" and _is_ld(attrs.get("type")):
            block = _json(text)
            if block is not None:
                ld.append(block)
        elif name == "title" and title is None:
            title = " ".join(text.split())
        elif name == "html" and lang is None:
            lang = attrs.get("lang")
    return {"meta": meta, "authors": list(dict.fromkeys(authors)), "links": links, "ld": _flatten_ld(ld),
            "lang": lang, "title": title}


def _flatten_ld(blocks: list[object]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    stack = list(blocks)
    while stack and len(out) < 50:
        item = stack.pop(0)
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            out.append(item)
            if isinstance(item.get("@graph"), list):
                stack.extend(item["@graph"])
    return out


def clean_title(title: str | None, site_name: str | None = None, owners: Sequence[str] = ()) -> str | None:
    """A page title without its site suffix (` - 知乎`, `_CSDN博客`, ` - 博客园`, ` | Site`).

    `owners` are the names the blog's owner may go by (the user id in its URL, the nickname on
    the page): `标题_ex_user的博客` loses `_ex_user的博客` whole, although the name holds the
    separator itself.
    """
    if not title:
        return None
    title = " ".join(title.split())
    if site_name and title.endswith(site_name) and len(title) > len(site_name) + 3:
        title = re.sub(r"\s*[-_|–—]\s*$", "", title[: -len(site_name)])
    cleaned = _SUFFIXES.sub("", title)
    # `用户名的博客` after a separator is CSDN's and cnblogs' second suffix.
    for name in sorted({" ".join(o.split()) for o in owners if o and o.strip()}, key=len, reverse=True):
        if re.fullmatch(rf"{re.escape(name)}\s*的(?:博客|专栏)", cleaned):
            return cleaned  # the blog's own home page: its name is its title
        owned = re.sub(rf"\s*[-_|]\s*{re.escape(name)}\s*的(?:博客|专栏)\s*$", "", cleaned)
        if owned != cleaned:
            return owned or title
    cleaned = re.sub(r"\s*[-_|]\s*[^-_|]{1,30}的(?:博客|专栏)\s*$", "", cleaned)
    return cleaned or title


# What a script standing in for a page does: set the cookie the server wants, then load the page
# again. Alibaba Cloud's WAF (CSDN's acw_sc__v2 page) computes its cookie from `var arg1='…'`.
_CHALLENGE_SCRIPT = re.compile(
    r"document\.cookie\s*=|location\.(?:reload|replace|assign)\s*\(|(?:window|document)\.location(?:\.href)?\s*="
    r"|\blocation\.href\s*=|\bvar\s+arg1\s*=", re.I)
_ACW = re.compile(r"acw_sc__v2|\bvar\s+arg1\s*=", re.I)
MAX_SCRIPT_SCAN = 200_000


def script_challenge(doc: Doc, text: str) -> str | None:
    """Why a 200 page is a script challenge, if it is: no visible text, only a script that sets a cookie or reloads."""
    if text or doc.tree is None:
        return None
    code = "".join((el.text or "") for el in doc.tree.iter("script") if not el.get("src"))[:MAX_SCRIPT_SCAN]
    if _ACW.search(code):
        return "anti-bot script page (acw_sc__v2)"
    if _CHALLENGE_SCRIPT.search(code):
        return "script challenge page (no content without running its script)"
    return None


_HIDDEN = ("script", "style", "noscript", "template", "svg")


def main_text(doc: Doc) -> str:
    """Visible text of the page's body, scripts, styles and SVG left out, whitespace collapsed.

    Selecting only the visible text nodes (an XPath predicate, or a walk in Python) costs twice as
    much as taking every text node. So the text of the few hidden elements is set aside, every
    text node taken, and the hidden text put back: extractors may still read scripts afterwards
    (Zhihu's data lives in one). Nodes are joined with spaces so adjacent blocks stay separate words.
    """
    if doc.tree is None:
        return ""
    text_nodes = _TEXT_NODES if _TEXT_NODES is not None else prepare()[1]
    body = doc.tree.find("body")
    if body is None:
        return ""
    saved: list[tuple[HtmlElement, str | None, str | None]] = []
    try:
        for hidden in body.iter(*_HIDDEN):
            for node in hidden.iter():
                # The hidden element's own tail is visible text that follows it; its children's are not.
                tail = node.tail if node is not hidden else None
                saved.append((node, node.text, tail))
                node.text = None
                if node is not hidden:
                    node.tail = None
        parts = text_nodes(body)
    except Exception:  # pathological trees: no text rather than no result
        return ""
    finally:
        for node, text, tail in reversed(saved):
            node.text = text
            if tail is not None:
                node.tail = tail
    return " ".join(" ".join(parts).split())


def _byte_table(marks: dict[range, int]) -> bytes:
    table = bytearray(256)
    for span, mark in marks.items():
        for b in span:
            table[b] = mark
    return bytes(table)


# Counting with bytes.translate (in C) is faster than regular expressions over the text.
# Han characters: U+3400..U+9FFF and U+F900..U+FAFF are exactly the UTF-16 code units whose high byte is
# 34..9F or F9..FA (surrogates, D8..DF, are neither), so the text's UTF-16 high bytes, with every
# other byte deleted, leave one byte per Han character.
_NOT_HAN = bytes(b for b in range(256) if not (0x34 <= b <= 0x9F or b in (0xF9, 0xFA)))
# Words are runs of ASCII letters and digits (anything else, ASCII-encoded as "?", separates them);
# apostrophes and hyphens inside a word do not split it.
_WORD_BYTES = _byte_table({range(0, 256): 32, range(0x30, 0x3A): 1, range(0x41, 0x5B): 1, range(0x61, 0x7B): 1})


def reading_stats(text: str) -> dict[str, int]:
    """Characters, words and minutes of reading for a page's text."""
    han = len(text.encode("utf-16-be", "surrogatepass")[::2].translate(None, _NOT_HAN))
    # A word starts wherever a letter or digit follows anything else (counting starts is cheaper than splitting).
    marked = text.encode("ascii", "replace").translate(_WORD_BYTES, b"'-")
    words = marked.count(b" \x01") + marked.startswith(b"\x01")
    minutes = han / CJK_PER_MINUTE + words / WORDS_PER_MINUTE
    return {"text_chars": len(text), "word_count": words + han, "reading_minutes": max(1, round(minutes)) if text
            else 0}


def ld_value(doc_ld: list[dict[str, object]], *keys: str) -> object:
    """The first value of any of `keys` in the page's JSON-LD objects."""
    for obj in doc_ld:
        for key in keys:
            if obj.get(key):
                return obj[key]
    return None


def person_names(value: object) -> list[str]:
    """Names from a JSON-LD author value (a string, an object or a list of them)."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            out.append(" ".join(name.split()))
    return out


def json_script(doc: Doc, script_id: str) -> object:
    """The JSON inside `<script id=script_id>`, or None."""
    for el in doc.xpath(f'//script[@id="{script_id}"]'):
        return _json(el.text or "")
    return None


def to_int(value: object) -> int | None:
    """An integer from a count such as `1,234`, `1.2万` or `3k`; None when there is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value or "").strip().replace(",", "")
    match = re.match(r"^(\d+(?:\.\d+)?)\s*([万kKwW]?)", text)
    if not match:
        return None
    number = float(match.group(1))
    scale = {"万": 10_000, "w": 10_000, "W": 10_000, "k": 1000, "K": 1000}.get(match.group(2), 1)
    return int(number * scale)
