"""Public cases replayed through the real path; expected values from each case.

Every figure below is worked out by hand from the case (see /work/shared/cases) and
the program's rules, not read back from a run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.replay.conftest import by_id

Replay = Callable[[str], dict[str, Any]]

pytestmark = pytest.mark.slow


def test_c15_refers_the_balance_and_bills_the_fee_on_the_payment_after(
    replay: Replay,
) -> None:
    result = replay("C15")
    # On 2025-05-01 (Los Angeles): 1200.00 less 750.00 paid is 450.00 due; due
    # 2025-03-17, so 14 + 30 + 1 = 45 days late: referred.
    at_sweep = by_id(result["snapshots"][1]["invoices"])["1501"]
    assert result["snapshots"][1]["step"] == "sweep on 2025-05-01"
    assert at_sweep["amount_due"] == "450.00"
    assert at_sweep["days_late"] == 45
    assert (at_sweep["decision"], at_sweep["reason"]) == ("refer", "in_window")
    [case] = result["cases"]
    assert case["amount_referred"] == "450.00"  # never the 1200.00 total
    assert case["invoices"][0]["amount_at_referral"] == "450.00"
    # Three days on, the debtor pays the 450.00: 2.5% of it is 11.25 (not 30.00).
    assert result["fees"] == {"USD": "11.25"}
    assert result["collected"] == {"USD": "450.00"}
    assert case["state"] == "resolved_paid"
    final = by_id(result["invoices"])["1501"]
    assert (final["amount_due"], final["status"]) == ("0.00", "paid")
    # The first letter and e-mail went out on the referral day, at 09:00 in
    # Portland (16:00 UTC); every later step was cancelled by the payment.
    sent = [s for s in result["outreach"] if s["state"] == "sent"]
    assert [(s["channel"], s["due_at"]) for s in sent] == [
        ("letter", "2025-05-01T16:00:00+00:00"),
        ("email", "2025-05-01T16:00:00+00:00"),
    ]
    assert sent[1]["sent_to"] == ["accounts@ashgrove-vet.example"]
    assert {s["outcome"] for s in result["outreach"] if s["state"] != "sent"} == {
        "paid"
    }
    assert [w["kind"] for w in result["ledger_writes"]] == ["note"]
    assert result["jobs"] and result["jobs_failed"] == []
    assert result["api_calls"][0]["step"] == "connect and first sync"
    assert all(c["calls"] > 0 for c in result["api_calls"])


def test_c06_pre_1970_and_zero_xero_dates_are_stored_and_flagged(
    replay: Replay,
) -> None:
    result = replay("C06")
    invoices = {i["number"]: i for i in result["invoices"]}
    assert len(invoices) == 3  # no page dropped
    assert result["company"]["timezone"] == "Pacific/Auckland"
    # 1967-06-20 to 2025-05-01 is 21135 days; 1970-01-01 to it, 20209.
    for number, due, days in (
        ("INV-0031", "1967-06-20", 21135),
        ("INV-0032", "1970-01-01", 20209),
    ):
        assert invoices[number]["due_date"] == due
        assert invoices[number]["days_late"] == days
        assert invoices[number]["decision"] == "skip"
        assert invoices[number]["reason"] == "implausible_due_date"
    # 2025-03-20 to 2025-05-01: 11 + 30 + 1 = 42 days, in the window.
    assert invoices["INV-0033"]["days_late"] == 42
    assert invoices["INV-0033"]["decision"] == "refer"
    assert invoices["INV-0033"]["amount_due"] == "410.00"
    [case] = result["cases"]
    assert [i["id"] for i in case["invoices"]] == [
        "a0000000-0000-4000-8000-000000000033"
    ]


def test_c23_paid_before_the_send_without_a_webhook_sends_nothing(
    replay: Replay,
) -> None:
    result = replay("C23")
    # Referred at 06:00 on 2025-05-02 in Auckland: due 2025-03-25, 38 days late.
    at_sweep = result["snapshots"][1]["invoices"][0]
    assert (at_sweep["days_late"], at_sweep["decision"]) == (38, "refer")
    # The payment reached Xero with no webhook: CARE made no API call for it.
    assert result["api_calls"][2] == {
        "step": "then[0]: data (1 Payments, 1 Invoices) without webhooks",
        "calls": 0,
    }
    first = [s for s in result["outreach"] if s["step"] in (1, 2)]
    assert [(s["channel"], s["state"], s["outcome"]) for s in first] == [
        ("letter", "skipped", "skipped: paid"),
        ("email", "skipped", "skipped: paid"),
    ]
    assert not any(s["sent_to"] for s in result["outreach"])
    [case] = result["cases"]
    assert case["state"] == "resolved_paid"
    # Paid on the referral day itself: the fee rule counts that as before the
    # referral (received_on <= referred_on), so nothing is billed.
    assert result["fees"] == {}
