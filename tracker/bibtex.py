"""Writing BibTeX for arXiv papers, in the form Zotero, JabRef and biblatex read.

Entries are `@misc` with `eprint`, `archivePrefix` and `primaryClass` (the fields arXiv's own
export uses), so BibTeX styles print "arXiv:ID [cs.LG]". The title is arXiv's; where the reading
list calls the paper something else, its words go to `note` (after any journal reference). Text
is escaped for LaTeX, and non-ASCII letters are kept as UTF-8, which biber, Zotero and JabRef all read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# LaTeX's special characters, each written so that it prints as itself.
_REPLACE = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
    "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
_SPECIAL = re.compile("|".join(re.escape(k) for k in _REPLACE))
# Words too common to name an entry by.
_STOP = {"a", "an", "the", "on", "of", "for", "in", "to", "and", "with", "towards", "via", "is", "are"}


@dataclass(frozen=True)
class PaperRef:
    """What an entry needs: the paper's identity and its citation fields."""

    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    year: int | None
    primary_category: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    curated_title: str | None = None  # the reading list's own words for the paper, where they differ


def escape(text: str) -> str:
    """Text as LaTeX source that prints it as it is."""
    return _SPECIAL.sub(lambda m: _REPLACE[m.group(0)], " ".join(text.split()))


def _ascii_word(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]", "", plain).lower()


def cite_key(ref: PaperRef) -> str:
    """`he2015deep`: first author's family name, year, first significant title word."""
    family = _ascii_word(ref.authors[0].split()[-1]) if ref.authors and ref.authors[0].split() else ""
    words = [_ascii_word(w) for w in ref.title.split()]
    word = next((w for w in words if w and w not in _STOP), "")
    if not family:
        # No author known yet (an outline link not resolved): a key must still start with a letter.
        return "arxiv" + (f"{ref.year}{word}" if word else re.sub(r"[^0-9A-Za-z]", "", ref.arxiv_id))
    return f"{family}{ref.year or ''}{word}"


def _author(name: str) -> str:
    # "Family, Given" is the one form every BibTeX reader splits correctly, whatever the particles.
    parts = name.split()
    if len(parts) < 2:
        return escape(name)
    return f"{escape(parts[-1])}, {escape(' '.join(parts[:-1]))}"


def entry(ref: PaperRef, key: str) -> str:
    """One `@misc` entry."""
    # The inner braces keep the title's own capitals (GAN, ResNet) in styles that lower-case titles.
    fields = [("title", "{" + escape(ref.title) + "}")]
    if ref.authors:
        fields.append(("author", " and ".join(_author(a) for a in ref.authors)))
    if ref.year:
        fields.append(("year", str(ref.year)))
    fields += [("eprint", ref.arxiv_id), ("archivePrefix", "arXiv")]
    if ref.primary_category:
        fields.append(("primaryClass", ref.primary_category))
    if ref.doi:
        fields.append(("doi", ref.doi))
    notes = [escape(text) for text in (ref.journal_ref, ref.curated_title) if text and text.strip()]
    if notes:
        fields.append(("note", "; ".join(notes)))
    fields.append(("url", f"https://arxiv.org/abs/{ref.arxiv_id}"))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key},\n{body}\n}}\n"


def render(refs: Iterable[PaperRef]) -> str:
    """Entries for every paper, keys made unique with a, b, c … as BibTeX users expect."""
    seen: dict[str, int] = {}
    out = []
    for ref in refs:
        key = cite_key(ref)
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n:
            key = f"{key}{chr(ord('a') + n - 1) if n <= 26 else n}"
        out.append(entry(ref, key))
    return "\n".join(out)
