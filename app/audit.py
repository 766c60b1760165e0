"""Recording to the append-only audit log.

Entries are added to the caller's session and commit with the change they describe,
so an audited change and its entry stand or fall together. The log refuses updates
and deletes (ORM events in app.models.audit; a trigger in the database).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import clock
from app.models import AuditEntry

logger = logging.getLogger(__name__)


def actor(user_id: int | None = None, system: str | None = None) -> str:
    """The `who` of an entry: "user:<id>" for a person, "system:<name>" for a job."""
    if (user_id is None) == (system is None):
        raise ValueError("an actor is either a user id or a system name, not both")
    return f"user:{user_id}" if user_id is not None else f"system:{system}"


def record(
    session: Session,
    *,
    who: str,
    entity: str,
    entity_id: int | str,
    action: str,
    why: str,
    creditor_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one audit entry to `session` (committed with the caller's transaction)."""
    if not who or ":" not in who:
        raise ValueError(f"who must read 'user:<id>' or 'system:<name>', got {who!r}")
    if not why or not why.strip():
        raise ValueError(f"an audited {action} on {entity} {entity_id} needs a why")
    entry = AuditEntry(
        at=at or clock.now(),
        who=who,
        creditor_id=creditor_id,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        from_state=from_state,
        to_state=to_state,
        why=why.strip(),
        detail=detail or {},
    )
    session.add(entry)
    logger.info(
        "audit creditor=%s %s=%s action=%s from=%s to=%s who=%s",
        creditor_id,
        entity,
        entity_id,
        action,
        from_state,
        to_state,
        who,
    )
    return entry


def history(
    session: Session, entity: str, entity_id: int | str
) -> Sequence[AuditEntry]:
    """Every entry about one entity, oldest first."""
    return session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
