"""Full pulls and incremental syncs against the sandbox, counted call by call."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from connectors.records import Deletion, InvoiceStatus
from tests.connectors.quickbooks import factories as f

# CompanyInfo and Preferences, read once per connector.
COMPANY_CALLS = 2


def drain(connector, cursor=None, known=None):
    pages = list(connector.sync(cursor, known))
    return pages, pages[-1].cursor


def invoices_of(pages):
    return {i.ledger_id: i for p in pages for i in p.invoices}


def spy_statements(connector):
    """Record the query statements the connector sends (the log keeps no bodies)."""
    sent: list[str] = []
    query = connector.client.query

    def recording(statement):
        sent.append(statement)
        return query(statement)

    connector.client.query = recording
    return sent


def test_full_sync_costs_one_call_per_page_per_stream_plus_company(env):
    env.load(Customer=[f.customer(1, "Cool Cars")], Invoice=f.open_invoices(2501))
    connector = env.connector()
    pages, cursor = drain(connector)
    invoices = invoices_of(pages)
    assert len(invoices) == 2501
    assert {"1", "1000", "1001", "2000", "2001", "2501"} <= set(invoices)
    assert invoices["2501"].amount_due == Decimal("100.00")
    # Per stream ceil(N / 1000) pages: customers 1, open 3, closed, payments and
    # credits 1 each (each ends on a short page).
    assert env.api_calls() == COMPANY_CALLS + 1 + 3 + 1 + 1 + 1
    assert connector.client.api_calls == env.api_calls()
    # Everything the connector sent, discovery included, is in the sandbox's log.
    assert connector.calls == len(env.sandbox.log.entries())
    assert pages[-1].done and cursor["mode"] == "cdc"


@pytest.mark.parametrize(
    ("count", "open_pages"),
    [(2501, 3), (2000, 3), (999, 1)],
    ids=["C10a-2501", "C10b-2000-then-empty-page", "C10c-999"],
)
def test_paging_is_one_based_and_complete(env, count, open_pages):
    env.load(Customer=[f.customer(1, "Cool Cars")], Invoice=f.open_invoices(count))
    connector = env.connector()
    sent = spy_statements(connector)
    pages, _ = drain(connector)
    assert len(invoices_of(pages)) == count
    open_starts = [
        s.split("STARTPOSITION ")[1].split()[0] for s in sent if "Balance > '0'" in s
    ]
    assert open_starts == [str(1 + 1000 * k) for k in range(open_pages)]
    assert env.api_calls() == COMPANY_CALLS + 1 + open_pages + 3


def test_over_long_pages_are_deduplicated_at_the_seams(env):
    """C10 d: asked for 100 rows, the server sends 101; the repeat is dropped."""
    env.load(Customer=[f.customer(1, "Cool Cars")], Invoice=f.open_invoices(250))
    env.sandbox.quirks.page_overrun = 1
    pages, _ = drain(env.connector(page_size=100))
    ids = [i.ledger_id for p in pages for i in p.invoices]
    assert len(ids) == 250
    assert len(set(ids)) == 250


def test_resuming_from_a_page_cursor_continues_with_the_next_page(env):
    env.load(Customer=[f.customer(1, "Cool Cars")], Invoice=f.open_invoices(3500))
    first = env.connector()
    stream = first.sync(None)
    kept = [
        next(stream),
        next(stream),
        next(stream),
    ]  # customers, open 1-1000, 1001-2000
    cursor = kept[-1].cursor
    stream.close()  # the worker is killed here
    before = env.api_calls()

    resumed = env.connector()
    rest, _ = drain(resumed, cursor)
    seen = [i.ledger_id for p in kept + rest for i in p.invoices]
    assert len(seen) == 3500 and len(set(seen)) == 3500
    # The new worker finds the company in the shared cache (no CompanyInfo or
    # Preferences read), then reads open pages 3-4 and three short streams.
    assert env.api_calls() - before == 2 + 3


def test_incremental_sync_costs_calls_in_proportion_to_changes_not_size(env, clock):
    env.load(Customer=[f.customer(1, "Cool Cars")], Invoice=f.open_invoices(3000))
    connector = env.connector()
    _, cursor = drain(connector)
    clock.advance(timedelta(hours=2))
    env.sandbox.pay_invoice(env.realm, "17", "100.00")
    env.sandbox.write(env.realm, "Invoice", f.invoice(None, 1, "45.50") | {"Id": None})
    before = env.api_calls()

    pages, cursor = drain(connector, cursor)
    assert env.api_calls() - before == 1  # one CDC call
    changed = invoices_of(pages)
    assert changed["17"].status is InvoiceStatus.PAID
    assert changed["17"].amount_due == Decimal("0.00")
    assert [i.amount_due for i in changed.values() if i.ledger_id != "17"] == [
        Decimal("45.50")
    ]
    assert len(pages[0].payments) == 1
    assert cursor["mode"] == "cdc"


def test_cursor_older_than_the_cdc_window_reconciles_and_reports_deletions(env, clock):
    """C12: 311 deleted outside the window, 312 inside it, 313 still open."""
    env.load(
        Customer=[f.customer(1, "Cool Cars")],
        Invoice=[
            f.invoice(311, 1, "720.00"),
            f.invoice(312, 1, "95.50"),
            f.invoice(313, 1, "500.00"),
        ],
    )
    connector = env.connector()
    _, cursor = drain(connector)
    clock.advance(timedelta(days=2))
    env.load(Invoice=[{"Id": "311", "status": "Deleted"}])
    clock.advance(timedelta(days=39))
    env.load(Invoice=[{"Id": "312", "status": "Deleted"}])
    clock.advance(timedelta(days=4))

    pages, cursor = drain(env.connector(), cursor, known=lambda: ["311", "312", "313"])
    assert all(p.full for p in pages)
    deleted = {d for p in pages for d in p.deletions}
    assert deleted == {Deletion("invoice", "311"), Deletion("invoice", "312")}
    assert invoices_of(pages)["313"].amount_due == Decimal("500.00")
    # The next incremental starts at the reconciliation and stays inside the window.
    assert cursor["mode"] == "cdc"
    clock.advance(timedelta(days=1))
    before = env.api_calls()
    drain(env.connector(), cursor)
    cdc = [e for e in env.sandbox.log.entries()[before:] if e.path.endswith("/cdc")]
    assert len(cdc) == 1 and cdc[0].status == 200


def test_cdc_reports_deletions_inside_the_window(env, clock):
    env.load(
        Customer=[f.customer(1, "Cool Cars")],
        Invoice=[f.invoice(311, 1, "720.00"), f.invoice(312, 1, "95.50")],
    )
    connector = env.connector()
    _, cursor = drain(connector)
    clock.advance(timedelta(days=3))
    env.load(Invoice=[{"Id": "312", "status": "Deleted"}])
    pages, _ = drain(connector, cursor)
    assert [d for p in pages for d in p.deletions] == [Deletion("invoice", "312")]


def test_saturated_cdc_slides_its_window_and_loses_nothing(env, clock):
    env.load(Customer=[f.customer(1, "Cool Cars")], Invoice=f.open_invoices(1500))
    connector = env.connector()
    _, cursor = drain(connector)
    for invoice_id in range(1, 1301):
        clock.advance(timedelta(seconds=2))
        env.sandbox.pay_invoice(env.realm, str(invoice_id), "100.00")
    before = env.api_calls()
    pages, _ = drain(connector, cursor)
    paid = {i.ledger_id for i in invoices_of(pages).values() if i.status == "paid"}
    assert paid == {str(i) for i in range(1, 1301)}
    payments = {p.ledger_id for page in pages for p in page.payments}
    assert len(payments) == 1300
    # One saturated call for all four entities, then per entity: Invoice twice
    # (1,000 then the rest), Customer, Payment twice, CreditMemo.
    assert env.api_calls() - before == 1 + 2 + 1 + 2 + 1


def test_a_big_cdc_answer_comes_in_pages_that_resume_after_a_kill(env, clock):
    env.load(Customer=[f.customer(1, "Cool Cars")], Invoice=f.open_invoices(1500))
    _, cursor = drain(env.connector())
    for invoice_id in range(1, 1201):
        clock.advance(timedelta(seconds=2))
        env.sandbox.pay_invoice(env.realm, str(invoice_id), "100.00")

    stream = env.connector().sync(cursor)
    first = next(stream)  # the first 1,000 changed invoices
    stream.close()  # the worker is killed here
    assert not first.done and len(first.invoices) == 1000
    before = len(env.sandbox.log.entries())
    rest, final = drain(env.connector(), first.cursor)
    # Resumed: the rest of the invoices, then Customer, Payment (twice), CreditMemo.
    cdc = [e for e in env.sandbox.log.entries()[before:] if e.path.endswith("/cdc")]
    assert len(cdc) == 1 + 1 + 2 + 1
    paid = {i.ledger_id for p in [first, *rest] for i in p.invoices}
    assert paid == {str(i) for i in range(1, 1201)}
    assert rest[-1].done and final["mode"] == "cdc" and not final["target"]


def test_history_scope_is_24_months_of_the_company_calendar(env):
    env.load(
        Customer=[f.customer(1, "Cool Cars"), f.customer(2, "Old Mill", Active=False)],
        Invoice=[
            f.invoice(1, 1, "80.00", "0", txn="2023-05-01"),  # paid, just inside
            f.invoice(2, 1, "80.00", "0", txn="2023-04-30"),  # paid, too old
            f.invoice(3, 2, "80.00", "80.00", txn="2019-01-01"),  # open: always
        ],
        Payment=[
            f.payment(1, 1, "80.00", "0", "2023-05-01"),
            f.payment(2, 1, "80.00", "0", "2023-04-30"),
        ],
    )
    pages, _ = drain(env.connector())
    assert set(invoices_of(pages)) == {"1", "3"}
    assert {p.ledger_id for page in pages for p in page.payments} == {"1"}
    customers = {c.ledger_id: c for page in pages for c in page.customers}
    assert customers["2"].active is False


def test_unknown_cursor_version_is_a_clear_error(env):
    with pytest.raises(Exception, match="cursor version"):
        next(env.connector().sync({"v": 99}))
