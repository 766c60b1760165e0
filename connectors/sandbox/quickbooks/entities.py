"""The QuickBooks entities the sandbox serves, and how each one is keyed and shaped.

Field names follow Finance.xsd (QuickBooks Online v3); defaults follow what QBO
returns for a freshly created object (see the Intuit API explorer samples).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import get_currency_name

from app.money import quantize

# URL segment (as python-quickbooks builds it: lowercase) -> entity name.
BY_SEGMENT = {
    name.lower(): name
    for name in (
        "Invoice",
        "Customer",
        "Payment",
        "CreditMemo",
        "Vendor",
        "Bill",
        "Account",
        "Item",
        "CompanyInfo",
        "Preferences",
        "Attachable",
        "Term",
    )
}
WRITABLE = frozenset(BY_SEGMENT.values()) - {"CompanyInfo", "Preferences"}
TRANSACTIONS = frozenset({"Invoice", "Payment", "CreditMemo", "Bill"})
NAME_LISTS = frozenset({"Customer", "Vendor"})  # DisplayName unique across these


def currency_ref(code: str) -> dict[str, str]:
    """`{"value": "USD", "name": "US Dollar"}` as QBO writes a CurrencyRef."""
    return {"value": code, "name": _currency_name(code)}


@lru_cache(maxsize=256)
def _currency_name(code: str) -> str:
    return get_currency_name(code, locale="en")


def money(value: Any, currency: str) -> Decimal:
    """An amount from a request body, as an exact Decimal in `currency`."""
    if isinstance(value, float):
        value = repr(value)
    return quantize(Decimal(str(value)), currency)


def line_amount(line: dict[str, Any], currency: str) -> Decimal:
    """A line's Amount; a sales line without one is Qty x UnitPrice."""
    if "Amount" in line and line["Amount"] not in (None, ""):
        return money(line["Amount"], currency)
    detail = line.get("SalesItemLineDetail") or {}
    if "Qty" in detail and "UnitPrice" in detail:
        return money(
            Decimal(str(detail["Qty"])) * Decimal(str(detail["UnitPrice"])), currency
        )
    return Decimal(0)


def total_of_lines(lines: list[dict[str, Any]], currency: str) -> Decimal:
    """TotalAmt as QBO computes it: item and description lines, less discounts."""
    total = Decimal(0)
    for line in lines:
        kind = line.get("DetailType")
        if kind == "SubTotalLineDetail":
            continue
        amount = line_amount(line, currency)
        total += -amount if kind == "DiscountLineDetail" else amount
    return quantize(total, currency)


def numbered_lines(lines: list[dict[str, Any]], currency: str) -> list[dict[str, Any]]:
    """Lines with Id, LineNum and Amount filled in, SubTotal lines dropped."""
    result = []
    for number, line in enumerate(
        (ln for ln in lines if ln.get("DetailType") != "SubTotalLineDetail"), start=1
    ):
        shaped = dict(line)
        shaped["Id"] = str(line.get("Id") or number)
        shaped["LineNum"] = number
        shaped["Amount"] = line_amount(line, currency)
        result.append(shaped)
    return result


def subtotal_line(amount: Decimal) -> dict[str, Any]:
    # NOTE: QBO appends a SubTotal line (no Id) to every sales form it returns.
    return {
        "Amount": amount,
        "DetailType": "SubTotalLineDetail",
        "SubTotalLineDetail": {},
    }


def defaults(entity: str) -> dict[str, Any]:
    """Keys QBO fills in on create when the request leaves them out."""
    if entity == "Invoice":
        return {
            "AllowIPNPayment": False,
            "AllowOnlinePayment": False,
            "AllowOnlineCreditCardPayment": False,
            "AllowOnlineACHPayment": False,
            "Deposit": Decimal(0),
            "EmailStatus": "NotSet",
            "PrintStatus": "NotSet",
            "LinkedTxn": [],
            "TxnTaxDetail": {"TotalTax": Decimal(0)},
            "ApplyTaxAfterDiscount": False,
            "CustomField": [],
        }
    if entity == "CreditMemo":
        return {
            "EmailStatus": "NotSet",
            "PrintStatus": "NotSet",
            "TxnTaxDetail": {"TotalTax": Decimal(0)},
            "ApplyTaxAfterDiscount": False,
            "CustomField": [],
        }
    if entity == "Payment":
        return {"ProcessPayment": False, "LinkedTxn": []}
    if entity == "Bill":
        return {"LinkedTxn": []}
    if entity in ("Customer", "Vendor"):
        return {"Active": True, "Balance": Decimal(0)}
    if entity in ("Account", "Item"):
        return {"Active": True}
    return {}
