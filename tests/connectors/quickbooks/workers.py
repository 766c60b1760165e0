"""Code run in spawned OS processes (importable, so `spawn` can find it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import redis as redis_lib

from app import clock as clock_mod
from app.config import LedgerApp
from connectors.quickbooks.connector import QuickBooksConnector
from tests.connectors.quickbooks.store import RedisTokenStore


def read_company(
    app: LedgerApp, realm: str, redis_url: str, now: str, barrier: Any, results: Any
) -> None:
    """Wait for the other worker, then make an API call that needs a live token."""
    clock = clock_mod.SimulatedClock(datetime.fromisoformat(now))
    clock_mod.set_clock(clock)
    client = redis_lib.Redis.from_url(redis_url)
    store = RedisTokenStore(redis_url, realm)
    connector = QuickBooksConnector(app, realm, store, client, clock=clock)
    barrier.wait(timeout=30)
    results.put(connector.company().name)
