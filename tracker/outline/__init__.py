"""Markdown reading lists -> an `Outline` of headings, topic lines and entries. Pure: text in, values out.

The parts, in the order text flows through them:

- `blocks`: the Markdown source cut into blocks (headings, list items, paragraphs, table rows);
- `inline`: each block's inline Markdown as a flat list of tokens;
- `links`: one block's tokens -> its words, its links and its bold spans;
- `text`: the rules for titles (generic link words, bare URLs, clean-up);
- `parse`: the blocks walked into an `Outline`.

URL normalization lives in `tracker.urls`, shared with the crawler.
"""

from __future__ import annotations

from tracker.outline.blocks import UnreadableOutline
from tracker.outline.parse import Entry, Heading, Outline, normalize_title, parse_outline

__all__ = ["Entry", "Heading", "Outline", "UnreadableOutline", "normalize_title", "parse_outline"]
