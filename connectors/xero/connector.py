"""`XeroConnector`: one connected Xero organisation behind the neutral Connector.

Accounting API 2.0 through xero-python 15.x. Reads go through `sync.pages`, writes
through `writeback`, and every request through `XeroClient.call` (budget, tokens,
errors), so `calls` counts each request the connector sent. Use::

    connector = XeroConnector(settings.xero, store, redis, tenant_id)
    for page in connector.sync(saved_cursor):   # None: a full pull
        upsert(page); save(page.cursor)         # page.full: unseen ids are gone
    connector.sync({"mode": "full"})            # a reconciliation on demand

One connector per worker thread: the client remembers the token of the call in
flight. Errors are connectors.xero.errors (Reconnect/Wait/Retry/Fix).

Calls are the budget here (60 a minute per tenant): the payment gate before a send
reads a case's invoices with one `read_invoices` call; `fresh_read` costs five
(invoice, contact, and the customer's credit notes, overpayments and prepayments).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import redis as redis_lib

from app import clock as clock_mod
from app.config import LedgerApp
from app.money import quantize
from connectors import company_cache
from connectors.base import FeeBill, TokenStore
from connectors.budget import CallBudget
from connectors.records import (
    Company,
    Customer,
    FreshRead,
    Invoice,
    Ledger,
    SyncPage,
    WriteResult,
)
from connectors.timezones import UnknownTimezoneError, iana_from_xero
from connectors.xero import mapping, oauth, sync, writeback
from connectors.xero.client import DEFAULT_TIMEOUT, XeroClient
from connectors.xero.errors import XeroFixError

logger = logging.getLogger(__name__)

# TODO: both account codes should be per-creditor settings chosen at connect time;
# these are the codes of Xero's default chart (429 General Expenses, 090 Business
# Bank Account), so an organisation with another chart gets a 400 until set.
DEFAULT_FEE_ACCOUNT = "429"
DEFAULT_PAYMENT_ACCOUNT = "090"
IDS_PER_CALL = 50  # invoice ids per GET /Invoices?IDs=, well inside a URL's length
_GUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
# TODO: Xero's Organisation has no multi-currency flag, so it is guessed from the
# plan class; a wrong guess only hides or shows home-currency columns.
# Organisation classes whose plans include multi-currency.
_MULTI_CURRENCY = ("PREMIUM", "ULTIMATE", "DEMO")
_CREDIT_SOURCES = (
    ("get_credit_notes", "CreditNotes", 'Type=="ACCRECCREDIT"'),
    ("get_overpayments", "Overpayments", 'Type=="RECEIVE-OVERPAYMENT"'),
    ("get_prepayments", "Prepayments", 'Type=="RECEIVE-PREPAYMENT"'),
)


class XeroConnector:
    """One Xero tenant, as the Connector protocol (connectors/base.py) describes."""

    ledger = Ledger.XERO

    def __init__(
        self,
        app: LedgerApp,
        store: TokenStore,
        redis: redis_lib.Redis,
        tenant_id: str,
        *,
        clock: clock_mod.Clock | None = None,
        budget: CallBudget | None = None,
        fee_account_code: str = DEFAULT_FEE_ACCOUNT,
        payment_account_code: str = DEFAULT_PAYMENT_ACCOUNT,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.client = XeroClient(
            app, store, redis, tenant_id, clock=clock, budget=budget, timeout=timeout
        )
        self.tenant_id = tenant_id
        self._app = app
        self._store = store
        self._clock = clock
        self._redis = redis
        self._fee_account = fee_account_code
        self._payment_account = payment_account_code
        self._company: Company | None = None

    @property
    def calls(self) -> int:
        """Requests sent to the Accounting API through this connector."""
        return self.client.calls

    @calls.setter
    def calls(self, value: int) -> None:
        # Settable as the Connector protocol declares it (a job may reset the count).
        self.client.calls = value

    def company(self, fresh: bool = False) -> Company:
        """The organisation: name, base currency, time zone (IANA), country.

        Read once per connector, and shared between jobs through Redis for an hour
        unless `fresh` (a full sync) asks Xero again.
        """
        if self._company is not None and not fresh:
            return self._company
        self._company = company_cache.read_through(
            self._redis, self.ledger, self.tenant_id, self._read_company, fresh=fresh
        )
        return self._company

    def _read_company(self) -> Company:
        body = self.client.call(
            "organisation", self.client.accounting.get_organisations
        )
        orgs = (body or {}).get("Organisations") or []
        if not orgs:
            raise XeroFixError(f"tenant {self.tenant_id}: no organisation returned")
        org = orgs[0]
        try:
            zone = iana_from_xero(str(org.get("Timezone") or ""))
        except UnknownTimezoneError as exc:
            raise XeroFixError(f"tenant {self.tenant_id}: {exc}") from exc
        return Company(
            ledger=Ledger.XERO,
            id=self.tenant_id,
            name=str(org.get("Name") or ""),
            home_currency=str(org["BaseCurrency"]).upper(),
            timezone=zone,
            country=org.get("CountryCode") or None,
            multi_currency=str(org.get("Class") or "").startswith(_MULTI_CURRENCY),
        )

    def local_today(self) -> date:
        """Today in the organisation's time zone."""
        return clock_mod.local_today(self.company().timezone, self._clock)

    def sync(self, cursor: dict[str, object] | None) -> Iterator[SyncPage]:
        """Pages since `cursor`: a full pull when None, else what changed."""
        return sync.pages(
            self.client,
            cursor,
            company=self.company,
            local_today=lambda org: clock_mod.local_today(org.timezone, self._clock),
        )

    def fresh_read(self, invoice_id: str) -> FreshRead:
        """The invoice as Xero has it now, and its customer's unspent credit."""
        obj = self._read_invoice(invoice_id)
        invoice = self._map_invoice(obj)
        customer = self._read_customer(invoice.customer_id)
        credit = self._unapplied(invoice.customer_id, invoice.currency)
        return FreshRead(invoice=invoice, customer=customer, unapplied_credits=credit)

    def read_invoices(self, invoice_ids: Sequence[str]) -> dict[str, Invoice]:
        """The invoices as Xero has them now: one call per 50 ids (IDs filter)."""
        ids = list(dict.fromkeys(invoice_ids))
        found: dict[str, Invoice] = {}
        for start in range(0, len(ids), IDS_PER_CALL):
            chunk = ids[start : start + IDS_PER_CALL]
            body = self.client.call(
                f"invoices ids={len(chunk)}",
                self.client.accounting.get_invoices,
                i_ds=chunk,
            )
            for obj in (body or {}).get("Invoices") or []:
                invoice = self._map_invoice(obj)
                found[invoice.ledger_id.lower()] = invoice
        missing = [i for i in ids if i.lower() not in found]
        if missing:
            # Xero keeps deleted invoices (Status DELETED); one it does not list at
            # all is an id we got wrong, not a payment.
            raise XeroFixError(f"invoices {', '.join(missing)} not found", status=404)
        return {i: found[i.lower()] for i in ids}

    def find_invoices(self, number: str) -> list[Invoice]:
        """Sales invoices printed with `number`, exactly (case and spaces included)."""
        if not number or '"' in number or "\\" in number:
            raise XeroFixError(f"not a searchable invoice number: {number!r}")
        # InvoiceNumbers is comma-separated, so a number with a comma goes in `where`.
        query: dict[str, Any] = (
            {"where": f'InvoiceNumber=="{number}"'}
            if "," in number
            else {"invoice_numbers": [number]}
        )
        body = self.client.call(
            f"find number={number}", self.client.accounting.get_invoices, **query
        )
        found = []
        for obj in (body or {}).get("Invoices") or []:
            mapped = self._map_invoice(obj, strict=False)
            if mapped is not None and mapped.number == number:
                found.append(mapped)
        return found

    def write_note(self, invoice_id: str, key: str, text: str) -> WriteResult:
        """CARE's status note in the invoice's History, once per key."""
        return writeback.write_note(self.client, invoice_id, key, text)

    def write_fee_bill(self, bill: FeeBill) -> WriteResult:
        """The program's fee as a bill from "CARE Pre-Collections", once per key."""
        return writeback.write_fee_bill(
            self.client, bill, account_code=self._fee_account
        )

    def write_payment(
        self, invoice_id: str, key: str, amount: Decimal, paid_on: date
    ) -> WriteResult:
        """Money the program collected, applied to the invoice once per key."""
        return writeback.write_payment(
            self.client,
            invoice_id,
            key,
            amount,
            paid_on,
            account_code=self._payment_account,
        )

    def connected(self) -> bool:
        """True while this tenant is still among the grant's /Connections."""
        wanted = self.tenant_id.lower()
        return any(
            str(c.get("tenantId", "")).lower() == wanted
            for c in self.client.connections()
        )

    def revoke(self) -> None:
        """Revoke the connection's refresh token at Xero."""
        oauth.revoke(self._app, self._store.load().refresh_token)

    def _read_invoice(self, invoice_id: str) -> dict[str, Any]:
        body = self.client.call(
            f"invoice={invoice_id}",
            self.client.accounting.get_invoice,
            invoice_id=invoice_id,
        )
        found = (body or {}).get("Invoices") or []
        if not found:
            raise XeroFixError(f"invoice {invoice_id} not found", status=404)
        return dict(found[0])

    def _map_invoice(self, obj: dict[str, Any], strict: bool = True) -> Any:
        mapped = mapping.invoice(
            obj,
            home_currency=self.company().home_currency,
            web_base=self._app.web_base,
        )
        if mapped is None and strict:
            raise XeroFixError(
                f"invoice {obj.get('InvoiceID')} is {obj.get('Type')} "
                f"{obj.get('Status')}: not a receivable"
            )
        return mapped

    def _read_customer(self, contact_id: str) -> Customer | None:
        if not _GUID.match(contact_id or ""):
            return None
        # NOTE: the contact an invoice embeds may be a summary without e-mails or
        # phones; reading the contact itself costs a call but never claims a
        # customer has no e-mail when it has one (case C29).
        body = self.client.call(
            f"contact={contact_id}",
            self.client.accounting.get_contact,
            contact_id=contact_id,
        )
        found = (body or {}).get("Contacts") or []
        return mapping.customer(found[0]) if found else None

    def _unapplied(self, contact_id: str, currency: str) -> Decimal:
        total = Decimal(0)
        if not _GUID.match(contact_id or ""):
            return quantize(total, currency)
        for method, items, kind in _CREDIT_SOURCES:
            body = self.client.call(
                f"{items} contact={contact_id}",
                getattr(self.client.accounting, method),
                where=(
                    f'{kind} AND Status=="AUTHORISED"'
                    f' AND Contact.ContactID==Guid("{contact_id}")'
                ),
            )
            for obj in (body or {}).get(items) or []:
                # Credit in another currency cannot settle this invoice as it is.
                if str(obj.get("CurrencyCode") or currency).upper() == currency:
                    total += Decimal(obj.get("RemainingCredit") or 0)
        return quantize(total, currency)


__all__ = ["XeroConnector"]
