"""Fault controls and the request log of the Xero sandbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests

from app.clock import SimulatedClock
from connectors.sandbox.xero import XeroSandbox, wire
from tests.sandbox.xero.conftest import ORG_ID


def test_error_rate_answers_500s(sandbox: XeroSandbox, headers: dict) -> None:
    sandbox.faults.error_rate = 1.0
    client = sandbox.app.test_client()

    response = client.get("/api.xro/2.0/Invoices", headers=headers)

    assert response.status_code == 500
    sandbox.faults.error_rate = 0.0
    assert client.get("/api.xro/2.0/Invoices", headers=headers).status_code == 200


def test_a_stalled_call_times_the_client_out(
    sandbox: XeroSandbox, headers: dict
) -> None:
    server = sandbox.start()
    sandbox.faults.stall = 1.0

    with pytest.raises(requests.Timeout):
        requests.get(f"{server.url}/api.xro/2.0/Invoices", headers=headers, timeout=0.2)


def test_request_log_names_tenant_and_grant_type(
    sandbox: XeroSandbox, headers: dict, tokens: dict
) -> None:
    client = sandbox.app.test_client()
    sandbox.log.clear()

    client.get("/api.xro/2.0/Invoices?page=1", headers=headers)
    client.post(
        "/connect/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": "care-sandbox-xero",
            "client_secret": "care-sandbox-xero-secret",
        },
    )

    api, token = sandbox.log.entries()
    assert (api.method, api.path, api.status, api.tenant, api.query) == (
        "GET",
        "/api.xro/2.0/Invoices",
        200,
        ORG_ID,
        "page=1",
    )
    assert (token.path, token.grant_type, token.status) == (
        "/connect/token",
        "refresh_token",
        200,
    )


def test_expire_access_tokens_makes_calls_401(
    sandbox: XeroSandbox, headers: dict, clock: SimulatedClock
) -> None:
    clock.advance(timedelta(minutes=1))

    sandbox.expire_access_tokens()

    response = sandbox.app.test_client().get("/api.xro/2.0/Invoices", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["Detail"] == (
        "TokenExpired: token expired at 05/01/2025 12:01:00"
    )


def test_overpayment_allocation_from_loaded_data(
    sandbox: XeroSandbox, headers: dict
) -> None:
    contact = {
        "ContactID": "4c77aedf-5c48-47a5-ad55-9a511fe17d64",
        "Name": "Miller Print",
    }
    invoice = sandbox.save_invoice(
        ORG_ID,
        {
            "Type": "ACCREC",
            "Contact": {"Name": "Miller Print"},
            "DueDate": "2025-03-25",
            "Status": "AUTHORISED",
            "LineItems": [{"Description": "Flyers", "UnitAmount": "80.00"}],
        },
    )
    contact["ContactID"] = invoice["Contact"]["ContactID"]
    overpayment = {
        "OverpaymentID": "09b5d4b4-0ed4-4cda-bdbd-8a9485202c21",
        "Type": "RECEIVE-OVERPAYMENT",
        "Contact": contact,
        "Status": "AUTHORISED",
        "Total": wire.loads("25.00"),
        "RemainingCredit": wire.loads("25.00"),
        "CurrencyCode": "NZD",
        "Allocations": [],
    }
    sandbox.load(ORG_ID, {"Overpayments": [overpayment]})
    client = sandbox.app.test_client()

    response = client.put(
        f"/api.xro/2.0/Overpayments/{overpayment['OverpaymentID']}/Allocations",
        data=wire.dumps(
            {
                "Allocations": [
                    {
                        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                        "Amount": wire.loads("25.00"),
                    }
                ]
            }
        ),
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 200
    (stored_invoice,) = sandbox.objects(ORG_ID, "Invoices")
    (stored_overpayment,) = sandbox.objects(ORG_ID, "Overpayments")
    assert str(stored_invoice["AmountDue"]) == "55.00"
    assert str(stored_invoice["AmountCredited"]) == "25.00"
    assert stored_invoice["Overpayments"][0]["AppliedAmount"] == wire.loads("25.00")
    assert (
        str(stored_overpayment["RemainingCredit"]),
        stored_overpayment["Status"],
    ) == (
        "0.00",
        "PAID",
    )


def test_stop_ends_the_server(make_sandbox: Any) -> None:
    sandbox: XeroSandbox = make_sandbox()
    server = sandbox.start()

    sandbox.stop()

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/.well-known/openid-configuration", timeout=1)
