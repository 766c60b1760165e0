"""The company generator: deterministic, ledger-shaped, hard cases present, books
that add up."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.money import quantize
from connectors.records import InvoiceStatus, Ledger, PaymentKind
from connectors.sandbox.generator import GeneratedBooks, generate

TODAY = date(2025, 5, 1)
UUID4 = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)

# The names the public bug reports turned into cases C07, C29 and C30.
HARD_NAMES = {
    "O'Brien Haulage",
    "Maeve O'Brien's Bakery & Cafe",
    "Brien Street Motors",
    "Nguyễn Thị Hương – Công ty TNHH Đông Á",
    "Zoë Ørsted-Łukasiewicz",
    "株式会社さくら商事",
    "Māori Arts Collective Ōtautahi",
    "Tui Landscaping Ltd",
    "Harlow & Finch Dental",
    "Brightwater Kiosk",
}


def _books(ledger: Ledger, **kw: object) -> GeneratedBooks:
    args: dict[str, object] = {"seed": 5, "invoices": 50, "today": TODAY}
    args.update(kw)
    return generate(ledger=ledger, **args)  # type: ignore[arg-type]


def _days_late(due: date | None) -> int:
    assert due is not None
    return (TODAY - due).days


# --- determinism and ids -------------------------------------------------------


@pytest.mark.parametrize("ledger", list(Ledger))
def test_same_seed_gives_identical_books(ledger: Ledger) -> None:
    first = _books(ledger, seed=11, invoices=400)
    again = _books(ledger, seed=11, invoices=400)
    assert first == again


def test_books_are_the_same_in_another_process_with_another_hash_seed() -> None:
    # Set iteration order changes with PYTHONHASHSEED; the books must not.
    code = (
        "from datetime import date; from connectors.records import Ledger;"
        "from connectors.sandbox.generator import generate;"
        "b = generate(seed=9, invoices=300, today=date(2025, 5, 1),"
        " ledger=Ledger.XERO);"
        "print(repr((b.company, b.customers, b.invoices, b.payments, b.credits,"
        " sorted(b.disputed))))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    b = _books(Ledger.XERO, seed=9, invoices=300)
    here = (
        b.company,
        b.customers,
        b.invoices,
        b.payments,
        b.credits,
        sorted(b.disputed),
    )
    assert out == repr(here)


def test_another_seed_gives_other_books() -> None:
    one = _books(Ledger.XERO, seed=1)
    two = _books(Ledger.XERO, seed=2)
    assert one.company.id != two.company.id
    assert [i.total for i in one.invoices] != [i.total for i in two.invoices]


def test_quickbooks_ids_count_from_one_per_entity() -> None:
    books = _books(Ledger.QUICKBOOKS, invoices=120)
    for records in (books.customers, books.invoices, books.payments, books.credits):
        assert [r.ledger_id for r in records] == [
            str(n) for n in range(1, len(records) + 1)
        ]
    assert re.fullmatch(r"\d{16}", books.company.id)


def test_quickbooks_numbers_invoices_from_1001() -> None:
    books = _books(Ledger.QUICKBOOKS, invoices=120)
    assert [i.number for i in books.invoices[:3]] == ["1001", "1002", "1003"]
    assert books.invoices[-1].number == "1120"
    assert all(i.version is not None for i in books.invoices)


def test_quickbooks_ids_and_numbers_overlap_past_a_thousand_invoices() -> None:
    # Case C33: invoice Id "1043" is not the invoice printed "1043" (that is Id 43).
    books = _books(Ledger.QUICKBOOKS, invoices=1100)
    by_number = {i.number: i for i in books.invoices}
    by_id = {i.ledger_id: i for i in books.invoices}
    assert by_number["1043"].ledger_id == "43"
    assert by_id["1043"].number == "2043"


def test_xero_ids_are_unique_uuid4s_and_numbers_read_inv_0001() -> None:
    books = _books(Ledger.XERO, invoices=120)
    ids = [books.company.id]
    for records in (books.customers, books.invoices, books.payments, books.credits):
        ids += [r.ledger_id for r in records]
    assert all(UUID4.match(i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert [i.number for i in books.invoices[:2]] == ["INV-0001", "INV-0002"]
    assert books.invoices[-1].number == "INV-0120"
    assert books.credits[0].number == "CN-0001"
    assert all(i.version is None for i in books.invoices)


# --- the hard cases, present at 50 invoices --------------------------------------


@pytest.mark.parametrize("ledger", list(Ledger))
def test_fifty_invoices_hold_every_hard_case(ledger: Ledger) -> None:
    books = _books(ledger)
    invoices = books.invoices
    applied: dict[str, Decimal] = defaultdict(Decimal)
    for doc in [*books.payments, *books.credits]:
        for app in doc.applied:
            applied[app.invoice_id] += app.amount

    open_ = [i for i in invoices if i.status is InvoiceStatus.OPEN]
    assert any(0 < applied[i.ledger_id] < i.total for i in open_), "partial payment"
    assert any(c.applied for c in books.credits), "applied credit note"
    assert any(c.remaining > 0 and not c.applied for c in books.credits)
    assert any(c.remaining > 0 and c.applied for c in books.credits)
    kinds = {(p.kind, p.unapplied > 0) for p in books.payments}
    assert (PaymentKind.OVERPAYMENT, True) in kinds
    assert (PaymentKind.PREPAYMENT, True) in kinds
    assert any(len(p.applied) == 2 for p in books.payments), "one payment, two bills"
    statuses = {i.status for i in invoices}
    assert statuses == set(InvoiceStatus)
    assert any(i.currency != books.company.home_currency for i in open_)
    assert books.company.multi_currency
    assert any(c.balance is not None and c.balance < 0 for c in books.customers), (
        "unapplied money larger than what the customer owes (case C17)"
    )
    assert books.disputed


@pytest.mark.parametrize("ledger", list(Ledger))
def test_fifty_invoices_hold_the_hard_customers(ledger: Ledger) -> None:
    books = _books(ledger)
    by_name = {c.name: c for c in books.customers}
    assert HARD_NAMES <= set(by_name)
    assert by_name["Tui Landscaping Ltd"].emails == ()
    assert by_name["Harlow & Finch Dental"].emails == ()
    assert by_name["Brightwater Kiosk"].emails == (
        "accounts@brightwater.example",
        "owner@brightwater.example",
    )
    # Every hard customer has an invoice 45 days late to be chased.
    late = {i.customer_id for i in books.invoices if _days_late(i.due_date) == 45}
    assert {by_name[n].ledger_id for n in HARD_NAMES} <= late
    assert all(unicodedata.is_normalized("NFC", n) for n in by_name)


@pytest.mark.parametrize("ledger", list(Ledger))
def test_a_prepayment_larger_than_the_only_invoice_is_held_as_in_case_c17(
    ledger: Ledger,
) -> None:
    books = _books(ledger, invoices=3000)
    (customer,) = [c for c in books.customers if c.name == "Delgado-Whitfield Events"]
    (invoice,) = [i for i in books.invoices if i.customer_id == customer.ledger_id]
    (prepaid,) = [p for p in books.payments if p.customer_id == customer.ledger_id]
    # Due 2025-03-02 and checked on 2025-05-01: 60 days, as the case has it.
    assert invoice.due_date == date(2025, 3, 2)
    assert invoice.status is InvoiceStatus.OPEN and invoice.amount_due == invoice.total
    assert prepaid.kind is PaymentKind.PREPAYMENT and not prepaid.applied
    assert prepaid.unapplied > invoice.amount_due
    assert customer.balance == invoice.amount_due - prepaid.unapplied < 0


@pytest.mark.parametrize("ledger", list(Ledger))
def test_a_part_paid_invoice_45_days_late_is_there_as_in_case_c15(
    ledger: Ledger,
) -> None:
    books = _books(ledger)
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for payment in books.payments:
        for app in payment.applied:
            paid[app.invoice_id] += app.amount
    assert any(
        i.status is InvoiceStatus.OPEN
        and _days_late(i.due_date) == 45
        and i.amount_due == i.total - paid[i.ledger_id]
        and 0 < i.amount_due < i.total
        for i in books.invoices
    )


def test_invoices_sit_exactly_on_the_referral_edges() -> None:
    # Worked out by hand from 2025-05-01: 29 -> Apr 2, 30 -> Apr 1, 120 -> Jan 1,
    # 121 -> 2024-12-31.
    books = _books(Ledger.QUICKBOOKS)
    open_dues = {i.due_date for i in books.invoices if i.status is InvoiceStatus.OPEN}
    edges = {date(2025, 4, 2), date(2025, 4, 1), date(2025, 1, 1), date(2024, 12, 31)}
    assert edges <= open_dues


@pytest.mark.parametrize("ledger", list(Ledger))
def test_due_dates_fill_every_aging_bucket(ledger: Ledger) -> None:
    books = _books(ledger)
    buckets = set()
    for inv in books.invoices:
        late = _days_late(inv.due_date)
        bounds = [0, 30, 60, 90, 120]
        buckets.add(sum(late > b for b in bounds))
    assert buckets == {0, 1, 2, 3, 4, 5}


def test_disputed_invoices_are_open_and_overdue() -> None:
    books = _books(Ledger.XERO, invoices=2000)
    by_id = {i.ledger_id: i for i in books.invoices}
    assert len(books.disputed) > 2
    for invoice_id in books.disputed:
        assert by_id[invoice_id].status is InvoiceStatus.OPEN
        assert _days_late(by_id[invoice_id].due_date) > 0


def test_smaller_books_keep_the_first_hard_cases_in_order() -> None:
    books = _books(Ledger.QUICKBOOKS, invoices=3)
    assert len(books.invoices) == 3
    names = {c.ledger_id: c.name for c in books.customers}
    assert [names[i.customer_id] for i in books.invoices] == [
        "O'Brien Haulage",
        "Nguyễn Thị Hương – Công ty TNHH Đông Á",
        "Zoë Ørsted-Łukasiewicz",
    ]


def test_payment_terms_are_standard() -> None:
    books = _books(Ledger.QUICKBOOKS, invoices=1000)
    terms = {(i.due_date - i.issue_date).days for i in books.invoices}  # type: ignore[operator]
    assert terms == {0, 15, 30, 60}


# --- money, currencies, contacts --------------------------------------------------


def test_foreign_invoices_carry_a_rate_and_a_home_amount_rounded_half_up() -> None:
    books = _books(Ledger.QUICKBOOKS, invoices=1500, home_currency="NZD")
    foreign = [i for i in books.invoices if i.currency != "NZD"]
    assert {i.currency for i in foreign} >= {"JPY", "EUR"}
    for inv in foreign:
        assert inv.exchange_rate is not None and inv.exchange_rate > 0
        expected = quantize(inv.amount_due * inv.exchange_rate, "NZD")
        assert inv.home_amount_due == expected
    for inv in books.invoices:
        if inv.currency == "NZD":
            assert inv.exchange_rate is None
            assert inv.home_amount_due == inv.amount_due


def test_amounts_use_the_currencys_minor_unit() -> None:
    books = _books(Ledger.XERO, invoices=1500, home_currency="NZD")
    yen = [i for i in books.invoices if i.currency == "JPY"]
    cents = [i for i in books.invoices if i.currency == "NZD"]
    assert yen and cents
    assert all(i.total.as_tuple().exponent == 0 for i in yen)
    assert all(i.total.as_tuple().exponent == -2 for i in cents)


def test_customers_live_in_several_countries_and_zones() -> None:
    books = _books(Ledger.XERO, invoices=600)
    countries = {c.address.country for c in books.customers if c.address}
    assert {"US", "GB", "NZ", "AU", "CA", "DE", "PL", "VN", "JP"} <= countries


def test_customer_names_are_unique_as_both_ledgers_require() -> None:
    books = _books(Ledger.QUICKBOOKS, invoices=20_000)
    names = [c.name for c in books.customers]
    assert len(set(names)) == len(names)


def test_every_customer_has_a_known_iana_zone() -> None:
    books = _books(Ledger.XERO, invoices=600)
    zones = books.customer_timezones
    assert set(zones) == {c.ledger_id for c in books.customers}
    assert len(set(zones.values())) > 8
    for zone in set(zones.values()):
        ZoneInfo(zone)


def test_phones_are_valid_for_their_country_in_e164() -> None:
    books = _books(Ledger.QUICKBOOKS, invoices=600)
    checked = 0
    for customer in books.customers:
        for number in customer.phones:
            parsed = phonenumbers.parse(number, None)
            assert phonenumbers.is_valid_number(parsed), (customer.name, number)
            assert customer.address is not None
            region = phonenumbers.region_code_for_number(parsed)
            # +1 numbers belong to the NANP: a Canadian number may read as US.
            assert region == customer.address.country or parsed.country_code == 1
            checked += 1
    assert checked > 50


def test_emails_are_clean_and_on_example_domains() -> None:
    books = _books(Ledger.XERO, invoices=600)
    emails = [e for c in books.customers for e in c.emails]
    assert emails
    assert all(re.fullmatch(r"[a-z0-9.]+@[a-z0-9-]+\.example", e) for e in emails)
    assert any(not c.emails for c in books.customers)
    assert any(len(c.emails) > 1 for c in books.customers)


# --- the company ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ledger", "currency", "zone", "country"),
    [
        (Ledger.QUICKBOOKS, "USD", "America/Los_Angeles", "US"),
        (Ledger.XERO, "USD", "America/New_York", "US"),
        (Ledger.XERO, "NZD", "Pacific/Auckland", "NZ"),
        (Ledger.QUICKBOOKS, "GBP", "Europe/London", "GB"),
        (Ledger.XERO, "aud", "Australia/Sydney", "AU"),
    ],
)
def test_company_zone_defaults_by_ledger_and_country(
    ledger: Ledger, currency: str, zone: str, country: str
) -> None:
    company = _books(ledger, home_currency=currency).company
    assert (company.timezone, company.country) == (zone, country)
    assert company.home_currency == currency.upper()
    assert company.ledger is ledger


def test_a_named_timezone_is_kept() -> None:
    books = _books(Ledger.XERO, home_currency="NZD", timezone="Pacific/Chatham")
    assert books.company.timezone == "Pacific/Chatham"


def test_home_currency_books_without_foreign_customers_are_not_multi_currency() -> None:
    # The first foreign customer (株式会社さくら商事, in yen) gets the fourth invoice.
    books = _books(Ledger.QUICKBOOKS, invoices=3)
    assert all(i.currency == "USD" for i in books.invoices)
    assert not books.company.multi_currency


@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        ({"invoices": -1}, ValueError, "invoices must be"),
        ({"invoices": 2.5}, ValueError, "invoices must be"),
        ({"home_currency": "XYZ"}, ValueError, "home_currency 'XYZ'"),
        ({"timezone": "Mars/Olympus"}, ValueError, "not an IANA zone"),
        ({"today": "2025-05-01"}, TypeError, "today must be a date"),
        ({"ledger": "xero"}, TypeError, "ledger must be"),
        ({"seed": 1.5}, TypeError, "seed must be an int"),
    ],
)
def test_bad_arguments_are_clear_errors(
    kw: dict[str, object], error: type[Exception], message: str
) -> None:
    args: dict[str, object] = {
        "seed": 1,
        "invoices": 10,
        "today": TODAY,
        "ledger": Ledger.XERO,
    }
    args.update(kw)
    with pytest.raises(error, match=re.escape(message)):
        generate(**args)  # type: ignore[arg-type]


# --- invariants, over seeds and sizes -----------------------------------------------


def check_invariants(books: GeneratedBooks, today: date) -> None:
    """The books add up the way a ledger's do."""
    invoices = {i.ledger_id: i for i in books.invoices}
    customers = {c.ledger_id: c for c in books.customers}
    assert len(invoices) == len(books.invoices)
    assert len(customers) == len(books.customers)
    applied: dict[str, Decimal] = defaultdict(Decimal)
    unapplied: dict[str, Decimal] = defaultdict(Decimal)

    for doc in books.payments:
        assert doc.amount == sum((a.amount for a in doc.applied), doc.unapplied)
        assert doc.amount > 0 and doc.unapplied >= 0
        unapplied[doc.customer_id] += doc.unapplied
    for note in books.credits:
        assert note.total == sum((a.amount for a in note.applied), note.remaining)
        assert note.total > 0 and note.remaining >= 0
        unapplied[note.customer_id] += note.remaining
    for doc in [*books.payments, *books.credits]:
        customer = customers[doc.customer_id]
        assert doc.currency == customer.currency
        assert doc.date <= today
        for app in doc.applied:
            target = invoices[app.invoice_id]
            assert target.customer_id == doc.customer_id
            assert app.amount > 0
            applied[app.invoice_id] += app.amount

    owed: dict[str, Decimal] = defaultdict(Decimal)
    for inv in books.invoices:
        assert inv.customer_id in customers
        assert inv.currency == customers[inv.customer_id].currency
        assert inv.amount_due >= 0
        assert inv.issue_date is not None and inv.due_date is not None
        assert inv.issue_date <= inv.due_date and inv.issue_date < today
        assert inv.amount_due == quantize(inv.amount_due, inv.currency)
        assert inv.total == quantize(inv.total, inv.currency)
        gone = inv.status in (InvoiceStatus.VOIDED, InvoiceStatus.DELETED)
        if gone:
            # A voided or deleted invoice owes nothing and holds no money. QuickBooks
            # zeroes a voided TotalAmt; Xero keeps Total with AmountDue 0.
            assert inv.amount_due == 0 and applied[inv.ledger_id] == 0
            assert inv.paid_on is None
            if (
                inv.status is InvoiceStatus.VOIDED
                and books.company.ledger is Ledger.QUICKBOOKS
            ):
                assert inv.total == 0
            continue
        assert inv.amount_due == inv.total - applied[inv.ledger_id]
        assert (inv.status is InvoiceStatus.PAID) == (inv.amount_due == 0)
        assert (inv.paid_on is not None) == (inv.status is InvoiceStatus.PAID)
        if inv.status is InvoiceStatus.OPEN:
            owed[inv.customer_id] += inv.amount_due
        assert inv.last_modified is not None and inv.last_modified.tzinfo is UTC

    # Every record was written before today began in the company's zone, and after
    # its customer was set up.
    midnight = datetime.combine(today, time(0), tzinfo=ZoneInfo(books.company.timezone))
    created = {c.ledger_id: c.created for c in books.customers}
    for record in [*books.invoices, *books.payments, *books.credits]:
        assert record.last_modified is not None and record.last_modified < midnight
        assert created[record.customer_id] <= record.last_modified  # type: ignore[operator]

    for customer in books.customers:
        expected = owed[customer.ledger_id] - unapplied[customer.ledger_id]
        assert customer.balance == quantize(expected, customer.currency or "USD")
        if not customer.active:
            assert customer.balance == 0
    assert books.disputed <= set(invoices)
    home = books.company.home_currency
    assert books.company.multi_currency == any(
        i.currency != home for i in invoices.values()
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=2**63),
    size=st.integers(min_value=0, max_value=400),
    ledger=st.sampled_from(list(Ledger)),
    home=st.sampled_from(["USD", "NZD", "GBP", "JPY", "EUR", "VND"]),
    today_offset=st.integers(min_value=-800, max_value=800),
    zone=st.sampled_from(
        [None, "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu"]
    ),
)
def test_books_add_up_for_any_seed_and_size(
    seed: int,
    size: int,
    ledger: Ledger,
    home: str,
    today_offset: int,
    zone: str | None,
) -> None:
    today = TODAY + timedelta(days=today_offset)
    books = generate(
        seed=seed,
        invoices=size,
        today=today,
        ledger=ledger,
        home_currency=home,
        timezone=zone,
    )
    assert len(books.invoices) == size
    check_invariants(books, today)


@pytest.mark.parametrize("ledger", list(Ledger))
def test_large_books_add_up(ledger: Ledger) -> None:
    books = _books(ledger, seed=2025, invoices=5000, home_currency="AUD")
    check_invariants(books, TODAY)
