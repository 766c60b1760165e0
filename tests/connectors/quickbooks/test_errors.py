"""SDK exceptions into the neutral family, as LEDGER-APIS.md's table classifies them."""

import random

import pytest
import requests
from intuitlib.exceptions import AuthClientError
from quickbooks import exceptions as qbx

from connectors import base
from connectors.quickbooks import errors

THROTTLE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse>'
    '<Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded;'
    " errorCode=003001; statusCode=429</Message></Error></Fault></IntuitResponse>"
)


class FakeResponse:
    """What AuthClientError reads from a requests.Response."""

    def __init__(self, status: int, content: bytes) -> None:
        self.status_code = status
        self.content = content
        self.headers: dict[str, str] = {}


def test_xml_429_waits_sixty_seconds():
    exc = qbx.QuickbooksException(f"Error reading json response: {THROTTLE_XML}", 10000)
    err = errors.classify(exc)
    assert isinstance(err, errors.QuickBooksWaitError)
    assert isinstance(err, base.WaitError)
    assert err.retry_after == 60.0 and err.scope == "minute"


def test_object_not_found_is_a_fix_error_callers_can_tell_apart():
    err = errors.classify(qbx.ObjectNotFoundException("Object Not Found", 610))
    assert isinstance(err, errors.QuickBooksNotFoundError)
    assert isinstance(err, base.FixError)


def test_stale_sync_token_is_re_read_and_retry():
    err = errors.classify(qbx.QuickbooksException("Stale Object Error", 5010, "x"))
    assert isinstance(err, errors.QuickBooksStaleError)


@pytest.mark.parametrize(
    "exc",
    [
        qbx.ValidationException("Invalid query", 4000),
        qbx.ObjectNotFoundException("Object Not Found", 610),
        qbx.QuickbooksException("Duplicate Document Number Error", 6140),
        qbx.UnsupportedException("Unsupported Operation", 500),
    ],
)
def test_request_faults_are_fix_errors(exc):
    assert isinstance(errors.classify(exc), errors.QuickBooksFixError)


@pytest.mark.parametrize(
    "exc",
    [
        qbx.SevereException("Internal error", 10000),
        qbx.QuickbooksException("Error returned with status code '503': down", 10000),
        qbx.QuickbooksException("Error reading json response: <html>502</html>", 10000),
        requests.Timeout("read timed out"),
        requests.ConnectionError("reset"),
    ],
)
def test_transient_faults_are_retry_errors(exc):
    assert isinstance(errors.classify(exc), errors.QuickBooksRetryError)


def test_401_is_recognised_for_the_one_refresh():
    exc = qbx.AuthorizationException("Application authentication failed", 401)
    assert errors.is_unauthorized(exc)
    # Once the refresh is spent, the same 401 means the grant is gone.
    assert isinstance(errors.classify(exc), errors.QuickBooksReconnectError)


def test_403_application_authorization_failed_means_reconnect():
    message = 'Error returned with status code \'403\': {"fault": {"code": "3100"}}'
    err = errors.classify(qbx.QuickbooksException(message, 10000))
    assert isinstance(err, errors.QuickBooksReconnectError) and err.status == 403


def test_invalid_grant_on_the_token_endpoint_means_reconnect():
    exc = AuthClientError(FakeResponse(400, b'{"error":"invalid_grant"}'))
    assert errors.is_invalid_grant(exc)
    assert isinstance(errors.classify(exc), base.ReconnectError)


def test_token_endpoint_5xx_is_retried():
    exc = AuthClientError(FakeResponse(502, b"bad gateway"))
    assert isinstance(errors.classify(exc), errors.QuickBooksRetryError)


def test_backoff_doubles_with_jitter_and_caps():
    rng = random.Random(7)
    waits = [errors.backoff(n, base=1.0, cap=30.0, rng=rng) for n in range(1, 8)]
    for attempt, wait in enumerate(waits, start=1):
        ceiling = min(30.0, 2 ** (attempt - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert len({round(w, 6) for w in waits}) == len(waits)


def test_backoff_counts_from_one():
    with pytest.raises(ValueError, match="from 1"):
        errors.backoff(0)
