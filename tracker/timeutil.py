"""Time conversions: the database stores naive UTC, people read and type local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from tracker.errors import UsageError


def to_utc(moment: datetime) -> datetime:
    """A naive-UTC datetime from an aware one, or from a naive one taken as local time."""
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive means local time
    return moment.astimezone(UTC).replace(tzinfo=None)


def to_local(stored: datetime) -> datetime:
    """An aware local datetime from a stored naive-UTC one."""
    return stored.replace(tzinfo=UTC).astimezone()


def iso_local(stored: datetime | None) -> str | None:
    """A stored time as local ISO 8601 with its offset, to the second."""
    if stored is None:
        return None
    return to_local(stored).isoformat(timespec="seconds")


def parse_when(text: str) -> datetime:
    """`--at` values: an ISO date or date-time, local unless it carries an offset; naive UTC out."""
    value = text.strip()
    try:
        if len(value) == 10:
            return to_utc(datetime.combine(date.fromisoformat(value), time()))
        return to_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise UsageError(f"bad date or time {text!r}: use an ISO date like 2026-11-20 or 2026-11-20T21:30") from None


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
