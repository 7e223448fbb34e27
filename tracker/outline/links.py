"""One block's inline tokens -> its text, its links (bare URLs too) and its bold spans.

The text outside links is kept apart (links as NUL, table cells as SOH) so that titles can
be taken from a block's own words and several links in one block told apart.
"""

from __future__ import annotations

import re

from tracker import urls
from tracker.outline import text as tx
from tracker.outline.inline import (
    BREAK,
    CODE,
    IMAGE,
    LINK_CLOSE,
    LINK_OPEN,
    SEP,
    STRONG_CLOSE,
    STRONG_OPEN,
    TEXT,
    Token,
)

TASK_RE = re.compile(r"\[([ xX])\](?:\s+|$)")


class Link:
    """A link found in a block: where it sits, its text and its normalized URL ("" if not a web link)."""

    __slots__ = ("full_at", "href", "image", "resid_at", "text", "url")

    def __init__(self, href: str, text: str, full_at: int, resid_at: int) -> None:
        self.href, self.text, self.full_at, self.resid_at = href, text, full_at, resid_at
        self.image = False
        self.url = ""

    @property
    def bare(self) -> bool:
        """Whether the link is a URL written in the text, not a Markdown or HTML link."""
        return self.resid_at < 0


class BlockInfo:
    """A block's text, its links and bold spans, and the text outside links (links as NUL, cells as SOH)."""

    __slots__ = ("bolds", "full", "links", "resid", "text")

    def __init__(self) -> None:
        self.full: list[str] = []
        self.resid: list[str] = []
        self.links: list[Link] = []
        self.bolds: list[str] = []
        self.text = ""

    def residual(self, start: int = 0, stop: int | None = None) -> str:
        """The text outside links between two residual pieces."""
        return "".join(self.resid[start:stop])


def collect(tokens: list[Token]) -> BlockInfo:
    """A block's text, links and bold spans from its tokens."""
    # Most blocks are one link and maybe a few words after it: skip the general walk for them.
    if 2 < len(tokens) < 5 and tokens[0][0] == LINK_OPEN and tokens[1][0] == TEXT and tokens[2][0] == LINK_CLOSE:
        rest = tokens[3] if len(tokens) == 4 else (TEXT, "")
        if rest[0] == TEXT and not tx.may_hold_links(rest[1]):
            return _one_link(tokens[0][1], tokens[1][1], rest[1])
    return _walk(tokens)


def _one_link(href: str, text: str, rest: str) -> BlockInfo:
    """_walk's result for `[text](href) rest`."""
    info = BlockInfo()
    link = Link(href, tx.collapse(text), 0, 0)
    link.url = web_url(href)
    info.links.append(link)
    info.full += [text, rest]
    info.resid += ["\x00", rest]
    info.text = tx.collapse(text + rest)
    return info


def _walk(tokens: list[Token]) -> BlockInfo:
    """Walk a block's tokens once: full text, text outside links, links (bare URLs too) and bold spans."""
    info = BlockInfo()
    full, resid, links = info.full, info.resid, info.links
    buf: list[str] = []
    link: Link | None = None
    link_text: list[str] = []
    strong: list[tuple[int, int]] = []

    def flush() -> None:
        """Move the pending plain text into the block, splitting out the URLs written in it."""
        text = "".join(buf)
        buf.clear()
        if not tx.may_hold_links(text):
            full.append(text)
            resid.append(text)
            return
        pos = 0
        for start, end, href in tx.text_links(text):
            if start > pos:
                full.append(text[pos:start])
                resid.append(text[pos:start])
            bare = Link(href, text[start:end], len(full), -1)
            bare.url = web_url(href)
            links.append(bare)
            full.append(text[start:end])
            resid.append("\x00")
            pos = end
        if pos < len(text):
            full.append(text[pos:])
            resid.append(text[pos:])

    for kind, value in tokens:
        if kind in (TEXT, BREAK):
            piece = value if kind == TEXT else "\n"
            if link is None:
                buf.append(piece)
            else:
                full.append(piece)
                link_text.append(piece)
            continue
        if buf:
            flush()
        if kind == LINK_OPEN or (kind in (LINK_CLOSE, SEP) and link is not None):
            if link is not None:
                link.text = tx.collapse("".join(link_text))
                link = None
            if kind == LINK_OPEN:
                link, link_text = Link(value, "", len(full), len(resid)), []
                links.append(link)
                resid.append("\x00")
        if kind == CODE:
            full.append(value)
            (link_text if link is not None else resid).append(value)
        elif kind == SEP:
            full.append(" | ")
            resid.append("\x01")
        elif kind == IMAGE and link is not None:
            link.image = True
        elif kind == STRONG_OPEN:
            strong.append((len(full), len(links)))
        elif kind == STRONG_CLOSE and strong:
            start, seen = strong.pop()
            if link is None and seen == len(links):
                info.bolds.append("".join(full[start:]))
    if buf:
        flush()
    if link is not None:
        link.text = tx.collapse("".join(link_text))
    info.text = tx.collapse("".join(full))
    for item in links:
        if not item.bare:
            item.url = "" if item.image and not item.text else web_url(item.href)
    return info


def web_url(href: str) -> str:
    """The normalized URL of an http(s) or www. link; "" for anything else."""
    href = href.strip()
    if href[:8].lower().startswith(("http://", "https://", "www.")):
        url = urls.normalize_url(href)
        return url if url.startswith(("http://", "https://")) else ""
    return ""


def task_box(tokens: list[Token]) -> tuple[bool | None, list[Token]]:
    """A leading `[x] ` / `[ ] ` task box: its state, and the tokens without it."""
    for index, (kind, value) in enumerate(tokens):
        if kind != TEXT or value:
            if kind != TEXT:
                return None, tokens
            match = TASK_RE.match(value)
            if not match:
                return None, tokens
            rest = [(TEXT, value[match.end():])]
            return match.group(1) != " ", tokens[:index] + rest + tokens[index + 1:]
    return None, tokens
