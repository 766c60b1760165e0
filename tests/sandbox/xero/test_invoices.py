"""Invoices through the sandbox's Accounting API: writes, reads, filters, paging,
history notes, idempotency and Xero's error shapes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.clock import SimulatedClock
from connectors.sandbox.xero import XeroSandbox, wire
from tests.sandbox.xero.conftest import ORG_ID

API = "/api.xro/2.0"


def _put(client: Any, path: str, body: Any, headers: dict, **kw: Any) -> Any:
    return client.put(
        f"{API}/{path}",
        data=wire.dumps(body),
        content_type="application/json",
        headers=headers,
        **kw,
    )


def _json(response: Any) -> Any:
    return wire.loads(response.get_data())


def _sale(number: str | None = None, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "Type": "ACCREC",
        "Contact": {"Name": "Zoë Ørsted-Łukasiewicz"},
        "Date": "2025-03-01",
        "DueDate": "2025-03-31",
        "Status": "AUTHORISED",
        "LineItems": [
            {
                "Description": "Tiling",
                "Quantity": Decimal("3"),
                "UnitAmount": Decimal("125.005"),
                "TaxAmount": Decimal("56.25"),
                "AccountCode": "200",
            },
            {"Description": "Grout", "Quantity": 1, "UnitAmount": Decimal("19.99")},
        ],
    }
    if number:
        doc["InvoiceNumber"] = number
    doc.update(extra)
    return doc


def test_created_invoice_has_xeros_totals_and_dates(
    sandbox: XeroSandbox, headers: dict
) -> None:
    response = _put(
        sandbox.app.test_client(), "Invoices", {"Invoices": [_sale()]}, headers
    )

    assert response.status_code == 200
    (invoice,) = _json(response)["Invoices"]
    # 125.005 rounds half-up to 125.01; 3 x 125.01 = 375.03; plus 19.99 = 395.02;
    # Exclusive lines add their 56.25 tax: 451.27.
    assert invoice["LineItems"][0]["UnitAmount"] == Decimal("125.01")
    assert invoice["LineItems"][0]["LineAmount"] == Decimal("375.03")
    assert invoice["SubTotal"] == Decimal("395.02")
    assert invoice["TotalTax"] == Decimal("56.25")
    assert invoice["Total"] == invoice["AmountDue"] == Decimal("451.27")
    assert invoice["InvoiceNumber"] == "INV-0001"
    assert invoice["CurrencyCode"] == "NZD"  # the organisation's base currency
    assert invoice["DueDate"] == "/Date(1743379200000+0000)/"
    assert invoice["DueDateString"] == "2025-03-31T00:00:00"
    assert (
        invoice["UpdatedDateUTC"] == "/Date(1746100800000+0000)/"
    )  # 2025-05-01 12:00Z
    assert invoice["Contact"]["Name"] == "Zoë Ørsted-Łukasiewicz"


def test_unitdp_4_keeps_four_places(sandbox: XeroSandbox, headers: dict) -> None:
    response = _put(
        sandbox.app.test_client(),
        "Invoices",
        _sale(),
        headers,
        query_string={"unitdp": "4", "summarizeErrors": "False"},
    )

    (invoice,) = _json(response)["Invoices"]
    assert invoice["LineItems"][0]["UnitAmount"] == Decimal("125.0050")
    assert invoice["LineItems"][0]["LineAmount"] == Decimal("375.02")  # 375.015 up
    assert invoice["StatusAttributeString"] == "OK"


def test_inclusive_lines_already_hold_their_tax(
    sandbox: XeroSandbox, headers: dict
) -> None:
    body = _sale(LineAmountTypes="Inclusive")
    body["LineItems"] = [
        {"Description": "Electricity", "UnitAmount": "89.00", "TaxAmount": "11.61"}
    ]

    (invoice,) = _json(_put(sandbox.app.test_client(), "Invoices", body, headers))[
        "Invoices"
    ]

    # The recorded fixture's electricity bill: 89.00 inclusive of 11.61 tax.
    assert (invoice["SubTotal"], invoice["TotalTax"], invoice["Total"]) == (
        Decimal("77.39"),
        Decimal("11.61"),
        Decimal("89.00"),
    )


def test_fee_bill_is_an_accpay_with_its_reference(
    sandbox: XeroSandbox, headers: dict
) -> None:
    bill = {
        "Type": "ACCPAY",
        "Contact": {"Name": "CARE Pre-Collections"},
        "Reference": "CARE-FEE-2025-05-NZD",
        "Date": "/Date(1746057600000)/",
        "DueDate": "/Date(1747267200000)/",
        "Status": "AUTHORISED",
        "LineAmountTypes": "NoTax",
        "LineItems": [
            {
                "Description": "Collection fee",
                "Quantity": 1,
                "UnitAmount": 25,
                "AccountCode": "404",
            }
        ],
    }

    (made,) = _json(_put(sandbox.app.test_client(), "Invoices", bill, headers))[
        "Invoices"
    ]

    assert made["Type"] == "ACCPAY"
    assert made["Reference"] == "CARE-FEE-2025-05-NZD"
    assert made["InvoiceNumber"] == ""  # bills carry the supplier's number, none here
    assert made["Total"] == Decimal("25.00")
    assert made["DateString"] == "2025-05-01T00:00:00"
    found = sandbox.app.test_client().get(
        f"{API}/Invoices",
        query_string={"where": 'Reference=="CARE-FEE-2025-05-NZD"'},
        headers=headers,
    )
    assert [i["InvoiceID"] for i in _json(found)["Invoices"]] == [made["InvoiceID"]]


def test_idempotency_key_replays_the_first_answer(
    sandbox: XeroSandbox, headers: dict
) -> None:
    client = sandbox.app.test_client()
    keyed = {**headers, "Idempotency-Key": "care-fee-2025-05"}

    first = _put(client, "Invoices", _sale(), keyed)
    second = _put(client, "Invoices", _sale(), keyed)

    assert second.get_data() == first.get_data()
    assert len(sandbox.objects(ORG_ID, "Invoices")) == 1


def test_validation_errors_come_in_xeros_shape(
    sandbox: XeroSandbox, headers: dict
) -> None:
    client = sandbox.app.test_client()
    body = {
        "Invoices": [_sale("INV-0100"), _sale("INV-0101", Type="NOPE", DueDate=None)]
    }

    response = _put(client, "Invoices", body, headers)

    assert response.status_code == 400
    error = _json(response)
    assert (error["ErrorNumber"], error["Type"]) == (10, "ValidationException")
    assert error["Message"] == "A validation exception occurred"
    (element,) = error["Elements"]
    assert element["InvoiceNumber"] == "INV-0101"
    assert [m["Message"] for m in element["ValidationErrors"]] == [
        "Invoice Type must be ACCREC or ACCPAY",
        "Due Date is required",
    ]
    # The whole batch is refused: the good invoice was not kept either.
    assert sandbox.objects(ORG_ID, "Invoices") == []


def test_summarize_errors_false_keeps_the_good_ones(
    sandbox: XeroSandbox, headers: dict
) -> None:
    body = {"Invoices": [_sale("INV-0100"), _sale("INV-0101", DueDate=None)]}

    response = _put(
        sandbox.app.test_client(),
        "Invoices",
        body,
        headers,
        query_string={"summarizeErrors": "False"},
    )

    assert response.status_code == 200
    good, bad = _json(response)["Invoices"]
    assert good["StatusAttributeString"] == "OK"
    assert bad["HasErrors"] is True
    assert bad["ValidationErrors"] == [{"Message": "Due Date is required"}]
    assert [i["InvoiceNumber"] for i in sandbox.objects(ORG_ID, "Invoices")] == [
        "INV-0100"
    ]


def test_duplicate_sales_number_is_refused(sandbox: XeroSandbox, headers: dict) -> None:
    client = sandbox.app.test_client()
    _put(client, "Invoices", _sale("INV-0007"), headers)

    response = _put(client, "Invoices", _sale("INV-0007"), headers)

    assert _json(response)["Elements"][0]["ValidationErrors"] == [
        {"Message": "Invoice # must be unique."}
    ]


def test_get_one_by_id_or_number_and_404(sandbox: XeroSandbox, headers: dict) -> None:
    client = sandbox.app.test_client()
    made = _json(_put(client, "Invoices", _sale("INV-0042"), headers))["Invoices"][0]

    by_id = client.get(f"{API}/Invoices/{made['InvoiceID']}", headers=headers)
    by_number = client.get(f"{API}/Invoices/INV-0042", headers=headers)
    missing = client.get(
        f"{API}/Invoices/00000000-0000-0000-0000-000000000001", headers=headers
    )

    assert _json(by_id)["Invoices"] == _json(by_number)["Invoices"] == [made]
    assert missing.status_code == 404


def test_filters_order_and_paging(sandbox: XeroSandbox, headers: dict) -> None:
    client = sandbox.app.test_client()
    for n in range(1, 8):
        due = f"2025-03-{n:02d}"
        status = "DRAFT" if n == 7 else "AUTHORISED"
        _put(
            client,
            "Invoices",
            _sale(f"INV-{n:04d}", DueDate=due, Status=status),
            headers,
        )

    page2 = _json(
        client.get(
            f"{API}/Invoices",
            query_string={
                "Statuses": "AUTHORISED",
                "order": "DueDate DESC",
                "page": 2,
                "pageSize": 4,
            },
            headers=headers,
        )
    )
    numbers = _json(
        client.get(
            f"{API}/Invoices",
            query_string={"InvoiceNumbers": "INV-0002,INV-0005"},
            headers=headers,
        )
    )

    # Six authorised, newest due first: page 1 holds 6..3, page 2 holds 2 and 1.
    assert [i["InvoiceNumber"] for i in page2["Invoices"]] == ["INV-0002", "INV-0001"]
    assert page2["pagination"] == {
        "page": 2,
        "pageSize": 4,
        "pageCount": 2,
        "itemCount": 6,
    }
    assert "LineItems" in page2["Invoices"][0]  # a paged GET includes line items
    assert sorted(i["InvoiceNumber"] for i in numbers["Invoices"]) == [
        "INV-0002",
        "INV-0005",
    ]


@pytest.mark.parametrize("size", ["0", "1001", "ten"])
def test_bad_page_size_is_a_bad_request(
    sandbox: XeroSandbox, headers: dict, size: str
) -> None:
    response = sandbox.app.test_client().get(
        f"{API}/Invoices", query_string={"page": 1, "pageSize": size}, headers=headers
    )

    assert response.status_code == 400


def test_if_modified_since_must_be_iso(sandbox: XeroSandbox, headers: dict) -> None:
    response = sandbox.app.test_client().get(
        f"{API}/Invoices",
        headers={**headers, "If-Modified-Since": "Thu, 01 May 2025 12:00:00 GMT"},
    )

    assert response.status_code == 400


def test_history_notes_are_added_and_read_back(
    sandbox: XeroSandbox, headers: dict, clock: SimulatedClock
) -> None:
    client = sandbox.app.test_client()
    made = _json(_put(client, "Invoices", _sale("INV-0042"), headers))["Invoices"][0]
    clock.advance(timedelta(minutes=3))

    added = _put(
        client,
        f"Invoices/{made['InvoiceID']}/History",
        {"HistoryRecords": [{"Details": "CARE: referred 2025-05-01, ref C-7781"}]},
        headers,
    )
    history = _json(
        client.get(f"{API}/Invoices/{made['InvoiceID']}/History", headers=headers)
    )

    assert _json(added)["HistoryRecords"] == [
        {
            "DateUTCString": "2025-05-01T12:03:00",
            "DateUTC": "/Date(1746100980000+0000)/",
            "Details": "CARE: referred 2025-05-01, ref C-7781",
            "ValidationErrors": [],
        }
    ]
    assert [r["Changes"] for r in history["HistoryRecords"]] == ["Created", "Note"]
    assert history["HistoryRecords"][1]["User"] == "CARE"


def test_an_empty_note_is_refused(sandbox: XeroSandbox, headers: dict) -> None:
    client = sandbox.app.test_client()
    made = _json(_put(client, "Invoices", _sale(), headers))["Invoices"][0]

    response = _put(
        client,
        f"Invoices/{made['InvoiceID']}/History",
        {"HistoryRecords": [{"Details": " "}]},
        headers,
    )

    assert response.status_code == 400


def test_void_only_without_payments(sandbox: XeroSandbox, headers: dict) -> None:
    client = sandbox.app.test_client()
    a = _json(_put(client, "Invoices", _sale("INV-0001"), headers))["Invoices"][0]
    b = _json(_put(client, "Invoices", _sale("INV-0002"), headers))["Invoices"][0]
    sandbox.pay_invoice(ORG_ID, b["InvoiceID"], "10.00", date(2025, 4, 1))

    voided = client.post(
        f"{API}/Invoices/{a['InvoiceID']}",
        data=wire.dumps({"Status": "VOIDED"}),
        content_type="application/json",
        headers=headers,
    )
    refused = client.post(
        f"{API}/Invoices/{b['InvoiceID']}",
        data=wire.dumps({"Status": "VOIDED"}),
        content_type="application/json",
        headers=headers,
    )

    assert _json(voided)["Invoices"][0]["Status"] == "VOIDED"
    assert _json(voided)["Invoices"][0]["AmountDue"] == Decimal("0.00")
    assert refused.status_code == 400


def test_unknown_paths_get_xeros_plain_404(sandbox: XeroSandbox, headers: dict) -> None:
    response = sandbox.app.test_client().get(f"{API}/Quotes/123", headers=headers)

    assert response.status_code == 404
    assert response.get_data(as_text=True) == (
        "The resource you're looking for cannot be found"
    )


def test_paging_sees_a_write_made_between_pages(
    sandbox: XeroSandbox, headers: dict
) -> None:
    client = sandbox.app.test_client()
    for n in range(1, 4):
        _put(client, "Invoices", _sale(f"INV-{n:04d}"), headers)
    query = {"Statuses": "AUTHORISED", "page": 1, "pageSize": 2}
    first = _json(client.get(f"{API}/Invoices", query_string=query, headers=headers))

    _put(client, "Invoices", _sale("INV-0004"), headers)
    second = _json(
        client.get(
            f"{API}/Invoices", query_string={**query, "page": 2}, headers=headers
        )
    )

    assert first["pagination"]["itemCount"] == 3
    assert second["pagination"]["itemCount"] == 4
    assert [i["InvoiceNumber"] for i in second["Invoices"]] == ["INV-0003", "INV-0004"]
