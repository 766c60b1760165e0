"""Fees after the fact: late payments for a billed month, reversals, carry-forward.

Every figure is 1% of the money, rounded half-up to the currency's minor unit.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from app import mirror, referrals, settlement
from app.mirror_rows import mark_deleted
from app.models import (
    Debtor,
    FeeAccrual,
    FeeBill,
    Invoice,
    LedgerConnection,
    LedgerWrite,
    PaymentApplication,
)
from connectors import records
from connectors.records import Application, Deletion, InvoiceStatus, SyncPage
from tests.domain import factories as f
from tests.domain.test_settlement import _pay as record_payment

D = Decimal
REVERSAL_NOTE = "taken back (deleted, voided, bounced or reduced in the ledger)"


def _books(session, invoices=(("USD", "2000.00"),) * 3):
    """A creditor at 1% with these invoices, all referred on 2025-05-01."""
    creditor = f.creditor(session, fee_rate=D("0.01"))
    f.user(session, role="representative")
    conn = f.connection(session, creditor)
    debtor = f.debtor(session, conn)
    rows = []
    for currency, total in invoices:
        home = D(total) if currency == "USD" else D(total) * D("0.0067")
        rows.append(
            f.invoice(
                session,
                debtor,
                currency=currency,
                total=D(total),
                amount_due=D(total),
                exchange_rate=None if currency == "USD" else D("0.0067"),
                home_amount_due=home.quantize(D("0.01")),
                due_date=date(2025, 3, 17),  # 45 days late on 2025-05-01
            )
        )
    referrals.sweep(session, creditor.id, date(2025, 5, 1))
    return creditor, rows


def _pay(session, invoice, ledger_id, amount, on):
    """A payment in the mirror (as in test_settlement), then the settlement."""
    payment = record_payment(session, invoice, ledger_id, amount, on)
    invoice.amount_due -= D(amount)
    _settle(session, invoice)
    return payment


def _delete(session, payment, invoice):
    """The payment deleted in the ledger, as the mirror records it."""
    mark_deleted(session, payment)
    invoice.amount_due += payment.amount
    _settle(session, invoice)


def _settle(session, invoice):
    session.flush()
    return settlement.settle(session, invoice.creditor_id, [invoice.id], who="t:t")


def _lines(session, bill):
    write = session.scalars(
        sa.select(LedgerWrite).where(LedgerWrite.target == bill.key)
    ).one()
    assert write.payload["amount"] == str(bill.amount)
    return [(text, D(amount)) for text, amount in write.payload["lines"]]


def _count(session, model, *where):
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_late_payment_for_a_billed_month_goes_once_on_the_next_bill(session):
    creditor, (a, b, c) = _books(session)
    _pay(session, a, "p1", "450.00", date(2025, 5, 6))  # 1% of 450.00 = 4.50
    [may] = settlement.bill_month(session, creditor.id, "2025-05")
    assert (may.key, may.amount) == (f"CARE-{creditor.id}-202505-USD", D("4.50"))

    # Found in June, dated 28 May: May's bill is made. 1% of 230.00 = 2.30.
    _pay(session, b, "p2", "230.00", date(2025, 5, 28))
    assert settlement.bill_month(session, creditor.id, "2025-05") == []
    assert settlement.bill_month(session, creditor.id, "2025-05") == []
    _pay(session, c, "p3", "1000.00", date(2025, 6, 10))  # 10.00

    [june] = settlement.bill_month(session, creditor.id, "2025-06")
    settlement.bill_month(session, creditor.id, "2025-06")
    settlement.bill_month(session, creditor.id, "2025-05")

    # June's bill: 10.00 for June + 2.30 for the late May payment = 12.30.
    assert (june.key, june.amount) == (f"CARE-{creditor.id}-202506-USD", D("12.30"))
    assert _lines(session, june) == [
        ("CARE fee on 1000.00 USD collected in 2025-06 (1 payment)", D("10.00")),
        (
            f"Invoice {b.number}, payment of 2025-05-28: CARE fee on 230.00 USD"
            " (not on the 2025-05 bill)",
            D("2.30"),
        ),
    ]
    assert _lines(session, may) == [
        ("CARE fee on 450.00 USD collected in 2025-05 (1 payment)", D("4.50"))
    ]
    assert _count(session, FeeBill) == 2
    assert _count(session, LedgerWrite, LedgerWrite.kind == "fee_bill") == 2
    bills = session.execute(
        sa.select(FeeAccrual.fee_amount, FeeAccrual.bill_id).order_by(FeeAccrual.id)
    ).all()
    assert bills == [(D("4.50"), may.id), (D("2.30"), june.id), (D("10.00"), june.id)]


def test_payment_deleted_after_its_bill_is_credited_on_the_next_bill(session):
    creditor, (a, b, _) = _books(session)
    payment = _pay(session, a, "p1", "450.00", date(2025, 5, 6))  # 4.50
    [may] = settlement.bill_month(session, creditor.id, "2025-05")
    may.state = "written"

    # Deleted in June: reversal of 1% of 450.00 = -4.50, dated like the payment.
    _delete(session, payment, a)
    _settle(session, a)  # a second sync changes nothing
    _pay(session, b, "p2", "1230.00", date(2025, 6, 12))  # 12.30

    [june] = settlement.bill_month(session, creditor.id, "2025-06")

    # 12.30 - 4.50 = 7.80.
    assert june.amount == D("7.80")
    assert _lines(session, june) == [
        ("CARE fee on 1230.00 USD collected in 2025-06 (1 payment)", D("12.30")),
        (
            f"Reversal: invoice {a.number}, payment of 2025-05-06: 450.00 USD "
            + REVERSAL_NOTE,
            D("-4.50"),
        ),
    ]
    on_a = session.execute(
        sa.select(
            FeeAccrual.seq,
            FeeAccrual.collected_amount,
            FeeAccrual.fee_amount,
            FeeAccrual.accrued_on,
        )
        .where(FeeAccrual.invoice_id == a.id)
        .order_by(FeeAccrual.seq)
    ).all()
    assert on_a == [
        (0, D("450.00"), D("4.50"), date(2025, 5, 6)),
        (1, D("-450.00"), D("-4.50"), date(2025, 5, 6)),
    ]
    assert may.amount == D("4.50")  # the bill in the ledger is left alone


def test_reversal_larger_than_next_months_fees_carries_forward(session):
    creditor, (a, b, c) = _books(session)
    payment = _pay(session, a, "p1", "450.00", date(2025, 5, 6))  # 4.50
    settlement.bill_month(session, creditor.id, "2025-05")
    _delete(session, payment, a)  # -4.50
    _pay(session, b, "p2", "200.00", date(2025, 6, 20))  # 2.00

    # June nets 2.00 - 4.50 = -2.50: no bill, nothing billed, all carried forward.
    assert settlement.bill_month(session, creditor.id, "2025-06") == []
    assert _count(session, FeeBill, FeeBill.month == "2025-06") == 0
    assert _count(session, FeeAccrual, FeeAccrual.bill_id.is_(None)) == 2

    _pay(session, c, "p3", "1000.00", date(2025, 7, 3))  # 10.00
    [july] = settlement.bill_month(session, creditor.id, "2025-07")
    assert settlement.bill_month(session, creditor.id, "2025-06") == []

    # July: 10.00 + 2.00 - 4.50 = 7.50; the older lines in date order.
    assert july.amount == D("7.50")
    assert _lines(session, july) == [
        ("CARE fee on 1000.00 USD collected in 2025-07 (1 payment)", D("10.00")),
        (
            f"Reversal: invoice {a.number}, payment of 2025-05-06: 450.00 USD "
            + REVERSAL_NOTE,
            D("-4.50"),
        ),
        (
            f"Invoice {b.number}, payment of 2025-06-20: CARE fee on 200.00 USD"
            " (not on the 2025-06 bill)",
            D("2.00"),
        ),
    ]
    assert _count(session, FeeAccrual, FeeAccrual.bill_id.is_(None)) == 0


def test_payment_cut_reverses_the_fee_on_the_part_taken_back(session):
    creditor, (a, _, _) = _books(session)
    _pay(session, a, "p1", "450.00", date(2025, 5, 6))  # 4.50
    application = session.scalars(sa.select(PaymentApplication)).one()

    application.amount = D("200.00")  # the payment now pays 200.00 of the invoice
    _settle(session, a)
    application.amount = D("450.00")  # and then all of it again
    _settle(session, a)
    _settle(session, a)

    rows = session.execute(
        sa.select(
            FeeAccrual.seq, FeeAccrual.collected_amount, FeeAccrual.fee_amount
        ).order_by(FeeAccrual.seq)
    ).all()
    # 1% of 200.00 = 2.00, so 2.00 - 4.50 = -2.50 on -250.00; then +250.00, +2.50.
    assert rows == [
        (0, D("450.00"), D("4.50")),
        (1, D("-250.00"), D("-2.50")),
        (2, D("250.00"), D("2.50")),
    ]
    [may] = settlement.bill_month(session, creditor.id, "2025-05")
    # 4.50 - 2.50 + 2.50 = 4.50 on 450.00: May's own changes net on one line.
    assert may.amount == D("4.50")
    assert _lines(session, may) == [
        ("CARE fee on 450.00 USD collected in 2025-05 (1 payment)", D("4.50"))
    ]


def test_reversal_keeps_a_minimum_fee_whole(session):
    creditor, (a, _, _) = _books(session)
    creditor.rules = {"fee_minimum": {"USD": "5.00"}}
    first = _pay(session, a, "p1", "100.00", date(2025, 5, 6))  # 1.00 -> minimum 5.00
    _pay(session, a, "p2", "600.00", date(2025, 5, 9))  # 1% of 700 = 7.00: +2.00

    _delete(session, first, a)

    # Left: 600.00, whose fee is 6.00, so the reversal is 6.00 - 7.00 = -1.00.
    fees = session.scalars(sa.select(FeeAccrual.fee_amount).order_by(FeeAccrual.id))
    assert list(fees) == [D("5.00"), D("2.00"), D("-1.00")]


def test_currencies_are_reversed_and_carried_apart(session):
    # JPY has no minor unit: 1% of 45,150 = 451.5 -> 452; of 1,049 = 10.49 -> 10.
    creditor, (usd, yen) = _books(
        session, invoices=(("USD", "2000.00"), ("JPY", "300000"))
    )
    dollars = _pay(session, usd, "p1", "450.00", date(2025, 5, 6))  # 4.50
    _pay(session, yen, "p2", "45150", date(2025, 5, 7))  # 452
    may = settlement.bill_month(session, creditor.id, "2025-05")
    assert [(b.key, b.amount) for b in may] == [
        (f"CARE-{creditor.id}-202505-JPY", D("452")),
        (f"CARE-{creditor.id}-202505-USD", D("4.50")),
    ]
    assert all(len(b.key) <= 21 for b in may)

    _delete(session, dollars, usd)  # -4.50 USD, and nothing in yen
    _pay(session, yen, "p3", "1049", date(2025, 6, 2))  # 10

    # USD nets -4.50: carried, no USD bill. JPY is billed on its own: 10 yen.
    [june] = settlement.bill_month(session, creditor.id, "2025-06")
    assert (june.key, june.amount) == (f"CARE-{creditor.id}-202506-JPY", D("10"))
    assert _lines(session, june) == [
        ("CARE fee on 1049 JPY collected in 2025-06 (1 payment)", D("10"))
    ]
    carried = session.execute(
        sa.select(FeeAccrual.currency, FeeAccrual.fee_amount).where(
            FeeAccrual.bill_id.is_(None)
        )
    ).all()
    assert carried == [("USD", D("-4.50"))]


def _page_payment(ledger_id, invoice, amount, **changes):
    fields = {
        "ledger_id": ledger_id,
        "customer_id": "64",
        "date": date(2025, 5, 6),
        "currency": "USD",
        "amount": D("450.00"),
        "unapplied": D("450.00") - D(amount),
        "applied": (Application(invoice.ledger_id, D(amount)),) if amount else (),
    }
    fields.update(changes)
    return records.Payment(**fields)


def _synced(session, conn, page):
    """A sync page applied, then settled as jobs.sync settles it."""
    result = mirror.apply_page(session, conn, page)
    touched = set(result.paid_down + result.deleted_invoices + result.unpaid)
    listed = {a.invoice_id for p in page.payments for a in p.applied}
    touched |= set(
        session.scalars(sa.select(Invoice.id).where(Invoice.ledger_id.in_(listed)))
    )
    settlement.settle(session, conn.creditor_id, sorted(touched), who="t:t")
    return result


def _fees(session):
    return list(session.scalars(sa.select(FeeAccrual.fee_amount).order_by("id")))


def test_sync_reverses_the_fee_of_a_payment_quickbooks_deletes(session):
    creditor, (a, _, _) = _books(session)
    conn = session.get(LedgerConnection, a.connection_id)
    session.get(Debtor, a.debtor_id).ledger_id = "64"
    _synced(session, conn, SyncPage(payments=[_page_payment("p1", a, "450.00")]))

    # QuickBooks CDC: a tombstone with only the Id; the invoice comes back open.
    result = _synced(session, conn, SyncPage(deletions=[Deletion("payment", "p1")]))

    assert result.unpaid == [a.id]
    assert _fees(session) == [D("4.50"), D("-4.50")]  # 1% of 450.00, reversed


def test_sync_reverses_the_fee_of_a_payment_xero_marks_deleted(session):
    creditor, (a, _, _) = _books(session)
    conn = session.get(LedgerConnection, a.connection_id)
    session.get(Debtor, a.debtor_id).ledger_id = "64"
    _synced(session, conn, SyncPage(payments=[_page_payment("p1", a, "450.00")]))

    # Xero: the whole payment again, Status DELETED (its allocation still listed).
    gone = _page_payment("p1", a, "450.00", deleted=True)
    result = _synced(session, conn, SyncPage(payments=[gone]))

    assert result.unpaid == [a.id]
    assert _fees(session) == [D("4.50"), D("-4.50")]


def test_sync_reverses_the_part_of_a_payment_taken_off_an_invoice(session):
    creditor, (a, _, _) = _books(session)
    conn = session.get(LedgerConnection, a.connection_id)
    session.get(Debtor, a.debtor_id).ledger_id = "64"
    invoice = records.Invoice(
        ledger_id=a.ledger_id,
        number=a.number,
        customer_id="64",
        issue_date=a.issue_date,
        due_date=a.due_date,
        currency="USD",
        total=D("2000.00"),
        amount_due=D("1550.00"),
        home_amount_due=None,
        exchange_rate=None,
        status=InvoiceStatus.OPEN,
    )
    paid = SyncPage(invoices=[invoice], payments=[_page_payment("p1", a, "450.00")])
    _synced(session, conn, paid)

    # The bookkeeper moves 300.00 of it back onto the customer's account: the
    # balance rises to 1,850.00. 1% of 150.00 = 1.50, so 1.50 - 4.50 = -3.00.
    cut = SyncPage(
        invoices=[replace(invoice, amount_due=D("1850.00"))],
        payments=[_page_payment("p1", a, "150.00")],
    )
    result = _synced(session, conn, cut)

    assert result.unpaid == [a.id, a.id]  # the balance rose; the application shrank
    assert _fees(session) == [D("4.50"), D("-3.00")]
