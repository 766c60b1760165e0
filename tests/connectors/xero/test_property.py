"""Property: after random changes in Xero, the incremental sync leaves the mirror
exactly as a fresh full sync builds it (issue 3's required check)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.records import InvoiceStatus, SyncPage
from connectors.sandbox.xero import DEFAULT_SCOPE
from connectors.xero import XeroConnector, oauth
from connectors.xero.client import token_set
from tests.connectors.xero import factories as f
from tests.connectors.xero.tokenstore import RedisTokenStore

GONE = (InvoiceStatus.VOIDED, InvoiceStatus.DELETED)


def apply(mirror: dict[tuple[str, str], Any], pages: list[SyncPage]) -> None:
    """Upsert records by ledger id; drop what is gone; a full pull drops the unseen."""
    seen: set[tuple[str, str]] = set()
    for page in pages:
        rows: list[tuple[str, Any, bool]] = [
            *(("customer", c, False) for c in page.customers),
            *(("invoice", i, i.status in GONE) for i in page.invoices),
            *(("payment", p, p.deleted) for p in page.payments),
            *(("credit", c, c.deleted) for c in page.credits),
        ]
        for kind, record, gone in rows:
            key = (kind, record.ledger_id)
            seen.add(key)
            if gone:
                mirror.pop(key, None)
            else:
                mirror[key] = record
        for deletion in page.deletions:
            mirror.pop((deletion.entity, deletion.ledger_id), None)
    if pages and pages[-1].full:
        for key in set(mirror) - seen:
            del mirror[key]


class Bookkeeper:
    """Changes a tenant through the sandbox's own API, as a person in Xero would."""

    def __init__(self, sandbox, tenant: str) -> None:
        self.http = sandbox.app.test_client()
        token = sandbox.issue_tokens(scope=DEFAULT_SCOPE)["access_token"]
        self.headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": tenant}
        self.invoices = [f.invoice_id(n) for n in range(1, 5)]
        self.payments: list[str] = []

    def send(
        self, method: str, path: str, body: dict[str, Any]
    ) -> dict[str, Any] | None:
        response = self.http.open(
            f"/api.xro/2.0/{path}",
            method=method,
            headers=self.headers,
            data=json.dumps(body, default=str),
            content_type="application/json",
        )
        assert response.status_code in (200, 400), response.get_data(as_text=True)
        return response.get_json() if response.status_code == 200 else None

    def due(self, invoice_id: str) -> Decimal:
        body = self.http.get(
            f"/api.xro/2.0/Invoices/{invoice_id}", headers=self.headers
        )
        return Decimal(str(body.get_json()["Invoices"][0]["AmountDue"]))

    def do(self, op: str, a: int, b: int) -> None:
        target = self.invoices[a % len(self.invoices)]
        if op == "create":
            body = _document("ACCREC", a % 3 + 1, Decimal(b) / 100)
            made = self.send("PUT", "Invoices", {"Invoices": [body]})
            if made:
                self.invoices.append(made["Invoices"][0]["InvoiceID"])
        elif op == "pay":
            amount = (self.due(target) * b / 100).quantize(Decimal("0.01"))
            body = {
                "Invoice": {"InvoiceID": target},
                "Account": {"Code": "090"},
                "Date": "2025-04-20",
                "Amount": amount,
            }
            made = self.send("PUT", "Payments", {"Payments": [body]})
            if made:
                self.payments.append(made["Payments"][0]["PaymentID"])
        elif op == "unpay" and self.payments:
            payment = self.payments.pop(a % len(self.payments))
            self.send("POST", f"Payments/{payment}", {"Status": "DELETED"})
        elif op == "credit":
            due = self.due(target)
            note = _document("ACCRECCREDIT", _owner(self, target), max(due, Decimal(1)))
            made = self.send("PUT", "CreditNotes", {"CreditNotes": [note]})
            amount = (due * b / 100).quantize(Decimal("0.01"))
            if made and amount > 0:
                note_id = made["CreditNotes"][0]["CreditNoteID"]
                allocation = {"Invoice": {"InvoiceID": target}, "Amount": amount}
                self.send("PUT", f"CreditNotes/{note_id}/Allocations", allocation)
        elif op == "void":
            self.send("POST", f"Invoices/{target}", {"Status": "VOIDED"})
        elif op == "draft":
            body = _document("ACCREC", a % 3 + 1, Decimal("5.00"), status="DRAFT")
            made = self.send("PUT", "Invoices", {"Invoices": [body]})
            if made and b % 2:
                draft = made["Invoices"][0]["InvoiceID"]
                self.send("POST", f"Invoices/{draft}", {"Status": "DELETED"})
        elif op == "email":
            contact = f.contact_id(a % 3 + 1)
            self.send(
                "POST", f"Contacts/{contact}", {"EmailAddress": f"x{b}@c.example"}
            )


def _owner(keeper: Bookkeeper, invoice_id: str) -> int:
    body = keeper.http.get(
        f"/api.xro/2.0/Invoices/{invoice_id}", headers=keeper.headers
    )
    contact_id = body.get_json()["Invoices"][0]["Contact"]["ContactID"]
    return int(contact_id.rsplit("-", 1)[1])


def _document(kind: str, customer: int, amount: Decimal, status: str = "AUTHORISED"):
    return {
        "Type": kind,
        "Contact": {"ContactID": f.contact_id(customer)},
        "Date": "2025-04-01",
        "DueDate": "2025-04-30",
        "Status": status,
        "LineAmountTypes": "NoTax",
        "LineItems": [
            {
                "Description": "work",
                "Quantity": 1,
                "UnitAmount": amount,
                "AccountCode": "200",
            }
        ],
    }


OPS = st.lists(
    st.tuples(
        st.sampled_from(["create", "pay", "unpay", "credit", "void", "draft", "email"]),
        st.integers(0, 30),
        st.integers(1, 100),
    ),
    min_size=1,
    max_size=10,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=OPS)
def test_incremental_sync_matches_a_fresh_full_sync(
    ops, sandbox, xero_app, redis, redis_url, clock
) -> None:
    sandbox.faults.rate_limits = False  # the bookkeeper's calls are not under test
    tenant = sandbox.add_organisation({**f.ORG, "Name": f"Org {uuid.uuid4().hex[:6]}"})
    sandbox.load(
        tenant,
        {
            "Contacts": [f.contact(n) for n in range(1, 4)],
            "Invoices": [f.invoice(n, n % 3 + 1, total="120.00") for n in range(1, 5)],
        },
    )
    clock.advance(timedelta(minutes=5))
    store = RedisTokenStore(redis_url, f"prop-{tenant}")
    store.save(token_set(sandbox.issue_tokens(scope=oauth.SCOPES), clock.now()))
    connector = XeroConnector(xero_app, store, redis, tenant, clock=clock)

    mirror: dict[tuple[str, str], Any] = {}
    first = list(connector.sync(None))
    apply(mirror, first)
    keeper = Bookkeeper(sandbox, tenant)
    for op in ops:
        clock.advance(timedelta(seconds=7))
        keeper.do(*op)
    clock.advance(timedelta(minutes=1))
    apply(mirror, list(connector.sync(first[-1].cursor)))

    fresh: dict[tuple[str, str], Any] = {}
    again = XeroConnector(xero_app, store, redis, tenant, clock=clock)
    apply(fresh, list(again.sync(None)))

    assert mirror == fresh
