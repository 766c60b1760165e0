"""Xero identity for the sandbox: authorization codes, tokens, grants and connections.

Rules from Xero's OAuth 2.0 documentation (LEDGER-APIS.md section 4): codes are
single-use and live 5 minutes; access tokens live 30 minutes; a refresh token comes
only with `offline_access`, is single-use, expires after 60 days unused, and (as an
option, off by default) may be reused for 30 minutes after it was spent. Tokens are
RS256 JWTs like Xero's, signed with a key published at the JWKS endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.sandbox.xero.errors import unauthorized
from connectors.sandbox.xero.state import Ids

logger = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=5)
ACCESS_LIFETIME = timedelta(minutes=30)
REFRESH_IDLE_LIFETIME = timedelta(days=60)
REFRESH_GRACE = timedelta(minutes=30)
ID_TOKEN_LIFETIME = timedelta(minutes=5)
_OIDC_SCOPES = {"openid", "profile", "email", "offline_access"}


class OAuthError(Exception):
    """An OAuth error answer: `{"error": code}` with an HTTP status."""

    def __init__(self, error: str, status: int = 400, description: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.description = description


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    name: str = "CARE"


@dataclass
class Identity:
    """Codes, grants, tokens and connections of one sandbox (one Xero user)."""

    ids: Ids
    refresh_grace: bool = False
    user: dict[str, str] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    grants: dict[str, dict[str, Any]] = field(default_factory=dict)
    access: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh: dict[str, dict[str, Any]] = field(default_factory=dict)
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)
    key_pem: str = ""

    def __post_init__(self) -> None:
        if not self.user:
            self.user = {
                "xero_userid": self.ids.new(),
                "global_session_id": self.ids.new(),
                "email": "owner@care-sandbox.example",
                "given_name": "Sandbox",
                "family_name": "Owner",
            }

    # --- keys -----------------------------------------------------------------

    def _private_key(self) -> rsa.RSAPrivateKey:
        if not self.key_pem:
            self.key_pem = _process_key()
        loaded = serialization.load_pem_private_key(self.key_pem.encode(), None)
        assert isinstance(loaded, rsa.RSAPrivateKey)
        return loaded

    @property
    def kid(self) -> str:
        return hashlib.sha256(self.key_pem.encode()).hexdigest()[:16]

    def jwks(self) -> dict[str, Any]:
        """The public signing key as a JWKS document."""
        public = self._private_key().public_key()
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def rotate_key(self) -> str:
        """Sign with a new key (a new kid) from now on, as Xero may at any time."""
        self.key_pem = _new_key_pem()
        return self.kid

    def _sign(self, claims: dict[str, Any]) -> str:
        key = self._private_key()
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})

    # --- authorize ------------------------------------------------------------

    def authorize(
        self,
        client: Client,
        params: dict[str, str],
        now: datetime,
        tenants: dict[str, str],
    ) -> str:
        """Auto-consent: a new single-use code for `params`."""
        scope = params.get("scope", "").split()
        if not scope:
            raise OAuthError("invalid_scope", description="scope is required")
        unknown = [
            s
            for s in scope
            if s not in _OIDC_SCOPES and not s.startswith("accounting.")
        ]
        if unknown:
            raise OAuthError("invalid_scope", description=" ".join(unknown))
        method = params.get("code_challenge_method") or "plain"
        if params.get("code_challenge") and method not in ("S256", "plain"):
            raise OAuthError("invalid_request", description="code_challenge_method")
        code = secrets.token_urlsafe(32)
        self.codes[code] = {
            "client_id": client.client_id,
            "redirect_uri": params.get("redirect_uri", ""),
            "scope": scope,
            "challenge": params.get("code_challenge") or None,
            "method": method,
            "nonce": params.get("nonce") or None,
            "issued": now.isoformat(),
            "used": False,
            "tenants": tenants,
        }
        return code

    # --- token endpoint -------------------------------------------------------

    def exchange_code(
        self,
        client: Client,
        form: dict[str, str],
        authenticated: bool,
        now: datetime,
        issuer: str,
    ) -> dict[str, Any]:
        """The authorization_code grant."""
        code = self.codes.get(form.get("code", ""))
        if code is None or code["client_id"] != client.client_id:
            raise OAuthError("invalid_grant")
        if code["used"] or now - datetime.fromisoformat(code["issued"]) > CODE_LIFETIME:
            code["used"] = True
            raise OAuthError("invalid_grant")
        if form.get("redirect_uri", "") != code["redirect_uri"]:
            raise OAuthError("invalid_grant", description="redirect_uri mismatch")
        if code["challenge"]:
            if not _pkce_matches(form.get("code_verifier", ""), code):
                raise OAuthError("invalid_grant", description="code_verifier")
        elif not authenticated:
            raise OAuthError("invalid_client")
        code["used"] = True
        grant_id = self.ids.new()
        self.grants[grant_id] = {
            "client_id": client.client_id,
            "auth_event_id": self.ids.new(),
            "scope": code["scope"],
            "revoked": False,
            "auth_time": now.isoformat(),
        }
        self._connect(grant_id, code["tenants"], now)
        return self._issue(grant_id, now, issuer, nonce=code["nonce"])

    def refresh_grant(
        self, client: Client, form: dict[str, str], now: datetime, issuer: str
    ) -> dict[str, Any]:
        """The refresh_token grant: single-use, with the optional 30-minute grace."""
        token = form.get("refresh_token", "")
        held = self.refresh.get(token)
        if held is None:
            raise OAuthError("invalid_grant")
        grant = self.grants[held["grant"]]
        if grant["revoked"] or grant["client_id"] != client.client_id:
            raise OAuthError("invalid_grant")
        if now - datetime.fromisoformat(held["issued"]) > REFRESH_IDLE_LIFETIME:
            raise OAuthError("invalid_grant")
        if held["spent"]:
            spent = datetime.fromisoformat(held["spent"])
            if self.refresh_grace and now - spent <= REFRESH_GRACE:
                logger.info(
                    "xero sandbox refresh reuse within grace grant=%s", held["grant"]
                )
                return dict(held["reply"])
            raise OAuthError("invalid_grant")
        reply = self._issue(held["grant"], now, issuer, nonce=None)
        held["spent"] = now.isoformat()
        held["reply"] = reply
        return reply

    def grant_directly(
        self,
        client: Client,
        scope: list[str],
        tenants: dict[str, str],
        now: datetime,
        issuer: str,
    ) -> dict[str, Any]:
        """Tokens as if the user had just consented (a test and demo shortcut)."""
        grant_id = self.ids.new()
        self.grants[grant_id] = {
            "client_id": client.client_id,
            "auth_event_id": self.ids.new(),
            "scope": list(scope),
            "revoked": False,
            "auth_time": now.isoformat(),
        }
        self._connect(grant_id, tenants, now)
        return self._issue(grant_id, now, issuer, nonce=None)

    def _issue(
        self, grant_id: str, now: datetime, issuer: str, nonce: str | None
    ) -> dict[str, Any]:
        grant = self.grants[grant_id]
        scope: list[str] = grant["scope"]
        expires = now + ACCESS_LIFETIME
        access = self._sign(
            {
                "nbf": int(now.timestamp()),
                "exp": int(expires.timestamp()),
                "iss": issuer,
                "aud": f"{issuer}/resources",
                "client_id": grant["client_id"],
                "sub": self.user["xero_userid"],
                "auth_time": int(
                    datetime.fromisoformat(grant["auth_time"]).timestamp()
                ),
                "xero_userid": self.user["xero_userid"],
                "global_session_id": self.user["global_session_id"],
                "jti": secrets.token_hex(16),
                "authentication_event_id": grant["auth_event_id"],
                "scope": scope,
            }
        )
        self.access[access] = {"grant": grant_id, "expires": expires.isoformat()}
        reply: dict[str, Any] = {}
        if "openid" in scope:
            reply["id_token"] = self._id_token(grant, now, issuer, nonce, access)
        reply.update(
            {"access_token": access, "expires_in": 1800, "token_type": "Bearer"}
        )
        if "offline_access" in scope:
            refresh = secrets.token_urlsafe(32)
            self.refresh[refresh] = {
                "grant": grant_id,
                "issued": now.isoformat(),
                "spent": None,
                "reply": None,
            }
            reply["refresh_token"] = refresh
        reply["scope"] = " ".join(scope)
        return reply

    def _id_token(
        self,
        grant: dict[str, Any],
        now: datetime,
        issuer: str,
        nonce: str | None,
        access: str,
    ) -> str:
        scope = grant["scope"]
        claims: dict[str, Any] = {
            "nbf": int(now.timestamp()),
            "exp": int((now + ID_TOKEN_LIFETIME).timestamp()),
            "iss": issuer,
            "aud": grant["client_id"],
            "iat": int(now.timestamp()),
            "at_hash": _at_hash(access),
            "sid": grant["auth_event_id"],
            "sub": self.user["xero_userid"],
            "auth_time": int(datetime.fromisoformat(grant["auth_time"]).timestamp()),
            "xero_userid": self.user["xero_userid"],
            "global_session_id": self.user["global_session_id"],
        }
        if "email" in scope:
            claims["email"] = self.user["email"]
            claims["preferred_username"] = self.user["email"]
        if "profile" in scope:
            claims["given_name"] = self.user["given_name"]
            claims["family_name"] = self.user["family_name"]
        if nonce:
            claims["nonce"] = nonce
        return self._sign(claims)

    # --- revocation and connections ---------------------------------------------

    def revoke(self, client: Client, token: str) -> None:
        """Revoke the grant behind a refresh token: its tokens and its connections."""
        held = self.refresh.get(token)
        if held is None:
            return  # RFC 7009: an unknown token is not an error
        grant = self.grants[held["grant"]]
        if grant["client_id"] != client.client_id:
            raise OAuthError("unauthorized_client")
        grant["revoked"] = True
        self.connections = {
            tenant: row
            for tenant, row in self.connections.items()
            if row.get("authEventId") != grant["auth_event_id"]
        }
        logger.info("xero sandbox revoked grant=%s", held["grant"])

    def _connect(self, grant_id: str, tenants: dict[str, str], now: datetime) -> None:
        self._connect_rows(tenants, now, self.grants[grant_id]["auth_event_id"])

    def _connect_rows(
        self, tenants: dict[str, str], now: datetime, event: str | None = None
    ) -> None:
        """Connect tenants (by id, to their names) under an authorization event."""
        event = event or self.ids.new()
        # Xero writes these with seven fractional digits and no offset (UTC).
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"
        for tenant, name in tenants.items():
            old = self.connections.get(tenant) or {}
            self.connections[tenant] = {
                "id": old.get("id") or self.ids.new(),
                "authEventId": event,
                "tenantId": tenant,
                "tenantType": "ORGANISATION",
                "tenantName": name,
                "createdDateUtc": old.get("createdDateUtc") or stamp,
                "updatedDateUtc": stamp,
            }

    def check_access(self, token: str, now: datetime) -> dict[str, Any]:
        """The grant behind a bearer token, or the 401 Xero would answer."""
        held = self.access.get(token)
        if held is None:
            raise unauthorized("AuthenticationUnsuccessful")
        grant = self.grants[held["grant"]]
        if grant["revoked"]:
            raise unauthorized("AuthenticationUnsuccessful")
        expires = datetime.fromisoformat(held["expires"])
        if now >= expires:
            at = expires.strftime("%m/%d/%Y %H:%M:%S")
            raise unauthorized(f"TokenExpired: token expired at {at}")
        return grant

    def dump(self) -> dict[str, Any]:
        return {
            "refresh_grace": self.refresh_grace,
            "user": self.user,
            "codes": self.codes,
            "grants": self.grants,
            "access": self.access,
            "refresh": self.refresh,
            "connections": self.connections,
            "key_pem": self.key_pem,
        }

    @classmethod
    def restore(cls, data: dict[str, Any], ids: Ids) -> Identity:
        return cls(ids=ids, **data)


_key_lock = threading.Lock()
_key_pem: list[str] = []


def _process_key() -> str:
    """One RSA key per process: a 2048-bit key takes a noticeable moment to make, and
    sandboxes started by one test run need not differ in it (a dump keeps its own)."""
    with _key_lock:
        if not _key_pem:
            _key_pem.append(_new_key_pem())
        return _key_pem[0]


def _new_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode()


def _at_hash(access_token: str) -> str:
    """OpenID Connect's at_hash for RS256: the left half of SHA-256, base64url."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


def _pkce_matches(verifier: str, code: dict[str, Any]) -> bool:
    if not verifier:
        return False
    if code["method"] == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        computed = verifier
    return secrets.compare_digest(computed, code["challenge"])
