"""A deletion in the ledger reaches CARE by webhook and sync, and stops the chase."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

XERO_INVOICE = {
    "Type": "ACCREC",
    "InvoiceID": "9a000000-0000-4000-8000-000000000001",
    "InvoiceNumber": "INV-0901",
    "Contact": {"ContactID": "9c000000-0000-4000-8000-000000000001"},
    "Status": "AUTHORISED",
    "Date": "/Date(1740009600000+0000)/",
    "DueDate": "/Date(1742428800000+0000)/",  # 2025-03-20
    "CurrencyCode": "NZD",
    "Total": 250.0,
    "AmountDue": 250.0,
    "AmountPaid": 0.0,
}


def _write(tmp_path: Path, scenario: dict[str, Any]) -> Path:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario))
    return path


def test_xero_deleted_stub_deletes_the_referred_invoice(
    replay: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    scenario = {
        "ledger": "xero",
        "today": "2025-05-01",
        "company": {"Name": "Kea Ltd", "Timezone": "NEWZEALANDSTANDARDTIME"},
        "data": {
            "Contacts": [
                {
                    "ContactID": "9c000000-0000-4000-8000-000000000001",
                    "Name": "Pukeko Plumbing",
                    "EmailAddress": "ap@pukeko.example",
                }
            ],
            "Invoices": [XERO_INVOICE],
        },
        # Only the stub: Xero keeps the rest of a deleted invoice, and so must we.
        "then": [
            {
                "data": {
                    "Invoices": [
                        {"InvoiceID": XERO_INVOICE["InvoiceID"], "Status": "DELETED"}
                    ]
                }
            },
            {"days": 1},
        ],
    }
    result = replay("xero-delete", _write(tmp_path, scenario))
    # No Organisation currency: the invoices' NZD is home.
    assert result["company"]["home_currency"] == "NZD"
    assert result["snapshots"][1]["invoices"][0]["decision"] == "refer"  # 42 days
    [invoice] = result["invoices"]
    assert invoice["status"] == "deleted"
    # Deleted at 06:00, before the 09:00 letter and e-mail: the sync that the
    # webhook starts closes the case, and its planned steps are cancelled unsent.
    assert result["received"]["email"] == []
    first = [s for s in result["outreach"] if s["step"] in (1, 2)]
    assert [(s["state"], s["sent_to"]) for s in first] == [("cancelled", [])] * 2
    assert result["fees"] == {}
    # The sync settles a Xero invoice turned DELETED as it does a QuickBooks
    # deletion: nothing was paid, so the case is withdrawn, not resolved.
    assert [c["state"] for c in result["cases"]] == ["withdrawn"]


def test_quickbooks_deleted_status_deletes_the_referred_invoice(
    replay: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    scenario = {
        "ledger": "quickbooks",
        "today": "2025-05-01",
        "data": {
            "Customer": [{"Id": "7", "DisplayName": "Heron Bakery"}],
            "Invoice": [
                {
                    "Id": "31",
                    "TotalAmt": 99.95,
                    "DueDate": "2025-03-20",
                    "CustomerRef": {"value": "7"},
                }
            ],
        },
        "then": [{"data": {"Invoice": [{"Id": "31", "status": "Deleted"}]}}],
    }
    result = replay("qbo-delete", _write(tmp_path, scenario))
    # No CompanyInfo: UTC; Balance defaults to the total, 99.95, 42 days late.
    at_sweep = result["snapshots"][1]["invoices"][0]
    assert (at_sweep["amount_due"], at_sweep["days_late"]) == ("99.95", 42)
    assert result["company"]["timezone"] == "UTC"
    [invoice] = result["invoices"]
    assert invoice["status"] == "deleted"
    # The deletion closes the case at once; nothing was paid, so it is withdrawn.
    [case] = result["cases"]
    assert (case["state"], case["amount_due"]) == ("withdrawn", "0.00")
    assert {s["state"] for s in result["outreach"]} == {"cancelled"}
    assert result["received"] == {"email": [], "sms": []}
