"""Intuit's OpenID signing, for the sandbox: RS256 keys, their JWKS and id_tokens.

Intuit signs id_tokens with RS256 and names the key in the header's `kid`; the keys
are published at the discovery document's `jwks_uri` (production:
https://oauth.platform.intuit.com/op/v1/jwks). Claims as Intuit lists them in
`claims_supported`: `sub`, `aud` (a list holding the client id), `realmid` (with the
accounting scope), `auth_time`, `iss`, `exp`, `iat`
(developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/openid-connect).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ID_TOKEN_LIFETIME = 3600  # seconds, as Intuit's


class Signer:
    """The sandbox's signing keys: the current one signs, the one before it is still
    published, as an identity provider keeps it for a while after a rotation."""

    def __init__(self, pems: list[str] | None = None) -> None:
        self._pems = list(pems or [])  # newest first; at most two
        self._loaded: dict[str, rsa.RSAPrivateKey] = {}
        self._lock = threading.Lock()

    def _keys(self) -> list[rsa.RSAPrivateKey]:
        with self._lock:
            if not self._pems:
                self._pems.append(_new_pem())
            for pem in self._pems:
                if pem not in self._loaded:
                    self._loaded[pem] = _load(pem)
            return [self._loaded[pem] for pem in self._pems]

    @property
    def kid(self) -> str:
        return thumbprint(self._keys()[0].public_key())

    def rotate(self) -> str:
        """Sign with a new key from now on; returns its kid."""
        fresh = _new_pem()
        with self._lock:
            self._pems = [fresh, *self._pems[:1]]
        return self.kid

    def jwks(self) -> dict[str, Any]:
        """The published keys, as the `jwks_uri` serves them."""
        keys = []
        for key in self._keys():
            public = key.public_key()
            jwk = json.loads(RSAAlgorithm.to_jwk(public))
            kid = thumbprint(public)
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys}

    def sign(self, claims: dict[str, Any]) -> str:
        key = self._keys()[0]
        kid = thumbprint(key.public_key())
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    def dump(self) -> list[str]:
        """The keys as PEM, newest first (none until the first is needed)."""
        with self._lock:
            return list(self._pems)


def id_token_claims(
    *, client_id: str, issuer: str, subject: str, realm_id: str, issued: int
) -> dict[str, Any]:
    """The claims of an id_token as Intuit issues it at the code exchange."""
    claims: dict[str, Any] = {
        "sub": subject,
        "aud": [client_id],
        "auth_time": issued,
        "iss": issuer,
        "exp": issued + ID_TOKEN_LIFETIME,
        "iat": issued,
    }
    if realm_id:
        claims["realmid"] = realm_id
    return claims


def thumbprint(public: rsa.RSAPublicKey) -> str:
    """The key's RFC 7638 JWK thumbprint: a kid that changes with the key."""
    numbers = public.public_numbers()
    members = {"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _new_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _load(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key
