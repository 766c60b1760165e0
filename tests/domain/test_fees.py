from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.fees import (
    Collection,
    CollectionKind,
    FeeBasis,
    FeeTerms,
    accrue,
    accrue_all,
    bill_key,
    bill_lines,
    fee_terms,
    invoice_fee,
    plan_bill,
    reverse,
)
from app.rules import Rules, parse_rules

REFERRED = date(2025, 5, 1)
ONE_PERCENT = FeeTerms(Decimal("0.01"))
D450 = Decimal("450.00")


def payment(amount: str, on: date = date(2025, 5, 6), **changes) -> Collection:
    values = {
        "id": f"p-{amount}-{on}",
        "creditor_id": "42",
        "invoice_id": "1501",
        "currency": "USD",
        "amount": Decimal(amount),
        "received_on": on,
        "referred_on": REFERRED,
    }
    values.update(changes)
    return Collection(**values)


@pytest.mark.parametrize(
    ("rate", "collected", "currency", "fee"),
    [
        ("0.01", "0.50", "USD", "0.01"),  # 0.005 rounds half-up
        ("0.01", "0.49", "USD", "0.00"),  # 0.0049 rounds down
        ("0.025", "450.00", "USD", "11.25"),
        ("0.01", "1234.50", "USD", "12.35"),  # 12.345 -> 12.35
        ("0.01", "150", "JPY", "2"),  # 1.5 yen -> 2 yen
        ("0.01", "149", "JPY", "1"),
        ("0.01", "10.050", "BHD", "0.101"),  # 0.1005 -> 0.101 (three decimals)
    ],
)
def test_fee_rounds_half_up_to_the_minor_unit(rate, collected, currency, fee):
    terms = FeeTerms(Decimal(rate))

    assert invoice_fee(Decimal(collected), terms, currency) == Decimal(fee)


def test_default_rate_is_one_percent():
    accrual = accrue(payment("1000.00"), fee_terms(Rules(), "USD"))

    assert (accrual.fee, accrual.rate) == (Decimal("10.00"), Decimal("0.01"))
    assert accrual.basis is FeeBasis.AFTER_REFERRAL
    assert accrual.month == "2025-05"


def test_money_before_or_on_the_referral_day_earns_nothing():
    before = accrue(payment("750.00", date(2025, 4, 10)), ONE_PERCENT)
    same_day = accrue(payment("750.00", REFERRED), ONE_PERCENT)
    next_day = accrue(payment("750.00", date(2025, 5, 2)), ONE_PERCENT)

    assert (before.fee, before.basis) == (Decimal("0.00"), FeeBasis.BEFORE_REFERRAL)
    assert (same_day.fee, same_day.basis) == (
        Decimal("0.00"),
        FeeBasis.BEFORE_REFERRAL,
    )
    assert next_day.fee == Decimal("7.50")


@pytest.mark.parametrize(
    ("changes", "basis"),
    [
        ({"kind": CollectionKind.CREDIT_NOTE}, FeeBasis.CREDIT_NOTE),
        ({"kind": CollectionKind.WRITE_OFF}, FeeBasis.WRITE_OFF),
        ({"referred_on": None}, FeeBasis.NOT_REFERRED),
    ],
)
def test_credit_notes_write_offs_and_unreferred_invoices_earn_nothing(changes, basis):
    accrual = accrue(payment("500.00", **changes), ONE_PERCENT)

    assert (accrual.fee, accrual.basis) == (Decimal("0.00"), basis)


def test_negative_collection_is_refused():
    with pytest.raises(ValueError, match="collection=p--5.00"):
        accrue(payment("-5.00"), ONE_PERCENT)


def test_minimum_and_cap_apply_per_invoice():
    terms = FeeTerms(Decimal("0.01"), minimum=Decimal("5.00"), cap=Decimal("20.00"))

    # 1% of 100.00 is 1.00: the minimum makes it 5.00.
    assert invoice_fee(Decimal("100.00"), terms, "USD") == Decimal("5.00")
    # 1% of 1,000.00 is 10.00: between minimum and cap.
    assert invoice_fee(Decimal("1000.00"), terms, "USD") == Decimal("10.00")
    # 1% of 5,000.00 is 50.00: capped at 20.00.
    assert invoice_fee(Decimal("5000.00"), terms, "USD") == Decimal("20.00")
    # The minimum never takes more than the money collected.
    assert invoice_fee(Decimal("3.00"), terms, "USD") == Decimal("3.00")
    assert invoice_fee(Decimal("0"), terms, "USD") == Decimal("0.00")


def test_per_payment_accruals_add_up_to_the_invoice_fee():
    # Minimum 5.00, cap 20.00, 1%. Payments 100, 600, 900, 1000 (total 2,600.00):
    # cumulative fee 5.00, 7.00, 16.00, 20.00 -> accruals 5.00, 2.00, 9.00, 4.00.
    rules = parse_rules({"fee_minimum": {"USD": "5.00"}, "fee_cap": {"USD": "20.00"}})
    days = [date(2025, 5, d) for d in (2, 9, 16, 23)]
    amounts = ["100.00", "600.00", "900.00", "1000.00"]
    collections = [
        payment(a, d, id=f"p{i}")
        for i, (a, d) in enumerate(zip(amounts, days, strict=True))
    ]

    accruals = accrue_all(reversed(collections), rules)  # order of input is irrelevant

    assert [a.fee for a in accruals] == [
        Decimal(x) for x in ("5.00", "2.00", "9.00", "4.00")
    ]
    assert sum(a.fee for a in accruals) == Decimal("20.00")


def test_half_cents_do_not_drift_across_payments():
    # Two payments of 0.50 at 1%: the invoice fee is 1% of 1.00 = 0.01, not 0.02.
    collections = [
        payment("0.50", date(2025, 5, 2), id="a"),
        payment("0.50", date(2025, 5, 3), id="b"),
    ]

    accruals = accrue_all(collections, Rules())

    assert [a.fee for a in accruals] == [Decimal("0.01"), Decimal("0.00")]


def test_money_before_referral_does_not_count_towards_the_invoice():
    # 750.00 paid before referral, 450.00 after: the fee is on 450.00 only (C15 shape).
    rules = parse_rules({"fee_rate": "0.025"})
    collections = [
        payment("750.00", date(2025, 4, 10), id="902"),
        payment("450.00", date(2025, 5, 20), id="903"),
    ]

    accruals = accrue_all(collections, rules)

    assert [a.fee for a in accruals] == [Decimal("0.00"), Decimal("11.25")]


def test_fees_are_in_the_invoice_currency():
    rules = parse_rules({"fee_rate": "0.025", "fee_cap": {"JPY": "1000"}})
    euro = payment("2000.00", currency="EUR", invoice_id="2044", id="e")
    yen = payment("98765", currency="JPY", invoice_id="3001", id="y")

    accruals = accrue_all([euro, yen], rules)

    # 2.5% of 2,000.00 EUR = 50.00 EUR; 2.5% of 98,765 JPY = 2,469.125 -> cap 1,000.
    assert [(a.currency, a.fee) for a in accruals] == [
        ("EUR", Decimal("50.00")),
        ("JPY", Decimal("1000")),
    ]


def test_bill_lines_group_per_creditor_currency_and_month():
    accruals = accrue_all(
        [
            payment("100.00", date(2025, 5, 2), id="a", invoice_id="1"),
            payment("250.50", date(2025, 5, 31), id="b", invoice_id="2"),
            payment("300.00", date(2025, 6, 1), id="c", invoice_id="2"),
            payment("80.00", date(2025, 5, 9), id="d", currency="EUR", invoice_id="3"),
            payment(
                "500.00", date(2025, 5, 9), id="e", creditor_id="7", invoice_id="9"
            ),
            payment("999.00", date(2025, 4, 9), id="f", invoice_id="4"),  # pre-referral
        ],
        Rules(),
    )

    lines = bill_lines(accruals)

    # May USD for 42: 1.00 + 2.51 (1% of 250.50 = 2.505 -> 2.51) = 3.51.
    summary = [(ln.key, ln.fee, ln.collected, ln.accruals) for ln in lines]
    assert summary == [
        ("CARE-42-202505-EUR", Decimal("0.80"), Decimal("80.00"), 1),
        ("CARE-42-202505-USD", Decimal("3.51"), Decimal("350.50"), 2),
        ("CARE-42-202506-USD", Decimal("3.00"), Decimal("300.00"), 1),
        ("CARE-7-202505-USD", Decimal("5.00"), Decimal("500.00"), 1),
    ]


def test_bill_key_is_stable():
    assert bill_key("42", "2025-05", "USD") == "CARE-42-202505-USD"


@given(
    amounts=st.lists(
        st.decimals(min_value="0.01", max_value="100000", places=2), max_size=8
    ),
    rate=st.decimals(min_value="0", max_value="0.2", places=4),
    minimum=st.one_of(st.none(), st.decimals(min_value="0", max_value="50", places=2)),
    extra=st.decimals(min_value="0", max_value="500", places=2),
)
def test_accruals_never_drift_from_the_fee_on_the_total(amounts, rate, minimum, extra):
    cap = None if minimum is None else minimum + extra
    rules = Rules(
        fee_rate=rate,
        fee_minimum={} if minimum is None else {"USD": minimum},
        fee_cap={} if cap is None else {"USD": cap},
    )
    collections = [
        payment(str(a), date(2025, 5, 2) + timedelta(days=i), id=f"p{i:02d}")
        for i, a in enumerate(amounts)
    ]

    accruals = accrue_all(collections, rules)

    total = sum(amounts, Decimal(0))
    expected = invoice_fee(total, fee_terms(rules, "USD"), "USD")
    assert sum((a.fee for a in accruals), Decimal("0.00")) == expected
    assert all(a.fee >= 0 for a in accruals)
    assert expected <= total
    if cap is not None:
        assert expected <= cap


def test_reversal_takes_back_the_fee_on_the_money_lost():
    # 1% of 450.00 = 4.50 accrued; the payment is deleted: -4.50 on -450.00.
    paid = payment("450.00", id="p1")

    reversal = reverse(paid, Decimal("450.00"), ONE_PERCENT, Decimal("450.00"))

    assert (reversal.collected, reversal.fee) == (Decimal("-450.00"), Decimal("-4.50"))
    assert (reversal.basis, reversal.accrued_on) == (
        FeeBasis.REVERSAL,
        paid.received_on,
    )


def test_reversal_of_more_than_was_collected_is_refused():
    with pytest.raises(ValueError, match="collection=p1: cannot reverse 500.00"):
        reverse(payment("450.00", id="p1"), Decimal("500.00"), ONE_PERCENT, D450)


def test_accrue_all_reverses_lost_money_within_minimum_and_cap():
    # Minimum 5.00, cap 20.00: payments 100.00 (fee 5.00) and 600.00 (7.00 - 5.00 =
    # 2.00). The 100.00 bounces: 600.00 is left, fee 6.00, so the reversal is -1.00.
    rules = parse_rules({"fee_minimum": {"USD": "5.00"}, "fee_cap": {"USD": "20.00"}})
    collections = [
        payment("100.00", date(2025, 5, 2), id="a"),
        payment("600.00", date(2025, 5, 9), id="b"),
    ]

    accruals = accrue_all(collections, rules, lost={"a": Decimal("100.00")})

    assert [(a.collection_id, a.fee) for a in accruals] == [
        ("a", Decimal("5.00")),
        ("b", Decimal("2.00")),
        ("a", Decimal("-1.00")),
    ]


def test_money_that_earned_nothing_loses_nothing():
    before = payment("750.00", date(2025, 4, 10), id="902")

    accruals = accrue_all([before], Rules(), lost={"902": Decimal("750.00")})

    assert [a.basis for a in accruals] == [FeeBasis.BEFORE_REFERRAL]


def test_a_month_that_nets_to_nothing_or_less_makes_no_bill():
    paid = payment("450.00", date(2025, 5, 6), id="p1")
    [fee] = accrue_all([paid], Rules())
    lost = reverse(paid, D450, ONE_PERCENT, D450)
    [june] = accrue_all([payment("200.00", date(2025, 6, 20), id="p2")], Rules())

    # May: 4.50 - 4.50 = 0.00; June: 2.00 - 4.50 = -2.50. Neither is billed.
    assert plan_bill("2025-05", "USD", [fee, lost]) is None
    assert plan_bill("2025-06", "USD", [lost, june]) is None


def test_bill_lines_name_the_invoice_and_payment_date_of_earlier_accruals():
    paid = payment("450.00", date(2025, 5, 6), id="p1", invoice_id="11")
    lost = reverse(paid, D450, ONE_PERCENT, D450)
    [late, july] = accrue_all(
        [
            payment("230.00", date(2025, 6, 28), id="p2", invoice_id="12"),
            payment("1000.00", date(2025, 7, 3), id="p3", invoice_id="13"),
        ],
        Rules(),
    )

    plan = plan_bill("2025-07", "USD", [july, late, lost], {"11": "INV-11"})

    # 10.00 + 2.30 - 4.50 = 7.80; an invoice without a label shows its id.
    assert plan is not None and plan.amount == Decimal("7.80")
    assert plan.lines == (
        ("CARE fee on 1000.00 USD collected in 2025-07 (1 payment)", Decimal("10.00")),
        (
            "Reversal: invoice INV-11, payment of 2025-05-06: 450.00 USD taken back"
            " (deleted, voided, bounced or reduced in the ledger)",
            Decimal("-4.50"),
        ),
        (
            "Invoice 12, payment of 2025-06-28: CARE fee on 230.00 USD"
            " (not on the 2025-06 bill)",
            Decimal("2.30"),
        ),
    )


def test_a_bill_takes_nothing_dated_after_its_month_or_in_another_currency():
    [august] = accrue_all([payment("100.00", date(2025, 8, 1))], Rules())
    [euro] = accrue_all([payment("100.00", currency="EUR")], Rules())

    with pytest.raises(ValueError, match="not for 2025-07"):
        plan_bill("2025-07", "USD", [august])
    with pytest.raises(ValueError, match="not for 2025-05"):
        plan_bill("2025-05", "USD", [euro])


@given(
    amounts=st.lists(
        st.decimals(min_value="0.01", max_value="100000", places=2),
        min_size=1,
        max_size=8,
    ),
    lost=st.lists(st.decimals(min_value="0", max_value="1", places=2), max_size=8),
    minimum=st.one_of(st.none(), st.decimals(min_value="0", max_value="50", places=2)),
)
def test_accruals_and_reversals_add_up_to_the_fee_on_what_is_left(
    amounts, lost, minimum
):
    rules = Rules(
        fee_rate=Decimal("0.01"),
        fee_minimum={} if minimum is None else {"USD": minimum},
    )
    collections = [
        payment(str(a), date(2025, 5, 2) + timedelta(days=i), id=f"p{i:02d}")
        for i, a in enumerate(amounts)
    ]
    # Each collection loses a share of itself (0% to 100%), in whole cents.
    gone = {
        c.id: (c.amount * share).quantize(Decimal("0.01"))
        for c, share in zip(collections, lost, strict=False)
    }

    accruals = accrue_all(collections, rules, lost=gone)

    left = sum(amounts, Decimal(0)) - sum(gone.values(), Decimal(0))
    expected = invoice_fee(left, fee_terms(rules, "USD"), "USD")
    assert sum((a.fee for a in accruals), Decimal("0.00")) == expected
    assert all(a.fee <= 0 for a in accruals if a.basis is FeeBasis.REVERSAL)
