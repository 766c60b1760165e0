"""Xero's per-tenant rate limits in the sandbox (case C28's answers): 60 a minute,
5,000 a day, 5 in flight, the remaining-calls headers, and the off switch."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import requests

from app.clock import SimulatedClock
from connectors.sandbox.xero import XeroSandbox
from tests.sandbox.xero.conftest import ORG_ID

OTHER = "7d2f0c8a-41b6-4c1e-9a57-3e0b5c2d9f10"


def test_every_answer_carries_the_remaining_calls(
    sandbox: XeroSandbox, headers: dict
) -> None:
    client = sandbox.app.test_client()

    first = client.get("/api.xro/2.0/Organisation", headers=headers)
    second = client.get("/api.xro/2.0/Invoices", headers=headers)

    assert first.headers["X-MinLimit-Remaining"] == "59"
    assert first.headers["X-DayLimit-Remaining"] == "4999"
    assert first.headers["X-AppMinLimit-Remaining"] == "9999"
    assert second.headers["X-MinLimit-Remaining"] == "58"
    assert second.headers["X-DayLimit-Remaining"] == "4998"


def test_61st_call_in_a_minute_gets_429_minute(
    sandbox: XeroSandbox, headers: dict, clock: SimulatedClock
) -> None:
    client = sandbox.app.test_client()
    for _ in range(60):
        assert client.get("/api.xro/2.0/Currencies", headers=headers).status_code == 200
    clock.advance(timedelta(seconds=43))

    refused = client.get("/api.xro/2.0/Currencies", headers=headers)

    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert refused.headers["Retry-After"] == "17"  # the 60 calls were at 12:00:00
    assert refused.headers["X-MinLimit-Remaining"] == "0"
    clock.advance(timedelta(seconds=17))
    assert client.get("/api.xro/2.0/Currencies", headers=headers).status_code == 200


def test_limits_are_per_tenant(sandbox: XeroSandbox, headers: dict) -> None:
    sandbox.add_organisation({"Name": "Tenant B", "BaseCurrency": "AUD"}, OTHER)
    reply = sandbox.issue_tokens()
    client = sandbox.app.test_client()
    a = {"Authorization": f"Bearer {reply['access_token']}", "xero-tenant-id": ORG_ID}
    b = {**a, "xero-tenant-id": OTHER}
    for _ in range(60):
        client.get("/api.xro/2.0/Currencies", headers=a)

    assert client.get("/api.xro/2.0/Currencies", headers=a).status_code == 429
    healthy = client.get("/api.xro/2.0/Currencies", headers=b)
    assert healthy.status_code == 200
    assert healthy.headers["X-MinLimit-Remaining"] == "59"


def test_rate_limits_off_answers_everything(make_sandbox: Any) -> None:
    sandbox: XeroSandbox = make_sandbox(rate_limits=False)
    sandbox.add_organisation({"Name": "Kiwi Tiles"}, ORG_ID)
    reply = sandbox.issue_tokens()
    headers = {
        "Authorization": f"Bearer {reply['access_token']}",
        "xero-tenant-id": ORG_ID,
    }
    client = sandbox.app.test_client()

    statuses = {
        client.get("/api.xro/2.0/Currencies", headers=headers).status_code
        for _ in range(75)
    }

    assert statuses == {200}


def test_sixth_call_in_flight_gets_429_concurrent(
    sandbox: XeroSandbox, headers: dict
) -> None:
    server = sandbox.start()
    sandbox.faults.latency = 1.0  # each call holds its slot for a second

    def call(_: int) -> requests.Response:
        return requests.get(
            f"{server.url}/api.xro/2.0/Organisation", headers=headers, timeout=10
        )

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(call, range(6)))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 200, 200, 200, 200, 429]
    (refused,) = [a for a in answers if a.status_code == 429]
    assert refused.headers["X-Rate-Limit-Problem"] == "concurrent"
    assert sandbox.limits.in_flight.peak[ORG_ID] == 5
