"""The daily referral sweep of one creditor, and the month-end fee bills."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import sqlalchemy as sa

from app import clock, commitments, referrals, settlement
from jobs.queues import DEFAULT, enqueue_unique, unique_job
from jobs.runtime import runtime

logger = logging.getLogger(__name__)


def sweep_id(creditor_id: int, *_: Any, **__: Any) -> str:
    return f"sweep:{creditor_id}"


def enqueue_sweep(creditor_id: int) -> str | None:
    rt = runtime()
    return enqueue_unique(
        rt.redis, DEFAULT, sweep_creditor, sweep_id(creditor_id), creditor_id
    )


@unique_job(sweep_id)
def sweep_creditor(creditor_id: int) -> dict[str, Any]:
    """Evaluate, refer and escalate one creditor's invoices on its local today."""
    from app.models import Creditor, LedgerConnection

    rt = runtime()
    with rt.sessions.begin() as session:
        creditor = session.get(Creditor, creditor_id)
        if creditor is None:
            raise LookupError(f"no creditor {creditor_id}")
        today = clock.local_today(creditor.timezone)
        commitments.review(session, creditor_id, today)
        result = referrals.sweep(
            session, creditor_id, today, base_url=rt.settings.base_url
        )
        connections = session.scalars(
            sa.select(LedgerConnection.id).where(
                LedgerConnection.creditor_id == creditor_id
            )
        ).all()
    _after_commit(connections, result.cases)
    return {
        "today": today.isoformat(),
        "evaluated": result.evaluated,
        "referred": len(result.referred),
        "escalated_cases": len(result.escalated_cases),
        "outcomes": dict(result.outcomes),
    }


def _after_commit(connections: list[int], cases: list[int]) -> None:
    from jobs.tick import dispatch_due
    from jobs.writes import enqueue_writes

    for connection_id in connections:
        enqueue_writes(connection_id)
    if cases:
        dispatch_due()


def bill_month(creditor_id: int, month: str) -> list[str]:
    """Make the creditor's fee bills for `month` (YYYY-MM) and queue their writes."""
    from app.models import LedgerConnection

    rt = runtime()
    date.fromisoformat(f"{month}-01")  # a clear error for a malformed month
    with rt.sessions.begin() as session:
        bills = settlement.bill_month(session, creditor_id, month)
        keys = [b.key for b in bills]
        connections = session.scalars(
            sa.select(LedgerConnection.id).where(
                LedgerConnection.creditor_id == creditor_id
            )
        ).all()
    from jobs.writes import enqueue_writes

    for connection_id in connections:
        enqueue_writes(connection_id)
    logger.info("fee bills creditor=%s month=%s bills=%s", creditor_id, month, keys)
    return keys
