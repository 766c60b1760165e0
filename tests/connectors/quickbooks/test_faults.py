"""429s, 5xx and timeouts against the sandbox: the right error, nothing lost."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from connectors.base import RetryError, WaitError
from connectors.budget import CallBudget, Limits
from connectors.quickbooks.errors import QuickBooksRetryError, QuickBooksWaitError
from connectors.sandbox.server import WindowLimiter
from tests.connectors.quickbooks import factories as f


def resume(connector, cursor, seen):
    """Run a sync from `cursor`, collecting invoice ids; returns the last cursor."""
    for page in connector.sync(cursor):
        seen.extend(i.ledger_id for i in page.invoices)
        cursor = page.cursor
    return cursor


def test_minute_429_pauses_the_realm_for_sixty_seconds_then_resumes(env, clock):
    env.load(Customer=[f.customer(1, "Cool Cars")], Invoice=f.open_invoices(2500))
    env.sandbox.minute = WindowLimiter(4, timedelta(minutes=1))
    connector = env.connector()
    seen: list[str] = []
    cursor = None
    with pytest.raises(QuickBooksWaitError) as caught:
        for page in connector.sync(None):  # company 2, customers, open page 1, 429
            seen.extend(i.ledger_id for i in page.invoices)
            cursor = page.cursor
    assert caught.value.retry_after == 60 and caught.value.scope == "minute"
    throttled = [e for e in env.sandbox.log.entries() if e.status == 429]
    assert len(throttled) == 1

    # Any worker on this realm now waits without calling QBO at all.
    before = len(env.sandbox.log.entries())
    with pytest.raises(WaitError) as paused:
        resume(env.connector(), cursor, seen)
    assert paused.value.scope == "paused"
    assert 1 <= paused.value.retry_after <= 60
    assert len(env.sandbox.log.entries()) == before + 1  # the new worker's discovery

    clock.advance(timedelta(seconds=61))
    env.sandbox.minute = WindowLimiter(500, timedelta(minutes=1))
    resume(connector, cursor, seen)
    assert len(seen) == 2500 and len(set(seen)) == 2500


def test_5xx_mid_sync_is_a_retry_error_and_the_cursor_loses_nothing(env):
    env.load(Customer=[f.customer(1, "Cool Cars")], Invoice=f.open_invoices(2500))
    connector = env.connector()
    seen: list[str] = []
    stream = connector.sync(None)
    cursor = None
    for _ in range(2):
        page = next(stream)
        seen.extend(i.ledger_id for i in page.invoices)
        cursor = page.cursor
    env.sandbox.faults.error_rate = 1.0
    with pytest.raises(QuickBooksRetryError):
        next(stream)
    assert isinstance(QuickBooksRetryError("x"), RetryError)

    env.sandbox.faults.error_rate = 0.0
    resume(connector, cursor, seen)
    assert len(seen) == 2500 and len(set(seen)) == 2500
    assert sum(1 for e in env.sandbox.log.entries() if e.status == 503) == 1


def test_a_hung_call_times_out_as_a_retry_error(env):
    connector = env.connector(timeout=(1.0, 0.3))
    connector.client.auth_client()  # discovery answers before the stall starts
    env.sandbox.faults.stall = 1.0
    started = time.monotonic()
    with pytest.raises(QuickBooksRetryError, match="in time"):
        connector.company()
    assert time.monotonic() - started < 0.9
    env.sandbox.faults.stall = 0.0


def test_our_minute_budget_stops_calls_before_quickbooks_throttles(env, redis):
    budget = CallBudget(redis, "qbo:tight", Limits(per_minute=3, concurrent=10))
    connector = env.connector(budget=budget)
    connector.company()  # two calls
    connector.client.query("SELECT * FROM Customer")  # the third
    before = len(env.sandbox.log.entries())
    with pytest.raises(WaitError) as caught:
        connector.client.query("SELECT * FROM Customer")
    assert caught.value.scope == "minute"
    assert 1 <= caught.value.retry_after <= 60
    assert len(env.sandbox.log.entries()) == before  # QBO never saw the fourth


def test_a_spent_day_budget_stops_the_realm_until_the_day_resets(env, redis, clock):
    # QBO itself has no day cap; a plan-level one set in our budget must hold anyway.
    budget = CallBudget(
        redis, "qbo:day", Limits(per_minute=500, concurrent=10, per_day=2)
    )
    connector = env.connector(budget=budget)
    connector.company()
    with pytest.raises(WaitError) as caught:
        connector.client.query("SELECT * FROM Customer")
    assert caught.value.scope == "day"
    assert caught.value.retry_after == pytest.approx(86_400, abs=1)
    clock.advance(timedelta(days=1, seconds=1))
    connector.client.query("SELECT * FROM Customer")
