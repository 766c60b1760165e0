"""`QuickBooksConnector`: one QuickBooks Online company behind the neutral contract.

Built from the app's settings (`LedgerApp`), the realm id, the connection's
`TokenStore`, Redis (budgets) and a clock; the sandbox and the real service differ
only in the `LedgerApp` URLs.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import redis as redis_lib

from app import clock as clock_mod
from app.config import LedgerApp
from connectors import company_cache
from connectors.base import Connector, FeeBill, TokenStore
from connectors.budget import CallBudget
from connectors.quickbooks import mapping
from connectors.quickbooks.client import TIMEOUT, QuickBooksClient, quote, select
from connectors.quickbooks.errors import QuickBooksNotFoundError
from connectors.quickbooks.sync import MAX_PAGE, Syncer
from connectors.quickbooks.writeback import WriteBack
from connectors.records import (
    Company,
    Customer,
    FreshRead,
    Invoice,
    Ledger,
    SyncPage,
    WriteResult,
)

logger = logging.getLogger(__name__)


class QuickBooksConnector:
    """A connected QuickBooks Online realm."""

    ledger = Ledger.QUICKBOOKS

    def __init__(
        self,
        app: LedgerApp,
        realm_id: str,
        store: TokenStore,
        redis: redis_lib.Redis,
        *,
        clock: clock_mod.Clock | None = None,
        timezone: str | None = None,
        page_size: int = MAX_PAGE,
        budget: CallBudget | None = None,
        timeout: float | tuple[float, float] = TIMEOUT,
    ) -> None:
        self.app = app
        self.client = QuickBooksClient(
            app, realm_id, store, redis, clock=clock, budget=budget, timeout=timeout
        )
        self._timezone = timezone
        self._redis = redis
        self._company: Company | None = None
        self._syncer = Syncer(
            self.client, self.company, app.web_base, page_size=page_size, clock=clock
        )
        self._writes: WriteBack | None = None

    @property
    def calls(self) -> int:
        """HTTP requests this connector made: discovery, token and API endpoints."""
        return self.client.calls

    @property
    def realm_id(self) -> str:
        return self.client.realm_id

    def company(self, fresh: bool = False) -> Company:
        """The company's name, home currency, time zone and country.

        Read once per connector, and shared between jobs through Redis for an hour
        unless `fresh` (a full sync) asks the ledger again.
        """
        if self._company is not None and not fresh:
            return self._company
        found = company_cache.read_through(
            self._redis, self.ledger, self.realm_id, self._read_company, fresh=fresh
        )
        if self._timezone:
            # The creditor's own zone, once adopted, wins over QBO's (or a guess).
            found = dataclasses.replace(found, timezone=self._timezone)
        self._company = found
        return found

    def _read_company(self) -> Company:
        info = self._first("CompanyInfo")
        prefs = self._first("Preferences")
        return mapping.company(self.realm_id, info, prefs)

    def sync(
        self,
        cursor: dict[str, object] | None,
        known: Callable[[], Iterable[str]] | None = None,
    ) -> Iterator[SyncPage]:
        """Pages since `cursor` (a full pull when None); save each page's cursor.

        `known`, when given, lists the invoice Ids the caller holds (ascending): a
        full reconciliation reads them back and reports the deleted ones.
        """
        return self._syncer.pages(cursor, known)

    def fresh_read(self, invoice_id: str) -> FreshRead:
        """The invoice, its customer and the customer's unapplied credits, read now."""
        home = self.company().home_currency
        try:
            raw = self.client.read("Invoice", invoice_id)
        except QuickBooksNotFoundError:
            # Deleted in QBO: nothing is owed, and nothing may be sent about it.
            logger.info(
                "fresh read: invoice deleted realm=%s invoice=%s",
                self.realm_id,
                invoice_id,
            )
            gone = mapping.deleted_invoice(invoice_id, home)
            return FreshRead(invoice=gone, customer=None, unapplied_credits=Decimal(0))
        invoice = mapping.invoice(raw, home, self.app.web_base)
        customer = mapping.customer(self.client.read("Customer", invoice.customer_id))
        of_customer = f"CustomerRef = {quote(customer.ledger_id)}"
        unapplied = Decimal(0)
        for payment in self._all("Payment", of_customer):
            record = mapping.payment(payment, home)
            if record.currency == invoice.currency:
                unapplied += record.unapplied
        for memo in self._all("CreditMemo", of_customer):
            record_credit = mapping.credit(memo, home)
            if record_credit.currency == invoice.currency:
                unapplied += record_credit.remaining
        return FreshRead(
            invoice=invoice, customer=customer, unapplied_credits=unapplied
        )

    def read_invoices(self, invoice_ids: Sequence[str]) -> dict[str, Invoice]:
        """The invoices as QBO has them now: one query per page of ids."""
        home = self.company().home_currency
        found: dict[str, Invoice] = {}
        ids = list(dict.fromkeys(invoice_ids))
        for start in range(0, len(ids), MAX_PAGE):
            chunk = ids[start : start + MAX_PAGE]
            listed = ", ".join(quote(i) for i in chunk)
            statement = select("Invoice", f"Id IN ({listed})", max_results=MAX_PAGE)
            for raw in self.client.query(statement).get("Invoice") or []:
                invoice = mapping.invoice(raw, home, self.app.web_base)
                found[invoice.ledger_id] = invoice
        for gone in set(ids) - set(found):
            # Not listed: deleted in QBO, so nothing is owed on it any more.
            logger.info(
                "read: invoice deleted realm=%s invoice=%s", self.realm_id, gone
            )
            found[gone] = mapping.deleted_invoice(gone, home)
        return found

    def find_invoices(self, number: str) -> list[Invoice]:
        """Invoices whose printed number (DocNumber) is exactly `number`."""
        home = self.company().home_currency
        rows = self._all("Invoice", f"DocNumber = {quote(number)}")
        return [mapping.invoice(r, home, self.app.web_base) for r in rows]

    def find_customers(self, name: str, *, prefix: bool = False) -> list[Customer]:
        """Customers whose DisplayName is `name` (or starts with it), active or not."""
        if prefix and "%" in name:
            raise ValueError("a name prefix cannot contain %, QBO's only wildcard")
        condition = (
            f"DisplayName LIKE {quote(name + '%')}"
            if prefix
            else f"DisplayName = {quote(name)}"
        )
        rows = self._all("Customer", f"{condition} AND Active IN (true, false)")
        return [mapping.customer(r) for r in rows]

    def write_note(self, invoice_id: str, key: str, text: str) -> WriteResult:
        """Put CARE's status note on the invoice once, keeping what others wrote."""
        return self._writer().note(invoice_id, key, text)

    def write_fee_bill(self, bill: FeeBill) -> WriteResult:
        """Create the program's fee bill once, payable to the program's vendor."""
        return self._writer().fee_bill(bill)

    def write_payment(
        self, invoice_id: str, key: str, amount: Decimal, paid_on: date
    ) -> WriteResult:
        """Record money the program collected against the invoice, once."""
        return self._writer().payment(invoice_id, key, amount, paid_on)

    def revoke(self) -> None:
        """Revoke the tokens at Intuit (disconnect)."""
        self.client.revoke()

    def _writer(self) -> WriteBack:
        if self._writes is None:
            self._writes = WriteBack(self.client, self.company().home_currency)
        return self._writes

    def _first(self, entity: str) -> dict[str, Any]:
        rows = self.client.query(select(entity, order=None)).get(entity) or []
        if not rows:
            raise mapping.MappingError(f"QuickBooks returned no {entity}")
        return dict(rows[0])

    def _all(self, entity: str, where: str) -> Iterator[dict[str, Any]]:
        # Pages until a short one.
        position = 1
        while True:
            statement = select(entity, where, start=position, max_results=MAX_PAGE)
            rows = list(self.client.query(statement).get(entity) or [])
            yield from rows
            if len(rows) < MAX_PAGE:
                return
            position += MAX_PAGE


def _keeps_the_contract(connector: QuickBooksConnector) -> Connector:
    # mypy checks here that the class still satisfies the neutral protocol.
    return connector
