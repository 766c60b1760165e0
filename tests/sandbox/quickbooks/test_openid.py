"""The sandbox's Intuit id_tokens: RS256, keys at the discovery's jwks_uri, rotation."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import requests

from connectors.sandbox.quickbooks import QuickBooksSandbox
from tests.sandbox.quickbooks.conftest import REDIRECT


def _code(sandbox: QuickBooksSandbox, url: str, scope: str) -> str:
    answer = requests.get(
        url + "/connect/oauth2",
        params={
            "client_id": sandbox.client_id,
            "response_type": "code",
            "scope": scope,
            "redirect_uri": REDIRECT,
            "state": "st-openid",
        },
        allow_redirects=False,
        timeout=5,
    )
    return parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]


def _token(sandbox: QuickBooksSandbox, url: str, **form: str) -> dict[str, Any]:
    answer = requests.post(
        url + "/oauth2/v1/tokens/bearer",
        data={"redirect_uri": REDIRECT, **form},
        auth=(sandbox.client_id, sandbox.client_secret),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _exchange(sandbox: QuickBooksSandbox, url: str) -> dict[str, Any]:
    code = _code(sandbox, url, "com.intuit.quickbooks.accounting openid")
    return _token(sandbox, url, grant_type="authorization_code", code=code)


def _jwks(url: str) -> dict[str, Any]:
    discovery = requests.get(url + "/.well-known/openid_configuration", timeout=5)
    return dict(requests.get(discovery.json()["jwks_uri"], timeout=5).json())


def test_id_token_has_intuits_claims_and_verifies_by_its_kid(
    sandbox, company, server
) -> None:
    answer = _exchange(sandbox, server.url)

    header = jwt.get_unverified_header(answer["id_token"])
    key = jwt.PyJWKSet.from_dict(_jwks(server.url))[header["kid"]].key
    claims = jwt.decode(
        answer["id_token"],
        key,
        algorithms=["RS256"],
        audience=sandbox.client_id,
        options={"verify_exp": False},  # issued on the simulated clock, in 2025
    )

    assert header["alg"] == "RS256"
    assert set(claims) == {"sub", "aud", "realmid", "auth_time", "iss", "exp", "iat"}
    assert claims["aud"] == [sandbox.client_id]  # a list, as Intuit sends it
    assert claims["realmid"] == company
    assert claims["exp"] - claims["iat"] == 3600


def test_refresh_answers_without_an_id_token(sandbox, company, server) -> None:
    first = _exchange(sandbox, server.url)

    refreshed = _token(
        sandbox,
        server.url,
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
    )

    assert "id_token" in first
    assert "id_token" not in refreshed and refreshed["access_token"]


def test_no_id_token_without_the_openid_scope(sandbox, company, server) -> None:
    code = _code(sandbox, server.url, "com.intuit.quickbooks.accounting")

    answer = _token(sandbox, server.url, grant_type="authorization_code", code=code)

    assert "id_token" not in answer


def test_a_rotated_key_signs_and_the_old_one_stays_published(
    sandbox, company, server
) -> None:
    before = jwt.get_unverified_header(_exchange(sandbox, server.url)["id_token"])

    new_kid = sandbox.rotate_signing_key()
    after = jwt.get_unverified_header(_exchange(sandbox, server.url)["id_token"])

    published = [key["kid"] for key in _jwks(server.url)["keys"]]
    assert after["kid"] == new_kid != before["kid"]
    assert published == [new_kid, before["kid"]]


def test_signing_keys_survive_a_dump_and_restore(sandbox, company, clock) -> None:
    first = sandbox.signer.kid
    sandbox.rotate_signing_key()

    restored = QuickBooksSandbox.restore(sandbox.dump(), clock=clock)

    assert restored.jwks() == sandbox.jwks()
    assert [key["kid"] for key in restored.jwks()["keys"]][1] == first
