"""Writes into the creditor's QuickBooks Online books, each one idempotent by its key.

- A status note: a hand-built sparse update of the invoice's PrivateNote that appends
  CARE's line and keeps the bookkeeper's text. A 5010 (someone saved the invoice since
  we read it) re-reads and resends only that field, three attempts at most (C09).
- The program's fee: a Bill payable to the vendor "CARE Pre-Collections", posted to the
  expense account "Collection fees", with DocNumber = the bill's key.
- Money the program collected: a Payment linked by the invoice's internal Id, never
  its printed number (C33), in the invoice's currency at QBO's own rate for the day
  (C18). An amount above the open balance is refused: CARE never books an overpayment
  on the creditor's behalf; a person decides where the excess goes.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from app.money import quantize
from connectors.base import FeeBill
from connectors.quickbooks import errors, mapping
from connectors.quickbooks.client import QuickBooksClient, quote, select
from connectors.records import InvoiceStatus, WriteResult

logger = logging.getLogger(__name__)

VENDOR_NAME = "CARE Pre-Collections"
ACCOUNT_NAME = "Collection fees"
NOTE_ATTEMPTS = 3
PRIVATE_NOTE_MAX = 4000  # QBO's PrivateNote limit (Finance.xsd, 4000 characters)
DOC_NUMBER_MAX = 21  # QBO's DocNumber / PaymentRefNum limit
_KEYS = uuid.UUID("5a0c3f2e-8d0b-4c61-9a55-2b7f1e4d9c10")


def marker(key: str) -> str:
    """The tag CARE leaves in a note so a retry can see it already wrote `key`."""
    if not key or "]" in key or "\n" in key:
        raise ValueError(
            f"an idempotency key needs text without ] or newlines: {key!r}"
        )
    return f"[CARE:{key}]"


def request_id(kind: str, key: str) -> str:
    """A stable `requestid` for a create: Intuit drops a repeat of the same one."""
    return str(uuid.uuid5(_KEYS, f"{kind}:{key}"))


class WriteBack:
    """The three writes for one realm, through one client."""

    def __init__(self, client: QuickBooksClient, home_currency: str) -> None:
        self.client = client
        self.home = home_currency
        self._vendors: dict[str, str] = {}  # currency -> Vendor Id
        self._account: str | None = None

    # -- status note ------------------------------------------------------------

    def note(self, invoice_id: str, key: str, text: str) -> WriteResult:
        """Append CARE's line to the invoice's PrivateNote once."""
        tag = marker(key)
        line = f"{tag} {' '.join(text.split())}".strip()
        start = self.client.calls
        for attempt in range(1, NOTE_ATTEMPTS + 1):
            invoice = self.client.read("Invoice", invoice_id)
            current = str(invoice.get("PrivateNote") or "")
            if tag in current:
                return self._result("note", key, invoice_id, False, start)
            updated = f"{current}\n{line}" if current else line
            if len(updated) > PRIVATE_NOTE_MAX:
                raise errors.QuickBooksFixError(
                    f"invoice {invoice_id}: the private note would pass QBO's"
                    f" {PRIVATE_NOTE_MAX} characters; shorten it by hand first"
                )
            body = {
                "Id": invoice_id,
                "SyncToken": invoice["SyncToken"],
                "sparse": True,
                "PrivateNote": updated,
            }
            try:
                self.client.write("Invoice", body)
            except errors.QuickBooksStaleError:
                logger.warning(
                    "stale SyncToken, re-reading invoice=%s attempt=%s",
                    invoice_id,
                    attempt,
                )
                continue
            logger.info("note written invoice=%s key=%s", invoice_id, key)
            return self._result("note", key, invoice_id, True, start)
        raise errors.QuickBooksStaleError(
            f"invoice {invoice_id} kept changing: note not written after"
            f" {NOTE_ATTEMPTS} attempts"
        )

    # -- fee bill ---------------------------------------------------------------

    def fee_bill(self, bill: FeeBill) -> WriteResult:
        """The program's fee as a Bill, once per key."""
        lines = _bill_lines(bill)
        if len(bill.key) > DOC_NUMBER_MAX:
            raise errors.QuickBooksFixError(
                f"fee bill key {bill.key!r} is longer than QBO's {DOC_NUMBER_MAX}"
                " character DocNumber"
            )
        start = self.client.calls
        vendor_id = self._vendor(bill.currency)
        statement = select("Bill", f"DocNumber = {quote(bill.key)}")
        for found in self.client.query(statement).get("Bill") or []:
            if (found.get("VendorRef") or {}).get("value") == vendor_id:
                return self._result(
                    "fee_bill", bill.key, str(found["Id"]), False, start
                )
        body: dict[str, Any] = {
            "VendorRef": {"value": vendor_id},
            "DocNumber": bill.key,
            "TxnDate": bill.bill_date.isoformat(),
            "DueDate": bill.due_date.isoformat(),
            "CurrencyRef": {"value": bill.currency},
            "PrivateNote": bill.description,
            "Line": [
                {
                    "DetailType": "AccountBasedExpenseLineDetail",
                    "Amount": line_amount,
                    "Description": description,
                    "AccountBasedExpenseLineDetail": {
                        "AccountRef": {"value": self._expense_account()}
                    },
                }
                for description, line_amount in lines
            ],
        }
        if bill.currency != self.home:
            body["ExchangeRate"] = self.rate(bill.currency, bill.bill_date)
        created = self.client.write(
            "Bill", body, request_id=request_id("fee_bill", bill.key)
        )
        logger.info("fee bill created bill=%s key=%s", created["Id"], bill.key)
        return self._result("fee_bill", bill.key, str(created["Id"]), True, start)

    def _vendor(self, currency: str) -> str:
        # A QBO vendor deals in one currency, so a foreign fee gets its own vendor.
        if currency in self._vendors:
            return self._vendors[currency]
        name = VENDOR_NAME if currency == self.home else f"{VENDOR_NAME} {currency}"
        where = f"DisplayName = {quote(name)} AND Active IN (true, false)"
        statement = select("Vendor", where)
        rows = self.client.query(statement).get("Vendor") or []
        if rows:
            vendor_id = str(rows[0]["Id"])
        else:
            body = {
                "DisplayName": name,
                "CompanyName": VENDOR_NAME,
                "CurrencyRef": {"value": currency},
            }
            vendor_id = str(self.client.write("Vendor", body)["Id"])
            logger.info("vendor created vendor=%s currency=%s", vendor_id, currency)
        self._vendors[currency] = vendor_id
        return vendor_id

    def _expense_account(self) -> str:
        if self._account is None:
            statement = select("Account", f"Name = {quote(ACCOUNT_NAME)}")
            rows = self.client.query(statement).get("Account") or []
            if rows:
                self._account = str(rows[0]["Id"])
            else:
                body = {"Name": ACCOUNT_NAME, "AccountType": "Expense"}
                self._account = str(self.client.write("Account", body)["Id"])
                logger.info("expense account created account=%s", self._account)
        return self._account

    # -- payment ----------------------------------------------------------------

    def payment(
        self, invoice_id: str, key: str, amount: Decimal, paid_on: date
    ) -> WriteResult:
        """Money collected by the program, applied to the invoice by its Id, once."""
        if isinstance(amount, float) or not isinstance(amount, Decimal | int):
            raise TypeError("a payment amount is a Decimal")
        tag = marker(key)
        start = self.client.calls
        invoice = self.client.read("Invoice", invoice_id)
        record = mapping.invoice(invoice, self.home, "")
        value = Decimal(amount)
        if quantize(value, record.currency) != value or value <= 0:
            raise errors.QuickBooksFixError(
                f"payment {value} is not a positive amount in whole"
                f" {record.currency} minor units"
            )
        # TODO: two workers writing one key at the same instant both see no payment
        # here; the stable requestid makes Intuit answer the second create with the
        # first one's result. Unverified against a real realm; a per-key Redis lock
        # in the job would make it certain at the cost of one more round trip.
        existing = self._payment_with(invoice, tag)
        if existing is not None:
            return self._result("payment", key, existing, False, start)
        if record.status is not InvoiceStatus.OPEN:
            raise errors.QuickBooksFixError(
                f"invoice {invoice_id} is {record.status}: no payment recorded"
            )
        if value > record.amount_due:
            # Policy: CARE never leaves an unexplained overpayment in the books (C33).
            raise errors.QuickBooksFixError(
                f"payment {value} {record.currency} is more than invoice {invoice_id}'s"
                f" balance {record.amount_due}: refused, review the excess by hand"
            )
        body: dict[str, Any] = {
            "CustomerRef": {"value": record.customer_id},
            "TotalAmt": value,
            "TxnDate": paid_on.isoformat(),
            "CurrencyRef": {"value": record.currency},
            "PaymentRefNum": key[:DOC_NUMBER_MAX],
            "PrivateNote": f"{tag} collected by CARE Pre-Collections",
            "Line": [
                {
                    "Amount": value,
                    "LinkedTxn": [{"TxnId": str(invoice["Id"]), "TxnType": "Invoice"}],
                }
            ],
        }
        if record.currency != self.home:
            body["ExchangeRate"] = self.rate(record.currency, paid_on)
        created = self.client.write(
            "Payment", body, request_id=request_id("payment", key)
        )
        logger.info(
            "payment created payment=%s invoice=%s key=%s",
            created["Id"],
            invoice_id,
            key,
        )
        return self._result("payment", key, str(created["Id"]), True, start)

    def _payment_with(self, invoice: dict[str, Any], tag: str) -> str | None:
        # The payments already linked to the invoice; one carrying our tag means an
        # earlier attempt got through.
        ids = [
            str(link["TxnId"])
            for link in invoice.get("LinkedTxn") or []
            if link.get("TxnType") == "Payment" and link.get("TxnId")
        ]
        if not ids:
            return None
        listed = ", ".join(quote(i) for i in ids)
        statement = select("Payment", f"Id IN ({listed})", max_results=1000)
        for row in self.client.query(statement).get("Payment") or []:
            if tag in str(row.get("PrivateNote") or ""):
                return str(row["Id"])
        return None

    def rate(self, currency: str, on: date) -> Decimal:
        """QBO's home-currency units per one `currency` on `on` (/exchangerate)."""
        answer = self.client.get(
            "exchangerate",
            {"sourcecurrencycode": currency, "asofdate": on.isoformat()},
        )
        raw = (answer.get("ExchangeRate") or {}).get("Rate")
        rate = Decimal(str(raw)) if raw not in (None, "") else Decimal(0)
        # NOTE: QBO answers 1 for a currency it has no rate for; booking a foreign
        # payment at 1:1 is the fault C18 describes, so 1 counts as "no rate".
        if rate <= 0 or rate == 1:
            raise errors.QuickBooksFixError(
                f"QuickBooks has no exchange rate for {currency} on {on}; enter one"
                " in QuickBooks first"
            )
        return rate

    def _result(
        self, kind: str, key: str, ledger_id: str, created: bool, start: int
    ) -> WriteResult:
        return WriteResult(
            kind=kind,
            key=key,
            ledger_id=ledger_id,
            created=created,
            calls=self.client.calls - start,
        )


def _bill_lines(bill: FeeBill) -> list[tuple[str, Decimal]]:
    if bill.amount <= 0:
        raise errors.QuickBooksFixError(f"fee bill {bill.key}: amount must be positive")
    if quantize(bill.amount, bill.currency) != bill.amount:
        raise errors.QuickBooksFixError(
            f"fee bill {bill.key}: {bill.amount} is not in whole {bill.currency} units"
        )
    if bill.due_date < bill.bill_date:
        raise errors.QuickBooksFixError(f"fee bill {bill.key}: due before it is dated")
    if not bill.lines:
        return [(bill.description, bill.amount)]
    total = sum((amount for _, amount in bill.lines), Decimal(0))
    if total != bill.amount:
        raise errors.QuickBooksFixError(
            f"fee bill {bill.key}: lines add up to {total}, not {bill.amount}"
        )
    return [(description, amount) for description, amount in bill.lines]
