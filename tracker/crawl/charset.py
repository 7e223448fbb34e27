"""The character set of a fetched page, the way browsers find it: header, then BOM, then <meta>.

Chinese sites still serve GB2312 and GBK; both are read as GB18030, their superset, since pages
labelled GB2312 routinely use characters only GBK has.
"""

from __future__ import annotations

import codecs
import re

_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
              "iso-8859-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
META_WINDOW = 4096


def normalize(label: str | None) -> str | None:
    """A Python codec name for a charset label, widened to its superset; None if unknown."""
    if not label:
        return None
    label = label.strip().lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name if label not in ("utf-8-sig",) else label
    except LookupError:
        return None


def from_content_type(value: str | None) -> str | None:
    """The charset a Content-Type header declares."""
    match = _HEADER.search(value or "")
    return normalize(match.group(1)) if match else None


def detect(content_type: str | None, body: bytes) -> str | None:
    """The page's charset: header, BOM, or <meta> in the first 4 KB; None when nothing says."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name  # a BOM is stronger evidence than any label
    declared = from_content_type(content_type)
    if declared:
        return declared
    match = _META.search(body[:META_WINDOW])
    if not match:
        return None
    found = normalize(match.group(1).decode("ascii", "ignore"))
    # A <meta> can only be read at all if the page is ASCII-compatible, so a UTF-16 label there
    # is wrong by construction; browsers read such pages as UTF-8.
    return "utf-8" if found and found.startswith("utf-16") else found


def decode(body: bytes, charset: str | None) -> str:
    """Text of a page; bytes that do not fit the charset become U+FFFD instead of failing."""
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a label no codec answers to: read it as the web's default
        return body.decode("utf-8", errors="replace")
