"""Throttling (the XML 429), injected 5xx, latency, and the request log."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import requests
from quickbooks.exceptions import QuickbooksException, SevereException
from quickbooks.objects.invoice import Invoice


def _get(server, realm: str, token: str) -> requests.Response:
    return requests.get(
        f"{server.url}/v3/company/{realm}/invoice/1001",
        params={"minorversion": "75"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=10,
    )


def test_501st_call_in_a_minute_meets_the_xml_429(
    sandbox, company, server, clock
) -> None:
    token = sandbox.issue_tokens(company)["access_token"]

    statuses = [_get(server, company, token).status_code for _ in range(501)]

    assert statuses[:500] == [200] * 500
    last = _get(server, company, token)
    assert statuses[500] == last.status_code == 429
    assert last.headers["Content-Type"].startswith("application/xml")
    assert '<Error code="3001"' in last.text
    assert "statusCode=429" in last.text
    clock.advance(timedelta(seconds=61))  # the window is on the sandbox's clock
    assert _get(server, company, token).status_code == 200


def test_sdk_raises_quickbooks_exception_naming_throttle_exceeded(
    sandbox, company, connect
) -> None:
    qb = connect(company)
    sandbox.minute.limit = 2  # reach the limit in three calls instead of 501

    Invoice.get("1001", qb=qb)
    Invoice.get("1001", qb=qb)
    with pytest.raises(QuickbooksException) as caught:
        Invoice.get("1001", qb=qb)

    assert caught.value.error_code == 10000
    assert "ThrottleExceeded" in caught.value.message


def test_more_than_ten_in_flight_per_realm_get_429(sandbox, company, server) -> None:
    token = sandbox.issue_tokens(company)["access_token"]
    sandbox.faults.latency = 0.3  # hold each call open long enough to overlap
    statuses: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        status = _get(server, company, token).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=call) for _ in range(14)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses.count(429) >= 1
    assert statuses.count(200) >= 10
    assert sandbox.in_flight.peak[company] == 10


def test_rate_limits_off_lets_everything_through(sandbox, company, server) -> None:
    sandbox.faults.rate_limits = False
    sandbox.minute.limit = 1
    token = sandbox.issue_tokens(company)["access_token"]

    assert [_get(server, company, token).status_code for _ in range(5)] == [200] * 5


def test_error_rate_answers_5xx_system_faults(sandbox, company, connect) -> None:
    qb = connect(company)
    sandbox.faults.error_rate = 1.0

    with pytest.raises(SevereException) as caught:
        Invoice.get("1001", qb=qb)

    assert caught.value.error_code == 10000
    assert sandbox.log.entries()[-1].status == 503


def test_stall_holds_the_answer_past_a_client_timeout(sandbox, company, server) -> None:
    token = sandbox.issue_tokens(company)["access_token"]
    sandbox.faults.stall = 0.5
    started = time.perf_counter()

    with pytest.raises(requests.Timeout):
        requests.get(
            f"{server.url}/v3/company/{company}/invoice/1001",
            headers={"Authorization": f"Bearer {token}"},
            timeout=0.2,
        )

    assert time.perf_counter() - started < 0.5


def test_request_log_names_the_realm_and_token_grant_type(
    sandbox, company, connect
) -> None:
    qb = connect(company)
    Invoice.get("1001", qb=qb)

    entries = sandbox.log.entries()

    token_call = next(e for e in entries if e.path == "/oauth2/v1/tokens/bearer")
    api_call = entries[-1]
    assert token_call.grant_type == "refresh_token" and token_call.tenant == company
    assert (api_call.method, api_call.path, api_call.status) == (
        "GET",
        f"/v3/company/{company}/invoice/1001",
        200,
    )
    assert api_call.tenant == company
