"""Inline Markdown -> a flat list of small tokens, the same whichever way it was parsed.

markdown-it-py is exact but slow on large outlines (docs/benchmarks.md), while most
inline text in a reading list is plain words, `[text](url)` links and `**bold**`.
`InlineParser` parses that common subset itself, by markdown-it's own rules, and gives
everything else (code spans, escapes, entities, HTML, images, odd emphasis, reference
links) to markdown-it; a differential test holds the two paths to the same result.

Token kinds: TEXT, CODE, BREAK, LINK_OPEN (value: href), LINK_CLOSE, STRONG_OPEN,
STRONG_CLOSE, IMAGE, SEP (between table cells).
"""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser
from typing import TYPE_CHECKING

from markdown_it.common.utils import isMdAsciiPunct, isPunctChar, isWhiteSpace

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token as MdToken
    from markdown_it.utils import EnvType

Token = tuple[str, str]
TEXT, CODE, BREAK, LINK_OPEN, LINK_CLOSE = "t", "c", "br", "lo", "lc"
STRONG_OPEN, STRONG_CLOSE, IMAGE, SEP = "so", "sc", "img", "sep"

# Anything here needs markdown-it: code spans, HTML and autolinks, escapes, images, entities.
_SLOW_RE = re.compile(r"[`<\\]|!\[|&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# The commonest line of all, `[words](http://...) words`, in one match: nothing in it needs the rules.
ONE_LINK = r"\[([^\[\]*_`<\\&]*)\]\(((?:https?://|www\.)[^\s()<>`\\&]*)\)([^\[*_`<\\&]*)"
_ONE_LINK_RE = re.compile(ONE_LINK)
_SPECIAL_RE = re.compile(r"[\[*_]")
_BRACKET_RE = re.compile(r"[\[\]]")
_DEST_STOP_RE = re.compile(r"[\x00-\x20\x7f()]")
_SPACES = " \t\n"
# Deeper bracket nesting than this goes to markdown-it, which has its own limits there.
_MAX_DEPTH = 8
_MAX_BRACKETS = 64


class _Slow(Exception):
    """The text leaves the subset the fast path parses exactly."""


class InlineParser:
    """Parses inline Markdown with the fast path where it is exact, markdown-it elsewhere."""

    def __init__(self, md: MarkdownIt, env: EnvType, fast: bool = True) -> None:
        self.md = md
        self.env = env
        self.fast = fast
        self._memo: dict[int, tuple[int, int, str, int] | None] = {}

    def parse(self, src: str) -> list[Token]:
        """The tokens of one inline source (a paragraph, heading, list item or table cell)."""
        if self.fast:
            try:
                return self._fast(src)
            except _Slow:
                pass
        return self._slow(src)

    # --- fast path ---------------------------------------------------------------------

    def _fast(self, src: str) -> list[Token]:
        if "[" not in src and "*" not in src and "_" not in src:
            if _SLOW_RE.search(src):
                raise _Slow
            return [(TEXT, src)]
        out: list[Token] = []
        match = _ONE_LINK_RE.fullmatch(src)
        if match:
            label, href, rest = match.groups()
            out.append((LINK_OPEN, href))
            if label:
                out.append((TEXT, label))
            out.append((LINK_CLOSE, ""))
            if rest:
                out.append((TEXT, rest))
            return out
        if _SLOW_RE.search(src) or src.count("[") > _MAX_BRACKETS:
            raise _Slow
        self._memo = {}
        self._span(src, 0, len(src), out, 0)
        return out

    def _span(self, s: str, start: int, end: int, out: list[Token], depth: int) -> None:
        """Tokens of s[start:end] (one link level), as markdown-it's tokenize would give."""
        pos = i = start
        delims: list[tuple[int, bool]] = []
        while True:
            match = _SPECIAL_RE.search(s, i, end)
            if match is None:
                break
            j = match.start()
            if s[j] == "[":
                link = self._link(s, j, end, depth)
                if link is None:
                    i = j + 1
                    continue
                if j > pos:
                    out.append((TEXT, s[pos:j]))
                label_start, label_end, href, after = link
                out.append((LINK_OPEN, href))
                if _SPECIAL_RE.search(s, label_start, label_end) is None:
                    if label_end > label_start:
                        out.append((TEXT, s[label_start:label_end]))
                else:
                    self._span(s, label_start, label_end, out, depth + 1)
                out.append((LINK_CLOSE, ""))
                pos = i = after
                continue
            k = j
            while k < end and s[k] == s[j]:
                k += 1
            if j > pos:
                out.append((TEXT, s[pos:j]))
            self._delimiter(s, j, k, end, out, delims)
            pos = i = k
        if end > pos:
            out.append((TEXT, s[pos:end]))
        _pair_strong(out, delims)

    def _delimiter(self, s: str, j: int, k: int, end: int, out: list[Token], delims: list[tuple[int, bool]]) -> None:
        """A run of `*` or `_`: literal, or one side of `**strong**`; anything subtler is slow."""
        last_space, last_punct = _char_class(s[j - 1] if j > 0 else " ")
        next_space, next_punct = _char_class(s[k] if k < end else " ")
        left = not (next_space or (next_punct and not (last_space or last_punct)))
        right = not (last_space or (last_punct and not (next_space or next_punct)))
        if s[j] == "_":
            if (left and (not right or last_punct)) or (right and (not left or next_punct)):
                raise _Slow
        elif left != right:
            if k - j != 2:
                raise _Slow
            delims.append((len(out), left))
        elif left:
            raise _Slow  # can both open and close: the rule of three applies
        out.append((TEXT, s[j:k]))

    def _link(self, s: str, j: int, end: int, depth: int) -> tuple[int, int, str, int] | None:
        """markdown-it's inline link rule at s[j] == '[': (label start, label end, href, end) or None."""
        if depth > _MAX_DEPTH:
            raise _Slow
        label_end = self._label(s, j, end, depth)
        if label_end < 0:
            return None
        pos = label_end + 1
        if pos < end and s[pos] == "(":
            pos += 1
            while pos < end and s[pos] in _SPACES:
                pos += 1
            if pos >= end:
                return None
            href, pos = self._destination(s, pos, end)
            if pos < end and s[pos] == ")":
                return j + 1, label_end, href, pos + 1
        if "references" in self.env:
            raise _Slow  # it may be a reference link
        return None

    def _destination(self, s: str, pos: int, end: int) -> tuple[str, int]:
        """Destination and optional title after `(`; returns the href and the position reached."""
        dest_end = _raw_destination(s, pos, end)
        if dest_end < 0:
            return "", pos
        href = ""
        candidate = s[pos:dest_end]
        if self.md.validateLink(candidate):
            href, pos = candidate, dest_end
        before = pos
        while pos < end and s[pos] in _SPACES:
            pos += 1
        if pos < end and before != pos:
            title_end = _title(s, pos, end)
            if title_end >= 0:
                pos = title_end
                while pos < end and s[pos] in _SPACES:
                    pos += 1
        return href, pos

    def _label(self, s: str, j: int, end: int, depth: int) -> int:
        """markdown-it's parseLinkLabel with nested links disabled: the closing `]`, or -1."""
        level, pos = 1, j + 1
        while pos < end:
            match = _BRACKET_RE.search(s, pos, end)
            if match is None:
                return -1
            pos = match.start()
            if s[pos] == "]":
                level -= 1
                if level == 0:
                    return pos
                pos += 1
                continue
            if pos not in self._memo:
                self._memo[pos] = self._link(s, pos, end, depth + 1)
            if self._memo[pos] is not None:
                return -1
            level += 1
            pos += 1
        return -1

    # --- markdown-it path --------------------------------------------------------------

    def _slow(self, src: str) -> list[Token]:
        children: list[MdToken] = []
        self.md.inline.parse(src, self.md, self.env, children)
        return _convert(children)


_CHAR_CLASSES: dict[str, tuple[bool, bool]] = {}


def _char_class(char: str) -> tuple[bool, bool]:
    """(whitespace, punctuation) of a character as markdown-it's emphasis rule sees it; memoized."""
    found = _CHAR_CLASSES.get(char)
    if found is None:
        code = ord(char)
        found = _CHAR_CLASSES[char] = (isWhiteSpace(code), isMdAsciiPunct(code) or isPunctChar(char))
    return found


def _pair_strong(out: list[Token], delims: list[tuple[int, bool]]) -> None:
    """Turn alternating opener/closer `**` runs into strong tokens; anything else is slow."""
    if not delims:
        return
    if len(delims) % 2 or any(opens != (n % 2 == 0) for n, (_, opens) in enumerate(delims)):
        raise _Slow
    for index, opens in delims:
        out[index] = (STRONG_OPEN, "") if opens else (STRONG_CLOSE, "")


def _raw_destination(s: str, pos: int, end: int) -> int:
    """End of a raw link destination at pos (balanced parentheses, no spaces), or -1."""
    start, level = pos, 0
    while pos < end:
        match = _DEST_STOP_RE.search(s, pos, end)
        if match is None:
            pos = end
            break
        pos = match.start()
        char = s[pos]
        if char == "(":
            level += 1
            if level > 32:
                return -1
        elif char == ")" and level > 0:
            level -= 1
        else:
            break
        pos += 1
    if pos == start or level != 0:
        return -1
    return pos


def _title(s: str, pos: int, end: int) -> int:
    """End of a link title ("..", '..' or (..)) starting at pos, or -1."""
    opener = s[pos]
    if opener not in "\"'(":
        return -1
    closer = ")" if opener == "(" else opener
    pos += 1
    while pos < end:
        if s[pos] == closer:
            return pos + 1
        if opener == "(" and s[pos] == "(":
            return -1
        pos += 1
    return -1


def _convert(children: list[MdToken]) -> list[Token]:
    """markdown-it inline tokens -> our tokens."""
    out: list[Token] = []
    literal_em: list[bool] = []
    for index, tok in enumerate(children):
        kind = tok.type
        if kind in ("text", "text_special"):
            out.append((TEXT, tok.content))
        elif kind in ("softbreak", "hardbreak"):
            out.append((BREAK, ""))
        elif kind == "code_inline":
            out.append((CODE, tok.content))
        elif kind == "link_open":
            out.append((LINK_OPEN, str(tok.attrs.get("href", ""))))
        elif kind == "link_close":
            out.append((LINK_CLOSE, ""))
        elif kind == "strong_open":
            out.append((STRONG_OPEN, ""))
        elif kind == "strong_close":
            out.append((STRONG_CLOSE, ""))
        elif kind == "image":
            out.append((IMAGE, ""))
        elif kind == "html_inline":
            out.extend(html_tokens(tok.content))
        elif kind == "em_open":
            # `奇数*奇数，偶数*偶数`: a star inside a word was meant literally, not as emphasis.
            literal = tok.markup == "*" and _wordy(out, children, index)
            literal_em.append(literal)
            if literal:
                out.append((TEXT, "*"))
        elif kind == "em_close" and literal_em and literal_em.pop():
            out.append((TEXT, "*"))
    return out


def _wordy(out: list[Token], children: list[MdToken], index: int) -> bool:
    """Whether an emphasis opener sits between two word characters."""
    if not out or out[-1][0] != TEXT or not out[-1][1] or index + 1 >= len(children):
        return False
    after = children[index + 1]
    return bool(after.type == "text" and after.content and out[-1][1][-1].isalnum() and after.content[0].isalnum())


# --- HTML ----------------------------------------------------------------------------

_BREAK_TAGS = frozenset({"br", "p", "div", "li", "tr", "td", "th", "ul", "ol", "table", "h1", "h2", "h3", "h4",
                         "h5", "h6", "blockquote", "dd", "dt", "hr", "section", "article", "details", "summary"})


class _HtmlTokens(HTMLParser):
    """Anchors, images, bold and text of an HTML fragment; scripts, styles and comments dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[Token] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """An opening tag: anchors, images and bold matter, block tags break words."""
        if tag == "a":
            self.out.append((LINK_OPEN, next((v or "" for k, v in attrs if k == "href"), "")))
        elif tag == "img":
            self.out.append((IMAGE, ""))
        elif tag in ("b", "strong"):
            self.out.append((STRONG_OPEN, ""))
        elif tag in ("script", "style"):
            self._skip += 1
        elif tag in _BREAK_TAGS:
            self.out.append((BREAK, ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A self-closing tag (`<br/>`, `<img/>`); an empty anchor is nothing."""
        if tag != "a":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        """A closing tag."""
        if tag == "a":
            self.out.append((LINK_CLOSE, ""))
        elif tag in ("b", "strong"):
            self.out.append((STRONG_CLOSE, ""))
        elif tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BREAK_TAGS:
            self.out.append((BREAK, ""))

    def handle_data(self, data: str) -> None:
        """Text, unless inside a script or style."""
        if not self._skip:
            self.out.append((TEXT, data))


@lru_cache(maxsize=2048)
def _html_tokens_cached(html: str) -> tuple[Token, ...]:
    parser = _HtmlTokens()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient, but a reading list must never fail on odd HTML
        return tuple(tok for tok in parser.out if tok[0] == TEXT)
    return tuple(parser.out)


def html_tokens(html: str) -> list[Token]:
    """Tokens of an HTML fragment: anchors become links, images stay images, the rest is text."""
    return list(_html_tokens_cached(html))
