"""A small per-process memo for figures that take a scan of the whole book.

Insights at 100,000 invoices take a second or more of database time; between two
syncs they cannot change, so they are kept per creditor and local day, under a
version read from a few indexed columns (the connections' last change, the newest
audit entry, the newest fee) and for a few minutes at most.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import AuditEntry, FeeAccrual, LedgerConnection

T = TypeVar("T")

LIFETIME = 300.0  # seconds: a change the version misses shows within five minutes
SIZE = 256
LARGE_SIZE = 4  # whole books of invoice facts (tens of MB each at 100,000 invoices)

_lock = threading.Lock()
_held: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
_large: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()


def data_version(session: Session, creditor_id: int) -> tuple[Any, ...]:
    """What changes whenever a sync, a referral, a case action or a fee lands."""
    synced = session.execute(
        sa.select(sa.func.max(LedgerConnection.updated_at), sa.func.count()).where(
            LedgerConnection.creditor_id == creditor_id
        )
    ).one()
    audited = session.scalar(
        sa.select(sa.func.max(AuditEntry.id)).where(
            AuditEntry.creditor_id == creditor_id
        )
    )
    fees = session.scalar(
        sa.select(sa.func.max(FeeAccrual.id)).where(
            FeeAccrual.creditor_id == creditor_id
        )
    )
    return (tuple(synced), audited, fees)


def version_key(session: Session, creditor_id: int) -> tuple[Any, ...]:
    """The database (several can share a process) and its data version."""
    url = session.get_bind().engine.url
    return (str(url), data_version(session, creditor_id))


def remember(
    key: Hashable,
    compute: Callable[[], T],
    now: float | None = None,
    *,
    large: bool = False,
) -> T:
    """The value held for `key` if still fresh, else `compute()` (then held).

    `large` values go to a shelf of LARGE_SIZE places, so a few big ones cannot
    crowd out the many small ones or hold much memory.
    """
    now = time.monotonic() if now is None else now
    shelf, size = (_large, LARGE_SIZE) if large else (_held, SIZE)
    with _lock:
        held = shelf.get(key)
        if held is not None and now - held[0] < LIFETIME:
            shelf.move_to_end(key)
            return held[1]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        shelf[key] = (now, value)
        shelf.move_to_end(key)
        while len(shelf) > size:
            shelf.popitem(last=False)
    return value


def forget() -> None:
    """Drop everything held (tests)."""
    with _lock:
        _held.clear()
        _large.clear()
