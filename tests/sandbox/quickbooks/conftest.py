"""Fixtures for the QuickBooks sandbox tests.

Every JSON body the sandbox answers under /v3 in any test using `sandbox` is checked
against Finance.xsd: an undeclared key fails that test at teardown.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Response, request
from intuitlib.client import AuthClient
from quickbooks import QuickBooks

from app.clock import SimulatedClock
from connectors.sandbox.quickbooks import QuickBooksSandbox
from connectors.sandbox.server import ServerThread
from tests.sandbox.quickbooks.xsd import Schema

DATA = Path(__file__).parent / "fixtures"
REDIRECT = "http://127.0.0.1:5000/connect/quickbooks/callback"


@pytest.fixture(scope="session")
def schema() -> Schema:
    return Schema()


class SchemaWatch:
    """What the after-request check saw: bodies checked, keys the XSD lacks."""

    def __init__(self) -> None:
        self.checked = 0
        self.problems: list[str] = []


@pytest.fixture
def schema_watch() -> SchemaWatch:
    return SchemaWatch()


@pytest.fixture
def sandbox(
    clock: SimulatedClock, schema: Schema, schema_watch: SchemaWatch
) -> Iterator[QuickBooksSandbox]:
    """A sandbox on the test's simulated clock, every API body checked by the XSD."""
    sb = QuickBooksSandbox(clock=clock, redirect_uris=(REDIRECT,))

    @sb.app.after_request
    def _check(response: Response) -> Response:
        if request.path.startswith("/v3/") and response.mimetype == "application/json":
            if response.status_code not in (401, 403):
                body = json.loads(response.get_data())
                schema_watch.checked += 1
                schema_watch.problems += [
                    f"{request.method} {request.path}: {p}"
                    for p in schema.check_response(body)
                ]
        return response

    yield sb
    sb.stop()
    assert schema_watch.problems == [], "keys Finance.xsd does not declare"


@pytest.fixture
def server(sandbox: QuickBooksSandbox) -> ServerThread:
    return sandbox.start(webhooks_in_background=False)


@pytest.fixture
def company(sandbox: QuickBooksSandbox) -> str:
    """A small USD company: two customers, three invoices (hand-written QBO JSON)."""
    realm = sandbox.add_company(
        {"CompanyName": "Harbour Joinery", "Country": "US"},
        {
            "CurrencyPrefs": {
                "MultiCurrencyEnabled": False,
                "HomeCurrency": {"value": "USD"},
            }
        },
        realm_id="9130354426181920",
        timezone="America/Los_Angeles",
    )
    sandbox.load(
        realm,
        {
            "Customer": [
                {"Id": "58", "DisplayName": "Maeve O'Brien's Bakery & Cafe"},
                {"Id": "64", "DisplayName": "Delgado-Whitfield Events"},
            ],
            "Invoice": [
                invoice_json("1001", "58", "100.00", date(2025, 3, 2)),
                invoice_json("1002", "64", "250.50", date(2025, 3, 20)),
                invoice_json("1003", "64", "75.25", date(2025, 4, 20)),
            ],
        },
        notify=False,
    )
    return realm


def invoice_json(
    invoice_id: str,
    customer_id: str,
    amount: str,
    due: date,
    balance: str | None = None,
) -> dict[str, Any]:
    """A minimal stored invoice as QBO returns one."""
    total = Decimal(amount)
    return {
        "Id": invoice_id,
        "DocNumber": str(int(invoice_id) + 1000),
        "TxnDate": due.replace(day=1).isoformat(),
        "DueDate": due.isoformat(),
        "CustomerRef": {"value": customer_id},
        "Line": [
            {
                "Id": "1",
                "LineNum": 1,
                "Amount": total,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": "1", "name": "Services"}},
            },
            {
                "Amount": total,
                "DetailType": "SubTotalLineDetail",
                "SubTotalLineDetail": {},
            },
        ],
        "TotalAmt": total,
        "Balance": Decimal(balance) if balance is not None else total,
        "LinkedTxn": [],
    }


@pytest.fixture
def connect(
    sandbox: QuickBooksSandbox, server: ServerThread
) -> Callable[..., QuickBooks]:
    """python-quickbooks on the sandbox, wired by base URLs only."""

    def make(realm_id: str, refresh_token: str | None = None) -> QuickBooks:
        if refresh_token is None:
            refresh_token = sandbox.issue_tokens(realm_id)["refresh_token"]
        auth = AuthClient(
            sandbox.client_id,
            sandbox.client_secret,
            REDIRECT,
            environment=server.url + "/.well-known/openid_configuration",
        )
        qb = QuickBooks(
            auth_client=auth,
            refresh_token=refresh_token,
            company_id=realm_id,
            minorversion=75,
        )
        qb.api_url_v3 = server.url + "/v3"
        return qb

    return make
