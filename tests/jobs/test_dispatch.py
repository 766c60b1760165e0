"""The tick's dispatch: due steps start only as far as the ledger's budget allows."""

from datetime import timedelta

from rq import Queue

from jobs import runtime as runtime_mod
from tests.jobs.conftest import REALM, connect_creditor
from tests.jobs.test_pipeline import _books


def test_due_steps_wait_while_the_realms_minute_is_spent(backend):
    from connectors.budget import QUICKBOOKS_LIMITS
    from jobs.ledgers import budget_for
    from jobs.sweep import sweep_creditor
    from jobs.sync import sync_connection
    from jobs.tick import RESERVED_CALLS, dispatch_due

    _books(backend)
    connect_creditor(backend)
    sync_connection(backend.connection_id)
    sweep_creditor(backend.creditor_id)
    backend.advance(hours=2)  # 10:00 in New York: the letter and e-mail are due
    rt = runtime_mod.runtime()
    outreach = Queue("outreach", connection=rt.redis)

    # Other work spent all but the reserve and one call of the realm's minute.
    budget = budget_for(rt, "quickbooks", REALM)
    for _ in range(budget.remaining() - RESERVED_CALLS - 1):
        with budget.call():
            pass
    assert budget.remaining() == RESERVED_CALLS + 1 < QUICKBOOKS_LIMITS.per_minute

    assert len(dispatch_due()) == 1  # one gate read fits; the other step waits
    assert outreach.count == 1

    backend.clock.advance(timedelta(seconds=61))  # a new minute
    assert len(dispatch_due()) == 2  # both: the first is still queued, not doubled
    assert outreach.count == 2
