"""Markdown source -> the blocks an outline is made of, in document order.

A block is a heading, one list item's own text, a paragraph, a table row, an HTML block
or some other block (code, rule) that only separates groups. Inline sources stay raw;
`inline` parses them once every reference definition is known.

markdown-it's block parser alone needs seconds for a large outline, so the text is cut
at ATX headings and at column-0 lines after a blank line, where every open block but a
fence or HTML block has ended, and each piece made only of plain paragraphs and simple
lists is read here, by CommonMark's rules for that subset. Pieces with anything else
(indented or fenced code, HTML, quotes, tables, setext headings, reference definitions,
tabs) go to markdown-it, which also decides where such a piece really ends.

markdown-it drops, without a word, everything after a block nested deeper than its
`maxNesting` (a list ten levels deep at its default). The outline's markdown-it allows
`MAX_NESTING`, as deep as its recursion safely goes; a piece nested deeper still is read
again with its lists and quotes flattened to one level, so every entry in it is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    from markdown_it.utils import EnvType

HEADING, ITEM, PARA, ROW, HTML, OTHER = "heading", "item", "para", "row", "html", "other"

_ATX_RE = re.compile(r"#{1,6}(?:[ \t]|$)")
# Line starts that may open a block other than a paragraph or a simple list item. The bracket scans
# never give back what they took (`*+`): a link's text is read once, not again at every length.
_UNSAFE = (r"""[#>=|<`~:\-+_\s]|\*\s|\*$|\*\*[\s*]|\*\*$|\d{1,9}[.)](?:[ \t]|$)"""
           r"""|\[[^\]\\]*+(?:\\.[^\]\\]*+)*+\]:|\[[^\]]*+$""")
_UNSAFE_RE = re.compile(_UNSAFE)
# A list item marker followed by content that starts nothing but a paragraph.
_ITEM_RE = re.compile(rf"( *)([-*+]|(\d{{1,9}})[.)])( {{1,4}})(?=\S)(?!{_UNSAFE})")
_MAX_LIST_DEPTH = 8
# Block nesting markdown-it is given (a list level takes two): about three frames of recursion each.
MAX_NESTING = 64
# The containers that open a line: blank space, quote markers and list markers, in any mix.
_CONTAINERS_RE = re.compile(r"(?:[ \t]*(?:>|(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$)))*[ \t]*")
_QUOTE_ONLY_RE = re.compile(r"[ \t>]*")
# Tokens that open a top-level block.
_TOP_STARTS = frozenset({"paragraph_open", "heading_open", "html_block", "fence", "code_block", "hr", "table_open",
                         "blockquote_open", "bullet_list_open", "ordered_list_open"})


class UnreadableOutline(ValueError):
    """Part of a text could not be read into blocks; `line` (0-based) is where it starts."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line + 1}: {reason}")
        self.line = line


class Block(NamedTuple):
    """One block: its kind, first source line (0-based), inline sources, heading level, inside a list item."""

    kind: str
    line: int
    parts: tuple[str, ...]
    level: int = 0
    in_item: bool = False


def is_blank(line: str) -> bool:
    """Whether a source line is blank for Markdown (spaces and tabs only)."""
    return not line.strip(" \t")


def read_blocks(lines: list[str], md: MarkdownIt, env: EnvType, fast: bool = True) -> list[Block]:
    """The blocks of a document given as lines; reference definitions are collected into env."""
    if not fast:
        return _from_tokens(_md_parse(md, "\n".join(lines), env), 0)
    bounds = [0] + [i for i in range(1, len(lines)) if _boundary(lines, i)]
    bounds.append(len(lines))
    blocks: list[Block] = []
    k, count = 0, len(bounds) - 1
    while k < count:
        simple = _simple_piece(lines, bounds[k], bounds[k + 1])
        if simple is not None:
            blocks.extend(simple)
            k += 1
            continue
        step = 1
        while True:
            stop = min(k + step, count)
            tokens = _closed_region(md, lines, bounds[k], bounds[stop], env)
            if tokens is not None:
                break
            step *= 2
        blocks.extend(_from_tokens(tokens, bounds[k]))
        k = stop
    return blocks


def _boundary(lines: list[str], number: int) -> bool:
    """Whether a line may start a piece: an ATX heading, or any line at column 0 after a blank line.

    Neither can continue a paragraph; only an open fence or HTML block could swallow them,
    which `_closed_region` checks. A list item there may continue the list before it in the
    whole document, but it is the same item either way.
    """
    line = lines[number]
    if line[:1] == "#" and _ATX_RE.match(line):
        return True
    return line[:1] not in ("", " ", "\t") and not lines[number - 1].strip(" \t")


def _md_parse(md: MarkdownIt, text: str, env: EnvType, base: int = 0) -> list[Token]:
    """Block tokens of text; its reference definitions join env."""
    local: EnvType = {}
    tokens = _whole_tokens(md, text, local, base)
    _merge_references(env, local)
    return tokens


def _whole_tokens(md: MarkdownIt, text: str, local: EnvType, base: int) -> list[Token]:
    """markdown-it's block tokens for all of text, its containers flattened where they nest too deep.

    `base` is text's first line in the document, for the message of UnreadableOutline.
    """
    tokens = list(md.parse(text, local))
    deep = _too_deep(tokens, md.options.maxNesting)
    if deep is None:
        return tokens
    local.clear()
    tokens = list(md.parse(flatten_containers(text), local))
    if _too_deep(tokens, md.options.maxNesting) is not None:
        raise UnreadableOutline(base + deep, f"blocks nested more than {md.options.maxNesting} deep")
    return tokens


def _too_deep(tokens: list[Token], limit: int) -> int | None:
    """The line of the first block that reached markdown-it's nesting limit (its content is lost), or None."""
    for tok in tokens:
        if tok.nesting == 1 and tok.level >= limit - 1:
            return tok.map[0] if tok.map else 0
    return None


def flatten_containers(text: str) -> str:
    """text with every line's quote and list markers taken off: list items become items of one flat list.

    Each line keeps its place, so line numbers still hold. An item with no text becomes a blank
    line rather than a lone `-`, which under a paragraph would make it a heading.
    """
    out = []
    for line in text.split("\n"):
        prefix = _CONTAINERS_RE.match(line)
        assert prefix is not None  # the pattern matches the empty string
        content = line[prefix.end():]
        if len(_QUOTE_ONLY_RE.match(line).group()) < prefix.end():  # type: ignore[union-attr]
            out.append("- " + content if content else "")
        else:
            out.append(content)
    return "\n".join(out)


def _merge_references(env: EnvType, local: EnvType) -> None:
    """Add a region's reference definitions to the document's; the first definition of a label wins."""
    if "references" in local:
        refs = env.setdefault("references", {})
        for label, ref in local["references"].items():
            refs.setdefault(label, ref)


def _closed_region(md: MarkdownIt, lines: list[str], start: int, stop: int, env: EnvType) -> list[Token] | None:
    """markdown-it's tokens for lines[start:stop] if the line at `stop` starts a block of its own, else None."""
    text = "\n".join(lines[start:stop])
    if stop >= len(lines):
        return _md_parse(md, text, env, start)
    local: EnvType = {}
    probe = _whole_tokens(md, text + "\n" + lines[stop], local, start)
    boundary = stop - start
    for index, tok in enumerate(probe):
        if tok.map and tok.map[0] >= boundary:
            top = tok.level == 0 and tok.type in _TOP_STARTS
            if tok.map[0] != boundary or not (top or (tok.type == "list_item_open" and tok.level == 1)):
                return None
            _merge_references(env, local)
            return probe[:index]
    return None  # swallowed by a fence or an HTML block that is still open


# --- the simple subset ---------------------------------------------------------------


def _heading(line: str, number: int) -> Block:
    """An ATX heading line, with markdown-it's trimming of the closing `#`s."""
    level = len(line) - len(line.lstrip("#"))
    end = len(line.rstrip(" \t"))
    tmp = end
    while tmp > level and line[tmp - 1] == "#":
        tmp -= 1
    if tmp > level and line[tmp - 1] in " \t":
        end = tmp
    return Block(HEADING, number, (line[level:end].strip(),), level)


def _simple_piece(lines: list[str], start: int, stop: int) -> list[Block] | None:
    """The blocks of lines[start:stop] if they hold only paragraphs and simple lists, else None."""
    out: list[Block] = []
    first = start
    if lines[start][:1] == "#" and _ATX_RE.match(lines[start]):
        out.append(_heading(lines[start], start))
        first += 1
    stack: list[tuple[int, str]] = []  # open list items: (content column, marker)
    open_at = -1  # index in out of the block whose paragraph is still open
    for number in range(first, stop):
        line = lines[number]
        if not line.strip(" \t"):
            open_at = -1
            continue
        match = _ITEM_RE.match(line)
        if match:
            if not _list_item(match, stack, open_at >= 0):
                return None
            open_at = len(out)
            out.append(Block(ITEM, number, (line[match.end():],)))
            continue
        indent = len(line) - len(line.lstrip(" "))
        if _UNSAFE_RE.match(line, indent):
            return None
        if open_at >= 0:  # paragraph continuation, lazy or not
            block = out[open_at]
            # Inner line ends stay: a trailing backslash or two spaces make a hard break.
            out[open_at] = block._replace(parts=(block.parts[0] + "\n" + line[indent:],))
            continue
        if indent:
            return None  # indented code, or a list item's second paragraph
        stack.clear()
        open_at = len(out)
        out.append(Block(PARA, number, (line,)))
    return out


def _list_item(match: re.Match[str], stack: list[tuple[int, str]], in_paragraph: bool) -> bool:
    """Push the list item a marker line opens onto stack; False where CommonMark would read it otherwise."""
    indent = len(match.group(1))
    if stack:
        if len(stack) >= _MAX_LIST_DEPTH:
            return False
        popped = None
        while stack and stack[-1][0] > indent:
            popped = stack.pop()
    elif not indent and not in_paragraph:
        stack.append((match.end(), match.group(2)[-1]))  # the common case: a top-level item
        return True
    else:
        popped = None
    if indent - (stack[-1][0] if stack else 0) > 3:
        return False
    number = match.group(3)
    kind = match.group(2)[-1]
    # An ordered item not numbered 1 cannot interrupt a paragraph: it is continuation text.
    if in_paragraph and number and int(number) != 1 and (popped is None or popped[1] != kind):
        return False
    stack.append((match.end(), kind))
    return True


# --- markdown-it tokens --------------------------------------------------------------


def _from_tokens(tokens: list[Token], base: int) -> list[Block]:
    """Blocks from markdown-it block tokens; `base` is the first line of the parsed text."""
    out: list[Block] = []
    items: list[_OpenItem] = []
    row: list[str] | None = None
    row_line = 0
    for index, tok in enumerate(tokens):
        kind = tok.type
        line = base + (tok.map[0] if tok.map else 0)
        if kind == "paragraph_open":
            content = tokens[index + 1].content
            if items and not items[-1].emitted and tok.level == items[-1].level + 1:
                items[-1].paragraphs.append(content)
            else:
                _flush_items(items, out)
                out.append(Block(PARA, line, (content,), in_item=bool(items)))
        elif kind == "list_item_open":
            _flush_items(items, out)
            items.append(_OpenItem(line, [], tok.level))
        elif kind == "list_item_close":
            _flush_items(items, out)
            items.pop()
        elif kind == "heading_open":
            _flush_items(items, out)
            out.append(Block(HEADING, line, (tokens[index + 1].content,), int(tok.tag[1:])))
        elif kind == "tr_open":
            row, row_line = [], line
        elif kind == "inline" and row is not None:
            row.append(tok.content)
        elif kind == "tr_close" and row is not None:
            out.append(Block(ROW, row_line, tuple(row), in_item=bool(items)))
            row = None
        elif kind in ("html_block", "fence", "code_block", "hr", "table_open", "blockquote_open",
                      "bullet_list_open", "ordered_list_open"):
            _flush_items(items, out)
            if kind == "html_block":
                out.append(Block(HTML, line, (tok.content,), in_item=bool(items)))
            elif kind in ("fence", "code_block", "hr"):
                out.append(Block(OTHER, line, (), in_item=bool(items)))
    return out


@dataclass(slots=True)
class _OpenItem:
    """A list item whose close token has not come yet: its line, its own paragraphs, its token level."""

    line: int
    paragraphs: list[str]
    level: int
    emitted: bool = False


def _flush_items(items: list[_OpenItem], out: list[Block]) -> None:
    """Emit the innermost open item's own text once: before its nested blocks, or at its end."""
    if items and not items[-1].emitted:
        item = items[-1]
        item.emitted = True
        out.append(Block(ITEM, item.line, tuple(item.paragraphs)))
