"""Ledger-neutral records: what every connector turns its ledger's objects into.

Amounts are `Decimal` in the record's `currency`, already rounded to its minor unit.
Dates (issue, due, payment) are plain dates as the ledger shows them in the company's
time zone; instants (`last_modified`) are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    VOIDED = "voided"
    DELETED = "deleted"


class Ledger(StrEnum):
    QUICKBOOKS = "quickbooks"
    XERO = "xero"


@dataclass(frozen=True, slots=True)
class Company:
    ledger: Ledger
    id: str  # QuickBooks realm id or Xero tenant id
    name: str
    home_currency: str
    timezone: str  # IANA name, e.g. "Pacific/Auckland"
    country: str | None = None  # ISO 3166 alpha-2
    multi_currency: bool = False


@dataclass(frozen=True, slots=True)
class Address:
    lines: tuple[str, ...] = ()
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None  # ISO 3166 alpha-2 where the ledger gives one


@dataclass(frozen=True, slots=True)
class Customer:
    ledger_id: str
    name: str
    contact_name: str | None = None
    emails: tuple[str, ...] = ()  # cleaned: trimmed, split on commas, no blanks
    phones: tuple[str, ...] = ()
    address: Address | None = None
    tags: tuple[str, ...] = ()
    currency: str | None = None
    balance: Decimal | None = None  # the ledger's own net balance, credits included
    active: bool = True
    deleted: bool = False
    created: datetime | None = None
    last_modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class Invoice:
    ledger_id: str
    number: str | None
    customer_id: str
    issue_date: date | None
    due_date: date | None
    currency: str
    total: Decimal
    amount_due: Decimal  # after payments, credits, overpayments and prepayments
    home_amount_due: Decimal | None  # in the company's home currency, ledger's rate
    exchange_rate: Decimal | None  # home currency units per one invoice currency unit
    status: InvoiceStatus
    last_modified: datetime | None = None
    url: str | None = None  # the ledger's own screen for this invoice
    version: str | None = None  # QuickBooks SyncToken; None for Xero
    paid_on: date | None = None


@dataclass(frozen=True, slots=True)
class Application:
    """Part of a payment or credit applied to one invoice."""

    invoice_id: str
    amount: Decimal


class PaymentKind(StrEnum):
    PAYMENT = "payment"
    OVERPAYMENT = "overpayment"
    PREPAYMENT = "prepayment"


@dataclass(frozen=True, slots=True)
class Payment:
    ledger_id: str
    customer_id: str
    date: date
    currency: str
    amount: Decimal
    unapplied: Decimal  # left on the customer's account, not applied to any invoice
    applied: tuple[Application, ...] = ()
    kind: PaymentKind = PaymentKind.PAYMENT
    deleted: bool = False
    last_modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class Credit:
    """A credit note (QuickBooks CreditMemo, Xero ACCRECCREDIT)."""

    ledger_id: str
    customer_id: str
    date: date
    currency: str
    total: Decimal
    remaining: Decimal  # not yet applied to an invoice
    applied: tuple[Application, ...] = ()
    number: str | None = None
    deleted: bool = False
    last_modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class Deletion:
    """An object the ledger reports as deleted (QuickBooks CDC `status: Deleted`)."""

    entity: str  # "invoice", "customer", "payment", "credit"
    ledger_id: str


@dataclass(slots=True)
class SyncPage:
    """One page of a sync: records to upsert, then `cursor` to save before the next.

    `cursor` is opaque, JSON-serialisable, and resumes the sync right after this page
    when handed back to the connector (after a kill, say). `done` marks the last page.
    """

    customers: list[Customer] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    credits: list[Credit] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)
    cursor: dict[str, object] = field(default_factory=dict)
    done: bool = False
    full: bool = False  # True while a full pull runs: absent ids may be deletions
    skipped: list[str] = field(default_factory=list)  # "<entity> <id>: why" unread


@dataclass(frozen=True, slots=True)
class FreshRead:
    """One invoice, its customer and the customer's unapplied credits, read now."""

    invoice: Invoice
    customer: Customer | None
    unapplied_credits: Decimal  # in the invoice's currency


@dataclass(frozen=True, slots=True)
class WriteResult:
    """A write the ledger holds: its id there, and whether this call created it."""

    kind: str  # "note", "fee_bill", "payment"
    key: str  # the idempotency key it was written under
    ledger_id: str
    created: bool  # False when an earlier attempt had already written it
    calls: int = 0
