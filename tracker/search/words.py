"""Text as the search index reads it: Chinese, Japanese and Korean runs cut into overlapping bigrams.

SQLite's `unicode61` tokenizer splits words at spaces and punctuation, so a run of Chinese with no
spaces would be one long token and `卷积` would never be found inside `卷积神经网络`. Before the text
reaches the tokenizer, each CJK run is rewritten as its overlapping two-character pieces, as
Lucene's CJKAnalyzer does: `卷积神经` becomes `卷积 积神 神经`. A two-character query is then one
token, and a longer one a phrase of its bigrams; either finds every text holding it as a substring.
A run of one character stays as it is. Everything else passes through unchanged, for the
tokenizer (with the Porter stemmer for English word forms).

`tracker.search.index` registers `index_words` on every SQLite connection, for the index's views.
Long texts (crawled pages) are cut with numpy, whole arrays at a time; short ones (titles, notes,
abstracts) in plain Python, which costs less than loading numpy for them.
"""

from __future__ import annotations

import re
from typing import Any

# Han (with extensions and compatibility ideographs), kana and Hangul syllables.
CJK_CHARS = ("\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
             "\U00020000-\U0002ebef\U00030000-\U0003134f")
CJK_RUN = re.compile(f"[{CJK_CHARS}]+")
_SPLIT = re.compile(f"([{CJK_CHARS}]+)")
_PAIR = str.__add__
# Ranges of CJK_CHARS as code points, for the array version.
_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF),
           (0x20000, 0x2EBEF), (0x30000, 0x3134F))
# From this many characters on, the array version is used.
LONG = 2_000
_bmp_table: Any = None


def index_words(text: str | None) -> str | None:
    """`text` with every CJK run replaced by its overlapping bigrams, spaced apart."""
    if text is None or text.isascii():
        return text
    if len(text) >= LONG:
        return _index_words_array(text)
    # Split once (in C) and rewrite the runs in one comprehension: a callback per run costs more.
    parts = _SPLIT.split(text)
    parts[1::2] = [f" {run} " if len(run) == 1 else " " + " ".join(map(_PAIR, run, run[1:])) + " "
                   for run in parts[1::2]]
    return "".join(parts)


def _index_words_array(text: str) -> str:
    """`index_words` over arrays of code points: the same tokens, for long texts.

    Each character gets three output slots: a character that starts a pair writes the pair and a
    space; a run's last character writes nothing (the pair before it holds it); a run of one, or a
    character just before a run, writes itself and a space; any other character writes itself.
    Unused slots hold a value no character has and are dropped before decoding.
    """
    global _bmp_table
    import numpy as np

    if _bmp_table is None:
        table = np.zeros(0x10000, dtype=bool)
        for low, high in _RANGES:
            if high <= 0xFFFF:
                table[low:high + 1] = True
        _bmp_table = table
    unused = np.uint32(0xFFFFFFFF)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    size = len(codes)
    marks = np.zeros(size + 1, dtype=bool)  # marks[i]: character i is CJK; one False past the end
    cjk = marks[:size]
    np.take(_bmp_table, np.minimum(codes, 0xFFFF), out=cjk)
    for low, high in _RANGES:
        if high > 0xFFFF:
            cjk |= (codes >= low) & (codes <= high)
    before = marks[1:]  # the next character is CJK
    after = np.zeros(size, dtype=bool)  # the previous character is CJK
    after[1:] = cjk[:-1]
    pair = cjk & before
    out = np.full((size, 3), unused, dtype=np.uint32)
    out[:, 0] = codes
    out[cjk & after & ~before, 0] = unused
    second = out[:-1, 1]
    second[pair[:-1]] = codes[1:][pair[:-1]]
    out[(before & ~cjk) | (cjk & ~before & ~after), 1] = 32
    out[pair, 2] = 32
    flat = out.ravel()
    return flat[flat != unused].tobytes().decode("utf-32-le")
