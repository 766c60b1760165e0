"""Reading a sandbox Xero through the connector: company, sync, fresh read, find."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connectors.records import InvoiceStatus, Ledger
from tests.connectors.xero import factories as f


def test_company_maps_windows_zone_to_iana(connector, tenant) -> None:
    company = connector.company()
    assert company.ledger is Ledger.XERO
    assert company.id == tenant
    assert company.name == "Kereru Supplies Ltd"
    assert company.home_currency == "NZD"
    assert company.timezone == "Pacific/Auckland"
    assert company.country == "NZ"
    assert company.multi_currency is True
    connector.company()
    assert connector.calls == 1  # cached


def test_full_sync_pulls_open_and_paid_invoices(connector, sandbox, tenant) -> None:
    sandbox.load(
        tenant,
        {
            "Contacts": [f.contact(1), f.contact(2)],
            "Invoices": [
                f.invoice(1, 1, total="250.00", due="120.50"),
                f.invoice(2, 2, status="PAID", total="80.00"),
                f.invoice(3, 2, status="DRAFT"),
                f.invoice(4, 1, kind="ACCPAY"),
                f.invoice(5, 1, status="VOIDED"),
            ],
        },
    )
    pages = list(connector.sync(None))
    invoices = {i.ledger_id: i for p in pages for i in p.invoices}
    customers = {c.ledger_id: c for p in pages for c in p.customers}
    assert set(invoices) == {f.invoice_id(1), f.invoice_id(2)}
    assert invoices[f.invoice_id(1)].amount_due == Decimal("120.50")
    assert invoices[f.invoice_id(1)].status is InvoiceStatus.OPEN
    assert invoices[f.invoice_id(1)].due_date == date(2025, 3, 3)
    assert invoices[f.invoice_id(2)].status is InvoiceStatus.PAID
    assert customers[f.contact_id(1)].emails == ("ap1@customer.example",)
    assert pages[-1].done and all(p.full for p in pages)
    assert not any(p.skipped for p in pages)
    # One call per stage (7) plus /Organisation; each equals what the sandbox saw.
    assert connector.calls == 8
    assert sandbox.log.count("/api.xro/2.0/") == 8


def test_c23_fresh_read_sees_payment_made_after_sync(connector, sandbox, tenant):
    # Case C23: INV-0042, 300.00 due 2025-03-25, paid in Xero at 08:55 local on
    # 2 May; the reminder job's fresh read at 09:00 must see AmountDue 0.00.
    contact = f.contact(
        42, Name="Whitebait Cafe Co", EmailAddress="accounts@whitebait-cafe.example"
    )
    invoice = f.invoice(
        42,
        42,
        total="300.00",
        InvoiceNumber="INV-0042",
        DueDate="/Date(1742860800000+0000)/",
    )
    sandbox.load(tenant, {"Contacts": [contact], "Invoices": [invoice]})
    synced = [i for p in connector.sync(None) for i in p.invoices]
    assert [(i.amount_due, i.due_date) for i in synced] == [
        (Decimal("300.00"), date(2025, 3, 25))
    ]

    sandbox.pay_invoice(tenant, f.invoice_id(42), "300.00", date(2025, 5, 2))
    read = connector.fresh_read(f.invoice_id(42))

    assert read.invoice.amount_due == Decimal("0.00")
    assert read.invoice.status is InvoiceStatus.PAID
    assert read.invoice.paid_on == date(2025, 5, 2)
    assert read.customer is not None
    assert read.customer.emails == ("accounts@whitebait-cafe.example",)
    assert read.unapplied_credits == Decimal("0.00")


def test_fresh_read_counts_unspent_credit_in_the_invoice_currency(
    connector, sandbox, tenant
):
    credit = {
        "Type": "ACCRECCREDIT",
        "CreditNoteID": "d0000000-0000-4000-8000-000000000001",
        "CreditNoteNumber": "CN-0001",
        "Contact": {"ContactID": f.contact_id(1)},
        "Date": "/Date(1742428800000+0000)/",
        "Status": "AUTHORISED",
        "CurrencyCode": "NZD",
        "Total": Decimal("50.00"),
        "RemainingCredit": Decimal("30.00"),
    }
    overpayment = {
        "Type": "RECEIVE-OVERPAYMENT",
        "OverpaymentID": "e0000000-0000-4000-8000-000000000001",
        "Contact": {"ContactID": f.contact_id(1)},
        "Date": "/Date(1742428800000+0000)/",
        "Status": "AUTHORISED",
        "CurrencyCode": "NZD",
        "Total": Decimal("20.00"),
        "RemainingCredit": Decimal("12.50"),
    }
    aud_credit = dict(
        credit,
        CreditNoteID="d0000000-0000-4000-8000-000000000002",
        CurrencyCode="AUD",
    )
    sandbox.load(
        tenant,
        {
            "Contacts": [f.contact(1)],
            "Invoices": [f.invoice(1, 1)],
            "CreditNotes": [credit, aud_credit],
            "Overpayments": [overpayment],
        },
    )
    read = connector.fresh_read(f.invoice_id(1))
    # 30.00 NZD credit note + 12.50 NZD overpayment; the AUD credit cannot settle it
    assert read.unapplied_credits == Decimal("42.50")
    # /Organisation, invoice, contact, credit notes, overpayments, prepayments
    assert connector.calls == 6


def test_read_invoices_is_one_call_for_the_case(connector, sandbox, tenant) -> None:
    """The payment gate's read: open, paid and deleted invoices in one GET."""
    sandbox.load(
        tenant,
        {
            "Contacts": [f.contact(1)],
            "Invoices": [
                f.invoice(1, 1, total="250.00", due="120.50"),
                f.invoice(2, 1, total="80.00"),
                f.invoice(3, 1, status="DELETED", total="15.00"),
            ],
        },
    )
    sandbox.pay_invoice(tenant, f.invoice_id(2), "80.00", date(2025, 5, 2))
    connector.company()
    before = sandbox.log.count("/api.xro/2.0/Invoices")

    wanted = [f.invoice_id(1), f.invoice_id(2), f.invoice_id(3)]
    read = connector.read_invoices(wanted)

    assert sandbox.log.count("/api.xro/2.0/Invoices") - before == 1
    assert connector.calls == 2  # /Organisation, then the one read
    assert read[wanted[0]].amount_due == Decimal("120.50")
    assert read[wanted[0]].status is InvoiceStatus.OPEN
    assert read[wanted[1]].amount_due == Decimal("0.00")
    assert read[wanted[1]].status is InvoiceStatus.PAID
    assert read[wanted[2]].status is InvoiceStatus.DELETED


def test_find_invoices_by_exact_number(connector, sandbox, tenant) -> None:
    sandbox.load(
        tenant,
        {
            "Contacts": [f.contact(1)],
            "Invoices": [f.invoice(1, 1), f.invoice(2, 1, InvoiceNumber="INV-00001A")],
        },
    )
    found = connector.find_invoices("INV-00001")
    assert [i.ledger_id for i in found] == [f.invoice_id(1)]
