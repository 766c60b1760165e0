"""Money onto invoices: payments, overpayments, prepayments and credit notes."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.money import quantize
from connectors.records import Application, Credit, Ledger, Payment, PaymentKind
from connectors.sandbox.generator.amounts import part_of
from connectors.sandbox.generator.ids import IdMaker, credit_number
from connectors.sandbox.generator.plans import Scenario


@dataclass
class Journal:
    """The payments and credit notes written so far, and the company's calendar."""

    rng: random.Random
    ids: IdMaker
    ledger: Ledger
    today: date
    company_tz: ZoneInfo
    payments: list[Payment] = field(default_factory=list)
    credits: list[Credit] = field(default_factory=list)
    _offsets: dict[date, timedelta] = field(default_factory=dict)

    def event_date(self, issue: date, due: date) -> date:
        """A day after issue and up to 20 days past due, never after yesterday."""
        latest = min(self.today - timedelta(days=1), due + timedelta(days=20))
        if latest <= issue:
            return min(issue, self.today - timedelta(days=1))
        return issue + timedelta(days=self.rng.randint(1, (latest - issue).days))

    def instant(self, on: date) -> datetime:
        """A business-hours moment on `on` in the company's zone, as UTC."""
        offset = self._offsets.get(on)
        if offset is None:
            # Zones change offset at night, so noon's offset holds all working day;
            # caching it per date saves a zoneinfo lookup per record.
            noon = datetime.combine(on, time(12), tzinfo=self.company_tz)
            offset = self._offsets[on] = noon.utcoffset() or timedelta(0)
        minutes = self.rng.randrange(8 * 60, 18 * 60)
        midnight = datetime(on.year, on.month, on.day, tzinfo=UTC)
        return midnight + timedelta(minutes=minutes) - offset

    def payment(
        self,
        customer_id: str,
        currency: str,
        on: date,
        amount: Decimal,
        applied: tuple[Application, ...] = (),
        kind: PaymentKind = PaymentKind.PAYMENT,
        touched: date | None = None,
    ) -> Payment:
        """Record money received; what is not applied stays on the customer."""
        taken = sum((a.amount for a in applied), Decimal(0))
        record = Payment(
            ledger_id=self.ids.next("payment"),
            customer_id=customer_id,
            date=on,
            currency=currency,
            amount=amount,
            unapplied=quantize(amount - taken, currency),
            applied=applied,
            kind=kind,
            last_modified=self.instant(touched or on),
        )
        self.payments.append(record)
        return record


@dataclass
class Settlement:
    """The money one invoice receives, as its scenario says."""

    journal: Journal
    invoice_id: str
    customer_id: str
    currency: str
    issue: date
    due: date
    applied: Decimal = Decimal(0)
    last_event: date | None = None
    edits: int = 0  # QuickBooks raises an invoice's SyncToken on each one

    def run(self, scenario: Scenario, total: Decimal) -> None:
        """Write the payments and credit notes `scenario` calls for.

        Every share drawn below is 15-85% of the invoice (`part_of`).
        """
        rng, cur = self.journal.rng, self.currency
        if scenario is Scenario.VOIDED:
            self.edits = 1
        elif scenario is Scenario.DISPUTED and rng.random() < 0.3:
            # A disputed invoice is sometimes part-paid: the debtor pays what is agreed.
            self.pay(part_of(rng, total, cur))
        elif scenario is Scenario.PAID:
            self.pay(total)
        elif scenario is Scenario.PARTIAL:
            self.pay(part_of(rng, total, cur))
        elif scenario is Scenario.CREDIT_AND_PAYMENT:
            credit = part_of(rng, total, cur)
            self.credit(credit, credit)
            self.pay(total - credit)
        elif scenario is Scenario.CREDIT_PART_APPLIED:
            applied = part_of(rng, total, cur)
            self.credit(applied + part_of(rng, total, cur), applied)
        elif scenario is Scenario.CREDIT_UNAPPLIED:
            self.credit(part_of(rng, total, cur), Decimal(0))
        elif scenario is Scenario.OVERPAID:
            self.overpay(total, part_of(rng, total, cur))
        elif scenario is Scenario.PREPAID:
            self.prepay(part_of(rng, total, cur), Decimal(0))
        elif scenario is Scenario.PREPAID_COVERING:
            self.prepay(total + part_of(rng, total, cur), Decimal(0))
        elif scenario is Scenario.PREPAYMENT_APPLIED:
            applied = part_of(rng, total, cur)
            self.prepay(applied + part_of(rng, total, cur), applied)

    def pay(self, amount: Decimal) -> None:
        """A payment of `amount`, all of it applied to this invoice."""
        on = self.journal.event_date(self.issue, self.due)
        applied = (Application(self.invoice_id, amount),)
        self.journal.payment(self.customer_id, self.currency, on, amount, applied)
        self.took(amount, on)

    def overpay(self, total: Decimal, excess: Decimal) -> None:
        """The invoice paid in full, and `excess` more left on the customer."""
        journal = self.journal
        on = journal.event_date(self.issue, self.due)
        applied = (Application(self.invoice_id, total),)
        kind = PaymentKind.OVERPAYMENT
        if journal.ledger is Ledger.QUICKBOOKS:
            # QuickBooks keeps the excess on the same Payment, as UnappliedAmt.
            journal.payment(
                self.customer_id, self.currency, on, total + excess, applied, kind
            )
        else:
            # Xero splits it: a Payment for the invoice, an Overpayment for the rest.
            journal.payment(self.customer_id, self.currency, on, total, applied)
            journal.payment(self.customer_id, self.currency, on, excess, (), kind)
        self.took(total, on)

    def prepay(self, money: Decimal, applied: Decimal) -> None:
        """A deposit before the invoice, of which `applied` is allocated to it."""
        journal = self.journal
        received = self.issue - timedelta(days=journal.rng.randint(1, 20))
        apps: tuple[Application, ...] = ()
        touched = received
        if applied > 0:
            apps = (Application(self.invoice_id, applied),)
            touched = journal.event_date(self.issue, self.issue)
            self.took(applied, touched)
        kind = PaymentKind.PREPAYMENT
        journal.payment(
            self.customer_id, self.currency, received, money, apps, kind, touched
        )

    def credit(self, total: Decimal, applied: Decimal) -> None:
        """A credit note of `total`, of which `applied` is applied to this invoice."""
        journal = self.journal
        on = journal.event_date(self.issue, self.due)
        apps: tuple[Application, ...] = ()
        if applied > 0:
            apps = (Application(self.invoice_id, applied),)
            self.took(applied, on)
        journal.credits.append(
            Credit(
                ledger_id=journal.ids.next("credit"),
                customer_id=self.customer_id,
                date=on,
                currency=self.currency,
                total=total,
                remaining=quantize(total - applied, self.currency),
                applied=apps,
                number=credit_number(journal.ledger, len(journal.credits) + 1),
                last_modified=journal.instant(on),
            )
        )

    def took(self, amount: Decimal, on: date) -> None:
        """Count `amount` applied to this invoice on `on`."""
        self.applied += amount
        self.edits += 1
        if self.last_event is None or on > self.last_event:
            self.last_event = on
