"""Tokens against the sandbox: refresh once, rotate, reconnect; C01 and C04."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

import pytest

from connectors.base import ReconnectError
from tests.connectors.quickbooks import factories as f
from tests.connectors.quickbooks import workers


def grants(env, kind="refresh_token"):
    return env.sandbox.log.count(grant_type=kind)


def test_token_expiring_mid_sync_costs_one_refresh_and_one_retried_page(env):
    """C04: page 4 gets a 401; one refresh, page 4 again, pages 1-3 not refetched."""
    env.load(Customer=[f.customer(1, "Cool Cars")], Invoice=f.open_invoices(5600))
    first_tokens = env.store.load()
    stream = env.connector().sync(None)
    pages = [next(stream) for _ in range(4)]  # customers, open pages 1-3
    env.sandbox.faults.revoked.add(first_tokens.access_token)  # AT-1 dies here
    pages += list(stream)

    ids = [i.ledger_id for p in pages for i in p.invoices]
    assert len(ids) == 5600 and len(set(ids)) == 5600
    assert grants(env) == 1
    queries = [e for e in env.sandbox.log.entries() if e.path.endswith("/query")]
    refused = [e for e in queries if e.status == 401]
    assert len(refused) == 1
    # company 2 + customers 1 + open invoices 6 pages and 1 retry + 3 short streams
    assert len(queries) == 2 + 1 + 7 + 3
    stored = env.store.load()
    assert stored.access_token != first_tokens.access_token
    assert stored.refresh_token != first_tokens.refresh_token
    assert pages[-1].done


def test_expired_token_is_refreshed_before_the_call_not_after_a_401(env, clock):
    spent = env.store.load().refresh_token
    clock.advance(timedelta(hours=2))
    assert env.connector().company().name == "Harbour Lights Catering"
    assert grants(env) == 1
    assert env.sandbox.log.count("/v3/") == env.sandbox.log.count("/v3/", None) > 0
    assert all(e.status != 401 for e in env.sandbox.log.entries())
    assert env.store.load().refresh_token != spent


def test_invalid_grant_marks_reconnect_once_without_a_retry_storm(env, clock):
    env.sandbox.revoke(env.store.load().refresh_token)
    clock.advance(timedelta(hours=2))
    with pytest.raises(ReconnectError):
        env.connector().company()
    assert grants(env) == 1
    assert env.store.reconnect_reason() == "invalid_grant"
    assert env.store.reconnect_marks() == 1
    assert env.sandbox.log.count("/v3/") == 0


def test_revoked_access_gets_one_refresh_then_reconnect(env):
    env.sandbox.revoke(env.store.load().access_token)
    with pytest.raises(ReconnectError):
        env.connector().company()
    api = [e for e in env.sandbox.log.entries() if "/v3/" in e.path]
    assert [e.status for e in api] == [401]
    assert grants(env) == 1
    assert env.store.reconnect_marks() == 1


def test_two_processes_refreshing_at_once_spend_the_refresh_token_once(env, clock):
    """C01 across OS processes: one refresh_token grant, both workers carry on."""
    clock.advance(timedelta(hours=2))
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    args = (env.app, env.realm, env.store.redis_url, clock.now().isoformat())
    processes = [
        context.Process(target=workers.read_company, args=(*args, barrier, results))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    names = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert names == ["Harbour Lights Catering"] * 2
    assert grants(env) == 1
    assert env.store.saves() == 2  # the fixture's, then the one refresh
    assert env.store.reconnect_marks() == 0
    refused = [e for e in env.sandbox.log.entries() if e.status in (400, 401)]
    assert refused == []


def test_a_token_for_another_company_is_forbidden_and_marks_reconnect(env):
    other = env.sandbox.add_company(
        {"CompanyName": "Other Books"}, realm_id="4620816365"
    )
    issued = env.sandbox.issue_tokens(other)
    stored = env.store.load()
    stored.access_token = issued["access_token"]
    env.store.save(stored)
    with pytest.raises(ReconnectError):
        env.connector().company()
    assert env.store.reconnect_reason() == "forbidden"
    assert grants(env) == 0  # a 403 is not a refresh matter
