"""Figures for the insights page, read from the mirror.

Sums are left to the database where they are plain (totals per day, per due date)
so 100,000 invoices stay quick; the arithmetic is `app.insights`'s own. No Flask.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import insights
from app.evaluation import InvoiceFacts
from app.models import (
    CaseInvoice,
    Creditor,
    FeeAccrual,
    Invoice,
    Promise,
    ReferralCase,
    User,
)
from app.money import quantize


@dataclass
class Figures:
    currency: str
    aging: insights.Aging
    cohorts: list[insights.Cohort]
    referred_by_month: list[tuple[str, Decimal, Decimal]]  # month, referred, collected
    dso: Decimal
    cei: Decimal | None
    fees: list[tuple[str, str, Decimal]]  # month, currency, fee
    reps: list[tuple[str, insights.RepPerformance]]


def figures(session: Session, creditor: Creditor, today: date) -> Figures:
    """Every figure on the insights page for one creditor on its local `today`."""
    home = creditor.home_currency
    aging = insights.aging(aging_facts(session, creditor), today, home)
    outcomes = _referral_outcomes(session, creditor)
    cohorts = insights.cohorts(outcomes, home)
    by_month = [(c.month, c.referred, c.collected) for c in cohorts if c.month != "all"]
    sales = _monthly_sales(session, creditor, today, months=12)
    dso = insights.dso_countback(aging.total, sales, as_of=today)
    return Figures(
        currency=home,
        aging=aging,
        cohorts=cohorts,
        referred_by_month=by_month,
        dso=dso,
        cei=_cei(session, creditor, today, aging),
        fees=_fees(session, creditor),
        reps=_reps(session, creditor),
    )


def _home(
    amount: Decimal,
    home_amount: Decimal | None,
    rate: Decimal | None,
    currency: str,
    home: str,
) -> Decimal:
    if currency == home:
        return amount
    if home_amount is not None:
        return home_amount
    if rate is not None:
        return quantize(amount * rate, home)
    return Decimal(
        0
    )  # TODO: a foreign invoice with no rate counts as 0 in the home figures


def _referral_outcomes(
    session: Session, creditor: Creditor
) -> list[insights.ReferralOutcome]:
    referred = session.execute(
        sa.select(
            CaseInvoice.invoice_id,
            CaseInvoice.referred_at,
            CaseInvoice.home_amount_at_referral,
            CaseInvoice.amount_at_referral,
        ).where(CaseInvoice.creditor_id == creditor.id)
    ).all()
    collected: dict[int, Decimal] = defaultdict(Decimal)
    for invoice_id, amount in session.execute(
        sa.select(FeeAccrual.invoice_id, FeeAccrual.collected_amount).where(
            FeeAccrual.creditor_id == creditor.id
        )
    ):
        collected[invoice_id] += amount
    # TODO: collected money is read from fee accruals (home currency assumed); a
    # foreign-currency collection is not converted at its payment's rate.
    return [
        insights.ReferralOutcome(
            invoice_id=str(invoice_id),
            referred_on=referred_at.date(),
            referred=home_amount if home_amount is not None else amount,
            collected=collected.get(invoice_id, Decimal(0)),
        )
        for invoice_id, referred_at, home_amount, amount in referred
    ]


def aging_facts(session: Session, creditor: Creditor) -> list[InvoiceFacts]:
    """Open invoices summed per (due date, currency): aging is additive, and all
    invoices sharing a due date fall in the same bucket, so app.insights.aging over
    these few hundred sums equals it over every invoice."""
    valued = Invoice.home_amount_due.is_not(None)
    rows = session.execute(
        sa.select(
            Invoice.due_date,
            Invoice.currency,
            sa.func.sum(sa.case((valued, Invoice.amount_due), else_=None)),
            sa.func.sum(Invoice.home_amount_due),
            sa.func.sum(sa.case((valued, None), else_=Invoice.amount_due)),
        )
        .where(
            Invoice.creditor_id == creditor.id,
            Invoice.status == "open",
            Invoice.amount_due > 0,
        )
        .group_by(Invoice.due_date, Invoice.currency)
    ).all()
    facts = []
    for due, currency, with_home, home_sum, without_home in rows:
        # Sums come back through the column's type on PostgreSQL, raw on SQLite.
        with_home, home_sum, without_home = (
            _exact(v) for v in (with_home, home_sum, without_home)
        )
        if with_home:
            facts.append(_group(due, currency, with_home, home_sum))
        if without_home and currency == creditor.home_currency:
            facts.append(_group(due, currency, without_home, None))
        # TODO: a foreign invoice the ledger gave no home amount for is left out
        # of the aging (it cannot be valued); the sync fills the amount for both
        # ledgers today, so this only bites on hand-made rows.
    return facts


def _exact(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    # SQLite keeps money as ten-thousandths in an integer (app.models.base.Exact).
    return Decimal(int(value)).scaleb(-4)  # type: ignore[call-overload]


def _group(
    due: date | None, currency: str, amount: Decimal, home: Decimal | None
) -> InvoiceFacts:
    return InvoiceFacts(
        invoice_id=f"{due}:{currency}",
        customer_id="",
        number=None,
        currency=currency,
        amount_due=amount,
        home_amount_due=home,
        due_date=due,
    )


def _home_total(session: Session, creditor: Creditor, *where: Any) -> Decimal:
    """Invoice totals in the home currency: summed by the database for home-currency
    invoices, converted row by row (at the ledger's rate) for the others."""
    home = creditor.home_currency
    base = (Invoice.creditor_id == creditor.id, Invoice.status.in_(("open", "paid")))
    total = _exact(
        session.scalar(
            sa.select(sa.func.sum(Invoice.total)).where(
                *base, Invoice.currency == home, *where
            )
        )
    ) or Decimal(0)
    for amount, currency, rate in session.execute(
        sa.select(Invoice.total, Invoice.currency, Invoice.exchange_rate).where(
            *base, Invoice.currency != home, *where
        )
    ):
        total += _home(amount, None, rate, currency, home)
    return total


def _sales_by_day(
    session: Session, creditor: Creditor, first: date, last: date
) -> dict[date, Decimal]:
    """Credit sales (invoice totals, home currency) per issue date, in one pass."""
    home = creditor.home_currency
    where = (
        Invoice.creditor_id == creditor.id,
        Invoice.status.in_(("open", "paid")),
        Invoice.issue_date >= first,
        Invoice.issue_date <= last,
    )
    days: dict[date, Decimal] = defaultdict(Decimal)
    for issued, amount in session.execute(
        sa.select(Invoice.issue_date, sa.func.sum(Invoice.total))
        .where(*where, Invoice.currency == home)
        .group_by(Invoice.issue_date)
    ):
        if issued is not None:
            days[issued] += _exact(amount) or Decimal(0)
    for issued, amount, currency, rate in session.execute(
        sa.select(
            Invoice.issue_date, Invoice.total, Invoice.currency, Invoice.exchange_rate
        ).where(*where, Invoice.currency != home)
    ):
        if issued is not None:
            days[issued] += _home(amount, None, rate, currency, home)
    return days


def _monthly_sales(
    session: Session, creditor: Creditor, today: date, months: int
) -> list[tuple[str, Decimal]]:
    """Credit sales per month, latest first, `months` months back from `today`."""
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for issued, amount in _sales_by_day(session, creditor, first, today).items():
        sums[issued.strftime("%Y-%m")] += amount
    ordered = []
    month = today.replace(day=1)
    while month >= first:
        key = month.strftime("%Y-%m")
        ordered.append((key, sums.get(key, Decimal(0))))
        month = (month - timedelta(days=1)).replace(day=1)
    return ordered


def _cei(
    session: Session, creditor: Creditor, today: date, aging: insights.Aging
) -> Decimal | None:
    """CEI over the last 30 days, from issue and payment dates in the mirror."""
    start = today - timedelta(days=30)
    # TODO: partial payments before the start are not subtracted: an invoice
    # counts its full total until the date it was paid in full.
    beginning = _home_total(
        session,
        creditor,
        Invoice.issue_date <= start,
        sa.or_(Invoice.paid_on.is_(None), Invoice.paid_on > start),
    )
    by_day = _sales_by_day(session, creditor, start + timedelta(days=1), today)
    sales = sum(by_day.values(), Decimal(0))
    return insights.cei(beginning, sales, aging.total, aging.buckets["current"])


def _fees(session: Session, creditor: Creditor) -> list[tuple[str, str, Decimal]]:
    rows = session.execute(
        sa.select(
            FeeAccrual.accrued_on, FeeAccrual.currency, FeeAccrual.fee_amount
        ).where(FeeAccrual.creditor_id == creditor.id)
    ).all()
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for accrued_on, currency, fee in rows:
        sums[(accrued_on.strftime("%Y-%m"), currency)] += fee
    return [(m, c, quantize(v, c)) for (m, c), v in sorted(sums.items())]


def _reps(
    session: Session, creditor: Creditor
) -> list[tuple[str, insights.RepPerformance]]:
    cases = (
        session.execute(
            sa.select(ReferralCase).where(
                ReferralCase.creditor_id == creditor.id,
                ReferralCase.representative_id.is_not(None),
            )
        )
        .scalars()
        .all()
    )
    if not cases:
        return []
    promises = session.execute(
        sa.select(Promise.case_id, Promise.state, sa.func.count())
        .where(Promise.creditor_id == creditor.id)
        .group_by(Promise.case_id, Promise.state)
    ).all()
    made: Counter[int] = Counter()
    kept: Counter[int] = Counter()
    for case_id, state, count in promises:
        made[case_id] += count
        if state == "kept":
            kept[case_id] += count
    outcomes = [
        insights.CaseOutcome(
            case_id=str(c.id),
            representative_id=str(c.representative_id),
            state=c.state,
            opened_on=c.referred_at.date(),
            closed_on=c.closed_at.date() if c.closed_at else None,
            referred=c.amount_referred,
            collected=c.amount_collected,
            promises_made=made[c.id],
            promises_kept=kept[c.id],
        )
        for c in cases
    ]
    names = dict(
        session.execute(sa.select(User.id, User.name)).all()  # type: ignore[arg-type]
    )
    performance = insights.representative_performance(outcomes, creditor.home_currency)
    return [
        (names.get(int(p.representative_id), p.representative_id) or "—", p)
        for p in performance
    ]
