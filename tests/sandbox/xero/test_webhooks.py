"""Xero webhooks from the sandbox: signatures a plain HMAC verifies (case C20), the
intent-to-receive handshake, events on writes, and retries on the sandbox clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask, request

from app.clock import SimulatedClock
from connectors.sandbox.server import ServerThread
from connectors.sandbox.xero import XeroSandbox
from connectors.sandbox.xero.webhooks import payload, sign
from tests.sandbox.xero.conftest import ORG_ID, data_json

C20 = data_json("cases/C20.json")["input"]
KEY = C20["webhook_key"]


def plain_hmac(body: bytes, key: str) -> str:
    """What a receiver computes: base64 HMAC-SHA256 of the raw body, nothing else."""
    return base64.b64encode(
        hmac.new(key.encode(), body, hashlib.sha256).digest()
    ).decode()


class Receiver:
    """A webhook endpoint that checks signatures the documented way."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.bodies: list[bytes] = []
        self.forced: list[int] = []  # statuses to answer next, whatever the signature
        self.accept_everything = False
        app = Flask("receiver")
        app.add_url_rule("/xero/webhooks", "hook", self._hook, methods=["POST"])
        self.server = ServerThread(app).start()
        self.url = f"{self.server.url}/xero/webhooks"

    def _hook(self) -> tuple[str, int]:
        raw = request.get_data()
        self.bodies.append(raw)
        if self.forced:
            return "", self.forced.pop(0)
        good = hmac.compare_digest(
            plain_hmac(raw, self.key), request.headers.get("x-xero-signature", "")
        )
        return "", 200 if good or self.accept_everything else 401


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(KEY)
    yield made
    made.server.stop()


def test_c20_signatures_of_recorded_deliveries() -> None:
    d1, d2, d3 = C20["deliveries"]

    assert sign(d1["raw_body"].encode(), KEY) == d1["headers"]["x-xero-signature"]
    assert sign(d3["raw_body"].encode(), KEY) == d3["headers"]["x-xero-signature"]
    assert sign(d2["raw_body"].encode(), KEY) != d2["headers"]["x-xero-signature"]
    # Re-serialising the body changes the bytes and so the signature: sign raw bytes.
    compact = json.dumps(json.loads(d1["raw_body"]), separators=(",", ":")).encode()
    assert sign(compact, KEY) == C20["reference_hmac_of_compact_redump_of_D1"]
    assert sign(compact, KEY) != d1["headers"]["x-xero-signature"]


def test_sandbox_lays_out_bodies_as_xero_does() -> None:
    d1, _, d3 = C20["deliveries"]
    events = json.loads(d3["raw_body"])["events"]

    assert payload([], 0, 0, "QZKXWMNRTPLVBJHDGFCS").decode() == d1["raw_body"]
    assert payload(events, 41, 41, "MHGTRWQPLKZXCVBNJSDA").decode() == d3["raw_body"]


def test_c20_intent_to_receive_against_a_correct_receiver(
    make_sandbox: Any, receiver: Receiver
) -> None:
    sandbox: XeroSandbox = make_sandbox(webhook_key=KEY, webhook_url=receiver.url)

    result = sandbox.probe_intent_to_receive()

    assert (result.good_status, result.bad_status) == (200, 401)
    assert result.ok
    good, bad = receiver.bodies
    assert json.loads(good)["events"] == [] and json.loads(bad)["events"] == []


def test_intent_to_receive_fails_a_receiver_that_skips_the_check(
    make_sandbox: Any, receiver: Receiver
) -> None:
    sandbox: XeroSandbox = make_sandbox(webhook_key=KEY, webhook_url=receiver.url)
    receiver.accept_everything = True

    result = sandbox.probe_intent_to_receive()

    assert (result.good_status, result.bad_status) == (200, 200)
    assert not result.ok
    assert sandbox.webhooks.enabled is False


def test_c20_a_payment_sends_a_signed_invoice_update(
    make_sandbox: Any, receiver: Receiver, clock: SimulatedClock
) -> None:
    sandbox: XeroSandbox = make_sandbox(webhook_key=KEY, webhook_url=receiver.url)
    sandbox.add_organisation(
        data_json("organisation_get_demo_company_nz.json")["Organisations"][0]
    )
    invoice = sandbox.save_invoice(ORG_ID, _invoice())
    sandbox.deliver_webhooks()
    receiver.bodies.clear()
    clock.advance(timedelta(minutes=5))

    sandbox.pay_invoice(ORG_ID, invoice["InvoiceID"], "300.00", date(2025, 5, 1))
    deliveries = sandbox.deliver_webhooks()

    assert len(deliveries) == 1 and deliveries[0].done
    (raw,) = receiver.bodies
    body = json.loads(raw)
    url = f"{sandbox.webhooks.api_base}/Invoices/{invoice['InvoiceID']}"
    assert body["events"] == [
        {
            "resourceUrl": url,
            "resourceId": invoice["InvoiceID"],
            "eventDateUtc": "2025-05-01T12:05:00.000",
            "eventType": "UPDATE",
            "eventCategory": "INVOICE",
            "tenantId": ORG_ID,
            "tenantType": "ORGANISATION",
        }
    ]
    # The invoice's CREATE and the contact's CREATE went first: sequences 1-2, then 3.
    assert (body["firstEventSequence"], body["lastEventSequence"]) == (3, 3)
    assert re.fullmatch(
        r'\{"events":\[.*\],"firstEventSequence": 3,'
        r'"lastEventSequence": 3, "entropy": "[A-Z]{20}"\}',
        raw.decode(),
    )


def test_failed_delivery_is_retried_with_backoff_on_the_clock(
    make_sandbox: Any, receiver: Receiver, clock: SimulatedClock
) -> None:
    sandbox: XeroSandbox = make_sandbox(webhook_key=KEY, webhook_url=receiver.url)
    sandbox.add_organisation({"Name": "Kiwi Tiles", "BaseCurrency": "NZD"}, ORG_ID)
    sandbox.save_invoice(ORG_ID, _invoice())
    receiver.forced = [503, 500]

    first = sandbox.deliver_webhooks()  # fails: next try in 1 minute
    clock.advance(timedelta(seconds=59))
    early = sandbox.deliver_webhooks()  # not due yet: nothing sent
    clock.advance(timedelta(seconds=1))
    second = sandbox.deliver_webhooks()  # fails again: next try in 2 minutes
    clock.advance(timedelta(minutes=2))
    third = sandbox.deliver_webhooks()  # the receiver is back

    assert [len(first), len(early), len(second), len(third)] == [1, 0, 1, 1]
    delivery = first[0]
    assert delivery.statuses == [503, 500, 200]
    assert delivery.done
    assert len(set(receiver.bodies)) == 1  # every retry sends the same bytes


def test_webhook_is_disabled_after_24_hours_of_failures(
    make_sandbox: Any, receiver: Receiver, clock: SimulatedClock
) -> None:
    sandbox: XeroSandbox = make_sandbox(webhook_key=KEY, webhook_url=receiver.url)
    sandbox.add_organisation({"Name": "Kiwi Tiles", "BaseCurrency": "NZD"}, ORG_ID)
    sandbox.save_invoice(ORG_ID, _invoice())
    receiver.forced = [500] * 100

    sandbox.deliver_webhooks()
    for _ in range(40):
        clock.advance(timedelta(hours=1))
        sandbox.deliver_webhooks()

    (delivery,) = sandbox.webhooks.deliveries
    assert delivery.dropped and not delivery.done
    assert sandbox.webhooks.enabled is False
    # Back-off never exceeds an hour, so hourly ticks try once each: at 0 h, 1 h, ...,
    # 24 h; the attempt at 24 h is the last (a day of failures) and drops it: 25.
    assert delivery.attempts == 25
    assert sandbox.deliver_webhooks() == []  # nothing is tried after that


def _invoice() -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "InvoiceNumber": "INV-0042",
        "Contact": {"Name": "Tui Landscaping Ltd"},
        "Date": "2025-03-01",
        "DueDate": "2025-03-25",
        "Status": "AUTHORISED",
        "LineAmountTypes": "NoTax",
        "LineItems": [{"Description": "Hedges", "Quantity": 1, "UnitAmount": "300.00"}],
    }


def test_credit_note_events_carry_type_and_status(
    make_sandbox: Any, receiver: Receiver
) -> None:
    sandbox: XeroSandbox = make_sandbox(webhook_key=KEY, webhook_url=receiver.url)
    sandbox.add_organisation({"Name": "Kiwi Tiles", "BaseCurrency": "NZD"}, ORG_ID)
    reply = sandbox.issue_tokens()
    headers = {
        "Authorization": f"Bearer {reply['access_token']}",
        "xero-tenant-id": ORG_ID,
    }
    note = {
        "Type": "ACCRECCREDIT",
        "Contact": {"Name": "Tui Landscaping Ltd"},
        "Status": "AUTHORISED",
        "LineItems": [{"Description": "Refund", "UnitAmount": "20.00"}],
    }

    sandbox.app.test_client().put(
        "/api.xro/2.0/CreditNotes", json=note, headers=headers
    )
    sandbox.deliver_webhooks()

    events = json.loads(receiver.bodies[0])["events"]
    assert [(e["eventCategory"], e["eventType"]) for e in events] == [
        ("CONTACT", "CREATE"),
        ("CREDITNOTE", "CREATE"),
    ]
    assert events[1]["data"] == {"Type": "ACCRECCREDIT", "Status": "AUTHORISED"}
