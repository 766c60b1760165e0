"""Xero identity in the sandbox: authorize, code exchange (PKCE), refresh rotation,
the reuse grace option, id_token, revocation and connections."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from app.clock import SimulatedClock
from connectors.sandbox.xero import XeroSandbox
from tests.sandbox.xero.conftest import ORG_ID, data_json

REDIRECT = "http://127.0.0.1:5000/connect/xero/callback"
SCOPE = (
    "openid profile email offline_access accounting.transactions accounting.settings"
)


def _authorize(client: Any, **extra: str) -> dict[str, list[str]]:
    params = {
        "response_type": "code",
        "client_id": "care-sandbox-xero",
        "redirect_uri": REDIRECT,
        "scope": SCOPE,
        "state": "st-7c1e",
        **extra,
    }
    response = client.get("/identity/connect/authorize", query_string=params)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return parse_qs(location.query)


def _exchange(client: Any, code: str, **extra: str) -> Any:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    form.update(extra)
    return client.post(
        "/connect/token",
        data=form,
        auth=("care-sandbox-xero", "care-sandbox-xero-secret"),
    )


def _refresh(client: Any, refresh_token: str) -> Any:
    # The SDK's way: client credentials in the body, scope sent along.
    return client.post(
        "/connect/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "scope": SCOPE,
            "client_id": "care-sandbox-xero",
            "client_secret": "care-sandbox-xero-secret",
        },
    )


def test_authorize_redirects_with_code_and_state(sandbox: XeroSandbox) -> None:
    query = _authorize(sandbox.app.test_client())

    assert query["state"] == ["st-7c1e"]
    assert len(query["code"][0]) >= 32


def test_code_exchange_gives_thirty_minute_tokens(sandbox: XeroSandbox) -> None:
    client = sandbox.app.test_client()
    code = _authorize(client)["code"][0]

    reply = _exchange(client, code).get_json()

    assert reply["expires_in"] == 1800
    assert reply["token_type"] == "Bearer"
    assert reply["scope"] == SCOPE
    assert {"access_token", "refresh_token", "id_token"} <= set(reply)
    assert sandbox.log.count("/connect/token", grant_type="authorization_code") == 1


def test_a_code_is_single_use(sandbox: XeroSandbox) -> None:
    client = sandbox.app.test_client()
    code = _authorize(client)["code"][0]
    assert _exchange(client, code).status_code == 200

    again = _exchange(client, code)

    assert again.status_code == 400
    assert again.get_json() == {"error": "invalid_grant"}


def test_a_code_lives_five_minutes(sandbox: XeroSandbox, clock: SimulatedClock) -> None:
    client = sandbox.app.test_client()
    code = _authorize(client)["code"][0]

    clock.advance(timedelta(minutes=5, seconds=1))

    assert _exchange(client, code).get_json() == {"error": "invalid_grant"}


def test_pkce_s256_is_checked(sandbox: XeroSandbox) -> None:
    client = sandbox.app.test_client()
    verifier = "x" * 43 + "-pkce-verifier"
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    codes = [
        _authorize(client, code_challenge=challenge, code_challenge_method="S256")[
            "code"
        ][0]
        for _ in range(3)
    ]

    missing = _exchange(client, codes[0])
    wrong = _exchange(client, codes[1], code_verifier="not-the-verifier")
    # A public client (no secret) proves itself with the verifier alone.
    right = client.post(
        "/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": codes[2],
            "redirect_uri": REDIRECT,
            "client_id": "care-sandbox-xero",
            "code_verifier": verifier,
        },
    )

    assert missing.get_json() == {"error": "invalid_grant"}
    assert wrong.get_json() == {"error": "invalid_grant"}
    assert right.status_code == 200


def test_unregistered_redirect_uri_is_not_followed(sandbox: XeroSandbox) -> None:
    response = sandbox.app.test_client().get(
        "/identity/connect/authorize",
        query_string={
            "response_type": "code",
            "client_id": "care-sandbox-xero",
            "redirect_uri": "https://attacker.example/cb",
            "scope": SCOPE,
        },
    )

    assert response.status_code == 400
    assert "Location" not in response.headers


def test_wrong_client_secret_is_invalid_client(sandbox: XeroSandbox) -> None:
    client = sandbox.app.test_client()
    code = _authorize(client)["code"][0]

    response = client.post(
        "/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
        },
        auth=("care-sandbox-xero", "wrong"),
    )

    assert (response.status_code, response.get_json()) == (
        400,
        {"error": "invalid_client"},
    )


def test_refresh_tokens_rotate_and_are_single_use(sandbox: XeroSandbox) -> None:
    client = sandbox.app.test_client()
    first = sandbox.issue_tokens()

    second = _refresh(client, first["refresh_token"]).get_json()
    reused = _refresh(client, first["refresh_token"])
    third = _refresh(client, second["refresh_token"]).get_json()

    assert second["refresh_token"] != first["refresh_token"]
    assert (reused.status_code, reused.get_json()) == (400, {"error": "invalid_grant"})
    assert third["refresh_token"] not in (
        first["refresh_token"],
        second["refresh_token"],
    )
    assert sandbox.log.count("/connect/token", grant_type="refresh_token") == 3


def test_reuse_grace_returns_the_same_tokens_for_thirty_minutes(
    make_sandbox: Any, clock: SimulatedClock
) -> None:
    sandbox: XeroSandbox = make_sandbox(refresh_grace=True)
    sandbox.add_organisation({"Name": "Kiwi Tiles"}, ORG_ID)
    client = sandbox.app.test_client()
    first = sandbox.issue_tokens()
    second = _refresh(client, first["refresh_token"]).get_json()

    clock.advance(timedelta(minutes=29))
    within = _refresh(client, first["refresh_token"]).get_json()
    clock.advance(timedelta(minutes=2))
    after = _refresh(client, first["refresh_token"])

    assert within == second
    assert after.get_json() == {"error": "invalid_grant"}


def test_refresh_token_expires_after_sixty_days(
    sandbox: XeroSandbox, clock: SimulatedClock
) -> None:
    first = sandbox.issue_tokens()

    clock.advance(timedelta(days=60, seconds=1))

    response = _refresh(sandbox.app.test_client(), first["refresh_token"])
    assert response.get_json() == {"error": "invalid_grant"}


def test_no_refresh_token_without_offline_access(sandbox: XeroSandbox) -> None:
    reply = sandbox.issue_tokens(scope=["accounting.transactions"])

    assert "refresh_token" not in reply
    assert "id_token" not in reply


def test_id_token_verifies_with_the_published_keys(make_sandbox: Any) -> None:
    sandbox: XeroSandbox = make_sandbox()
    sandbox.add_organisation({"Name": "Kiwi Tiles"}, ORG_ID)
    server = sandbox.start()
    # A real OAuth client over HTTP: authlib with PKCE, as CARE's web app may use.
    session = OAuth2Session(
        "care-sandbox-xero",
        "care-sandbox-xero-secret",
        scope=SCOPE,
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
    )
    verifier = "v" * 64
    url, state = session.create_authorization_url(
        f"{server.url}/identity/connect/authorize",
        code_verifier=verifier,
        nonce="n-0S6",
    )
    landing = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    token = session.fetch_token(
        f"{server.url}/connect/token",
        authorization_response=landing,
        code_verifier=verifier,
    )

    discovery = requests.get(
        f"{server.url}/.well-known/openid-configuration", timeout=5
    )
    keys = jwt.PyJWKClient(discovery.json()["jwks_uri"])
    signing_key = keys.get_signing_key_from_jwt(token["id_token"])
    claims = jwt.decode(
        token["id_token"],
        signing_key.key,
        algorithms=["RS256"],
        audience="care-sandbox-xero",
        issuer=server.url,
        options={"verify_exp": False},  # exp follows the simulated clock, not the wall
    )
    assert claims["nonce"] == "n-0S6"
    assert claims["email"] == "owner@care-sandbox.example"
    assert claims["xero_userid"] == sandbox.identity.user["xero_userid"]
    assert token["expires_in"] == 1800


def test_connections_answer_in_both_spellings(
    sandbox: XeroSandbox, headers: dict
) -> None:
    client = sandbox.app.test_client()
    auth = {"Authorization": headers["Authorization"]}

    lower = client.get("/connections", headers=auth).get_json()
    upper = client.get("/Connections", headers=auth).get_json()

    assert lower == upper
    (row,) = lower
    assert list(row) == [
        "id",
        "authEventId",
        "tenantId",
        "tenantType",
        "tenantName",
        "createdDateUtc",
        "updatedDateUtc",
    ]
    assert (row["tenantId"], row["tenantType"], row["tenantName"]) == (
        ORG_ID,
        "ORGANISATION",
        "Demo Company (NZ)",
    )


def test_deleting_a_connection_makes_the_tenant_forbidden(
    sandbox: XeroSandbox, headers: dict
) -> None:
    client = sandbox.app.test_client()
    auth = {"Authorization": headers["Authorization"]}
    (row,) = client.get("/connections", headers=auth).get_json()

    deleted = client.delete(f"/connections/{row['id']}", headers=auth)
    after = client.get("/api.xro/2.0/Organisation", headers=headers)

    assert deleted.status_code == 204
    assert client.get("/connections", headers=auth).get_json() == []
    assert after.status_code == 403
    body = after.get_json()
    assert (body["Title"], body["Detail"]) == (
        "Forbidden",
        "AuthenticationUnsuccessful",
    )


def test_revocation_ends_the_grant_and_its_connections(
    sandbox: XeroSandbox, tokens: dict, headers: dict
) -> None:
    client = sandbox.app.test_client()

    revoked = client.post(
        "/connect/revocation",
        data={"token": tokens["refresh_token"]},
        auth=("care-sandbox-xero", "care-sandbox-xero-secret"),
    )

    assert revoked.status_code == 200
    assert client.get("/api.xro/2.0/Organisation", headers=headers).status_code == 401
    assert _refresh(client, tokens["refresh_token"]).get_json() == {
        "error": "invalid_grant"
    }
    assert sandbox.identity.connections == {}


def test_expired_token_answers_xeros_401_body(
    sandbox: XeroSandbox, headers: dict, clock: SimulatedClock
) -> None:
    clock.advance(timedelta(minutes=30))

    response = sandbox.app.test_client().get(
        "/api.xro/2.0/Organisation", headers=headers
    )

    assert response.status_code == 401
    body = response.get_json()
    assert body["Title"] == "Unauthorized"
    # Issued at 12:00:00 on 2025-05-01 by the test clock; 30 minutes later.
    assert body["Detail"] == "TokenExpired: token expired at 05/01/2025 12:30:00"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"xero-tenant-id": ""}, 403),
        ({"xero-tenant-id": "00000000-0000-0000-0000-000000000000"}, 403),
        ({"Authorization": "Bearer not-a-token"}, 401),
        ({"Authorization": ""}, 401),
    ],
)
def test_calls_without_a_usable_token_or_tenant_are_refused(
    sandbox: XeroSandbox, headers: dict, change: dict, status: int
) -> None:
    response = sandbox.app.test_client().get(
        "/api.xro/2.0/Invoices", headers={**headers, **change}
    )

    assert response.status_code == status


def test_a_revoked_token_fault_answers_401(sandbox: XeroSandbox, headers: dict) -> None:
    sandbox.faults.revoked.add(headers["Authorization"].removeprefix("Bearer "))

    response = sandbox.app.test_client().get("/api.xro/2.0/Invoices", headers=headers)

    assert response.status_code == 401


def test_a_token_without_the_scope_is_unauthorized(sandbox: XeroSandbox) -> None:
    reply = sandbox.issue_tokens(scope=["offline_access", "accounting.contacts.read"])
    headers = {
        "Authorization": f"Bearer {reply['access_token']}",
        "xero-tenant-id": ORG_ID,
    }
    client = sandbox.app.test_client()

    read = client.get("/api.xro/2.0/Contacts", headers=headers)
    write = client.put("/api.xro/2.0/Contacts", json={"Name": "X"}, headers=headers)
    invoices = client.get("/api.xro/2.0/Invoices", headers=headers)

    assert read.status_code == 200
    assert (write.status_code, write.get_json()["Detail"]) == (
        401,
        "AuthorizationUnsuccessful",
    )
    assert invoices.status_code == 401


def test_token_reply_matches_the_recorded_shape(sandbox: XeroSandbox) -> None:
    recorded = data_json("token_refresh_response.json")

    reply = _refresh(sandbox.app.test_client(), sandbox.issue_tokens()["refresh_token"])

    assert list(reply.get_json()) == list(recorded)
