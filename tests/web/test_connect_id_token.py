"""Signing in through a ledger trusts nothing before its id_token verifies.

The real OAuth redirects against the in-process sandboxes (see test_connect.py); the
sandboxes sign as Intuit and Xero do, and a test spoils one thing at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt as pyjwt
import pytest
import requests
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa

from app.clock import SimulatedClock
from app.models import Creditor, LedgerConnection, User
from app.web import create_app
from connectors.sandbox.quickbooks import QuickBooksSandbox
from tests.web.conftest import count, sign_in
from tests.web.test_connect import REALM, consent, qbo_app, xero_app


def _company(sandbox: QuickBooksSandbox) -> None:
    sandbox.add_company(
        {"CompanyName": "Harbour Lights Catering", "Country": "US"},
        {"CurrencyPrefs": {"HomeCurrency": {"value": "USD"}}},
        REALM,
        timezone="America/Los_Angeles",
    )


@pytest.fixture
def qbo(clock: Any) -> Iterator[tuple[QuickBooksSandbox, str]]:
    sandbox = QuickBooksSandbox(clock=clock, seed=3)
    _company(sandbox)
    server = sandbox.start(webhooks_in_background=False)
    yield sandbox, server.url
    sandbox.stop()


@pytest.fixture
def wired(settings, sessions, jobs, qbo, clock) -> Any:
    from connectors.sandbox.xero.sandbox import XeroSandbox

    sandbox, url = qbo
    xero = XeroSandbox(clock=clock, seed=5)
    tenant = xero.add_organisation({"Name": "Kauri Joinery", "BaseCurrency": "NZD"})
    server = xero.start()
    configured = replace(
        settings, quickbooks=qbo_app(url, sandbox), xero=xero_app(server.url, xero)
    )
    app = create_app(configured, sessions=sessions, enqueue=jobs, testing=True)
    app.xero, app.xero_tenant = xero, tenant  # type: ignore[attr-defined]
    yield app
    server.stop()


def signed_in(client: Any) -> bool:
    return client.get("/dashboard").status_code == 200


def refused(response: Any) -> str:
    assert response.status_code == 400, response.status_code
    page = response.get_data(as_text=True)
    assert "could not verify the sign-in" in page
    return page


def nothing_stored(sessions: Any, world: Any) -> None:
    assert count(sessions, LedgerConnection, LedgerConnection.external_id == REALM) == 0
    assert count(sessions, Creditor) == 2  # world's two, no new one


def spoil(monkeypatch: Any, sandbox: QuickBooksSandbox, **changes: Any) -> None:
    """The sandbox signs id_tokens with `changes` made to their claims."""
    sign = sandbox.signer.sign

    def spoiled(claims: dict[str, Any]) -> str:
        return sign({**claims, **changes})

    monkeypatch.setattr(sandbox.signer, "sign", spoiled)


def test_launch_signs_in_when_the_id_token_verifies(wired, qbo, sessions) -> None:
    sandbox, _url = qbo
    client = wired.test_client()
    client.get("/launch/quickbooks")

    done = client.get(consent(client, "quickbooks"))

    assert done.status_code == 302 and done.location.endswith("/dashboard")
    assert signed_in(client)
    assert sandbox.log.count("/op/v1/jwks") == 1
    assert count(sessions, LedgerConnection, LedgerConnection.external_id == REALM) == 1


def test_a_forged_signature_signs_nobody_in(
    wired, qbo, sessions, world, monkeypatch
) -> None:
    sandbox, _url = qbo
    stray = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = sandbox.signer.kid

    def forged(claims: dict[str, Any]) -> str:
        return pyjwt.encode(claims, stray, algorithm="RS256", headers={"kid": kid})

    monkeypatch.setattr(sandbox.signer, "sign", forged)
    client = wired.test_client()

    page = refused(client.get(consent(client, "quickbooks")))

    assert "the signature does not match" in page
    assert "you are not signed in" in page
    assert not signed_in(client)
    nothing_stored(sessions, world)


def test_a_token_for_another_app_is_refused(
    wired, qbo, sessions, world, monkeypatch
) -> None:
    sandbox, _url = qbo
    spoil(monkeypatch, sandbox, aud=["someone-elses-app"])
    client = wired.test_client()

    page = refused(client.get(consent(client, "quickbooks")))

    assert "claim &#39;aud&#39;" in page
    assert not signed_in(client)
    nothing_stored(sessions, world)


def test_an_expired_token_is_refused(wired, settings, sessions, world) -> None:
    # A ledger whose clock runs two hours behind CARE's: its hour-long id_token
    # is already over when it arrives.
    from app import clock as clock_mod

    behind = SimulatedClock(clock_mod.now() - timedelta(hours=2))
    sandbox = QuickBooksSandbox(clock=behind, seed=4)
    _company(sandbox)
    server = sandbox.start(webhooks_in_background=False)
    try:
        app = create_app(
            replace(settings, quickbooks=qbo_app(server.url, sandbox)),
            sessions=sessions,
            testing=True,
        )
        client = app.test_client()

        page = refused(client.get(consent(client, "quickbooks")))
    finally:
        sandbox.stop()

    assert "the token has expired" in page
    assert not signed_in(client)
    nothing_stored(sessions, world)


def test_a_callback_naming_another_company_signs_nobody_in(
    wired, sessions, world
) -> None:
    # Consent given for one's own company, then the callback's realmId changed to
    # a company CARE already serves: before the id_token was checked, this signed
    # the person in as that creditor's admin.
    client = wired.test_client()
    callback = urlsplit(consent(client, "quickbooks"))
    query = {k: v[0] for k, v in parse_qs(callback.query).items()}
    query["realmId"] = world.a.external_id

    page = refused(client.get(f"{callback.path}?{urlencode(query)}"))

    assert "names another company" in page
    assert not signed_in(client)
    with sessions() as session:
        rows = session.scalars(
            sa.select(LedgerConnection).where(
                LedgerConnection.external_id == world.a.external_id
            )
        ).all()
        assert [r.creditor_id for r in rows] == [world.a.creditor_id]


def test_a_rotated_key_is_fetched_once(wired, qbo, sessions) -> None:
    sandbox, _url = qbo
    first = wired.test_client()
    first.get(consent(first, "quickbooks"))

    sandbox.rotate_signing_key()
    for _ in range(2):
        again = wired.test_client()
        done = again.get(consent(again, "quickbooks"))
        assert done.status_code == 302 and signed_in(again)

    assert sandbox.log.count("/op/v1/jwks") == 2


def test_an_admin_connecting_keeps_their_session_but_nothing_connects(
    wired, qbo, sessions, world, monkeypatch
) -> None:
    sandbox, _url = qbo
    spoil(monkeypatch, sandbox, iss="https://someone-else.example/op/v1")
    client = sign_in(wired.test_client(), world.a.admin)

    page = refused(client.get(consent(client, "quickbooks")))

    assert "Nothing was connected." in page
    assert signed_in(client)
    nothing_stored(sessions, world)


def test_xero_sign_up_takes_the_email_from_the_verified_token(wired, sessions) -> None:
    client = wired.test_client()
    client.get("/launch/xero")

    done = client.get(consent(client, "xero"))

    assert done.status_code == 302 and signed_in(client)
    with sessions() as session:
        row = session.scalar(
            sa.select(LedgerConnection).where(LedgerConnection.ledger == "xero")
        )
        assert row is not None and row.external_id == wired.xero_tenant
        admin = session.scalar(
            sa.select(User).where(User.creditor_id == row.creditor_id)
        )
        assert admin is not None
        assert admin.email == wired.xero.identity.user["email"]


def test_xero_token_with_another_sign_ins_nonce_is_refused(wired, sessions) -> None:
    client = wired.test_client()
    started = client.get("/connect/xero")
    authorize = urlsplit(started.location)
    query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert query["nonce"]
    query["nonce"] = "a-nonce-from-another-sign-in"
    answer = requests.get(
        f"{authorize.scheme}://{authorize.netloc}{authorize.path}?{urlencode(query)}",
        allow_redirects=False,
        timeout=10,
    )
    back = urlsplit(answer.headers["Location"])

    page = refused(client.get(f"{back.path}?{back.query}"))

    assert "nonce" in page
    assert count(sessions, LedgerConnection, LedgerConnection.ledger == "xero") == 0


def test_unreadable_keys_say_try_again_later(wired, sessions) -> None:
    settings = wired.extensions["care"].settings
    wired.extensions["care"].settings = replace(
        settings,
        xero=replace(settings.xero, discovery_url="http://127.0.0.1:9/.well-known/x"),
    )
    client = wired.test_client()

    response = client.get(consent(client, "xero"))

    assert response.status_code == 503
    assert "signing keys did not load" in response.get_data(as_text=True)
    assert count(sessions, LedgerConnection, LedgerConnection.ledger == "xero") == 0
