"""Referral cases and the work on them: outreach steps, promises, payment plans."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import (
    Base,
    Currency,
    Exact,
    JsonDict,
    Money4,
    Timestamps,
    UtcDateTime,
    check_in,
)

CASE_STATES = (
    "proposed",
    "active",
    "promised",
    "on_plan",
    "disputed",
    "resolved_paid",
    "escalated",
    "withdrawn",
    "written_off",
)
# A debtor has at most one case in these states: new referrals extend it.
OPEN_CASE_STATES = ("proposed", "active", "promised", "on_plan", "disputed")
TIERS = ("frontline", "first_party", "third_party")
CHANNELS = ("letter", "email", "sms", "call")
STEP_STATES = ("scheduled", "sent", "skipped", "failed", "cancelled")
PROMISE_STATES = ("open", "kept", "broken", "cancelled")
PLAN_STATES = ("active", "completed", "broken", "cancelled")
INSTALMENT_STATES = ("due", "paid", "missed")

_OPEN_SQL = check_in("state", OPEN_CASE_STATES)


def _creditor_fk() -> Any:
    return sa.ForeignKey("creditors.id", ondelete="CASCADE")


def _case_fk() -> Any:
    return sa.ForeignKey("referral_cases.id", ondelete="CASCADE")


class ReferralCase(Timestamps, Base):
    """One debtor's account referred to the program, gathering its referred invoices.

    Amounts are in the creditor's home currency (`currency`); each invoice's own
    currency amounts live on its CaseInvoice.
    """

    __tablename__ = "referral_cases"
    __table_args__ = (
        sa.CheckConstraint(check_in("state", CASE_STATES), name="state"),
        sa.CheckConstraint(check_in("tier", TIERS), name="tier"),
        sa.Index("ix_referral_cases_creditor_state", "creditor_id", "state"),
        sa.Index(
            "ix_referral_cases_representative_state", "representative_id", "state"
        ),
        sa.Index(
            "uq_referral_cases_open_debtor",
            "creditor_id",
            "debtor_id",
            unique=True,
            sqlite_where=sa.text(_OPEN_SQL),
            postgresql_where=sa.text(_OPEN_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(_creditor_fk())
    debtor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("debtors.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(sa.String(16), default="proposed")
    state_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    representative_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    referred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    tier: Mapped[str] = mapped_column(sa.String(12), default="first_party")
    score: Mapped[Decimal | None] = mapped_column(Exact(12, 4))
    score_breakdown: Mapped[dict[str, Any]] = mapped_column(JsonDict(), default=dict)
    currency: Mapped[str] = mapped_column(Currency())
    amount_referred: Mapped[Decimal] = mapped_column(Money4(), default=Decimal(0))
    amount_due: Mapped[Decimal] = mapped_column(Money4(), default=Decimal(0))
    amount_collected: Mapped[Decimal] = mapped_column(Money4(), default=Decimal(0))


class CaseInvoice(Base):
    """An invoice gathered into a case, with what it owed when it was referred."""

    __tablename__ = "case_invoices"
    __table_args__ = (sa.UniqueConstraint("case_id", "invoice_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(_creditor_fk())
    case_id: Mapped[int] = mapped_column(_case_fk())
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    referred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    currency: Mapped[str] = mapped_column(Currency())
    amount_at_referral: Mapped[Decimal] = mapped_column(Money4())
    home_amount_at_referral: Mapped[Decimal | None] = mapped_column(Money4())
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    removed_reason: Mapped[str | None] = mapped_column(sa.String(40))


class OutreachStep(Timestamps, Base):
    """One planned contact with the debtor: letter, e-mail, SMS or call."""

    __tablename__ = "outreach_steps"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "step_number"),
        sa.CheckConstraint(check_in("channel", CHANNELS), name="channel"),
        sa.CheckConstraint(check_in("state", STEP_STATES), name="state"),
        sa.Index("ix_outreach_steps_state_due_at", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(_creditor_fk(), index=True)
    case_id: Mapped[int] = mapped_column(_case_fk())
    step_number: Mapped[int] = mapped_column()
    channel: Mapped[str] = mapped_column(sa.String(8))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    state: Mapped[str] = mapped_column(sa.String(10), default="scheduled")
    outcome: Mapped[str | None] = mapped_column(sa.String(200))
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    subject: Mapped[str | None] = mapped_column(sa.String(300))
    body: Mapped[str | None] = mapped_column(sa.Text)
    content_path: Mapped[str | None] = mapped_column(sa.String(500))


class Promise(Timestamps, Base):
    """A debtor's promise to pay an amount by a date."""

    __tablename__ = "promises"
    __table_args__ = (
        sa.CheckConstraint(check_in("state", PROMISE_STATES), name="state"),
        sa.Index("ix_promises_state_due_on", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(_creditor_fk(), index=True)
    case_id: Mapped[int] = mapped_column(_case_fk(), index=True)
    promised_on: Mapped[date] = mapped_column(sa.Date)
    due_on: Mapped[date] = mapped_column(sa.Date)
    currency: Mapped[str] = mapped_column(Currency())
    amount: Mapped[Decimal] = mapped_column(Money4())
    state: Mapped[str] = mapped_column(sa.String(10), default="open")
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PaymentPlan(Timestamps, Base):
    """An agreed schedule of instalments for a case's balance."""

    __tablename__ = "payment_plans"
    __table_args__ = (sa.CheckConstraint(check_in("state", PLAN_STATES), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(_creditor_fk(), index=True)
    case_id: Mapped[int] = mapped_column(_case_fk(), index=True)
    currency: Mapped[str] = mapped_column(Currency())
    total: Mapped[Decimal] = mapped_column(Money4())
    state: Mapped[str] = mapped_column(sa.String(10), default="active")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )


class Instalment(Base):
    """One dated amount of a payment plan."""

    __tablename__ = "instalments"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "number"),
        sa.CheckConstraint(check_in("state", INSTALMENT_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(_creditor_fk(), index=True)
    plan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("payment_plans.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column()
    due_on: Mapped[date] = mapped_column(sa.Date)
    currency: Mapped[str] = mapped_column(Currency())
    amount: Mapped[Decimal] = mapped_column(Money4())
    paid_amount: Mapped[Decimal] = mapped_column(Money4(), default=Decimal(0))
    state: Mapped[str] = mapped_column(sa.String(8), default="due")
