"""The public cases whose fault is domain logic, from ../shared/cases, as tests.

Inputs are read from the case files themselves (ledger fields as the ledger sends
them), mapped to the domain's inputs the way the mirror does, then evaluated; the
expected values are the cases' own.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.evaluation import InvoiceFacts, Outcome, Reason, evaluate, evaluate_all
from app.fees import Collection, accrue_all
from app.insights import aging
from app.rules import CadenceStep, Channel, Rules, current_step, parse_rules
from tests.public_cases import CASES


def load_case(case_id: str) -> dict[str, Any]:
    """One public case; a missing copy fails, never skips."""
    path = CASES / f"{case_id}.json"
    if not path.exists():
        pytest.fail(f"public case {path} is missing: tests/cases/ holds the copies")
    return json.loads(path.read_text(encoding="utf-8"))


def money(value: float | str) -> Decimal:
    # The case files hold JSON numbers; going through str keeps 450.0 exact as 450.00.
    return Decimal(str(value)).quantize(Decimal("0.01"))


def xero_date(value: str) -> date:
    # Xero's /Date(ms+0000)/ is UTC midnight of the date, counted from the epoch.
    match = re.fullmatch(r"/Date\((-?\d+)([+-]\d{4})?\)/", value)
    assert match, value
    return date(1970, 1, 1) + timedelta(milliseconds=int(match[1]))


def test_c06_zero_and_negative_epoch_due_dates_are_flagged_not_referred():
    case = load_case("C06")
    as_of = date.fromisoformat(case["input"]["as_of_org_local"])
    facts = [
        InvoiceFacts(
            invoice_id=row["InvoiceID"],
            customer_id=row["Contact"]["Name"],
            number=row["InvoiceNumber"],
            currency="NZD",
            amount_due=money(row["AmountDue"]),
            home_amount_due=None,
            due_date=xero_date(row["DueDate"]),
        )
        for row in case["input"]["page"]
    ]

    decisions = evaluate_all(facts, Rules(), as_of, "NZD")

    assert len(decisions) == case["expected"]["invoices_stored"]
    for f, decision in zip(facts, decisions, strict=True):
        expected = case["expected"][f.number]
        assert f.due_date == date.fromisoformat(expected["due_date"])
        assert decision.days_late == expected["days_past_due"]
        assert (decision.outcome is Outcome.REFER) is expected["refer"]
        if "flag" in expected:
            assert decision.reason.value == expected["flag"]
            assert decision.needs_review
        else:
            assert decision.reason is Reason.IN_WINDOW


def _c15_invoice(case: dict[str, Any]) -> InvoiceFacts:
    raw = case["input"]["invoice"]
    return InvoiceFacts(
        invoice_id=raw["Id"],
        customer_id=raw["CustomerRef"]["value"],
        number=raw["DocNumber"],
        currency="USD",
        amount_due=money(raw["Balance"]),
        home_amount_due=None,
        due_date=date.fromisoformat(raw["DueDate"]),
        total=money(raw["TotalAmt"]),
    )


def test_c15_partly_paid_invoice_is_referred_for_its_balance():
    case = load_case("C15")
    facts = _c15_invoice(case)
    as_of = date.fromisoformat(case["input"]["as_of"])

    decision = evaluate(facts, Rules(), as_of)

    assert decision.outcome is Outcome.REFER
    assert decision.days_late == case["expected"]["days_past_due"]
    assert facts.amount_due == Decimal(case["expected"]["referral_amount"])


def test_c15_fee_is_on_the_balance_paid_after_referral_never_the_total():
    case = load_case("C15")
    facts = _c15_invoice(case)
    referred_on = date.fromisoformat(case["input"]["as_of"])
    rules = parse_rules({"fee_rate": "0.025"})  # the case's fee policy assumption
    before = case["input"]["payment_902"]
    collections = [
        Collection(
            "902",
            "creditor-1",
            facts.invoice_id,
            "USD",
            money(before["TotalAmt"]),
            date.fromisoformat(before["TxnDate"]),
            referred_on=referred_on,
        ),
        # "then": after referral the debtor pays the remaining 450.00.
        Collection(
            "903",
            "creditor-1",
            facts.invoice_id,
            "USD",
            facts.amount_due,
            referred_on + timedelta(days=5),
            referred_on=referred_on,
        ),
    ]

    at_referral, after = (
        accrue_all(collections[:1], rules),
        accrue_all(collections, rules),
    )

    assert [a.fee for a in at_referral] == [Decimal("0.00")]
    assert [a.fee for a in after] == [Decimal("0.00"), Decimal("11.25")]
    assert sum(a.fee for a in after) != Decimal("30.00")  # 2.5% of the 1,200.00 total


def test_c17_unapplied_payment_larger_than_the_invoice_holds_the_referral():
    case = load_case("C17")
    raw = case["input"]["invoices"][0]
    unapplied = sum(money(p["UnappliedAmt"]) for p in case["input"]["payments"])
    facts = InvoiceFacts(
        invoice_id=raw["Id"],
        customer_id=raw["CustomerRef"]["value"],
        number=raw["Id"],
        currency="USD",
        amount_due=money(raw["Balance"]),
        home_amount_due=None,
        due_date=date.fromisoformat(raw["DueDate"]),
        customer_credit=unapplied,
    )
    as_of = date.fromisoformat(case["input"]["as_of"])
    expected = case["expected"]["invoice_1780"]

    (decision,) = evaluate_all([facts], Rules(), as_of, "USD")

    assert decision.days_late == expected["days_past_due"]
    assert (decision.outcome is Outcome.REFER) is expected["refer"]
    assert decision.reason is Reason.CREDIT_COVERS_BALANCE
    assert facts.amount_due - unapplied == Decimal(
        case["expected"]["customer_net_balance"]
    )


def test_c18_totals_use_the_home_amount_of_foreign_invoices():
    case = load_case("C18")["input"]["qbo"]
    as_of = date.fromisoformat(case["as_of"])
    home = case["home_currency"]
    facts = [
        InvoiceFacts(
            invoice_id=raw["Id"],
            customer_id=raw["CustomerRef"]["value"],
            number=raw["Id"],
            currency=raw["CurrencyRef"]["value"],
            amount_due=money(raw["Balance"]),
            # QBO sends HomeBalance only for foreign-currency invoices.
            home_amount_due=money(raw["HomeBalance"]) if "HomeBalance" in raw else None,
            due_date=date.fromisoformat(raw["DueDate"]),
        )
        for raw in case["invoices"]
    ]
    expected = load_case("C18")["expected"]["qbo"]

    book = aging(facts, as_of, home)
    decisions = evaluate_all(facts, Rules(), as_of, home)

    assert book.total == Decimal(expected["dashboard_ar_total_usd"])  # not 2,500.00
    assert book.buckets["31-60"] == Decimal("2670.00")  # both 42 days late
    assert [d.outcome for d in decisions] == [Outcome.REFER, Outcome.REFER]
    # The referral is in the document currency: EUR 2,000.00, not USD 2,170.00.
    referral = expected["referral"]
    assert (facts[0].currency, facts[0].amount_due) == (
        referral["currency"],
        Decimal(referral["amount"]),
    )


def test_c18_fee_is_in_the_invoice_currency():
    event = load_case("C18")["input"]["qbo"]["collections_event"]
    rules = parse_rules({"fee_rate": "0.025"})
    received = date.fromisoformat(event["received_on"])
    collection = Collection(
        "c18",
        "creditor-1",
        event["invoice"],
        event["currency"],
        Decimal(event["amount"]),
        received,
        referred_on=date(2025, 5, 1),
    )

    (accrual,) = accrue_all([collection], rules)

    assert (accrual.currency, accrual.fee) == ("EUR", Decimal(event["fee"]))


def test_c27_after_an_outage_only_the_latest_stage_is_due():
    case = load_case("C27")
    policy, outage = case["input"]["policy"], case["input"]["b"]
    # The case's stages count days past due, so the cadence is anchored on the due
    # date; one message, and the content is S2's.
    cadence = (
        CadenceStep(policy["stage_S1_day"], (Channel.EMAIL,)),
        CadenceStep(policy["stage_S2_day"], (Channel.EMAIL,)),
    )
    due = date.fromisoformat(outage["due_date"])
    restart = date.fromisoformat(outage["downtime_local"][1][:10])

    step = current_step(cadence, due, restart)

    assert step is not None and step.day == policy["stage_S2_day"]
    assert current_step(cadence, due, restart, done={step.day}) is None
    for missed in outage["missed"]:
        on = date.fromisoformat(missed["at_local"][:10])
        assert (on - due).days == policy[f"stage_{missed['stage']}_day"]


def test_c27_after_an_outage_the_invoice_is_referred_once_and_paid_ones_not_at_all():
    case = load_case("C27")["input"]["b"]
    restart = date.fromisoformat(case["downtime_local"][1][:10])
    unpaid = InvoiceFacts(
        invoice_id=case["invoice"],
        customer_id="c",
        number=case["invoice"],
        currency="NZD",
        amount_due=Decimal("300.00"),
        home_amount_due=None,
        due_date=date.fromisoformat(case["due_date"]),
    )
    paid_raw = case["paid_during_outage"]
    paid = InvoiceFacts(
        invoice_id=paid_raw["invoice"],
        customer_id="c",
        number=paid_raw["invoice"],
        currency="NZD",
        amount_due=Decimal("0.00"),
        home_amount_due=None,
        due_date=date.fromisoformat(paid_raw["due_date"]),
        status="paid",
    )

    first, second = evaluate_all([unpaid, paid], Rules(), restart, "NZD")

    assert (first.outcome, first.days_late) == (Outcome.REFER, 42)
    assert (second.outcome, second.reason) == (Outcome.SKIP, Reason.PAID)
