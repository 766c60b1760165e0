"""Xero's /Date(ms+0000)/ both ways, including the zero and negative epochs of C06."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors.sandbox.xero import XeroSandbox
from connectors.sandbox.xero.dates import (
    DateFormatError,
    parse_date,
    parse_instant,
    to_date_string,
    to_ms_date,
)
from tests.sandbox.xero.conftest import ORG_ID, data_json


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2019, 8, 1), "/Date(1564617600000+0000)/"),  # the recorded fixture's
        (date(1970, 1, 1), "/Date(0+0000)/"),
        (date(1967, 6, 20), "/Date(-80006400000+0000)/"),  # 926 days before 1970
        (date(2025, 3, 20), "/Date(1742428800000+0000)/"),
    ],
)
def test_calendar_dates_round_trip(day: date, text: str) -> None:
    assert to_ms_date(day) == text
    assert parse_date(text) == day


def test_instants_keep_milliseconds() -> None:
    instant = datetime(2020, 5, 4, 23, 3, 17, 422_000, tzinfo=UTC)

    assert to_ms_date(instant) == "/Date(1588633397422+0000)/"
    assert to_ms_date(instant, offset=False) == "/Date(1588633397422)/"
    assert parse_instant("/Date(1588633397422)/") == instant


def test_an_offset_does_not_move_the_instant() -> None:
    assert parse_instant("/Date(1564617600000+1200)/") == datetime(
        2019, 8, 1, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-03-11", datetime(2019, 3, 11, tzinfo=UTC)),
        ("2019-03-11T00:00:00", datetime(2019, 3, 11, tzinfo=UTC)),
        ("2025-01-01T10:00:00+00:00", datetime(2025, 1, 1, 10, tzinfo=UTC)),
        ("2025-01-01T22:00:00+12:00", datetime(2025, 1, 1, 10, tzinfo=UTC)),
    ],
)
def test_iso_dates_are_accepted(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected


def test_string_twin_is_midnight_without_offset() -> None:
    assert to_date_string(date(2019, 8, 1)) == "2019-08-01T00:00:00"


@pytest.mark.parametrize("text", ["/Date(abc)/", "01/08/2019", "", "Date(0)"])
def test_other_text_is_a_clear_error(text: str) -> None:
    with pytest.raises(DateFormatError, match="not a Xero date"):
        parse_instant(text)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_ms_date(datetime(2025, 1, 1))  # noqa: DTZ001


def test_c06_zero_and_negative_epochs_survive_the_sdk(
    sandbox: XeroSandbox, sdk_for: Any
) -> None:
    case = data_json("cases/C06.json")
    sandbox.load(ORG_ID, {"Invoices": case["input"]["page"]})
    client = sdk_for(sandbox)

    page = client.accounting.get_invoices(ORG_ID, page=1)

    due = {i.invoice_number: i.due_date for i in page.invoices}
    assert due == {
        "INV-0031": date(1967, 6, 20),
        "INV-0032": date(1970, 1, 1),
        "INV-0033": date(2025, 3, 20),
    }
    # The case's days past due, counted from its as-of date.
    as_of = date.fromisoformat(case["input"]["as_of_org_local"])
    for number, expected in case["expected"].items():
        if number.startswith("INV-"):
            assert (as_of - due[number]).days == expected["days_past_due"]


def test_c06_dates_written_back_as_xero_writes_them(
    sandbox: XeroSandbox, headers: dict
) -> None:
    client = sandbox.app.test_client()
    body = {
        "Type": "ACCREC",
        "Contact": {"Name": "Pemberton Glass Works"},
        "Date": "/Date(-80006400000)/",  # as xero-python sends a date, no offset
        "DueDate": "1970-01-01",
        "LineItems": [{"Description": "Glass", "UnitAmount": "410.00"}],
    }

    made = client.put("/api.xro/2.0/Invoices", json=body, headers=headers).get_json()

    invoice = made["Invoices"][0]
    assert invoice["Date"] == "/Date(-80006400000+0000)/"
    assert invoice["DateString"] == "1967-06-20T00:00:00"
    assert invoice["DueDate"] == "/Date(0+0000)/"
    query = "DueDate<DateTime(1970,01,02)"
    found = client.get(f"/api.xro/2.0/Invoices?where={query}", headers=headers)
    assert [i["InvoiceID"] for i in found.get_json()["Invoices"]] == [
        invoice["InvoiceID"]
    ]
