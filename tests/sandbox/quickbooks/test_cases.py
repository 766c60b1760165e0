"""Shared cases C07 (query escaping) and C10 (paging) through python-quickbooks."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from connectors.records import Ledger
from connectors.sandbox.generator import generate
from tests.sandbox.quickbooks.conftest import DATA, invoice_json

C07 = json.loads((DATA / "cases" / "C07.json").read_text())
C10 = json.loads((DATA / "cases" / "C10.json").read_text())


def _c10_company(sandbox, open_invoices: int) -> str:
    realm = sandbox.add_company(
        {"CompanyName": "Paging Co"}, realm_id=C10["input"]["realm_id"], chart=False
    )
    sandbox.load(
        realm,
        {
            "Customer": [{"Id": "1", "DisplayName": "Only Customer"}],
            "Invoice": [
                invoice_json(str(n), "1", "10.00", date(2025, 3, 1))
                for n in range(1, open_invoices + 1)
            ],
        },
        notify=False,
    )
    return realm


def _pull_all(qb, page_size: int) -> tuple[list[str], list[int]]:
    """Page as a careful client does: 1-based, stop on a short page, dedupe by Id."""
    seen: dict[str, None] = {}
    starts = []
    start = 1
    while True:
        starts.append(start)
        page = Invoice.where(
            "Balance > '0'",
            order_by="Id",
            start_position=start,
            max_results=page_size,
            qb=qb,
        )
        for invoice in page:
            seen.setdefault(invoice.Id)
        if len(page) < page_size:
            return list(seen), starts
        start += page_size


def test_c07_apostrophe_lookups_return_the_exact_customers(sandbox, connect) -> None:
    case = C07["input"]
    realm = sandbox.add_company({"CompanyName": "Escapes"}, realm_id=case["realm_id"])
    sandbox.load(realm, {"Customer": case["qbo_customers"]}, notify=False)
    qb = connect(realm)
    found = {}

    for number, lookup in enumerate(case["lookups"][:3], start=1):
        rows = Customer.filter(DisplayName=lookup["value"], qb=qb)
        found[f"exact_{number}"] = [c.Id for c in rows]
    escaped = case["lookups"][3]["value"].replace("'", "\\'")
    found["prefix"] = [
        c.Id for c in Customer.where(f"DisplayName LIKE '{escaped}%'", qb=qb)
    ]

    assert found == C07["expected"]["results"]
    assert sandbox.log.count("/query", method="POST") == 4
    assert all(e.status == 200 for e in sandbox.log.entries() if "/query" in e.path)


@pytest.mark.parametrize(
    ("scenario", "page_size"), [("a", 1000), ("b", 1000), ("c", 1000), ("d", 100)]
)
def test_c10_paging_gets_every_invoice_once(
    sandbox, connect, scenario, page_size
) -> None:
    given = C10["input"]["scenarios"][scenario]
    expected = C10["expected"][scenario]
    realm = _c10_company(sandbox, given["open_invoices"])
    if "quirk" in given:
        sandbox.quirks.page_overrun = (
            1  # the server returns 101 rows when 100 are asked
        )
    qb = connect(realm)

    ids, starts = _pull_all(qb, page_size)

    assert len(ids) == expected["unique_invoices"]
    assert set(expected.get("must_include_ids", [])) <= set(ids)
    assert 0 not in starts


def test_c10_past_the_end_is_an_empty_query_response(sandbox, connect, server) -> None:
    import requests

    realm = _c10_company(sandbox, 2000)
    token = sandbox.issue_tokens(realm)["access_token"]

    answer = requests.post(
        f"{server.url}/v3/company/{realm}/query",
        data=b"SELECT * FROM Invoice STARTPOSITION 2001 MAXRESULTS 1000",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/text",
        },
        timeout=5,
    ).json()

    assert (
        answer["QueryResponse"]
        == C10["input"]["mock_behaviour"]["empty_page_body"]["QueryResponse"]
    )


@pytest.mark.slow
def test_sdk_lists_10000_generated_invoices_page_by_page(sandbox, connect) -> None:
    books = generate(
        seed=3, invoices=10_000, today=date(2025, 5, 1), ledger=Ledger.QUICKBOOKS
    )
    realm = sandbox.load_generated(books)
    live = {i.ledger_id for i in books.invoices if i.status != "deleted"}
    qb = connect(realm)
    started = time.perf_counter()

    ids: list[str] = []
    start = 1
    while True:
        page = Invoice.all(order_by="Id", start_position=start, max_results=1000, qb=qb)
        ids += [invoice.Id for invoice in page]
        if len(page) < 1000:
            break
        start += 1000
    elapsed = time.perf_counter() - started

    assert len(ids) == len(set(ids)) == len(live)
    assert set(ids) == live
    assert sandbox.log.count("/query") == len(live) // 1000 + 1
    print(f"listed {len(ids)} invoices in {elapsed:.2f}s")
