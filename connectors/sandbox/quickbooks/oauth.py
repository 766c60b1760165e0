"""Intuit OAuth 2.0 and OpenID endpoints at their real paths, served by the sandbox.

`intuit-oauth`'s AuthClient reads the discovery document first, so pointing its
`environment` at `<sandbox>/.well-known/openid_configuration` is all it needs.
Shapes: Intuit's discovery document, token responses with `x_refresh_token_expires_in`,
`{"error":"invalid_grant"}` (400) and `{"error":"invalid_client"}` (401); id_tokens
signed RS256 with the key the discovery document's `jwks_uri` publishes (`openid`).
"""

from __future__ import annotations

import base64
import json
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Blueprint, Response, g, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from connectors.sandbox.quickbooks.tokens import (
    ACCESS_LIFETIME,
    ACCOUNTING_SCOPES,
    REFRESH_LIFETIME,
    GrantError,
    TokenAuthority,
)

if TYPE_CHECKING:
    from connectors.sandbox.quickbooks.sandbox import QuickBooksSandbox

logger = logging.getLogger(__name__)

AUTHORIZE_PATH = "/connect/oauth2"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
USERINFO_PATH = "/v1/openid_connect/userinfo"
JWKS_PATH = "/op/v1/jwks"
ISSUER_PATH = "/op/v1"


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def discovery(base: str) -> dict[str, Any]:
    """The OpenID discovery document, in Intuit's shape, pointing at `base`."""
    return {
        "issuer": base + ISSUER_PATH,
        "authorization_endpoint": base + AUTHORIZE_PATH,
        "token_endpoint": base + TOKEN_PATH,
        "userinfo_endpoint": base + USERINFO_PATH,
        "revocation_endpoint": base + REVOKE_PATH,
        "jwks_uri": base + JWKS_PATH,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "phone"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "client_secret_basic",
        ],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
    }


def blueprint(sandbox: QuickBooksSandbox) -> Blueprint:
    """Routes for discovery, authorize, token, revoke, userinfo and jwks."""
    bp = Blueprint("qbo_oauth", __name__)
    authority: TokenAuthority = sandbox.tokens

    @bp.get("/.well-known/openid_configuration")
    @bp.get("/.well-known/openid_sandbox_configuration")
    def openid_configuration() -> Response:
        return _json(discovery(request.host_url.rstrip("/")))

    @bp.get(AUTHORIZE_PATH)
    def authorize() -> BaseResponse:
        args = request.args
        if args.get("client_id") != sandbox.client_id:
            return _json({"error": "invalid_client"}, 400)
        redirect_uri = args.get("redirect_uri", "")
        if redirect_uri not in sandbox.redirect_uris:
            return _json(
                {"error": "invalid_request", "error_description": "redirect_uri"}, 400
            )
        scope = args.get("scope", "")
        if args.get("response_type") != "code" or not scope:
            return _redirect(
                redirect_uri, error="invalid_request", state=args.get("state")
            )
        realm_id = sandbox.consent_realm()
        wants_realm = any(s in scope.split() for s in ACCOUNTING_SCOPES)
        if wants_realm and realm_id is None:
            return _redirect(
                redirect_uri, error="access_denied", state=args.get("state")
            )
        code = authority.issue_code(
            sandbox.client_id, redirect_uri, scope, realm_id, sandbox.now()
        )
        params = {"code": code}
        if args.get("state"):
            params["state"] = args["state"]
        if wants_realm and realm_id:
            params["realmId"] = realm_id
        # NOTE: consent is automatic: a person has nothing to click in the sandbox.
        return redirect(redirect_uri + "?" + urlencode(params), code=302)

    @bp.post(TOKEN_PATH)
    def token() -> Response:
        g.tenant = None
        if not _client_ok(sandbox):
            return _json({"error": "invalid_client"}, 401)
        grant_type = request.form.get("grant_type", "")
        now = sandbox.now()
        try:
            if grant_type == "authorization_code":
                grant, access = authority.exchange_code(
                    request.form.get("code", ""),
                    sandbox.client_id,
                    request.form.get("redirect_uri", ""),
                    now,
                )
            elif grant_type == "refresh_token":
                refresh = request.form.get("refresh_token", "")
                if refresh in sandbox.faults.revoked:
                    raise GrantError("invalid_grant")
                grant, access = authority.refresh(refresh, sandbox.client_id, now)
            else:
                return _json({"error": "unsupported_grant_type"}, 400)
        except GrantError as exc:
            logger.info("qbo sandbox token refused grant_type=%s", grant_type)
            return _json({"error": exc.error}, exc.status)
        g.tenant = grant.realm_id
        body = {
            "token_type": "bearer",
            "expires_in": int(ACCESS_LIFETIME.total_seconds()),
            "refresh_token": grant.refresh_token,
            "x_refresh_token_expires_in": int(REFRESH_LIFETIME.total_seconds()),
            "access_token": access,
        }
        # NOTE: Intuit sends an id_token with the code exchange of an openid consent
        # only; its refresh response has none (developer.intuit.com, "OpenID
        # Connect" and "Refresh the token").
        if grant_type == "authorization_code" and "openid" in grant.scope.split():
            body["id_token"] = sandbox.id_token(grant, request.host_url.rstrip("/"))
        return _json(body)

    @bp.post(REVOKE_PATH)
    def revoke() -> Response:
        if not _client_ok(sandbox):
            return _json({"error": "invalid_client"}, 401)
        try:
            token_value = (request.get_json(force=True, silent=True) or {}).get("token")
        except AttributeError:
            token_value = None
        if not token_value:
            return _json({"error": "invalid_request"}, 400)
        authority.revoke(str(token_value))
        return Response(b"", status=200)

    @bp.get(USERINFO_PATH)
    def userinfo() -> Response:
        header = request.headers.get("Authorization", "")
        grant, _why = authority.check_access(
            header.removeprefix("Bearer "), sandbox.now()
        )
        if grant is None or "openid" not in grant.scope.split():
            return _json({"error": "invalid_token"}, 401)
        return _json(sandbox.userinfo(grant))

    @bp.get(JWKS_PATH)
    def jwks() -> Response:
        return _json(sandbox.jwks())

    return bp


def _redirect(uri: str, **params: str | None) -> BaseResponse:
    clean = {k: v for k, v in params.items() if v}
    return redirect(uri + "?" + urlencode(clean), code=302)


def _client_ok(sandbox: QuickBooksSandbox) -> bool:
    """Client credentials by Basic auth (or in the form, client_secret_post)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            raw = base64.b64decode(header[6:]).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return False
        client_id, _, secret = raw.partition(":")
    else:
        client_id = request.form.get("client_id", "")
        secret = request.form.get("client_secret", "")
    return client_id == sandbox.client_id and secret == sandbox.client_secret
