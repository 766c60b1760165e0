from decimal import Decimal

import pytest

from app.money import Money, minor_unit, quantize


def test_half_cent_rounds_up():
    assert quantize(Decimal("11.245"), "USD") == Decimal("11.25")
    assert quantize(Decimal("-0.005"), "USD") == Decimal("-0.01")


def test_minor_units_follow_the_currency():
    assert minor_unit("USD") == Decimal("0.01")
    assert minor_unit("JPY") == Decimal("1")
    assert minor_unit("BHD") == Decimal("0.001")
    assert quantize(Decimal("1234.5"), "JPY") == Decimal("1235")


def test_float_is_refused():
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]


def test_currencies_do_not_mix():
    with pytest.raises(ValueError, match="cannot mix"):
        Money(Decimal("1"), "USD") + Money(Decimal("1"), "EUR")


def test_rate_applied_to_collected_amount():
    # 2.5% of 450.00 = 11.25 exactly (shared case C15)
    assert Money(Decimal("450.00"), "USD").times(Decimal("0.025")).amount == Decimal(
        "11.25"
    )
