"""QBO JSON objects for loading into the sandbox, shaped as the API returns them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

REALM = "9130354426181920"


def customer(cid: int | str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "Id": str(cid),
        "DisplayName": name,
        "Active": True,
        "Balance": Decimal(0),
        **extra,
    }


def invoice(
    iid: int | str,
    cid: int | str,
    total: str,
    balance: str | None = None,
    *,
    due: str = "2025-03-20",
    txn: str = "2025-02-18",
    number: str | None = None,
    currency: str = "USD",
    **extra: Any,
) -> dict[str, Any]:
    amount = Decimal(total)
    return {
        "Id": str(iid),
        "DocNumber": number if number is not None else str(iid),
        "TxnDate": txn,
        "DueDate": due,
        "CustomerRef": {"value": str(cid)},
        "CurrencyRef": {"value": currency},
        "Line": [
            {
                "Id": "1",
                "LineNum": 1,
                "Amount": amount,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"Qty": 1, "UnitPrice": amount},
            }
        ],
        "TotalAmt": amount,
        "Balance": Decimal(balance if balance is not None else total),
        "LinkedTxn": [],
        **extra,
    }


def payment(
    pid: int | str, cid: int | str, total: str, unapplied: str, txn: str, **extra: Any
) -> dict[str, Any]:
    return {
        "Id": str(pid),
        "TxnDate": txn,
        "CustomerRef": {"value": str(cid)},
        "CurrencyRef": {"value": "USD"},
        "TotalAmt": Decimal(total),
        "UnappliedAmt": Decimal(unapplied),
        "Line": [],
        **extra,
    }


def open_invoices(count: int, first_id: int = 1, cid: int = 1) -> list[dict[str, Any]]:
    return [
        invoice(i, cid, "100.00", due="2025-03-20")
        for i in range(first_id, first_id + count)
    ]
