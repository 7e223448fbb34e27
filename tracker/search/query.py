"""What a person types into the search box, read as terms; the FTS5 expression is built from them.

The rules: words are all required; `"several words"` is a phrase; `-word` or `-"a phrase"` leaves out
the items that hold it; `word*` matches words that start with it. A run of Chinese (or Japanese or
Korean) characters is a term of its own, matched as a substring, even inside a word written
without spaces (`BN为什么` is `BN` and `为什么`). Nothing typed is passed to FTS5 as syntax: every
term goes in as a quoted string, so `NEAR(`, `:`, `*` or a stray quote are only text (an unclosed
quote runs to the end). A query that leaves nothing to look for is a UsageError.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tracker.errors import UsageError
from tracker.search.words import CJK_CHARS, CJK_RUN, index_words

# Whitespace, and the quote that starts or ends a phrase.
_PIECES = re.compile(r'"([^"]*)"?|(\S+?)(?=\s|"|$)')
_CJK_SPLIT = re.compile(f"([{CJK_CHARS}]+)")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
MAX_QUERY_CHARS = 1_000
MAX_TERMS = 32


@dataclass(frozen=True)
class Term:
    """One thing to look for (or to leave out)."""

    text: str
    negated: bool = False
    phrase: bool = False  # quoted by the person: its words in this order
    prefix: bool = False  # ended with `*`

    @property
    def cjk(self) -> bool:
        """A run of CJK characters only."""
        return CJK_RUN.fullmatch(self.text) is not None

    def fts(self, relaxed: bool = False) -> str:
        """This term as an FTS5 string; `relaxed`, an unquoted CJK run of 3 or more matches any of its bigrams."""
        if relaxed and self.cjk and not self.phrase and len(self.text) > 2:
            return "(" + " OR ".join(_quoted(self.text[i:i + 2]) for i in range(len(self.text) - 1)) + ")"
        # A single CJK character is a prefix of the bigrams that start with it.
        star = "*" if self.prefix or (self.cjk and len(self.text) == 1) else ""
        return _quoted(index_words(self.text) or "") + star


@dataclass(frozen=True)
class Query:
    """The terms of a query, required ones first."""

    terms: tuple[Term, ...]

    @property
    def wanted(self) -> tuple[Term, ...]:
        """The terms an item must hold."""
        return tuple(t for t in self.terms if not t.negated)

    @property
    def unwanted(self) -> tuple[Term, ...]:
        """The terms an item must not hold."""
        return tuple(t for t in self.terms if t.negated)

    @property
    def relaxable(self) -> bool:
        """True where a relaxed reading (see Term.fts) could find more."""
        return any(t.cjk and not t.phrase and len(t.text) > 2 for t in self.wanted)

    def fts(self, relaxed: bool = False, column: str | None = None) -> str:
        """The whole query as an FTS5 expression, within one column if `column` is given."""
        expr = " AND ".join(t.fts(relaxed) for t in self.wanted)
        if self.unwanted:
            expr = f"({expr}) NOT ({' OR '.join(t.fts() for t in self.unwanted)})"
        return f"{{{column}}} : ({expr})" if column else expr


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def has_word(text: str) -> bool:
    """True if the tokenizer would find a word in `text` (a letter or digit somewhere)."""
    return any(unicodedata.category(c)[0] in "LN" or unicodedata.category(c) == "Co" for c in text)


def _word_terms(word: str, negated: bool) -> list[Term]:
    """An unquoted word: its CJK runs and the rest, each a term of its own."""
    prefix = word.endswith("*")
    out = []
    pieces = [p for p in _CJK_SPLIT.split(word.strip("*")) if p]
    for n, piece in enumerate(pieces):
        if has_word(piece):
            out.append(Term(piece, negated=negated, prefix=prefix and n == len(pieces) - 1 and
                            CJK_RUN.fullmatch(piece) is None))
    return out


def parse(text: str) -> Query:
    """The terms of a query as typed; UsageError where nothing is left to look for."""
    if len(text) > MAX_QUERY_CHARS:
        raise UsageError(f"the query is {len(text):,} characters; a search takes at most {MAX_QUERY_CHARS:,}")
    terms: list[Term] = []
    negate = False
    # Control characters separate words (FTS5 would read a NUL as the end of the query).
    text = _CONTROLS.sub(" ", text)
    for match in _PIECES.finditer(text):
        quoted, word = match.group(1), match.group(2)
        if word is not None and word.startswith("-") and len(word) == 1:
            negate = True  # `- "phrase"`: the minus stands apart from its phrase
            continue
        if quoted is not None:
            if has_word(quoted):
                terms.append(Term(" ".join(quoted.split()), negated=negate, phrase=True))
        elif word is not None:
            negated = word.startswith("-")
            terms += _word_terms(word[1:] if negated else word, negated)
        negate = False
    if not terms:
        raise UsageError("nothing to search for: give a word or a phrase")
    if not any(not t.negated for t in terms):
        raise UsageError("every word of the query is excluded (-word): give one to look for")
    if len(terms) > MAX_TERMS:
        raise UsageError(f"the query has {len(terms)} words; a search takes at most {MAX_TERMS}")
    # Required terms first; each once.
    unique = list(dict.fromkeys(sorted(terms, key=lambda t: t.negated)))
    return Query(terms=tuple(unique))

