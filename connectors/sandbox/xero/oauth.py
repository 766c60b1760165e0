"""Routes of Xero's identity service: authorize, token, revocation, connections, OIDC.

Paths as on the real hosts, so a client changes only scheme, host and port:
`login.xero.com/identity/connect/authorize`, `identity.xero.com/connect/token`,
`/connect/revocation`, `/.well-known/openid-configuration` (and its `/jwks`), and
`api.xero.com/connections` (the SDK asks for `/Connections`, so both are served).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, request

from connectors.sandbox.xero.errors import unauthorized
from connectors.sandbox.xero.tokens import OAuthError

if TYPE_CHECKING:
    from connectors.sandbox.xero.sandbox import XeroSandbox

logger = logging.getLogger(__name__)
identity = Blueprint("xero_identity", __name__)


def _sandbox() -> XeroSandbox:
    return current_app.extensions["xero_sandbox"]  # type: ignore[no-any-return]


def _json(body: Any, status: int = 200) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _issuer() -> str:
    return request.url_root.rstrip("/")


@identity.get("/identity/connect/authorize")
def authorize() -> Response:
    sandbox = _sandbox()
    params = request.args.to_dict()
    client = sandbox.client
    # A wrong client or redirect URI must not redirect anywhere: Xero shows an error
    # page instead, so an attacker cannot bounce a code to their own site.
    if params.get("client_id") != client.client_id:
        return Response("unauthorized_client: unknown client_id", status=400)
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        return Response("invalid_request: redirect_uri is not registered", status=400)
    state = params.get("state")
    if params.get("response_type") != "code":
        return _back(
            redirect_uri, {"error": "unsupported_response_type", "state": state}
        )
    with sandbox.lock:
        try:
            code = sandbox.identity.authorize(
                client, params, sandbox.now(), sandbox.consent_tenants()
            )
        except OAuthError as exc:
            return _back(redirect_uri, {"error": exc.error, "state": state})
    scope = params.get("scope", "")
    return _back(redirect_uri, {"code": code, "scope": scope, "state": state})


def _back(redirect_uri: str, values: dict[str, str | None]) -> Response:
    query = urlencode({k: v for k, v in values.items() if v is not None})
    joiner = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{joiner}{query}", code=302)  # type: ignore[return-value]


@identity.post("/connect/token")
def token() -> Response:
    sandbox = _sandbox()
    form = request.form.to_dict()
    client_id, secret = _client_credentials(form)
    client = sandbox.client
    if client_id != client.client_id:
        return _json({"error": "invalid_client"}, 400)
    authenticated = secret == client.client_secret
    if secret is not None and not authenticated:
        return _json({"error": "invalid_client"}, 400)
    grant_type = form.get("grant_type")
    with sandbox.lock:
        try:
            if grant_type == "authorization_code":
                reply = sandbox.identity.exchange_code(
                    client, form, authenticated, sandbox.now(), _issuer()
                )
            elif grant_type == "refresh_token":
                if not authenticated:
                    return _json({"error": "invalid_client"}, 400)
                reply = sandbox.identity.refresh_grant(
                    client, form, sandbox.now(), _issuer()
                )
            else:
                # TODO: client_credentials (Xero custom connections) is not served;
                # a custom-connection app cannot be tried against the sandbox.
                return _json({"error": "unsupported_grant_type"}, 400)
        except OAuthError as exc:
            logger.info(
                "xero sandbox token refused grant_type=%s error=%s",
                grant_type,
                exc.error,
            )
            return _json({"error": exc.error}, exc.status)
    return _json(reply)


def _client_credentials(form: dict[str, str]) -> tuple[str | None, str | None]:
    """Client id and secret from Basic auth (Xero docs) or the body (the SDK)."""
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        return auth.username, auth.password
    return form.get("client_id"), form.get("client_secret")


@identity.post("/connect/revocation")
def revocation() -> Response:
    sandbox = _sandbox()
    form = request.form.to_dict()
    client_id, secret = _client_credentials(form)
    if client_id != sandbox.client.client_id or secret != sandbox.client.client_secret:
        return _json({"error": "invalid_client"}, 400)
    with sandbox.lock:
        try:
            sandbox.identity.revoke(sandbox.client, form.get("token", ""))
        except OAuthError as exc:
            return _json({"error": exc.error}, exc.status)
    return Response(status=200)


@identity.get("/.well-known/openid-configuration")
def discovery() -> Response:
    base = _issuer()
    return _json(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/identity/connect/authorize",
            "token_endpoint": f"{base}/connect/token",
            "userinfo_endpoint": f"{base}/connect/userinfo",
            "revocation_endpoint": f"{base}/connect/revocation",
            "jwks_uri": f"{base}/.well-known/openid-configuration/jwks",
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "at_hash",
                "sid",
                "xero_userid",
                "global_session_id",
                "email",
                "preferred_username",
                "given_name",
                "family_name",
            ],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
        }
    )


@identity.get("/.well-known/openid-configuration/jwks")
def jwks() -> Response:
    sandbox = _sandbox()
    with sandbox.lock:
        return _json(sandbox.identity.jwks())


def _bearer_grant() -> dict[str, Any]:
    sandbox = _sandbox()
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        raise unauthorized("AuthenticationUnsuccessful")
    token = header[7:].strip()
    if token in sandbox.faults.revoked:
        raise unauthorized("AuthenticationUnsuccessful")
    return sandbox.identity.check_access(token, sandbox.now())


@identity.get("/connect/userinfo")
def userinfo() -> Response:
    sandbox = _sandbox()
    with sandbox.lock:
        _bearer_grant()
        user = dict(sandbox.identity.user)
    return _json({"sub": user["xero_userid"], **user})


@identity.get("/connections")
@identity.get("/Connections")
def connections() -> Response:
    sandbox = _sandbox()
    with sandbox.lock:
        _bearer_grant()
        rows = list(sandbox.identity.connections.values())
    wanted = request.args.get("authEventId")
    if wanted:
        rows = [r for r in rows if r.get("authEventId") == wanted]
    return _json(rows)


@identity.delete("/connections/<connection_id>")
@identity.delete("/Connections/<connection_id>")
def disconnect(connection_id: str) -> Response:
    sandbox = _sandbox()
    with sandbox.lock:
        _bearer_grant()
        found = [
            tenant
            for tenant, row in sandbox.identity.connections.items()
            if row.get("id") == connection_id
        ]
        if not found:
            return Response(status=404)
        for tenant in found:
            del sandbox.identity.connections[tenant]
    logger.info(
        "xero sandbox disconnected connection=%s tenant=%s", connection_id, found[0]
    )
    return Response(status=204)
