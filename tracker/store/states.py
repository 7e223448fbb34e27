"""The fixed vocabularies of statuses, paper states, kinds and crawl states, as types and as word lists.

Their own module, free of the table models, so that what only needs a word list stays cheap to
import (`tracker progress` never builds the models). Each word list is read off its type, so the two
cannot drift apart.
"""

from __future__ import annotations

from typing import Literal, TypeGuard, get_args

Status = Literal["unread", "reading", "digested", "skipped"]
# Papers found by the fetcher wait in the inbox; dismissed ones never come back.
PaperState = Literal["inbox", "dismissed"]
Kind = Literal["paper", "question", "article", "listing", "repo", "book", "course", "page"]
FetchState = Literal["ok", "unchanged", "blocked", "gone", "error"]

STATUSES: tuple[Status, ...] = get_args(Status)
PAPER_STATES: tuple[PaperState, ...] = get_args(PaperState)
KINDS: tuple[Kind, ...] = get_args(Kind)
FETCH_STATES: tuple[FetchState, ...] = get_args(FetchState)


def is_status(word: str) -> TypeGuard[Status]:
    """True for a status word of the reading list."""
    return word in STATUSES
