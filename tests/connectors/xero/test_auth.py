"""Tokens against the sandbox: refresh before expiry, one refresh on a 401, rotation
saved first (C02), single-flight across OS processes, revoked grants."""

from __future__ import annotations

import multiprocessing
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app import clock as clock_mod
from connectors.base import ReconnectError
from connectors.sandbox.xero import XeroSandbox
from connectors.xero import XeroConnector, oauth
from connectors.xero.client import token_set
from connectors.xero.errors import XeroReconnectError
from tests.connectors.xero import factories as f
from tests.connectors.xero import workers
from tests.connectors.xero.conftest import app_for
from tests.connectors.xero.tokenstore import RedisTokenStore

REFRESH = {"path_contains": "/connect/token", "grant_type": "refresh_token"}


def refreshes(sandbox: XeroSandbox) -> list[int]:
    return [
        e.status
        for e in sandbox.log.entries()
        if e.path == "/connect/token" and e.grant_type == "refresh_token"
    ]


def test_c02_rotated_tokens_saved_before_use(
    sandbox, xero_app, tenant, redis, redis_url, clock
) -> None:
    clock.set(datetime(2025, 5, 1, 0, 0, tzinfo=UTC))
    store = RedisTokenStore(redis_url, "c02")
    store.save(token_set(sandbox.issue_tokens(scope=oauth.SCOPES), clock.now()))
    first = store.load()
    assert first.expires_at == datetime(2025, 5, 1, 0, 30, tzinfo=UTC)

    clock.set(datetime(2025, 5, 1, 0, 31, tzinfo=UTC))
    XeroConnector(xero_app, store, redis, tenant, clock=clock).company(fresh=True)
    second = store.load()
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert second.expires_at == datetime(2025, 5, 1, 1, 1, tzinfo=UTC)

    clock.set(datetime(2025, 5, 1, 1, 5, tzinfo=UTC))
    XeroConnector(xero_app, store, redis, tenant, clock=clock).company(fresh=True)
    third = store.load()
    assert third.refresh_token not in (first.refresh_token, second.refresh_token)
    assert refreshes(sandbox) == [200, 200]  # zero invalid_grant
    assert store.alerts() == 0


def test_401_gets_one_refresh_and_one_retry(connector, sandbox, store) -> None:
    before = store.load()
    sandbox.expire_access_tokens()  # the store still believes the token is live

    company = connector.company()

    assert company.name == "Kereru Supplies Ltd"
    statuses = [e.status for e in sandbox.log.entries() if "/api.xro/" in e.path]
    assert statuses == [401, 200]
    assert refreshes(sandbox) == [200]
    assert store.load().refresh_token != before.refresh_token
    assert connector.calls == 2


def test_401_mid_sync_refreshes_once_and_keeps_paging(
    connector, sandbox, tenant, clock
) -> None:
    # C04's Xero counterpart: the token dies between pages.
    sandbox.load(tenant, {"Contacts": [f.contact(n) for n in range(1, 2501)]})
    pages = connector.sync(None)
    first = next(pages)
    sandbox.expire_access_tokens()
    rest = list(pages)
    ids = {c.ledger_id for p in [first, *rest] for c in p.customers}
    assert len(ids) == 2500
    assert refreshes(sandbox) == [200]
    contact_calls = [
        e.status for e in sandbox.log.entries() if e.path.endswith("/Contacts")
    ]
    assert contact_calls == [200, 401, 200, 200]  # page 2 retried once, not page 1


def test_revoked_grant_marks_reconnect_once_and_stops(
    connector, sandbox, store
) -> None:
    sandbox.expire_access_tokens()
    sandbox.revoke_all()

    with pytest.raises(ReconnectError):
        connector.company()
    with pytest.raises(ReconnectError):
        connector.company()

    assert refreshes(sandbox) == [400]  # one invalid_grant, no retry storm
    assert store.alerts() == 1
    assert store.reconnect_reason() == "invalid_grant"


def test_disconnected_tenant_means_reconnect(connector, sandbox, tenant, store) -> None:
    sandbox.disconnect(tenant)
    with pytest.raises(XeroReconnectError) as caught:
        connector.company()
    assert caught.value.status == 403
    with pytest.raises(ReconnectError):
        connector.find_invoices("INV-1")  # the store refuses: no request is sent
    assert refreshes(sandbox) == []
    assert sandbox.log.count("/api.xro/2.0/") == 1
    assert store.alerts() == 1


def test_connected_follows_the_connections_list(connector, sandbox, tenant) -> None:
    assert connector.connected() is True
    sandbox.disconnect(tenant)
    assert connector.connected() is False
    assert sandbox.log.count("/api.xro/2.0/") == 0  # identity calls only


def test_connector_is_a_connector(connector) -> None:
    from connectors.base import Connector

    as_protocol: Connector = connector
    assert as_protocol.calls == 0


def test_revoke_makes_the_refresh_token_useless(connector, sandbox, store) -> None:
    connector.revoke()
    sandbox.expire_access_tokens()
    with pytest.raises(ReconnectError):
        connector.company()
    assert [e.path for e in sandbox.log.entries()][0] == "/connect/revocation"


@pytest.fixture
def shared(redis, redis_url):
    """A sandbox on a clock all processes share (Redis), and its tenant."""
    clock = clock_mod.RedisClock(redis, key=f"care:test:clock:{uuid.uuid4().hex}")
    clock.set(datetime(2025, 5, 1, 0, 31, tzinfo=UTC))
    previous = clock_mod.set_clock(clock)
    box = XeroSandbox(clock=clock)
    server = box.start()
    tenant = box.add_organisation(dict(f.ORG))
    yield box, tenant, clock
    server.stop()
    clock_mod.set_clock(previous)


def _expired_store(box: XeroSandbox, redis_url: str, clock) -> RedisTokenStore:
    store = RedisTokenStore(redis_url, f"xero-{uuid.uuid4().hex[:8]}")
    issued = token_set(box.issue_tokens(scope=oauth.SCOPES), clock.now())
    issued.expires_at = clock.now() - timedelta(minutes=1)
    store.save(issued)
    return store


def test_two_processes_refresh_one_connection_once(shared, redis_url) -> None:
    box, tenant, clock = shared
    # The workers read the clock from the same Redis key as the sandbox.
    workers_clock_key = clock._key
    store = _expired_store(box, redis_url, clock)
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    app = app_for(box)
    procs = [
        ctx.Process(
            target=workers.read_company_together,
            args=(app, redis_url, store.name, tenant, start, out, workers_clock_key),
        )
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    start.set()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)

    assert sorted(r[1] for r in results) == ["Kereru Supplies Ltd"] * 2
    assert sorted(r[2] for r in results) == [0, 1]  # one refreshed, one re-read
    assert refreshes(box) == [200]
    assert [p.exitcode for p in procs] == [0, 0]


def test_c02_killed_after_refresh_before_save(shared, redis, redis_url) -> None:
    box, tenant, clock = shared
    store = _expired_store(box, redis_url, clock)
    app = app_for(box)
    ctx = multiprocessing.get_context("spawn")
    worker = ctx.Process(
        target=workers.refresh_then_die,
        args=(app, redis_url, store.name, tenant, clock._key),
    )
    worker.start()
    worker.join(60)
    assert worker.exitcode == -9  # SIGKILL after the 200, before the save
    assert refreshes(box) == [200]

    clock.advance(timedelta(minutes=34))  # the next job, at 01:05
    connector = XeroConnector(app, store, redis, tenant, clock=clock)
    with pytest.raises(ReconnectError):
        connector.sync(None).__next__()
    with pytest.raises(ReconnectError):
        connector.company()

    assert refreshes(box) == [200, 400]  # one invalid_grant, then no token calls
    assert store.alerts() == 1
    assert store.reconnect_reason() == "invalid_grant"
    assert box.log.count("/api.xro/2.0/") == 0


def test_incomplete_settings_are_refused(xero_app, store, redis, tenant) -> None:
    from dataclasses import replace

    with pytest.raises(ValueError, match="client_secret, token_url"):
        XeroConnector(
            replace(xero_app, client_secret="", token_url=""), store, redis, tenant
        )
    with pytest.raises(ValueError, match="tenant"):
        XeroConnector(xero_app, store, redis, "")
