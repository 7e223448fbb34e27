"""The fixed vocabularies of statuses, paper states, kinds and crawl states.

Their own module, free of the table models, so that what only needs a word list stays cheap to
import (`tracker progress` never builds the models).
"""

STATUSES = ("unread", "reading", "digested", "skipped")
# Papers found by the fetcher wait in the inbox; dismissed ones never come back.
PAPER_STATES = ("inbox", "dismissed")
KINDS = ("paper", "question", "article", "listing", "repo", "book", "course", "page")
FETCH_STATES = ("ok", "unchanged", "blocked", "gone", "error")
