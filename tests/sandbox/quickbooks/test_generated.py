"""Generated books loaded into the sandbox make sense in QuickBooks terms."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
import requests
from quickbooks.objects.invoice import Invoice

from connectors.records import Ledger
from connectors.sandbox.generator import generate
from connectors.sandbox.quickbooks.query import QUERYABLE

TODAY = date(2025, 5, 1)


@pytest.fixture(scope="module")
def books():
    return generate(seed=11, invoices=600, today=TODAY, ledger=Ledger.QUICKBOOKS)


@pytest.fixture
def loaded(sandbox, books) -> str:
    return sandbox.load_generated(books)


def _all(sandbox, realm: str, entity: str) -> list[dict]:
    return list(sandbox.realm(realm).all(entity))


def test_every_stored_object_uses_only_keys_finance_xsd_declares(
    sandbox, loaded, schema
) -> None:
    problems = []
    for entity in QUERYABLE:
        for obj in _all(sandbox, loaded, entity):
            problems += schema.check_entity(entity, obj)

    assert problems == []
    assert len(_all(sandbox, loaded, "Invoice")) > 500


def test_home_balance_is_balance_times_rate_rounded_half_up(sandbox, loaded) -> None:
    foreign = [i for i in _all(sandbox, loaded, "Invoice") if "ExchangeRate" in i]

    assert {i["CurrencyRef"]["value"] for i in foreign} >= {"EUR"}
    for invoice in foreign:
        expected = (invoice["Balance"] * invoice["ExchangeRate"]).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        assert invoice["HomeBalance"] == expected, invoice["Id"]
        assert invoice["CurrencyRef"]["value"] != "USD"


def test_invoice_balance_is_total_less_linked_applications(sandbox, loaded) -> None:
    applied: dict[str, Decimal] = defaultdict(Decimal)
    for payment in _all(sandbox, loaded, "Payment"):
        for line in payment["Line"]:
            link = line["LinkedTxn"][0]
            if link["TxnType"] == "Invoice":
                applied[link["TxnId"]] += line["Amount"]

    for invoice in _all(sandbox, loaded, "Invoice"):
        if invoice.get("PrivateNote", "").startswith("Voided"):
            assert invoice["TotalAmt"] == invoice["Balance"] == 0
            continue
        paid = applied.get(invoice["Id"], Decimal(0))
        assert invoice["Balance"] == invoice["TotalAmt"] - paid, invoice["Id"]
        payments = {lt["TxnId"] for lt in invoice["LinkedTxn"]}
        assert bool(payments) == (invoice["Id"] in applied)


def test_payment_unapplied_is_total_less_net_applications(sandbox, loaded) -> None:
    for payment in _all(sandbox, loaded, "Payment"):
        net = sum(
            (
                line["Amount"]
                if line["LinkedTxn"][0]["TxnType"] == "Invoice"
                else -line["Amount"]
                for line in payment["Line"]
            ),
            Decimal(0),
        )
        assert payment["UnappliedAmt"] == payment["TotalAmt"] - net, payment["Id"]


def test_customer_balance_is_net_of_unapplied_payments_and_credits(
    sandbox, loaded
) -> None:
    net: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in _all(sandbox, loaded, "Invoice"):
        net[invoice["CustomerRef"]["value"]] += invoice["Balance"]
    for payment in _all(sandbox, loaded, "Payment"):
        net[payment["CustomerRef"]["value"]] -= payment["UnappliedAmt"]
    for memo in _all(sandbox, loaded, "CreditMemo"):
        net[memo["CustomerRef"]["value"]] -= memo["RemainingCredit"]

    for customer in _all(sandbox, loaded, "Customer"):
        assert customer["Balance"] == net[customer["Id"]], customer["DisplayName"]


def test_documents_are_in_their_customers_currency(sandbox, loaded) -> None:
    currency = {
        c["Id"]: c["CurrencyRef"]["value"] for c in _all(sandbox, loaded, "Customer")
    }

    for entity in ("Invoice", "Payment", "CreditMemo"):
        for obj in _all(sandbox, loaded, entity):
            assert obj["CurrencyRef"]["value"] == currency[obj["CustomerRef"]["value"]]


def test_hard_cases_survive_the_trip_through_the_sdk(
    sandbox, loaded, books, connect
) -> None:
    qb = connect(loaded)
    deleted = {i.ledger_id for i in books.invoices if i.status == "deleted"}
    voided = {i.ledger_id for i in books.invoices if i.status == "voided"}

    names = {
        c.DisplayName
        for c in __import__("quickbooks").objects.customer.Customer.all(
            max_results=1000, qb=qb
        )
    }
    got = {
        i.Id: i
        for i in Invoice.where("Id IN ('" + "','".join(deleted | voided) + "')", qb=qb)
    }

    assert "O'Brien Haulage" in names
    assert any(not name.isascii() for name in names)
    assert set(got) == voided
    assert all(i.PrivateNote == "Voided" and i.Balance == 0 for i in got.values())


def test_exchangerate_endpoint_answers_the_booked_rate(
    sandbox, loaded, books, server
) -> None:
    euro = min(
        (i for i in books.invoices if i.currency == "EUR" and i.exchange_rate),
        key=lambda i: i.issue_date,
    )
    token = sandbox.issue_tokens(loaded)["access_token"]

    answer = requests.get(
        f"{server.url}/v3/company/{loaded}/exchangerate",
        params={"sourcecurrencycode": "EUR", "asofdate": euro.issue_date.isoformat()},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=5,
    ).json()["ExchangeRate"]

    assert (answer["SourceCurrencyCode"], answer["TargetCurrencyCode"]) == (
        "EUR",
        "USD",
    )
    assert Decimal(str(answer["Rate"])) == euro.exchange_rate
