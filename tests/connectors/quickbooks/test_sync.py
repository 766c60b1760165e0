"""Full pulls and incremental syncs against the sandbox, counted call by call."""

from __future__ import annotations

from decimal import Decimal

from tests.connectors.quickbooks import factories as f


def drain(connector, cursor=None, known=None):
    pages = list(connector.sync(cursor, known) if known else connector.sync(cursor))
    return pages, pages[-1].cursor


def test_full_sync_costs_one_call_per_page_per_stream_plus_company(env):
    env.load(
        Customer=[f.customer(1, "Cool Cars")],
        Invoice=f.open_invoices(2501),
    )
    connector = env.connector()
    pages, cursor = drain(connector)
    invoices = {i.ledger_id: i for p in pages for i in p.invoices}
    assert len(invoices) == 2501
    assert {"1", "1000", "1001", "2000", "2001", "2501"} <= set(invoices)
    assert invoices["2501"].amount_due == Decimal("100.00")
    # CompanyInfo + Preferences, then per stream ceil(N / 1000) pages, a short last
    # page ending each: customers 1, open 3, closed 1, payments 1, credits 1.
    assert env.api_calls() == 2 + 1 + 3 + 1 + 1 + 1
    assert connector.client.api_calls == env.api_calls()
    assert pages[-1].done and cursor["mode"] == "cdc"
