from datetime import date
from decimal import Decimal

import pytest

from app.evaluation import InvoiceFacts
from app.fees import Collection, CollectionKind, accrue_all
from app.insights import (
    BUCKETS,
    CaseOutcome,
    ReferralOutcome,
    aging,
    cei,
    cohorts,
    dso_countback,
    fee_totals,
    representative_performance,
)
from app.rules import Rules

TODAY = date(2025, 5, 1)


def invoice(
    number: str,
    amount: str,
    due: date | None,
    currency: str = "USD",
    home: str | None = None,
    status: str = "open",
) -> InvoiceFacts:
    return InvoiceFacts(
        invoice_id=number,
        customer_id="c",
        number=number,
        currency=currency,
        amount_due=Decimal(amount),
        home_amount_due=None if home is None else Decimal(home),
        due_date=due,
        status=status,
    )


def test_aging_buckets_in_the_home_currency():
    book = [
        invoice("1", "100.00", date(2025, 5, 10)),  # -9 days: current
        invoice("2", "200.00", date(2025, 5, 1)),  # due today: current
        invoice("3", "300.00", date(2025, 4, 30)),  # 1 day
        invoice("4", "400.00", date(2025, 4, 1)),  # 30 days
        invoice("5", "2000.00", date(2025, 3, 20), "EUR", "2170.00"),  # 42 days
        invoice("6", "500.00", date(2025, 3, 20)),  # 42 days
        invoice("7", "10000", date(2025, 2, 1), "JPY", "66.67"),  # 28+31+30 = 89
        invoice("8", "50.00", date(2025, 1, 1)),  # 31+28+31+30 = 120
        invoice("9", "25.00", date(2024, 12, 31)),  # 121
        invoice("10", "999.00", date(2025, 3, 1), status="paid"),
        invoice("11", "0.00", date(2025, 3, 1)),
        invoice("12", "10.00", None),  # no due date: current
    ]

    result = aging(book, TODAY, "USD")

    assert list(result.buckets) == list(BUCKETS)
    assert result.buckets == {
        "current": Decimal("310.00"),
        "1-30": Decimal("700.00"),
        "31-60": Decimal("2670.00"),
        "61-90": Decimal("66.67"),
        "91-120": Decimal("50.00"),
        "120+": Decimal("25.00"),
    }
    assert result.total == Decimal("3821.67")


def test_aging_refuses_a_foreign_invoice_without_home_amount():
    with pytest.raises(ValueError, match="invoice=5 is in EUR"):
        aging([invoice("5", "2000.00", date(2025, 3, 20), "EUR")], TODAY, "USD")


def test_recovery_rate_per_referral_month_cohort():
    outcomes = [
        ReferralOutcome("a", date(2025, 3, 3), Decimal("1000.00"), Decimal("1000.00")),
        ReferralOutcome("b", date(2025, 3, 28), Decimal("500.00"), Decimal("0.00")),
        ReferralOutcome("c", date(2025, 4, 2), Decimal("2170.00"), Decimal("1085.00")),
    ]

    rows = [
        (c.month, c.invoices, c.referred, c.collected, c.recovery_rate)
        for c in cohorts(outcomes, "USD")
    ]

    # March 1,000 / 1,500 = 0.6667; April 1,085 / 2,170 = 0.5; all 2,085 / 3,670 =
    # 0.56812 -> 0.5681.
    assert rows == [
        ("2025-03", 2, Decimal("1500.00"), Decimal("1000.00"), Decimal("0.6667")),
        ("2025-04", 1, Decimal("2170.00"), Decimal("1085.00"), Decimal("0.5000")),
        ("all", 3, Decimal("3670.00"), Decimal("2085.00"), Decimal("0.5681")),
    ]
    assert cohorts([], "USD") == []


def test_recovery_rate_of_nothing_referred_is_none():
    rows = cohorts([ReferralOutcome("z", TODAY, Decimal(0), Decimal(0))], "USD")

    assert rows[0].recovery_rate is None


def test_dso_countback_worked_by_hand():
    # Receivables 2,670 at the end of May. May's sales 2,000 are all still owed:
    # 31 days, 670 left. April's 1,000: 670/1,000 of its 30 days = 20.1. DSO 51.1.
    sales = [("2025-05", Decimal("2000")), ("2025-04", Decimal("1000"))]

    assert dso_countback(Decimal("2670"), sales) == Decimal("51.1")
    assert dso_countback(Decimal("2000"), sales) == Decimal("31.0")
    assert dso_countback(Decimal("0"), sales) == Decimal("0.0")


def test_dso_countback_counts_the_current_month_to_date():
    # On 20 May: 20 days of May (1,000), then half of April's 30 days = 35.0.
    sales = [("2025-05", Decimal("1000")), ("2025-04", Decimal("1000"))]

    assert dso_countback(Decimal("1500"), sales, as_of=date(2025, 5, 20)) == Decimal(
        "35.0"
    )


def test_dso_countback_beyond_the_history_is_a_floor():
    sales = [("2024-03", Decimal("1000")), ("2024-02", Decimal("1000"))]

    # 31 days of March + 29 of February 2024 (a leap year) = 60.0, whatever is left.
    assert dso_countback(Decimal("5000"), sales) == Decimal("60.0")


def test_cei_worked_by_hand():
    # (10,000 + 5,000 - 8,000) / (10,000 + 5,000 - 3,000) = 7,000 / 12,000 = 58.33%.
    assert cei(
        Decimal("10000"), Decimal("5000"), Decimal("8000"), Decimal("3000")
    ) == Decimal("58.3")
    # Everything collected: ending receivables are all current ones.
    assert cei(
        Decimal("1000"), Decimal("500"), Decimal("300"), Decimal("300")
    ) == Decimal("100.0")
    assert cei(Decimal(0), Decimal(0), Decimal(0), Decimal(0)) is None


def test_fee_totals_per_month_and_currency():
    def pay(id_, amount, on, currency="USD", **kw):
        return Collection(
            id_, "42", id_, currency, Decimal(amount), on, referred_on=TODAY, **kw
        )

    accruals = accrue_all(
        [
            pay("a", "450.00", date(2025, 5, 6)),  # 4.50
            pay("b", "0.50", date(2025, 5, 7)),  # 0.005 -> 0.01
            pay("c", "300.00", date(2025, 6, 2)),  # 3.00
            pay("d", "2000.00", date(2025, 5, 6), "EUR"),  # 20.00
            pay("e", "700.00", date(2025, 5, 6), kind=CollectionKind.CREDIT_NOTE),
        ],
        Rules(),
    )

    assert fee_totals(accruals) == {
        ("2025-05", "EUR"): Decimal("20.00"),
        ("2025-05", "USD"): Decimal("4.51"),
        ("2025-06", "USD"): Decimal("3.00"),
    }


def test_representative_performance_worked_by_hand():
    cases = [
        CaseOutcome(
            "c1",
            "r1",
            "resolved_paid",
            date(2025, 3, 1),
            date(2025, 3, 21),
            Decimal("1000.00"),
            Decimal("1000.00"),
            promises_made=2,
            promises_kept=1,
        ),
        CaseOutcome(
            "c2", "r1", "active", date(2025, 4, 1), None, Decimal("500"), Decimal("100")
        ),
        CaseOutcome(
            "c3",
            "r1",
            "resolved_paid",
            date(2025, 4, 1),
            date(2025, 4, 16),
            Decimal("300.00"),
            Decimal("300.00"),
            promises_made=1,
            promises_kept=1,
        ),
        CaseOutcome(
            "c4",
            "r2",
            "written_off",
            date(2025, 2, 1),
            date(2025, 4, 1),
            Decimal("200.00"),
            Decimal("0.00"),
        ),
    ]

    r1, r2 = representative_performance(cases, "USD")

    # r1: 1,400 / 1,800 = 0.7778; resolved in 20 and 15 days: 17.5; promises 2 of 3.
    assert (r1.cases, r1.open_cases, r1.resolved_paid) == (3, 1, 2)
    assert (r1.referred, r1.collected) == (Decimal("1800.00"), Decimal("1400.00"))
    assert r1.recovery_rate == Decimal("0.7778")
    assert r1.avg_days_to_resolve == Decimal("17.5")
    assert r1.promise_kept_rate == Decimal("0.6667")
    assert (r2.representative_id, r2.recovery_rate) == ("r2", Decimal("0.0000"))
    assert (r2.avg_days_to_resolve, r2.promise_kept_rate) == (None, None)
