"""Loading Xero JSON, generated books, and dumping and restoring the whole sandbox."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connectors.records import InvoiceStatus, Ledger, PaymentKind
from connectors.sandbox.generator import generate
from connectors.sandbox.xero import XeroSandbox, wire
from tests.sandbox.xero.conftest import ORG_ID, data_json


@pytest.fixture(scope="module")
def books() -> Any:
    return generate(seed=11, invoices=400, today=date(2025, 5, 1), ledger=Ledger.XERO)


def test_load_replaces_by_id_and_deleted_status_is_kept(sandbox: XeroSandbox) -> None:
    recorded = data_json("invoices_get_page1_demo_company_nz.json")["Invoices"]
    sandbox.load(ORG_ID, {"Invoices": recorded[:2]})
    changed = dict(recorded[1], Status="DELETED", AmountDue=Decimal("0.00"))

    sandbox.load(ORG_ID, {"Invoices": [changed]})

    stored = sandbox.objects(ORG_ID, "Invoices")
    assert [i["InvoiceID"] for i in stored] == [
        recorded[0]["InvoiceID"],
        recorded[1]["InvoiceID"],
    ]
    assert stored[1]["Status"] == "DELETED"


def test_load_emits_create_then_update_webhooks(make_sandbox: Any) -> None:
    sent: list[bytes] = []

    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        sent.append(body)
        return 200

    sandbox: XeroSandbox = make_sandbox(webhook_url="http://receiver.invalid/hook")
    sandbox.webhooks.post = post
    sandbox.add_organisation({"Name": "Kiwi Tiles"}, ORG_ID)
    invoice = data_json("invoices_get_page1_demo_company_nz.json")["Invoices"][0]

    sandbox.load(ORG_ID, {"Invoices": [invoice]})
    sandbox.load(ORG_ID, {"Invoices": [invoice]})
    sandbox.deliver_webhooks()

    events = wire.loads(sent[0])["events"]
    assert [(e["eventType"], e["resourceId"]) for e in events] == [
        ("CREATE", invoice["InvoiceID"]),
        ("UPDATE", invoice["InvoiceID"]),
    ]


def test_load_refuses_unknown_collections_and_tenants(sandbox: XeroSandbox) -> None:
    with pytest.raises(ValueError, match="unknown Xero collections"):
        sandbox.load(ORG_ID, {"Quotes": []})
    with pytest.raises(KeyError, match="no Xero sandbox tenant"):
        sandbox.load("00000000-0000-0000-0000-000000000000", {"Invoices": []})


def test_generated_books_convert_to_consistent_xero_documents(
    make_sandbox: Any, books: Any
) -> None:
    sandbox: XeroSandbox = make_sandbox()

    tenant = sandbox.load_generated(books)

    assert tenant == books.company.id
    invoices = {i["InvoiceID"]: i for i in sandbox.objects(tenant, "Invoices")}
    assert len(invoices) == 400
    expected_status = {
        InvoiceStatus.OPEN: "AUTHORISED",
        InvoiceStatus.PAID: "PAID",
        InvoiceStatus.VOIDED: "VOIDED",
        InvoiceStatus.DELETED: "DELETED",
    }
    for record in books.invoices:
        doc = invoices[record.ledger_id]
        assert doc["Status"] == expected_status[record.status]
        assert doc["Total"] == record.total
        if record.status in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
            assert doc["AmountDue"] == record.amount_due
            # Xero's identity: what is due is the total less payments and credits.
            paid_and_credited = doc["AmountPaid"] + doc["AmountCredited"]
            assert doc["Total"] - paid_and_credited == doc["AmountDue"]
    kinds = Counter(p.kind for p in books.payments)
    assert (
        len(sandbox.objects(tenant, "Overpayments")) == kinds[PaymentKind.OVERPAYMENT]
    )
    assert len(sandbox.objects(tenant, "Prepayments")) == kinds[PaymentKind.PREPAYMENT]
    applications = sum(
        len(p.applied) for p in books.payments if p.kind is PaymentKind.PAYMENT
    )
    assert len(sandbox.objects(tenant, "Payments")) == applications
    assert len(sandbox.objects(tenant, "CreditNotes")) == len(books.credits)
    org = sandbox.tenants[tenant].organisation
    assert (org["Name"], org["BaseCurrency"]) == (
        books.company.name,
        books.company.home_currency,
    )


def test_foreign_currency_rate_is_xeros_way_round(
    make_sandbox: Any, books: Any
) -> None:
    sandbox: XeroSandbox = make_sandbox()
    tenant = sandbox.load_generated(books)
    foreign = [i for i in books.invoices if i.currency != books.company.home_currency]
    assert foreign, "the generator puts foreign-currency invoices in every book"

    doc = next(
        i
        for i in sandbox.objects(tenant, "Invoices")
        if i["InvoiceID"] == foreign[0].ledger_id
    )

    # Records hold home units per invoice unit; Xero holds invoice units per home unit.
    expected = (Decimal(1) / foreign[0].exchange_rate).quantize(Decimal("0.000001"))
    assert doc["CurrencyRate"] == expected
    assert doc["CurrencyCode"] == foreign[0].currency


def test_dump_and_restore_keep_everything(sandbox: XeroSandbox, headers: dict) -> None:
    recorded = data_json("invoices_get_page1_demo_company_nz.json")["Invoices"]
    sandbox.load(ORG_ID, {"Invoices": recorded})
    client = sandbox.app.test_client()
    before = client.get("/api.xro/2.0/Invoices?page=1", headers=headers)

    text = wire.dumps(sandbox.dump())
    restored = XeroSandbox.restore(wire.loads(text), clock=sandbox._clock)
    after = restored.app.test_client().get(
        "/api.xro/2.0/Invoices?page=1", headers=headers
    )

    assert after.status_code == 200  # the access token survived the trip too
    assert wire.loads(after.get_data())["Invoices"] == recorded
    assert wire.loads(before.get_data())["Invoices"] == recorded
    assert restored.ids.issued == sandbox.ids.issued
    assert restored.identity.connections == sandbox.identity.connections


def test_restore_refuses_an_unknown_version() -> None:
    with pytest.raises(ValueError, match="unknown Xero sandbox dump version"):
        XeroSandbox.restore({"version": 99})


def test_foreign_currencies_are_listed(make_sandbox: Any, books: Any) -> None:
    sandbox: XeroSandbox = make_sandbox()
    tenant = sandbox.load_generated(books)
    reply = sandbox.issue_tokens()
    headers = {
        "Authorization": f"Bearer {reply['access_token']}",
        "xero-tenant-id": tenant,
    }

    body = sandbox.app.test_client().get("/api.xro/2.0/Currencies", headers=headers)

    codes = [c["Code"] for c in body.get_json()["Currencies"]]
    foreign = sorted(
        {i.currency for i in books.invoices} - {books.company.home_currency}
    )
    assert codes == [books.company.home_currency, *foreign]


def test_renaming_a_contact_renames_it_on_its_invoices(
    sandbox: XeroSandbox, headers: dict
) -> None:
    invoice = sandbox.save_invoice(
        ORG_ID,
        {
            "Type": "ACCREC",
            "Contact": {"Name": "Zoe Orsted"},
            "LineItems": [{"UnitAmount": 5}],
        },
    )
    contact_id = invoice["Contact"]["ContactID"]
    client = sandbox.app.test_client()

    client.post(
        f"/api.xro/2.0/Contacts/{contact_id}",
        json={"Name": "Zoë Ørsted"},
        headers=headers,
    )

    (stored,) = sandbox.objects(ORG_ID, "Invoices")
    assert stored["Contact"]["Name"] == "Zoë Ørsted"


def test_generated_books_queue_no_webhooks_but_later_writes_do(
    make_sandbox: Any, books: Any
) -> None:
    sandbox: XeroSandbox = make_sandbox(webhook_url="http://receiver.invalid/hook")
    tenant = sandbox.load_generated(books)
    open_invoice = next(i for i in books.invoices if i.status is InvoiceStatus.OPEN)

    assert sandbox.webhooks.pending == []
    sandbox.pay_invoice(tenant, open_invoice.ledger_id, "0.01", date(2025, 5, 1))
    assert [
        (e["eventCategory"], e["resourceId"]) for e in sandbox.webhooks.pending
    ] == [("INVOICE", open_invoice.ledger_id)]
    recorded = data_json("invoices_get_page1_demo_company_nz.json")["Invoices"][0]
    sandbox.load(tenant, {"Invoices": [recorded]}, notify=False)
    assert len(sandbox.webhooks.pending) == 1  # the quiet load added no event


@pytest.mark.parametrize(
    ("collection", "method"),
    [
        ("Invoices", "get_invoices"),
        ("Contacts", "get_contacts"),
        ("Payments", "get_payments"),
        ("CreditNotes", "get_credit_notes"),
        ("Overpayments", "get_overpayments"),
        ("Prepayments", "get_prepayments"),
    ],
)
def test_every_generated_collection_passes_the_spec_and_the_sdk(
    make_sandbox: Any, sdk_for: Any, books: Any, collection: str, method: str
) -> None:
    sandbox: XeroSandbox = make_sandbox()
    tenant = sandbox.load_generated(books)
    client = sdk_for(sandbox)

    result = getattr(client.accounting, method)(tenant, page=1, page_size=1000)

    items = getattr(result, _snake(collection))
    assert len(items) == len(sandbox.objects(tenant, collection)) > 0
    check = sandbox.spec_check  # type: ignore[attr-defined]
    assert check.validated == 1 and check.failures == []


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
