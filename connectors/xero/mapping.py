"""Xero Accounting API 2.0 objects (parsed JSON) -> ledger-neutral records.

Only the receivables side: ACCREC invoices, ACCRECCREDIT credit notes, payments on
sales invoices and RECEIVE-* overpayments and prepayments. JSON must be parsed with
`parse_float=Decimal`; a float here is a bug and raises.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale

from app.money import quantize
from connectors.records import (
    Address,
    Application,
    Credit,
    Customer,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentKind,
)
from connectors.xero.dates import optional_date, optional_instant, parse_date

logger = logging.getLogger(__name__)

Obj = Mapping[str, Any]

# DRAFT and SUBMITTED invoices are not receivables yet: nobody owes them.
NOT_YET = frozenset({"DRAFT", "SUBMITTED"})
INVOICE_STATUS = {
    "AUTHORISED": InvoiceStatus.OPEN,
    "PAID": InvoiceStatus.PAID,
    "VOIDED": InvoiceStatus.VOIDED,
    "DELETED": InvoiceStatus.DELETED,
}
GONE = frozenset({"VOIDED", "DELETED"})
# Xero's rates have at most six decimals; its inverse is kept to ten.
RATE_PLACES = Decimal("1E-10")
# Phone types in the order a collector would ring them; FAX is no phone.
PHONE_ORDER = ("DEFAULT", "MOBILE", "DDI")
_EMAIL_SPLIT = re.compile(r"[,;\s]+")


class MappingError(ValueError):
    """A Xero object this connector cannot turn into a record."""


def invoice_url(web_base: str, invoice_id: str) -> str:
    """The invoice's own screen in Xero."""
    return f"{web_base.rstrip('/')}/AccountsReceivable/View.aspx?InvoiceID={invoice_id}"


def invoice(obj: Obj, *, home_currency: str, web_base: str) -> Invoice | None:
    """An ACCREC invoice as a record; None for bills and not-yet-approved invoices."""
    if obj.get("Type") != "ACCREC":
        return None
    status = str(obj.get("Status") or "")
    if status in NOT_YET:
        return None
    if status not in INVOICE_STATUS:
        raise MappingError(f"invoice {obj.get('InvoiceID')}: unknown status {status!r}")

    ledger_id = _required(obj, "InvoiceID")
    currency = str(obj.get("CurrencyCode") or home_currency).upper()
    amount_due = _money(obj.get("AmountDue", 0), currency)
    rate = _rate(obj, currency, home_currency)
    return Invoice(
        ledger_id=ledger_id,
        number=obj.get("InvoiceNumber") or None,
        customer_id=_contact_id(obj, ledger_id),
        issue_date=optional_date(obj.get("Date")),
        due_date=optional_date(obj.get("DueDate")),
        currency=currency,
        total=_money(obj.get("Total", 0), currency),
        amount_due=amount_due,
        home_amount_due=home_amount(amount_due, rate, home_currency),
        exchange_rate=None if rate is None else (1 / rate).quantize(RATE_PLACES),
        status=INVOICE_STATUS[status],
        last_modified=optional_instant(obj.get("UpdatedDateUTC")),
        url=invoice_url(web_base, ledger_id),
        paid_on=optional_date(obj.get("FullyPaidOnDate")),
    )


def home_amount(
    amount: Decimal, rate: Decimal | None, home_currency: str
) -> Decimal | None:
    """`amount` in the home currency: Xero's rate is invoice units per home unit."""
    if rate is None:
        return None
    return quantize(amount / rate, home_currency)


def _rate(obj: Obj, currency: str, home_currency: str) -> Decimal | None:
    if currency == home_currency.upper():
        return Decimal(1)
    raw = obj.get("CurrencyRate")
    if raw is None:
        return None
    rate = _decimal(raw)
    if rate <= 0:
        raise MappingError(f"invoice {obj.get('InvoiceID')}: currency rate {raw}")
    # NOTE: Xero's CurrencyRate counts units of the invoice's currency per one unit
    # of the organisation's base currency (an AUD invoice in an NZD org at 0.9212
    # means 1 NZD = 0.9212 AUD), so home = amount / rate. LEDGER-APIS.md section 4.
    return rate


def customer(obj: Obj) -> Customer:
    """A Xero contact as a customer: trimmed e-mails, phones by type, groups as tags."""
    ledger_id = _required(obj, "ContactID")
    first, last = obj.get("FirstName") or "", obj.get("LastName") or ""
    status = str(obj.get("ContactStatus") or "ACTIVE")
    return Customer(
        ledger_id=ledger_id,
        name=str(obj.get("Name") or "").strip(),
        contact_name=f"{first} {last}".strip() or None,
        emails=emails(obj),
        phones=phones(obj.get("Phones") or ()),
        address=address(obj.get("Addresses") or ()),
        tags=tuple(
            str(g["Name"]).strip()
            for g in obj.get("ContactGroups") or ()
            if g.get("Name") and g.get("Status", "ACTIVE") == "ACTIVE"
        ),
        currency=obj.get("DefaultCurrency") or None,
        balance=_balance(obj),
        active=status == "ACTIVE",
        deleted=False,
        last_modified=optional_instant(obj.get("UpdatedDateUTC")),
    )


def emails(obj: Obj) -> tuple[str, ...]:
    """The contact's e-mail, then its people's: trimmed, split, no repeats."""
    found: list[str] = []
    raw = [obj.get("EmailAddress")]
    people = obj.get("ContactPersons") or ()
    # People marked IncludeInEmails are the ones the bookkeeper sends invoices to.
    raw += [p.get("EmailAddress") for p in people if p.get("IncludeInEmails")]
    raw += [p.get("EmailAddress") for p in people if not p.get("IncludeInEmails")]
    for value in raw:
        for part in _EMAIL_SPLIT.split(str(value or "")):
            part = part.strip()
            if "@" in part and part.lower() not in (f.lower() for f in found):
                found.append(part)
    return tuple(found)


def phones(items: Iterable[Obj]) -> tuple[str, ...]:
    """Phone numbers in PHONE_ORDER, each as `+country area number`, blanks dropped."""
    by_type: dict[str, str] = {}
    for item in items:
        number = str(item.get("PhoneNumber") or "").strip()
        kind = str(item.get("PhoneType") or "DEFAULT").upper()
        if not number or kind not in PHONE_ORDER:
            continue
        country = str(item.get("PhoneCountryCode") or "").strip().lstrip("+")
        area = str(item.get("PhoneAreaCode") or "").strip()
        parts = ([f"+{country}"] if country else []) + ([area] if area else [])
        by_type.setdefault(kind, " ".join(parts + [number]))
    return tuple(by_type[k] for k in PHONE_ORDER if k in by_type)


def address(items: Iterable[Obj]) -> Address | None:
    """The postal (POBOX) address, else the street one; None when both are blank."""
    ranked = sorted(items, key=lambda a: 0 if a.get("AddressType") == "POBOX" else 1)
    for item in ranked:
        lines = tuple(
            str(item[k]).strip()
            for k in ("AddressLine1", "AddressLine2", "AddressLine3", "AddressLine4")
            if str(item.get(k) or "").strip()
        )
        city = str(item.get("City") or "").strip() or None
        postal = str(item.get("PostalCode") or "").strip() or None
        if not (lines or city or postal):
            continue
        return Address(
            lines=lines,
            city=city,
            region=str(item.get("Region") or "").strip() or None,
            postal_code=postal,
            country=country_code(str(item.get("Country") or "")),
        )
    return None


def country_code(text: str) -> str | None:
    """ISO alpha-2 for Xero's free-text country ("New Zealand", "NZ"), else None."""
    text = text.strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return _country_names().get(text.casefold())


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    names = Locale("en").territories
    return {
        name.casefold(): code
        for code, name in names.items()
        if len(code) == 2 and code.isalpha()
    }


def payment(obj: Obj, *, home_currency: str) -> Payment | None:
    """A payment on a sales invoice; None for bills' payments and refunds."""
    target = obj.get("Invoice") or {}
    kind = obj.get("PaymentType") or (
        "ACCRECPAYMENT" if target.get("Type") == "ACCREC" else None
    )
    if kind != "ACCRECPAYMENT":
        return None
    ledger_id = _required(obj, "PaymentID")
    invoice_id = _required(target, "InvoiceID")
    currency = str(target.get("CurrencyCode") or home_currency).upper()
    amount = _money(obj.get("Amount", 0), currency)
    return Payment(
        ledger_id=ledger_id,
        customer_id=_contact_id(target, ledger_id),
        date=parse_date(_required(obj, "Date")),
        currency=currency,
        amount=amount,
        unapplied=Decimal(0),
        applied=(Application(invoice_id, amount),),
        kind=PaymentKind.PAYMENT,
        deleted=obj.get("Status") == "DELETED",
        last_modified=optional_instant(obj.get("UpdatedDateUTC")),
    )


def prepaid(obj: Obj, *, kind: PaymentKind, home_currency: str) -> Payment | None:
    """A customer's overpayment or prepayment, RemainingCredit as unapplied money."""
    id_key = "OverpaymentID" if kind is PaymentKind.OVERPAYMENT else "PrepaymentID"
    if not str(obj.get("Type") or "").startswith("RECEIVE-"):
        return None
    ledger_id = _required(obj, id_key)
    currency = str(obj.get("CurrencyCode") or home_currency).upper()
    return Payment(
        ledger_id=ledger_id,
        customer_id=_contact_id(obj, ledger_id),
        date=parse_date(_required(obj, "Date")),
        currency=currency,
        amount=_money(obj.get("Total", 0), currency),
        unapplied=_money(obj.get("RemainingCredit", 0), currency),
        applied=allocations(obj, currency),
        kind=kind,
        deleted=obj.get("Status") in GONE,
        last_modified=optional_instant(obj.get("UpdatedDateUTC")),
    )


def credit(obj: Obj, *, home_currency: str) -> Credit | None:
    """An ACCRECCREDIT credit note; None for supplier credits and drafts."""
    if obj.get("Type") != "ACCRECCREDIT" or obj.get("Status") in NOT_YET:
        return None
    ledger_id = _required(obj, "CreditNoteID")
    currency = str(obj.get("CurrencyCode") or home_currency).upper()
    return Credit(
        ledger_id=ledger_id,
        customer_id=_contact_id(obj, ledger_id),
        date=parse_date(_required(obj, "Date")),
        currency=currency,
        total=_money(obj.get("Total", 0), currency),
        remaining=_money(obj.get("RemainingCredit", 0), currency),
        applied=allocations(obj, currency),
        number=obj.get("CreditNoteNumber") or None,
        deleted=obj.get("Status") in GONE,
        last_modified=optional_instant(obj.get("UpdatedDateUTC")),
    )


def allocations(obj: Obj, currency: str) -> tuple[Application, ...]:
    """The invoices a credit, overpayment or prepayment was allocated to."""
    applied = []
    for allocation in obj.get("Allocations") or ():
        target = allocation.get("Invoice") or {}
        if target.get("InvoiceID") and not allocation.get("IsDeleted"):
            amount = _money(allocation.get("Amount", 0), currency)
            applied.append(Application(str(target["InvoiceID"]), amount))
    return tuple(applied)


def _balance(obj: Obj) -> Decimal | None:
    # Only a single-contact GET carries Balances; list pages leave it out.
    receivable = (obj.get("Balances") or {}).get("AccountsReceivable") or {}
    raw = receivable.get("Outstanding")
    return None if raw is None else _decimal(raw)


def _contact_id(obj: Obj, owner: str) -> str:
    contact_id = (obj.get("Contact") or {}).get("ContactID")
    if not contact_id:
        # Keep the record: losing an invoice is worse than one without a customer.
        logger.warning("xero record without a ContactID record=%s", owner)
        return ""
    return str(contact_id)


def _required(obj: Obj, key: str) -> str:
    value = obj.get(key)
    if not value:
        raise MappingError(f"xero object without {key}")
    return str(value)


def _decimal(raw: object) -> Decimal:
    if isinstance(raw, float):
        raise TypeError("Xero JSON must be parsed with parse_float=Decimal")
    if isinstance(raw, Decimal | int | str):
        return Decimal(raw)
    raise MappingError(f"not a number: {raw!r}")


def _money(raw: object, currency: str) -> Decimal:
    return quantize(_decimal(raw), currency)
