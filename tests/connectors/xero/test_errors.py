"""xero-python's exceptions sorted into reconnect / wait / retry / fix."""

from __future__ import annotations

import random

import pytest
import urllib3
from xero_python.accounting.api.exception_handler import translate_status_exception
from xero_python.exceptions import HTTPStatusException
from xero_python.rest import RESTResponse

from connectors.base import FixError, ReconnectError, RetryError, WaitError
from connectors.xero.client import parse_body
from connectors.xero.errors import (
    XeroFixError,
    XeroReconnectError,
    XeroRetryError,
    XeroWaitError,
    backoff,
    classify,
)


def sdk_error(status: int, body: bytes = b"", **headers: str) -> Exception:
    """The exception xero-python's AccountingApi raises for this response."""
    raw = urllib3.HTTPResponse(body=body, status=status, headers=headers)
    return translate_status_exception(
        HTTPStatusException(http_resp=RESTResponse(raw)), None, "get_invoices"
    )


def test_minute_429_waits_for_retry_after() -> None:
    err = classify(
        sdk_error(429, **{"Retry-After": "17", "X-Rate-Limit-Problem": "minute"}),
        what="t",
    )
    assert isinstance(err, XeroWaitError) and isinstance(err, WaitError)
    assert (err.retry_after, err.scope) == (17.0, "minute")


@pytest.mark.parametrize("problem", ["day", "DayLimit", "daily"])
def test_day_429_stops_until_reset(problem: str) -> None:
    err = classify(
        sdk_error(429, **{"Retry-After": "31400", "X-Rate-Limit-Problem": problem}),
        what="t",
    )
    assert isinstance(err, XeroWaitError)
    assert (err.retry_after, err.scope) == (31400.0, "day")


def test_429_without_retry_after_waits_a_minute() -> None:
    err = classify(sdk_error(429), what="t")
    assert isinstance(err, WaitError) and err.retry_after == 60.0


def test_invalid_grant_in_a_400_means_reconnect() -> None:
    # A refresh that failed inside an API call arrives as a 400 with this body.
    err = classify(sdk_error(400, b'{"error":"invalid_grant"}'), what="t")
    assert isinstance(err, XeroReconnectError) and isinstance(err, ReconnectError)


def test_403_tenant_disconnected_means_reconnect() -> None:
    body = b'{"Title":"Forbidden","Status":403,"Detail":"AuthorizationUnsuccessful"}'
    assert isinstance(classify(sdk_error(403, body), what="t"), XeroReconnectError)


def test_401_reaching_classify_means_reconnect() -> None:
    # The client refreshes once on a 401; one that reaches here outlived that refresh.
    assert isinstance(classify(sdk_error(401, b"{}"), what="t"), ReconnectError)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried(status: int) -> None:
    err = classify(sdk_error(status, b"oops"), what="t")
    assert isinstance(err, XeroRetryError) and isinstance(err, RetryError)
    assert err.status == status


def test_validation_400_is_fixed_not_retried() -> None:
    body = (
        b'{"ErrorNumber":10,"Type":"ValidationException","Message":"A validation'
        b' exception occurred","Elements":[{"ValidationErrors":[{"Message":'
        b'"Payment amount exceeds the amount outstanding on this document"}]}]}'
    )
    err = classify(sdk_error(400, body), what="pay")
    assert isinstance(err, XeroFixError) and isinstance(err, FixError)
    assert "exceeds the amount outstanding" in str(err)


def test_404_is_fixed() -> None:
    body = b"The resource you're looking for cannot be found"
    assert isinstance(classify(sdk_error(404, body), what="t"), XeroFixError)


def test_timeouts_and_refused_connections_are_retried() -> None:
    timeout = urllib3.exceptions.ReadTimeoutError(None, "/Invoices", "read timed out")
    refused = urllib3.exceptions.MaxRetryError(None, "/Invoices", None)
    assert isinstance(classify(timeout, what="t"), XeroRetryError)
    assert isinstance(classify(refused, what="t"), XeroRetryError)
    assert isinstance(classify(ConnectionResetError(), what="t"), XeroRetryError)


def test_cut_off_json_body_is_retried() -> None:
    raw = urllib3.HTTPResponse(body=b'{"Invoices": [{"InvoiceID": "a', status=200)
    with pytest.raises(XeroRetryError, match="unreadable JSON"):
        parse_body(raw)
    assert parse_body(urllib3.HTTPResponse(body=b"", status=200)) is None


def test_other_exceptions_are_not_swallowed() -> None:
    with pytest.raises(TypeError):
        classify(KeyError("x"), what="t")


def test_backoff_grows_with_jitter_and_caps() -> None:
    rng = random.Random(7)
    waits = [backoff(n, rng=rng) for n in range(1, 12)]
    for n, wait in enumerate(waits, start=1):
        ceiling = min(300.0, 2.0 ** (n - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert len({round(w, 6) for w in waits}) == len(waits)  # jittered, not fixed
    with pytest.raises(ValueError):
        backoff(0)
