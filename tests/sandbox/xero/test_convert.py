"""Neutral records to Xero JSON, on small hand-made books."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from connectors.records import (
    Address,
    Application,
    Company,
    Credit,
    Customer,
    Invoice,
    InvoiceStatus,
    Ledger,
    Payment,
    PaymentKind,
)
from connectors.sandbox.xero.convert import Converter
from connectors.sandbox.xero.parties import contact, organisation

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
COMPANY = Company(
    ledger=Ledger.XERO,
    id="7d2f0c8a-41b6-4c1e-9a57-3e0b5c2d9f10",
    name="Kiwi Tiles Ltd",
    home_currency="NZD",
    timezone="Pacific/Auckland",
    country="NZ",
    multi_currency=True,
)
CUSTOMER = Customer(
    ledger_id="c0000000-0000-4000-8000-000000000001",
    name="Maeve O'Brien's Bakery & Cafe",
    contact_name="Maeve O'Brien",
    emails=("ap@maeve.example", "owner@maeve.example"),
    phones=("+64 9 555 0101",),
    address=Address(
        lines=("1 Queen St",), city="Auckland", postal_code="1010", country="NZ"
    ),
    currency="NZD",
)


def _invoice(
    n: int, total: str, due: str, status: InvoiceStatus, **kw: object
) -> Invoice:
    values: dict[str, object] = {
        "ledger_id": f"a0000000-0000-4000-8000-00000000000{n}",
        "number": f"INV-000{n}",
        "customer_id": CUSTOMER.ledger_id,
        "issue_date": date(2025, 2, 1),
        "due_date": date.fromisoformat(due),
        "currency": "NZD",
        "total": Decimal(total),
        "amount_due": Decimal(total),
        "home_amount_due": None,
        "exchange_rate": None,
        "status": status,
    }
    values.update(kw)
    return Invoice(**values)  # type: ignore[arg-type]


def test_organisation_uses_xeros_zone_and_currency() -> None:
    org = organisation(COMPANY, NOW)

    assert org["OrganisationID"] == COMPANY.id
    assert (org["BaseCurrency"], org["Timezone"], org["Version"]) == (
        "NZD",
        "NEWZEALANDSTANDARDTIME",
        "NZ",
    )
    assert org["CreatedDateUTC"] == "/Date(1746100800000)/"


def test_contact_keeps_first_email_and_lists_the_rest_as_persons() -> None:
    doc = contact(CUSTOMER, NOW)

    assert doc["EmailAddress"] == "ap@maeve.example"
    assert [p["EmailAddress"] for p in doc["ContactPersons"]] == ["owner@maeve.example"]
    assert (doc["FirstName"], doc["LastName"]) == ("Maeve", "O'Brien")
    assert doc["Addresses"][0]["AddressLine1"] == "1 Queen St"
    assert doc["Phones"] == [{"PhoneType": "DEFAULT", "PhoneNumber": "+64 9 555 0101"}]


def test_a_payment_to_two_invoices_becomes_two_xero_payments() -> None:
    first = _invoice(
        1, "100.00", "2025-03-01", InvoiceStatus.PAID, amount_due=Decimal("0.00")
    )
    second = _invoice(
        2, "60.00", "2025-03-10", InvoiceStatus.OPEN, amount_due=Decimal("20.00")
    )
    payment = Payment(
        ledger_id="p0000000-0000-4000-8000-000000000001",
        customer_id=CUSTOMER.ledger_id,
        date=date(2025, 3, 15),
        currency="NZD",
        amount=Decimal("140.00"),
        unapplied=Decimal("0.00"),
        applied=(
            Application(first.ledger_id, Decimal("100.00")),
            Application(second.ledger_id, Decimal("40.00")),
        ),
    )

    data = Converter(COMPANY, NOW).convert([CUSTOMER], [first, second], [payment], [])

    payments = data["Payments"]
    assert [p["Amount"] for p in payments] == [Decimal("100.00"), Decimal("40.00")]
    assert payments[0]["PaymentID"] == payment.ledger_id  # the first keeps the id
    assert payments[1]["PaymentID"] != payment.ledger_id
    one, two = data["Invoices"]
    assert (one["AmountPaid"], one["AmountDue"], one["Status"]) == (
        Decimal("100.00"),
        Decimal("0.00"),
        "PAID",
    )
    assert (two["AmountPaid"], two["AmountDue"], two["Status"]) == (
        Decimal("40.00"),
        Decimal("20.00"),
        "AUTHORISED",
    )


def test_credits_and_prepayments_count_as_amount_credited() -> None:
    invoice = _invoice(
        1, "300.00", "2025-03-01", InvoiceStatus.OPEN, amount_due=Decimal("150.00")
    )
    credit = Credit(
        ledger_id="d0000000-0000-4000-8000-000000000001",
        customer_id=CUSTOMER.ledger_id,
        date=date(2025, 3, 2),
        currency="NZD",
        total=Decimal("120.00"),
        remaining=Decimal("20.00"),
        applied=(Application(invoice.ledger_id, Decimal("100.00")),),
        number="CN-0001",
    )
    prepayment = Payment(
        ledger_id="e0000000-0000-4000-8000-000000000001",
        customer_id=CUSTOMER.ledger_id,
        date=date(2025, 1, 20),
        currency="NZD",
        amount=Decimal("80.00"),
        unapplied=Decimal("30.00"),
        applied=(Application(invoice.ledger_id, Decimal("50.00")),),
        kind=PaymentKind.PREPAYMENT,
    )

    data = Converter(COMPANY, NOW).convert(
        [CUSTOMER], [invoice], [prepayment], [credit]
    )

    (doc,) = data["Invoices"]
    assert doc["AmountCredited"] == Decimal("150.00")  # 100 credit + 50 prepayment
    assert doc["Total"] - doc["AmountPaid"] - doc["AmountCredited"] == doc["AmountDue"]
    assert doc["CreditNotes"][0]["CreditNoteNumber"] == "CN-0001"
    assert doc["Prepayments"][0]["AppliedAmount"] == Decimal("50.00")
    (note,) = data["CreditNotes"]
    assert (note["Type"], note["RemainingCredit"], note["Status"]) == (
        "ACCRECCREDIT",
        Decimal("20.00"),
        "AUTHORISED",
    )
    (pre,) = data["Prepayments"]
    assert (pre["Type"], pre["RemainingCredit"], pre["Total"]) == (
        "RECEIVE-PREPAYMENT",
        Decimal("30.00"),
        Decimal("80.00"),
    )


def test_voided_invoice_owes_nothing_and_a_foreign_rate_is_inverted() -> None:
    voided = _invoice(1, "99.00", "2025-03-01", InvoiceStatus.VOIDED)
    foreign = _invoice(
        2,
        "100.00",
        "2025-03-01",
        InvoiceStatus.OPEN,
        currency="USD",
        exchange_rate=Decimal("1.6"),  # 1 USD = 1.6 NZD
    )

    one, two = Converter(COMPANY, NOW).convert([CUSTOMER], [voided, foreign], [], [])[
        "Invoices"
    ]

    assert (one["Status"], one["AmountDue"]) == ("VOIDED", Decimal("0.00"))
    assert (two["CurrencyCode"], two["CurrencyRate"]) == ("USD", Decimal("0.625000"))
