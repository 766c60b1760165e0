"""Checking the OpenID id_token a ledger returns with its tokens (Intuit, Xero).

Signing in through a ledger rests on this token: it says who consented and, for
QuickBooks, for which company (`realmid`). It is trusted only when its RS256
signature verifies against a key the issuer publishes at the `jwks_uri` of its
discovery document, `iss` is that document's issuer, `aud` holds our client id, `exp`
and `iat` are right by CARE's clock, and `nonce` is the one the flow sent, if it sent
one (OpenID Connect Core 1.0, section 3.1.3.7).

Discovery documents and key sets are kept an hour. A `kid` missing from the kept set
makes one fresh fetch of the keys: that is how a key rotation at the ledger is picked
up. No more than one, and no rate limit beyond that: the id_token comes from our own
call to the ledger's token endpoint, so nobody else can make us fetch.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet, RSAKey

from app import clock as clock_mod
from app.config import LedgerApp

logger = logging.getLogger(__name__)

ALGORITHM = "RS256"  # what Intuit and Xero sign with (their id_token_signing_alg)
LEEWAY = 60  # seconds of clock difference allowed on exp and iat
KEPT_FOR = timedelta(hours=1)
TIMEOUT = (5.0, 10.0)

Fetch = Callable[[str], dict[str, Any]]


class IdTokenError(Exception):
    """The id_token cannot be trusted; the message says why (no token content)."""


class KeysUnavailableError(IdTokenError):
    """The issuer's discovery document or keys could not be read: try again later."""


def discovery_url(ledger: str, app: LedgerApp) -> str:
    """Where the ledger's OpenID discovery document lives.

    QuickBooks: the configured `QBO_DISCOVERY_URL`. Xero: `XERO_DISCOVERY_URL` if set,
    else beside its token endpoint (identity.xero.com/.well-known/openid-configuration
    in production, the sandbox's own host locally). XERO_IDENTITY_BASE is no guide:
    in production it is api.xero.com, the host of /Connections, which serves none.
    """
    if ledger == "quickbooks" or app.discovery_url:
        return app.discovery_url
    parts = urlsplit(app.token_url)
    return f"{parts.scheme}://{parts.netloc}/.well-known/openid-configuration"


def fetch_json(url: str) -> dict[str, Any]:
    """GET a JSON object (a discovery document or a key set)."""
    try:
        response = requests.get(url, timeout=TIMEOUT)
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise KeysUnavailableError(f"{url} unreadable: {type(exc).__name__}") from exc
    if not isinstance(body, dict):
        raise KeysUnavailableError(f"{url} did not answer a JSON object")
    return body


@dataclass
class _Kept:
    body: dict[str, Any]
    fetched_at: datetime


class Verifier:
    """Verifies id_tokens; keeps discovery documents and key sets between calls."""

    def __init__(
        self, fetch: Fetch = fetch_json, clock: clock_mod.Clock | None = None
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._kept: dict[str, _Kept] = {}
        self._lock = threading.Lock()

    def verify(
        self,
        id_token: str | None,
        *,
        discovery: str,
        client_id: str,
        nonce: str | None = None,
    ) -> dict[str, Any]:
        """The id_token's claims, once every check has passed.

        Raises:
            IdTokenError: forged, expired, for another client, issuer or sign-in.
            KeysUnavailableError: the issuer's documents could not be read.
        """
        if not id_token:
            raise IdTokenError("no id_token came with the tokens")
        now = (self._clock or clock_mod.get_clock()).now()
        kid = _kid(id_token)
        document, _ = self._get(discovery, now)
        issuer, jwks_uri = document.get("issuer"), document.get("jwks_uri")
        if not isinstance(issuer, str) or not isinstance(jwks_uri, str):
            raise KeysUnavailableError(f"{discovery} names no issuer or jwks_uri")
        key = self._key(jwks_uri, kid, now)
        try:
            token = jwt.decode(id_token, key, algorithms=[ALGORITHM])
        except BadSignatureError as exc:
            raise IdTokenError("the signature does not match the issuer's key") from exc
        except JoseError as exc:
            raise IdTokenError(f"not a valid signed token ({exc.error})") from exc
        _check_claims(token.claims, issuer, client_id, nonce, now)
        return token.claims

    def _key(self, jwks_uri: str, kid: str | None, now: datetime) -> RSAKey:
        body, fetched = self._get(jwks_uri, now)
        key = _find(_key_set(body, jwks_uri), kid)
        if key is None and not fetched:
            logger.info("id_token key not among the kept ones, refetching kid=%s", kid)
            body, _ = self._get(jwks_uri, now, fresh=True)
            key = _find(_key_set(body, jwks_uri), kid)
        if key is None:
            raise IdTokenError(f"signed with a key the issuer does not publish ({kid})")
        return key

    def _get(
        self, url: str, now: datetime, *, fresh: bool = False
    ) -> tuple[dict[str, Any], bool]:
        """The document at `url` and whether it was fetched just now."""
        with self._lock:
            kept = self._kept.get(url)
        if kept is not None and not fresh and abs(now - kept.fetched_at) < KEPT_FOR:
            return kept.body, False
        body = self._fetch(url)
        with self._lock:
            self._kept[url] = _Kept(body, now)
        return body, True


def _kid(id_token: str) -> str | None:
    try:
        header = jws.extract_compact(id_token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError) as exc:
        raise IdTokenError("not a compact JWS") from exc
    if header.get("alg") != ALGORITHM:
        raise IdTokenError(f"signed with {header.get('alg')!r}, not {ALGORITHM}")
    kid = header.get("kid")
    return str(kid) if kid else None


def _key_set(body: dict[str, Any], jwks_uri: str) -> KeySet:
    try:
        return KeySet.import_key_set(body)  # type: ignore[arg-type]
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise KeysUnavailableError(f"{jwks_uri} is not a JWK set") from exc


def _find(keys: KeySet, kid: str | None) -> RSAKey | None:
    if kid is None:
        # A token may leave out its kid only when the issuer publishes one key.
        found = list(keys)
        if len(found) != 1:
            raise IdTokenError("the token names no key and the issuer has several")
        key = found[0]
    else:
        try:
            key = keys.get_by_kid(kid)
        except InvalidKeyIdError:
            return None
    if not isinstance(key, RSAKey):
        raise IdTokenError(f"key {kid} is not an RSA key")
    return key


def _check_claims(
    claims: dict[str, Any],
    issuer: str,
    client_id: str,
    nonce: str | None,
    now: datetime,
) -> None:
    registry = jwt.JWTClaimsRegistry(
        now=int(now.timestamp()),
        leeway=LEEWAY,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise IdTokenError("the token has expired") from exc
    except ClaimError as exc:
        raise IdTokenError(f"claim {exc.claim!r} is missing or wrong") from exc
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1:
        # Several audiences: the one it was issued to must be us (Core 3.1.3.7 #5).
        if claims.get("azp") != client_id:
            raise IdTokenError("claim 'azp' is missing or wrong")
    if nonce is not None and not hmac.compare_digest(
        str(claims.get("nonce", "")).encode(), nonce.encode()
    ):
        raise IdTokenError("claim 'nonce' is not this sign-in's")
