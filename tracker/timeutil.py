"""Time conversions: the database stores naive UTC, people read and type local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tracker.errors import UsageError


def to_utc(moment: datetime) -> datetime:
    """A naive-UTC datetime from an aware one, or from a naive one taken as local time."""
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive means local time
    return moment.astimezone(UTC).replace(tzinfo=None)


def to_local(stored: datetime) -> datetime:
    """An aware local datetime from a stored naive-UTC one (in UTC where local time would leave the calendar)."""
    aware = stored.replace(tzinfo=UTC)
    try:
        return aware.astimezone()
    except (OverflowError, ValueError):  # within hours of year 1 or 9999, stored before dates were checked
        return aware


def iso_local(stored: datetime | None) -> str | None:
    """A stored time as local ISO 8601 with its offset, to the second."""
    if stored is None:
        return None
    return to_local(stored).isoformat(timespec="seconds")


# `--at` may back-date a change, not date it ahead: a change dated later than the next one hides
# it. A day of slack covers clocks and time zones.
FUTURE_SLACK = timedelta(days=1)
EARLIEST = datetime(1970, 1, 1)


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """`--at` values: an ISO date or date-time, local unless it carries an offset; naive UTC out.

    UsageError for an empty or malformed value, or one before 1970 or more than a day after
    `now` (naive UTC, default the present).
    """
    value = text.strip()
    if not value:
        raise UsageError("empty date: give an ISO date like 2026-11-20 or 2026-11-20T21:30")
    try:
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), time())
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"bad date or time {text!r}: use an ISO date like 2026-11-20 or 2026-11-20T21:30") from None
    now = now or datetime.now(UTC).replace(tzinfo=None)
    try:
        stored = to_utc(moment)
    except (OverflowError, ValueError):  # a local time zone would take it off the calendar's ends
        stored = EARLIEST - FUTURE_SLACK if moment.year < EARLIEST.year else datetime.max
    if stored < EARLIEST:
        raise UsageError(f"date {text!r} is before 1970")
    if stored > now + FUTURE_SLACK:
        raise UsageError(f"date {text!r} is in the future: --at may only back-date a change")
    return stored


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds a `Retry-After` header asks to wait (a number or an HTTP date); None when absent or unreadable."""
    from email.utils import parsedate_to_datetime

    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - datetime.now(UTC).timestamp())
