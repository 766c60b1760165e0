"""C11 (QuickBooks half): 100,000 invoices, the 6,250 open ones pulled completely."""

from __future__ import annotations

import random
import time
from decimal import Decimal

import pytest

from tests.connectors.quickbooks import factories as f

TOTAL = 100_000
NEWEST_OPEN = range(96_521, 100_001)  # 3,480
OLDER_OPEN = 2_770
AR_TOTAL = Decimal("1874512.40")


def books():
    """Ids oldest first; closed invoices dated before the 24-month history."""
    rng = random.Random(11)
    older = set(rng.sample(range(1, 96_521), OLDER_OPEN))
    open_ids = sorted(older | set(NEWEST_OPEN))
    # 6,249 x 299.92 = 1,874,200.08, and the last one 312.32: 1,874,512.40 in all.
    amounts = {i: "299.92" for i in open_ids}
    amounts[open_ids[-1]] = "312.32"
    invoices = []
    for i in range(1, TOTAL + 1):
        year = 2015 + i * 10 // TOTAL  # 2015 .. 2025
        txn = f"{min(year, 2025)}-01-15" if i in amounts else "2018-06-01"
        if i in amounts:
            invoices.append(f.invoice(i, 1, amounts[i], txn=txn, due="2025-02-14"))
        else:
            invoices.append(f.invoice(i, 1, "120.00", "0", txn=txn))
    return invoices


@pytest.mark.slow  # about 25 s, most of it loading 100,000 invoices into the sandbox
def test_large_book_pulls_every_open_invoice_in_seven_pages(env):
    env.load(Customer=[f.customer(1, "Cool Cars")], Invoice=books())
    connector = env.connector()
    started = time.monotonic()
    open_ids: set[str] = set()
    total = Decimal(0)
    for page in connector.sync(None):
        for invoice in page.invoices:
            if invoice.status == "open":
                open_ids.add(invoice.ledger_id)
                total += invoice.amount_due
    elapsed = time.monotonic() - started

    assert len(open_ids) == 6_250
    assert {"96521", "100000"} <= open_ids
    assert total == AR_TOTAL
    queries = [e for e in env.sandbox.log.entries() if e.path.endswith("/query")]
    # company 2, customers 1, open 7 (6 x 1000 + 250), closed, payments, credits 1.
    assert len(queries) == 2 + 1 + 7 + 3
    assert not any(e.status == 429 for e in env.sandbox.log.entries())
    assert elapsed < 30  # measured about 4 s for the sync itself
