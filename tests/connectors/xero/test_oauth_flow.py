"""Connecting through the sandbox's own consent, token and connections endpoints."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.xero import oauth
from connectors.xero.errors import XeroReconnectError


def consent(url: str) -> dict[str, str]:
    """Follow the authorize URL as the browser would; the callback's query."""
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text
    location = answer.headers["Location"]
    assert location.startswith(oauth_redirect())
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def oauth_redirect() -> str:
    return "http://127.0.0.1:5000/connect/xero/callback"


def test_connect_exchanges_code_and_picks_the_tenant(sandbox, xero_app, tenant, clock):
    auth = oauth.authorization(xero_app)
    callback = consent(auth.url)
    assert oauth.state_matches(auth.state, callback["state"])

    tokens = oauth.exchange_code(
        xero_app, callback["code"], auth.code_verifier, clock=clock
    )

    assert tokens.expires_at == clock.now() + timedelta(minutes=30)
    assert "offline_access" in tokens.scope and "accounting.invoices" in tokens.scope
    assert tokens.refresh_token
    found = oauth.connections(xero_app, tokens)
    chosen = oauth.choose_tenant(found)
    assert chosen.tenant_id == tenant
    assert chosen.tenant_name == "Kereru Supplies Ltd"
    grants = [e for e in sandbox.log.entries() if e.grant_type == "authorization_code"]
    assert len(grants) == 1


def test_wrong_verifier_is_refused(sandbox, xero_app, tenant, clock):
    auth = oauth.authorization(xero_app)
    callback = consent(auth.url)
    with pytest.raises(XeroReconnectError, match="invalid_grant"):
        oauth.exchange_code(xero_app, callback["code"], "x" * 64, clock=clock)


def test_a_code_is_spent_once(sandbox, xero_app, tenant, clock):
    auth = oauth.authorization(xero_app)
    callback = consent(auth.url)
    oauth.exchange_code(xero_app, callback["code"], auth.code_verifier, clock=clock)
    with pytest.raises(XeroReconnectError):
        oauth.exchange_code(xero_app, callback["code"], auth.code_verifier, clock=clock)


def test_disconnect_removes_the_tenant(sandbox, xero_app, tenant, clock):
    auth = oauth.authorization(xero_app)
    tokens = oauth.exchange_code(
        xero_app, consent(auth.url)["code"], auth.code_verifier, clock=clock
    )
    [connection] = oauth.connections(xero_app, tokens)
    oauth.disconnect(xero_app, tokens, connection.id)
    assert oauth.connections(xero_app, tokens) == []
