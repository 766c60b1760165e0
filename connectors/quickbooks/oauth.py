"""Connecting a QuickBooks Online company: OAuth 2.0 through intuit-oauth 1.2.6.

The web layer makes the `state`, keeps it in the session and checks it (and that a
code is exchanged only once, C03) on the callback; this module only talks to Intuit.
Endpoints come from the app's discovery document, so the sandbox and production differ
only in `LedgerApp.discovery_url`.
"""

from __future__ import annotations

import logging
import secrets

import requests
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from app import clock as clock_mod
from app.config import LedgerApp
from connectors.base import TokenSet
from connectors.quickbooks import errors
from connectors.quickbooks.client import TimedAuthClient, token_set

logger = logging.getLogger(__name__)

SCOPES = [Scopes.ACCOUNTING]


def new_state() -> str:
    """An unguessable `state` for one authorization request."""
    return secrets.token_urlsafe(32)


def authorization_url(app: LedgerApp, state: str) -> str:
    """Where to send the creditor to grant CARE access to their books."""
    if len(state) < 16:
        raise ValueError("state must be an unguessable value of 16+ characters")
    _require(app)
    return _auth_client(app).get_authorization_url(SCOPES, state_token=state)


def exchange_code(
    app: LedgerApp, code: str, realm_id: str, clock: clock_mod.Clock | None = None
) -> TokenSet:
    """Trade the callback's authorization code for tokens; a code works once."""
    if not code:
        raise ValueError("the callback carried no authorization code")
    if not realm_id.isdigit():
        raise ValueError(f"a QuickBooks realm id is numeric, got {realm_id!r}")
    _require(app)
    auth = _auth_client(app)
    try:
        auth.get_bearer_token(code, realm_id=realm_id)
    except (AuthClientError, requests.RequestException) as exc:
        logger.warning("code exchange refused realm=%s", realm_id)
        raise errors.classify(exc) from exc
    logger.info("code exchanged realm=%s", realm_id)
    return token_set(auth, (clock or clock_mod.get_clock()).now())


def revoke(app: LedgerApp, token: str) -> None:
    """Revoke a refresh (or access) token at Intuit: the disconnect."""
    if not token:
        raise ValueError("no token to revoke")
    try:
        _auth_client(app).revoke(token=token)
    except (AuthClientError, requests.RequestException) as exc:
        raise errors.classify(exc) from exc


def _auth_client(app: LedgerApp) -> TimedAuthClient:
    try:
        return TimedAuthClient(
            app.client_id, app.client_secret, app.redirect_uri, app.discovery_url
        )
    except (AuthClientError, requests.RequestException) as exc:
        raise errors.QuickBooksRetryError(
            "QuickBooks discovery document unavailable"
        ) from exc


def _require(app: LedgerApp) -> None:
    missing = [
        name
        for name in ("client_id", "client_secret", "redirect_uri", "discovery_url")
        if not getattr(app, name)
    ]
    if missing:
        raise ValueError(f"QuickBooks app settings missing: {', '.join(missing)}")
