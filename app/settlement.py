"""Money arriving on referred invoices: fees accrued, cases closed, bills made.

Sync finds payments in the ledger; this module turns those on referred invoices into
fee accruals (once per payment and invoice, and once per later change to what the
payment pays: a UNIQUE triple), reverses the fee on money the ledger takes back,
keeps each case's amounts current, closes a case when nothing is owed, and at month
end gathers the unbilled accruals into one fee bill per creditor and currency,
queued for the ledger exactly once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, cast
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
_CHUNK = 500  # ids per IN (...): well under SQLite's and PostgreSQL's caps


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
        # TODO: a case closed as paid stays closed when the payment is later deleted
        # or bounces (its fee is reversed, the invoice is owed again); until a person
        # refers the invoice again, nobody chases that money.
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
    """Make the invoice's accruals match what its payments pay now.

    A payment already accrued whose money the ledger has since taken back (deleted,
    voided, bounced, or cut so it pays less of this invoice) gets a reversal; one it
    now pays more gets the fee's increase. A new payment gets its fee once.

    TODO: a bounce booked without touching the payment (a journal entry or a new
    charge that raises the balance) re-settles the invoice but reverses nothing, as
    the payment still pays it; the creditor is billed the fee on that money.
    """
    applied: dict[int, tuple[Payment, Decimal]] = {}
    for payment, amount in session.execute(
        sa.select(Payment, PaymentApplication.amount)
        .join(PaymentApplication, PaymentApplication.payment_id == Payment.id)
        .where(PaymentApplication.invoice_id == invoice.id, Payment.deleted.is_(False))
        .order_by(Payment.paid_on, Payment.id)
    ).all():
        before = applied.get(payment.id, (payment, _ZERO))[1]
        applied[payment.id] = (payment, before + Decimal(amount))
    held = _held(session, invoice.id)
    collected = sum((h.collected for h in held.values()), _ZERO)
    terms = fees.fee_terms(rules, invoice.currency)
    made = []

    for payment_id, h in sorted(held.items(), key=lambda i: (i[1].paid_on, i[0])):
        now = applied[payment_id][1] if payment_id in applied else _ZERO
        if now == h.collected:
            continue
        collection = _collection(creditor, invoice, payment_id, h, referred_on)
        if now < h.collected:
            accrual = fees.reverse(collection, h.collected - now, terms, collected)
        else:
            accrual = fees.accrue(
                replace(collection, amount=now - h.collected), terms, collected
            )
            if accrual.basis is not fees.FeeBasis.AFTER_REFERRAL:
                continue
        made.append(_store(session, link, payment_id, accrual, h.seq + 1))
        collected += accrual.collected

    for payment_id, (payment, amount) in applied.items():
        if payment_id in held:
            continue
        accrual = fees.accrue(
            fees.Collection(
                id=str(payment.id),
                creditor_id=str(creditor.id),
                invoice_id=str(invoice.id),
                currency=invoice.currency,
                amount=amount,
                received_on=payment.paid_on,
                referred_on=referred_on,
            ),
            terms,
            collected,
        )
        if accrual.basis is not fees.FeeBasis.AFTER_REFERRAL:
            continue  # paid before the referral: the program earned nothing on it
        made.append(_store(session, link, payment_id, accrual, 0))
        collected += accrual.collected
    return made


@dataclass
class _Held:
    """What one payment's accruals on an invoice count so far."""

    paid_on: date
    collected: Decimal = _ZERO
    seq: int = 0


def _held(session: Session, invoice_id: int) -> dict[int, _Held]:
    held: dict[int, _Held] = {}
    for row in session.scalars(
        sa.select(FeeAccrual)
        .where(FeeAccrual.invoice_id == invoice_id, FeeAccrual.payment_id.is_not(None))
        .order_by(FeeAccrual.seq)
    ):
        assert row.payment_id is not None
        h = held.setdefault(row.payment_id, _Held(row.accrued_on))
        h.collected += row.collected_amount
        h.seq = max(h.seq, row.seq)
    return held


def _collection(
    creditor: Creditor,
    invoice: Invoice,
    payment_id: int,
    held: _Held,
    referred_on: date,
) -> fees.Collection:
    """The payment as it was accrued (its date then, all it counted)."""
    return fees.Collection(
        id=str(payment_id),
        creditor_id=str(creditor.id),
        invoice_id=str(invoice.id),
        currency=invoice.currency,
        amount=held.collected,
        received_on=held.paid_on,
        referred_on=referred_on,
    )


def _store(
    session: Session,
    link: CaseInvoice,
    payment_id: int,
    accrual: fees.Accrual,
    seq: int,
) -> int:
    # The UNIQUE (payment, invoice, seq) makes a racing settle of the same change
    # fail its transaction instead of accruing it twice.
    row = FeeAccrual(
        creditor_id=link.creditor_id,
        payment_id=payment_id,
        invoice_id=link.invoice_id,
        case_id=link.case_id,
        seq=seq,
        currency=accrual.currency,
        collected_amount=accrual.collected,
        fee_amount=accrual.fee,
        rate=accrual.rate,
        accrued_on=accrual.accrued_on,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    logger.info(
        "fee %s creditor=%s invoice=%s payment=%s seq=%s collected=%s fee=%s %s",
        "reversed" if accrual.basis is fees.FeeBasis.REVERSAL else "accrued",
        link.creditor_id,
        link.invoice_id,
        payment_id,
        seq,
        accrual.collected,
        accrual.fee,
        accrual.currency,
    )
    return row.id


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


class FeeBillConflictError(RuntimeError):
    """Another transaction billed some of these accruals first; retry to re-read."""


def bill_month(session: Session, creditor_id: int, month: str) -> list[FeeBill]:
    """Bill every unbilled accrual dated up to the end of `month`, queued once.

    One bill per currency, keyed by month and currency. Accruals dated in an earlier
    month go on it too, each on a line of its own: a payment the ledger dated in a
    month already billed, a reversal of a billed payment, or what a month that netted
    to nothing or less carried forward. A month's bill is made once: what turns up
    after it waits for the next month's.
    """
    creditor = session.get(Creditor, creditor_id)
    if creditor is None:
        raise LookupError(f"no creditor {creditor_id}")
    first = date.fromisoformat(f"{month}-01")
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    # Why the next bill rather than an adjustment bill of its own for a billed month:
    # the key stays one per month and currency (CARE-<creditor>-<YYYYMM>-<CUR>, within
    # QuickBooks' 21-character DocNumber), a bill already in the ledger is never
    # touched, a reversal nets off fees instead of needing a negative bill (which
    # neither ledger takes), and each accrual's bill_id, set once under a guard,
    # is the whole record of it being billed.
    accruals = session.scalars(
        sa.select(FeeAccrual)
        .where(
            FeeAccrual.creditor_id == creditor_id,
            FeeAccrual.bill_id.is_(None),
            FeeAccrual.accrued_on < after,
        )
        .order_by(FeeAccrual.id)
    ).all()
    by_currency: dict[str, list[FeeAccrual]] = defaultdict(list)
    for accrual in accruals:
        by_currency[accrual.currency].append(accrual)
    labels = _labels(session, {a.invoice_id for a in accruals})

    connection = session.scalar(
        sa.select(LedgerConnection)
        .where(LedgerConnection.creditor_id == creditor_id)
        .order_by(LedgerConnection.id)
    )
    bills: list[tuple[FeeBill, fees.BillPlan]] = []
    for currency, group in sorted(by_currency.items()):
        bill = _month_bill(session, creditor_id, currency, month)
        if bill is not None and bill.state != "open":
            logger.info(
                "fee bill already made creditor=%s bill=%s: %s later accruals wait"
                " for the next one",
                creditor_id,
                bill.key,
                len(group),
            )
            continue
        attached = _attached(session, bill)
        plan = fees.plan_bill(
            month, currency, [_domain(a) for a in attached + list(group)], labels
        )
        if plan is None:
            logger.info(
                "fee bill carried forward creditor=%s month=%s currency=%s n=%s",
                creditor_id,
                month,
                currency,
                len(group),
            )
            continue
        if bill is None:
            bill = _new_bill(session, creditor_id, currency, month, connection)
        _attach(session, bill, group)
        bill.amount = plan.amount
        bills.append((bill, plan))
    session.flush()
    for bill, plan in bills:
        if connection is not None and bill.amount > _ZERO:
            _queue_bill(session, bill, connection, after, plan.lines)
    return [bill for bill, _ in bills]


def _labels(session: Session, invoice_ids: set[int]) -> dict[str, str]:
    """How bill lines name invoices: their number, else their ledger id."""
    ids = sorted(invoice_ids)
    labels = {}
    for start in range(0, len(ids), _CHUNK):
        for i, number, ledger_id in session.execute(
            sa.select(Invoice.id, Invoice.number, Invoice.ledger_id).where(
                Invoice.id.in_(ids[start : start + _CHUNK])
            )
        ):
            labels[str(i)] = number or ledger_id
    return labels


def _domain(row: FeeAccrual) -> fees.Accrual:
    basis = fees.FeeBasis.REVERSAL if row.collected_amount < 0 else None
    return fees.Accrual(
        collection_id=str(row.payment_id),
        creditor_id=str(row.creditor_id),
        invoice_id=str(row.invoice_id),
        currency=row.currency,
        collected=row.collected_amount,
        fee=row.fee_amount,
        rate=row.rate,
        accrued_on=row.accrued_on,
        basis=basis or fees.FeeBasis.AFTER_REFERRAL,
    )


def _attached(session: Session, bill: FeeBill | None) -> list[FeeAccrual]:
    if bill is None:
        return []
    return list(
        session.scalars(
            sa.select(FeeAccrual)
            .where(FeeAccrual.bill_id == bill.id)
            .order_by(FeeAccrual.id)
        )
    )


def _attach(session: Session, bill: FeeBill, accruals: list[FeeAccrual]) -> None:
    """Put the accruals on `bill`, each only if no other bill has taken it first.

    Two bill runs at once (a retried job, a person billing by hand) could otherwise
    both put a late accrual on their bills; the guarded UPDATE lets only one.
    """
    ids = [a.id for a in accruals]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        # An UPDATE answers with a CursorResult, which counts the rows it changed.
        done = cast(
            "sa.CursorResult[Any]",
            session.execute(
                sa.update(FeeAccrual)
                .where(FeeAccrual.id.in_(chunk), FeeAccrual.bill_id.is_(None))
                .values(bill_id=bill.id)
                .execution_options(synchronize_session=False)
            ),
        )
        missed = len(chunk) - done.rowcount
        if missed:
            raise FeeBillConflictError(
                f"bill {bill.key}: {missed} accruals were billed by another run"
            )
    for accrual in accruals:
        session.expire(accrual, ["bill_id"])


def _month_bill(
    session: Session, creditor_id: int, currency: str, month: str
) -> FeeBill | None:
    return session.scalar(
        sa.select(FeeBill).where(
            FeeBill.creditor_id == creditor_id,
            FeeBill.currency == currency,
            FeeBill.month == month,
        )
    )


def _new_bill(
    session: Session,
    creditor_id: int,
    currency: str,
    month: str,
    connection: LedgerConnection | None,
) -> FeeBill:
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
    session: Session,
    bill: FeeBill,
    connection: LedgerConnection,
    due: date,
    lines: tuple[tuple[str, Decimal], ...],
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
                "lines": [[text, str(amount)] for text, amount in lines],
            },
            state="pending",
        )
    )
    bill.state = "issued"
    session.flush()
