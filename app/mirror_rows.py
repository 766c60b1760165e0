"""Upserting one sync page's rows into the mirror tables (used by app.mirror).

One SELECT per entity for the whole page (chunked), never one per row; a row is
matched by (connection, ledger id) and only the fields that changed are written.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import (
    Credit,
    CreditApplication,
    Debtor,
    Invoice,
    LedgerConnection,
    Payment,
    PaymentApplication,
)
from app.money import quantize
from connectors import records

logger = logging.getLogger(__name__)

CHUNK = 500  # ids per IN (...): well under SQLite's and PostgreSQL's parameter caps
RATE_QUANTUM = Decimal("0.00000001")  # the exchange_rate column keeps 8 places

R = TypeVar("R")


@dataclass
class MirrorResult:
    """What one page (or a reconciliation) changed."""

    inserted: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)
    stale: int = 0  # records older than the row already held, ignored
    paid_down: list[int] = field(default_factory=list)  # invoice ids, amount_due fell
    # Invoice ids that lost money: amount_due rose, or a payment on them was deleted,
    # voided or cut (a fee accrued on it must be reversed).
    unpaid: list[int] = field(default_factory=list)
    deleted_invoices: list[int] = field(default_factory=list)
    reconciled: bool = False


class PageWriter:
    """One page's upserts, sharing the connection, clock reading and result."""

    def __init__(
        self,
        session: Session,
        connection: LedgerConnection,
        home_currency: str,
        now: datetime,
        result: MirrorResult,
        full: bool = False,
    ) -> None:
        self.session = session
        self.full = full
        self.connection = connection
        self.creditor_id = connection.creditor_id
        self.home_currency = home_currency
        self.now = now
        self.result = result
        self.debtors: dict[str, Debtor] = {}

    def load(self, model: type[R], ledger_ids: Iterable[str]) -> dict[str, R]:
        """Rows of `model` for this connection keyed by ledger id, one query a chunk."""
        found: dict[str, R] = {}
        column = model.ledger_id  # type: ignore[attr-defined]
        for chunk in chunks(sorted(set(ledger_ids))):
            statement = sa.select(model).where(
                model.connection_id == self.connection.id,  # type: ignore[attr-defined]
                column.in_(chunk),
            )
            for row in self.session.scalars(statement):
                found[row.ledger_id] = row  # type: ignore[attr-defined]
        return found

    def upsert(
        self,
        entity: str,
        model: Any,
        existing: dict[str, Any],
        ledger_id: str,
        values: dict[str, Any],
        modified: datetime | None,
    ) -> tuple[Any, Any]:
        """Insert or update one row; returns (the row before, or None; the row)."""
        row = existing.get(ledger_id)
        if row is None:
            row = model(
                creditor_id=self.creditor_id,
                connection_id=self.connection.id,
                ledger_id=ledger_id,
                seen_at=self.now,
                **values,
            )
            self.session.add(row)
            existing[ledger_id] = row
            self.result.inserted[entity] += 1
            return None, row
        if self.full:
            # Only full pulls are reconciled; stamping every incremental page would
            # turn each unchanged row of a replayed page into an UPDATE.
            row.seen_at = self.now  # type: ignore[attr-defined]
        held = row.last_modified  # type: ignore[attr-defined]
        if held is not None and modified is not None and modified < held:
            # An older copy (a slow webhook fetch, a replayed page): keep the newer.
            self.result.stale += 1
            return row, row
        changed = False
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed = True
        if changed:
            self.result.updated[entity] += 1
        else:
            self.result.unchanged[entity] += 1
        return row, row

    def customers(self, customers: Sequence[records.Customer]) -> None:
        existing = self.load(Debtor, (c.ledger_id for c in customers))
        for customer in customers:
            address = asdict(customer.address) if customer.address else None
            if address is not None:
                address["lines"] = list(address["lines"])
            values = {
                "name": customer.name,
                "contact_name": customer.contact_name,
                "emails": list(customer.emails),
                "phones": list(customer.phones),
                "address": address,
                "country": customer.address.country if customer.address else None,
                "tags": list(customer.tags),
                "currency": customer.currency,
                "balance": customer.balance,
                "active": customer.active,
                "deleted": customer.deleted,
                "placeholder": False,
                "last_modified": customer.last_modified,
            }
            self.upsert(
                "customer",
                Debtor,
                existing,
                customer.ledger_id,
                values,
                customer.last_modified,
            )
        self.debtors.update(existing)

    def ensure_debtors(self, customer_ids: Iterable[str]) -> None:
        """Make sure a debtor row exists for every id (a placeholder if unseen)."""
        wanted = set(customer_ids) - set(self.debtors)
        self.debtors.update(self.load(Debtor, wanted))
        for ledger_id in sorted(wanted - set(self.debtors)):
            # The invoice names a customer whose record has not arrived yet; its own
            # page fills this row in.
            # TODO: a placeholder whose customer never arrives keeps the name
            # "Customer <id>" on letters and screens; the sync could fetch it by id.
            debtor = Debtor(
                creditor_id=self.creditor_id,
                connection_id=self.connection.id,
                ledger_id=ledger_id,
                name=f"Customer {ledger_id}",
                placeholder=True,
                seen_at=self.now,
            )
            self.session.add(debtor)
            self.debtors[ledger_id] = debtor
            self.result.inserted["customer"] += 1
        self.session.flush()

    def invoices(self, invoices: Sequence[records.Invoice]) -> None:
        existing = self.load(Invoice, (i.ledger_id for i in invoices))
        for invoice in invoices:
            home_due = invoice.home_amount_due
            if home_due is None and invoice.currency == self.home_currency:
                home_due = invoice.amount_due
            values = {
                "debtor_id": self.debtors[invoice.customer_id].id,
                "number": invoice.number,
                "issue_date": invoice.issue_date,
                "due_date": invoice.due_date,
                "currency": invoice.currency,
                "total": invoice.total,
                "amount_due": invoice.amount_due,
                "home_currency": self.home_currency,
                "home_amount_due": home_due,
                "exchange_rate": _rate(invoice.exchange_rate),
                "status": invoice.status.value,
                "version": invoice.version,
                "url": invoice.url,
                "paid_on": invoice.paid_on,
                "last_modified": invoice.last_modified,
            }
            before_due = (
                existing[invoice.ledger_id].amount_due
                if (invoice.ledger_id in existing)
                else None
            )
            before, row = self.upsert(
                "invoice",
                Invoice,
                existing,
                invoice.ledger_id,
                values,
                invoice.last_modified,
            )
            if before is not None and before_due is not None:
                if row.amount_due < before_due:
                    self.result.paid_down.append(row.id)
                elif row.amount_due > before_due:
                    self.result.unpaid.append(row.id)
        self.session.flush()

    def payments(self, payments: Sequence[records.Payment]) -> None:
        existing = self.load(Payment, (p.ledger_id for p in payments))
        rows: list[tuple[Payment, tuple[records.Application, ...], bool]] = []
        for payment in payments:
            values = {
                "debtor_id": self.debtors[payment.customer_id].id,
                "kind": payment.kind.value,
                "paid_on": payment.date,
                "currency": payment.currency,
                "amount": payment.amount,
                "unapplied": payment.unapplied,
                "deleted": payment.deleted,
                "last_modified": payment.last_modified,
            }
            _, row = self.upsert(
                "payment",
                Payment,
                existing,
                payment.ledger_id,
                values,
                payment.last_modified,
            )
            rows.append((row, payment.applied, payment.deleted))
        self.session.flush()
        self._applications(PaymentApplication, "payment_id", rows)

    def credits(self, credits: Sequence[records.Credit]) -> None:
        existing = self.load(Credit, (c.ledger_id for c in credits))
        rows: list[tuple[Credit, tuple[records.Application, ...], bool]] = []
        for credit in credits:
            values = {
                "debtor_id": self.debtors[credit.customer_id].id,
                "number": credit.number,
                "issued_on": credit.date,
                "currency": credit.currency,
                "total": credit.total,
                "remaining": credit.remaining,
                "deleted": credit.deleted,
                "last_modified": credit.last_modified,
            }
            _, row = self.upsert(
                "credit",
                Credit,
                existing,
                credit.ledger_id,
                values,
                credit.last_modified,
            )
            rows.append((row, credit.applied, credit.deleted))
        self.session.flush()
        self._applications(CreditApplication, "credit_id", rows)

    def _applications(
        self,
        model: Any,
        parent: str,
        rows: Sequence[tuple[Any, tuple[records.Application, ...], bool]],
    ) -> None:
        """Make each parent's applications exactly what the ledger now lists."""
        if not rows:
            return
        parent_col = getattr(model, parent)
        held: dict[tuple[int, str], Any] = {}
        for chunk in chunks([row.id for row, _, _ in rows]):
            for app in self.session.scalars(
                sa.select(model).where(parent_col.in_(chunk))
            ):
                held[(getattr(app, parent), app.invoice_ledger_id)] = app
        invoice_ids = self._invoice_ids(
            a.invoice_id for _, applied, _ in rows for a in applied
        )
        for row, applied, deleted in rows:
            wanted: dict[str, Decimal] = {}
            for application in () if deleted else applied:
                wanted[application.invoice_id] = (
                    wanted.get(application.invoice_id, Decimal(0)) + application.amount
                )
            for (parent_id, invoice_ledger_id), app in list(held.items()):
                if parent_id == row.id and invoice_ledger_id not in wanted:
                    self._unpaid(app)
                    self.session.delete(app)
            for invoice_ledger_id, amount in wanted.items():
                app = held.get((row.id, invoice_ledger_id))
                if app is None:
                    self.session.add(
                        model(
                            creditor_id=self.creditor_id,
                            invoice_ledger_id=invoice_ledger_id,
                            invoice_id=invoice_ids.get(invoice_ledger_id),
                            currency=row.currency,
                            amount=amount,
                            **{parent: row.id},
                        )
                    )
                else:
                    if amount < app.amount:
                        self._unpaid(app)
                    app.amount = amount
                    app.currency = row.currency
                    if app.invoice_id is None:
                        app.invoice_id = invoice_ids.get(invoice_ledger_id)
        self.session.flush()

    def _unpaid(self, application: Any) -> None:
        if isinstance(application, PaymentApplication) and application.invoice_id:
            self.result.unpaid.append(application.invoice_id)

    def _invoice_ids(self, ledger_ids: Iterable[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in chunks(sorted(set(ledger_ids))):
            statement = sa.select(Invoice.ledger_id, Invoice.id).where(
                Invoice.connection_id == self.connection.id,
                Invoice.ledger_id.in_(chunk),
            )
            found.update(
                {
                    ledger_id: row_id
                    for ledger_id, row_id in self.session.execute(statement)
                }
            )
        return found

    def link_applications(self, invoice_ledger_ids: Sequence[str]) -> None:
        """Point applications that arrived before their invoice at the invoice."""
        if not invoice_ledger_ids:
            return
        ids = self._invoice_ids(invoice_ledger_ids)
        pairs: tuple[tuple[Any, Any, str], ...] = (
            (PaymentApplication, Payment, "payment_id"),
            (CreditApplication, Credit, "credit_id"),
        )
        for model, parent_model, parent in pairs:
            parents = sa.select(parent_model.id).where(
                parent_model.connection_id == self.connection.id
            )
            for chunk in chunks(sorted(ids)):
                statement = sa.select(model).where(
                    model.invoice_id.is_(None),
                    model.invoice_ledger_id.in_(chunk),
                    getattr(model, parent).in_(parents),
                )
                for app in self.session.scalars(statement):
                    app.invoice_id = ids[app.invoice_ledger_id]

    def debtor_history(self, debtor_ids: set[int]) -> None:
        """Recompute first invoice date and lifetime revenue of `debtor_ids`.

        Lifetime revenue is the total of the debtor's open and paid invoices held in
        the mirror, in the home currency (foreign invoices at their ledger rate).
        """
        if not debtor_ids:
            return
        home = self.home_currency
        revenue: dict[int, Decimal] = {}
        first: dict[int, Any] = {}
        for chunk in chunks(sorted(debtor_ids)):
            billed = (
                Invoice.debtor_id.in_(chunk),
                Invoice.status.in_(("open", "paid")),
            )
            grouped = sa.select(
                Invoice.debtor_id,
                sa.func.sum(Invoice.total),
                sa.func.min(Invoice.issue_date),
            ).where(*billed, Invoice.currency == home)
            for debtor_id, total, earliest in self.session.execute(
                grouped.group_by(Invoice.debtor_id)
            ):
                revenue[debtor_id] = total or Decimal(0)
                first[debtor_id] = earliest
            foreign = sa.select(
                Invoice.debtor_id,
                Invoice.total,
                Invoice.exchange_rate,
                Invoice.issue_date,
            ).where(*billed, Invoice.currency != home)
            for debtor_id, total, rate, issued in self.session.execute(foreign):
                # TODO: a foreign invoice without a rate adds nothing to revenue.
                if rate is not None:
                    revenue[debtor_id] = revenue.get(debtor_id, Decimal(0)) + quantize(
                        total * rate, home
                    )
                if issued is not None and (
                    first.get(debtor_id) is None or issued < first[debtor_id]
                ):
                    first[debtor_id] = issued
        for debtor in self.debtors.values():
            if debtor.id in debtor_ids:
                debtor.lifetime_revenue = revenue.get(debtor.id, Decimal(0))
                debtor.lifetime_revenue_currency = home
                debtor.first_invoice_date = first.get(debtor.id)

    def deletions(self, deletions: Sequence[records.Deletion]) -> None:
        by_entity: dict[str, list[str]] = {}
        for deletion in deletions:
            if deletion.entity not in DELETABLE:
                raise ValueError(
                    f"deletion of unknown entity {deletion.entity!r}"
                    f" (expected one of {', '.join(DELETABLE)})"
                )
            by_entity.setdefault(deletion.entity, []).append(deletion.ledger_id)
        for entity, ledger_ids in by_entity.items():
            model = DELETABLE[entity]
            rows = self.load(model, ledger_ids)
            if model is Payment:
                # Read before mark_deleted drops them: the invoices these paid.
                for chunk in chunks([r.id for r in rows.values() if not r.deleted]):
                    for app in self.session.scalars(
                        sa.select(PaymentApplication).where(
                            PaymentApplication.payment_id.in_(chunk)
                        )
                    ):
                        self._unpaid(app)
            for row in rows.values():
                if mark_deleted(self.session, row):
                    self.result.deleted[entity] += 1
                    if isinstance(row, Invoice):
                        self.result.deleted_invoices.append(row.id)


DELETABLE: dict[str, Any] = {
    "customer": Debtor,
    "invoice": Invoice,
    "payment": Payment,
    "credit": Credit,
}


def mark_deleted(session: Session, row: Any) -> bool:
    """Mark one mirror row deleted; False if it already was."""
    if isinstance(row, Invoice):
        if row.status == "deleted":
            return False
        row.status = "deleted"
        return True
    if row.deleted:
        return False
    row.deleted = True
    # Money from a deleted payment or credit no longer pays anything.
    if isinstance(row, Payment):
        session.execute(
            sa.delete(PaymentApplication).where(PaymentApplication.payment_id == row.id)
        )
    elif isinstance(row, Credit):
        session.execute(
            sa.delete(CreditApplication).where(CreditApplication.credit_id == row.id)
        )
    return True


def _rate(rate: Decimal | None) -> Decimal | None:
    # NOTE: QuickBooks may send more than 8 decimal places in ExchangeRate; the column
    # keeps 8, plenty for converting amounts of at most 18 digits to the minor unit.
    return None if rate is None else rate.quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


def chunks(items: Sequence[Any] | list[Any]) -> Iterator[list[Any]]:
    items = list(items)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
