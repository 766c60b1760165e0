"""The append-only audit log: who did what, when and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from app.models.base import Base, UtcDateTime


class AuditEntry(Base):
    """One recorded action; never updated or deleted (see app.audit)."""

    # TODO: append-only means a debtor's erasure request cannot remove personal
    # data written into `why`/`detail`; callers keep ids there, not names, until a
    # redaction path (an audited tombstone) exists. creditor_id is RESTRICT, so a
    # creditor with history cannot be deleted either, by design.

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_creditor_at", "creditor_id", "at"),
        sa.Index("ix_audit_log_entity", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    who: Mapped[str] = mapped_column(sa.String(200))  # "user:12", "system:tick"
    creditor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("creditors.id", ondelete="RESTRICT")
    )
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(60))
    from_state: Mapped[str | None] = mapped_column(sa.String(30))
    to_state: Mapped[str | None] = mapped_column(sa.String(30))
    why: Mapped[str] = mapped_column(sa.Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class AuditLogError(Exception):
    """Something tried to change or remove an audit entry."""


@sa.event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper: Any, connection: Any, target: AuditEntry) -> None:
    raise AuditLogError(f"audit entry {target.id} is append-only: no UPDATE")


@sa.event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper: Any, connection: Any, target: AuditEntry) -> None:
    raise AuditLogError(f"audit entry {target.id} is append-only: no DELETE")


@sa.event.listens_for(Session, "do_orm_execute")
def _refuse_bulk(state: ORMExecuteState) -> None:
    # Bulk update()/delete() statements skip the mapper events above.
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        if state.bind_mapper.class_ is AuditEntry:
            raise AuditLogError("the audit log is append-only: no bulk UPDATE/DELETE")
