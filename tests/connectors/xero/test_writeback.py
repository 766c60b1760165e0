"""Write-back to the sandbox: note, fee bill, payment, each once under retries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors.base import FeeBill
from connectors.xero.errors import XeroFixError
from tests.connectors.xero import factories as f


@pytest.fixture
def open_invoice(sandbox, tenant) -> str:
    sandbox.load(
        tenant,
        {"Contacts": [f.contact(1)], "Invoices": [f.invoice(1, 1, total="640.00")]},
    )
    return f.invoice_id(1)


def test_note_is_written_once(connector, sandbox, tenant, open_invoice) -> None:
    first = connector.write_note(open_invoice, "CARE-N-1", "Referred to CARE on 1 May")
    again = connector.write_note(open_invoice, "CARE-N-1", "Referred to CARE on 1 May")

    notes = [h for h in sandbox.history(tenant, open_invoice) if h["Changes"] == "Note"]
    assert [n["Details"] for n in notes] == ["Referred to CARE on 1 May [CARE-N-1]"]
    assert (first.created, first.calls) == (True, 2)  # read history, add note
    assert (again.created, again.calls) == (False, 1)  # read history only
    assert first.ledger_id == again.ledger_id == open_invoice


def test_another_key_adds_another_note(
    connector, sandbox, tenant, open_invoice
) -> None:
    connector.write_note(open_invoice, "CARE-N-1", "Referred")
    connector.write_note(open_invoice, "CARE-N-2", "Reminder sent")
    notes = [h for h in sandbox.history(tenant, open_invoice) if h["Changes"] == "Note"]
    assert len(notes) == 2


def test_fee_bill_once_to_the_program_supplier(connector, sandbox, tenant) -> None:
    bill = FeeBill(
        key="CARE-FEE-2025-05-NZD",
        currency="NZD",
        amount=Decimal("96.00"),
        bill_date=date(2025, 5, 31),
        due_date=date(2025, 6, 20),
        description="CARE pre-collections fee, May 2025",
        lines=(("INV-00001: 15% of 640.00", Decimal("96.00")),),
    )
    first = connector.write_fee_bill(bill)
    again = connector.write_fee_bill(bill)

    bills = [i for i in sandbox.objects(tenant, "Invoices") if i["Type"] == "ACCPAY"]
    assert len(bills) == 1
    stored = bills[0]
    assert stored["InvoiceID"] == first.ledger_id == again.ledger_id
    assert (first.created, again.created) == (True, False)
    assert (first.calls, again.calls) == (2, 1)
    assert stored["Reference"] == stored["InvoiceNumber"] == "CARE-FEE-2025-05-NZD"
    assert stored["Status"] == "AUTHORISED"
    assert stored["Total"] == Decimal("96.00")
    assert stored["CurrencyCode"] == "NZD"
    assert stored["Contact"]["Name"] == "CARE Pre-Collections"
    suppliers = [
        c
        for c in sandbox.objects(tenant, "Contacts")
        if c["Name"] == "CARE Pre-Collections"
    ]
    assert len(suppliers) == 1
    put = [e for e in sandbox.log.entries() if e.method == "PUT"]
    assert len(put) == 1


def test_fee_bill_lines_must_add_up(connector) -> None:
    bill = FeeBill(
        key="CARE-FEE-BAD",
        currency="NZD",
        amount=Decimal("100.00"),
        bill_date=date(2025, 5, 31),
        due_date=date(2025, 6, 20),
        description="fee",
        lines=(("a", Decimal("60.00")), ("b", Decimal("30.00"))),
    )
    with pytest.raises(XeroFixError):
        connector.write_fee_bill(bill)
    assert connector.calls == 0


def test_payment_once_and_invoice_paid(
    connector, sandbox, tenant, open_invoice
) -> None:
    first = connector.write_payment(
        open_invoice, "CARE-PAY-1", Decimal("640.00"), date(2025, 5, 3)
    )
    again = connector.write_payment(
        open_invoice, "CARE-PAY-1", Decimal("640.00"), date(2025, 5, 3)
    )

    payments = sandbox.objects(tenant, "Payments")
    assert len(payments) == 1
    assert payments[0]["PaymentID"] == first.ledger_id == again.ledger_id
    assert payments[0]["Amount"] == Decimal("640.00")
    assert payments[0]["Reference"] == "CARE-PAY-1"
    assert (first.created, again.created) == (True, False)
    read = connector.fresh_read(open_invoice)
    assert read.invoice.amount_due == Decimal("0.00")


def test_payment_above_amount_due_is_refused_without_writing(
    connector, sandbox, tenant, open_invoice
) -> None:
    # Case C33's variant, Xero side: 700.00 reported against 640.00 due.
    with pytest.raises(XeroFixError, match="above"):
        connector.write_payment(
            open_invoice, "CARE-PAY-2", Decimal("700.00"), date(2025, 5, 3)
        )
    assert sandbox.objects(tenant, "Payments") == []
    assert [e.method for e in sandbox.log.entries()] == ["GET"]


def test_c18_foreign_payment_in_invoice_currency_at_xero_rate(
    connector, sandbox, tenant
) -> None:
    # C18 Xero: NZD organisation, AUD invoice INV-7001 at 0.9212, 1500.00 collected.
    sandbox.load(
        tenant,
        {
            "Contacts": [f.contact(1)],
            "Invoices": [
                f.invoice(
                    7001,
                    1,
                    total="1500.00",
                    currency="AUD",
                    rate="0.9212",
                    InvoiceNumber="INV-7001",
                )
            ],
        },
    )
    written = connector.write_payment(
        f.invoice_id(7001), "CARE-PAY-7001", Decimal("1500.00"), date(2025, 5, 6)
    )
    payment = next(
        p
        for p in sandbox.objects(tenant, "Payments")
        if p["PaymentID"] == written.ledger_id
    )
    assert payment["Amount"] == Decimal("1500.00")
    # We sent no CurrencyRate, so Xero applied its own: never 1.0.
    assert payment["CurrencyRate"] == Decimal("0.9212")
    assert payment["Invoice"]["CurrencyCode"] == "AUD"
    read = connector.fresh_read(f.invoice_id(7001))
    assert read.invoice.amount_due == Decimal("0.00")


def test_payment_on_a_paid_invoice_is_refused(connector, sandbox, tenant) -> None:
    sandbox.load(
        tenant,
        {"Contacts": [f.contact(1)], "Invoices": [f.invoice(9, 1, status="PAID")]},
    )
    with pytest.raises(XeroFixError, match="PAID"):
        connector.write_payment(
            f.invoice_id(9), "CARE-PAY-9", Decimal("1.00"), date(2025, 5, 3)
        )


@pytest.mark.parametrize("key", ["", 'a"b', "x" * 101, " lead"])
def test_unusable_keys_are_refused_before_any_call(connector, key) -> None:
    with pytest.raises(XeroFixError):
        connector.write_note("a0000000-0000-4000-8000-000000000001", key, "t")
    assert connector.calls == 0


def test_payment_retry_that_misses_the_lookup_is_replayed_by_key(
    connector, sandbox, tenant, open_invoice, monkeypatch
) -> None:
    # A retry whose look-up ran before the first attempt's payment was visible:
    # Xero's Idempotency-Key answer, not a second payment, is what it gets.
    from connectors.xero import writeback

    stale = dict(sandbox.objects(tenant, "Invoices")[0])
    monkeypatch.setattr(writeback, "_invoice", lambda client, invoice_id: stale)
    first = connector.write_payment(
        open_invoice, "CARE-PAY-3", Decimal("100.00"), date(2025, 5, 3)
    )
    second = connector.write_payment(
        open_invoice, "CARE-PAY-3", Decimal("100.00"), date(2025, 5, 3)
    )
    assert first.ledger_id == second.ledger_id
    assert len(sandbox.objects(tenant, "Payments")) == 1
    assert connector.fresh_read(open_invoice).invoice.amount_due == Decimal("540.00")
