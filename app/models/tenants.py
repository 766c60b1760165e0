"""Creditors (the tenants) and the people who sign in."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.models.base import (
    Base,
    Currency,
    JsonDict,
    Rate,
    Timestamps,
    UtcDateTime,
    check_in,
)

ROLES = ("creditor_admin", "creditor_viewer", "representative", "program_admin")
CREDITOR_ROLES = ("creditor_admin", "creditor_viewer")
DEFAULT_FEE_RATE = Decimal("0.01")


class Creditor(Timestamps, Base):
    """A business whose receivables the program works: every tenant row points here."""

    __tablename__ = "creditors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    home_currency: Mapped[str] = mapped_column(Currency())
    timezone: Mapped[str] = mapped_column(sa.String(64))
    country: Mapped[str | None] = mapped_column(sa.String(2))
    locale: Mapped[str] = mapped_column(sa.String(16), default="en_US")
    letterhead_name: Mapped[str | None] = mapped_column(sa.String(200))
    letterhead_address: Mapped[str | None] = mapped_column(sa.Text)
    letterhead_email: Mapped[str | None] = mapped_column(sa.String(254))
    letterhead_phone: Mapped[str | None] = mapped_column(sa.String(40))
    rules: Mapped[dict[str, Any]] = mapped_column(JsonDict(), default=dict)
    cadence: Mapped[dict[str, Any]] = mapped_column(JsonDict(), default=dict)
    fee_rate: Mapped[Decimal] = mapped_column(Rate(), default=DEFAULT_FEE_RATE)
    active: Mapped[bool] = mapped_column(default=True)


class User(Timestamps, Base):
    """A person: creditor staff (with creditor_id) or program staff (without)."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(check_in("role", ROLES), name="role"),
        sa.CheckConstraint(
            "creditor_id IS NOT NULL OR role IN ('representative', 'program_admin')",
            name="creditor_staff_have_creditor",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("creditors.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255), default="")
    role: Mapped[str] = mapped_column(sa.String(20))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash of `password`."""
        if len(password) < 8:
            raise ValueError("a password needs at least 8 characters")
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        """Whether `password` matches the stored hash."""
        return bool(self.password_hash) and check_password_hash(
            self.password_hash, password
        )

    @property
    def is_program_staff(self) -> bool:
        return self.role in ("representative", "program_admin")
