"""List GETs: csv filters, archived contacts, search, order, paging, trimming."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.sandbox.xero.errors import BadRequest
from connectors.sandbox.xero.listing import modified_since, select, truthy

INVOICES: list[dict[str, Any]] = [
    {
        "InvoiceID": "A1",
        "InvoiceNumber": "INV-0001",
        "Reference": "PO 77",
        "Status": "AUTHORISED",
        "Contact": {"ContactID": "C1", "Name": "Harbour Cafe"},
        "DueDate": "/Date(1742428800000+0000)/",  # 2025-03-20
        "AmountDue": Decimal("410.00"),
        "UpdatedDateUTC": "/Date(1746100800000+0000)/",  # 2025-05-01 12:00
        "LineItems": [{"LineAmount": Decimal("410.00")}],
        "Payments": [],
    },
    {
        "InvoiceID": "B2",
        "InvoiceNumber": "INV-0002",
        "Reference": "",
        "Status": "PAID",
        "Contact": {"ContactID": "C2", "Name": "Tui Landscaping"},
        "DueDate": "/Date(1740787200000+0000)/",  # 2025-03-01
        "AmountDue": Decimal("0.00"),
        "UpdatedDateUTC": "/Date(1746014400000+0000)/",  # 2025-04-30 12:00
        "LineItems": [],
        "Payments": [{"Amount": Decimal("90.00")}],
    },
    {
        "InvoiceID": "C3",
        "InvoiceNumber": "INV-0003",
        "Reference": "po 78",
        "Status": "AUTHORISED",
        "Contact": {"ContactID": "C1", "Name": "Harbour Cafe"},
        "DueDate": "/Date(1740787200000+0000)/",  # 2025-03-01
        "AmountDue": Decimal("55.00"),
        "UpdatedDateUTC": "/Date(1746187200000+0000)/",  # 2025-05-02 12:00
        "LineItems": [],
        "Payments": [],
    },
]


def ids(objects: list[dict[str, Any]]) -> list[str]:
    return [o["InvoiceID"] for o in objects]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"Statuses": "AUTHORISED"}, ["A1", "C3"]),
        ({"Statuses": "PAID,VOIDED"}, ["B2"]),
        ({"IDs": "c3,a1"}, ["A1", "C3"]),
        ({"ContactIDs": "C2"}, ["B2"]),
        ({"InvoiceNumbers": '"INV-0003"'}, ["C3"]),
        ({"searchTerm": "PO 7"}, ["A1", "C3"]),  # case-insensitive, Reference too
        ({"searchTerm": "tui"}, ["B2"]),
        ({"order": "DueDate ASC, AmountDue DESC"}, ["C3", "B2", "A1"]),
        ({"order": "Contact.Name DESC"}, ["B2", "A1", "C3"]),
        ({"where": "AmountDue>0", "order": "InvoiceNumber DESC"}, ["C3", "A1"]),
    ],
)
def test_filters_and_order(args: dict[str, str], expected: list[str]) -> None:
    chosen, pagination = select("Invoices", INVOICES, {**args, "page": "1"}, None)

    assert ids(chosen) == expected
    assert pagination is not None and pagination["itemCount"] == len(expected)


def test_modified_since_keeps_later_changes_only() -> None:
    since = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)  # A1 changed at exactly this time

    chosen, _ = select("Invoices", INVOICES, {}, since)

    assert ids(chosen) == ["C3"]


def test_pages_and_their_pagination() -> None:
    first, p1 = select("Invoices", INVOICES, {"page": "1", "pageSize": "2"}, None)
    second, p2 = select("Invoices", INVOICES, {"page": "2", "pageSize": "2"}, None)
    past, p3 = select("Invoices", INVOICES, {"page": "3", "pageSize": "2"}, None)

    assert (ids(first), ids(second), past) == (["A1", "B2"], ["C3"], [])
    assert p1 == {"page": 1, "pageSize": 2, "pageCount": 2, "itemCount": 3}
    assert p2 is not None and p2["page"] == 2
    assert p3 is not None and p3["pageCount"] == 2


def test_unpaged_invoices_lose_line_items_and_summary_loses_payments() -> None:
    unpaged, pagination = select("Invoices", INVOICES, {}, None)
    summary, _ = select(
        "Invoices", INVOICES, {"page": "1", "summaryOnly": "True"}, None
    )

    assert pagination is None
    assert all("LineItems" not in o and "Payments" in o for o in unpaged)
    assert all("LineItems" not in o and "Payments" not in o for o in summary)
    assert "LineItems" in INVOICES[0]  # the stored object is untouched


def test_archived_contacts_only_on_request() -> None:
    contacts = [
        {"ContactID": "C1", "Name": "Active", "ContactStatus": "ACTIVE"},
        {"ContactID": "C2", "Name": "Old", "ContactStatus": "ARCHIVED"},
    ]

    active, _ = select("Contacts", contacts, {}, None)
    everyone, _ = select("Contacts", contacts, {"includeArchived": "true"}, None)

    assert [c["ContactID"] for c in active] == ["C1"]
    assert [c["ContactID"] for c in everyone] == ["C1", "C2"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("True", True), ("true", True), ("False", False), (None, False)],
)
def test_query_booleans_ignore_case(value: str | None, expected: bool) -> None:
    assert truthy(value) is expected


def test_if_modified_since_formats() -> None:
    assert modified_since(None) is None
    assert modified_since("2025-01-01T00:00:00") == datetime(2025, 1, 1, tzinfo=UTC)
    assert modified_since("2025-01-01T00:00:00+00:00") == datetime(
        2025, 1, 1, tzinfo=UTC
    )
    with pytest.raises(BadRequest, match="ISO UTC timestamp"):
        modified_since("Wed, 01 Jan 2025 00:00:00 GMT")
