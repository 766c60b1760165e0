"""Intuit OAuth 2.0 against the sandbox, through intuit-oauth's AuthClient."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks.exceptions import AuthorizationException
from quickbooks.objects.invoice import Invoice

from tests.sandbox.quickbooks.conftest import DATA, REDIRECT


def _auth(sandbox, server, secret: str | None = None) -> AuthClient:
    return AuthClient(
        sandbox.client_id,
        secret or sandbox.client_secret,
        REDIRECT,
        environment=server.url + "/.well-known/openid_configuration",
    )


def _consent(auth: AuthClient, scopes=None) -> dict[str, str]:
    url = auth.get_authorization_url(
        scopes or [Scopes.ACCOUNTING], state_token="st-7c1e"
    )
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def test_discovery_document_has_intuits_keys_pointing_at_the_sandbox(server) -> None:
    intuit = json.loads((DATA / "oauth_discovery_production.json").read_text())

    ours = requests.get(
        server.url + "/.well-known/openid_configuration", timeout=5
    ).json()

    assert set(ours) == set(intuit)
    assert ours["token_endpoint"] == server.url + "/oauth2/v1/tokens/bearer"
    assert ours["revocation_endpoint"] == server.url + "/v2/oauth2/tokens/revoke"
    assert ours["scopes_supported"] == intuit["scopes_supported"]


def test_authorize_redirects_with_code_state_and_realm(
    sandbox, company, server
) -> None:
    params = _consent(_auth(sandbox, server))

    assert params["state"] == "st-7c1e"
    assert params["realmId"] == company
    assert params["code"].startswith("AB11")


def test_openid_only_consent_carries_no_realm(sandbox, company, server) -> None:
    params = _consent(_auth(sandbox, server), [Scopes.OPENID, Scopes.EMAIL])

    assert "realmId" not in params


def test_code_exchange_gives_tokens_and_the_api_answers(
    sandbox, company, server, connect
) -> None:
    auth = _auth(sandbox, server)
    params = _consent(auth)

    auth.get_bearer_token(params["code"], realm_id=params["realmId"])

    assert auth.expires_in == 3600
    assert auth.x_refresh_token_expires_in == 101 * 24 * 3600
    qb = connect(company, auth.refresh_token)
    assert len(Invoice.all(qb=qb)) == 3


def test_code_is_single_use_and_a_replay_kills_the_first_grant(
    sandbox, company, server
) -> None:
    auth = _auth(sandbox, server)
    code = _consent(auth)["code"]
    auth.get_bearer_token(code)
    first_refresh = auth.refresh_token

    with pytest.raises(AuthClientError) as caught:
        _auth(sandbox, server).get_bearer_token(code)

    assert caught.value.status_code == 400
    assert json.loads(caught.value.content) == {"error": "invalid_grant"}
    with pytest.raises(AuthClientError):
        _auth(sandbox, server).refresh(first_refresh)  # case C03: the grant is gone


def test_refresh_rotates_and_a_spent_token_is_invalid_grant(
    sandbox, company, server
) -> None:
    first = sandbox.issue_tokens(company)["refresh_token"]
    auth = _auth(sandbox, server)

    auth.refresh(first)
    second = auth.refresh_token
    with pytest.raises(AuthClientError) as caught:
        _auth(sandbox, server).refresh(first)

    assert second != first
    assert caught.value.status_code == 400
    assert caught.value.content == b'{"error": "invalid_grant"}'
    _auth(sandbox, server).refresh(second)  # the newest one still works
    assert sandbox.log.count("/tokens/bearer", grant_type="refresh_token") == 3


def test_wrong_client_secret_is_401_invalid_client(sandbox, company, server) -> None:
    refresh = sandbox.issue_tokens(company)["refresh_token"]

    with pytest.raises(AuthClientError) as caught:
        _auth(sandbox, server, secret="wrong").refresh(refresh)

    assert caught.value.status_code == 401
    assert json.loads(caught.value.content) == {"error": "invalid_client"}


def test_access_token_expires_after_3600_seconds_of_sandbox_time(
    sandbox, company, server, connect, clock
) -> None:
    qb = connect(company)
    assert len(Invoice.all(qb=qb)) == 3

    clock.advance(timedelta(seconds=3600))
    with pytest.raises(AuthorizationException) as caught:
        Invoice.all(qb=qb)

    assert caught.value.error_code == 401
    body = json.loads(caught.value.detail)
    assert body["fault"]["type"] == "AUTHENTICATION"
    assert body["fault"]["error"][0]["code"] == "3200"


def test_revoke_takes_json_and_ends_the_grant(
    sandbox, company, server, connect
) -> None:
    refresh = sandbox.issue_tokens(company)["refresh_token"]
    qb = connect(company, refresh)
    auth = qb.auth_client

    assert auth.revoke(token=auth.refresh_token) is True

    with pytest.raises(AuthorizationException):
        Invoice.all(qb=qb)
    with pytest.raises(AuthClientError):
        auth.refresh()


def test_revoked_fault_control_refuses_a_live_access_token(
    sandbox, company, server, connect
) -> None:
    qb = connect(company)
    sandbox.faults.revoked.add(qb.auth_client.access_token)

    with pytest.raises(AuthorizationException):
        Invoice.all(qb=qb)


def test_token_of_another_realm_is_refused(sandbox, company, server, connect) -> None:
    other = sandbox.add_company({"CompanyName": "Other Books"})
    qb = connect(other)
    qb.company_id = company

    with pytest.raises(Exception) as caught:  # 403: the SDK reads it as non-JSON fault
        Invoice.all(qb=qb)

    assert "ApplicationAuthorizationFailed" in str(caught.value)


def test_openid_scope_adds_a_verifiable_id_token_and_userinfo(
    sandbox, company, server
) -> None:
    import jwt

    auth = _auth(sandbox, server)
    code = _consent(auth, [Scopes.OPENID, Scopes.EMAIL, Scopes.ACCOUNTING])["code"]
    answer = requests.post(
        server.url + "/oauth2/v1/tokens/bearer",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
        },
        auth=(sandbox.client_id, sandbox.client_secret),
        timeout=5,
    ).json()
    keys = requests.get(server.url + "/op/v1/jwks", timeout=5).json()
    kid = jwt.get_unverified_header(answer["id_token"])["kid"]
    key = jwt.PyJWKSet.from_dict(keys)[kid].key

    claims = jwt.decode(
        answer["id_token"],
        key,
        algorithms=["RS256"],
        audience=sandbox.client_id,
        options={"verify_exp": False},  # issued on the simulated clock, in 2025
    )
    info = requests.get(
        server.url + "/v1/openid_connect/userinfo",
        headers={"Authorization": "Bearer " + answer["access_token"]},
        timeout=5,
    ).json()

    assert claims["realmid"] == company
    assert claims["iss"] == server.url + "/op/v1"
    assert info["emailVerified"] is True
