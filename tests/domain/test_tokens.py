"""The database token store, its refresh lock, reconnect flag and OAuth states."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import redis as redis_lib
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from app import audit, tokens
from app.clock import SimulatedClock
from app.models import LedgerConnection
from connectors.base import ReconnectError, TokenSet
from tests.domain import factories

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def _tokens(access: str, refresh: str, expires: datetime) -> TokenSet:
    return TokenSet(
        access_token=access,
        refresh_token=refresh,
        expires_at=expires,
        refresh_expires_at=expires + timedelta(days=100),
        scope=("com.intuit.quickbooks.accounting",),
    )


@pytest.fixture
def conn_id(session: Session) -> int:
    conn = tokens.connect(
        session,
        creditor_id=factories.creditor(session).id,
        ledger="quickbooks",
        external_id="9130354426181920",
        tokens=_tokens("AT-1", "RT-A", T0 - timedelta(minutes=5)),
        who="user:1",
        company_name="Delgado-Whitfield Events",
    )
    session.commit()
    return conn.id


def _store(
    factory: sessionmaker[Session], conn_id: int, redis: redis_lib.Redis, **kw: float
) -> tokens.DbTokenStore:
    return tokens.DbTokenStore(factory, conn_id, redis, **kw)


def test_load_returns_what_connect_stored(factory, conn_id, redis) -> None:  # type: ignore[no-untyped-def]
    loaded = _store(factory, conn_id, redis).load()
    assert (loaded.access_token, loaded.refresh_token) == ("AT-1", "RT-A")
    assert loaded.expires_at == T0 - timedelta(minutes=5)
    assert loaded.scope == ("com.intuit.quickbooks.accounting",)


def test_save_commits_both_tokens_in_its_own_transaction(
    factory, conn_id, redis
) -> None:  # type: ignore[no-untyped-def]
    store = _store(factory, conn_id, redis)
    with factory() as caller:
        caller.get(LedgerConnection, conn_id)  # the caller's transaction is open
        store.save(_tokens("XA-2", "XR-2", T0 + timedelta(minutes=30)))
        caller.rollback()  # the caller failing later must not lose the new tokens

    with factory() as fresh:
        row = fresh.get(LedgerConnection, conn_id)
        assert row is not None
        assert (row.access_token, row.refresh_token) == ("XA-2", "XR-2")
        assert row.expires_at == T0 + timedelta(minutes=30)


def test_save_refuses_empty_tokens(factory, conn_id, redis) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="refusing empty tokens"):
        _store(factory, conn_id, redis).save(_tokens("AT-2", "", T0))


def test_refresh_lock_is_per_connection_and_excludes_a_second_holder(
    factory,
    conn_id,
    redis,  # type: ignore[no-untyped-def]
) -> None:
    first = _store(factory, conn_id, redis)
    second = _store(factory, conn_id, redis, lock_wait=0.2)
    other = _store(factory, conn_id + 1, redis, lock_wait=0.2)
    assert first.lock_name == f"care:refresh:{conn_id}"
    with first.refresh_lock():
        with pytest.raises(redis_lib.exceptions.LockError):
            with second.refresh_lock():
                pass
        with other.refresh_lock():  # another connection is not held up
            pass
    with second.refresh_lock():  # free again once released
        pass


def test_two_workers_spend_a_single_use_refresh_token_once(
    factory,
    conn_id,
    redis,
    clock: SimulatedClock,  # type: ignore[no-untyped-def]
) -> None:
    """C01: W1 and W2 find AT-1 expired together; only one spends RT-A."""
    endpoint_calls: list[str] = []
    valid = {"RT-A": ("AT-2", "RT-B")}

    def token_endpoint(refresh: str) -> TokenSet:
        endpoint_calls.append(refresh)
        if refresh not in valid:
            raise ReconnectError("invalid_grant")
        access, rotated = valid.pop(refresh)
        return _tokens(access, rotated, clock.now() + timedelta(hours=1))

    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def worker(name: str) -> None:
        store = _store(factory, conn_id, redis)
        barrier.wait()
        with store.refresh_lock():
            current = store.load()  # re-read under the lock
            if current.expires_at <= clock.now():
                current = token_endpoint(current.refresh_token)
                store.save(current)
        results[name] = current.access_token

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("W1", "W2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)

    assert endpoint_calls == ["RT-A"]
    assert results == {"W1": "AT-2", "W2": "AT-2"}
    loaded = _store(factory, conn_id, redis).load()
    assert loaded.refresh_token == "RT-B"


def test_needs_reconnect_flips_once_and_audits_once(
    factory,
    conn_id,
    redis,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    """C02 variant b: after invalid_grant, one flip, one alert, no more token use."""
    store = _store(factory, conn_id, redis)
    store.needs_reconnect("invalid_grant on refresh")
    store.needs_reconnect("invalid_grant on refresh")  # a second job: no-op

    row = session.get(LedgerConnection, conn_id)
    assert row is not None
    assert (row.status, row.status_reason) == (
        "needs_reconnect",
        "invalid_grant on refresh",
    )
    entries = [
        e
        for e in audit.history(session, "connection", conn_id)
        if e.action == "needs_reconnect"
    ]
    assert len(entries) == 1
    assert (entries[0].from_state, entries[0].to_state) == (
        "connected",
        "needs_reconnect",
    )
    with pytest.raises(ReconnectError, match="needs_reconnect"):
        store.load()


def test_reconnecting_restores_the_connection(factory, conn_id, redis, session) -> None:  # type: ignore[no-untyped-def]
    store = _store(factory, conn_id, redis)
    store.needs_reconnect("invalid_grant")
    row = session.get(LedgerConnection, conn_id)
    again = tokens.connect(
        session,
        creditor_id=row.creditor_id,
        ledger="quickbooks",
        external_id="9130354426181920",
        tokens=_tokens("AT-9", "RT-Z", T0 + timedelta(hours=1)),
        who="user:1",
    )
    session.commit()
    assert again.id == conn_id
    assert store.load().refresh_token == "RT-Z"
    actions = [e.action for e in audit.history(session, "connection", conn_id)]
    assert actions == ["connect", "needs_reconnect", "reconnect"]


def test_oauth_state_is_used_once(session: Session) -> None:
    """C03: a repeated callback must not exchange the code a second time."""
    state = tokens.issue_state(
        session, ledger="quickbooks", creditor_id=None, user_id=None, code_verifier="v1"
    )
    session.commit()
    row = tokens.consume_state(session, state, "quickbooks")
    session.commit()
    assert row.code_verifier == "v1"
    assert row.used_at == T0
    with pytest.raises(tokens.OAuthStateError, match="already used"):
        tokens.consume_state(session, state, "quickbooks")


def test_oauth_state_expires(session: Session, clock: SimulatedClock) -> None:
    state = tokens.issue_state(session, ledger="xero", creditor_id=None, user_id=None)
    clock.advance(timedelta(minutes=10, seconds=1))
    with pytest.raises(tokens.OAuthStateError, match="expired"):
        tokens.consume_state(session, state, "xero")


def test_oauth_state_just_inside_its_lifetime_is_accepted(
    session: Session, clock: SimulatedClock
) -> None:
    state = tokens.issue_state(session, ledger="xero", creditor_id=None, user_id=None)
    clock.advance(timedelta(minutes=9, seconds=59))
    assert tokens.consume_state(session, state, "xero").state == state


def test_oauth_state_for_another_ledger_or_unknown_is_refused(session: Session) -> None:
    state = tokens.issue_state(session, ledger="xero", creditor_id=None, user_id=None)
    with pytest.raises(tokens.OAuthStateError, match="issued for xero"):
        tokens.consume_state(session, state, "quickbooks")
    with pytest.raises(tokens.OAuthStateError, match="unknown"):
        tokens.consume_state(session, "forged", "xero")
    assert session.scalar(sa.select(sa.func.count()).select_from(LedgerConnection)) == 0
