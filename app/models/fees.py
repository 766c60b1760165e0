"""The program's fee: accrued per payment on a referred invoice, billed monthly."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import (
    Base,
    Currency,
    Money4,
    Rate,
    Timestamps,
    UtcDateTime,
    check_in,
)

BILL_STATES = ("open", "issued", "written", "failed")


class FeeAccrual(Base):
    """The fee earned on one payment applied to one referred invoice, or a change to it.

    `seq` 0 is the fee the payment earned when it arrived; 1, 2, ... follow when the
    ledger later changes what it pays (a reversal, negative, when it is deleted,
    voided, bounced or cut). The UNIQUE triple makes each of them happen once.
    """

    __tablename__ = "fee_accruals"
    __table_args__ = (sa.UniqueConstraint("payment_id", "invoice_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("creditors.id", ondelete="CASCADE"), index=True
    )
    payment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("payments.id", ondelete="SET NULL")
    )
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("referral_cases.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(default=0, server_default="0")
    currency: Mapped[str] = mapped_column(Currency())
    collected_amount: Mapped[Decimal] = mapped_column(Money4())  # < 0: a reversal
    fee_amount: Mapped[Decimal] = mapped_column(Money4())
    rate: Mapped[Decimal] = mapped_column(Rate())
    accrued_on: Mapped[date] = mapped_column(sa.Date)  # the payment's date
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    bill_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("fee_bills.id", ondelete="SET NULL"), index=True
    )


class FeeBill(Timestamps, Base):
    """One creditor's fees for one currency and month, billed once in their ledger."""

    __tablename__ = "fee_bills"
    __table_args__ = (
        sa.UniqueConstraint("creditor_id", "currency", "month"),
        sa.UniqueConstraint("creditor_id", "key"),
        sa.CheckConstraint(check_in("state", BILL_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("creditors.id", ondelete="CASCADE")
    )
    connection_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ledger_connections.id", ondelete="SET NULL")
    )
    currency: Mapped[str] = mapped_column(Currency())
    month: Mapped[str] = mapped_column(sa.String(7))  # "2025-05"
    amount: Mapped[Decimal] = mapped_column(Money4())
    key: Mapped[str] = mapped_column(
        sa.String(64)
    )  # "CARE-42-202505-USD" (app.fees.bill_key)
    ledger_id: Mapped[str | None] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(8), default="open")
