"""Invoices and the payments and credit notes that settle them, one plan at a time."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.money import quantize
from connectors.records import (
    Application,
    Credit,
    Invoice,
    InvoiceStatus,
    Ledger,
    Payment,
    PaymentKind,
)
from connectors.sandbox.generator.amounts import exchange_rate, invoice_total, part_of
from connectors.sandbox.generator.ids import IdMaker, credit_number, invoice_number
from connectors.sandbox.generator.people import CustomerDraft
from connectors.sandbox.generator.plans import (
    TERMS,
    Plan,
    Scenario,
    draw_days_late,
)


@dataclass
class _Settlement:
    """What one scenario did to an invoice: money applied, and when."""

    applied: Decimal = Decimal(0)
    last_event: date | None = None
    edits: int = 0


@dataclass
class DocumentMaker:
    """Writes invoices, payments and credits into the lists it holds."""

    rng: random.Random
    ids: IdMaker
    ledger: Ledger
    today: date
    home_currency: str
    company_tz: ZoneInfo
    customers: list[CustomerDraft]
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    credits: list[Credit] = field(default_factory=list)
    disputed: set[str] = field(default_factory=set)
    _credit_count: int = 0
    # Per customer, the latest ordinary open invoice a later payment may also settle.
    _open_alone: dict[str, int] = field(default_factory=dict)
    _offsets: dict[date, timedelta] = field(default_factory=dict)

    def add(self, plan: Plan) -> None:
        """Write one invoice following `plan`, with whatever settles it."""
        rng = self.rng
        index = plan.customer
        if index is None:
            index = rng.randrange(len(self.customers))
        customer = self.customers[index]
        term = plan.term if plan.term is not None else rng.choice(TERMS)
        days_late = plan.days_late
        if days_late is None:
            days_late = draw_days_late(rng, term)
            if plan.scenario is Scenario.DISPUTED and days_late < 1:
                days_late = rng.randint(1, 90)  # nobody disputes before the due date
        if days_late <= 0 and term < 1 - days_late:
            # Every invoice was issued before today: take the shortest standard terms
            # that make it so.
            term = next((t for t in TERMS if t >= 1 - days_late), 1 - days_late)
        due = self.today - timedelta(days=days_late)
        issue = due - timedelta(days=term)

        ledger_id = self.ids.next("invoice")
        currency = customer.currency
        total = invoice_total(rng, currency)
        if plan.scenario is Scenario.PAID_TOGETHER:
            settled = self._pay_together(ledger_id, customer, total, issue, due)
        else:
            settled = self._settle(
                plan.scenario, ledger_id, customer, total, issue, due
            )

        status = InvoiceStatus.OPEN
        amount_due = total - settled.applied
        if plan.scenario is Scenario.VOIDED:
            status, amount_due = InvoiceStatus.VOIDED, Decimal(0)
            # NOTE: QuickBooks zeroes a voided invoice's TotalAmt; Xero keeps Total
            # and shows AmountDue 0 (recorded demo company: VOIDED, Total 89.0).
            if self.ledger is Ledger.QUICKBOOKS:
                total = quantize(0, currency)
        elif plan.scenario is Scenario.DELETED:
            status, amount_due = InvoiceStatus.DELETED, Decimal(0)
        elif amount_due == 0:
            status = InvoiceStatus.PAID
        amount_due = quantize(amount_due, currency)

        rate = None
        home_due = amount_due
        if currency != self.home_currency:
            rate = exchange_rate(rng, currency, self.home_currency)
            home_due = quantize(amount_due * rate, self.home_currency)
        if plan.scenario is Scenario.DISPUTED:
            self.disputed.add(ledger_id)

        touched = settled.last_event or issue
        self.invoices.append(
            Invoice(
                ledger_id=ledger_id,
                number=invoice_number(self.ledger, len(self.invoices) + 1),
                customer_id=customer.ledger_id,
                issue_date=issue,
                due_date=due,
                currency=currency,
                total=total,
                amount_due=amount_due,
                home_amount_due=home_due,
                exchange_rate=rate,
                status=status,
                last_modified=self.instant(touched),
                version=str(settled.edits)
                if self.ledger is Ledger.QUICKBOOKS
                else None,
                paid_on=settled.last_event if status is InvoiceStatus.PAID else None,
            )
        )
        if plan.scenario is Scenario.OPEN and (plan.days_late is None or plan.pairable):
            self._open_alone[customer.ledger_id] = len(self.invoices) - 1

    def _pay_together(
        self,
        invoice_id: str,
        customer: CustomerDraft,
        total: Decimal,
        issue: date,
        due: date,
    ) -> _Settlement:
        """One payment settling this invoice and an earlier open one of the customer."""
        done = _Settlement()
        index = self._open_alone.pop(customer.ledger_id, None)
        if index is None:
            self._pay(
                done,
                invoice_id,
                customer.ledger_id,
                customer.currency,
                total,
                issue,
                due,
            )
            return done
        earlier = self.invoices[index]
        assert earlier.issue_date is not None and earlier.due_date is not None
        on = self._event_date(
            max(issue, earlier.issue_date), max(due, earlier.due_date)
        )
        both = earlier.amount_due + total
        self.payments.append(
            Payment(
                ledger_id=self.ids.next("payment"),
                customer_id=customer.ledger_id,
                date=on,
                currency=customer.currency,
                amount=both,
                unapplied=quantize(0, customer.currency),
                applied=(
                    Application(earlier.ledger_id, earlier.amount_due),
                    Application(invoice_id, total),
                ),
                last_modified=self.instant(on),
            )
        )
        self.invoices[index] = replace(
            earlier,
            amount_due=quantize(0, earlier.currency),
            home_amount_due=quantize(0, self.home_currency),
            status=InvoiceStatus.PAID,
            paid_on=on,
            last_modified=self.instant(on),
            version=None if earlier.version is None else str(int(earlier.version) + 1),
        )
        self._applied(done, total, on)
        return done

    def _settle(
        self,
        scenario: Scenario,
        invoice_id: str,
        customer: CustomerDraft,
        total: Decimal,
        issue: date,
        due: date,
    ) -> _Settlement:
        rng, cur, cid = self.rng, customer.currency, customer.ledger_id
        done = _Settlement()
        if scenario in (Scenario.VOIDED, Scenario.DELETED, Scenario.OPEN):
            done.edits = 1 if scenario is Scenario.VOIDED else 0
            return done
        if scenario is Scenario.DISPUTED:
            # A disputed invoice is sometimes part-paid: the debtor pays what is agreed.
            if rng.random() < 0.3:
                self._pay(
                    done, invoice_id, cid, cur, part_of(rng, total, cur), issue, due
                )
            return done
        if scenario is Scenario.PAID:
            self._pay(done, invoice_id, cid, cur, total, issue, due)
        elif scenario is Scenario.PARTIAL:
            self._pay(done, invoice_id, cid, cur, part_of(rng, total, cur), issue, due)
        elif scenario is Scenario.CREDIT_AND_PAYMENT:
            credit = part_of(rng, total, cur)
            self._credit(done, invoice_id, cid, cur, credit, credit, issue, due)
            self._pay(done, invoice_id, cid, cur, total - credit, issue, due)
        elif scenario is Scenario.CREDIT_PART_APPLIED:
            applied = part_of(rng, total, cur)
            note = applied + part_of(rng, total, cur)
            self._credit(done, invoice_id, cid, cur, note, applied, issue, due)
        elif scenario is Scenario.CREDIT_UNAPPLIED:
            note = part_of(rng, total, cur)
            self._credit(done, None, cid, cur, note, Decimal(0), issue, due)
        elif scenario is Scenario.OVERPAID:
            self._overpay(done, invoice_id, cid, cur, total, issue, due)
        elif scenario is Scenario.PREPAID:
            money = part_of(rng, total, cur)
            self._prepay(done, None, cid, cur, money, Decimal(0), issue)
        elif scenario is Scenario.PREPAID_COVERING:
            money = total + part_of(rng, total, cur)
            self._prepay(done, None, cid, cur, money, Decimal(0), issue)
        elif scenario is Scenario.PREPAYMENT_APPLIED:
            applied = part_of(rng, total, cur)
            money = applied + part_of(rng, total, cur)
            self._prepay(done, invoice_id, cid, cur, money, applied, issue)
        return done

    def _pay(
        self,
        done: _Settlement,
        invoice_id: str,
        customer_id: str,
        currency: str,
        amount: Decimal,
        issue: date,
        due: date,
    ) -> None:
        on = self._event_date(issue, due)
        self.payments.append(
            Payment(
                ledger_id=self.ids.next("payment"),
                customer_id=customer_id,
                date=on,
                currency=currency,
                amount=amount,
                unapplied=quantize(0, currency),
                applied=(Application(invoice_id, amount),),
                last_modified=self.instant(on),
            )
        )
        self._applied(done, amount, on)

    def _overpay(
        self,
        done: _Settlement,
        invoice_id: str,
        customer_id: str,
        currency: str,
        total: Decimal,
        issue: date,
        due: date,
    ) -> None:
        on = self._event_date(issue, due)
        excess = part_of(self.rng, total, currency)
        if self.ledger is Ledger.QUICKBOOKS:
            # QuickBooks keeps the excess on the same Payment as UnappliedAmt.
            self.payments.append(
                Payment(
                    ledger_id=self.ids.next("payment"),
                    customer_id=customer_id,
                    date=on,
                    currency=currency,
                    amount=total + excess,
                    unapplied=excess,
                    applied=(Application(invoice_id, total),),
                    kind=PaymentKind.OVERPAYMENT,
                    last_modified=self.instant(on),
                )
            )
        else:
            # Xero splits it: a Payment for the invoice and an Overpayment for the rest.
            self._pay(done, invoice_id, customer_id, currency, total, issue, due)
            on = self.payments[-1].date
            self.payments.append(
                Payment(
                    ledger_id=self.ids.next("payment"),
                    customer_id=customer_id,
                    date=on,
                    currency=currency,
                    amount=excess,
                    unapplied=excess,
                    kind=PaymentKind.OVERPAYMENT,
                    last_modified=self.instant(on),
                )
            )
            return
        self._applied(done, total, on)

    def _prepay(
        self,
        done: _Settlement,
        invoice_id: str | None,
        customer_id: str,
        currency: str,
        money: Decimal,
        applied: Decimal,
        issue: date,
    ) -> None:
        # Money arrives before the invoice (a deposit), and is allocated later.
        received = issue - timedelta(days=self.rng.randint(1, 20))
        apps: tuple[Application, ...] = ()
        if invoice_id is not None and applied > 0:
            apps = (Application(invoice_id, applied),)
            self._applied(done, applied, self._event_date(issue, issue))
        self.payments.append(
            Payment(
                ledger_id=self.ids.next("payment"),
                customer_id=customer_id,
                date=received,
                currency=currency,
                amount=money,
                unapplied=quantize(money - applied, currency),
                applied=apps,
                kind=PaymentKind.PREPAYMENT,
                last_modified=self.instant(done.last_event or received),
            )
        )

    def _credit(
        self,
        done: _Settlement,
        invoice_id: str | None,
        customer_id: str,
        currency: str,
        total: Decimal,
        applied: Decimal,
        issue: date,
        due: date,
    ) -> None:
        on = self._event_date(issue, due)
        self._credit_count += 1
        apps: tuple[Application, ...] = ()
        if invoice_id is not None and applied > 0:
            apps = (Application(invoice_id, applied),)
            self._applied(done, applied, on)
        self.credits.append(
            Credit(
                ledger_id=self.ids.next("credit"),
                customer_id=customer_id,
                date=on,
                currency=currency,
                total=total,
                remaining=quantize(total - applied, currency),
                applied=apps,
                number=credit_number(self.ledger, self._credit_count),
                last_modified=self.instant(on),
            )
        )

    def _applied(self, done: _Settlement, amount: Decimal, on: date) -> None:
        done.applied += amount
        done.edits += 1
        if done.last_event is None or on > done.last_event:
            done.last_event = on

    def _event_date(self, issue: date, due: date) -> date:
        """A day between issue and a little after the due date, before today."""
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
        local = datetime(on.year, on.month, on.day, tzinfo=UTC)
        return local + timedelta(minutes=minutes) - offset
