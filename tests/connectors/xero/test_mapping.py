"""Xero JSON (recorded from Xero's demo company, and case inputs) -> records."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.records import Application, InvoiceStatus, PaymentKind
from connectors.xero import mapping

PAYLOADS = Path(__file__).parent / "payloads"
WEB = "https://go.xero.com"


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text("utf-8"), parse_float=Decimal)


@pytest.fixture(scope="module")
def demo_invoices() -> dict[str, dict[str, Any]]:
    body = load("invoices_get_page1_demo_company_nz.json")
    return {i["InvoiceNumber"] or i["InvoiceID"]: i for i in body["Invoices"]}


def test_partly_paid_invoice_chases_amount_due(demo_invoices) -> None:
    inv = mapping.invoice(demo_invoices["INV-0027"], home_currency="NZD", web_base=WEB)
    assert inv is not None
    # Total 850.00, one payment of 579.37: 850.00 - 579.37 = 270.63 still due
    assert inv.total == Decimal("850.00")
    assert inv.amount_due == Decimal("270.63")
    assert inv.home_amount_due == Decimal("270.63")
    assert inv.status is InvoiceStatus.OPEN
    assert inv.issue_date == date(2020, 3, 5)
    assert inv.due_date == date(2020, 3, 15)
    assert inv.customer_id == "342a5560-dbb7-408f-835b-d93d49511d6d"
    assert inv.last_modified == datetime(2010, 11, 29, 16, 5, 54, 640000, tzinfo=UTC)
    assert inv.url == (
        "https://go.xero.com/AccountsReceivable/View.aspx"
        "?InvoiceID=9019678b-0f43-484a-8c5d-93dc36b27e13"
    )
    assert inv.version is None


def test_paid_invoice_keeps_its_paid_date(demo_invoices) -> None:
    inv = mapping.invoice(demo_invoices["INV-0010"], home_currency="NZD", web_base=WEB)
    assert inv is not None
    assert inv.status is InvoiceStatus.PAID
    assert inv.amount_due == Decimal("0.00")
    assert inv.paid_on == date(2020, 1, 3)  # FullyPaidOnDate /Date(1578009600000)/


def test_demo_page_keeps_only_approved_sales_invoices(demo_invoices) -> None:
    kept = [
        mapping.invoice(obj, home_currency="NZD", web_base=WEB)
        for obj in demo_invoices.values()
    ]
    statuses = sorted(i.status for i in kept if i is not None)
    # 38 ACCREC on the page: 27 PAID, 9 AUTHORISED, 2 DRAFT (skipped); 41 ACCPAY skipped
    assert len(statuses) == 36
    assert statuses.count(InvoiceStatus.PAID) == 27
    assert statuses.count(InvoiceStatus.OPEN) == 9


def test_draft_and_submitted_are_not_receivables() -> None:
    for status in ("DRAFT", "SUBMITTED"):
        obj = _invoice(Status=status)
        assert mapping.invoice(obj, home_currency="NZD", web_base=WEB) is None


def test_bills_are_skipped() -> None:
    obj = _invoice(Type="ACCPAY")
    assert mapping.invoice(obj, home_currency="NZD", web_base=WEB) is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [("VOIDED", InvoiceStatus.VOIDED), ("DELETED", InvoiceStatus.DELETED)],
)
def test_voided_and_deleted_map_to_their_status(status, expected) -> None:
    inv = mapping.invoice(_invoice(Status=status), home_currency="NZD", web_base=WEB)
    assert inv is not None and inv.status is expected


def test_unknown_status_is_a_mapping_error() -> None:
    with pytest.raises(mapping.MappingError):
        mapping.invoice(_invoice(Status="ARCHIVED"), home_currency="NZD", web_base=WEB)


def test_foreign_invoice_home_amount_divides_by_xero_rate() -> None:
    # C18 Xero: NZD org, AUD invoice, CurrencyRate 0.9212 AUD per NZD, 1500.00 due:
    # 1500.00 / 0.9212 = 1628.3108...; half-up to cents = 1628.31 NZD
    obj = _invoice(CurrencyCode="AUD", CurrencyRate=Decimal("0.9212"))
    obj["AmountDue"] = Decimal("1500.00")
    inv = mapping.invoice(obj, home_currency="NZD", web_base=WEB)
    assert inv is not None
    assert inv.currency == "AUD"
    assert inv.amount_due == Decimal("1500.00")
    assert inv.home_amount_due == Decimal("1628.31")
    # 1 / 0.9212 = 1.0855405992... NZD per AUD
    assert inv.exchange_rate == Decimal("1.0855405992")


def test_home_amount_rounds_half_up() -> None:
    # 1.00 / 0.8 = 1.25 exactly; 0.01 / 0.4 = 0.025 -> 0.03 (half-up, not banker's)
    assert mapping.home_amount(Decimal("0.01"), Decimal("0.4"), "NZD") == Decimal(
        "0.03"
    )


def test_c06_out_of_range_due_dates_map_without_error() -> None:
    case = json.loads(_CASE_C06)
    due = {}
    for raw in case:
        obj = json.loads(json.dumps(raw), parse_float=Decimal)
        inv = mapping.invoice(obj, home_currency="NZD", web_base=WEB)
        assert inv is not None
        due[inv.number] = inv.due_date
        assert inv.amount_due == Decimal("410.00")
    assert due == {
        "INV-0031": date(1967, 6, 20),
        "INV-0032": date(1970, 1, 1),
        "INV-0033": date(2025, 3, 20),
    }


def test_float_money_is_refused() -> None:
    obj = _invoice()
    obj["AmountDue"] = 10.5
    with pytest.raises(TypeError):
        mapping.invoice(obj, home_currency="NZD", web_base=WEB)


def test_c29_contact_without_any_email_has_none() -> None:
    customer = mapping.customer(
        {
            "ContactID": "c1",
            "Name": "Tui Landscaping Ltd",
            "EmailAddress": "",
            "ContactPersons": [],
        }
    )
    assert customer.emails == ()


def test_c29_email_is_trimmed() -> None:
    customer = mapping.customer(
        {
            "ContactID": "c4",
            "Name": "Tuatara Tiling",
            "EmailAddress": "  ap@tuatara.example ",
        }
    )
    assert customer.emails == ("ap@tuatara.example",)


def test_contact_people_emails_follow_the_main_one_without_repeats() -> None:
    customer = mapping.customer(
        {
            "ContactID": "c5",
            "Name": "Kea Kitchens",
            "EmailAddress": "accounts@kea.example",
            "ContactPersons": [
                {"FirstName": "Ana", "EmailAddress": "ana@kea.example"},
                {"FirstName": "Bo", "EmailAddress": " ACCOUNTS@kea.example"},
                {
                    "FirstName": "Cy",
                    "EmailAddress": "cy@kea.example",
                    "IncludeInEmails": True,
                },
            ],
        }
    )
    assert customer.emails == (
        "accounts@kea.example",
        "cy@kea.example",
        "ana@kea.example",
    )


def test_contact_phones_addresses_and_groups() -> None:
    customer = mapping.customer(
        {
            "ContactID": "c6",
            "Name": "Pukeko Plumbing",
            "FirstName": "Mere",
            "LastName": "Tane",
            "ContactStatus": "ACTIVE",
            "Phones": [
                {"PhoneType": "FAX", "PhoneNumber": "999"},
                {
                    "PhoneType": "MOBILE",
                    "PhoneNumber": "21 555 0100",
                    "PhoneCountryCode": "64",
                },
                {
                    "PhoneType": "DEFAULT",
                    "PhoneNumber": "555 0199",
                    "PhoneAreaCode": "09",
                },
                {"PhoneType": "DDI", "PhoneNumber": ""},
            ],
            "Addresses": [
                {
                    "AddressType": "STREET",
                    "AddressLine1": "1 Queen St",
                    "City": "Auckland",
                },
                {
                    "AddressType": "POBOX",
                    "AddressLine1": "PO Box 12",
                    "AddressLine2": " ",
                    "City": "Wellington",
                    "PostalCode": "6011",
                    "Country": "New Zealand",
                },
            ],
            "ContactGroups": [
                {"Name": "Trade", "Status": "ACTIVE"},
                {"Name": "Old", "Status": "DELETED"},
            ],
            "UpdatedDateUTC": "/Date(1742428800000+0000)/",
        }
    )
    assert customer.contact_name == "Mere Tane"
    assert customer.phones == ("09 555 0199", "+64 21 555 0100")
    assert customer.address is not None
    assert customer.address.lines == ("PO Box 12",)
    assert customer.address.city == "Wellington"
    assert customer.address.postal_code == "6011"
    assert customer.address.country == "NZ"
    assert customer.tags == ("Trade",)
    assert customer.active is True


def test_archived_contact_is_inactive() -> None:
    customer = mapping.customer(
        {"ContactID": "c7", "Name": "X", "ContactStatus": "ARCHIVED"}
    )
    assert customer.active is False


def test_payment_on_sales_invoice() -> None:
    obj = {
        "PaymentID": "p1",
        "Date": "/Date(1583798400000+0000)/",
        "Amount": Decimal("579.37"),
        "PaymentType": "ACCRECPAYMENT",
        "Status": "AUTHORISED",
        "Invoice": {
            "InvoiceID": "i1",
            "Type": "ACCREC",
            "CurrencyCode": "NZD",
            "Contact": {"ContactID": "c1"},
        },
    }
    payment = mapping.payment(obj, home_currency="NZD")
    assert payment is not None
    assert payment.date == date(2020, 3, 10)
    assert payment.applied == (Application("i1", Decimal("579.37")),)
    assert payment.unapplied == Decimal("0")
    assert payment.customer_id == "c1"
    assert payment.deleted is False
    bill_payment = dict(obj, PaymentType="ACCPAYPAYMENT")
    assert mapping.payment(bill_payment, home_currency="NZD") is None
    deleted = mapping.payment(dict(obj, Status="DELETED"), home_currency="NZD")
    assert deleted is not None and deleted.deleted is True


def test_overpayment_remaining_credit_is_unapplied() -> None:
    obj = {
        "Type": "RECEIVE-OVERPAYMENT",
        "OverpaymentID": "o1",
        "Contact": {"ContactID": "c1"},
        "Date": "/Date(1742428800000+0000)/",
        "Status": "AUTHORISED",
        "CurrencyCode": "NZD",
        "Total": Decimal("200.00"),
        "RemainingCredit": Decimal("150.00"),
        "Allocations": [{"Invoice": {"InvoiceID": "i9"}, "Amount": Decimal("50.00")}],
    }
    paid = mapping.prepaid(obj, kind=PaymentKind.OVERPAYMENT, home_currency="NZD")
    assert paid is not None
    assert paid.kind is PaymentKind.OVERPAYMENT
    assert paid.amount == Decimal("200.00")
    assert paid.unapplied == Decimal("150.00")
    assert paid.applied == (Application("i9", Decimal("50.00")),)
    spend = dict(obj, Type="SPEND-OVERPAYMENT")
    assert (
        mapping.prepaid(spend, kind=PaymentKind.OVERPAYMENT, home_currency="NZD")
        is None
    )


def test_sales_credit_note_remaining_credit() -> None:
    obj = {
        "Type": "ACCRECCREDIT",
        "CreditNoteID": "cn1",
        "CreditNoteNumber": "CN-0025",
        "Contact": {"ContactID": "c1"},
        "Date": "/Date(1580515200000+0000)/",
        "Status": "AUTHORISED",
        "CurrencyCode": "NZD",
        "Total": Decimal("541.25"),
        "RemainingCredit": Decimal("41.25"),
        "Allocations": [
            {"Invoice": {"InvoiceID": "i1"}, "Amount": Decimal("500.00")},
        ],
    }
    credit = mapping.credit(obj, home_currency="NZD")
    assert credit is not None
    assert credit.remaining == Decimal("41.25")
    assert credit.total == Decimal("541.25")
    assert credit.date == date(2020, 2, 1)
    assert credit.number == "CN-0025"
    assert mapping.credit(dict(obj, Type="ACCPAYCREDIT"), home_currency="NZD") is None
    voided = mapping.credit(dict(obj, Status="VOIDED"), home_currency="NZD")
    assert voided is not None and voided.deleted is True


def _invoice(**changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "Type": "ACCREC",
        "InvoiceID": "a0000000-0000-4000-8000-000000000001",
        "InvoiceNumber": "INV-0001",
        "Contact": {"ContactID": "c1", "Name": "Kiwi Ltd"},
        "Date": "/Date(1740787200000+0000)/",
        "DueDate": "/Date(1742428800000+0000)/",
        "Status": "AUTHORISED",
        "CurrencyCode": "NZD",
        "CurrencyRate": Decimal("1.000000"),
        "Total": Decimal("100.00"),
        "AmountDue": Decimal("100.00"),
    }
    obj.update(changes)
    return obj


_CASE_C06 = """[
 {"InvoiceNumber": "INV-0031", "InvoiceID": "a0000000-0000-4000-8000-000000000031",
  "Status": "AUTHORISED", "Type": "ACCREC", "DueDate": "/Date(-80006400000+0000)/",
  "AmountDue": 410.0, "Contact": {"Name": "Pemberton Glass Works"}},
 {"InvoiceNumber": "INV-0032", "InvoiceID": "a0000000-0000-4000-8000-000000000032",
  "Status": "AUTHORISED", "Type": "ACCREC", "DueDate": "/Date(0+0000)/",
  "AmountDue": 410.0, "Contact": {"Name": "Pemberton Glass Works"}},
 {"InvoiceNumber": "INV-0033", "InvoiceID": "a0000000-0000-4000-8000-000000000033",
  "Status": "AUTHORISED", "Type": "ACCREC", "DueDate": "/Date(1742428800000+0000)/",
  "AmountDue": 410.0, "Contact": {"Name": "Pemberton Glass Works"}}
]"""
