"""Outboxes: writes to the ledger and contacts with debtors, each done exactly once.

A row is inserted under a UNIQUE idempotency key before the outside call is made, so
a retried or concurrent job finds the row instead of repeating the call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JsonDict, Timestamps, UtcDateTime, check_in
from app.models.cases import CHANNELS

WRITE_KINDS = ("note", "fee_bill", "payment")
WRITE_STATES = ("pending", "done", "failed")
EFFECT_STATES = ("pending", "sent", "failed")


class LedgerWrite(Timestamps, Base):
    """A write to the creditor's ledger: a status note, a fee bill or a payment."""

    __tablename__ = "ledger_writes"
    __table_args__ = (
        sa.CheckConstraint(check_in("kind", WRITE_KINDS), name="kind"),
        sa.CheckConstraint(check_in("state", WRITE_STATES), name="state"),
        sa.Index("ix_ledger_writes_state_connection", "state", "connection_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("creditors.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ledger_connections.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(sa.String(10))
    target: Mapped[str] = mapped_column(sa.String(64))  # invoice ledger id or bill key
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDict(), default=dict)
    state: Mapped[str] = mapped_column(sa.String(8), default="pending")
    ledger_id: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Effect(Timestamps, Base):
    """A contact with a debtor (one channel, one address) that must happen once."""

    __tablename__ = "effects"
    __table_args__ = (
        sa.CheckConstraint(check_in("channel", CHANNELS), name="channel"),
        sa.CheckConstraint(check_in("state", EFFECT_STATES), name="state"),
        sa.Index("ix_effects_state_created_at", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("creditors.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("referral_cases.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outreach_steps.id", ondelete="SET NULL")
    )
    channel: Mapped[str] = mapped_column(sa.String(8))
    target: Mapped[str] = mapped_column(sa.String(300))
    idempotency_key: Mapped[str] = mapped_column(sa.String(400), unique=True)
    state: Mapped[str] = mapped_column(sa.String(8), default="pending")
    provider_id: Mapped[str | None] = mapped_column(sa.String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    @staticmethod
    def key_for(case_id: int, step_number: int, channel: str, target: str) -> str:
        """The idempotency key of one contact: (case, step, channel, target)."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; expected one of {CHANNELS}")
        return f"case:{case_id}:step:{step_number}:{channel}:{target.strip().lower()}"
