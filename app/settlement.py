"""Money arriving on referred invoices: fees accrued, cases closed, bills made.

Sync finds payments in the ledger; this module turns those on referred invoices into
fee accruals (once per payment and invoice: a UNIQUE pair), keeps each case's amounts
current, closes a case when nothing is owed, and at month end gathers the accruals
into one fee bill per creditor and currency, queued for the ledger exactly once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import cases, clock, fees
from app.models import (
    CaseInvoice,
    Creditor,
    FeeAccrual,
    FeeBill,
    Invoice,
    LedgerConnection,
    LedgerWrite,
    Payment,
    PaymentApplication,
    ReferralCase,
)
from app.money import quantize
from app.referrals import rules_of
from app.rules import Rules

logger = logging.getLogger(__name__)

SETTLED_CASE_STATES = ("resolved_paid", "withdrawn", "written_off")
_ZERO = Decimal(0)


@dataclass
class SettleResult:
    accruals: list[int] = field(default_factory=list)  # FeeAccrual ids made now
    closed_cases: list[int] = field(default_factory=list)


def settle(
    session: Session, creditor_id: int, invoice_ids: Iterable[int], *, who: str
) -> SettleResult:
    """Accrue fees and update or close the cases of these (paid-down) invoices."""
    result = SettleResult()
    creditor = session.get(Creditor, creditor_id)
    if creditor is None:
        raise LookupError(f"no creditor {creditor_id}")
    rules = rules_of(creditor)
    zone = ZoneInfo(creditor.timezone)
    rows = session.execute(
        sa.select(CaseInvoice, Invoice, ReferralCase)
        .join(Invoice, Invoice.id == CaseInvoice.invoice_id)
        .join(ReferralCase, ReferralCase.id == CaseInvoice.case_id)
        .where(
            CaseInvoice.creditor_id == creditor_id,
            CaseInvoice.invoice_id.in_(list(invoice_ids)),
            CaseInvoice.removed_at.is_(None),
        )
    ).all()

    touched: dict[int, ReferralCase] = {}
    for link, invoice, case in rows:
        referred_on = link.referred_at.astimezone(zone).date()
        result.accruals += _accrue(session, creditor, rules, link, invoice, referred_on)
        touched[case.id] = case

    for case in touched.values():
        _refresh_amounts(session, case, creditor.home_currency)
        if case.state not in SETTLED_CASE_STATES and case.amount_due <= _ZERO:
            _close_paid(session, case, who)
            result.closed_cases.append(case.id)
    session.flush()
    return result


def _accrue(
    session: Session,
    creditor: Creditor,
    rules: Rules,
    link: CaseInvoice,
    invoice: Invoice,
    referred_on: date,
) -> list[int]:
    applied = session.execute(
        sa.select(Payment, PaymentApplication.amount)
        .join(PaymentApplication, PaymentApplication.payment_id == Payment.id)
        .where(PaymentApplication.invoice_id == invoice.id, Payment.deleted.is_(False))
        .order_by(Payment.paid_on, Payment.id)
    ).all()
    done = set(
        session.scalars(
            sa.select(FeeAccrual.payment_id).where(FeeAccrual.invoice_id == invoice.id)
        )
    )
    collected_before = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(FeeAccrual.collected_amount), 0)).where(
            FeeAccrual.invoice_id == invoice.id
        )
    )
    made = []
    for payment, amount in applied:
        if payment.id in done:
            continue
        accrual = fees.accrue(
            fees.Collection(
                id=str(payment.id),
                creditor_id=str(creditor.id),
                invoice_id=str(invoice.id),
                currency=invoice.currency,
                amount=Decimal(amount),
                received_on=payment.paid_on,
                referred_on=referred_on,
            ),
            fees.fee_terms(rules, invoice.currency),
            Decimal(collected_before or 0),
        )
        if accrual.basis is not fees.FeeBasis.AFTER_REFERRAL:
            continue  # paid before the referral: the program earned nothing on it
        row = FeeAccrual(
            creditor_id=creditor.id,
            payment_id=payment.id,
            invoice_id=invoice.id,
            case_id=link.case_id,
            currency=invoice.currency,
            collected_amount=accrual.collected,
            fee_amount=accrual.fee,
            rate=accrual.rate,
            accrued_on=payment.paid_on,
            created_at=clock.now(),
        )
        session.add(row)
        session.flush()
        collected_before = Decimal(collected_before or 0) + accrual.collected
        made.append(row.id)
        logger.info(
            "fee accrued creditor=%s invoice=%s payment=%s collected=%s fee=%s %s",
            creditor.id,
            invoice.id,
            payment.id,
            accrual.collected,
            accrual.fee,
            invoice.currency,
        )
    return made


def _refresh_amounts(session: Session, case: ReferralCase, home: str) -> None:
    rows = session.execute(
        sa.select(Invoice)
        .join(CaseInvoice, CaseInvoice.invoice_id == Invoice.id)
        .where(CaseInvoice.case_id == case.id, CaseInvoice.removed_at.is_(None))
    ).scalars()
    due = _ZERO
    for invoice in rows:
        if invoice.status in ("voided", "deleted"):
            continue
        due += cases.home_amount(invoice, home)
    case.amount_due = quantize(due, home)
    case.amount_collected = collected_home(session, case, home)


def collected_home(
    session: Session,
    case: ReferralCase,
    home: str,
    since: date | None = None,
    until: date | None = None,
) -> Decimal:
    """Money collected on the case after referral, in the home currency.

    Each payment counts at its invoice's own rate; `since` and `until` bound the
    payment dates (both inclusive) when given.
    """
    query = (
        sa.select(FeeAccrual.collected_amount, Invoice)
        .join(Invoice, Invoice.id == FeeAccrual.invoice_id)
        .where(FeeAccrual.case_id == case.id)
    )
    if since is not None:
        query = query.where(FeeAccrual.accrued_on >= since)
    if until is not None:
        query = query.where(FeeAccrual.accrued_on <= until)
    total = _ZERO
    for amount, invoice in session.execute(query).all():
        rate = invoice.exchange_rate if invoice.currency != home else None
        total += quantize(amount * rate, home) if rate else amount
    return quantize(total, home)


def _close_paid(session: Session, case: ReferralCase, who: str) -> None:
    statuses = set(
        session.scalars(
            sa.select(Invoice.status)
            .join(CaseInvoice, CaseInvoice.invoice_id == Invoice.id)
            .where(CaseInvoice.case_id == case.id, CaseInvoice.removed_at.is_(None))
        )
    )
    if statuses and statuses <= {"voided", "deleted"}:
        # Nothing was paid: the creditor cancelled the debt in its books.
        to, why, outcome = (
            "withdrawn",
            "invoices voided or deleted in the ledger",
            "void",
        )
    elif case.state == "proposed":
        to, why, outcome = "withdrawn", "paid before approval", "paid"
    else:
        to, why, outcome = "resolved_paid", "nothing left to pay", "paid"
    cases.transition(session, case, to, who, why)
    _note_closed(session, case, why)
    cases.cancel_steps(session, case.id, outcome)


def _note_closed(session: Session, case: ReferralCase, why: str) -> None:
    """Tell the ledger, on each of the case's invoices, that CARE has stopped."""
    from app.referrals import queue_note

    invoices = session.scalars(
        sa.select(Invoice)
        .join(CaseInvoice, CaseInvoice.invoice_id == Invoice.id)
        .where(CaseInvoice.case_id == case.id, CaseInvoice.removed_at.is_(None))
    ).all()
    for invoice in invoices:
        if invoice.status == "deleted":
            continue  # nothing left in the ledger to write on
        text = f"CARE: case C-{case.id} closed ({why}); no further reminders."
        queue_note(session, case, invoice, text, event="closed")


def bill_month(session: Session, creditor_id: int, month: str) -> list[FeeBill]:
    """Gather the month's unbilled accruals into one bill per currency, queued once."""
    creditor = session.get(Creditor, creditor_id)
    if creditor is None:
        raise LookupError(f"no creditor {creditor_id}")
    first = date.fromisoformat(f"{month}-01")
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    accruals = session.scalars(
        sa.select(FeeAccrual).where(
            FeeAccrual.creditor_id == creditor_id,
            FeeAccrual.bill_id.is_(None),
            FeeAccrual.accrued_on >= first,
            FeeAccrual.accrued_on < after,
        )
    ).all()
    by_currency: dict[str, list[FeeAccrual]] = defaultdict(list)
    for accrual in accruals:
        by_currency[accrual.currency].append(accrual)

    connection = session.scalar(
        sa.select(LedgerConnection)
        .where(LedgerConnection.creditor_id == creditor_id)
        .order_by(LedgerConnection.id)
    )
    bills = []
    for currency, group in sorted(by_currency.items()):
        bill = _bill(session, creditor_id, currency, month, connection)
        if bill.state != "open":
            # TODO: a payment the ledger dates in an already billed month is left
            # unbilled; it needs an adjustment bill, or the program loses that fee.
            logger.warning(
                "late accruals for billed month creditor=%s month=%s currency=%s n=%s",
                creditor_id,
                month,
                currency,
                len(group),
            )
            continue
        bill.amount = quantize(bill.amount + sum(a.fee_amount for a in group), currency)
        for accrual in group:
            accrual.bill_id = bill.id
        bills.append(bill)
    session.flush()
    for bill in bills:
        if connection is not None and bill.amount > _ZERO:
            _queue_bill(session, bill, connection, after)
    return bills


def _bill(
    session: Session,
    creditor_id: int,
    currency: str,
    month: str,
    connection: LedgerConnection | None,
) -> FeeBill:
    bill = session.scalar(
        sa.select(FeeBill).where(
            FeeBill.creditor_id == creditor_id,
            FeeBill.currency == currency,
            FeeBill.month == month,
        )
    )
    if bill is None:
        bill = FeeBill(
            creditor_id=creditor_id,
            connection_id=connection.id if connection else None,
            currency=currency,
            month=month,
            amount=_ZERO,
            key=fees.bill_key(str(creditor_id), month, currency),
            state="open",
        )
        session.add(bill)
        session.flush()
    return bill


def _queue_bill(
    session: Session, bill: FeeBill, connection: LedgerConnection, due: date
) -> None:
    key = f"fee_bill:{bill.key}"
    if session.scalar(
        sa.select(LedgerWrite.id).where(LedgerWrite.idempotency_key == key)
    ):
        return
    session.add(
        LedgerWrite(
            creditor_id=bill.creditor_id,
            connection_id=connection.id,
            kind="fee_bill",
            target=bill.key,
            idempotency_key=key,
            payload={
                "bill_id": bill.id,
                "currency": bill.currency,
                "amount": str(bill.amount),
                "month": bill.month,
                "due": due.isoformat(),
            },
            state="pending",
        )
    )
    bill.state = "issued"
    session.flush()
