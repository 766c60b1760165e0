"""QBO JSON to records, on recorded bodies shaped like Intuit's API explorer samples."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.quickbooks import mapping
from connectors.records import Application, InvoiceStatus

DATA = Path(__file__).parent / "data"
WEB = "https://app.qbo.intuit.com"


def body(name: str) -> dict:
    # python-quickbooks parses with use_decimal=True: numbers arrive as Decimals.
    return json.loads((DATA / name).read_text(), parse_float=Decimal)


def test_foreign_invoice_keeps_document_and_home_amounts_apart():
    record = mapping.invoice(body("invoice_foreign_open.json")["Invoice"], "USD", WEB)
    assert record.currency == "EUR"
    assert record.amount_due == Decimal("2000.00")
    assert record.home_amount_due == Decimal("2170.00")
    assert record.exchange_rate == Decimal("1.085")
    assert record.status is InvoiceStatus.OPEN
    assert record.number == "1043" and record.ledger_id == "2044"
    assert record.url == "https://app.qbo.intuit.com/app/invoice?txnId=2044"
    assert record.due_date == date(2025, 3, 20)
    assert record.version == "2"


def test_home_amount_is_balance_times_rate_when_home_balance_is_missing():
    raw = body("invoice_foreign_open.json")["Invoice"]
    del raw["HomeBalance"]
    raw["Balance"] = Decimal("1234.57")
    record = mapping.invoice(raw, "USD", WEB)
    # 1234.57 x 1.085 = 1339.50845, half-up to cents.
    assert record.home_amount_due == Decimal("1339.51")


def test_last_modified_is_converted_from_the_company_offset_to_utc():
    record = mapping.invoice(body("invoice_foreign_open.json")["Invoice"], "USD", WEB)
    assert record.last_modified == datetime(2025, 3, 2, 0, 30, 5, tzinfo=UTC)


def test_voided_invoice_is_voided_not_paid():
    record = mapping.invoice(body("invoice_voided.json")["Invoice"], "USD", WEB)
    assert record.status is InvoiceStatus.VOIDED
    assert record.amount_due == Decimal("0.00")
    assert record.exchange_rate == Decimal(1)


def test_zero_balance_without_void_note_is_paid():
    raw = body("invoice_partly_paid.json")["Invoice"]
    raw["Balance"] = Decimal(0)
    assert mapping.invoice(raw, "USD", WEB).status is InvoiceStatus.PAID


def test_partly_paid_invoice_chases_the_balance_not_the_total():
    record = mapping.invoice(body("invoice_partly_paid.json")["Invoice"], "USD", WEB)
    assert record.total == Decimal("1200.00")
    assert record.amount_due == Decimal("450.00")
    assert record.home_amount_due == Decimal("450.00")
    assert record.status is InvoiceStatus.OPEN


def test_customer_emails_are_split_on_commas_and_trimmed():
    record = mapping.customer(body("customer_two_emails.json")["Customer"])
    assert record.emails == (
        "accounts@brightwater.example",
        "owner@brightwater.example",
    )
    assert record.phones == ("(415) 555-0142", "(415) 555-0199")
    assert record.contact_name == "Ana Okafor"
    assert record.balance == Decimal("-400.00")
    assert record.address is not None
    assert record.address.lines == ("12 Pier Road",)
    assert record.address.country == "US"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  ap@tuatara.example ", ("ap@tuatara.example",)),
        ("a@x.example;b@x.example", ("a@x.example", "b@x.example")),
        ("a@x.example, A@x.example,,", ("a@x.example",)),
        ("", ()),
        (None, ()),
    ],
)
def test_clean_emails(raw, expected):
    assert mapping.clean_emails(raw) == expected


def test_unapplied_payment_shows_its_unapplied_amount():
    record = mapping.payment(body("payment_unapplied.json")["Payment"], "USD")
    assert record.unapplied == Decimal("500.00")
    assert record.applied == ()
    assert record.amount == Decimal("500.00")


def test_payment_applications_list_invoices_only():
    raw = body("payment_split.json")["Payment"]
    record = mapping.payment(raw, "USD")
    assert record.applied == (
        Application("1501", Decimal("750.00")),
        Application("1502", Decimal("40.00")),
    )
    assert mapping.credit_applications(raw, "USD") == (
        Application("31", Decimal("15.00")),
    )


def test_credit_memo_remaining_is_remaining_credit():
    record = mapping.credit(body("creditmemo.json")["CreditMemo"], "USD")
    assert record.total == Decimal("60.00")
    assert record.remaining == Decimal("45.00")
    assert record.number == "CM-31"


def test_company_reads_home_currency_and_falls_back_to_the_country_zone():
    raw = body("company.json")
    company = mapping.company(
        "9130354426181920", raw["CompanyInfo"], raw["Preferences"]
    )
    assert company.home_currency == "NZD"
    assert company.multi_currency is True
    assert company.country == "NZ"
    assert company.timezone == "Pacific/Auckland"
    assert company.name == "Harbour Lights Catering"


def test_company_zone_given_by_the_creditor_wins():
    raw = body("company.json")
    company = mapping.company("1", raw["CompanyInfo"], raw["Preferences"], "Asia/Tokyo")
    assert company.timezone == "Asia/Tokyo"


def test_cdc_tombstone_becomes_a_deletion():
    tomb = {"domain": "QBO", "status": "Deleted", "Id": "312", "MetaData": {}}
    assert mapping.deletion("Invoice", tomb) == mapping.Deletion("invoice", "312")
    assert mapping.invoice_status(tomb, Decimal(0)) is InvoiceStatus.DELETED


def test_amounts_round_half_up_to_the_minor_unit():
    assert mapping.amount(Decimal("10.005"), "USD") == Decimal("10.01")
    assert mapping.amount(Decimal("1500.5"), "JPY") == Decimal("1501")
    assert mapping.amount(0.1, "USD") == Decimal("0.10")


def test_invoice_without_customer_is_a_clear_error():
    raw = body("invoice_partly_paid.json")["Invoice"]
    del raw["CustomerRef"]
    with pytest.raises(mapping.MappingError, match="no CustomerRef"):
        mapping.invoice(raw, "USD", WEB)


def test_timestamp_without_offset_is_refused():
    with pytest.raises(mapping.MappingError, match="without an offset"):
        mapping.instant("2025-01-01T10:00:00")
