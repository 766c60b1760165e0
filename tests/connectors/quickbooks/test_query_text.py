"""Query literals and request bodies built by hand (C07, exact decimals)."""

import json
from decimal import Decimal

import pytest

from connectors.quickbooks.client import dumps, quote, select


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("Maeve O'Brien's Bakery & Cafe", "'Maeve O\\'Brien\\'s Bakery & Cafe'"),
        ("O'Brien Haulage", "'O\\'Brien Haulage'"),
        ("Test' STARTPOSITION '1", "'Test\\' STARTPOSITION \\'1'"),
        ("O'Brien%", "'O\\'Brien%'"),
        ("back\\slash", "'back\\\\slash'"),
        ("Zoë Ørsted", "'Zoë Ørsted'"),
    ],
)
def test_quote_escapes_apostrophes_and_backslashes(value, literal):
    assert quote(value) == literal


def test_quote_refuses_control_characters():
    with pytest.raises(ValueError, match="control character"):
        quote("a\nb")


def test_select_is_one_based_and_orders_by_id():
    statement = select("Invoice", "Balance > '0'", start=1001, max_results=1000)
    assert statement == (
        "SELECT * FROM Invoice WHERE Balance > '0' ORDERBY Id"
        " STARTPOSITION 1001 MAXRESULTS 1000"
    )
    with pytest.raises(ValueError, match="1-based"):
        select("Invoice", start=0)


def test_dumps_writes_decimals_as_exact_numbers():
    text = dumps({"TotalAmt": Decimal("2000.00"), "Rate": Decimal("1.0920"), "n": [1]})
    assert text == '{"TotalAmt":2000.00,"Rate":1.0920,"n":[1]}'
    assert json.loads(text, parse_float=Decimal)["Rate"] == Decimal("1.0920")


def test_dumps_refuses_floats():
    with pytest.raises(TypeError, match="never a float"):
        dumps({"TotalAmt": 10.5})
