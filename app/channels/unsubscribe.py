"""Signed unsubscribe tokens for List-Unsubscribe links (RFC 2369, RFC 8058).

A token names who is unsubscribing (e.g. "debtor:42") and carries an HMAC of that
name under the app's secret, so the one-click endpoint can trust it without a login
and without a database lookup to find out whom it is about.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from urllib.parse import quote

PURPOSE = b"care-unsubscribe\0"  # keeps these MACs apart from any other use of the key


class BadUnsubscribeTokenError(ValueError):
    """The token is malformed or was not signed with our secret."""


def make_token(secret: str, subject: str) -> str:
    """A URL-safe token naming `subject`, signed with `secret`."""
    if not secret:
        raise ValueError("an unsubscribe token needs a secret")
    if not subject:
        raise ValueError("an unsubscribe token needs a subject")
    payload = subject.encode("utf-8")
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def read_token(secret: str, token: str) -> str:
    """The subject `token` names; BadUnsubscribeTokenError unless we signed it."""
    encoded, _, signature = token.strip().partition(".")
    try:
        payload = _unb64(encoded)
        given = _unb64(signature)
    except (binascii.Error, ValueError) as exc:
        raise BadUnsubscribeTokenError("malformed unsubscribe token") from exc
    if not payload or not hmac.compare_digest(given, _mac(secret, payload)):
        raise BadUnsubscribeTokenError("unsubscribe token signature does not match")
    return payload.decode("utf-8")


def links(secret: str, subject: str, base_url: str, mailbox: str) -> tuple[str, str]:
    """The https one-click URL and the mailto URL for `subject`."""
    token = make_token(secret, subject)
    https = f"{base_url.rstrip('/')}/unsubscribe/{token}"
    mailto = f"mailto:{mailbox}?subject={quote('unsubscribe ' + token)}"
    return https, mailto


def _mac(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), PURPOSE + payload, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
