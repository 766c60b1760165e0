"""The connect flow against the sandbox's Intuit OAuth 2.0 endpoints."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.base import ReconnectError
from connectors.quickbooks import oauth


def consent(url: str) -> dict[str, str]:
    """Follow the authorization URL as a browser would; the callback's parameters."""
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return {k: v[0] for k, v in query.items()}


def test_authorization_url_carries_state_scope_and_redirect(env):
    state = oauth.new_state()
    url = oauth.authorization_url(env.app, state)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}" == env.url
    assert query["state"] == [state]
    assert query["scope"] == ["com.intuit.quickbooks.accounting openid"]
    assert query["redirect_uri"] == [env.app.redirect_uri]
    assert query["response_type"] == ["code"]


def test_short_state_is_refused(env):
    with pytest.raises(ValueError, match="unguessable"):
        oauth.authorization_url(env.app, "abc")


def test_code_is_exchanged_for_tokens_that_open_the_api(env, clock):
    state = oauth.new_state()
    callback = consent(oauth.authorization_url(env.app, state))
    assert callback["state"] == state and callback["realmId"] == env.realm
    tokens = oauth.exchange_code(env.app, callback["code"], callback["realmId"], clock)
    assert tokens.expires_at == clock.now() + timedelta(seconds=3600)
    assert tokens.extra["realm_id"] == env.realm
    # The id_token comes back whole, for the web layer to verify.
    assert tokens.id_token and tokens.id_token.count(".") == 2
    env.store.save(tokens)
    assert env.connector().company().name == "Harbour Lights Catering"


def test_replayed_code_is_refused_as_reconnect(env, clock):
    callback = consent(oauth.authorization_url(env.app, oauth.new_state()))
    oauth.exchange_code(env.app, callback["code"], env.realm, clock)
    with pytest.raises(ReconnectError):
        oauth.exchange_code(env.app, callback["code"], env.realm, clock)
    assert env.sandbox.log.count(grant_type="authorization_code") == 2


def test_revoke_disconnects_the_grant(env):
    connector = env.connector()
    connector.revoke()
    assert all(g.revoked for g in env.sandbox.grants())
    with pytest.raises(ReconnectError):
        env.connector().company()


def test_missing_settings_are_named(env):
    incomplete = type(env.app)(discovery_url=env.app.discovery_url)
    with pytest.raises(ValueError, match="client_id, client_secret, redirect_uri"):
        oauth.authorization_url(incomplete, oauth.new_state())
