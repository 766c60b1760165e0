"""The id_token verifier on its own: signature, claims, CARE's clock, key caching.

Tokens are signed as Intuit signs them (the QuickBooks sandbox's signer); the
documents come from a dict, and every fetch is counted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.config import LedgerApp
from app.web import openid
from connectors.sandbox.quickbooks.openid import Signer, id_token_claims

DISCOVERY = "https://issuer.test/.well-known/openid_configuration"
JWKS = "https://issuer.test/op/v1/jwks"
ISSUER = "https://issuer.test/op/v1"
CLIENT = "care-client"


class Issuer:
    """An identity provider's published documents, and a log of what was fetched."""

    def __init__(self) -> None:
        self.signer = Signer()
        self.fetched: list[str] = []

    def fetch(self, url: str) -> dict[str, Any]:
        self.fetched.append(url)
        if url == DISCOVERY:
            return {"issuer": ISSUER, "jwks_uri": JWKS}
        if url == JWKS:
            return self.signer.jwks()
        raise openid.KeysUnavailableError(f"{url} unreadable: 404")

    def token(self, clock: Any, **changes: Any) -> str:
        claims = id_token_claims(
            client_id=CLIENT,
            issuer=ISSUER,
            subject="user-1",
            realm_id="9130354426181920",
            issued=int(clock.now().timestamp()),
        )
        claims.update(changes)
        return self.signer.sign({k: v for k, v in claims.items() if v is not None})


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
def verifier(issuer: Issuer, clock: Any) -> openid.Verifier:
    return openid.Verifier(issuer.fetch, clock)


def verify(verifier: openid.Verifier, token: str, **kw: Any) -> dict[str, Any]:
    return verifier.verify(token, discovery=DISCOVERY, client_id=CLIENT, **kw)


def test_a_good_token_gives_its_claims(verifier, issuer, clock) -> None:
    claims = verify(verifier, issuer.token(clock))

    assert claims["realmid"] == "9130354426181920" and claims["sub"] == "user-1"
    assert issuer.fetched == [DISCOVERY, JWKS]


def test_a_forged_signature_is_refused(verifier, issuer, clock) -> None:
    stray = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = pyjwt.decode(issuer.token(clock), options={"verify_signature": False})
    forged = pyjwt.encode(
        claims,
        stray,
        algorithm="RS256",
        headers={"kid": issuer.signer.kid},  # claims to be the issuer's key
    )

    with pytest.raises(openid.IdTokenError, match="signature does not match"):
        verify(verifier, forged)


def test_an_altered_payload_is_refused(verifier, issuer, clock) -> None:
    header, _payload, signature = issuer.token(clock).split(".")
    other = issuer.token(clock, realmid="1111111111").split(".")[1]

    with pytest.raises(openid.IdTokenError, match="signature"):
        verify(verifier, f"{header}.{other}.{signature}")


@pytest.mark.parametrize(
    ("changes", "claim"),
    [
        ({"aud": ["another-app"]}, "aud"),
        ({"aud": None}, "aud"),
        ({"iss": "https://elsewhere.test"}, "iss"),
        ({"sub": None}, "sub"),
    ],
)
def test_a_token_for_another_app_or_issuer_is_refused(
    verifier, issuer, clock, changes, claim
) -> None:
    with pytest.raises(openid.IdTokenError, match=f"'{claim}'"):
        verify(verifier, issuer.token(clock, **changes))


def test_several_audiences_need_azp_to_be_us(verifier, issuer, clock) -> None:
    shared = issuer.token(clock, aud=[CLIENT, "another-app"])

    with pytest.raises(openid.IdTokenError, match="azp"):
        verify(verifier, shared)
    assert verify(verifier, issuer.token(clock, aud=[CLIENT, "x"], azp=CLIENT))


def test_an_expired_token_is_refused_by_cares_clock(verifier, issuer, clock) -> None:
    token = issuer.token(clock)  # lives an hour, as Intuit's
    clock.advance(timedelta(hours=1, seconds=openid.LEEWAY - 1))
    assert verify(verifier, token)

    clock.advance(timedelta(seconds=2))
    with pytest.raises(openid.IdTokenError, match="expired"):
        verify(verifier, token)


def test_a_token_issued_in_the_future_is_refused(verifier, issuer, clock) -> None:
    later = int((clock.now() + timedelta(minutes=5)).timestamp())

    with pytest.raises(openid.IdTokenError, match="'iat'"):
        verify(verifier, issuer.token(clock, iat=later))


def test_the_nonce_must_be_this_sign_ins(verifier, issuer, clock) -> None:
    token = issuer.token(clock, nonce="n-0S6")

    assert verify(verifier, token, nonce="n-0S6")["nonce"] == "n-0S6"
    with pytest.raises(openid.IdTokenError, match="nonce"):
        verify(verifier, token, nonce="another")
    with pytest.raises(openid.IdTokenError, match="nonce"):
        verify(verifier, issuer.token(clock), nonce="n-0S6")


@pytest.mark.parametrize("alg", ["HS256", "none"])
def test_only_rs256_is_accepted(verifier, issuer, clock, alg) -> None:
    claims = pyjwt.decode(issuer.token(clock), options={"verify_signature": False})
    key = "TESTONLY-a-shared-secret-of-32-bytes!" if alg == "HS256" else None
    token = pyjwt.encode(claims, key, algorithm=alg, headers={"kid": "x"})

    with pytest.raises(openid.IdTokenError, match="not RS256"):
        verify(verifier, token)


@pytest.mark.parametrize("token", [None, "", "not-a-jwt", "a.b.c"])
def test_no_token_or_a_malformed_one_is_refused(verifier, token) -> None:
    with pytest.raises(openid.IdTokenError):
        verify(verifier, token)


def test_a_rotated_key_is_fetched_once_then_kept(verifier, issuer, clock) -> None:
    verify(verifier, issuer.token(clock))
    issuer.signer.rotate()

    verify(verifier, issuer.token(clock))
    verify(verifier, issuer.token(clock))

    assert issuer.fetched == [DISCOVERY, JWKS, JWKS]


def test_an_unknown_key_is_refused_after_one_refetch(verifier, issuer, clock) -> None:
    verify(verifier, issuer.token(clock))
    stranger = Signer()
    token = stranger.sign(
        pyjwt.decode(issuer.token(clock), options={"verify_signature": False})
    )

    with pytest.raises(openid.IdTokenError, match="does not publish"):
        verify(verifier, token)
    assert issuer.fetched == [DISCOVERY, JWKS, JWKS]


def test_an_unknown_key_on_a_cold_cache_fetches_the_keys_once(
    verifier, issuer, clock
) -> None:
    token = Signer().sign({"iss": ISSUER})

    with pytest.raises(openid.IdTokenError, match="does not publish"):
        verify(verifier, token)
    assert issuer.fetched == [DISCOVERY, JWKS]


def test_documents_are_kept_an_hour(verifier, issuer, clock) -> None:
    verify(verifier, issuer.token(clock))
    clock.advance(timedelta(minutes=59))
    verify(verifier, issuer.token(clock))
    clock.advance(timedelta(minutes=2))
    verify(verifier, issuer.token(clock))

    assert issuer.fetched == [DISCOVERY, JWKS, DISCOVERY, JWKS]


def test_unreadable_keys_are_keys_unavailable(issuer, clock) -> None:
    def down(url: str) -> dict[str, Any]:
        raise openid.KeysUnavailableError(f"{url} unreadable: ConnectionError")

    with pytest.raises(openid.KeysUnavailableError):
        verify(openid.Verifier(down, clock), issuer.token(clock))


def test_fetch_json_turns_a_dead_host_into_keys_unavailable() -> None:
    with pytest.raises(openid.KeysUnavailableError, match="ConnectionError"):
        openid.fetch_json("http://127.0.0.1:9/.well-known/openid-configuration")


def test_xeros_discovery_sits_beside_its_token_endpoint() -> None:
    production = LedgerApp(token_url="https://identity.xero.com/connect/token")
    pinned = LedgerApp(discovery_url="https://id.example/.well-known/x")
    quickbooks = LedgerApp(discovery_url=DISCOVERY)

    assert (
        openid.discovery_url("xero", production)
        == "https://identity.xero.com/.well-known/openid-configuration"
    )
    assert openid.discovery_url("xero", pinned) == "https://id.example/.well-known/x"
    assert openid.discovery_url("quickbooks", quickbooks) == DISCOVERY
