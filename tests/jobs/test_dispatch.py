"""The tick's dispatch: one job per case with due steps, as far as budgets allow."""

from datetime import timedelta

from rq import Queue

from jobs import runtime as runtime_mod
from tests.jobs.conftest import REALM, connect_creditor
from tests.jobs.test_pipeline import _books


def test_a_case_waits_while_the_realms_minute_is_spent_then_sends_in_one_job(
    backend,
):
    from connectors.budget import QUICKBOOKS_LIMITS
    from jobs.ledgers import budget_for
    from jobs.outreach import run_case
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

    # Other work spent the realm's minute down to the calls kept in reserve.
    budget = budget_for(rt, "quickbooks", REALM)
    for _ in range(budget.remaining() - RESERVED_CALLS):
        with budget.call():
            pass
    assert budget.remaining() == RESERVED_CALLS < QUICKBOOKS_LIMITS.per_minute
    assert dispatch_due() == []
    assert outreach.count == 0

    backend.clock.advance(timedelta(seconds=61))  # a new minute
    [case_id] = dispatch_due()
    assert outreach.count == 1  # one job for the letter and the e-mail

    calls_before = backend.sandbox.log.count("/v3/")
    outcomes = run_case(case_id)  # the job's body, run here to count its calls

    assert [o.split(": ", 1)[1] for o in outcomes] == ["sent letter", "sent email"]
    assert len(list(backend.letters.rglob("*.pdf"))) == 1
    assert len(backend.inbox.messages) == 1
    # One payment-gate read served both steps (the company came from the cache).
    assert backend.sandbox.log.count("/v3/") - calls_before == 1
