from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clock import SimulatedClock, local_today
from app.evaluation import (
    InvoiceFacts,
    Outcome,
    Reason,
    evaluate,
    evaluate_all,
    home_amount,
)
from app.rules import Rules, parse_rules
from connectors.records import InvoiceStatus

TODAY = date(2025, 5, 1)
RULES = Rules()


def facts(days_late: int = 45, **changes) -> InvoiceFacts:
    base = InvoiceFacts(
        invoice_id="1001",
        customer_id="64",
        number="1001",
        currency="USD",
        amount_due=Decimal("250.00"),
        home_amount_due=None,
        due_date=TODAY - timedelta(days=days_late),
        total=Decimal("250.00"),
    )
    return replace(base, **changes)


def verdict(f: InvoiceFacts, rules: Rules = RULES) -> tuple[str, str, int | None]:
    d = evaluate(f, rules, TODAY)
    return d.outcome.value, d.reason.value, d.days_late


@pytest.mark.parametrize(
    ("days_late", "expected"),
    [
        (-3, ("wait", "not_due")),
        (0, ("wait", "not_due")),
        (1, ("wait", "too_early")),
        (29, ("wait", "too_early")),
        (30, ("refer", "in_window")),
        (120, ("refer", "in_window")),
        (121, ("escalate", "past_window")),
    ],
)
def test_window_boundaries_are_inclusive(days_late, expected):
    outcome, reason, counted = verdict(facts(days_late))

    assert (outcome, reason) == expected
    assert counted == days_late


def test_days_late_counts_calendar_days_from_the_due_date():
    # 2025-03-17 to 2025-05-01: 14 days left in March, 30 in April, 1 in May = 45.
    f = facts(due_date=date(2025, 3, 17))

    assert evaluate(f, RULES, TODAY).days_late == 45


def test_window_follows_the_creditors_rules():
    rules = parse_rules({"window_start_days": 60, "window_end_days": 90})

    assert verdict(facts(59), rules)[:2] == ("wait", "too_early")
    assert verdict(facts(60), rules)[:2] == ("refer", "in_window")
    assert verdict(facts(91), rules)[:2] == ("escalate", "past_window")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"status": "paid", "amount_due": Decimal("0.00")}, "paid"),
        ({"amount_due": Decimal("0.00")}, "paid"),
        ({"status": "voided"}, "voided"),
        ({"status": "deleted"}, "deleted"),
        ({"disputed": True}, "disputed"),
        ({"amount_due": Decimal("0.009")}, "below_minimum"),
        ({"customer_excluded": True}, "excluded_customer"),
        ({"customer_tags": ("Wholesale", "GOVERNMENT")}, "excluded_tag"),
        (
            {"currency": "CHF", "home_amount_due": Decimal("270.00")},
            "excluded_currency",
        ),
        ({"customer_credit": Decimal("250.00")}, "credit_covers_balance"),
        ({"promised_until": TODAY}, "promised"),
        ({"on_plan": True}, "on_plan"),
        ({"due_date": date(1999, 12, 31)}, "implausible_due_date"),
        ({"due_date": None}, "implausible_due_date"),
    ],
)
def test_each_skip_reason(changes, reason):
    rules = parse_rules(
        {
            "excluded_tags": ["government"],
            "excluded_currencies": ["CHF"],
        }
    )

    decision = evaluate(facts(**changes), rules, TODAY)

    assert (decision.outcome, decision.reason) == (Outcome.SKIP, Reason(reason))


def test_excluded_customer_by_rule():
    rules = parse_rules({"excluded_customers": ["64"]})

    assert verdict(facts(), rules)[:2] == ("skip", "excluded_customer")
    assert verdict(facts(customer_id="65"), rules)[:2] == ("refer", "in_window")


def test_broken_promise_no_longer_holds():
    assert verdict(facts(promised_until=TODAY - timedelta(days=1)))[:2] == (
        "refer",
        "in_window",
    )


def test_credit_below_the_balance_does_not_hold():
    assert verdict(facts(customer_credit=Decimal("249.99")))[:2] == (
        "refer",
        "in_window",
    )


def test_credit_hold_can_be_turned_off():
    rules = parse_rules({"credits_hold": False})

    assert verdict(facts(customer_credit=Decimal("900.00")), rules)[:2] == (
        "refer",
        "in_window",
    )


def test_partly_paid_invoices_qualify_unless_the_rules_say_not():
    partly = facts(amount_due=Decimal("450.00"), total=Decimal("1200.00"))

    assert verdict(partly)[:2] == ("refer", "in_window")
    assert verdict(partly, parse_rules({"partly_paid_qualify": False}))[:2] == (
        "skip",
        "paid",
    )


def test_approval_first_marks_referrals_for_approval():
    rules = parse_rules({"auto_refer": False})

    assert evaluate(facts(), rules, TODAY).needs_approval
    assert not evaluate(facts(), RULES, TODAY).needs_approval
    assert not evaluate(facts(10), rules, TODAY).needs_approval


def test_implausible_due_dates_are_flagged_for_review():
    decision = evaluate(facts(due_date=date(2014, 4, 30)), RULES, TODAY)
    # 10 plausible years of 366 days = 3660; 2014-04-30 is 4019 days back.
    assert (decision.reason, decision.days_late) == (Reason.IMPLAUSIBLE_DUE_DATE, 4019)
    assert decision.needs_review

    far_future = evaluate(facts(due_date=date(2205, 5, 1)), RULES, TODAY)
    assert far_future.reason is Reason.IMPLAUSIBLE_DUE_DATE

    ok = evaluate(facts(due_date=date(2015, 5, 10)), RULES, TODAY)  # 3644 days
    assert (ok.reason, ok.needs_review) == (Reason.PAST_WINDOW, False)


def test_precedence_when_several_reasons_apply():
    # Every hold at once: the documented order decides, one layer peeled at a time.
    everything = facts(
        200,
        status="deleted",
        due_date=date(1970, 1, 1),
        disputed=True,
        customer_excluded=True,
        customer_tags=("government",),
        currency="CHF",
        home_amount_due=Decimal("270.00"),
        promised_until=TODAY,
        on_plan=True,
        customer_credit=Decimal("999.00"),
        amount_due=Decimal("0.00"),
    )
    rules = parse_rules(
        {"excluded_tags": ["government"], "excluded_currencies": ["CHF"]}
    )
    current = everything
    assert verdict(current, rules)[1] == "deleted"

    peel = [
        ("status", "voided", "voided"),
        ("status", "paid", "paid"),
        ("status", "open", "paid"),  # open, but nothing left due
        ("amount_due", Decimal("0.001"), "implausible_due_date"),
        ("due_date", TODAY - timedelta(days=200), "disputed"),
        ("disputed", False, "excluded_customer"),
        ("customer_excluded", False, "excluded_tag"),
        ("customer_tags", (), "excluded_currency"),
        ("currency", "USD", "promised"),
        ("promised_until", None, "on_plan"),
        ("on_plan", False, "credit_covers_balance"),
        ("customer_credit", Decimal(0), "below_minimum"),
        ("amount_due", Decimal("5.00"), "past_window"),
    ]
    for name, value, expected in peel:
        current = replace(current, **{name: value})
        assert verdict(current, rules)[1] == expected, name


def test_holds_win_over_timing():
    assert verdict(facts(10, disputed=True))[:2] == ("skip", "disputed")
    assert verdict(facts(-5, on_plan=True))[:2] == ("skip", "on_plan")


@pytest.mark.parametrize(
    ("instant", "zone", "today", "expected"),
    [
        # 12:30 UTC on 29 April is 00:30 on 30 April in Auckland (NZST, UTC+12) but
        # 05:30 on 29 April in Los Angeles (PDT, UTC-7): same instant, other day count.
        ("2025-04-29T12:30", "Pacific/Auckland", date(2025, 4, 30), (30, "refer")),
        ("2025-04-29T12:30", "America/Los_Angeles", date(2025, 4, 29), (29, "wait")),
        # 11:30 UTC is 23:30 in Auckland: still 29 April there, one hour short.
        ("2025-04-29T11:30", "Pacific/Auckland", date(2025, 4, 29), (29, "wait")),
    ],
)
def test_days_late_in_the_companys_zone(instant, zone, today, expected):
    clock = SimulatedClock(datetime.fromisoformat(instant).replace(tzinfo=UTC))
    local = local_today(zone, clock)

    decision = evaluate(facts(due_date=date(2025, 3, 31)), RULES, local)

    assert local == today
    assert (decision.days_late, decision.outcome.value) == expected


def test_yen_has_no_minor_unit_and_its_own_minimum():
    yen = facts(currency="JPY", amount_due=Decimal("2999"), home_amount_due=None)

    assert verdict(yen)[:2] == ("refer", "in_window")
    rules = parse_rules({"min_amount_due_by_currency": {"JPY": "3000"}})
    assert verdict(yen, rules)[:2] == ("skip", "below_minimum")
    assert verdict(replace(yen, amount_due=Decimal("3000")), rules)[:2] == (
        "refer",
        "in_window",
    )


def test_credit_is_weighed_against_everything_overdue_in_that_currency():
    # Credit 150.00 covers either invoice alone but not both (200.00): refer both.
    first = facts(invoice_id="a", customer_credit=Decimal("150.00"))
    first = replace(first, amount_due=Decimal("100.00"))
    second = replace(first, invoice_id="b", due_date=TODAY - timedelta(days=5))
    euro = replace(first, invoice_id="c", currency="EUR", customer_credit=Decimal(0))
    euro = replace(euro, home_amount_due=Decimal("108.50"))

    decisions = evaluate_all([first, second, euro], RULES, TODAY, "USD")

    assert [(d.reason.value, d.days_late) for d in decisions] == [
        ("in_window", 45),
        ("too_early", 5),
        ("in_window", 45),
    ]
    assert evaluate(first, RULES, TODAY).reason is Reason.CREDIT_COVERS_BALANCE

    covered = [replace(f, customer_credit=Decimal("200.00")) for f in (first, second)]
    reasons = [d.reason for d in evaluate_all(covered, RULES, TODAY, "USD")]
    assert reasons == [Reason.CREDIT_COVERS_BALANCE] * 2


def test_debtor_minimum_total_counts_in_the_home_currency():
    rules = parse_rules({"min_debtor_total": "100.00"})
    # Debtor 64: EUR 50.00 (54.25 USD) + USD 40.00 = 94.25 USD < 100: both skipped.
    # Debtor 65: USD 60.00 + USD 45.00 = 105.00: both referred; its not-yet-due
    # invoice waits and does not count.
    book = [
        facts(
            invoice_id="1",
            currency="EUR",
            amount_due=Decimal("50.00"),
            home_amount_due=Decimal("54.25"),
        ),
        facts(invoice_id="2", amount_due=Decimal("40.00")),
        facts(invoice_id="3", customer_id="65", amount_due=Decimal("60.00")),
        facts(invoice_id="4", customer_id="65", amount_due=Decimal("45.00")),
        facts(-3, invoice_id="5", customer_id="65", amount_due=Decimal("900.00")),
    ]

    decisions = evaluate_all(book, rules, TODAY, "USD")

    assert [(d.invoice_id, d.outcome.value, d.reason.value) for d in decisions] == [
        ("1", "skip", "below_minimum"),
        ("2", "skip", "below_minimum"),
        ("3", "refer", "in_window"),
        ("4", "refer", "in_window"),
        ("5", "wait", "not_due"),
    ]


def test_debtor_minimum_needs_home_amounts_for_foreign_invoices():
    rules = parse_rules({"min_debtor_total": "100.00"})
    euro = facts(currency="EUR", home_amount_due=None)

    with pytest.raises(ValueError, match="invoice=1001 is in EUR"):
        evaluate_all([euro], rules, TODAY, "USD")


def test_home_amount_prefers_the_ledgers_home_amount():
    assert home_amount(facts(), "USD") == Decimal("250.00")
    euro = facts(currency="EUR", home_amount_due=Decimal("271.25"))
    assert home_amount(euro, "USD") == Decimal("271.25")


_PAIRS = {
    Outcome.REFER: {Reason.IN_WINDOW},
    Outcome.WAIT: {Reason.NOT_DUE, Reason.TOO_EARLY},
    Outcome.ESCALATE: {Reason.PAST_WINDOW},
}


@given(
    days=st.integers(min_value=-5000, max_value=5000),
    amount=st.decimals(min_value="-10", max_value="100000", places=2),
    status=st.sampled_from(["open", "paid", "voided", "deleted"]),
    credit=st.decimals(min_value="0", max_value="1000", places=2),
    disputed=st.booleans(),
    on_plan=st.booleans(),
)
def test_every_invoice_gets_one_consistent_decision(
    days, amount, status, credit, disputed, on_plan
):
    f = facts(
        days,
        amount_due=amount,
        status=status,
        customer_credit=credit,
        disputed=disputed,
        on_plan=on_plan,
    )

    decision = evaluate(f, RULES, TODAY)

    assert decision.days_late == days
    if decision.outcome is Outcome.SKIP:
        assert decision.reason not in set().union(*_PAIRS.values())
    else:
        assert decision.reason in _PAIRS[decision.outcome]
        assert status == "open" and amount >= Decimal("0.01") and credit < amount
        assert not disputed and not on_plan
    if decision.outcome is Outcome.REFER:
        assert 30 <= days <= 120


def test_ledger_status_enum_reads_like_its_value():
    paid = facts(status=InvoiceStatus.PAID)
    open_ = facts(status=InvoiceStatus.OPEN)

    assert verdict(paid)[:2] == ("skip", "paid")
    assert verdict(open_)[:2] == ("refer", "in_window")
