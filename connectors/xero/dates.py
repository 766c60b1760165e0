"""Xero's date formats: `/Date(ms+zzzz)/` in reads, ISO UTC in If-Modified-Since.

Xero writes date fields (Date, DueDate, FullyPaidOnDate, Payment Date) as the epoch
milliseconds of UTC midnight of that date, and instants (UpdatedDateUTC) as epoch
milliseconds with an offset that only says how to display them. Accounting API 2.0.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_MS = re.compile(r"^/Date\((?P<ms>-?\d+)(?P<offset>[+-]\d{2,4})?\)/$")
_ISO_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:T00:00:00(?:\.0+)?(?:Z|[+-]00:?00)?)?$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class XeroDateError(ValueError):
    """A value in a Xero date field that is no date."""


def parse_instant(value: str) -> datetime:
    """An aware UTC datetime from `/Date(ms+zzzz)/` or an ISO timestamp."""
    text = (value or "").replace("\\/", "/").strip()
    match = _MS.match(text)
    if match:
        # NOTE: the epoch is UTC whatever the offset says; timedelta arithmetic
        # (not fromtimestamp) keeps negative and zero epochs working (case C06).
        return _EPOCH + timedelta(milliseconds=int(match["ms"]))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise XeroDateError(f"not a Xero date: {value!r}") from None
    return (
        parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    )


def parse_date(value: str) -> date:
    """The calendar date of a Xero date field, exactly as the ledger shows it."""
    text = (value or "").replace("\\/", "/").strip()
    if _MS.match(text):
        # UTC midnight of the date itself: take the UTC date, never shift by zone.
        return parse_instant(text).date()
    iso = _ISO_DATE.match(text)
    if iso:
        # NOTE: Xero's own docs show ISO dates in request bodies, and the `*String`
        # twins are ISO too; accept them rather than lose the record.
        return date(int(iso[1]), int(iso[2]), int(iso[3]))
    raise XeroDateError(f"not a Xero date: {value!r}")


def optional_date(value: str | None) -> date | None:
    """`parse_date`, or None for a missing or empty field."""
    return parse_date(value) if value else None


def optional_instant(value: str | None) -> datetime | None:
    """`parse_instant`, or None for a missing or empty field."""
    return parse_instant(value) if value else None


def if_modified_since(instant: datetime) -> datetime:
    """The If-Modified-Since value for an instant: UTC wall time, whole seconds."""
    if instant.tzinfo is None:
        raise ValueError("If-Modified-Since needs an aware datetime")
    # NOTE: Xero documents the header as a UTC timestamp `yyyy-mm-ddThh:mm:ss` (not
    # an RFC 1123 date; pyxero#261). The SDK writes it with isoformat(), so a naive
    # UTC datetime gives exactly that form.
    return instant.astimezone(UTC).replace(microsecond=0, tzinfo=None)


def where_date(day: date) -> str:
    """A date literal for a Xero `where` filter: `DateTime(2025,05,01)`."""
    return f"DateTime({day.year},{day.month:02d},{day.day:02d})"


def ms_date(day: date) -> str:
    """`day` as Xero writes a date field: `/Date(ms+0000)/` at UTC midnight."""
    ms = (datetime(day.year, day.month, day.day, tzinfo=UTC) - _EPOCH) // timedelta(
        milliseconds=1
    )
    return f"/Date({ms}+0000)/"
