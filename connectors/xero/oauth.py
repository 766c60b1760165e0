"""Connecting a Xero organisation: OAuth 2.0 with PKCE, tenant choice, revocation.

Xero identity (login.xero.com / identity.xero.com) and the Identity API's
/Connections. The authorization code exchange goes through authlib (xero-python has
no helper for it); connections and revocation go through xero-python.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from xero_python.exceptions import ApiException
from xero_python.identity import IdentityApi

from app import clock as clock_mod
from app.config import LedgerApp
from connectors.base import TokenSet
from connectors.xero.client import (
    build_api_client,
    parse_body,
    token_api_class,
    token_set,
)
from connectors.xero.errors import XeroFixError, XeroReconnectError, classify

logger = logging.getLogger(__name__)

# NOTE: apps created on or after 2026-03-02 must ask for granular scopes; asking them
# for accounting.transactions fails with invalid_scope (developer.xero.com/faq/
# granular-scopes). Older apps may keep the broad ones until September 2027.
SCOPES = (
    "offline_access",
    "accounting.invoices",
    "accounting.payments",
    "accounting.contacts.read",
    "accounting.settings.read",
    "openid",
    "profile",
    "email",
)
BROAD_SCOPES = (
    "offline_access",
    "accounting.transactions",
    "accounting.contacts.read",
    "accounting.settings.read",
    "openid",
    "profile",
    "email",
)
_TIMEOUT = (5.0, 30.0)


@dataclass(frozen=True)
class Authorization:
    """What the connect step keeps in the user's session until the callback."""

    url: str
    state: str
    code_verifier: str


@dataclass(frozen=True)
class Connection:
    """One organisation the token may act for (an entry of /Connections)."""

    id: str  # the connection id, used to disconnect
    tenant_id: str
    tenant_type: str
    tenant_name: str | None = None


class TenantChoiceError(XeroFixError):
    """No organisation, or several and none chosen: ask the person which one."""

    def __init__(self, message: str, choices: tuple[Connection, ...]) -> None:
        super().__init__(message)
        self.choices = choices


def scopes_for(app_is_granular: bool = True) -> tuple[str, ...]:
    """The scopes to ask for: granular for new apps, broad for older ones."""
    return SCOPES if app_is_granular else BROAD_SCOPES


def _session(app: LedgerApp, scopes: tuple[str, ...] = SCOPES) -> OAuth2Session:
    if not (app.client_id and app.client_secret and app.redirect_uri):
        raise ValueError("the Xero app needs client_id, client_secret, redirect_uri")
    return OAuth2Session(
        app.client_id,
        app.client_secret,
        scope=" ".join(scopes),
        redirect_uri=app.redirect_uri,
        code_challenge_method="S256",
    )


def authorization(
    app: LedgerApp, scopes: tuple[str, ...] = SCOPES, *, nonce: str | None = None
) -> Authorization:
    """A consent URL with a fresh state and a PKCE S256 challenge; with `nonce`,
    Xero puts it in the id_token, tying that token to this sign-in."""
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)  # 86 chars, inside RFC 7636's 43..128
    extra = {"nonce": nonce} if nonce else {}
    with _session(app, scopes) as session:
        url, _ = session.create_authorization_url(
            app.authorize_url, state=state, code_verifier=verifier, **extra
        )
    return Authorization(url=url, state=state, code_verifier=verifier)


def state_matches(expected: str | None, received: str | None) -> bool:
    """True when the callback's state is the one this session started with."""
    if not expected or not received:
        return False
    return hmac.compare_digest(expected.encode(), received.encode())


def exchange_code(
    app: LedgerApp,
    code: str,
    code_verifier: str,
    *,
    clock: clock_mod.Clock | None = None,
) -> TokenSet:
    """Trade the callback's code for tokens (one try: codes are single-use)."""
    if not code:
        raise XeroFixError("the callback carried no authorization code")
    try:
        with _session(app) as session:
            data = session.fetch_token(
                app.token_url,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                timeout=_TIMEOUT,
            )
    except AuthlibBaseError as exc:
        # invalid_grant here: the code was spent, expired or not ours. Never retry it:
        # a replayed code makes some ledgers revoke the first exchange (case C03).
        raise XeroReconnectError(f"code exchange refused: {exc.error}") from exc
    except requests.RequestException as exc:
        raise XeroFixError(f"code exchange failed: {type(exc).__name__}") from exc
    now = (clock or clock_mod.get_clock()).now()
    logger.info("xero code exchanged")
    return token_set(dict(data), now)


def connections(app: LedgerApp, tokens: TokenSet) -> list[Connection]:
    """The organisations these tokens reach, from GET /Connections."""
    api = IdentityApi(_fixed_client(app, tokens), base_url=app.identity_base)
    try:
        response = api.get_connections(
            _preload_content=False, _request_timeout=_TIMEOUT
        )
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise classify(exc, what="connections") from exc
    return [
        Connection(
            id=str(c["id"]),
            tenant_id=str(c["tenantId"]),
            tenant_type=str(c.get("tenantType") or ""),
            tenant_name=c.get("tenantName"),
        )
        for c in parse_body(response) or []
    ]


def choose_tenant(found: list[Connection], tenant_id: str | None = None) -> Connection:
    """The organisation to sync: the one asked for, or the only one there is."""
    orgs = tuple(c for c in found if c.tenant_type in ("ORGANISATION", ""))
    if tenant_id:
        for c in orgs:
            if c.tenant_id == tenant_id:
                return c
        raise TenantChoiceError(f"tenant {tenant_id} is not connected", orgs)
    if len(orgs) == 1:
        return orgs[0]
    if not orgs:
        raise TenantChoiceError("the grant reaches no organisation", orgs)
    raise TenantChoiceError(f"{len(orgs)} organisations: choose one", orgs)


def disconnect(app: LedgerApp, tokens: TokenSet, connection_id: str) -> None:
    """Remove one tenant's connection (DELETE /Connections/{id})."""
    api = IdentityApi(_fixed_client(app, tokens), base_url=app.identity_base)
    try:
        api.delete_connection(connection_id, _request_timeout=_TIMEOUT)
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise classify(exc, what=f"disconnect connection={connection_id}") from exc


def revoke(app: LedgerApp, refresh_token: str) -> None:
    """Revoke the refresh token (and the grant's access tokens) at Xero."""
    api_client = build_api_client(app, lambda: {}, lambda _data: None)
    api = token_api_class(app)(api_client, app.client_id, app.client_secret)
    try:
        api.revoke_token(refresh_token)
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        error = classify(exc, what="revoke")
        if isinstance(error, XeroReconnectError):
            # An already-dead token needs no revoking.
            logger.info("xero revoke: token already invalid")
            return
        raise error from exc
    logger.info("xero tokens revoked")


def _fixed_client(app: LedgerApp, tokens: TokenSet) -> Any:
    def getter() -> dict[str, Any]:
        return {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "scope": list(tokens.scope),
            "expires_in": None,
            "token_type": "Bearer",
        }

    return build_api_client(app, getter, lambda _data: None)
