"""How each entity is shaped on create and update: names, sales forms, bills.

Totals are worked out from the lines as QBO does (a SubTotal line is appended to sales
forms), foreign-currency documents get ExchangeRate and Home* amounts, and names and
document numbers are checked for duplicates with QBO's fault codes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from app.money import quantize
from connectors.sandbox.quickbooks import wire
from connectors.sandbox.quickbooks.entities import (
    NAME_LISTS,
    currency_ref,
    money,
    numbered_lines,
    subtotal_line,
    total_of_lines,
)
from connectors.sandbox.quickbooks.state import Realm
from connectors.sandbox.quickbooks.wire import QboFault


def shape_name(
    realm: Realm, entity: str, obj: dict[str, Any], existing: dict[str, Any] | None
) -> dict[str, Any]:
    """A Customer or Vendor: DisplayName unique across both (6240), balance kept."""
    name = obj.get("DisplayName") or obj.get("CompanyName")
    if not name:
        parts = [obj.get(k) for k in ("GivenName", "MiddleName", "FamilyName")]
        name = " ".join(p for p in parts if p)
    if not name:
        raise wire.required("DisplayName")
    for other_entity in NAME_LISTS:
        for other in realm.values(other_entity):
            same = other_entity == entity and other["Id"] == obj.get("Id")
            if not same and str(other.get("DisplayName", "")).lower() == name.lower():
                raise QboFault(
                    "6240",
                    "Duplicate Name Exists Error",
                    "The name supplied already exists. : Another customer, vendor or"
                    f" employee is already using this name. Please use a different"
                    f" name. Id={other['Id']}",
                )
    obj["DisplayName"] = name
    obj.setdefault("PrintOnCheckName", name)
    obj.setdefault("Active", True)
    if entity == "Customer":
        obj["FullyQualifiedName"] = name
        obj.setdefault("Job", False)
        obj.setdefault("BillWithParent", False)
    if existing is not None:
        obj["Balance"] = existing.get("Balance", Decimal(0))
        if "BalanceWithJobs" in existing:
            obj["BalanceWithJobs"] = existing["BalanceWithJobs"]
    else:
        obj["Balance"] = Decimal(0)
        if entity == "Customer":
            obj["BalanceWithJobs"] = Decimal(0)
    currency = (obj.get("CurrencyRef") or {}).get("value") or realm.home_currency
    _check_currency(realm, currency)
    obj["CurrencyRef"] = currency_ref(currency)
    return obj


def shape_list_item(
    realm: Realm, entity: str, obj: dict[str, Any], existing: dict[str, Any] | None
) -> dict[str, Any]:
    """An Account or Item: Name unique (6240), QBO's derived fields filled."""
    name = obj.get("Name")
    if not name:
        raise wire.required("Name")
    for other in realm.all(entity):
        if (
            other["Id"] != obj.get("Id")
            and str(other.get("Name")).lower() == name.lower()
        ):
            raise QboFault(
                "6240",
                "Duplicate Name Exists Error",
                f"The name supplied already exists. : Id={other['Id']}",
            )
    obj.setdefault("FullyQualifiedName", name)
    if entity == "Account":
        if not obj.get("AccountType"):
            raise wire.required("AccountType")
        obj.setdefault("CurrentBalance", Decimal(0))
        obj.setdefault("Classification", _classification(obj["AccountType"]))
    else:
        obj.setdefault("Type", "Service")
    return obj


def _classification(account_type: str) -> str:
    if account_type in ("Income", "Other Income"):
        return "Revenue"
    if account_type in ("Expense", "Other Expense", "Cost of Goods Sold"):
        return "Expense"
    if account_type in ("Accounts Payable", "Credit Card", "Other Current Liability"):
        return "Liability"
    return "Asset"


def party(realm: Realm, obj: dict[str, Any], key: str = "CustomerRef") -> dict:
    """The customer (or vendor, for VendorRef) a document names, or fault 2500."""
    ref = obj.get(key) or {}
    ref_id = str(ref.get("value") or "") if isinstance(ref, dict) else ""
    if not ref_id:
        raise wire.required(key)
    entity = "Vendor" if key == "VendorRef" else "Customer"
    found = realm.get(entity, ref_id)
    if found is None:
        raise QboFault(
            "2500",
            "Invalid Reference Id",
            f"Invalid Reference Id : Something you're trying to use has been made"
            f" inactive. Check the fields with accounts, customers, items, vendors or"
            f" employees. {entity} Id={ref_id}",
            element=key,
        )
    obj[key] = {"value": ref_id, "name": found.get("DisplayName", "")}
    return found


def _check_currency(realm: Realm, currency: str) -> None:
    if currency != realm.home_currency and not realm.multi_currency:
        raise wire.business(
            f"Multicurrency is not enabled for this company; {currency} is not the home"
            f" currency {realm.home_currency}"
        )


def txn_currency(realm: Realm, obj: dict[str, Any], other: dict[str, Any]) -> str:
    """The document's currency: its own, else that of its customer or vendor."""
    party_currency = (other.get("CurrencyRef") or {}).get("value")
    party_currency = party_currency or realm.home_currency
    currency = (obj.get("CurrencyRef") or {}).get("value") or party_currency
    _check_currency(realm, currency)
    if currency != party_currency:
        raise wire.business(
            f"The currency of the transaction ({currency}) must match the currency of"
            f" the customer or vendor ({party_currency})"
        )
    obj["CurrencyRef"] = currency_ref(currency)
    return currency


def exchange_rate(realm: Realm, obj: dict[str, Any], currency: str) -> Decimal | None:
    """The document's rate to home currency (given, else the rate table)."""
    if currency == realm.home_currency:
        obj.pop("ExchangeRate", None)
        return None
    given = obj.get("ExchangeRate")
    found = (
        Decimal(str(given))
        if given not in (None, "", 0, Decimal(0))
        else realm.rate(currency, date.fromisoformat(obj["TxnDate"]))
    )
    if found is None:
        raise wire.business(
            f"No exchange rate for {currency} on {obj['TxnDate']}; send ExchangeRate"
        )
    rate = found
    obj["ExchangeRate"] = rate
    return rate


def home_amount(realm: Realm, amount: Decimal, rate: Decimal) -> Decimal:
    """`amount` in home currency at `rate`, rounded half-up to its minor unit."""
    return quantize(amount * rate, realm.home_currency)


def dates(realm: Realm, obj: dict[str, Any], with_due: bool) -> None:
    """TxnDate (default: today in the company) and DueDate (default: TxnDate)."""
    for key in ("TxnDate", "DueDate") if with_due else ("TxnDate",):
        if obj.get(key):
            try:
                date.fromisoformat(str(obj[key]))
            except ValueError as exc:
                raise wire.invalid(f"{key} {obj[key]!r} is not a date", key) from exc
    obj["TxnDate"] = str(obj.get("TxnDate") or realm.today().isoformat())
    if with_due:
        obj["DueDate"] = str(obj.get("DueDate") or obj["TxnDate"])


def _doc_number(realm: Realm, entity: str, obj: dict[str, Any], party_key: str) -> None:
    number = obj.get("DocNumber")
    if number in (None, ""):
        if entity == "Invoice":
            used = [
                int(o["DocNumber"])
                for o in realm.values(entity)
                if str(o.get("DocNumber", "")).isdigit()
            ]
            obj["DocNumber"] = str(max(used, default=1000) + 1)
        return
    for other in realm.values(entity):
        if other["Id"] == obj.get("Id") or other.get("DocNumber") != number:
            continue
        if entity == "Bill" and other.get(party_key, {}).get("value") != obj.get(
            party_key, {}
        ).get("value"):
            continue  # bill numbers are unique per vendor, not per company
        raise QboFault(
            "6140",
            "Duplicate Document Number Error",
            "Duplicate Document Number Error : You must specify a different number."
            f" This number has already been used. DocNumber={number} is assigned to"
            f" TxnType={entity} with TxnId={other['Id']}",
        )


def shape_sale(
    realm: Realm, entity: str, obj: dict[str, Any], existing: dict[str, Any] | None
) -> dict[str, Any]:
    """An Invoice or CreditMemo: lines numbered, totals and balance worked out."""
    customer = party(realm, obj)
    currency = txn_currency(realm, obj, customer)
    lines = obj.get("Line")
    if not lines:
        raise wire.required("Line")
    dates(realm, obj, with_due=entity == "Invoice")
    _doc_number(realm, entity, obj, "CustomerRef")
    numbered = numbered_lines(lines, currency)
    total = total_of_lines(numbered, currency)
    obj["Line"] = [*numbered, subtotal_line(total)]
    obj["TotalAmt"] = total
    if entity == "Invoice":
        applied = Decimal(0)
        if existing is not None:
            applied = money(existing["TotalAmt"], currency) - money(
                existing["Balance"], currency
            )
            obj["LinkedTxn"] = existing.get("LinkedTxn", [])
        if applied > total:
            raise wire.business(
                f"The invoice total {total} is less than the {applied} already paid"
            )
        obj["Balance"] = total - applied
    else:
        spent = Decimal(0)
        if existing is not None:
            spent = money(existing["TotalAmt"], currency) - money(
                existing["RemainingCredit"], currency
            )
            obj["LinkedTxn"] = existing.get("LinkedTxn", [])
        if spent > total:
            raise wire.business(f"The credit total {total} is less than {spent} used")
        obj["RemainingCredit"] = total - spent
        obj["Balance"] = obj["RemainingCredit"]
    rate = exchange_rate(realm, obj, currency)
    if rate is not None:
        obj["HomeTotalAmt"] = home_amount(realm, total, rate)
        if entity == "Invoice":
            obj["HomeBalance"] = home_amount(realm, obj["Balance"], rate)
    else:
        obj.pop("HomeTotalAmt", None)
        obj.pop("HomeBalance", None)
    return obj


def shape_bill(
    realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None
) -> dict[str, Any]:
    """A Bill: lines numbered, TotalAmt and Balance worked out, DocNumber checked."""
    vendor = party(realm, obj, "VendorRef")
    currency = txn_currency(realm, obj, vendor)
    lines = obj.get("Line")
    if not lines:
        raise wire.required("Line")
    dates(realm, obj, with_due=True)
    _doc_number(realm, "Bill", obj, "VendorRef")
    numbered = numbered_lines(lines, currency)
    total = total_of_lines(numbered, currency)
    obj["Line"] = numbered
    obj["TotalAmt"] = total
    paid = Decimal(0)
    if existing is not None:
        paid = money(existing["TotalAmt"], currency) - money(
            existing["Balance"], currency
        )
    obj["Balance"] = total - paid
    rate = exchange_rate(realm, obj, currency)
    if rate is not None:
        obj["HomeBalance"] = home_amount(realm, obj["Balance"], rate)
    return obj
