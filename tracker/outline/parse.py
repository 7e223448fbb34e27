"""Markdown outline text -> Outline: headings, entries (links, books) and plain topic lines.

Pure: text in, values out. Handles the learner's own outline and reading lists like it
(awesome-lists, paper roadmaps, course notes). Each block (list item, paragraph, table
row, HTML block) normally gives one entry, titled by its descriptive link text or, when
the link text is generic (`pdf`, `知乎`), by the block's own words. Block splitting lives
in `blocks`, inline parsing in `inline`, a block's links and words in `links`,
text rules in `text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from tracker import urls
from tracker.outline import text as tx
from tracker.outline.blocks import (
    HEADING,
    HTML,
    ITEM,
    MAX_NESTING,
    OTHER,
    PARA,
    ROW,
    Block,
    read_blocks,
)
from tracker.outline.inline import (
    BREAK,
    CODE,
    ONE_LINK,
    SEP,
    TEXT,
    InlineParser,
    Token,
    html_tokens,
)
from tracker.outline.links import BlockInfo, Link, collect, task_box, web_url

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.utils import EnvType


@dataclass(frozen=True)
class Entry:
    """One item of the outline: a link (with its extra links) or a book / bracketed title."""

    key: str
    title: str
    url: str | None
    arxiv_id: str | None
    kind: str
    section: tuple[str, ...]
    position: int
    done: bool | None
    text: str
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Heading:
    """A heading, its path of headings (itself included) and its index among headings."""

    title: str
    level: int
    path: tuple[str, ...]
    position: int


@dataclass(frozen=True)
class ListLine:
    """A plain list item without link or title (a topic line); group counts blank-line groups per section."""

    text: str
    section: tuple[str, ...]
    group: int
    position: int


@dataclass(frozen=True)
class Outline:
    """A parsed outline."""

    title: str
    headings: tuple[Heading, ...]
    entries: tuple[Entry, ...]
    lines: tuple[ListLine, ...]


def normalize_title(title: str) -> str:
    """A title's identity: casefolded, whitespace collapsed."""
    return " ".join(title.casefold().split())


def parse_outline(text: str) -> Outline:
    """Parse outline Markdown into headings, deduplicated entries and plain list lines.

    Nesting at any depth is read (the deepest levels flattened); UnreadableOutline, where some part
    could still not be read, is the only error.
    """
    return _parse(text, fast=True)


def _keep_link(url: str) -> str:
    return url  # links are normalized by urls.normalize_url, once, whichever path parsed them


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table").disable("inline")
    md.options["maxNesting"] = MAX_NESTING
    md.normalizeLink = _keep_link  # type: ignore[method-assign]
    return md


def _parse(text: str, fast: bool) -> Outline:
    """parse_outline, with the fast paths switchable so tests can hold them to markdown-it."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd").removeprefix("\ufeff")
    lines = text.split("\n")
    md = _markdown()
    env: EnvType = {}
    blocks = read_blocks(lines, md, env, fast)
    builder = _Builder(lines, InlineParser(md, env, fast))
    for block in blocks:
        builder.add(block)
    return builder.outline()


# A whole block that is `[ ] [words](http://...) words`: the commonest entry, read in one match.
_LANE_RE = re.compile(r"(?:\[([ xX])\]\s+)?" + ONE_LINK)
# ... and a block of words with no markup at all.
_TEXT_LANE_RE = re.compile(r"(?:\[([ xX])\](?:\s+|$))?([^\[*_`<\\&]*)")
_SCHEME_RE = re.compile(r"https?://", re.IGNORECASE)
_TWO_WORD_CHARS_RE = re.compile(r"[^\W_].*?[^\W_]", re.DOTALL)


class _Builder:
    """Turns blocks, in order, into headings, entries and list lines."""

    def __init__(self, lines: list[str], inline: InlineParser) -> None:
        self.lines = lines
        self.inline = inline
        self.stack: list[tuple[int, str]] = []
        self.section: tuple[str, ...] = ()
        self.headings: list[Heading] = []
        self.h1 = ""
        self.entries: dict[str, Entry] = {}
        self.list_lines: list[ListLine] = []
        self.group = [0, 0, False]  # lines so far in this section, current group, blank seen since the last line
        self.prev: tuple[str, tuple[str, ...], str, bool] | None = None  # kind, section, text, had links

    def outline(self) -> Outline:
        """The outline read so far."""
        title = self.h1 or (self.headings[0].title if self.headings else "")
        return Outline(title, tuple(self.headings), tuple(self.entries.values()), tuple(self.list_lines))

    def add(self, block: Block) -> None:
        """Take the next block of the document."""
        if block.kind == HEADING:
            self._heading(block)
            return
        if block.kind == ITEM:
            if block.line > 0 and not self.lines[block.line - 1].strip(" \t"):
                self.group[2] = True
        elif not block.in_item:
            self.group[2] = True
        if block.kind == OTHER:
            self.prev = None
            return
        lanes = block.kind != HTML and len(block.parts) == 1 and self.inline.fast
        if lanes and "references" not in self.inline.env and (self._link_lane(block) or self._text_lane(block)):
            return
        done, tokens = self._tokens(block)
        info = collect(tokens)
        links = [link for link in info.links if link.url]
        if links:
            self._link_entries(block, info, links, done)
        else:  # an item with only mailto: or relative links is no plain topic line either
            self._plain_entries(block, info.text, done, plain=not info.links)
        self.prev = (block.kind if not block.in_item else "nested", self.section, info.text, bool(links))

    def _link_lane(self, block: Block) -> bool:
        """Take a block that is one descriptive web link and some words without the general walk."""
        match = _LANE_RE.fullmatch(block.parts[0])
        if match is None:
            return False
        box, label, href, rest = match.groups()
        if box is not None and block.kind != ITEM:
            return False
        title = tx.collapse(label)
        url = web_url(href)
        if not url or tx.is_generic(title, href):
            return False
        extras: tuple[str, ...] = ()
        if rest and tx.may_hold_links(rest):  # bare URLs after a titled link are its extra links
            found = {url: ""}
            for _, _, bare in tx.text_links(rest):
                found.setdefault(web_url(bare), "")
            found.pop("", None)
            extras = tuple(found)[1:]
        text = tx.collapse(label + rest)
        self._add(title, url, extras, text, None if box is None else box != " ")
        self.prev = (block.kind if not block.in_item else "nested", self.section, text, True)
        return True

    def _text_lane(self, block: Block) -> bool:
        """Take a block of plain words (no markup, no links) without the general walk."""
        match = _TEXT_LANE_RE.fullmatch(block.parts[0])
        if match is None:
            return False
        box, rest = match.groups()
        if (box is not None and block.kind != ITEM) or tx.may_hold_links(rest):
            return False
        text = tx.collapse(rest)
        self._plain_entries(block, text, None if box is None else box != " ")
        self.prev = (block.kind if not block.in_item else "nested", self.section, text, False)
        return True

    def _tokens(self, block: Block) -> tuple[bool | None, list[Token]]:
        if block.kind == HTML:
            return None, html_tokens(block.parts[0])
        tokens: list[Token] = []
        for index, part in enumerate(block.parts):
            if index:
                tokens.append((SEP, "") if block.kind == ROW else (BREAK, ""))
            tokens.extend(self.inline.parse(part))
        if block.kind == ITEM:
            return task_box(tokens)
        return None, tokens

    def _heading(self, block: Block) -> None:
        tokens = self.inline.parse(block.parts[0]) if block.parts[0] else []
        words = (value if kind != BREAK else " " for kind, value in tokens if kind in (TEXT, CODE, BREAK))
        title = tx.collapse("".join(words))
        while self.stack and self.stack[-1][0] >= block.level:
            self.stack.pop()
        if title:
            self.stack.append((block.level, title))
        self.section = tuple(name for _, name in self.stack)
        if title:
            self.headings.append(Heading(title, block.level, self.section, len(self.headings)))
            if block.level == 1 and not self.h1:
                self.h1 = title
        self.group = [0, 0, False]
        self.prev = None

    # --- entries -----------------------------------------------------------------------

    def _plain_entries(self, block: Block, text: str, done: bool | None, plain: bool = True) -> None:
        """A block without links: its 《books》, a `[bracketed title]`, or a plain list line."""
        books = tx.book_titles(text)
        for book in books:
            self._add(book, None, (), text, done, "book")
        if books:
            return
        title = tx.bracket_title(text)
        if title:
            self._add(title, None, (), text, done, "question" if title[-1] in "?？" else "page")
        elif block.kind == ITEM and text and plain:
            count, group, gap = self.group
            group = group + 1 if count and gap else group
            self.group = [count + 1, group, False]
            self.list_lines.append(ListLine(text, self.section, group, len(self.list_lines)))

    def _link_entries(self, block: Block, info: BlockInfo, links: list[Link], done: bool | None) -> None:
        """One entry for the block, or one per link where the block lists several pages."""
        if len(links) == 1:
            main = links[0]
            titled = not main.bare and not tx.is_generic(main.text, main.href)
            self._add(main.text if titled else self._fallback_title(block, info, main), main.url, (), info.text, done)
            return
        explicit = [link for link in links if not link.bare]
        described = [link for link in explicit if not tx.is_generic(link.text, link.href)]
        several = len({link.text.casefold() for link in described}) >= 2 and len({link.url for link in described}) >= 2
        if several and not tx.title_candidates(info.bolds, info.residual()) and not _lead_form(info, described[0]):
            self._split(info, links, described, done)
            return
        if not several and not explicit and len({link.url for link in links}) >= 2:
            self._split_bare(info, links, done)
            return
        main = described[0] if described else (explicit[0] if explicit else links[0])
        title = main.text if described else self._fallback_title(block, info, main)
        self._add(title, main.url, _others(links, main), info.text, done)

    def _split(self, info: BlockInfo, links: list[Link], described: list[Link], done: bool | None) -> None:
        """Each link with its own descriptive text heads an entry; the other links join the one before."""
        groups: list[list[Link]] = []
        pending: list[Link] = []  # generic links before the first title join that entry
        seen: set[str] = set()
        heads = {id(link) for link in described}
        for link in links:
            name = link.text.casefold()
            if id(link) in heads and name not in seen:
                seen.add(name)
                groups.append([link, *pending])
                pending = []
            elif groups:
                groups[-1].append(link)
            else:
                pending.append(link)
        for number, group in enumerate(groups):
            start = 0 if number == 0 else group[0].full_at
            stop = groups[number + 1][0].full_at if number + 1 < len(groups) else None
            text = tx.collapse("".join(info.full[start:stop]))
            self._add(group[0].text, group[0].url, _others(group, group[0]), text, done)

    def _split_bare(self, info: BlockInfo, links: list[Link], done: bool | None) -> None:
        """A block of bare URLs only: one entry per URL, titled by the words just before it."""
        start = 0
        for number, link in enumerate(links):
            before = "".join(info.full[start:link.full_at])
            start = link.full_at + 1
            after = "".join(info.full[start:]) if number == len(links) - 1 else ""
            title = tx.trim_title(tx.without_citations(before))
            if not title or tx.is_generic(title):
                title = _host_path(link.url)
            self._add(title, link.url, (), tx.collapse(f"{before} {link.text} {after}"), done)

    def _fallback_title(self, block: Block, info: BlockInfo, main: Link) -> str:
        """A title for a block whose links are all generic: its own words, else what stands before it."""
        residual = info.residual()
        title = tx.best_candidate(tx.title_candidates(info.bolds, residual))
        if not title:
            books = tx.book_titles(info.text)
            title = books[0] if books else _residual_title(residual)
        if title and not tx.is_generic(title):
            return title
        prev = self.prev
        if prev and prev[0] == PARA and prev[1] == self.section and not prev[3] and prev[2]:
            title = tx.trim_title(prev[2])
            if title and not tx.is_generic(title):
                return title
        if self.section and not tx.is_generic(self.section[-1]):
            return self.section[-1]
        return _host_path(main.url)

    def _add(self, title: str, url: str | None, extras: tuple[str, ...], text: str, done: bool | None,
             kind: str | None = None) -> None:
        """Record an entry unless an earlier one has its key."""
        arxiv_id = url[22:] if url and url.startswith("https://arxiv.org/abs/") else None
        if arxiv_id is None and extras:
            kind = kind or urls.kind_from_url(url)
            if kind == "paper":  # a paper's page elsewhere, with its arXiv link beside it
                arxiv_id = next((x[22:] for x in extras if x.startswith("https://arxiv.org/abs/")), None)
        key = f"arxiv:{arxiv_id}" if arxiv_id else (url or "title:" + normalize_title(title))
        if key not in self.entries:
            self.entries[key] = Entry(key, title, url, arxiv_id, kind or urls.kind_from_url(url), self.section,
                                      len(self.entries), done, text, extras)


def _others(links: list[Link], main: Link) -> tuple[str, ...]:
    """The distinct URLs of links other than main's."""
    seen = {main.url: None}
    for link in links:
        seen.setdefault(link.url, None)
    return tuple(seen)[1:]


def _lead_form(info: BlockInfo, first: Link) -> bool:
    """`[Name](url) - what it is, with [a reference](url2)`: the first link is the item, the rest notes."""
    before = info.residual(0, first.resid_at).replace("\x00", " ")
    if tx.trim_title(tx.without_citations(before)):
        return False
    after = info.residual(first.resid_at + 1).replace("\x00", " ").replace("\x01", " ")
    head = after.lstrip()
    return bool(head) and head[0] in "-–—:：|" and _TWO_WORD_CHARS_RE.search(after) is not None


def _residual_title(residual: str) -> str:
    """A title from the words of a block outside its links; a table row's first non-empty cell."""
    for cell in residual.replace("\x00", " ").split("\x01"):
        title = tx.trim_title(tx.without_urls(tx.without_citations(cell)))
        if title:
            return title
    return ""


def _host_path(url: str) -> str:
    """`host/path` of a URL, the last resort for a title."""
    return _SCHEME_RE.sub("", url, count=1).rstrip("/") or url
