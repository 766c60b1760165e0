"""Case C11, Xero variant: a large organisation pulled in few, full pages."""

from __future__ import annotations

import math
import time
from datetime import date, timedelta

import pytest

from tests.connectors.xero import factories as f

TOTAL, OPEN = 100_000, 12_345


@pytest.mark.slow
def test_c11_100k_invoices_open_ones_in_13_calls(connector, sandbox, tenant, clock):
    contacts = [f.contact(n) for n in range(1, 201)]
    invoices = []
    for n in range(1, TOTAL + 1):
        if n <= OPEN:
            invoices.append(f.invoice(n, n % 200 + 1))
        elif n <= 92_345:
            # Paid long ago: outside the 24-month window.
            invoices.append(f.invoice(n, 1, status="PAID", issued=date(2021, 1, 5)))
        else:
            invoices.append(f.invoice(n, 1, status="VOIDED"))
    sandbox.load(tenant, {"Contacts": contacts, "Invoices": invoices})
    del invoices
    clock.advance(timedelta(minutes=5))
    sandbox.log.clear()

    started = time.monotonic()
    count, largest, ids = 0, 0, set()
    for page in connector.sync(None):  # streamed: one page in hand at a time
        count += len(page.invoices)
        largest = max(largest, len(page.invoices))
        ids.update(i.ledger_id for i in page.invoices)
    elapsed = time.monotonic() - started

    assert count == len(ids) == OPEN
    assert f.invoice_id(OPEN) in ids and f.invoice_id(1) in ids
    assert largest == 1000
    entries = sandbox.log.entries()
    open_calls = [e for e in entries if "Statuses=AUTHORISED" in e.query]
    assert len(open_calls) == math.ceil(OPEN / 1000) == 13
    # /Organisation, contacts, 13 open pages, paid, payments, 3 credit kinds
    assert connector.calls == len(entries) == 1 + 1 + 13 + 1 + 1 + 3
    assert {e.status for e in entries} == {200}  # no 429
    assert max(sandbox.limits.in_flight.peak.values()) <= 5
    print(
        f"C11 xero: {OPEN} open of {TOTAL} in {connector.calls} calls, {elapsed:.1f}s"
    )
