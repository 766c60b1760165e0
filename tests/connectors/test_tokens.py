"""The refresh single-flight logic, with an in-memory store standing in for the DB.

The cross-process version of these checks runs against the sandbox ledgers in the
connector tests; here each rule is pinned on its own.
"""

import threading
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import ReconnectError, TokenSet
from connectors.tokens import InvalidGrantError, TokenKeeper


class MemoryStore:
    def __init__(self, tokens: TokenSet) -> None:
        self.tokens = tokens
        self.lock = threading.Lock()
        self.reconnect_reasons: list[str] = []
        self.saves = 0

    def load(self) -> TokenSet:
        return self.tokens

    def save(self, tokens: TokenSet) -> None:
        self.saves += 1
        self.tokens = tokens

    def refresh_lock(self) -> AbstractContextManager[object]:
        return self.lock

    def needs_reconnect(self, reason: str) -> None:
        if not self.reconnect_reasons:
            self.reconnect_reasons.append(reason)


class RotatingLedger:
    """A token endpoint whose refresh tokens are single-use (C01's mock)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.spent: set[str] = set()
        self.calls: list[str] = []

    def refresh(self, refresh_token: str) -> TokenSet:
        self.calls.append(refresh_token)
        if refresh_token in self.spent:
            raise InvalidGrantError("invalid_grant")
        self.spent.add(refresh_token)
        n = len(self.spent)
        return TokenSet(f"AT-{n + 1}", f"RT-{n + 1}", self.now + timedelta(hours=1))


NOW = datetime(2025, 5, 1, 17, 0, 5, tzinfo=UTC)


def expired() -> TokenSet:
    return TokenSet("AT-1", "RT-A", datetime(2025, 5, 1, 17, 0, tzinfo=UTC))


def test_live_token_is_used_without_a_refresh(clock):
    clock.set(NOW)
    store = MemoryStore(TokenSet("AT-1", "RT-A", NOW + timedelta(minutes=30)))
    ledger = RotatingLedger(NOW)
    assert TokenKeeper(store, ledger.refresh).current().access_token == "AT-1"
    assert ledger.calls == []


def test_two_workers_spend_the_refresh_token_once(clock):
    clock.set(NOW)
    store, ledger = MemoryStore(expired()), RotatingLedger(NOW)
    results: list[str] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        results.append(TokenKeeper(store, ledger.refresh).current().access_token)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert ledger.calls == ["RT-A"]
    assert results == ["AT-2", "AT-2"]
    assert store.tokens.refresh_token == "RT-2"
    assert store.reconnect_reasons == []


def test_rotated_elsewhere_is_picked_up_after_invalid_grant(clock):
    clock.set(NOW)
    store, ledger = MemoryStore(expired()), RotatingLedger(NOW)
    ledger.spent.add("RT-A")  # another host spent it...

    def refresh_then_store_elsewhere(token: str) -> TokenSet:
        store.tokens = TokenSet(
            "AT-9", "RT-9", NOW + timedelta(hours=1)
        )  # ...and saved
        return ledger.refresh(token)

    keeper = TokenKeeper(store, refresh_then_store_elsewhere)
    assert keeper.current().access_token == "AT-9"
    assert store.reconnect_reasons == []


def test_spent_token_marks_reconnect_once_and_raises(clock):
    clock.set(NOW)
    store, ledger = MemoryStore(expired()), RotatingLedger(NOW)
    ledger.spent.add("RT-A")  # a crash lost the rotated pair (C02 variant b)
    keeper = TokenKeeper(store, ledger.refresh)
    with pytest.raises(ReconnectError):
        keeper.current()
    with pytest.raises(ReconnectError):
        keeper.current()
    assert store.reconnect_reasons == ["invalid_grant"]


def test_after_a_401_the_stale_token_is_refreshed_once(clock):
    clock.set(NOW)
    live = TokenSet("AT-1", "RT-A", NOW + timedelta(minutes=30))
    store, ledger = MemoryStore(live), RotatingLedger(NOW)
    keeper = TokenKeeper(store, ledger.refresh)
    assert keeper.refresh(stale=live).access_token == "AT-2"
    # A second worker that saw the same 401 finds the new token and does not refresh.
    assert TokenKeeper(store, ledger.refresh).refresh(stale=live).access_token == "AT-2"
    assert ledger.calls == ["RT-A"]
