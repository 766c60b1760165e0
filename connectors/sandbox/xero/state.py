"""What one Xero sandbox holds: organisations (tenants) and their objects, in Xero JSON.

Objects are kept exactly as the API returns them (Decimals for amounts, `/Date()/`
strings for dates), keyed by id in insertion order, so a loaded support case comes back
byte for byte and `dump()` / `restore()` are plain JSON.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

# The collections the API serves, and the key each object's id lives under.
ID_KEYS: dict[str, str] = {
    "Invoices": "InvoiceID",
    "Contacts": "ContactID",
    "Payments": "PaymentID",
    "CreditNotes": "CreditNoteID",
    "Overpayments": "OverpaymentID",
    "Prepayments": "PrepaymentID",
}


class Ids:
    """Seeded, version-4-shaped UUIDs: the same seed gives the same ids in order."""

    def __init__(self, seed: int = 0, issued: int = 0) -> None:
        self.seed = seed
        self.issued = issued

    def new(self) -> str:
        """The next id."""
        self.issued += 1
        bits = random.Random(f"xero:{self.seed}:{self.issued}").getrandbits(128)
        return str(uuid.UUID(int=bits, version=4))


@dataclass
class Tenant:
    """One organisation: its Organisation object, its objects and their history."""

    id: str
    organisation: dict[str, Any]
    objects: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {name: {} for name in ID_KEYS}
    )
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Idempotency-Key -> (status, body) of the first answer, replayed on a retry.
    replies: dict[str, tuple[int, str]] = field(default_factory=dict)
    # Currency code -> Xero CurrencyRate (units of that currency per base unit).
    rates: dict[str, Any] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)
    # Bumped on every write; list selections cached for paging are keyed on it.
    revision: int = 0

    @property
    def base_currency(self) -> str:
        return str(self.organisation.get("BaseCurrency") or "USD")

    @property
    def name(self) -> str:
        return str(self.organisation.get("Name") or "")

    def collection(self, name: str) -> dict[str, dict[str, Any]]:
        return self.objects[name]

    def next_number(self, prefix: str) -> str:
        """The next free document number such as INV-0001 or CN-0001."""
        taken = {
            str(o.get("InvoiceNumber") or o.get("CreditNoteNumber") or "")
            for name in ("Invoices", "CreditNotes")
            for o in self.objects[name].values()
        }
        n = self.numbers.get(prefix, 0)
        while True:
            n += 1
            candidate = f"{prefix}{n:04d}"
            if candidate not in taken:
                self.numbers[prefix] = n
                return candidate

    def dump(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "organisation": self.organisation,
            "objects": {k: list(v.values()) for k, v in self.objects.items()},
            "history": self.history,
            "replies": {k: list(v) for k, v in self.replies.items()},
            "rates": self.rates,
            "numbers": self.numbers,
        }

    @classmethod
    def restore(cls, data: dict[str, Any]) -> Tenant:
        tenant = cls(id=data["id"], organisation=data["organisation"])
        for name, items in data.get("objects", {}).items():
            key = ID_KEYS[name]
            tenant.objects[name] = {o[key]: o for o in items}
        tenant.history = data.get("history", {})
        tenant.replies = {k: (v[0], v[1]) for k, v in data.get("replies", {}).items()}
        tenant.rates = data.get("rates", {})
        tenant.numbers = data.get("numbers", {})
        return tenant
