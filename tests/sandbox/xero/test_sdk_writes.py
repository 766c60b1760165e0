"""Writes through xero-python's own models: a fee bill, a payment, a history note,
a contact; what the CARE connector sends, checked at the sandbox."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from xero_python.accounting import (
    Account,
    Contact,
    Contacts,
    HistoryRecord,
    HistoryRecords,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    Payment,
    Payments,
)
from xero_python.exceptions import AccountingBadRequestException

from connectors.sandbox.xero import XeroSandbox
from tests.sandbox.xero.conftest import ORG_ID


@pytest.fixture
def client(sandbox: XeroSandbox, sdk_for: Any) -> Any:
    return sdk_for(sandbox)


def _bill(contact_id: str) -> Invoices:
    return Invoices(
        invoices=[
            Invoice(
                type="ACCPAY",
                contact=Contact(contact_id=contact_id),
                reference="CARE-FEE-2025-05-NZD",
                date=date(2025, 5, 1),
                due_date=date(2025, 5, 15),
                status="AUTHORISED",
                line_amount_types=LineAmountTypes.NOTAX,
                line_items=[
                    LineItem(
                        description="Collection fee",
                        quantity=Decimal("1"),
                        unit_amount=Decimal("61.50"),
                        account_code="404",
                    )
                ],
            )
        ]
    )


def test_fee_bill_with_idempotency_key_is_created_once(
    sandbox: XeroSandbox, client: Any
) -> None:
    vendor = client.accounting.create_contacts(
        ORG_ID,
        Contacts(contacts=[Contact(name="CARE Pre-Collections", is_supplier=True)]),
    ).contacts[0]

    first = client.accounting.create_invoices(
        ORG_ID, _bill(str(vendor.contact_id)), idempotency_key="fee-2025-05-NZD"
    )
    again = client.accounting.create_invoices(
        ORG_ID, _bill(str(vendor.contact_id)), idempotency_key="fee-2025-05-NZD"
    )

    (bill,) = first.invoices
    assert bill.type == "ACCPAY"
    assert bill.reference == "CARE-FEE-2025-05-NZD"
    assert bill.total == Decimal("61.50")
    assert bill.due_date == date(2025, 5, 15)
    assert again.invoices[0].invoice_id == bill.invoice_id
    bills = [i for i in sandbox.objects(ORG_ID, "Invoices") if i["Type"] == "ACCPAY"]
    assert len(bills) == 1


def test_payment_and_note_through_the_sdk(sandbox: XeroSandbox, client: Any) -> None:
    invoice = sandbox.save_invoice(
        ORG_ID,
        {
            "Type": "ACCREC",
            "InvoiceNumber": "INV-0042",
            "Contact": {"Name": "Tui Landscaping Ltd"},
            "Date": "2025-03-01",
            "DueDate": "2025-03-25",
            "Status": "AUTHORISED",
            "LineAmountTypes": "NoTax",
            "LineItems": [{"Description": "Hedges", "UnitAmount": "300.00"}],
        },
    )
    payment = Payment(
        invoice=Invoice(invoice_id=invoice["InvoiceID"]),
        account=Account(code="090"),
        date=date(2025, 5, 2),
        amount=Decimal("300.00"),
        reference="CARE C-7781",
    )

    made = client.accounting.create_payments(ORG_ID, Payments(payments=[payment]))
    client.accounting.create_invoice_history(
        ORG_ID,
        invoice["InvoiceID"],
        HistoryRecords(history_records=[HistoryRecord(details="CARE: paid in full")]),
    )
    read = client.accounting.get_invoice(ORG_ID, invoice["InvoiceID"]).invoices[0]
    history = client.accounting.get_invoice_history(ORG_ID, invoice["InvoiceID"])

    assert made.payments[0].amount == Decimal("300.00")
    assert read.status == "PAID"
    assert read.amount_due == Decimal("0.00")
    assert read.fully_paid_on_date == date(2025, 5, 2)
    assert [r.details for r in history.history_records][-1] == "CARE: paid in full"


def test_overpaying_through_the_sdk_raises_bad_request(
    sandbox: XeroSandbox, client: Any
) -> None:
    invoice = sandbox.save_invoice(
        ORG_ID,
        {
            "Type": "ACCREC",
            "Contact": {"Name": "Tui Landscaping Ltd"},
            "DueDate": "2025-03-25",
            "Status": "AUTHORISED",
            "LineItems": [{"Description": "Hedges", "UnitAmount": "640.00"}],
        },
    )
    payment = Payment(
        invoice=Invoice(invoice_id=invoice["InvoiceID"]),
        account=Account(code="090"),
        date=date(2025, 5, 3),
        amount=Decimal("700.00"),
    )

    with pytest.raises(AccountingBadRequestException) as caught:
        client.accounting.create_payments(ORG_ID, Payments(payments=[payment]))

    assert caught.value.reason == (
        "Payment amount exceeds the amount outstanding on this document"
    )
    assert sandbox.objects(ORG_ID, "Invoices")[0]["AmountDue"] == Decimal("640.00")


def test_contacts_filter_by_where_and_archived(
    sandbox: XeroSandbox, client: Any
) -> None:
    client.accounting.create_contacts(
        ORG_ID,
        Contacts(
            contacts=[
                Contact(
                    name="Maeve O'Brien's Bakery & Cafe",
                    email_address="ap@maeve.example",
                ),
                Contact(name="O'Brien Haulage"),
                Contact(name="Old Customer", contact_status="ARCHIVED"),
            ]
        ),
    )

    found = client.accounting.get_contacts(ORG_ID, where='Name.StartsWith("O\'Brien")')
    active = client.accounting.get_contacts(ORG_ID)
    everyone = client.accounting.get_contacts(ORG_ID, include_archived=True)

    assert [c.name for c in found.contacts] == ["O'Brien Haulage"]
    assert len(active.contacts) == 2
    assert len(everyone.contacts) == 3
