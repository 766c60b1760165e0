"""xero-python against the sandbox over HTTP: paging a big book, If-Modified-Since,
token refresh, and the 429s it meets once its urllib3 retries are off."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from xero_python.exceptions import HTTPStatusException, RateLimitException

from app.clock import SimulatedClock
from connectors.records import InvoiceStatus, Ledger
from connectors.sandbox.generator import generate
from connectors.sandbox.xero import XeroSandbox
from tests.sandbox.xero.conftest import sdk_token


@pytest.fixture(scope="module")
def books_10k() -> Any:
    return generate(seed=3, invoices=10_000, today=date(2025, 5, 1), ledger=Ledger.XERO)


def test_sdk_lists_10000_generated_invoices_page_by_page(
    make_sandbox: Any, sdk_for: Any, books_10k: Any
) -> None:
    sandbox: XeroSandbox = make_sandbox()
    tenant = sandbox.load_generated(books_10k)
    client = sdk_for(sandbox)
    sandbox.log.clear()

    seen: dict[str, Any] = {}
    page = 1
    while True:
        result = client.accounting.get_invoices(tenant, page=page, page_size=1000)
        for invoice in result.invoices:
            seen[str(invoice.invoice_id)] = invoice
        if page >= result.pagination.page_count:
            break
        page += 1

    assert page == 10
    assert len(seen) == 10_000
    assert sandbox.log.count("/api.xro/2.0/Invoices", method="GET") == 10
    # Every record's amount due arrives as the generator wrote it, to the cent.
    expected = {
        i.ledger_id: i.amount_due
        for i in books_10k.invoices
        if i.status in (InvoiceStatus.OPEN, InvoiceStatus.PAID)
    }
    for ledger_id, amount_due in expected.items():
        assert seen[ledger_id].amount_due == amount_due
    first = books_10k.invoices[0]
    assert seen[first.ledger_id].due_date == first.due_date


def test_sdk_filters_by_status_server_side(
    make_sandbox: Any, sdk_for: Any, books_10k: Any
) -> None:
    sandbox: XeroSandbox = make_sandbox()
    tenant = sandbox.load_generated(books_10k)
    client = sdk_for(sandbox)
    open_ids = {
        i.ledger_id for i in books_10k.invoices if i.status is InvoiceStatus.OPEN
    }

    result = client.accounting.get_invoices(
        tenant,
        statuses=["AUTHORISED"],
        where='Type=="ACCREC" AND AmountDue>0',
        order="DueDate ASC",
        page=1,
        page_size=1000,
        summary_only=True,
    )

    open_with_balance = {
        i.ledger_id
        for i in books_10k.invoices
        if i.status is InvoiceStatus.OPEN and i.amount_due > 0
    }
    assert result.pagination.item_count == len(open_with_balance)
    assert {str(i.invoice_id) for i in result.invoices} <= open_ids
    dues = [i.due_date for i in result.invoices]
    assert dues == sorted(dues)


def test_sdk_if_modified_since_returns_only_later_changes(
    sandbox: XeroSandbox, sdk_for: Any, clock: SimulatedClock
) -> None:
    tenant = next(iter(sandbox.tenants))
    client = sdk_for(sandbox)
    contact = {"Name": "Harbour Cafe"}
    old = sandbox.save_invoice(tenant, _invoice(contact, "INV-A"))
    clock.advance(timedelta(minutes=10))  # well inside the 30-minute token life
    cutoff = clock.now()
    clock.advance(timedelta(minutes=1))
    new = sandbox.save_invoice(tenant, _invoice(contact, "INV-B"))

    changed = client.accounting.get_invoices(tenant, if_modified_since=cutoff)

    assert [str(i.invoice_id) for i in changed.invoices] == [new["InvoiceID"]]
    everything = client.accounting.get_invoices(
        tenant, if_modified_since=cutoff - timedelta(hours=1)
    )
    assert {str(i.invoice_id) for i in everything.invoices} == {
        old["InvoiceID"],
        new["InvoiceID"],
    }


def test_sdk_refreshes_an_expired_token_and_the_spent_one_is_refused(
    sandbox: XeroSandbox, sdk_for: Any, clock: SimulatedClock
) -> None:
    tenant = next(iter(sandbox.tenants))
    reply = sandbox.issue_tokens()
    # expires_at in the past: the SDK refreshes before its next call.
    client = sdk_for(sandbox, sdk_token(reply, expires_at=0))

    client.accounting.get_organisations(tenant)

    assert sandbox.log.count("/connect/token", grant_type="refresh_token") == 1
    assert len(client.saved) == 1
    fresh = client.saved[0]
    assert fresh["refresh_token"] != reply["refresh_token"]
    assert fresh["expires_in"] == 1800
    # The spent refresh token is single-use: offering it again is invalid_grant.
    client.store["token"] = sdk_token(reply, expires_at=0)
    with pytest.raises(Exception, match="invalid_grant"):
        client.accounting.get_organisations(tenant)


def test_sdk_gets_401_token_expired_after_thirty_minutes(
    sandbox: XeroSandbox, sdk_for: Any, clock: SimulatedClock
) -> None:
    tenant = next(iter(sandbox.tenants))
    client = sdk_for(sandbox)
    client.accounting.get_organisations(tenant)

    clock.advance(timedelta(minutes=30))

    with pytest.raises(HTTPStatusException) as caught:
        client.accounting.get_organisations(tenant)
    assert caught.value.status == 401
    assert "TokenExpired" in caught.value.body.decode()


def test_sdk_meets_the_minute_limit_with_retry_after(
    sandbox: XeroSandbox, sdk_for: Any, clock: SimulatedClock
) -> None:
    tenant = next(iter(sandbox.tenants))
    client = sdk_for(sandbox)
    for _ in range(60):
        client.accounting.get_currencies(tenant)
        clock.advance(timedelta(milliseconds=500))

    with pytest.raises(RateLimitException) as caught:
        client.accounting.get_currencies(tenant)

    # The first call was at 12:00:00.0 and 60 calls 0.5 s apart end at 12:00:30.0:
    # the window frees a slot when the first call is a minute old, 30 s from now.
    assert caught.value.rate_limit == "minute"
    assert caught.value.headers["Retry-After"] == "30"
    assert sandbox.log.count("/api.xro/2.0/Currencies", method="GET") == 61
    clock.advance(timedelta(seconds=30))
    assert client.accounting.get_currencies(tenant).currencies[0].code.value == "NZD"


def test_sdk_meets_the_day_limit(
    sandbox: XeroSandbox, sdk_for: Any, clock: SimulatedClock
) -> None:
    tenant = next(iter(sandbox.tenants))
    client = sdk_for(sandbox)
    start = clock.now()
    # 5,000 calls spread over the day, never more than 60 a minute: the day limit is
    # the one reached. Counted in the limiter directly to keep the test quick; the
    # last calls go over HTTP.
    for i in range(4_999):
        assert (
            sandbox.limits.enter(tenant, start + timedelta(seconds=2 * i), True) is None
        )
        sandbox.limits.leave(tenant)
    clock.set(start + timedelta(seconds=2 * 4_999))
    client.store["token"] = sdk_token(sandbox.issue_tokens())  # hours later: a new one
    client.accounting.get_currencies(tenant)

    with pytest.raises(RateLimitException) as caught:
        client.accounting.get_currencies(tenant)

    assert caught.value.rate_limit == "day"
    # The oldest call (at `start`) leaves the rolling day at start + 24 h.
    waited = (start + timedelta(days=1)) - clock.now()
    assert caught.value.headers["Retry-After"] == str(int(waited.total_seconds()))
    assert caught.value.headers["X-DayLimit-Remaining"] == "0"


def _invoice(contact: dict[str, str], number: str) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "InvoiceNumber": number,
        "Contact": contact,
        "Date": "2025-04-01",
        "DueDate": "2025-04-15",
        "Status": "AUTHORISED",
        "LineItems": [
            {"Description": "Catering", "Quantity": 1, "UnitAmount": Decimal("410.00")}
        ],
    }
