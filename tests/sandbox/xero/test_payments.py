"""Payments, credit notes and allocations: AmountDue falls, PAID at zero, and an amount
above what is owed is a validation error."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from connectors.sandbox.xero import XeroSandbox, wire
from tests.sandbox.xero.conftest import ORG_ID

API = "/api.xro/2.0"


def _send(client: Any, method: str, path: str, body: Any, headers: dict) -> Any:
    return client.open(
        f"{API}/{path}",
        method=method,
        data=wire.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def _invoice(
    sandbox: XeroSandbox, total: str = "410.00", contact: str = "Harbour Cafe"
) -> dict:
    return sandbox.save_invoice(
        ORG_ID,
        {
            "Type": "ACCREC",
            "Contact": {"Name": contact},
            "Date": "2025-03-01",
            "DueDate": "2025-03-20",
            "Status": "AUTHORISED",
            "LineAmountTypes": "NoTax",
            "LineItems": [{"Description": "Catering", "UnitAmount": total}],
        },
    )


def _pay(invoice_id: str, amount: str, day: str = "2025-04-02") -> dict[str, Any]:
    return {
        "Payments": [
            {
                "Invoice": {"InvoiceID": invoice_id},
                "Account": {"Code": "090"},
                "Date": day,
                "Amount": Decimal(amount),
                "Reference": "CARE C-7781",
            }
        ]
    }


def test_partial_then_full_payment(sandbox: XeroSandbox, headers: dict) -> None:
    client = sandbox.app.test_client()
    invoice = _invoice(sandbox)

    first = _send(
        client, "PUT", "Payments", _pay(invoice["InvoiceID"], "150.00"), headers
    )
    middle = wire.loads(
        client.get(f"{API}/Invoices/{invoice['InvoiceID']}", headers=headers).get_data()
    )
    _send(
        client,
        "PUT",
        "Payments",
        _pay(invoice["InvoiceID"], "260.00", "2025-04-09"),
        headers,
    )
    final = wire.loads(
        client.get(f"{API}/Invoices/{invoice['InvoiceID']}", headers=headers).get_data()
    )

    (payment,) = wire.loads(first.get_data())["Payments"]
    assert payment["Amount"] == Decimal("150.00")
    assert payment["PaymentType"] == "ACCRECPAYMENT"
    assert payment["Invoice"]["InvoiceID"] == invoice["InvoiceID"]
    (mid,) = middle["Invoices"]
    assert (mid["AmountDue"], mid["AmountPaid"], mid["Status"]) == (
        Decimal("260.00"),
        Decimal("150.00"),
        "AUTHORISED",
    )
    (done,) = final["Invoices"]
    assert (done["AmountDue"], done["AmountPaid"], done["Status"]) == (
        Decimal("0.00"),
        Decimal("410.00"),
        "PAID",
    )
    assert done["FullyPaidOnDate"] == "/Date(1744156800000+0000)/"  # 2025-04-09
    assert [p["Amount"] for p in done["Payments"]] == [
        Decimal("150.00"),
        Decimal("260.00"),
    ]


def test_paying_more_than_is_owed_is_a_validation_error(
    sandbox: XeroSandbox, headers: dict
) -> None:
    invoice = _invoice(sandbox)

    response = _send(
        sandbox.app.test_client(),
        "PUT",
        "Payments",
        _pay(invoice["InvoiceID"], "410.01"),
        headers,
    )

    assert response.status_code == 400
    error = wire.loads(response.get_data())
    assert error["Elements"][0]["ValidationErrors"] == [
        {"Message": "Payment amount exceeds the amount outstanding on this document"}
    ]
    assert sandbox.objects(ORG_ID, "Payments") == []


def test_deleting_a_payment_reopens_the_invoice(
    sandbox: XeroSandbox, headers: dict
) -> None:
    client = sandbox.app.test_client()
    invoice = _invoice(sandbox)
    paid = sandbox.pay_invoice(ORG_ID, invoice["InvoiceID"], "410.00", date(2025, 4, 2))

    response = _send(
        client, "POST", f"Payments/{paid['PaymentID']}", {"Status": "DELETED"}, headers
    )

    assert wire.loads(response.get_data())["Payments"][0]["Status"] == "DELETED"
    (reopened,) = [i for i in sandbox.objects(ORG_ID, "Invoices")]
    assert (reopened["Status"], reopened["AmountDue"], reopened["Payments"]) == (
        "AUTHORISED",
        Decimal("410.00"),
        [],
    )
    assert "FullyPaidOnDate" not in reopened


def test_a_draft_cannot_be_paid(sandbox: XeroSandbox, headers: dict) -> None:
    draft = sandbox.save_invoice(
        ORG_ID,
        {
            "Type": "ACCREC",
            "Contact": {"Name": "Harbour Cafe"},
            "LineItems": [{"UnitAmount": 5}],
        },
    )

    response = _send(
        sandbox.app.test_client(),
        "PUT",
        "Payments",
        _pay(draft["InvoiceID"], "5.00"),
        headers,
    )

    assert response.status_code == 400
    assert draft["Status"] == "DRAFT"


def test_credit_note_allocation_lowers_amount_due(
    sandbox: XeroSandbox, headers: dict
) -> None:
    client = sandbox.app.test_client()
    invoice = _invoice(sandbox)
    note = wire.loads(
        _send(
            client,
            "PUT",
            "CreditNotes",
            {
                "CreditNotes": [
                    {
                        "Type": "ACCRECCREDIT",
                        "Contact": {"Name": "Harbour Cafe"},
                        "Date": "2025-03-05",
                        "Status": "AUTHORISED",
                        "LineAmountTypes": "NoTax",
                        "LineItems": [
                            {"Description": "Cold soup", "UnitAmount": "60.00"}
                        ],
                    }
                ]
            },
            headers,
        ).get_data()
    )["CreditNotes"][0]

    allocated = _send(
        client,
        "PUT",
        f"CreditNotes/{note['CreditNoteID']}/Allocations",
        {
            "Allocations": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Amount": Decimal("45.00"),
                    "Date": "2025-03-06",
                }
            ]
        },
        headers,
    )
    after = wire.loads(
        client.get(f"{API}/Invoices/{invoice['InvoiceID']}", headers=headers).get_data()
    )
    note_after = wire.loads(
        client.get(
            f"{API}/CreditNotes/{note['CreditNoteID']}", headers=headers
        ).get_data()
    )

    assert allocated.status_code == 200
    assert note["CreditNoteNumber"] == "CN-0001"
    (inv,) = after["Invoices"]
    assert (inv["AmountDue"], inv["AmountCredited"]) == (
        Decimal("365.00"),
        Decimal("45.00"),
    )
    assert inv["CreditNotes"][0]["AppliedAmount"] == Decimal("45.00")
    assert note_after["CreditNotes"][0]["RemainingCredit"] == Decimal("15.00")


def test_allocating_more_than_the_credit_is_refused(
    sandbox: XeroSandbox, headers: dict
) -> None:
    client = sandbox.app.test_client()
    invoice = _invoice(sandbox)
    made = wire.loads(
        _send(
            client,
            "PUT",
            "CreditNotes",
            {
                "Type": "ACCRECCREDIT",
                "Contact": {"Name": "Harbour Cafe"},
                "Status": "AUTHORISED",
                "LineItems": [{"UnitAmount": "20.00"}],
            },
            headers,
        ).get_data()
    )["CreditNotes"][0]

    response = _send(
        client,
        "PUT",
        f"CreditNotes/{made['CreditNoteID']}/Allocations",
        {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": Decimal("20.01")},
        headers,
    )

    assert response.status_code == 400
    assert sandbox.objects(ORG_ID, "Invoices")[0]["AmountDue"] == Decimal("410.00")
