"""QuickBooks Online errors, named for what the caller does next.

python-quickbooks 0.9.12 and intuit-oauth 1.2.6 raise their own exceptions; `classify`
turns each into one of the neutral family in `connectors.base` (LEDGER-APIS.md,
"Classifying SDK errors"). Retry decisions live here and in the client's call loop,
nowhere else.
"""

from __future__ import annotations

import random

import requests
from intuitlib.exceptions import AuthClientError
from quickbooks import exceptions as qbx

from connectors.base import (
    FixError,
    LedgerError,
    ReconnectError,
    RetryError,
    StaleError,
    WaitError,
)

# NOTE: QBO answers a throttled call with an XML body, which python-quickbooks cannot
# parse, so it raises QuickbooksException(10000) with the XML in the message and no
# status. Intuit asks for a 60 s pause after a 429 (blog "IDG concurrent API use").
THROTTLE_WAIT = 60.0
STALE_OBJECT = 5010


class QuickBooksReconnectError(ReconnectError):
    """The grant is gone: a person must reconnect the company."""


class QuickBooksWaitError(WaitError):
    """QBO throttled the realm (429): wait `retry_after` seconds."""


class QuickBooksRetryError(RetryError):
    """A transient fault (5xx, timeout, severe error): retry with backoff."""


class QuickBooksStaleError(StaleError):
    """Stale SyncToken (5010): re-read the object, then retry."""


class QuickBooksFixError(FixError):
    """QBO refused the request as wrong (validation, 6xxx, 610): do not retry."""


class QuickBooksNotFoundError(QuickBooksFixError):
    """Fault 610: the object is gone (deleted in QBO, or never existed)."""


def is_unauthorized(exc: BaseException) -> bool:
    """True for the 401 python-quickbooks raises for an expired or revoked token."""
    return isinstance(exc, qbx.AuthorizationException) and exc.error_code == 401


def is_throttled(exc: BaseException) -> bool:
    """True for QBO's 429, which arrives as an unparsed XML or JSON fault."""
    if not isinstance(exc, qbx.QuickbooksException):
        return False
    text = f"{exc.message} {exc.detail}"
    return (
        "ThrottleExceeded" in text
        or "statusCode=429" in text
        or (exc.error_code == 3001)
    )


def is_invalid_grant(exc: AuthClientError) -> bool:
    """True when the token endpoint refused a refresh token or code."""
    body = exc.content.decode("utf-8", "replace") if exc.content else ""
    return exc.status_code == 400 and "invalid_grant" in body


def classify(exc: BaseException) -> LedgerError:
    """The neutral error for an SDK or transport exception (401 is the caller's)."""
    if isinstance(exc, LedgerError):
        return exc
    if isinstance(exc, requests.Timeout | requests.ConnectionError):
        return QuickBooksRetryError(f"QuickBooks did not answer in time: {exc}")
    if isinstance(exc, AuthClientError):
        return _classify_auth_client(exc)
    if not isinstance(exc, qbx.QuickbooksException):
        raise TypeError(f"not a QuickBooks error: {exc!r}") from exc
    if is_throttled(exc):
        return QuickBooksWaitError(
            "QuickBooks throttled the realm (429)",
            retry_after=THROTTLE_WAIT,
            scope="minute",
            status=429,
        )
    return _classify_fault(exc)


def _classify_fault(exc: qbx.QuickbooksException) -> LedgerError:
    code = exc.error_code if isinstance(exc.error_code, int) else 0
    text = f"QuickBooks fault {code}: {exc.message} {exc.detail}".strip()
    if isinstance(exc, qbx.AuthorizationException):
        # Fault 100/120/3200 after the one refresh the client allows: the grant is gone.
        return QuickBooksReconnectError(text, status=401)
    if isinstance(exc, qbx.ObjectNotFoundException):
        return QuickBooksNotFoundError(text, status=404)
    if code == STALE_OBJECT:
        return QuickBooksStaleError(text, status=400)
    if "status code '403'" in (exc.message or ""):
        # 3100 ApplicationAuthorizationFailed: the app lost its access to this realm.
        return QuickBooksReconnectError(text, status=403)
    if isinstance(exc, qbx.SevereException) or _is_5xx(exc):
        return QuickBooksRetryError(text, status=503)
    return QuickBooksFixError(text, status=400)


def _is_5xx(exc: qbx.QuickbooksException) -> bool:
    # Non-JSON or fault-less non-200 answers come back as code 10000 with the status
    # in the message ("Error returned with status code '503'").
    message = exc.message or ""
    return exc.error_code == 10000 and (
        "status code '5" in message or "Error reading json response" in message
    )


def _classify_auth_client(exc: AuthClientError) -> LedgerError:
    if is_invalid_grant(exc):
        return QuickBooksReconnectError(
            "QuickBooks refused the grant (invalid_grant)", status=400
        )
    if exc.status_code >= 500 or exc.status_code == 429:
        return QuickBooksRetryError(
            f"QuickBooks token endpoint answered {exc.status_code}",
            status=exc.status_code,
        )
    if exc.status_code == 401:
        return QuickBooksReconnectError(
            "QuickBooks refused the app's credentials (invalid_client)", status=401
        )
    return QuickBooksFixError(
        f"QuickBooks token endpoint answered {exc.status_code}",
        status=exc.status_code,
    )


def backoff(
    attempt: int,
    *,
    base: float = 1.0,
    cap: float = 300.0,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number `attempt` (1-based), with jitter."""
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    ceiling = min(cap, base * 2 ** (attempt - 1))
    # Equal jitter: never less than half the exponential step, so workers that failed
    # together spread out without any of them hammering straight back.
    return (rng or random).uniform(ceiling / 2, ceiling)
