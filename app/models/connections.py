"""Ledger connections, OAuth handshakes in flight, and webhook deliveries seen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto import EncryptedText
from app.models.base import Base, JsonDict, JsonList, Timestamps, UtcDateTime, check_in

LEDGERS = ("quickbooks", "xero")
CONNECTION_STATUSES = ("connected", "needs_reconnect", "disconnected")
SYNC_STATES = ("idle", "queued", "running", "waiting", "failed")


class LedgerConnection(Timestamps, Base):
    """One creditor's link to one company in one ledger, with its tokens encrypted."""

    __tablename__ = "ledger_connections"
    __table_args__ = (
        sa.UniqueConstraint("creditor_id", "ledger", "external_id"),
        sa.CheckConstraint(check_in("ledger", LEDGERS), name="ledger"),
        sa.CheckConstraint(check_in("status", CONNECTION_STATUSES), name="status"),
        sa.CheckConstraint(check_in("sync_state", SYNC_STATES), name="sync_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("creditors.id", ondelete="CASCADE"), index=True
    )
    ledger: Mapped[str] = mapped_column(sa.String(16))
    external_id: Mapped[str] = mapped_column(sa.String(64))  # realm id / tenant id
    company_name: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="connected")
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    access_token: Mapped[str | None] = mapped_column(EncryptedText())
    refresh_token: Mapped[str | None] = mapped_column(EncryptedText())
    id_token: Mapped[str | None] = mapped_column(EncryptedText())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    scopes: Mapped[list[str]] = mapped_column(JsonList(), default=list)
    connected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    disconnected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sync_cursor: Mapped[dict[str, Any] | None] = mapped_column(JsonDict())
    sync_state: Mapped[str] = mapped_column(sa.String(16), default="idle")
    sync_progress: Mapped[dict[str, Any]] = mapped_column(JsonDict(), default=dict)
    sync_error: Mapped[str | None] = mapped_column(sa.Text)
    sync_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    full_sync_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_full_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_incremental_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    api_calls: Mapped[int] = mapped_column(default=0)
    api_calls_day: Mapped[int] = mapped_column(default=0)
    api_calls_day_started: Mapped[datetime | None] = mapped_column(UtcDateTime())
    rate_limited_until: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OAuthState(Base):
    """An authorization request in flight: used once, within its lifetime."""

    # TODO: nothing prunes used and expired states; the table grows by one small
    # row per connect attempt until a periodic job deletes those older than a day.

    __tablename__ = "oauth_states"
    __table_args__ = (sa.CheckConstraint(check_in("ledger", LEDGERS), name="ledger"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(128), unique=True)
    ledger: Mapped[str] = mapped_column(sa.String(16))
    code_verifier: Mapped[str | None] = mapped_column(EncryptedText())
    creditor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("creditors.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    connection_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ledger_connections.id", ondelete="SET NULL")
    )


class WebhookDelivery(Base):
    """A webhook delivery seen once; a redelivery with the same key is a no-op."""

    # TODO: processed deliveries are kept forever; a retention job (say 30 days,
    # longer than any ledger's redelivery window) would bound the table.

    __tablename__ = "webhook_deliveries"
    __table_args__ = (sa.CheckConstraint(check_in("ledger", LEDGERS), name="ledger"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ledger: Mapped[str] = mapped_column(sa.String(16))
    delivery_key: Mapped[str] = mapped_column(sa.String(128), unique=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    payload_hash: Mapped[str] = mapped_column(sa.String(64))
    events: Mapped[int] = mapped_column(default=0)
    # What the job needs: [{"tenant": realm or tenant id, "entity", "id", "op"}].
    payload: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)
    processed: Mapped[bool] = mapped_column(default=False)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
