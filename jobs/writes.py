"""Ledger writes: status notes, fee bills and payments, each made exactly once.

A write is a `LedgerWrite` row under a UNIQUE idempotency key, inserted by the domain
before this job runs. The connector looks the key up in the ledger before creating
anything (a note's marker, a bill's reference, a payment's reference), so a worker
killed after the ledger answered but before the row was marked done repeats nothing:
the retry finds the earlier write and only records it.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from rq import Retry

from app import clock
from connectors.base import FeeBill, FixError, ReconnectError, WaitError, WriteResult
from jobs.ledgers import connector_for
from jobs.queues import LEDGER, enqueue_unique, unique_job
from jobs.runtime import runtime

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY = Retry(max=3, interval=[10, 60, 300])


def writes_id(connection_id: int, *_: Any, **__: Any) -> str:
    return f"writes:{connection_id}"


def enqueue_writes(connection_id: int) -> str | None:
    """Queue the connection's pending writes, coalesced per connection."""
    rt = runtime()
    return enqueue_unique(
        rt.redis,
        LEDGER,
        perform_writes,
        writes_id(connection_id),
        connection_id,
        retry=RETRY,
        job_timeout=1800,
    )


@unique_job(writes_id)
def perform_writes(connection_id: int) -> dict[str, int]:
    """Make every pending write of one connection, oldest first."""
    from app.models import LedgerWrite

    rt = runtime()
    with rt.sessions() as session:
        pending = session.scalars(
            sa.select(LedgerWrite.id)
            .where(
                LedgerWrite.connection_id == connection_id,
                LedgerWrite.state == "pending",
            )
            .order_by(LedgerWrite.id)
        ).all()
    if not pending:
        return {"done": 0}

    connector = connector_for(rt, connection_id)
    done = 0
    for write_id in pending:
        try:
            if perform_write(connector, write_id):
                done += 1
        except (WaitError, ReconnectError) as exc:
            # The rest waits for the next run: after the limit, or after a reconnect.
            logger.warning(
                "writes paused connection=%s write=%s: %s", connection_id, write_id, exc
            )
            break
    logger.info("writes done connection=%s done=%s", connection_id, done)
    return {"done": done}


def perform_write(connector: Any, write_id: int) -> bool:
    """Make one write; True when it is recorded as done."""
    from app.models import FeeBill as FeeBillRow
    from app.models import LedgerWrite

    rt = runtime()
    with rt.sessions.begin() as session:
        row = session.get(LedgerWrite, write_id)
        if row is None or row.state != "pending":
            return False
        row.attempts += 1
        kind, target, key = row.kind, row.target, row.idempotency_key
        payload = dict(row.payload)

    try:
        result = _call(connector, kind, target, key, payload)
    except FixError as exc:
        _fail(write_id, str(exc))
        return False
    except (WaitError, ReconnectError):
        # Not the write's fault: a rate limit or a lost grant. It waits, uncounted.
        _uncount(write_id)
        raise
    except Exception as exc:
        _note_error(write_id, exc)
        raise

    with rt.sessions.begin() as session:
        row = session.get(LedgerWrite, write_id)
        assert row is not None
        row.state = "done"
        row.ledger_id = result.ledger_id
        row.done_at = clock.now()
        row.last_error = None
        if kind == "fee_bill" and payload.get("bill_id"):
            bill = session.get(FeeBillRow, int(payload["bill_id"]))
            if bill is not None:
                bill.state = "written"
                bill.ledger_id = result.ledger_id
    logger.info(
        "write done kind=%s target=%s key=%s created=%s",
        kind,
        target,
        key,
        result.created,
    )
    return True


def _call(
    connector: Any, kind: str, target: str, key: str, payload: dict[str, Any]
) -> WriteResult:
    if kind == "note":
        return connector.write_note(target, key, payload["text"])
    if kind == "fee_bill":
        today = clock.now().date()
        due = date.fromisoformat(payload["due"]) if payload.get("due") else today
        bill = FeeBill(
            key=target,
            currency=payload["currency"],
            amount=Decimal(payload["amount"]),
            bill_date=today,
            due_date=max(due, today) + timedelta(days=14),
            description=f"CARE pre-collections fee, {payload['month']}",
            lines=tuple((text, Decimal(amount)) for text, amount in payload["lines"])
            if payload.get("lines")
            else (),
        )
        return connector.write_fee_bill(bill)
    if kind == "payment":
        return connector.write_payment(
            target,
            key,
            Decimal(payload["amount"]),
            date.fromisoformat(payload["paid_on"]),
        )
    raise ValueError(f"unknown ledger write kind {kind!r}")


def _fail(write_id: int, error: str) -> None:
    from app.models import LedgerWrite

    with runtime().sessions.begin() as session:
        row = session.get(LedgerWrite, write_id)
        if row is not None:
            row.state = "failed"
            row.last_error = error[:2000]
    logger.error("write refused by the ledger write=%s: %s", write_id, error)


def _uncount(write_id: int) -> None:
    from app.models import LedgerWrite

    with runtime().sessions.begin() as session:
        row = session.get(LedgerWrite, write_id)
        if row is not None and row.attempts > 0:
            row.attempts -= 1


def _note_error(write_id: int, exc: Exception) -> None:
    from app.models import LedgerWrite

    with runtime().sessions.begin() as session:
        row = session.get(LedgerWrite, write_id)
        if row is not None:
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.state = "failed"
