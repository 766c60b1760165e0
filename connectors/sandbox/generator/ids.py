"""Ledger-shaped ids and document numbers, drawn deterministically from a seed."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict

from connectors.records import Ledger


class IdMaker:
    """QuickBooks: numeric strings "1".."N" per entity; Xero: seeded UUIDs."""

    def __init__(self, ledger: Ledger, seed: int) -> None:
        self.ledger = ledger
        # A stream of its own, so adding a field elsewhere never renumbers Xero ids.
        self._rng = random.Random(f"ids:{seed}")
        self._counters: dict[str, int] = defaultdict(int)

    def next(self, entity: str) -> str:
        """The next id for `entity` ("customer", "invoice", "payment", "credit")."""
        if self.ledger is Ledger.QUICKBOOKS:
            self._counters[entity] += 1
            return str(self._counters[entity])
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def company_id(self) -> str:
        """A realm id (16 digits, as Intuit issues them) or a Xero tenant id."""
        if self.ledger is Ledger.QUICKBOOKS:
            return str(
                self._rng.randrange(9_130_000_000_000_000, 9_341_999_999_999_999)
            )
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


def invoice_number(ledger: Ledger, n: int) -> str:
    """The printed number of the `n`th invoice (from 1): "1001" or "INV-0001"."""
    if ledger is Ledger.QUICKBOOKS:
        return str(1000 + n)
    return f"INV-{n:04d}"


def credit_number(ledger: Ledger, n: int) -> str:
    """The printed number of the `n`th credit note (from 1): "CM-0001" or "CN-0001"."""
    prefix = "CM" if ledger is Ledger.QUICKBOOKS else "CN"
    return f"{prefix}-{n:04d}"
