"""Paged sync against the sandbox: minimal calls, local-date window, resume, changes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from connectors.records import InvoiceStatus
from connectors.xero import XeroConnector
from tests.connectors.xero import factories as f


def load_books(sandbox, tenant) -> None:
    """1,500 contacts; 2,001 open invoices; 1,000 paid inside the window, 3 outside."""
    contacts = [f.contact(n) for n in range(1, 1501)]
    open_ = [f.invoice(n, n % 1500 + 1) for n in range(1, 2002)]
    paid = [
        f.invoice(n, 1, status="PAID", issued=date(2024, 1, 15))
        for n in range(3001, 4001)
    ]
    # The clock says 2025-05-01 12:00 UTC, which is 2025-05-02 in Auckland: the
    # 24-month window opens 2023-05-02 there, so 2023-05-01 is outside it.
    old = [
        f.invoice(n, 1, status="PAID", issued=date(2023, 5, 1))
        for n in range(5001, 5004)
    ]
    sandbox.load(tenant, {"Contacts": contacts, "Invoices": open_ + paid + old})
    edge = f.invoice(6001, 1, status="PAID", issued=date(2023, 5, 2))
    sandbox.load(tenant, {"Invoices": [edge]})


def test_full_sync_costs_one_call_per_page_per_stage(connector, sandbox, tenant, clock):
    load_books(sandbox, tenant)
    clock.advance(timedelta(minutes=10))

    pages = list(connector.sync(None))

    invoices = [i for p in pages for i in p.invoices]
    ids = {i.ledger_id for i in invoices}
    assert len(invoices) == len(ids) == 2001 + 1000 + 1
    assert f.invoice_id(6001) in ids  # 2023-05-02, first day of the window
    assert not ids & {f.invoice_id(n) for n in range(5001, 5004)}
    assert len({c.ledger_id for p in pages for c in p.customers}) == 1500
    # /Organisation + contacts ceil(1500/1000)=2 + open ceil(2001/1000)=3
    # + paid ceil(1001/1000)=2 + payments, credit notes, over- and prepayments 1 each
    assert connector.calls == 1 + 2 + 3 + 2 + 4 == 12
    assert sandbox.log.count("/api.xro/2.0/") == 12
    assert len(pages) == 11 and pages[-1].done and not any(p.done for p in pages[:-1])
    queries = [e.query for e in sandbox.log.entries() if e.path.endswith("/Invoices")]
    assert all("pageSize=1000" in q for q in queries)
    assert sum("Statuses=AUTHORISED" in q for q in queries) == 3


def test_pages_are_fetched_as_they_are_consumed(connector, sandbox, tenant, clock):
    load_books(sandbox, tenant)
    pages = connector.sync(None)
    assert sandbox.log.count("/api.xro/2.0/") == 0
    first = next(pages)
    assert len(first.customers) == 1000
    assert sandbox.log.count("/api.xro/2.0/") == 2  # /Organisation and page 1 only


def test_resume_from_cursor_continues_at_next_page(
    connector, sandbox, tenant, clock, xero_app, store, redis
):
    load_books(sandbox, tenant)
    clock.advance(timedelta(minutes=10))
    first = []
    for page in connector.sync(None):
        first.append(page)
        if len(first) == 3:
            break  # the worker is killed after saving page 3's cursor
    saved = first[-1].cursor
    assert connector.calls == 4  # organisation + 3 pages

    again = XeroConnector(xero_app, store, redis, tenant, clock=clock)
    rest = list(again.sync(saved))

    assert again.calls == 12 - 4  # no page read twice, no new /Organisation
    ids = [i.ledger_id for p in first + rest for i in p.invoices]
    assert len(ids) == len(set(ids)) == 3002
    assert rest[-1].done


def test_incremental_sync_costs_calls_by_changes_not_size(
    connector, sandbox, tenant, clock
):
    load_books(sandbox, tenant)
    clock.advance(timedelta(minutes=10))
    cursor = list(connector.sync(None))[-1].cursor
    assert cursor["mode"] == "incremental"
    clock.advance(timedelta(hours=1))

    sandbox.pay_invoice(tenant, f.invoice_id(10), "100.00", date(2025, 5, 2))
    sandbox.pay_invoice(tenant, f.invoice_id(11), "40.00", date(2025, 5, 2))
    sandbox.save_invoice(tenant, {"InvoiceID": f.invoice_id(12), "Status": "VOIDED"})
    sandbox.load(tenant, {"Contacts": [f.contact(5, EmailAddress="new@c5.example")]})
    before = connector.calls

    pages = list(connector.sync(cursor))

    assert connector.calls - before == 6  # one page per stream, whatever N is
    invoices = {i.ledger_id: i for p in pages for i in p.invoices}
    assert invoices[f.invoice_id(10)].status is InvoiceStatus.PAID
    assert invoices[f.invoice_id(11)].amount_due == Decimal("60.00")
    assert invoices[f.invoice_id(12)].status is InvoiceStatus.VOIDED
    assert len(invoices) == 3
    payments = [p for page in pages for p in page.payments]
    assert sorted(p.amount for p in payments) == [Decimal("40.00"), Decimal("100.00")]
    assert [c.emails for p in pages for c in p.customers] == [("new@c5.example",)]
    assert not any(p.full for p in pages)
    headers = [e for e in sandbox.log.entries()][-6:]
    assert all(e.status == 200 for e in headers)


def test_c06_negative_and_zero_epochs_keep_the_page(connector, sandbox, tenant):
    # Case C06: three invoices, two with due dates a person mistyped.
    rows = [
        ("INV-0031", "/Date(-80006400000+0000)/", date(1967, 6, 20)),
        ("INV-0032", "/Date(0+0000)/", date(1970, 1, 1)),
        ("INV-0033", "/Date(1742428800000+0000)/", date(2025, 3, 20)),
    ]
    invoices = [
        f.invoice(31 + k, 1, total="410.00", InvoiceNumber=number, DueDate=due)
        for k, (number, due, _) in enumerate(rows)
    ]
    sandbox.load(tenant, {"Contacts": [f.contact(1)], "Invoices": invoices})

    pages = list(connector.sync(None))

    got = {i.number: i for p in pages for i in p.invoices}
    assert {n: got[n].due_date for n in got} == {n: d for n, _, d in rows}
    assert all(i.amount_due == Decimal("410.00") for i in got.values())
    assert not any(p.skipped for p in pages)


def test_unreadable_records_are_skipped_and_reported(connector, sandbox, tenant):
    good = f.invoice(1, 1)
    bad_date = f.invoice(2, 1, DueDate="2019-08-01T10:30:00")
    sandbox.load(tenant, {"Contacts": [f.contact(1)], "Invoices": [good, bad_date]})

    pages = list(connector.sync(None))

    assert [i.ledger_id for p in pages for i in p.invoices] == [f.invoice_id(1)]
    skipped = [s for p in pages for s in p.skipped]
    assert len(skipped) == 1 and f.invoice_id(2) in skipped[0]


def test_unknown_status_in_a_change_is_skipped_not_fatal(connector, sandbox, tenant):
    sandbox.load(
        tenant,
        {
            "Contacts": [f.contact(1)],
            "Invoices": [f.invoice(1, 1), f.invoice(2, 1, status="ARCHIVED")],
        },
    )
    cursor = {"mode": "incremental", "since": "2025-05-01T00:00:00+00:00"}

    pages = list(connector.sync(cursor))

    assert [i.ledger_id for p in pages for i in p.invoices] == [f.invoice_id(1)]
    skipped = [s for p in pages for s in p.skipped]
    assert len(skipped) == 1 and "ARCHIVED" in skipped[0]
    assert connector.calls == 1 + 6  # /Organisation for the base currency, 6 streams


def test_c29_contacts_without_usable_email(connector, sandbox, tenant):
    sandbox.load(
        tenant,
        {
            "Contacts": [
                f.contact(
                    1, Name="Tui Landscaping Ltd", EmailAddress="", ContactPersons=[]
                ),
                f.contact(
                    4, Name="Tuatara Tiling", EmailAddress="  ap@tuatara.example "
                ),
            ]
        },
    )
    pages = list(connector.sync(None))
    emails = {c.name: c.emails for p in pages for c in p.customers}
    assert emails == {
        "Tui Landscaping Ltd": (),
        "Tuatara Tiling": ("ap@tuatara.example",),
    }


def test_foreign_cursor_is_refused(connector):
    from connectors.xero.errors import XeroFixError

    with pytest.raises(XeroFixError):
        list(connector.sync({"mode": "cdc", "changedSince": "x"}))


def test_invoice_paid_during_a_full_pull_does_not_hide_another(
    connector, sandbox, tenant, clock
):
    # Paging a filtered list that shrinks mid-pull shifts every later invoice back
    # one place; without a re-read, the first invoice of page 2 would be skipped and
    # a full reconciliation would take it for deleted.
    sandbox.load(
        tenant,
        {
            "Contacts": [f.contact(1)],
            "Invoices": [f.invoice(n, 1) for n in range(1, 2501)],
        },
    )
    clock.advance(timedelta(minutes=5))
    pages = connector.sync(None)
    seen = []
    for page in pages:
        seen.append(page)
        if len(seen) == 2:  # contacts, then open invoices page 1
            sandbox.pay_invoice(tenant, f.invoice_id(5), "100.00", date(2025, 5, 1))
    invoices = {i.ledger_id: i for p in seen for i in p.invoices}
    assert len(invoices) == 2500
    assert invoices[f.invoice_id(5)].status is InvoiceStatus.PAID
    assert f.invoice_id(1001) in invoices
    open_calls = [e for e in sandbox.log.entries() if "Statuses=AUTHORISED" in e.query]
    assert len(open_calls) == 3 + 3  # the shrunken list is read once more
