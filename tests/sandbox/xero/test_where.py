"""The `where` filter as real clients write it, and the errors Xero gives for misuse."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.sandbox.xero.errors import BadRequest
from connectors.sandbox.xero.where import compile_where

INVOICE: dict[str, Any] = {
    "Type": "ACCREC",
    "Status": "AUTHORISED",
    "AmountDue": Decimal("410.00"),
    "DueDate": "/Date(1742428800000+0000)/",  # 2025-03-20
    "Reference": None,
    "HasAttachments": False,
    "Contact": {
        "ContactID": "7D2F0C8A-41B6-4C1E-9A57-3E0B5C2D9F10",
        "Name": "Maeve O'Brien's Bakery & Cafe",
    },
}


@pytest.mark.parametrize(
    ("expression", "matches"),
    [
        ('Type=="ACCREC" AND Status=="AUTHORISED" AND AmountDue>0', True),
        ('Type=="ACCREC" && Status=="PAID"', False),
        ('Status=="PAID" OR Status=="AUTHORISED"', True),
        ('(Status=="PAID" || AmountDue>=410) && Type!="ACCPAY"', True),
        ("AmountDue>410", False),
        ("AmountDue<=410.00", True),
        ("DueDate<DateTime(2025,03,21)", True),
        ("DueDate<DateTime(2025,03,20)", False),
        ("DueDate>=DateTime(2025, 3, 20)", True),
        ('Contact.ContactID==Guid("7d2f0c8a-41b6-4c1e-9a57-3e0b5c2d9f10")', True),
        ('Contact.Name.Contains("O\'Brien")', True),
        ('Contact.Name.StartsWith("Maeve")', True),
        ("Contact.Name.ToLower()==\"maeve o'brien's bakery & cafe\"", True),
        ("Reference==null", True),
        ("Reference!=null", False),
        ("HasAttachments==false", True),
        ('NOT (Status=="AUTHORISED")', False),
        ('Contact.Name=="Someone \\"quoted\\""', False),
    ],
)
def test_where_matches_like_xero(expression: str, matches: bool) -> None:
    assert compile_where(expression)(INVOICE) is matches


def test_comparing_a_date_with_a_string_is_refused_as_xero_does() -> None:
    with pytest.raises(BadRequest) as caught:
        compile_where('DueDate<"2025-02-01"')

    assert str(caught.value) == (
        "Operator '<' incompatible with operand types 'DateTime?' and 'String'"
    )


@pytest.mark.parametrize(
    "expression",
    ['Status=="AUTHORISED" AND', "AmountDue >", 'Status=="X" garbage', "Name.Shout()"],
)
def test_malformed_where_is_a_bad_request(expression: str) -> None:
    with pytest.raises(BadRequest):
        compile_where(expression)(INVOICE)


def test_where_over_http_answers_400_validation_exception(
    sandbox: Any, headers: dict
) -> None:
    client = sandbox.app.test_client()

    response = client.get(
        "/api.xro/2.0/Invoices",
        query_string={"where": 'DueDate<"2025-02-01"'},
        headers=headers,
    )

    assert response.status_code == 400
    body = response.get_json()
    assert body["Type"] == "ValidationException"
    assert "incompatible with operand types 'DateTime?' and 'String'" in body["Message"]


def test_a_mistyped_field_found_only_in_the_data_is_refused_when_met() -> None:
    keep = compile_where("Contact.Name>5")

    with pytest.raises(BadRequest, match="'String' and 'Decimal'"):
        keep(INVOICE)
