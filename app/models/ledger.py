"""The mirror of each ledger: customers (debtors), invoices, payments and credits.

Every row carries its creditor and connection, and is unique by (connection, ledger
id) so a re-delivered sync page updates rather than duplicates.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import (
    Base,
    Currency,
    JsonDict,
    JsonList,
    Money4,
    Rate,
    Timestamps,
    UtcDateTime,
    check_in,
)

INVOICE_STATUSES = ("open", "paid", "voided", "deleted")
DECISIONS = ("refer", "wait", "escalate", "skip")
PAYMENT_KINDS = ("payment", "overpayment", "prepayment")


def _creditor_fk() -> Any:
    return sa.ForeignKey("creditors.id", ondelete="CASCADE")


def _connection_fk() -> Any:
    return sa.ForeignKey("ledger_connections.id", ondelete="CASCADE")


class Debtor(Timestamps, Base):
    """A customer of the creditor, as the ledger shows them, plus CARE's own flags."""

    __tablename__ = "debtors"
    __table_args__ = (
        sa.UniqueConstraint("connection_id", "ledger_id"),
        sa.Index("ix_debtors_creditor_id_name", "creditor_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(_creditor_fk())
    connection_id: Mapped[int] = mapped_column(_connection_fk())
    ledger_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(300))
    contact_name: Mapped[str | None] = mapped_column(sa.String(300))
    emails: Mapped[list[str]] = mapped_column(JsonList(), default=list)
    phones: Mapped[list[str]] = mapped_column(JsonList(), default=list)
    address: Mapped[dict[str, Any] | None] = mapped_column(JsonDict())
    country: Mapped[str | None] = mapped_column(sa.String(2))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    tags: Mapped[list[str]] = mapped_column(JsonList(), default=list)
    currency: Mapped[str | None] = mapped_column(Currency())
    balance: Mapped[Decimal | None] = mapped_column(Money4())  # in `currency`
    strategic: Mapped[bool] = mapped_column(default=False)
    sms_consent: Mapped[bool] = mapped_column(default=False)
    opted_out: Mapped[bool] = mapped_column(default=False)
    lifetime_revenue: Mapped[Decimal | None] = mapped_column(Money4())
    lifetime_revenue_currency: Mapped[str | None] = mapped_column(Currency())
    first_invoice_date: Mapped[date | None] = mapped_column(sa.Date)
    active: Mapped[bool] = mapped_column(default=True)
    deleted: Mapped[bool] = mapped_column(default=False)
    # True while only an invoice has named this customer and its record has not come.
    placeholder: Mapped[bool] = mapped_column(default=False)
    representative_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    last_modified: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When a sync last listed this row: a full pull that misses it means deleted.
    seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Invoice(Timestamps, Base):
    """An invoice as the ledger last showed it, and CARE's latest decision on it."""

    __tablename__ = "invoices"
    __table_args__ = (
        sa.UniqueConstraint("connection_id", "ledger_id"),
        sa.CheckConstraint(check_in("status", INVOICE_STATUSES), name="status"),
        sa.CheckConstraint(
            f"decision IS NULL OR {check_in('decision', DECISIONS)}", name="decision"
        ),
        sa.Index(
            "ix_invoices_creditor_status_due", "creditor_id", "status", "due_date"
        ),
        sa.Index("ix_invoices_creditor_decision", "creditor_id", "decision"),
        sa.Index("ix_invoices_creditor_number", "creditor_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(_creditor_fk())
    connection_id: Mapped[int] = mapped_column(_connection_fk())
    debtor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("debtors.id", ondelete="CASCADE"), index=True
    )
    ledger_id: Mapped[str] = mapped_column(sa.String(64))
    number: Mapped[str | None] = mapped_column(sa.String(64))
    issue_date: Mapped[date | None] = mapped_column(sa.Date)
    due_date: Mapped[date | None] = mapped_column(sa.Date)
    currency: Mapped[str] = mapped_column(Currency())
    total: Mapped[Decimal] = mapped_column(Money4())
    amount_due: Mapped[Decimal] = mapped_column(Money4())
    home_currency: Mapped[str | None] = mapped_column(Currency())
    home_amount_due: Mapped[Decimal | None] = mapped_column(Money4())
    exchange_rate: Mapped[Decimal | None] = mapped_column(Rate())
    status: Mapped[str] = mapped_column(sa.String(10))
    version: Mapped[str | None] = mapped_column(sa.String(32))  # QBO SyncToken
    url: Mapped[str | None] = mapped_column(sa.String(500))
    paid_on: Mapped[date | None] = mapped_column(sa.Date)
    last_modified: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When a sync last listed this row: a full pull that misses it means deleted.
    seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    disputed: Mapped[bool] = mapped_column(default=False)
    dispute_reason: Mapped[str | None] = mapped_column(sa.Text)
    decision: Mapped[str | None] = mapped_column(sa.String(10))
    reason: Mapped[str | None] = mapped_column(sa.String(40))
    days_late: Mapped[int | None] = mapped_column()
    evaluated_on: Mapped[date | None] = mapped_column(sa.Date)


class Payment(Timestamps, Base):
    """Money received from a customer, applied to invoices or left unapplied."""

    __tablename__ = "payments"
    __table_args__ = (
        sa.UniqueConstraint("connection_id", "ledger_id"),
        sa.CheckConstraint(check_in("kind", PAYMENT_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(_creditor_fk())
    connection_id: Mapped[int] = mapped_column(_connection_fk())
    debtor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("debtors.id", ondelete="CASCADE"), index=True
    )
    ledger_id: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(12), default="payment")
    paid_on: Mapped[date] = mapped_column(sa.Date)
    currency: Mapped[str] = mapped_column(Currency())
    amount: Mapped[Decimal] = mapped_column(Money4())
    unapplied: Mapped[Decimal] = mapped_column(Money4())
    deleted: Mapped[bool] = mapped_column(default=False)
    last_modified: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When a sync last listed this row: a full pull that misses it means deleted.
    seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PaymentApplication(Base):
    """Part of a payment applied to one invoice (by the invoice's ledger id)."""

    __tablename__ = "payment_applications"
    __table_args__ = (sa.UniqueConstraint("payment_id", "invoice_ledger_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(_creditor_fk())
    payment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("payments.id", ondelete="CASCADE")
    )
    invoice_ledger_id: Mapped[str] = mapped_column(sa.String(64))
    # Filled once the invoice is mirrored; a payment can arrive before its invoice.
    invoice_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("invoices.id", ondelete="SET NULL"), index=True
    )
    currency: Mapped[str] = mapped_column(Currency())
    amount: Mapped[Decimal] = mapped_column(Money4())


class Credit(Timestamps, Base):
    """A credit note, applied to invoices or remaining on the customer's account."""

    __tablename__ = "credits"
    __table_args__ = (sa.UniqueConstraint("connection_id", "ledger_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(_creditor_fk())
    connection_id: Mapped[int] = mapped_column(_connection_fk())
    debtor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("debtors.id", ondelete="CASCADE"), index=True
    )
    ledger_id: Mapped[str] = mapped_column(sa.String(64))
    number: Mapped[str | None] = mapped_column(sa.String(64))
    issued_on: Mapped[date] = mapped_column(sa.Date)
    currency: Mapped[str] = mapped_column(Currency())
    total: Mapped[Decimal] = mapped_column(Money4())
    remaining: Mapped[Decimal] = mapped_column(Money4())
    deleted: Mapped[bool] = mapped_column(default=False)
    last_modified: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When a sync last listed this row: a full pull that misses it means deleted.
    seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CreditApplication(Base):
    """Part of a credit note applied to one invoice."""

    __tablename__ = "credit_applications"
    __table_args__ = (sa.UniqueConstraint("credit_id", "invoice_ledger_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(_creditor_fk())
    credit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("credits.id", ondelete="CASCADE")
    )
    invoice_ledger_id: Mapped[str] = mapped_column(sa.String(64))
    invoice_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("invoices.id", ondelete="SET NULL"), index=True
    )
    currency: Mapped[str] = mapped_column(Currency())
    amount: Mapped[Decimal] = mapped_column(Money4())
