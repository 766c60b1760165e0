"""Fixtures for the Xero connector: a sandbox Xero on a free port, a token store
shared by processes (Redis), and a connector wired to both."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis as redis_lib

from app.clock import SimulatedClock
from app.config import LedgerApp
from connectors.sandbox.xero import XeroSandbox
from connectors.xero import XeroConnector, oauth
from connectors.xero.client import token_set
from tests.connectors.xero import factories
from tests.connectors.xero.tokenstore import RedisTokenStore

REDIRECT = "http://127.0.0.1:5000/connect/xero/callback"


@pytest.fixture
def sandbox(clock: SimulatedClock) -> Iterator[XeroSandbox]:
    """A Xero sandbox serving on 127.0.0.1 (a free port), on the test's clock."""
    box = XeroSandbox(clock=clock)
    server = box.start()
    yield box
    server.stop()


def app_for(box: XeroSandbox) -> LedgerApp:
    """The LedgerApp pointing CARE at `box` (only URLs differ from production)."""
    url = box.base_url
    return LedgerApp(
        client_id=box.client.client_id,
        client_secret=box.client.client_secret,
        redirect_uri=REDIRECT,
        authorize_url=f"{url}/identity/connect/authorize",
        token_url=f"{url}/connect/token",
        revoke_url=f"{url}/connect/revocation",
        identity_base=str(url),
        api_base=f"{url}/api.xro/2.0",
        web_base="https://go.xero.com",
    )


@pytest.fixture
def xero_app(sandbox: XeroSandbox) -> LedgerApp:
    return app_for(sandbox)


@pytest.fixture
def tenant(sandbox: XeroSandbox) -> str:
    return sandbox.add_organisation(dict(factories.ORG))


@pytest.fixture
def store(
    redis: redis_lib.Redis, redis_url: str, sandbox: XeroSandbox, tenant: str
) -> RedisTokenStore:
    """A token store holding tokens just issued for the granular scopes."""
    tokens = RedisTokenStore(redis_url, f"xero-{uuid.uuid4().hex[:8]}")
    tokens.save(token_set(sandbox.issue_tokens(scope=oauth.SCOPES), sandbox.now()))
    return tokens


@pytest.fixture
def connector(
    xero_app: LedgerApp,
    store: RedisTokenStore,
    redis: redis_lib.Redis,
    tenant: str,
    clock: SimulatedClock,
) -> XeroConnector:
    return XeroConnector(xero_app, store, redis, tenant, clock=clock)
