"""Webhooks: Intuit's signature, CloudEvents and legacy bodies, retries on the clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask, request
from quickbooks import QuickBooks

from connectors.sandbox.quickbooks import QuickBooksSandbox
from connectors.sandbox.quickbooks.webhooks import RETRY_SCHEDULE
from connectors.sandbox.server import ServerThread
from tests.sandbox.quickbooks.conftest import DATA, invoice_json


def _hmac(key: str, body: bytes) -> str:
    return base64.b64encode(
        hmac.new(key.encode(), body, hashlib.sha256).digest()
    ).decode()


class Receiver:
    """An app's webhook endpoint: records raw bodies, answers the statuses queued."""

    def __init__(self) -> None:
        self.bodies: list[tuple[bytes, str]] = []
        self.answers: list[int] = []
        app = Flask("receiver")

        @app.post("/hooks/qbo")
        def hook() -> tuple[str, int]:
            self.bodies.append(
                (request.get_data(), request.headers["intuit-signature"])
            )
            return "", self.answers.pop(0) if self.answers else 200

        self.server = ServerThread(app).start()
        self.url = self.server.url + "/hooks/qbo"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.stop()


@pytest.fixture
def hooked(clock, receiver) -> Iterator[QuickBooksSandbox]:
    sandbox = QuickBooksSandbox(
        clock=clock, webhook_url=receiver.url, verifier_token="TESTONLY-verifier-41aa"
    )
    realm = sandbox.add_company({"CompanyName": "Hooks"}, realm_id="9130354426181920")
    sandbox.load(
        realm,
        {
            "Customer": [{"Id": "64", "DisplayName": "Delgado-Whitfield Events"}],
            "Invoice": [invoice_json("1042", "64", "300.00", clock.now().date())],
        },
        notify=False,
    )
    yield sandbox
    sandbox.stop()


def test_intuit_signed_vector_verifies_with_a_plain_hmac() -> None:
    vector = json.loads((DATA / "webhook_legacy_signed_vector.json").read_text())

    ours = _hmac(vector["verifier_token"], vector["raw_body"].encode())

    assert ours == vector["intuit_signature"]
    assert QuickBooks().validate_webhook_signature(
        vector["raw_body"], vector["intuit_signature"], vector["verifier_token"]
    )


def test_payment_sends_signed_cloudevents_for_payment_and_invoice(
    hooked, receiver
) -> None:
    payment_id = hooked.pay_invoice("9130354426181920", "1042", "300.00")

    assert hooked.deliver_pending() == 1

    raw, signature = receiver.bodies[0]
    assert signature == _hmac("TESTONLY-verifier-41aa", raw)
    events = json.loads(raw)
    assert [(e["type"], e["intuitentityid"]) for e in events] == [
        ("qbo.payment.created.v1", payment_id),
        ("qbo.invoice.updated.v1", "1042"),
    ]
    assert {e["intuitaccountid"] for e in events} == {"9130354426181920"}
    assert all(e["specversion"] == "1.0" for e in events)
    assert events[0]["time"] == "2025-05-01T12:00:00.000Z"


def test_legacy_format_groups_entities_by_realm(clock, receiver) -> None:
    sandbox = QuickBooksSandbox(
        clock=clock, webhook_url=receiver.url, webhook_format="legacy"
    )
    realm = sandbox.add_company(
        {"CompanyName": "Legacy"}, timezone="America/Los_Angeles"
    )

    sandbox.load(realm, {"Customer": [{"Id": "1", "DisplayName": "Tui Landscaping"}]})
    sandbox.deliver_pending()

    body = json.loads(receiver.bodies[0][0])
    assert body == {
        "eventNotifications": [
            {
                "realmId": realm,
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": "Customer",
                            "id": "1",
                            "operation": "Create",
                            "lastUpdated": "2025-05-01T05:00:00-0700",
                        }
                    ]
                },
            }
        ]
    }


def test_failed_delivery_is_retried_on_the_schedule_then_dropped(
    hooked, receiver, clock
) -> None:
    receiver.answers = [500] * (len(RETRY_SCHEDULE) + 1)
    hooked.write(
        "9130354426181920",
        "Invoice",
        {"Id": "1042", "SyncToken": "0", "sparse": True, "PrivateNote": "n"},
    )

    assert hooked.deliver_pending() == 0
    assert hooked.deliver_pending() == 0  # not due again for 10 s of sandbox time
    assert len(receiver.bodies) == 1
    for wait in RETRY_SCHEDULE:
        clock.advance(wait)
        assert hooked.deliver_pending() == 0

    delivery = hooked.notifier.deliveries[0]
    assert delivery.dropped and delivery.attempts == len(RETRY_SCHEDULE) + 1
    assert len(receiver.bodies) == len(RETRY_SCHEDULE) + 1
    assert len({body for body, _ in receiver.bodies}) == 1  # the same bytes each time


def test_retry_succeeds_after_a_failure(hooked, receiver, clock) -> None:
    receiver.answers = [503]
    hooked.pay_invoice("9130354426181920", "1042", "10.00")

    hooked.deliver_pending()
    clock.advance(timedelta(seconds=10))

    assert hooked.deliver_pending() == 1
    assert hooked.notifier.deliveries[0].statuses == [503, 200]


def test_background_thread_delivers_when_serving(hooked, receiver) -> None:
    hooked.start()
    hooked.pay_invoice("9130354426181920", "1042", "10.00")

    deadline = time.monotonic() + 5
    while not receiver.bodies and time.monotonic() < deadline:
        time.sleep(0.05)

    assert len(receiver.bodies) == 1


def test_api_write_over_http_notifies(hooked, receiver) -> None:
    import requests

    server = hooked.start(webhooks_in_background=False)
    token = hooked.issue_tokens("9130354426181920")["access_token"]
    requests.post(
        f"{server.url}/v3/company/9130354426181920/invoice",
        data=json.dumps(
            {"Id": "1042", "SyncToken": "0", "sparse": True, "PrivateNote": "w"}
        ),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
        timeout=5,
    ).raise_for_status()

    hooked.deliver_pending()

    assert json.loads(receiver.bodies[0][0])[0]["type"] == "qbo.invoice.updated.v1"
