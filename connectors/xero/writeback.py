"""Writing to Xero, each write idempotent: look for its key first, then create once.

Accounting API 2.0: a status note is a History record on the invoice, the program's
fee is an ACCPAY bill from the program's supplier contact, and money the program
collected is a Payment on the invoice in the invoice's currency. Every create also
sends the key as Xero's Idempotency-Key header, so a retry after a lost response is
answered with the first result instead of a second object.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal
from typing import Any

from xero_python.accounting import (
    Account,
    Contact,
    CurrencyCode,
    HistoryRecord,
    HistoryRecords,
    Invoices,
    LineAmountTypes,
    LineItem,
    Payment,
    Payments,
)
from xero_python.accounting import Invoice as XeroInvoice

from app.money import quantize
from connectors.base import FeeBill
from connectors.records import WriteResult
from connectors.xero.client import XeroClient
from connectors.xero.errors import XeroFixError

logger = logging.getLogger(__name__)

SUPPLIER_NAME = "CARE Pre-Collections"
# Xero documents no limit on History Details; the sandbox refuses past 2,500
# characters, and a status note that long would be a bug here anyway.
NOTE_LIMIT = 2500
# Keys go into `where` literals and Xero's 128-character Idempotency-Key header.
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$")
# NOTE: xero-python serialises Decimal as a JSON float. Amounts quantized to cents
# with at most 15 significant digits survive that exactly (repr round-trips).
_FLOAT_SAFE = Decimal("1E13")


def check_key(key: str) -> str:
    """`key` if it is safe as a reference, a where literal and an Idempotency-Key."""
    if not isinstance(key, str) or not _KEY.match(key):
        raise XeroFixError(f"not a usable write-back key: {key!r}")
    return key


def write_note(client: XeroClient, invoice_id: str, key: str, text: str) -> WriteResult:
    """Add `text` to the invoice's History once; a note with `key` counts."""
    check_key(key)
    details = f"{' '.join(text.split())} [{key}]"
    if len(details) > NOTE_LIMIT:
        raise XeroFixError(f"note for invoice {invoice_id} is over {NOTE_LIMIT} chars")
    before = client.calls

    body = client.call(
        f"history invoice={invoice_id}",
        client.accounting.get_invoice_history,
        invoice_id=invoice_id,
    )
    for record in (body or {}).get("HistoryRecords") or []:
        if f"[{key}]" in str(record.get("Details") or ""):
            logger.info("xero note already there invoice=%s key=%s", invoice_id, key)
            return WriteResult("note", key, invoice_id, False, client.calls - before)

    client.call(
        f"add note invoice={invoice_id}",
        client.accounting.create_invoice_history,
        invoice_id=invoice_id,
        history_records=HistoryRecords(
            history_records=[HistoryRecord(details=details)]
        ),
        idempotency_key=f"note:{key}",
    )
    logger.info("xero note written invoice=%s key=%s", invoice_id, key)
    return WriteResult("note", key, invoice_id, True, client.calls - before)


def write_fee_bill(
    client: XeroClient, bill: FeeBill, *, account_code: str
) -> WriteResult:
    """The program's fee as an ACCPAY bill, once per `bill.key`."""
    key = check_key(bill.key)
    lines = _fee_lines(bill)
    currency = _currency(bill.currency, key)
    before = client.calls

    found = client.call(
        f"fee bill lookup key={key}",
        client.accounting.get_invoices,
        # NOTE: Xero's docs call Reference "ACCREC only" while its UI shows a bill's
        # InvoiceNumber as its reference; the key goes in both and either finds it.
        where=f'Type=="ACCPAY" AND (Reference=="{key}" OR InvoiceNumber=="{key}")',
        page=1,
    )
    for existing in (found or {}).get("Invoices") or []:
        # Whatever its status: a bill the bookkeeper voided stays voided, and CARE
        # does not bill that month again behind their back.
        logger.info("xero fee bill already there key=%s", key)
        return WriteResult(
            "fee_bill", key, str(existing["InvoiceID"]), False, client.calls - before
        )

    invoice = XeroInvoice(
        type="ACCPAY",
        # Xero finds the contact by name, or creates it: find-or-create in one call.
        contact=Contact(name=SUPPLIER_NAME),
        date=bill.bill_date,
        due_date=bill.due_date,
        currency_code=currency,
        invoice_number=key,
        reference=key,
        status="AUTHORISED",
        # TODO: tax on the fee follows the creditor's jurisdiction; NoTax books the
        # fee at its face value and leaves any GST/VAT to the bookkeeper.
        line_amount_types=LineAmountTypes.NOTAX,
        line_items=[
            LineItem(
                description=text,
                quantity=Decimal(1),
                unit_amount=amount,
                account_code=account_code,
            )
            for text, amount in lines
        ],
    )
    body = client.call(
        f"fee bill create key={key}",
        client.accounting.create_invoices,
        invoices=Invoices(invoices=[invoice]),
        idempotency_key=f"fee:{key}",
    )
    created = _first(body, "Invoices", "InvoiceID")
    logger.info("xero fee bill written key=%s bill=%s", key, created)
    return WriteResult("fee_bill", key, created, True, client.calls - before)


def _fee_lines(bill: FeeBill) -> list[tuple[str, Decimal]]:
    amount = _safe(quantize(bill.amount, bill.currency), bill.key)
    if amount <= 0:
        raise XeroFixError(f"fee bill {bill.key} amount must be positive: {amount}")
    if bill.due_date < bill.bill_date:
        raise XeroFixError(f"fee bill {bill.key} is due before it is dated")
    if not bill.lines:
        return [(bill.description, amount)]
    lines = [(d, _safe(quantize(a, bill.currency), bill.key)) for d, a in bill.lines]
    if sum((a for _, a in lines), Decimal(0)) != amount:
        raise XeroFixError(f"fee bill {bill.key}: lines do not add up to {amount}")
    return lines


def write_payment(
    client: XeroClient,
    invoice_id: str,
    key: str,
    amount: Decimal,
    paid_on: date,
    *,
    account_code: str,
) -> WriteResult:
    """Apply money the program collected to the invoice once, in its currency."""
    check_key(key)
    before = client.calls

    invoice = _invoice(client, invoice_id)
    for paid in invoice.get("Payments") or []:
        if paid.get("Reference") == key:
            logger.info("xero payment already there invoice=%s key=%s", invoice_id, key)
            return WriteResult(
                "payment", key, str(paid["PaymentID"]), False, client.calls - before
            )
    currency = str(invoice.get("CurrencyCode") or "")
    value = _check_payment(invoice, invoice_id, amount, currency)

    payment = Payment(
        invoice=XeroInvoice(invoice_id=invoice_id),
        account=Account(code=account_code),
        date=paid_on,
        amount=value,
        reference=key,
        # NOTE: no CurrencyRate. Xero then uses its own rate for the payment date;
        # sending 1.0 for a foreign-currency invoice would book a false FX gain
        # (case C18).
    )
    body = client.call(
        f"payment invoice={invoice_id}",
        client.accounting.create_payments,
        payments=Payments(payments=[payment]),
        idempotency_key=f"payment:{key}",
    )
    created = _first(body, "Payments", "PaymentID")
    logger.info("xero payment written invoice=%s key=%s", invoice_id, key)
    return WriteResult("payment", key, created, True, client.calls - before)


def _check_payment(
    invoice: dict[str, Any], invoice_id: str, amount: Decimal, currency: str
) -> Decimal:
    if isinstance(amount, float) or not isinstance(amount, Decimal | int):
        raise TypeError("a payment amount is a Decimal")
    if invoice.get("Type") != "ACCREC":
        raise XeroFixError(f"invoice {invoice_id} is not a sales invoice")
    if invoice.get("Status") != "AUTHORISED":
        raise XeroFixError(f"invoice {invoice_id} is {invoice.get('Status')}, not open")
    value = _safe(quantize(Decimal(amount), currency), invoice_id)
    due = Decimal(invoice.get("AmountDue") or 0)
    if value <= 0:
        raise XeroFixError(f"payment on invoice {invoice_id} must be positive")
    if value > due:
        # Never above AmountDue: the excess would become an overpayment nobody chose.
        raise XeroFixError(
            f"payment {value} {currency} is above invoice {invoice_id}'s due {due}"
        )
    return value


def _invoice(client: XeroClient, invoice_id: str) -> dict[str, Any]:
    body = client.call(
        f"invoice={invoice_id}", client.accounting.get_invoice, invoice_id=invoice_id
    )
    found = (body or {}).get("Invoices") or []
    if not found:
        raise XeroFixError(f"invoice {invoice_id} not found", status=404)
    return dict(found[0])


def _first(body: Any, items: str, id_key: str) -> str:
    try:
        return str(body[items][0][id_key])
    except (KeyError, IndexError, TypeError) as exc:
        raise XeroFixError(f"Xero answered a create without {id_key}") from exc


def _currency(code: str, owner: str) -> CurrencyCode:
    try:
        return CurrencyCode(code.upper())
    except ValueError:
        raise XeroFixError(f"{owner}: Xero knows no currency {code!r}") from None


def _safe(amount: Decimal, owner: str) -> Decimal:
    if abs(amount) >= _FLOAT_SAFE:
        raise XeroFixError(f"{owner}: amount {amount} too large to send exactly")
    return amount
