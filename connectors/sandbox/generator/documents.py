"""Invoices, one plan at a time, with the money that settles them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from app.money import quantize
from connectors.records import Application, Invoice, InvoiceStatus, Ledger
from connectors.sandbox.generator.amounts import exchange_rate, invoice_total
from connectors.sandbox.generator.ids import invoice_number
from connectors.sandbox.generator.people import CustomerDraft
from connectors.sandbox.generator.plans import TERMS, Plan, Scenario, draw_days_late
from connectors.sandbox.generator.settlement import Journal, Settlement

# TODO: invoices carry totals only (no lines, items or tax), payments on foreign
# invoices use the invoice's own rate (no exchange gain or loss), and no payment or
# credit note is ever deleted; the sandboxes invent lines, and deleted-payment sync
# paths still need hand-made fixtures.


@dataclass
class DocumentMaker:
    """Writes invoices into its list, and their payments and credits to `journal`."""

    journal: Journal
    home_currency: str
    customers: list[CustomerDraft]
    invoices: list[Invoice] = field(default_factory=list)
    disputed: set[str] = field(default_factory=set)
    # Per customer, the latest ordinary open invoice a later payment may also settle.
    _open_alone: dict[str, int] = field(default_factory=dict)
    _pool: list[int] = field(default_factory=list)  # customers random plans draw on

    def __post_init__(self) -> None:
        self._pool = [i for i, c in enumerate(self.customers) if not c.solo]

    def add(self, plan: Plan) -> None:
        """Write one invoice following `plan`, with whatever settles it."""
        journal, rng = self.journal, self.journal.rng
        index = plan.customer
        if index is None:
            index = rng.choice(self._pool)
        customer = self.customers[index]
        issue, due = self._dates(plan)

        ledger_id = journal.ids.next("invoice")
        currency = customer.currency
        total = invoice_total(rng, currency)
        settled = Settlement(
            journal, ledger_id, customer.ledger_id, currency, issue, due
        )
        if plan.scenario is Scenario.PAID_TOGETHER:
            self._pay_together(settled, total)
        else:
            settled.run(plan.scenario, total)

        status, total, amount_due = self._standing(plan.scenario, total, settled)
        rate = None
        home_due = amount_due
        if currency != self.home_currency:
            rate = exchange_rate(rng, currency, self.home_currency)
            home_due = quantize(amount_due * rate, self.home_currency)
        if plan.scenario is Scenario.DISPUTED:
            self.disputed.add(ledger_id)

        quickbooks = journal.ledger is Ledger.QUICKBOOKS
        self.invoices.append(
            Invoice(
                ledger_id=ledger_id,
                number=invoice_number(journal.ledger, len(self.invoices) + 1),
                customer_id=customer.ledger_id,
                issue_date=issue,
                due_date=due,
                currency=currency,
                total=total,
                amount_due=amount_due,
                home_amount_due=home_due,
                exchange_rate=rate,
                status=status,
                last_modified=journal.instant(settled.last_event or issue),
                version=str(settled.edits) if quickbooks else None,
                paid_on=settled.last_event if status is InvoiceStatus.PAID else None,
            )
        )
        if plan.scenario is Scenario.OPEN and (plan.days_late is None or plan.pairable):
            self._open_alone[customer.ledger_id] = len(self.invoices) - 1

    def _dates(self, plan: Plan) -> tuple[date, date]:
        """Issue and due dates: the plan's lateness, or one drawn from the buckets."""
        rng, today = self.journal.rng, self.journal.today
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
        due = today - timedelta(days=days_late)
        return due - timedelta(days=term), due

    def _standing(
        self, scenario: Scenario, total: Decimal, settled: Settlement
    ) -> tuple[InvoiceStatus, Decimal, Decimal]:
        """Status, total and amount due once the money is in."""
        currency = settled.currency
        if scenario is Scenario.VOIDED:
            # NOTE: QuickBooks zeroes a voided invoice's TotalAmt; Xero keeps Total
            # and shows AmountDue 0 (recorded demo company: VOIDED, Total 89.0).
            if self.journal.ledger is Ledger.QUICKBOOKS:
                total = quantize(0, currency)
            return InvoiceStatus.VOIDED, total, quantize(0, currency)
        if scenario is Scenario.DELETED:
            return InvoiceStatus.DELETED, total, quantize(0, currency)
        amount_due = quantize(total - settled.applied, currency)
        status = InvoiceStatus.PAID if amount_due == 0 else InvoiceStatus.OPEN
        return status, total, amount_due

    def _pay_together(self, settled: Settlement, total: Decimal) -> None:
        """One payment settling this invoice and an earlier open one of the customer."""
        index = self._open_alone.pop(settled.customer_id, None)
        if index is None:
            settled.pay(total)
            return
        journal = self.journal
        earlier = self.invoices[index]
        assert earlier.issue_date is not None and earlier.due_date is not None
        on = journal.event_date(
            max(settled.issue, earlier.issue_date), max(settled.due, earlier.due_date)
        )
        applied = (
            Application(earlier.ledger_id, earlier.amount_due),
            Application(settled.invoice_id, total),
        )
        both = earlier.amount_due + total
        journal.payment(settled.customer_id, settled.currency, on, both, applied)
        self.invoices[index] = replace(
            earlier,
            amount_due=quantize(0, earlier.currency),
            home_amount_due=quantize(0, self.home_currency),
            status=InvoiceStatus.PAID,
            paid_on=on,
            last_modified=journal.instant(on),
            version=None if earlier.version is None else str(int(earlier.version) + 1),
        )
        settled.took(total, on)
