"""The QuickBooks sandbox on a free port, one company, and connectors wired to it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from app import clock as clock_mod
from app.config import LedgerApp
from connectors.base import TokenSet
from connectors.quickbooks.connector import QuickBooksConnector
from connectors.sandbox.quickbooks import QuickBooksSandbox
from connectors.sandbox.quickbooks.sandbox import DEFAULT_REDIRECT
from tests.connectors.quickbooks import factories
from tests.connectors.quickbooks.store import RedisTokenStore

WEB_BASE = "https://app.qbo.intuit.com"


@dataclass
class Env:
    """A started sandbox, its one company, and how to connect to it."""

    sandbox: QuickBooksSandbox
    url: str
    realm: str
    app: LedgerApp
    store: RedisTokenStore
    redis: Any
    clock: clock_mod.SimulatedClock

    def connector(self, **kw: Any) -> QuickBooksConnector:
        return QuickBooksConnector(
            self.app, self.realm, self.store, self.redis, clock=self.clock, **kw
        )

    def load(self, **entities: list[dict[str, Any]]) -> None:
        """Put objects in the books, then let five minutes pass (so a sync that
        follows does not start in the same minute as the edits)."""
        self.sandbox.load(self.realm, entities, notify=False)
        self.clock.advance(timedelta(minutes=5))

    def api_calls(self) -> int:
        return self.sandbox.log.count("/v3/")


def ledger_app(url: str, sandbox: QuickBooksSandbox) -> LedgerApp:
    return LedgerApp(
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        redirect_uri=DEFAULT_REDIRECT,
        discovery_url=f"{url}/.well-known/openid_configuration",
        api_base=f"{url}/v3",
        web_base=WEB_BASE,
    )


@pytest.fixture
def env(clock, redis, redis_url) -> Iterator[Env]:
    sandbox = QuickBooksSandbox(clock=clock, seed=0)
    realm = sandbox.add_company(
        {"CompanyName": "Harbour Lights Catering", "Country": "US"},
        {
            "CurrencyPrefs": {
                "HomeCurrency": {"value": "USD"},
                "MultiCurrencyEnabled": True,
            }
        },
        factories.REALM,
        timezone="America/Los_Angeles",
    )
    server = sandbox.start()
    issued = sandbox.issue_tokens(realm)
    store = RedisTokenStore(redis_url, realm)
    store.save(
        TokenSet(
            issued["access_token"],
            issued["refresh_token"],
            clock.now() + timedelta(seconds=issued["expires_in"]),
        )
    )
    yield Env(
        sandbox, server.url, realm, ledger_app(server.url, sandbox), store, redis, clock
    )
    sandbox.stop()
