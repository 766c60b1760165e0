"""The company generator: deterministic, ledger-shaped, hard cases present."""

from __future__ import annotations

from datetime import date

from connectors.records import Ledger
from connectors.sandbox.generator import generate

TODAY = date(2025, 5, 1)


def test_same_seed_gives_identical_books() -> None:
    first = generate(seed=11, invoices=80, today=TODAY, ledger=Ledger.XERO)
    again = generate(seed=11, invoices=80, today=TODAY, ledger=Ledger.XERO)
    assert first == again


def test_quickbooks_ids_count_from_one_per_entity() -> None:
    books = generate(seed=3, invoices=60, today=TODAY, ledger=Ledger.QUICKBOOKS)
    assert [i.ledger_id for i in books.invoices] == [str(n) for n in range(1, 61)]
    assert [i.number for i in books.invoices[:2]] == ["1001", "1002"]
