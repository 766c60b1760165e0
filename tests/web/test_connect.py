"""Connecting ledgers through the real OAuth flows against the in-process sandboxes.

The browser's part (follow the consent redirect) is done with `requests` against the
sandbox on its free port; the callback goes back through the Flask test client.
Shared case C03: a repeated callback never exchanges its code a second time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from app.config import LedgerApp, Settings
from app.models import Creditor, LedgerConnection, OAuthState, User
from app.web import create_app
from connectors.sandbox.quickbooks import QuickBooksSandbox
from connectors.sandbox.quickbooks.sandbox import DEFAULT_REDIRECT
from connectors.sandbox.xero.sandbox import DEFAULT_REDIRECT_URIS, XeroSandbox
from tests.web.conftest import count, sign_in

REALM = "9130354426181920"


@pytest.fixture
def qbo(clock: Any) -> Iterator[tuple[QuickBooksSandbox, str]]:
    sandbox = QuickBooksSandbox(clock=clock, seed=3)
    sandbox.add_company(
        {"CompanyName": "Harbour Lights Catering", "Country": "US"},
        {"CurrencyPrefs": {"HomeCurrency": {"value": "USD"}}},
        REALM,
        timezone="America/Los_Angeles",
    )
    server = sandbox.start(webhooks_in_background=False)
    yield sandbox, server.url
    sandbox.stop()


@pytest.fixture
def xero(clock: Any) -> Iterator[tuple[XeroSandbox, str, str]]:
    sandbox = XeroSandbox(clock=clock, seed=5)
    tenant = sandbox.add_organisation(
        {
            "Name": "Kauri Joinery",
            "BaseCurrency": "NZD",
            "Timezone": "NEWZEALANDSTANDARDTIME",
        }
    )
    server = sandbox.start()
    yield sandbox, server.url, tenant
    server.stop()


def qbo_app(url: str, sandbox: QuickBooksSandbox) -> LedgerApp:
    return LedgerApp(
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        redirect_uri=DEFAULT_REDIRECT,
        discovery_url=f"{url}/.well-known/openid_configuration",
        api_base=f"{url}/v3",
        webhook_key=sandbox.verifier_token,
    )


def xero_app(url: str, sandbox: XeroSandbox) -> LedgerApp:
    return LedgerApp(
        client_id=sandbox.client.client_id,
        client_secret=sandbox.client.client_secret,
        redirect_uri=DEFAULT_REDIRECT_URIS[0],
        authorize_url=f"{url}/identity/connect/authorize",
        token_url=f"{url}/connect/token",
        revoke_url=f"{url}/connect/revocation",
        identity_base=url,
        api_base=f"{url}/api.xro/2.0",
    )


@pytest.fixture
def wired(settings: Settings, sessions, jobs, qbo, xero, clock) -> Any:
    sandbox, url = qbo
    xsandbox, xurl, _tenant = xero
    configured = replace(
        settings, quickbooks=qbo_app(url, sandbox), xero=xero_app(xurl, xsandbox)
    )
    return create_app(configured, sessions=sessions, enqueue=jobs, testing=True)


def consent(client: Any, ledger: str) -> str:
    """Start the connection and let the sandbox consent; the callback path to hit."""
    started = client.get(f"/connect/{ledger}")
    assert started.status_code == 302, started.get_data(as_text=True)
    answer = requests.get(started.location, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == f"/connect/{ledger}/callback"
    return f"{back.path}?{back.query}"


def test_c03_repeated_callback_exchanges_the_code_once(
    wired, qbo, jobs, sessions, world
) -> None:
    sandbox, _url = qbo
    client = sign_in(wired.test_client(), world.a.admin)
    callback = consent(client, "quickbooks")
    assert parse_qs(urlsplit(callback).query)["realmId"] == [REALM]

    first = client.get(callback)
    second = client.get(callback)

    assert first.status_code == 302 and first.location.endswith("/dashboard")
    assert second.status_code == 302 and second.location.endswith("/dashboard")
    assert sandbox.log.count("/oauth2/v1/tokens", grant_type="authorization_code") == 1
    with sessions() as session:
        row = session.scalar(
            sa.select(LedgerConnection).where(LedgerConnection.external_id == REALM)
        )
        assert row is not None and row.creditor_id == world.a.creditor_id
        assert row.status == "connected"
        grant = next(g for g in sandbox.grants() if g.realm_id == REALM)
        # The stored tokens are the first exchange's and still work at the ledger.
        assert row.refresh_token == grant.refresh_token and not grant.revoked
        live, why = sandbox.tokens.check_access(row.access_token or "", clock_now())
        assert live is not None, why
    assert jobs.syncs == [(row.id, True)]


def clock_now() -> Any:
    from app import clock

    return clock.now()


def test_callback_with_unknown_state_is_refused_without_a_token_call(
    wired, qbo, world
) -> None:
    sandbox, _url = qbo
    client = sign_in(wired.test_client(), world.a.admin)
    callback = consent(client, "quickbooks")
    forged = callback.replace("state=", "state=x")
    response = client.get(forged)
    assert response.status_code == 400
    assert sandbox.log.count("/oauth2/v1/tokens") == 0


def test_callback_in_another_browser_is_refused(wired, qbo, world, sessions) -> None:
    sandbox, _url = qbo
    starter = sign_in(wired.test_client(), world.a.admin)
    callback = consent(starter, "quickbooks")
    victim = sign_in(wired.test_client(), world.b.admin)
    response = victim.get(callback)
    assert response.status_code == 400
    assert sandbox.log.count("/oauth2/v1/tokens") == 0
    assert count(sessions, LedgerConnection, LedgerConnection.external_id == REALM) == 0


def test_state_is_single_use_and_stored(wired, world, sessions) -> None:
    client = sign_in(wired.test_client(), world.a.admin)
    consent(client, "quickbooks")
    with sessions() as session:
        state = session.scalar(sa.select(OAuthState))
        assert state is not None and state.used_at is None
        assert state.creditor_id == world.a.creditor_id


def test_marketplace_launch_signs_up_a_new_creditor(
    wired, qbo, jobs, sessions, world
) -> None:
    client = wired.test_client()
    launched = client.get("/launch/quickbooks")
    assert launched.status_code == 302 and launched.location.endswith(
        "/connect/quickbooks"
    )
    callback = consent(client, "quickbooks")
    done = client.get(callback)
    assert done.status_code == 302 and done.location.endswith("/dashboard")
    page = client.get("/dashboard")
    assert page.status_code == 200
    with sessions() as session:
        connection = session.scalar(
            sa.select(LedgerConnection).where(LedgerConnection.external_id == REALM)
        )
        assert connection is not None
        assert connection.creditor_id not in (world.a.creditor_id, world.b.creditor_id)
        admin = session.scalar(
            sa.select(User).where(User.creditor_id == connection.creditor_id)
        )
        assert admin is not None and admin.role == "creditor_admin"
        assert session.get(Creditor, connection.creditor_id) is not None

    # Signing in again through the ledger lands in the same creditor, no new one.
    other = wired.test_client()
    other.get(consent(other, "quickbooks"))
    assert count(sessions, Creditor) == 3
    assert count(sessions, LedgerConnection, LedgerConnection.external_id == REALM) == 1


def test_xero_connect_with_pkce_stores_the_tenant(
    wired, xero, jobs, sessions, world
) -> None:
    sandbox, _url, tenant = xero
    client = sign_in(wired.test_client(), world.a.admin)
    callback = consent(client, "xero")
    assert client.get(callback).status_code == 302
    assert client.get(callback).status_code == 302  # replay: already connected
    assert sandbox.log.count("/connect/token", grant_type="authorization_code") == 1
    with sessions() as session:
        row = session.scalar(
            sa.select(LedgerConnection).where(LedgerConnection.ledger == "xero")
        )
        assert row is not None
        assert (row.external_id, row.company_name) == (tenant, "Kauri Joinery")
        assert row.creditor_id == world.a.creditor_id
    assert jobs.syncs == [(row.id, True)]


def test_viewer_cannot_start_a_connection(wired, world) -> None:
    client = sign_in(wired.test_client(), world.a.viewer)
    assert client.get("/connect/quickbooks").status_code == 403


def test_disconnect_revokes_at_the_ledger(wired, qbo, sessions, world) -> None:
    sandbox, _url = qbo
    client = sign_in(wired.test_client(), world.a.admin)
    client.get(consent(client, "quickbooks"))
    with sessions() as session:
        connection_id = session.scalar(
            sa.select(LedgerConnection.id).where(LedgerConnection.external_id == REALM)
        )
    from tests.web.conftest import csrf_token

    token = csrf_token(client, "/connections")
    response = client.post(
        f"/connections/{connection_id}/disconnect",
        data={"csrf_token": token, "confirm": "yes"},
    )
    assert response.status_code == 302
    grant = next(g for g in sandbox.grants() if g.realm_id == REALM)
    assert grant.revoked
    with sessions() as session:
        row = session.get(LedgerConnection, connection_id)
        assert row is not None and row.status == "disconnected"
        assert row.refresh_token is None and row.access_token is None


def test_reconnect_prompt_shows_for_a_connection_that_needs_it(
    app, world, sessions
) -> None:
    with sessions.begin() as session:
        row = session.get(LedgerConnection, world.a.connection_id)
        row.status = "needs_reconnect"
        row.status_reason = "refresh token expired"
    client = sign_in(app.test_client(), world.a.admin)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "needs you" in page and "/connect/quickbooks" in page


def test_c03_callbacks_racing_in_parallel_exchange_once(
    wired, qbo, jobs, world
) -> None:
    import threading

    sandbox, _url = qbo
    first = sign_in(wired.test_client(), world.a.admin)
    callback = consent(first, "quickbooks")
    twin = wired.test_client()
    cookie = first.get_cookie("care_session")
    assert cookie is not None
    twin.set_cookie("care_session", cookie.value, domain=cookie.domain)

    answers: list[int] = []
    barrier = threading.Barrier(2)

    def hit(client: Any) -> None:
        barrier.wait()
        answers.append(client.get(callback).status_code)

    threads = [threading.Thread(target=hit, args=(c,)) for c in (first, twin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [302, 302]
    assert sandbox.log.count("/oauth2/v1/tokens", grant_type="authorization_code") == 1
    assert len(jobs.syncs) == 1


def test_disconnect_needs_its_confirmation(app, world, sessions) -> None:
    from tests.web.conftest import csrf_token

    client = sign_in(app.test_client(), world.a.admin)
    token = csrf_token(client, "/connections")
    response = client.post(
        f"/connections/{world.a.connection_id}/disconnect", data={"csrf_token": token}
    )
    assert response.status_code == 302
    with sessions() as session:
        assert (
            session.get(LedgerConnection, world.a.connection_id).status == "connected"
        )
