"""Payments on referred invoices: fees accrued once, cases closed, monthly bills."""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from app import referrals, settlement
from app.models import FeeAccrual, FeeBill, LedgerWrite, Payment, PaymentApplication
from tests.domain import factories as f


def _referred(session, rate="0.025"):
    # C15: 1,200.00 invoice with 750.00 paid before referral; 450.00 left, 45 days late.
    creditor = f.creditor(session, fee_rate=Decimal(rate))
    f.user(session, role="representative")
    conn = f.connection(session, creditor)
    debtor = f.debtor(session, conn, name="Ashgrove Veterinary Clinic")
    invoice = f.invoice(
        session,
        debtor,
        total=Decimal("1200.00"),
        amount_due=Decimal("450.00"),
        due_date=date(2025, 3, 17),
    )
    _pay(session, invoice, "902", "750.00", date(2025, 4, 10))
    referrals.sweep(session, creditor.id, date(2025, 5, 1))
    return creditor, invoice


def _pay(session, invoice, ledger_id, amount, on):
    payment = Payment(
        creditor_id=invoice.creditor_id,
        connection_id=invoice.connection_id,
        debtor_id=invoice.debtor_id,
        ledger_id=ledger_id,
        paid_on=on,
        currency=invoice.currency,
        amount=Decimal(amount),
        unapplied=Decimal(0),
    )
    session.add(payment)
    session.flush()
    session.add(
        PaymentApplication(
            creditor_id=invoice.creditor_id,
            payment_id=payment.id,
            invoice_ledger_id=invoice.ledger_id,
            invoice_id=invoice.id,
            currency=invoice.currency,
            amount=Decimal(amount),
        )
    )
    session.flush()
    return payment


def test_fee_is_the_rate_on_money_paid_after_referral_only(session):
    creditor, invoice = _referred(session)
    _pay(session, invoice, "903", "450.00", date(2025, 5, 6))
    invoice.amount_due = Decimal("0.00")
    invoice.status = "paid"

    result = settlement.settle(session, creditor.id, [invoice.id], who="system:test")

    accruals = session.scalars(sa.select(FeeAccrual)).all()
    # 2.5% of 450.00 = 11.25; the 750.00 paid before referral earns nothing (not 30.00).
    assert [(a.collected_amount, a.fee_amount) for a in accruals] == [
        (Decimal("450.00"), Decimal("11.25"))
    ]
    assert len(result.closed_cases) == 1


def test_settling_twice_accrues_once(session):
    creditor, invoice = _referred(session)
    _pay(session, invoice, "903", "200.00", date(2025, 5, 6))
    invoice.amount_due = Decimal("250.00")

    settlement.settle(session, creditor.id, [invoice.id], who="system:test")
    again = settlement.settle(session, creditor.id, [invoice.id], who="system:test")

    assert again.accruals == [] and again.closed_cases == []
    assert session.scalar(sa.select(sa.func.count()).select_from(FeeAccrual)) == 1


def test_month_bill_is_made_and_queued_once(session):
    creditor, invoice = _referred(session, rate="0.01")
    _pay(session, invoice, "903", "450.00", date(2025, 5, 6))
    invoice.amount_due = Decimal("0.00")
    settlement.settle(session, creditor.id, [invoice.id], who="system:test")

    [bill] = settlement.bill_month(session, creditor.id, "2025-05")
    settlement.bill_month(session, creditor.id, "2025-05")

    assert (bill.currency, bill.amount) == ("USD", Decimal("4.50"))
    assert session.scalar(sa.select(sa.func.count()).select_from(FeeBill)) == 1
    write = session.scalars(
        sa.select(LedgerWrite).where(LedgerWrite.kind == "fee_bill")
    ).one()
    assert write.target == f"CARE-{creditor.id}-202505-USD"
    assert write.payload["amount"] == "4.50"
