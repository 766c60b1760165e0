"""Code run in spawned worker processes by the Xero tests (importable by spawn)."""

from __future__ import annotations

import os
import signal
from typing import Any

import redis as redis_lib

from app import clock as clock_mod
from app.config import LedgerApp
from connectors.base import TokenSet
from connectors.xero import XeroConnector
from tests.connectors.xero.tokenstore import RedisTokenStore


class DyingStore(RedisTokenStore):
    """A store whose worker is SIGKILLed after the token endpoint answered 200,
    before the rotated pair is committed (case C02, variant b)."""

    def save(self, tokens: TokenSet) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


def _connector(
    app: LedgerApp, store: RedisTokenStore, redis_url: str, tenant: str, clock_key: str
) -> XeroConnector:
    redis = redis_lib.Redis.from_url(redis_url)
    clock = clock_mod.RedisClock(redis, key=clock_key)
    clock_mod.set_clock(clock)
    return XeroConnector(app, store, redis, tenant, clock=clock)


def refresh_then_die(
    app: LedgerApp, redis_url: str, name: str, tenant: str, clock_key: str
) -> None:
    """Start a job whose refresh succeeds at Xero but is never saved."""
    store = DyingStore(redis_url, name, lock_timeout=2)
    _connector(app, store, redis_url, tenant, clock_key).company()


def read_company_together(
    app: LedgerApp,
    redis_url: str,
    name: str,
    tenant: str,
    start: Any,
    out: Any,
    clock_key: str,
) -> None:
    """Wait for `start`, then read the company; put (pid, name, refreshes) on `out`."""
    store = RedisTokenStore(redis_url, name)
    connector = _connector(app, store, redis_url, tenant, clock_key)
    start.wait(30)
    try:
        out.put(
            (os.getpid(), connector.company().name, connector.client.keeper.refreshes)
        )
    except Exception as exc:  # reported to the parent, which fails the test
        out.put((os.getpid(), f"error: {exc!r}", -1))
