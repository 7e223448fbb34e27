"""Why links failed, in a few words a person can scan: the crawl's one-line summary.

The crawler stores each failure's own reason ("timeout after 20 s", "zhihu login wall", "HTTP 503").
A summary of ninety links should not print ninety reasons, so reasons are grouped by cause: the
kind of failure, with the site and the figures taken out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from tracker.store.tables import fetch_t

# Checked in order: the first pattern found in a reason names its cause.
_CAUSES: tuple[tuple[str, str], ...] = (
    ("login expired", "login expired"),
    ("offline", "offline"),
    (r"login|sign.?in|unhuman|passport", "login"),
    (r"verification|anti-bot|challenge|captcha|human check", "anti-bot check"),
    (r"robots\.txt", "robots.txt"),
    (r"rate limit", "rate limited"),
    (r"timeout|timed out", "timeout"),
    (r"dns|name or service|nodename", "unknown host"),
    (r"cannot connect|connection refused|connect", "cannot connect"),
    (r"crashed", "crashed the reader"),
    (r"body over", "too large"),
    (r"redirect", "redirect refused"),
)
_HTTP = re.compile(r"\bHTTP (\d{3})\b")

# The states a summary line names, in its order.
SUMMARY_STATES = ("ok", "unchanged", "blocked", "gone", "error")


def cause(reason: str | None) -> str:
    """The cause a stored reason belongs to: a short phrase, the same for every site."""
    if not reason:
        return "unknown"
    lowered = reason.lower()
    for pattern, name in _CAUSES:
        if re.search(pattern, lowered):
            return name
    status = _HTTP.search(reason)
    if status:
        return f"HTTP {status.group(1)}"
    return "other"


def causes_since(conn: Connection, since: datetime) -> dict[str, Counter[str]]:
    """For each failed state, how many items checked at or after `since` failed of each cause."""
    rows = conn.execute(
        select(fetch_t.c.state, fetch_t.c.error, func.count())
        .where(fetch_t.c.checked_at >= since, fetch_t.c.state.in_(("blocked", "gone", "error")))
        .group_by(fetch_t.c.state, fetch_t.c.error))
    grouped: dict[str, Counter[str]] = {}
    for state, error, n in rows:
        grouped.setdefault(state, Counter())[cause(error)] += n
    return grouped


def summary_line(counts: Mapping[str, int], causes: Mapping[str, Counter[str]]) -> str:
    """`90 checked — 3 ok, 79 blocked (login), 8 error (offline)`: the states that occurred, with their causes."""
    parts = [f"{counts.get(state, 0)} {state}{_causes_text(causes.get(state, Counter()))}"
             for state in SUMMARY_STATES if counts.get(state, 0)]
    extra = [f"{counts[name]} {name}" for name in ("skipped", "discovered") if counts.get(name)]
    tail = ", ".join(parts + extra) or "nothing was due"
    return f"{counts.get('checked', 0)} checked — {tail}"


def _causes_text(causes: Counter[str]) -> str:
    if not causes:
        return ""
    named: Iterable[tuple[str, int]] = causes.most_common(3)
    shown = ", ".join(name if len(causes) == 1 else f"{name} {n}" for name, n in named)
    more = len(causes) - 3
    return f" ({shown}{f', {more} more causes' if more > 0 else ''})"
