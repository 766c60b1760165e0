"""Building the consent URL: state, PKCE S256, the granular scopes."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from app.config import XERO_PRODUCTION
from connectors.xero import oauth

APP = XERO_PRODUCTION.__class__(
    **{
        **XERO_PRODUCTION.__dict__,
        "client_id": "TESTONLY-client",
        "client_secret": "TESTONLY-secret",
        "redirect_uri": "https://care.example/connect/xero/callback",
    }
)


def test_authorization_url_asks_for_granular_scopes_with_pkce() -> None:
    auth = oauth.authorization(APP)
    url = urlsplit(auth.url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == APP.authorize_url
    assert query["response_type"] == "code"
    assert query["client_id"] == "TESTONLY-client"
    assert query["redirect_uri"] == APP.redirect_uri
    assert query["state"] == auth.state
    assert query["scope"].split() == [
        "offline_access",
        "accounting.invoices",
        "accounting.payments",
        "accounting.contacts.read",
        "accounting.settings.read",
        "openid",
        "profile",
        "email",
    ]
    assert "accounting.transactions" not in query["scope"]
    assert query["code_challenge_method"] == "S256"
    digest = hashlib.sha256(auth.code_verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert query["code_challenge"] == expected
    assert 43 <= len(auth.code_verifier) <= 128


def test_each_authorization_has_its_own_state_and_verifier() -> None:
    first, second = oauth.authorization(APP), oauth.authorization(APP)
    assert first.state != second.state
    assert first.code_verifier != second.code_verifier


def test_broad_scopes_for_older_apps() -> None:
    auth = oauth.authorization(APP, oauth.scopes_for(app_is_granular=False))
    scope = parse_qs(urlsplit(auth.url).query)["scope"][0].split()
    assert "accounting.transactions" in scope
    assert "accounting.invoices" not in scope


def test_state_must_match_exactly() -> None:
    assert oauth.state_matches("abc", "abc")
    assert not oauth.state_matches("abc", "abd")
    assert not oauth.state_matches("abc", None)
    assert not oauth.state_matches(None, None)


def test_unconfigured_app_is_refused() -> None:
    with pytest.raises(ValueError):
        oauth.authorization(XERO_PRODUCTION)


def test_choose_tenant() -> None:
    a = oauth.Connection("c1", "t-a", "ORGANISATION", "A Ltd")
    b = oauth.Connection("c2", "t-b", "ORGANISATION", "B Ltd")
    practice = oauth.Connection("c3", "t-p", "PRACTICE", "P")
    assert oauth.choose_tenant([a, practice]) == a
    assert oauth.choose_tenant([a, b], "t-b") == b
    with pytest.raises(oauth.TenantChoiceError) as many:
        oauth.choose_tenant([a, b])
    assert many.value.choices == (a, b)
    with pytest.raises(oauth.TenantChoiceError):
        oauth.choose_tenant([a], "t-z")
    with pytest.raises(oauth.TenantChoiceError):
        oauth.choose_tenant([practice])
