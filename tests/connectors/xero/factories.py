"""Xero JSON for the sandbox: contacts and documents as Xero itself writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connectors.xero.dates import ms_date

ORG = {
    "Name": "Kereru Supplies Ltd",
    "BaseCurrency": "NZD",
    "CountryCode": "NZ",
    "Timezone": "NEWZEALANDSTANDARDTIME",
    "Class": "PREMIUM",
}


def contact_id(n: int) -> str:
    return f"c0000000-0000-4000-8000-{n:012d}"


def invoice_id(n: int) -> str:
    return f"a0000000-0000-4000-8000-{n:012d}"


def stamp(instant: datetime) -> str:
    ms = int((instant - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1000)
    return f"/Date({ms}+0000)/"


def contact(n: int, **changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "ContactID": contact_id(n),
        "ContactStatus": "ACTIVE",
        "Name": f"Customer {n}",
        "EmailAddress": f"ap{n}@customer.example",
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "IsCustomer": True,
        "HasValidationErrors": False,
    }
    obj.update(changes)
    return obj


def invoice(
    n: int,
    customer: int = 1,
    *,
    status: str = "AUTHORISED",
    total: str = "100.00",
    due: str | None = None,
    issued: date = date(2025, 2, 1),
    due_on: date = date(2025, 3, 3),
    currency: str = "NZD",
    rate: str = "1.000000",
    kind: str = "ACCREC",
    **changes: Any,
) -> dict[str, Any]:
    amount_due = Decimal(total if due is None else due)
    if status in ("PAID", "VOIDED", "DELETED"):
        amount_due = Decimal("0.00")
    obj: dict[str, Any] = {
        "Type": kind,
        "InvoiceID": invoice_id(n),
        "InvoiceNumber": f"INV-{n:05d}",
        "Reference": "",
        "Contact": {"ContactID": contact_id(customer), "Name": f"Customer {customer}"},
        "Date": ms_date(issued),
        "DueDate": ms_date(due_on),
        "Status": status,
        "LineAmountTypes": "NoTax",
        "LineItems": [],
        "SubTotal": Decimal(total),
        "TotalTax": Decimal("0.00"),
        "Total": Decimal(total),
        "AmountDue": amount_due,
        "AmountPaid": Decimal(total) - amount_due,
        "AmountCredited": Decimal("0.00"),
        "CurrencyCode": currency,
        "CurrencyRate": Decimal(rate),
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
    }
    if status == "PAID":
        obj["FullyPaidOnDate"] = ms_date(due_on)
    obj.update(changes)
    return obj
