"""The sandboxes' own webhook senders against the app served on a free port.

Xero's intent-to-receive probe (a signed and a wrongly signed empty body) and a real
invoice payment in each sandbox, delivered over HTTP with the ledger's signature.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from app.models import WebhookDelivery
from connectors.sandbox.quickbooks import QuickBooksSandbox
from connectors.sandbox.xero.sandbox import XeroSandbox
from tests.web.conftest import QBO_VERIFIER, XERO_KEY


@pytest.fixture
def served(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # shutdown() waits for serve_forever's next poll: 0.5 s apart by default.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_xero_intent_to_receive_probe_passes(served, clock) -> None:
    sandbox = XeroSandbox(
        clock=clock, webhook_url=f"{served}/webhooks/xero", webhook_key=XERO_KEY
    )
    result = sandbox.probe_intent_to_receive()
    assert (result.good_status, result.bad_status) == (200, 401)
    assert result.ok


def test_xero_probe_with_another_key_fails(served, clock) -> None:
    sandbox = XeroSandbox(
        clock=clock, webhook_url=f"{served}/webhooks/xero", webhook_key="TESTONLY-other"
    )
    assert sandbox.probe_intent_to_receive().good_status == 401


def test_quickbooks_payment_webhook_is_recorded(served, jobs, sessions, clock) -> None:
    sandbox = QuickBooksSandbox(
        clock=clock,
        verifier_token=QBO_VERIFIER,
        webhook_url=f"{served}/webhooks/quickbooks",
        seed=2,
    )
    realm = sandbox.add_company(
        {"CompanyName": "Kowhai Cafe"}, realm_id="9130354426181920"
    )
    sandbox.load(
        realm,
        {
            "Customer": [{"Id": "64", "DisplayName": "Harlow & Finch Dental"}],
            "Invoice": [
                {
                    "Id": "1187",
                    "DocNumber": "1043",
                    "CustomerRef": {"value": "64"},
                    "TxnDate": "2025-03-01",
                    "DueDate": "2025-03-31",
                    "Line": [
                        {
                            "Amount": Decimal("640.00"),
                            "DetailType": "SalesItemLineDetail",
                            "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                        }
                    ],
                }
            ],
        },
        notify=False,
    )
    sandbox.pay_invoice(realm, "1187", "640.00", on=date(2025, 5, 1))
    assert sandbox.deliver_pending() == 1
    assert len(jobs.webhooks) == 1
    with sessions() as session:
        delivery = session.scalar(sa.select(WebhookDelivery))
        assert delivery is not None and delivery.ledger == "quickbooks"
        touched = {(e["tenant"], e["entity"]) for e in delivery.payload}
    assert (realm, "Payment") in touched
