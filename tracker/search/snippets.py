"""The snippet beside each hit: a short window of the field that matched, with the matches' offsets.

Matching here is for showing, not for finding: FTS5 (or the scan) has already decided the hits.
A CJK term is found as the substring it is (with its bigrams, where a relaxed search found only
those); a word is found at the start of words with a light English stem, so `normalization`
marks `normalize`, `normalized` and `normalization`, as the Porter stemmer that found them would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from tracker.search.query import Query, Term
from tracker.search.words import CJK_RUN

WIDTH = 160
BEFORE = 50
# Longest first: the first that leaves a stem of at least four letters is cut.
_SUFFIXES = ("izations", "ization", "isation", "ational", "ations", "ation", "nesses", "ness", "ments", "ment",
             "izing", "ising", "ized", "ised", "izes", "ises", "ize", "ise", "ings", "ing", "ions", "ion", "edly",
             "ed", "ies", "es", "s", "al", "ly")
_LATIN = "0-9A-Za-z\u00c0-\u024f"
_WORD = re.compile(f"[{_LATIN}]+")
_LATIN_CHAR = re.compile(f"[{_LATIN}]")


def stem(word: str) -> str:
    """A light English stem: lower case, one common suffix cut."""
    word = word.lower()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[:-len(suffix)]
    return word


def _term_patterns(term: Term) -> tuple[list[str], list[str]]:
    """The word stems and the CJK substrings that mark `term`, escaped for a pattern."""
    words = [re.escape(stem(w) if not term.prefix else w.lower())
             for piece in CJK_RUN.split(term.text) for w in _WORD.findall(piece)]
    runs = []
    for run in CJK_RUN.findall(term.text):
        runs.append(re.escape(run))
        runs += [re.escape(run[i:i + 2]) for i in range(len(run) - 1)] if len(run) > 2 else []
    return words, runs


def pattern(query: Query) -> re.Pattern[str]:
    """One pattern finding every wanted term of `query` (longer alternatives first); take its matches
    with `matches`, which keeps a word's only where a word starts.

    The start-of-word test is made on each match, not in the pattern: a pattern that opens with a
    look-behind is tried at every character of the text, several times slower over a long page than
    one that opens with the words themselves.
    """
    words: set[str] = set()
    runs: set[str] = set()
    for term in query.wanted:
        more_words, more_runs = _term_patterns(term)
        words.update(more_words)
        runs.update(more_runs)
    parts = sorted(runs, key=len, reverse=True)
    if words:
        parts.insert(0, f"(?:{'|'.join(sorted(words, key=len, reverse=True))})[{_LATIN}]*")
    return re.compile("|".join(parts) or "(?!)", re.IGNORECASE)


def matches(found: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """`found`'s matches in `text`, but for words found inside a longer word (`norm` in `abnormal`)."""
    for match in found.finditer(text):
        start = match.start()
        if start and _LATIN_CHAR.match(text, start) and _LATIN_CHAR.match(text, start - 1):
            continue  # a word's match must start a word; a CJK run's may start anywhere
        yield match


def _window(text: str, at: int) -> tuple[str, int, int]:
    """The stretch of `text` around offset `at`, cut at spaces where one is near."""
    start = max(0, at - BEFORE)
    if start > 0:
        space = text.find(" ", start, at)
        start = space + 1 if 0 <= space < start + 15 else start
    end = min(len(text), start + WIDTH)
    if end < len(text):
        space = text.rfind(" ", end - 20, end)
        end = space if space > at else end
    return text[start:end], start, end


def snippet(fields: Sequence[str | None], found: re.Pattern[str]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A snippet of the first field holding a match (else the first non-empty), and the matches in it.

    Offsets are [start, end) in characters of the snippet returned.
    """
    texts = [f for f in fields if f]
    if not texts:
        return "", ()
    for text in texts:
        match = next(matches(found, text), None)
        if match is not None:
            part, start, end = _window(text, match.start())
            break
    else:
        part, start, end = _window(texts[0], 0)
        text = texts[0]
    lead = "…" if start > 0 else ""
    shown = lead + " ".join(part.split()) + ("…" if end < len(text) else "")
    return shown, tuple((m.start(), m.end()) for m in matches(found, shown) if m.end() > m.start())
