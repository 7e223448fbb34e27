"""ISO weeks in local time: Monday 00:00 to the next Monday 00:00, as stored (naive UTC) bounds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from tracker.errors import UsageError
from tracker.timeutil import to_utc

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Week:
    """An ISO week with its local bounds as stored (naive UTC) times."""

    label: str
    monday: date
    start: datetime
    end: datetime  # exclusive: next Monday 00:00 local

    @property
    def last_moment(self) -> datetime:
        """The week's final instant, for 'as it stood at the end'."""
        return self.end - timedelta(microseconds=1)


# Weeks whose bounds every time zone can hold: local Monday 00:00 of year 1 or of 9999's last
# week is off the calendar in UTC, and nothing was read before 1970.
FIRST_YEAR, LAST_YEAR = 1970, 9998


def parse_week(text: str) -> tuple[int, int]:
    """(year, week) from `2026-W47`, or UsageError (also for years outside 1970-9998)."""
    match = WEEK_RE.match(text.strip())
    if match:
        year, week = int(match[1]), int(match[2])
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise UsageError(f"week {text!r} is out of range: use a year from {FIRST_YEAR} to {LAST_YEAR}")
        try:
            date.fromisocalendar(year, week, 1)
            return year, week
        except ValueError:
            pass
    raise UsageError(f"bad week {text!r}: use an ISO week like 2026-W47")


def week_of(label: str | None, now: datetime) -> Week:
    """The week named by `label`, or the one holding `now` (aware local time)."""
    year, number = parse_week(label) if label else now.isocalendar()[:2]
    monday = date.fromisocalendar(year, number, 1)
    start = to_utc(datetime.combine(monday, time()))
    end = to_utc(datetime.combine(monday + timedelta(days=7), time()))
    return Week(label=f"{year}-W{number:02d}", monday=monday, start=start, end=end)
