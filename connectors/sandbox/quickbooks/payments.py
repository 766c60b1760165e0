"""Payments: which lines they may hold, and what applying them does to the books.

A Payment applied through `Line[].LinkedTxn` lowers each linked Invoice's `Balance`
and adds `LinkedTxn{TxnType: Payment}` on it; what is not applied is `UnappliedAmt`.
A CreditMemo line in a Payment spends the memo's `RemainingCredit`. Stored objects
are never changed in place: each change puts a new copy (pages already served keep
theirs). See https://developer.intuit.com/app/developer/qbo/docs/workflows/manage-linked-transactions
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.sandbox.quickbooks import wire
from connectors.sandbox.quickbooks.entities import money
from connectors.sandbox.quickbooks.shapes import (
    dates,
    exchange_rate,
    home_amount,
    party,
    txn_currency,
)
from connectors.sandbox.quickbooks.state import Change, Realm
from connectors.sandbox.quickbooks.wire import QboFault


def shape_payment(
    realm: Realm,
    obj: dict[str, Any],
    existing: dict[str, Any] | None,
    changes: list[Change],
) -> dict[str, Any]:
    """A Payment: lines checked, UnappliedAmt worked out, applications posted."""
    customer = party(realm, obj)
    currency = txn_currency(realm, obj, customer)
    if obj.get("TotalAmt") in (None, ""):
        raise wire.required("TotalAmt")
    total = money(obj["TotalAmt"], currency)
    if total < 0:
        raise wire.invalid("TotalAmt cannot be negative", "TotalAmt")
    dates(realm, obj, with_due=False)
    lines, net = _payment_lines(realm, obj, customer["Id"], currency, existing)
    if net > total:
        raise wire.business(
            f"The amount applied to invoices ({net}) is more than the payment ({total})"
        )
    if existing is not None:
        unapply_payment(realm, existing, changes)
    obj["TotalAmt"] = total
    obj["UnappliedAmt"] = total - net
    obj["Line"] = lines
    exchange_rate(realm, obj, currency)
    apply_payment(realm, obj, changes)
    return obj


def _payment_lines(
    realm: Realm,
    obj: dict[str, Any],
    customer_id: str,
    currency: str,
    existing: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], Decimal]:
    """Validated payment lines and their net (invoices less credits), no writes."""
    held: dict[tuple[str, str], Decimal] = {}  # what the stored version already applies
    for line in (existing or {}).get("Line") or []:
        for link in line.get("LinkedTxn") or []:
            key = (link["TxnType"], link["TxnId"])
            held[key] = held.get(key, Decimal(0)) + Decimal(str(line["Amount"]))
    lines = []
    net = Decimal(0)
    for line in obj.get("Line") or []:
        links = line.get("LinkedTxn") or []
        if len(links) != 1:
            raise wire.invalid(
                "Each payment line links exactly one transaction", "Line"
            )
        link = links[0]
        kind = link.get("TxnType")
        if kind not in ("Invoice", "CreditMemo"):
            raise wire.invalid(f"TxnType {kind!r} cannot be paid here", "LinkedTxn")
        target = realm.get(kind, str(link.get("TxnId")))
        if target is None or target["CustomerRef"]["value"] != customer_id:
            raise QboFault(
                "2500",
                "Invalid Reference Id",
                f"Invalid Reference Id : {kind} Id={link.get('TxnId')} is not a"
                f" transaction of customer {customer_id}",
                element="LinkedTxn",
            )
        amount = money(line.get("Amount", 0), currency)
        open_amount = money(
            target["Balance"] if kind == "Invoice" else target["RemainingCredit"],
            currency,
        ) + held.get((kind, target["Id"]), Decimal(0))
        if amount <= 0 or amount > open_amount:
            raise wire.business(
                f"Line amount {amount} for {kind} {target['Id']} must be more than 0"
                f" and at most its open amount {open_amount}"
            )
        net += amount if kind == "Invoice" else -amount
        lines.append(
            {"Amount": amount, "LinkedTxn": [{"TxnId": target["Id"], "TxnType": kind}]}
        )
    return lines, net


def apply_payment(realm: Realm, payment: dict[str, Any], changes: list[Change]) -> None:
    """Lower what the payment's lines link to and link it back."""
    _move(realm, payment, changes, sign=-1)


def unapply_payment(
    realm: Realm, payment: dict[str, Any], changes: list[Change]
) -> None:
    """Undo `apply_payment` (before an update, a delete or a void)."""
    _move(realm, payment, changes, sign=1)


def _move(
    realm: Realm, payment: dict[str, Any], changes: list[Change], sign: int
) -> None:
    """Lower (sign -1) or restore (sign +1) what `payment`'s lines link to."""
    for line in payment.get("Line") or []:
        for link in line.get("LinkedTxn") or []:
            kind = link["TxnType"]
            stored = realm.get(kind, link["TxnId"])
            if stored is None:
                continue
            target = dict(stored)  # copy on write: pages already served keep theirs
            amount = Decimal(str(line["Amount"])) * sign
            key = "Balance" if kind == "Invoice" else "RemainingCredit"
            target[key] = Decimal(str(target[key])) + amount
            if kind == "CreditMemo":
                target["Balance"] = target[key]
            if "ExchangeRate" in target and kind == "Invoice":
                target["HomeBalance"] = home_amount(
                    realm, target["Balance"], Decimal(str(target["ExchangeRate"]))
                )
            linked = [
                lt
                for lt in target.get("LinkedTxn", [])
                if not (
                    lt.get("TxnType") == "Payment" and lt.get("TxnId") == payment["Id"]
                )
            ]
            if sign < 0:
                linked.append({"TxnId": payment["Id"], "TxnType": "Payment"})
            target["LinkedTxn"] = linked
            realm.touch(kind, target)
            realm.put(kind, target)
            changes.append(realm.change(kind, target["Id"], "Update"))


def unlink_payments(
    realm: Realm, entity: str, object_id: str, changes: list[Change]
) -> None:
    """Turn payment lines that link `object_id` into unapplied credit."""
    for stored in realm.values("Payment"):
        keep = []
        freed = Decimal(0)
        for line in stored.get("Line") or []:
            link = (line.get("LinkedTxn") or [{}])[0]
            if link.get("TxnType") == entity and link.get("TxnId") == object_id:
                amount = Decimal(str(line["Amount"]))
                freed += amount if entity == "Invoice" else -amount
                old = realm.get(entity, object_id)
                if old is not None:
                    target = dict(old)
                    key = "Balance" if entity == "Invoice" else "RemainingCredit"
                    target[key] = Decimal(str(target[key])) + amount
                    target["LinkedTxn"] = [
                        lt
                        for lt in target.get("LinkedTxn", [])
                        if lt.get("TxnId") != stored["Id"]
                    ]
                    realm.put(entity, target)
            else:
                keep.append(line)
        if freed:
            payment = dict(stored)
            payment["Line"] = keep
            payment["UnappliedAmt"] = Decimal(str(payment["UnappliedAmt"])) + freed
            realm.touch("Payment", payment)
            realm.put("Payment", payment)
            changes.append(realm.change("Payment", payment["Id"], "Update"))
