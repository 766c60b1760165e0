"""The contract every ledger connector keeps, its token store and its errors.

The errors are named for what the caller does next. Each ledger package subclasses
them (`connectors.quickbooks.errors`, `connectors.xero.errors`), so a job can catch
the neutral class and a test can check the ledger's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from connectors.records import (
    Company,
    FreshRead,
    Invoice,
    Ledger,
    SyncPage,
    WriteResult,
)


class LedgerError(Exception):
    """Root of every connector error."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ReconnectError(LedgerError):
    """The grant is gone (invalid_grant, revoked): a person must reconnect."""


class WaitError(LedgerError):
    """A rate limit: try again after `retry_after` seconds; `scope` is minute or day."""

    def __init__(
        self, message: str, *, retry_after: float, scope: str = "minute", **kw: object
    ) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after
        self.scope = scope


class RetryError(LedgerError):
    """A transient fault (5xx, timeout, connection reset): retry with backoff."""


class StaleError(LedgerError):
    """The object changed since it was read (QuickBooks 5010): re-read, then retry."""


class FixError(LedgerError):
    """The ledger refused the request as wrong (a 400, 404): retrying will not help."""


@dataclass
class TokenSet:
    access_token: str
    refresh_token: str
    expires_at: datetime  # UTC, when the access token stops working
    refresh_expires_at: datetime | None = None
    scope: tuple[str, ...] = ()
    id_token: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class TokenStore(Protocol):
    """Where a connection's tokens live; handed in by the app (encrypted at rest)."""

    def load(self) -> TokenSet:
        """The newest stored tokens."""
        ...

    def save(self, tokens: TokenSet) -> None:
        """Store `tokens`, committed before this returns."""
        ...

    def refresh_lock(self) -> AbstractContextManager[object]:
        """Held while refreshing: one refresh per connection across processes."""
        ...

    def needs_reconnect(self, reason: str) -> None:
        """Mark the connection as needing a person to reconnect it."""
        ...


@dataclass(frozen=True)
class FeeBill:
    """The program's fee, billed in the creditor's own books as a payable."""

    key: str  # stable reference, e.g. "CARE-FEE-2025-05-USD"
    currency: str
    amount: Decimal
    bill_date: date
    due_date: date
    description: str
    lines: tuple[tuple[str, Decimal], ...] = ()  # (description, amount) per invoice


class Connector(Protocol):
    """One connected company in one ledger."""

    ledger: Ledger

    @property
    def calls(self) -> int:
        """API calls made through this connector, all endpoints."""
        ...

    def company(self, fresh: bool = False) -> Company:
        """The company: name, home currency, time zone, country (`fresh`: re-read)."""
        ...

    def sync(self, cursor: dict[str, object] | None) -> Iterator[SyncPage]:
        """Pages of changes since `cursor` (a full pull when None), cursor on each."""
        ...

    def fresh_read(self, invoice_id: str) -> FreshRead:
        """The invoice and its customer's unapplied credits, read now."""
        ...

    def read_invoices(self, invoice_ids: Sequence[str]) -> dict[str, Invoice]:
        """The invoices as the ledger has them now, by id, in as few calls as it takes.

        An invoice deleted in the ledger comes back with nothing owed. This is the
        payment gate's read before each send; `fresh_read` adds the customer.
        """
        ...

    def find_invoices(self, number: str) -> list[Invoice]:
        """Invoices whose printed number is `number`, exactly."""
        ...

    def write_note(self, invoice_id: str, key: str, text: str) -> WriteResult:
        """Put CARE's status note on the invoice once, keeping what others wrote."""
        ...

    def write_fee_bill(self, bill: FeeBill) -> WriteResult:
        """Create the program's fee bill once, payable to the program's vendor."""
        ...

    def write_payment(
        self, invoice_id: str, key: str, amount: Decimal, paid_on: date
    ) -> WriteResult:
        """Record money the program collected against the invoice, once."""
        ...

    def revoke(self) -> None:
        """Revoke the tokens at the ledger (disconnect)."""
        ...
