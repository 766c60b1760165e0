"""Ledger writes under rate limits: a 429 waits, it never uses up the write."""

import pytest
import sqlalchemy as sa

from connectors.base import FixError, WaitError
from jobs import runtime as runtime_mod
from tests.jobs.conftest import connect_creditor


class Refusing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def write_note(self, invoice_id, key, text):
        raise self.error


def _pending_note(backend):
    from app.models import LedgerWrite

    connect_creditor(backend)
    rt = runtime_mod.runtime()
    with rt.sessions.begin() as session:
        row = LedgerWrite(
            creditor_id=backend.creditor_id,
            connection_id=backend.connection_id,
            kind="note",
            target="1501",
            idempotency_key="note:test:1501",
            payload={"text": "CARE: referred"},
        )
        session.add(row)
        session.flush()
        return row.id


def test_rate_limited_write_stays_pending_however_often(backend):
    from app.models import LedgerWrite
    from jobs.writes import MAX_ATTEMPTS, perform_write

    write_id = _pending_note(backend)
    busy = Refusing(WaitError("minute spent", retry_after=17, scope="minute"))
    for _ in range(MAX_ATTEMPTS + 2):
        with pytest.raises(WaitError):
            perform_write(busy, write_id)

    with runtime_mod.runtime().sessions() as session:
        row = session.get(LedgerWrite, write_id)
        assert (row.state, row.attempts) == ("pending", 0)


def test_a_refused_write_fails_at_once_with_the_ledgers_reason(backend):
    from app.models import LedgerWrite
    from jobs.writes import perform_write

    write_id = _pending_note(backend)
    assert (
        perform_write(Refusing(FixError("invoice 1501 not found")), write_id) is False
    )

    with runtime_mod.runtime().sessions() as session:
        row = session.scalars(sa.select(LedgerWrite)).one()
        assert (row.state, row.last_error) == ("failed", "invoice 1501 not found")
