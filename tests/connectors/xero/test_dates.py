"""Xero's /Date(...)/ values read as the dates the ledger shows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from connectors.xero.dates import (
    XeroDateError,
    if_modified_since,
    ms_date,
    parse_date,
    parse_instant,
    where_date,
)


def test_utc_midnight_is_the_date_itself() -> None:
    # 1742428800 s = 2025-03-20 00:00:00 UTC (C06's INV-0033)
    assert parse_date("/Date(1742428800000+0000)/") == date(2025, 3, 20)


def test_negative_epoch_parses_to_1967() -> None:
    # -80006400 s = -926 days: 1970-01-01 less 926 days is 1967-06-20 (C06 INV-0031)
    assert parse_date("/Date(-80006400000+0000)/") == date(1967, 6, 20)


def test_zero_epoch_parses_to_1970() -> None:
    assert parse_date("/Date(0+0000)/") == date(1970, 1, 1)


def test_escaped_slashes_and_missing_offset_parse() -> None:
    assert parse_date("\\/Date(1564617600000)\\/") == date(2019, 8, 1)


def test_offset_does_not_shift_the_date() -> None:
    # The epoch is UTC; +1300 only says how Xero would display it.
    assert parse_date("/Date(1742428800000+1300)/") == date(2025, 3, 20)


def test_iso_date_strings_are_accepted() -> None:
    assert parse_date("2019-08-01T00:00:00") == date(2019, 8, 1)
    assert parse_date("2019-08-01") == date(2019, 8, 1)


@pytest.mark.parametrize(
    "value", ["", "yesterday", "/Date(abc)/", "2019-08-01T10:30:00"]
)
def test_non_dates_raise_a_clear_error(value: str) -> None:
    with pytest.raises(XeroDateError):
        parse_date(value)


def test_instant_keeps_milliseconds_in_utc() -> None:
    assert parse_instant("/Date(1291046754640+0000)/") == datetime(
        2010, 11, 29, 16, 5, 54, 640000, tzinfo=UTC
    )


def test_if_modified_since_is_whole_seconds_utc() -> None:
    instant = datetime(2025, 5, 1, 12, 0, 7, 999000, tzinfo=UTC)
    assert if_modified_since(instant).isoformat() == "2025-05-01T12:00:07"
    nzst = instant.astimezone(ZoneInfo("Pacific/Auckland"))
    assert if_modified_since(nzst).isoformat() == "2025-05-01T12:00:07"


def test_if_modified_since_refuses_naive() -> None:
    with pytest.raises(ValueError):
        if_modified_since(datetime(2025, 5, 1))


def test_where_date_and_ms_date_round_trip() -> None:
    assert where_date(date(2023, 5, 1)) == "DateTime(2023,05,01)"
    assert ms_date(date(2025, 3, 20)) == "/Date(1742428800000+0000)/"
    assert parse_date(ms_date(date(1967, 6, 20))) == date(1967, 6, 20)
