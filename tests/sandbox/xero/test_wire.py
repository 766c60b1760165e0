"""The sandbox's JSON: amounts digit for digit, never through float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.sandbox.xero import wire


def test_decimals_keep_their_digits() -> None:
    body = {"AmountDue": Decimal("0.00"), "CurrencyRate": Decimal("1.000000"), "Qty": 3}

    assert wire.dumps(body) == '{"AmountDue":0.00,"CurrencyRate":1.000000,"Qty":3}'


def test_exponent_decimals_are_written_positionally() -> None:
    assert wire.dumps([Decimal("1E+3"), Decimal("1E-7")]) == "[1000,0.0000001]"


def test_text_stays_utf8_and_escaped() -> None:
    assert wire.dumps({"Name": 'Zoë "Ørsted"'}) == '{"Name":"Zoë \\"Ørsted\\""}'


def test_loads_reads_fractions_as_decimals() -> None:
    assert wire.loads('{"Total": 410.10, "Count": 2}') == {
        "Total": Decimal("410.10"),
        "Count": 2,
    }


@pytest.mark.parametrize("bad", [0.1, Decimal("NaN"), object()])
def test_floats_and_non_json_values_are_refused(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        wire.dumps({"x": bad})


def test_decimals_turns_floats_from_plain_json_into_decimals() -> None:
    assert wire.decimals({"a": [0.1, {"b": 410.0}], "c": "x"}) == {
        "a": [Decimal("0.1"), {"b": Decimal("410.0")}],
        "c": "x",
    }
