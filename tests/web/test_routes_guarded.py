"""Every state-changing route has a CSRF check and a role check, and a test of both.

The list below names each POST route with the form it needs; a route in the app's
url_map that is missing here fails the suite, so a new route cannot ship untested.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.web.security import EVERYONE
from tests.web.conftest import PASSWORD, choose_creditor, csrf_token, sign_in

# endpoint -> the form a real submission carries (ids are filled in per test).
POST_ROUTES: dict[str, dict[str, str]] = {
    "auth.logout": {},
    "connect.disconnect": {},
    "connect.sync_now": {},
    "invoices.refer": {},
    "invoices.bulk_refer": {},
    "invoices.deep_link": {},
    "invoices.approve": {},
    "cases.log_call": {"outcome": "voicemail", "note": "left a message"},
    "cases.promise": {"promise_amount": "100", "promise_due": "2025-05-20"},
    "cases.plan": {"instalments": "2025-05-20 410.00"},
    "cases.dispute": {"reason": "goods not delivered"},
    "cases.resolve_dispute": {"resolution": "debt_stands", "note": "proof given"},
    "cases.withdraw": {"why": "settled directly"},
    "cases.escalate": {"why": "no answer"},
    "cases.note": {"text": "called twice"},
    "rules.save": {"window_start_days": "30", "window_end_days": "120"},
    "rules.preview": {"window_start_days": "30", "window_end_days": "120"},
    "settings.save": {
        "locale": "en_US",
        "timezone": "America/New_York",
        "fee_percent": "1",
    },
    "admin.choose": {},
    "admin.create_user": {"email": "new@care.example", "role": "representative"},
    "admin.deactivate": {},
}
# Signed, not cookie-authenticated: CSRF does not apply; the HMAC test covers them.
# The opt-out routes are signed too (a SECRET_KEY token, Twilio's signature):
# tests/web/test_optout.py checks that a forged one changes nothing.
PUBLIC_POSTS = {
    "webhooks.quickbooks",
    "webhooks.xero",
    "auth.login",
    "optout.unsubscribe",
    "optout.twilio_inbound",
}


def _post_rules(app: Any) -> dict[str, Any]:
    return {
        rule.endpoint: rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.endpoint != "static"
    }


def test_every_post_route_is_listed_here(app) -> None:
    found = set(_post_rules(app))
    assert found - PUBLIC_POSTS == set(POST_ROUTES), (
        "add each new POST route to POST_ROUTES with its form"
    )


def test_every_post_route_declares_roles_or_is_public(app) -> None:
    for endpoint in _post_rules(app):
        view = app.view_functions[endpoint]
        roles = getattr(view, "care_roles", None)
        public = getattr(view, "care_public", False)
        assert roles or (public and endpoint in PUBLIC_POSTS), endpoint


def _url(rule: Any, world: Any) -> str:
    values = {
        "case_id": world.a.case_id,
        "invoice_id": world.a.invoice_ids[0],
        "connection_id": world.a.connection_id,
        "user_id": world.rep_id,
        "ledger": "quickbooks",
        "external_id": world.a.external_id,
        "ledger_invoice_id": "0",
    }
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<int:{name}>", str(values[name])).replace(
            f"<{name}>", str(values[name])
        )
    return path


def _client_for(app: Any, world: Any, role: str) -> Any:
    email = {
        "creditor_admin": world.a.admin,
        "creditor_viewer": world.a.viewer,
        "representative": world.rep,
        "program_admin": world.program,
    }[role]
    client = sign_in(app.test_client(), email, PASSWORD)
    if role in ("representative", "program_admin"):
        choose_creditor(client, world.a.creditor_id)
    return client


def _allowed(app: Any, endpoint: str) -> tuple[str, ...]:
    view = app.view_functions[endpoint]
    return getattr(view, "care_post_roles", None) or view.care_roles


@pytest.mark.parametrize("endpoint", sorted(POST_ROUTES))
def test_post_without_csrf_token_is_refused(app, world, endpoint) -> None:
    rule = _post_rules(app)[endpoint]
    role = _allowed(app, endpoint)[0]
    client = _client_for(app, world, role)
    response = client.post(_url(rule, world), data=POST_ROUTES[endpoint])
    assert response.status_code == 400
    assert "The CSRF token is missing" in response.get_data(as_text=True)


@pytest.mark.parametrize("endpoint", sorted(POST_ROUTES))
def test_post_by_a_role_without_the_right_is_forbidden(app, world, endpoint) -> None:
    rule = _post_rules(app)[endpoint]
    refused = [r for r in EVERYONE if r not in _allowed(app, endpoint)]
    for role in refused:
        client = _client_for(app, world, role)
        token = csrf_token(client, "/login")
        response = client.post(
            _url(rule, world), data={**POST_ROUTES[endpoint], "csrf_token": token}
        )
        assert response.status_code == 403, (endpoint, role, response.status_code)


@pytest.mark.parametrize("endpoint", sorted(POST_ROUTES))
def test_post_by_an_allowed_role_passes_both_checks(app, world, endpoint) -> None:
    rule = _post_rules(app)[endpoint]
    for role in _allowed(app, endpoint):
        client = _client_for(app, world, role)
        token = csrf_token(client, "/login")
        response = client.post(
            _url(rule, world), data={**POST_ROUTES[endpoint], "csrf_token": token}
        )
        body = response.get_data(as_text=True)
        assert response.status_code != 403, (endpoint, role)
        assert "The CSRF token" not in body, (endpoint, role)


@pytest.mark.parametrize("endpoint", sorted(POST_ROUTES))
def test_post_when_signed_out_goes_to_sign_in(app, world, endpoint) -> None:
    rule = _post_rules(app)[endpoint]
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        _url(rule, world), data={**POST_ROUTES[endpoint], "csrf_token": token}
    )
    assert response.status_code == 302 and "/login" in response.location


def test_session_cookie_is_httponly_and_lax(app, world) -> None:
    client = app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"email": world.a.admin, "password": PASSWORD, "csrf_token": token},
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # Served on http://127.0.0.1 in development, so not Secure here ...
    assert "Secure" not in cookie


def test_session_cookie_is_secure_off_localhost(
    settings, sessions, jobs, clock
) -> None:
    from dataclasses import replace

    from app.web import create_app

    app = create_app(
        replace(settings, base_url="https://care.example"),
        sessions=sessions,
        enqueue=jobs,
        testing=True,
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
