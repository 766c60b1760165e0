from decimal import Decimal

import pytest

from app.rules import Tier
from app.scoring import ScoreInputs, rank, score


def points(s) -> dict[str, Decimal]:
    return {c.name: c.points for c in s.components}


def test_score_worked_by_hand():
    # days 25 x 45/120 = 9.375 -> 9.38; one broken promise 5; amount 6 x log10(1000)
    # = 18; first-party 6; revenue 2 x (log10(10,000) - 2) = 4; 2 years 2; not
    # strategic 0; 8 x 15/60 = 2; 7 x 0.25 = 1.75. Total 48.13.
    s = score(
        ScoreInputs(
            days_late=45,
            amount_due=Decimal("1000.00"),
            broken_promises=1,
            lifetime_revenue=Decimal("10000"),
            years_as_customer=2,
            avg_days_late_paying=Decimal(15),
            share_paid_late=Decimal("0.25"),
        )
    )

    assert points(s) == {
        "days_late": Decimal("9.38"),
        "broken_promises": Decimal("5.00"),
        "amount_due": Decimal("18.00"),
        "tier": Decimal("6.00"),
        "lifetime_revenue": Decimal("4.00"),
        "years_as_customer": Decimal("2.00"),
        "strategic": Decimal("0.00"),
        "avg_days_late": Decimal("2.00"),
        "share_paid_late": Decimal("1.75"),
    }
    assert s.total == Decimal("48.13")
    assert s.by_group() == {
        "status": Decimal("14.38"),
        "value": Decimal("18.00"),
        "relationship": Decimal("12.00"),
        "history": Decimal("3.75"),
    }


def test_components_are_clamped_to_their_maximum():
    # days capped at 120 -> 25; 3 promises -> 10 (cap); 6 x log10(250) = 14.3876 ->
    # 14.39; third party 0; revenue 50 is below 100 -> 0; 5 years -> 3; strategic 3;
    # no history 0 and 0. Total 55.39.
    s = score(
        ScoreInputs(
            days_late=150,
            amount_due=Decimal("250.00"),
            tier=Tier.THIRD_PARTY,
            broken_promises=3,
            lifetime_revenue=Decimal("50"),
            years_as_customer=5,
            strategic=True,
        )
    )

    assert points(s)["days_late"] == Decimal("25.00")
    assert points(s)["broken_promises"] == Decimal("10.00")
    assert points(s)["amount_due"] == Decimal("14.39")
    assert points(s)["lifetime_revenue"] == Decimal("0.00")
    assert points(s)["years_as_customer"] == Decimal("3.00")
    assert s.total == Decimal("55.39")


def test_most_a_score_can_reach_is_100():
    s = score(
        ScoreInputs(
            days_late=400,
            amount_due=Decimal("5000000"),
            broken_promises=9,
            lifetime_revenue=Decimal("1e9"),
            years_as_customer=40,
            strategic=True,
            avg_days_late_paying=Decimal(90),
            share_paid_late=Decimal(1),
        )
    )

    assert s.total == Decimal("100.00")
    assert all(c.points == c.maximum for c in s.components)


def test_tiny_amounts_and_no_revenue_score_zero_not_negative():
    s = score(ScoreInputs(days_late=30, amount_due=Decimal("0.50")))

    assert points(s)["amount_due"] == Decimal("0.00")
    assert points(s)["lifetime_revenue"] == Decimal("0.00")


def test_every_component_explains_itself():
    s = score(
        ScoreInputs(
            days_late=45,
            amount_due=Decimal("1000.00"),
            share_paid_late=Decimal("0.25"),
        )
    )
    why = {c.name: c.why for c in s.components}

    assert why["days_late"] == "45 days late (25 points at 120 days or more)"
    assert why["share_paid_late"] == "25% of invoices paid late"
    assert why["avg_days_late"] == "no payment history"
    assert why["tier"] == "first_party tier"
    stored = s.to_dict()
    assert stored["total"] == str(s.total)
    assert len(stored["components"]) == 9


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="negative"):
        score(ScoreInputs(days_late=-1, amount_due=Decimal(1)))
    with pytest.raises(ValueError, match="between 0 and 1"):
        score(
            ScoreInputs(
                days_late=1, amount_due=Decimal(1), share_paid_late=Decimal("1.5")
            )
        )


def test_rank_puts_the_highest_score_first():
    late = ScoreInputs(days_late=100, amount_due=Decimal("5000.00"))
    fresh = ScoreInputs(days_late=30, amount_due=Decimal("300.00"))

    ranked = rank([("fresh", fresh), ("late", late)])

    assert [(r.rank, r.key) for r in ranked] == [(1, "late"), (2, "fresh")]


def test_ties_rank_by_amount_then_key():
    # Both score 18.00: 6 x log10(1000) = 18 against 6 x log10(100) + 3 years + 3.
    big = ScoreInputs(days_late=0, amount_due=Decimal("1000"), tier=Tier.THIRD_PARTY)
    small = ScoreInputs(
        days_late=0,
        amount_due=Decimal("100"),
        tier=Tier.THIRD_PARTY,
        years_as_customer=3,
        strategic=True,
    )

    ranked = rank([("b-small", small), ("z-big", big), ("a-small", small)])

    assert [r.score.total for r in ranked] == [Decimal("18.00")] * 3
    assert [r.key for r in ranked] == ["z-big", "a-small", "b-small"]
