"""Text as the search index reads it: Chinese, Japanese and Korean runs cut into overlapping bigrams.

SQLite's `unicode61` tokenizer splits words at spaces and punctuation, so a run of Chinese with no
spaces would be one long token and `卷积` would never be found inside `卷积神经网络`. Before the text
reaches the tokenizer, each CJK run is rewritten as its overlapping two-character pieces, as
Lucene's CJKAnalyzer does: `卷积神经` becomes `卷积 积神 神经`. A two-character query is then one
token, and a longer one a phrase of its bigrams; either finds every text holding it as a substring.
A run of one character stays as it is. Everything else passes through unchanged, for the
tokenizer (with the Porter stemmer for English word forms).

`tracker.search.index` registers `index_words` on every SQLite connection, for the index's views.
"""

from __future__ import annotations

import re

# Han (with extensions and compatibility ideographs), kana and Hangul syllables.
CJK_CHARS = ("\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
             "\U00020000-\U0002ebef\U00030000-\U0003134f")
CJK_RUN = re.compile(f"[{CJK_CHARS}]+")
_SPLIT = re.compile(f"([{CJK_CHARS}]+)")
_PAIR = str.__add__


def index_words(text: str | None) -> str | None:
    """`text` with every CJK run replaced by its overlapping bigrams, spaced apart."""
    if text is None or text.isascii():
        return text
    # Split once (in C) and rewrite the runs in one comprehension: a callback per run costs more.
    parts = _SPLIT.split(text)
    parts[1::2] = [f" {run} " if len(run) == 1 else " " + " ".join(map(_PAIR, run, run[1:])) + " "
                   for run in parts[1::2]]
    return "".join(parts)
