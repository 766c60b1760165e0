"""Xero's error family, and the one place that turns xero-python's exceptions into it.

xero-python (15.x) raises `RateLimitException` (429), `NotFoundException` (404),
`AccountingBadRequestException` (400) and a bare `HTTPStatusException` for the rest;
urllib3 raises its own errors for timeouts and refused connections. Each becomes the
neutral error that says what the caller does next (connectors/base.py).
"""

from __future__ import annotations

import json
import logging
import random
from typing import Any

import urllib3
from xero_python.exceptions import (
    ApiException,
    HTTPStatusException,
    NotFoundException,
    RateLimitException,
)

from connectors.base import (
    FixError,
    LedgerError,
    ReconnectError,
    RetryError,
    StaleError,
    WaitError,
)

logger = logging.getLogger(__name__)

# The first retry waits about a second, then doubling up to five minutes.
BACKOFF_BASE = 1.0
BACKOFF_CAP = 300.0


class XeroReconnectError(ReconnectError):
    """Xero refused the grant or the tenant: a person must reconnect."""


class XeroWaitError(WaitError):
    """Xero's minute or day limit: no call to this tenant before `retry_after`."""


class XeroRetryError(RetryError):
    """A 5xx, a timeout or a dropped connection: retry with `backoff`."""


class XeroStaleError(StaleError):
    """Not raised by Xero (no optimistic versions); here so the family is complete."""


class XeroFixError(FixError):
    """Xero refused the request as wrong (400 validation, 404): retrying won't help."""


def backoff(attempt: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1-based): full jitter."""
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
    # Full jitter spreads workers that failed together so they do not return together.
    return (rng or random).uniform(ceiling / 2, ceiling)


def body_of(exc: ApiException) -> Any:
    """The parsed JSON body of an SDK exception, or its text, or None."""
    raw = exc.body
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    try:
        return json.loads(text)
    except ValueError:
        return text


def is_invalid_grant(exc: ApiException) -> bool:
    """True when the body is OAuth's `{"error": "invalid_grant"}`."""
    body = body_of(exc)
    return isinstance(body, dict) and body.get("error") == "invalid_grant"


def header(exc: ApiException, name: str) -> str | None:
    """A response header of the exception, case-insensitively."""
    headers = exc.headers or {}
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value)
    return None


def retry_after(exc: ApiException, default: float) -> float:
    """Seconds from the Retry-After header, or `default` when it is absent or bad."""
    raw = header(exc, "Retry-After")
    try:
        return max(1.0, float(raw)) if raw is not None else default
    except ValueError:
        return default


def rate_limit_scope(exc: ApiException) -> str:
    """`minute` or `day` from X-Rate-Limit-Problem (Xero's casing varies)."""
    problem = (header(exc, "X-Rate-Limit-Problem") or "minute").lower()
    # NOTE: Xero documents minute/day/concurrent/appminute; third-party logs also
    # show "DayLimit" and "daily". Anything naming a day stops the tenant for the day.
    if "day" in problem or "daily" in problem:
        return "day"
    if "concurrent" in problem:
        return "concurrent"
    return "minute"


def classify(exc: BaseException, *, what: str) -> LedgerError:
    """The error of our family that `exc` (raised by xero-python or urllib3) means."""
    if isinstance(exc, LedgerError):
        return exc
    if isinstance(exc, RateLimitException):
        scope = rate_limit_scope(exc)
        seconds = retry_after(exc, 60.0)
        return XeroWaitError(
            f"{what}: rate limit ({scope})",
            retry_after=seconds,
            scope=scope,
            status=429,
        )
    if isinstance(exc, HTTPStatusException):
        return _classify_status(exc, what)
    if isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError):
        return XeroRetryError(f"{what}: {type(exc).__name__}")
    if isinstance(exc, ApiException):
        # status 0: an SSL failure or a request the SDK could not build
        return XeroRetryError(f"{what}: {exc.reason}")
    raise TypeError(f"not a Xero error: {type(exc).__name__}") from exc


def _classify_status(exc: HTTPStatusException, what: str) -> LedgerError:
    status = int(getattr(exc.http_resp, "status", 0) or 0)
    if is_invalid_grant(exc):
        # NOTE: when xero-python refreshes inside an API call and the refresh fails,
        # the token endpoint's 400 surfaces as AccountingBadRequestException with
        # body {"error":"invalid_grant"} (LEDGER-APIS.md trap 15).
        return XeroReconnectError(f"{what}: invalid_grant", status=status)
    if status == 401:
        return XeroReconnectError(f"{what}: unauthorised after refresh", status=401)
    if status == 403:
        # Xero answers 403 when the tenant is no longer connected to this token.
        return XeroReconnectError(f"{what}: tenant not connected", status=403)
    if isinstance(exc, NotFoundException) or status == 404:
        return XeroFixError(f"{what}: not found", status=404)
    if status >= 500 or status in (408, 0):
        return XeroRetryError(f"{what}: HTTP {status}", status=status)
    return XeroFixError(f"{what}: {validation_message(exc)}", status=status)


def validation_message(exc: ApiException) -> str:
    """The first ValidationErrors message of a 400 body, else its Message."""
    body = body_of(exc)
    if isinstance(body, dict):
        for element in body.get("Elements") or []:
            for error in element.get("ValidationErrors") or []:
                if error.get("Message"):
                    return str(error["Message"])
        if body.get("Message"):
            return str(body["Message"])
        if body.get("Detail"):
            return str(body["Detail"])
    return f"HTTP {getattr(exc.http_resp, 'status', '?')}"
