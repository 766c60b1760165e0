"""Building Xero documents from request bodies: line items, totals, dates, contacts.

Pure functions over Xero JSON; `books.py` decides what is stored. Totals follow Xero's
rules: a line's amount is quantity times unit amount rounded half-up to the currency's
minor unit, and Exclusive lines add their tax while Inclusive lines already hold it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from app.money import quantize
from connectors.sandbox.xero.dates import (
    DateFormatError,
    parse_date,
    to_date_string,
    to_ms_date,
)

LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
_RATE = Decimal("0.000001")
_QUANTITY = Decimal("0.0001")


class Problems(list[str]):
    """Validation messages gathered while building one document."""


def amount(value: Any, currency: str, problems: Problems, what: str) -> Decimal:
    """A money value from a body (number or string), rounded to the currency."""
    number = number_of(value, problems, what)
    return quantize(number if number is not None else Decimal(0), currency)


def number_of(value: Any, problems: Problems, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or isinstance(value, float):
        # Bodies are parsed with Decimals, so a float means a caller bypassed that.
        value = str(value)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        problems.append(f"{what} must be a number")
        return None


def rate(value: Decimal) -> Decimal:
    """A CurrencyRate as Xero writes it, to six places."""
    return value.quantize(_RATE, rounding=ROUND_HALF_UP)


def day_of(value: Any, problems: Problems, what: str) -> date | None:
    """The calendar date in a body field (`/Date(ms)/` or ISO), or None."""
    if value is None or value == "":
        return None
    try:
        return parse_date(str(value))
    except DateFormatError:
        problems.append(f"{what} is not a valid date")
        return None


def put_date(
    doc: dict[str, Any], key: str, day: date | None, twin: bool = True
) -> None:
    """Write `key` and its `keyString` twin the way Xero does."""
    if day is None:
        doc.pop(key, None)
        doc.pop(f"{key}String", None)
        return
    if twin:
        doc[f"{key}String"] = to_date_string(day)
    doc[key] = to_ms_date(day)


def stamp(instant: datetime) -> str:
    """An UpdatedDateUTC value."""
    return to_ms_date(instant)


def line_items(
    raw: Any,
    currency: str,
    amount_types: str,
    unitdp: int,
    new_id: Callable[[], str],
    problems: Problems,
) -> tuple[list[dict[str, Any]], Decimal, Decimal, Decimal]:
    """Lines as Xero stores them, with SubTotal, TotalTax and Total."""
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        problems.append("LineItems must be a list")
        zero = quantize(Decimal(0), currency)
        return [], zero, zero, zero
    unit_places = Decimal(1).scaleb(-(4 if unitdp == 4 else 2))
    lines: list[dict[str, Any]] = []
    gross = tax = quantize(Decimal(0), currency)
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            problems.append(f"Line item {i} must be an object")
            continue
        quantity = number_of(item.get("Quantity"), problems, "Quantity")
        unit = number_of(item.get("UnitAmount"), problems, "UnitAmount")
        given = number_of(item.get("LineAmount"), problems, "LineAmount")
        if quantity is None:
            quantity = Decimal(1)
        if unit is None and given is not None and quantity:
            unit = given / quantity
        if unit is None:
            unit = Decimal(0)
        unit = unit.quantize(unit_places, rounding=ROUND_HALF_UP)
        line_amount = quantize(quantity * unit, currency)
        # TODO: tax is taken as sent; Xero works it out from the TaxType's rate, so a
        # client that leaves TaxAmount to Xero sees no tax here (totals then differ).
        line_tax = amount(item.get("TaxAmount"), currency, problems, "TaxAmount")
        if amount_types == "NoTax":
            line_tax = Decimal(0)
        line: dict[str, Any] = {}
        if item.get("Description") is not None:
            line["Description"] = str(item["Description"])
        line["UnitAmount"] = unit
        if item.get("TaxType"):
            line["TaxType"] = str(item["TaxType"])
        line["TaxAmount"] = line_tax
        line["LineAmount"] = line_amount
        if item.get("AccountCode") is not None:
            line["AccountCode"] = str(item["AccountCode"])
        if item.get("ItemCode") is not None:
            line["ItemCode"] = str(item["ItemCode"])
        line["Tracking"] = list(item.get("Tracking") or [])
        line["Quantity"] = quantity.quantize(_QUANTITY, rounding=ROUND_HALF_UP)
        line["LineItemID"] = str(item.get("LineItemID") or new_id())
        lines.append(line)
        gross += line_amount
        tax += line_tax
    if amount_types == "Inclusive":
        return lines, gross - tax, tax, gross
    return lines, gross, tax, gross + tax


def contact_summary(contact: dict[str, Any]) -> dict[str, Any]:
    """The short contact Xero embeds in an invoice or credit note."""
    return {
        "ContactID": contact["ContactID"],
        "Name": contact.get("Name", ""),
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "HasValidationErrors": False,
    }


def strip_for_list(doc: dict[str, Any], summary_only: bool) -> dict[str, Any]:
    """A document as a list GET shows it without `page` or with summaryOnly."""
    # NOTE: Xero leaves line items out of multi-invoice GETs unless `page` is given,
    # and summaryOnly=true also drops the nested payment and credit lists
    # (developer.xero.com/documentation/api/accounting/invoices, "summaryOnly").
    dropped = {"LineItems"}
    if summary_only:
        dropped |= {"Payments", "CreditNotes", "Prepayments", "Overpayments"}
    return {k: v for k, v in doc.items() if k not in dropped}
