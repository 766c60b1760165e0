"""Xero's date formats, both ways: `/Date(ms+0000)/`, its `*String` twin, and ISO.

Xero writes every date as a .NET JSON date, milliseconds since the epoch in UTC with an
offset suffix, and a calendar date as midnight UTC of that day. It accepts ISO dates in
request bodies too, and xero-python sends `/Date(ms)/` without an offset, so the sandbox
reads all three.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# NOTE: the digits may be negative (a date before 1970 that a user typed) or zero;
# parsers that only take \d+ crash a whole page on them (case C06, tap-xero#68).
_MS_DATE = re.compile(r"^/Date\((?P<ms>-?\d+)(?P<offset>[+-]\d{4})?\)/$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class DateFormatError(ValueError):
    """A value that is neither a `/Date(ms)/` nor an ISO date or timestamp."""


def ms_of(instant: datetime | date) -> int:
    """Milliseconds since the epoch; a plain date counts as midnight UTC."""
    if not isinstance(instant, datetime):
        instant = datetime(instant.year, instant.month, instant.day, tzinfo=UTC)
    elif instant.tzinfo is None:
        raise ValueError("a naive datetime has no instant; give it a time zone")
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def to_ms_date(instant: datetime | date, offset: bool = True) -> str:
    """`/Date(ms+0000)/` as Xero writes it (`/Date(ms)/` when `offset` is False)."""
    suffix = "+0000" if offset else ""
    return f"/Date({ms_of(instant)}{suffix})/"


def to_date_string(day: date) -> str:
    """The `*String` twin of a calendar date: `2019-08-01T00:00:00`."""
    return f"{day.isoformat()}T00:00:00"


def parse_instant(value: str) -> datetime:
    """An aware UTC datetime from `/Date(ms[+zzzz])/` or an ISO date or timestamp."""
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        # The milliseconds are UTC whatever the offset says; the offset only tells a
        # reader which local time to show, so it does not move the instant.
        return _EPOCH + timedelta(milliseconds=int(match["ms"]))
    try:
        if _ISO_DATE.match(text):
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DateFormatError(f"not a Xero date: {value!r}") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: str) -> date:
    """The calendar date a Xero date field holds (its UTC day)."""
    return parse_instant(value).date()


def is_ms_date(value: object) -> bool:
    """True when `value` is a string in Xero's `/Date(ms)/` form."""
    return isinstance(value, str) and _MS_DATE.match(value) is not None
