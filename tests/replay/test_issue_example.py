"""The abridged scenario of issue 7 replays: the sandbox fills what QBO would."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ABRIDGED = {
    "ledger": "quickbooks",
    "today": "2025-05-01",
    "company": {
        "CompanyName": "Acme Ltd",
        "Country": "US",
        "DefaultTimeZone": "America/Los_Angeles",
    },
    # No Customer.Active, no Invoice TxnDate, Line or CurrencyRef, no Payment
    # TxnDate or UnappliedAmt: QBO sets all of them on every stored object.
    "data": {
        "Customer": [{"Id": "71", "DisplayName": "Ashgrove Clinic"}],
        "Invoice": [
            {
                "Id": "1501",
                "DocNumber": "1501",
                "TotalAmt": 1200.00,
                "Balance": 450.00,
                "DueDate": "2025-03-17",
                "CustomerRef": {"value": "71"},
            }
        ],
    },
    "rules": {},
    "then": [
        {"days": 3},
        {
            "data": {
                "Payment": [
                    {
                        "Id": "903",
                        "TotalAmt": 450.00,
                        "CustomerRef": {"value": "71"},
                        "Line": [
                            {
                                "Amount": 450.00,
                                "LinkedTxn": [{"TxnId": "1501", "TxnType": "Invoice"}],
                            }
                        ],
                    }
                ],
                "Invoice": [
                    {
                        "Id": "1501",
                        "DocNumber": "1501",
                        "TotalAmt": 1200.00,
                        "Balance": 0.00,
                        "DueDate": "2025-03-17",
                        "CustomerRef": {"value": "71"},
                    }
                ],
            }
        },
    ],
}


@pytest.mark.slow
def test_abridged_issue_scenario_refers_collects_and_bills(
    replay: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    path = tmp_path / "issue-7.json"
    path.write_text(json.dumps(ABRIDGED))
    result = replay("issue-7", path)
    at_sweep = result["snapshots"][1]["invoices"][0]
    # 2025-03-17 to 2025-05-01 is 45 days; 450.00 of the 1200.00 is left.
    assert (at_sweep["amount_due"], at_sweep["days_late"]) == ("450.00", 45)
    assert (at_sweep["decision"], at_sweep["currency"]) == ("refer", "USD")
    # The payment, stored without TxnDate, is dated the company's today (2025-05-04
    # after three days), after the referral: 1% of 450.00 is 4.50.
    assert result["fees"] == {"USD": "4.50"}
    assert result["sync_errors"] == []
    # The status note went onto an invoice loaded without lines: QBO's sparse
    # update needs them, and the sandbox gave it the line QBO would have.
    # The referral note, then the note that the case closed.
    assert [(w["kind"], w["state"]) for w in result["ledger_writes"]] == [
        ("note", "done"),
        ("note", "done"),
    ]
    [case] = result["cases"]
    assert (case["state"], case["amount_collected"]) == ("resolved_paid", "450.00")
