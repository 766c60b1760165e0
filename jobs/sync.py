"""Sync jobs: pull a connection's changes page by page into the mirror.

The cursor is saved with each page in the same transaction as its rows, so a worker
killed mid-sync resumes at the next page. A rate limit parks the connection until the
ledger's Retry-After; the periodic `sync_all` picks it up again after that.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from rq import Retry

from app import clock, mirror, settlement
from connectors.base import ReconnectError, WaitError
from jobs.ledgers import connector_for
from jobs.queues import SYNC, enqueue_unique, unique_job
from jobs.runtime import runtime

logger = logging.getLogger(__name__)

SYNC_TIMEOUT = 3600  # a full pull of a large ledger runs for minutes, not seconds
RETRY = Retry(max=3, interval=[10, 60, 300])


def sync_id(connection_id: int, *_: Any, **__: Any) -> str:
    return f"sync:{connection_id}"


def enqueue_sync(connection_id: int, full: bool = False) -> str | None:
    """Queue a sync of the connection, coalesced with any queued or running one."""
    rt = runtime()
    return enqueue_unique(
        rt.redis,
        SYNC,
        sync_connection,
        sync_id(connection_id),
        connection_id,
        full,
        retry=RETRY,
        job_timeout=SYNC_TIMEOUT,
    )


@unique_job(sync_id)
def sync_connection(connection_id: int, full: bool = False) -> dict[str, Any]:
    """Pull the connection's changes (all of it when `full`) into the mirror."""
    from app.models import LedgerConnection

    rt = runtime()
    with rt.sessions.begin() as session:
        row = session.get(LedgerConnection, connection_id)
        if row is None or row.status != "connected":
            logger.info(
                "sync skipped connection=%s status=%s",
                connection_id,
                row and row.status,
            )
            return {"skipped": True}
        cursor = None if full else row.sync_cursor
        creditor_id = row.creditor_id
        row.sync_state = "running"
        row.sync_started_at = clock.now()
        row.sync_error = None

    logger.info(
        "sync start creditor=%s connection=%s full=%s", creditor_id, connection_id, full
    )
    connector = connector_for(rt, connection_id)
    if cursor is None:
        _adopt_company(connection_id, connector)
    stats: dict[str, Any] = {"pages": 0, "paid_down": 0, "closed_cases": 0}
    counted = 0
    try:
        for page in _pages(connector, connection_id, cursor):
            with rt.sessions.begin() as session:
                row = session.get(LedgerConnection, connection_id)
                assert row is not None
                result = mirror.apply_page(session, row, page)
                row.api_calls += connector.calls - counted
                counted = connector.calls
                paid = set(result.paid_down + result.deleted_invoices + result.unpaid)
                paid |= _applied_to(session, connection_id, page)
                settled = (
                    settlement.settle(
                        session, creditor_id, sorted(paid), who="system:sync"
                    )
                    if paid
                    else None
                )
            stats["pages"] += 1
            stats["paid_down"] += len(result.paid_down)
            stats["closed_cases"] += len(settled.closed_cases) if settled else 0
    except WaitError as exc:
        _park(connection_id, exc)
        return {**stats, "waiting": exc.retry_after}
    except ReconnectError as exc:
        _finish(connection_id, "failed", f"needs reconnect: {exc}")
        logger.error(
            "sync stopped creditor=%s connection=%s: %s",
            creditor_id,
            connection_id,
            exc,
        )
        return {**stats, "reconnect": True}
    except Exception as exc:
        _finish(connection_id, "failed", str(exc)[:500])
        raise

    _finish(connection_id, "idle", None)
    stats["api_calls"] = connector.calls
    logger.info(
        "sync done creditor=%s connection=%s pages=%s calls=%s",
        creditor_id,
        connection_id,
        stats["pages"],
        connector.calls,
    )
    from jobs.writes import enqueue_writes

    enqueue_writes(connection_id)
    return stats


def sync_all() -> list[int]:
    """Queue an incremental sync of every connected connection not parked by a 429."""
    from app.models import LedgerConnection

    rt = runtime()
    now = clock.now()
    with rt.sessions() as session:
        ids = session.scalars(
            sa.select(LedgerConnection.id).where(
                LedgerConnection.status == "connected",
                sa.or_(
                    LedgerConnection.rate_limited_until.is_(None),
                    LedgerConnection.rate_limited_until <= now,
                ),
            )
        ).all()
    for connection_id in ids:
        enqueue_sync(connection_id)
    return list(ids)


def _pages(connector: Any, connection_id: int, cursor: Any) -> Any:
    """The connector's pages; QuickBooks also reads back the invoices held open.

    QuickBooks' full pull lists open invoices and the last 24 months of paid ones, so
    an open invoice missing from it may be paid long ago or deleted; the connector
    tells the two apart by reading the held ones back by Id.
    """
    if getattr(connector, "ledger", None) != "quickbooks":
        return connector.sync(cursor)
    from app.models import Invoice

    def known() -> list[str]:
        with runtime().sessions() as session:
            ids = session.scalars(
                sa.select(Invoice.ledger_id).where(
                    Invoice.connection_id == connection_id, Invoice.status == "open"
                )
            ).all()
        return sorted(ids, key=lambda i: (len(i), i))

    return connector.sync(cursor, known=known)


def _adopt_company(connection_id: int, connector: Any) -> None:
    """Take the company's own name, currency, zone and country on a full sync.

    A creditor created at install time knows none of these yet; the books say what
    "home currency" and "today" mean for every figure after this.
    """
    from app.models import Creditor, LedgerConnection

    company = connector.company(fresh=True)
    rt = runtime()
    with rt.sessions.begin() as session:
        row = session.get(LedgerConnection, connection_id)
        assert row is not None
        creditor = session.get(Creditor, row.creditor_id)
        assert creditor is not None
        row.company_name = company.name or row.company_name
        if creditor.name.endswith(f"company {row.external_id}") or not creditor.name:
            creditor.name = company.name or creditor.name
        creditor.home_currency = company.home_currency
        creditor.timezone = company.timezone
        creditor.country = company.country or creditor.country
    logger.info(
        "company adopted creditor=%s connection=%s currency=%s zone=%s",
        row.creditor_id,
        connection_id,
        company.home_currency,
        company.timezone,
    )


def _applied_to(session: Any, connection_id: int, page: Any) -> set[int]:
    """Invoices paid, voided or deleted on this page: their cases may close."""
    from app.models import Invoice

    ledger_ids = {a.invoice_id for p in page.payments for a in p.applied}
    # Xero reports a deleted or voided invoice as a status, not a deletion.
    ledger_ids |= {
        i.ledger_id for i in page.invoices if i.status.value in ("voided", "deleted")
    }
    if not ledger_ids:
        return set()
    return set(
        session.scalars(
            sa.select(Invoice.id).where(
                Invoice.connection_id == connection_id,
                Invoice.ledger_id.in_(ledger_ids),
            )
        )
    )


def _park(connection_id: int, exc: WaitError) -> None:
    from app.models import LedgerConnection

    rt = runtime()
    until = clock.now() + timedelta(seconds=exc.retry_after)
    with rt.sessions.begin() as session:
        row = session.get(LedgerConnection, connection_id)
        if row is not None:
            row.sync_state = "waiting"
            row.rate_limited_until = until
            row.sync_error = f"rate limited ({exc.scope}) until {until.isoformat()}"
    logger.warning(
        "sync parked connection=%s scope=%s until=%s", connection_id, exc.scope, until
    )


def _finish(connection_id: int, state: str, error: str | None) -> None:
    from app.models import LedgerConnection

    rt = runtime()
    with rt.sessions.begin() as session:
        row = session.get(LedgerConnection, connection_id)
        if row is not None:
            row.sync_state = state
            row.sync_error = error
            if state == "idle":
                row.rate_limited_until = None
