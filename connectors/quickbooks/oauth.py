"""Connecting a QuickBooks Online company: OAuth 2.0 through intuit-oauth 1.2.6.

The web layer makes the `state`, keeps it in the session and checks it (and that a
code is exchanged only once, C03) on the callback; this module only talks to Intuit.
Endpoints come from the app's discovery document, so the sandbox and production differ
only in `LedgerApp.discovery_url`.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from urllib.parse import urlencode

import requests
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from intuitlib.utils import get_auth_header, set_attributes

from app import clock as clock_mod
from app.config import LedgerApp
from connectors.base import TokenSet
from connectors.quickbooks import errors
from connectors.quickbooks.client import TimedAuthClient, token_set

logger = logging.getLogger(__name__)

# openid: Intuit then returns an id_token naming the person and the company (`realmid`)
# that consented, which the web layer verifies before trusting the callback's realmId.
SCOPES = [Scopes.ACCOUNTING, Scopes.OPENID]


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
    """Trade the callback's authorization code for tokens; a code works once.

    The id_token (with the openid scope) comes back unverified in `TokenSet.id_token`;
    the caller checks it against Intuit's keys before trusting `realm_id`.
    """
    if not code:
        raise ValueError("the callback carried no authorization code")
    if not realm_id.isdigit():
        raise ValueError(f"a QuickBooks realm id is numeric, got {realm_id!r}")
    _require(app)
    auth = _auth_client(app)
    try:
        id_token = _bearer_token(auth, code, realm_id)
    except (AuthClientError, requests.RequestException) as exc:
        logger.warning("code exchange refused realm=%s", realm_id)
        raise errors.classify(exc) from exc
    logger.info("code exchanged realm=%s", realm_id)
    tokens = token_set(auth, (clock or clock_mod.get_clock()).now())
    return replace(tokens, id_token=id_token)


def _bearer_token(auth: TimedAuthClient, code: str, realm_id: str) -> str | None:
    """AuthClient.get_bearer_token, keeping the id_token for the caller to verify.

    NOTE: intuit-oauth 1.2.6 checks an id_token itself (utils.validate_id_token): `exp`
    against the machine's wall clock, Intuit's keys fetched with no timeout on every
    exchange, and a token it doubts is dropped without a word. So the code is
    exchanged here and the id_token handed back as it came.
    """
    response = auth.post(
        auth.token_endpoint,
        data=urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": auth.redirect_uri,
            }
        ),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Authorization": get_auth_header(auth.client_id, auth.client_secret),
        },
    )
    if response.status_code != 200:
        raise AuthClientError(response)
    try:
        body = dict(response.json())
    except ValueError as exc:
        raise errors.QuickBooksRetryError("token response is not JSON") from exc
    id_token = body.pop("id_token", None)
    auth.realm_id = realm_id
    set_attributes(auth, body)
    return str(id_token) if id_token else None


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
