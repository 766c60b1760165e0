"""The sandbox's Xero id_tokens: claims as Xero's, keys at the jwks_uri, rotation."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import jwt

from connectors.sandbox.xero import XeroSandbox

OPENID = ["openid", "profile", "email", "offline_access", "accounting.settings"]


def _claims(token: str, jwks: dict[str, Any], audience: str) -> dict[str, Any]:
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid].key
    return dict(
        jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=audience,
            options={"verify_exp": False},  # the simulated clock, not the wall
        )
    )


def test_id_token_carries_xeros_claims_and_an_at_hash(sandbox: XeroSandbox) -> None:
    reply = sandbox.issue_tokens(scope=OPENID)

    claims = _claims(reply["id_token"], sandbox.identity.jwks(), "care-sandbox-xero")

    digest = hashlib.sha256(reply["access_token"].encode()).digest()[:16]
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert claims["aud"] == "care-sandbox-xero"  # a string, as Xero sends it
    assert claims["iss"] == "https://identity.xero.com"
    assert claims["exp"] - claims["iat"] == 300
    for name in ("sub", "sid", "auth_time", "xero_userid", "global_session_id"):
        assert claims[name]
    assert claims["email"] == "owner@care-sandbox.example"


def test_discovery_names_the_jwks_and_the_claims(make_sandbox: Any) -> None:
    sandbox: XeroSandbox = make_sandbox()
    client = sandbox.app.test_client()

    document = client.get("/.well-known/openid-configuration").get_json()
    keys = client.get(document["jwks_uri"].removeprefix("http://localhost")).get_json()

    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"sub", "nonce", "xero_userid", "email"} <= set(document["claims_supported"])
    assert keys == sandbox.identity.jwks()


def test_a_rotated_key_has_a_new_kid_and_signs_from_then_on(
    sandbox: XeroSandbox,
) -> None:
    before = jwt.get_unverified_header(sandbox.issue_tokens(scope=OPENID)["id_token"])

    new_kid = sandbox.identity.rotate_key()
    after = sandbox.issue_tokens(scope=OPENID)["id_token"]

    assert jwt.get_unverified_header(after)["kid"] == new_kid != before["kid"]
    assert _claims(after, sandbox.identity.jwks(), "care-sandbox-xero")["sub"]
