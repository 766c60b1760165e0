"""Rate limits, server errors and timeouts against the sandbox (case C28 Xero half):
each surfaces as the error that says what to do, and nothing is lost."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from connectors.base import RetryError, WaitError
from connectors.sandbox.xero.limits import RateLimits
from connectors.xero import XeroConnector, oauth
from connectors.xero.client import token_set
from connectors.xero.errors import XeroRetryError, XeroWaitError
from tests.connectors.xero import factories as f
from tests.connectors.xero.tokenstore import RedisTokenStore


def api_calls(sandbox, tenant: str) -> int:
    return sum(
        1 for e in sandbox.log.entries() if "/api.xro/" in e.path and e.tenant == tenant
    )


def test_c28_minute_429_no_call_until_retry_after(connector, sandbox, tenant, clock):
    # Someone else (another app on the tenant) used the minute: one call at t0 and
    # 59 more at t0+43 s, so call 61 at t0+43 s is refused for 60-43 = 17 s.
    t0 = clock.now()
    sandbox.limits.enter(tenant, t0, enforce=True)
    sandbox.limits.leave(tenant)
    clock.advance(timedelta(seconds=43))
    for _ in range(59):
        sandbox.limits.enter(tenant, clock.now(), enforce=True)
        sandbox.limits.leave(tenant)

    started = time.monotonic()
    with pytest.raises(XeroWaitError) as caught:
        connector.company()
    assert (caught.value.retry_after, caught.value.scope) == (17.0, "minute")
    assert api_calls(sandbox, tenant) == 1
    # urllib3's default retries would have slept 3 x 17 s before raising.
    assert time.monotonic() - started < 5

    clock.advance(timedelta(seconds=16))
    with pytest.raises(WaitError):
        connector.company()  # the shared budget answers: no request is sent
    assert api_calls(sandbox, tenant) == 1

    clock.advance(timedelta(seconds=1))
    assert connector.company().home_currency == "NZD"
    assert api_calls(sandbox, tenant) == 2


def test_c28_day_429_stops_tenant_until_reset_others_carry_on(
    connector, sandbox, tenant, clock, xero_app, redis, redis_url
):
    sandbox.limits = RateLimits(per_day=3)
    other = sandbox.add_organisation({**f.ORG, "Name": "Tenant B Ltd"})
    store_b = RedisTokenStore(redis_url, "tenant-b")
    store_b.save(token_set(sandbox.issue_tokens(scope=oauth.SCOPES), clock.now()))
    connector_b = XeroConnector(xero_app, store_b, redis, other, clock=clock)
    for _ in range(3):
        sandbox.limits.enter(tenant, clock.now(), enforce=True)
        sandbox.limits.leave(tenant)
    clock.advance(timedelta(seconds=55000))

    with pytest.raises(XeroWaitError) as caught:
        connector.company()
    assert (caught.value.retry_after, caught.value.scope) == (31400.0, "day")

    clock.advance(timedelta(seconds=31399))
    with pytest.raises(WaitError):
        connector.company()
    assert api_calls(sandbox, tenant) == 1  # nothing sent before the reset
    assert connector_b.company().name == "Tenant B Ltd"  # B unaffected

    clock.advance(timedelta(seconds=1))
    assert connector.company().name == "Kereru Supplies Ltd"


def test_own_budget_stops_at_60_a_minute_without_429(connector, sandbox, tenant):
    sandbox.load(tenant, {"Contacts": [f.contact(1)], "Invoices": [f.invoice(1, 1)]})
    connector.company()  # call 1; find_invoices needs the base currency
    for _ in range(59):
        connector.find_invoices("INV-00001")
    with pytest.raises(WaitError) as caught:
        connector.find_invoices("INV-00001")
    assert caught.value.scope == "minute"
    statuses = {e.status for e in sandbox.log.entries() if "/api.xro/" in e.path}
    assert statuses == {200}
    assert api_calls(sandbox, tenant) == 60


def test_5xx_is_retryable_and_the_sync_resumes_without_loss(connector, sandbox, tenant):
    sandbox.load(tenant, {"Contacts": [f.contact(n) for n in range(1, 2501)]})
    pages = connector.sync(None)
    kept = [next(pages), next(pages)]
    sandbox.faults.error_rate = 1.0
    sent = len(sandbox.log.entries())
    with pytest.raises(XeroRetryError) as caught:
        next(pages)
    assert isinstance(caught.value, RetryError) and caught.value.status == 500
    assert len(sandbox.log.entries()) == sent + 1  # no hidden urllib3 retries

    sandbox.faults.error_rate = 0.0
    rest = list(connector.sync(kept[-1].cursor))
    ids = [c.ledger_id for p in kept + rest for c in p.customers]
    assert len(ids) == len(set(ids)) == 2500


def test_timeout_is_retryable_and_fast(sandbox, xero_app, store, redis, tenant, clock):
    connector = XeroConnector(
        xero_app, store, redis, tenant, clock=clock, timeout=(1.0, 0.3)
    )
    sandbox.faults.stall = 1.0
    started = time.monotonic()
    with pytest.raises(XeroRetryError):
        connector.company()
    assert time.monotonic() - started < 1.0  # urllib3 did not retry behind our back
    sandbox.faults.stall = 0.0
    assert connector.company().name == "Kereru Supplies Ltd"
