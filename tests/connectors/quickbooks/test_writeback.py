"""Write-back against the sandbox: notes (C09), fee bills, payments (C18, C33)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors.base import FeeBill, FixError, StaleError
from connectors.quickbooks.errors import QuickBooksNotFoundError
from connectors.records import InvoiceStatus
from tests.connectors.quickbooks import factories as f


def posts(env, segment):
    return [
        e
        for e in env.sandbox.log.entries()
        if e.method == "POST" and e.path.endswith(f"/{segment}")
    ]


def reads(env, segment, object_id):
    return [
        e
        for e in env.sandbox.log.entries()
        if e.path.endswith(f"/{segment}/{object_id}")
    ]


def spy_writes(connector):
    bodies: list[dict] = []
    write = connector.client.write

    def recording(entity, body, request_id=None):
        bodies.append(dict(body))
        return write(entity, body, request_id)

    connector.client.write = recording
    return bodies


def freight_edit(env, invoice_id):
    """A bookkeeper adds a 60.00 freight line in the QBO screens."""
    current = env.sandbox.get(env.realm, "Invoice", invoice_id)
    lines = [
        ln for ln in current["Line"] if ln.get("DetailType") != "SubTotalLineDetail"
    ]
    freight = {"Amount": Decimal("60.00"), "DetailType": "SalesItemLineDetail"}
    env.sandbox.write(
        env.realm,
        "Invoice",
        {
            "Id": invoice_id,
            "SyncToken": current["SyncToken"],
            "sparse": True,
            "Line": [*lines, {**freight, "Description": "Freight"}],
        },
    )


@pytest.fixture
def c09(env):
    env.load(
        Customer=[f.customer(1, "Cool Cars")],
        Invoice=[
            f.invoice(
                1042, 1, "1250.00", SyncToken="3", PrivateNote="Call Sam before 5pm"
            )
        ],
    )
    return env


def test_note_is_a_sparse_update_that_keeps_the_bookkeepers_text(c09):
    connector = c09.connector()
    bodies = spy_writes(connector)
    result = connector.write_note("1042", "C-7781-referred", "Referred 2025-05-01")
    assert result.created and result.ledger_id == "1042"
    stored = c09.sandbox.get(c09.realm, "Invoice", "1042")
    assert stored["PrivateNote"] == (
        "Call Sam before 5pm\n[CARE:C-7781-referred] Referred 2025-05-01"
    )
    assert set(bodies[0]) == {"Id", "SyncToken", "sparse", "PrivateNote"}
    assert stored["TotalAmt"] == Decimal("1250.00")


def test_note_written_twice_under_one_key_is_written_once(c09):
    connector = c09.connector()
    connector.write_note("1042", "k1", "Referred")
    again = connector.write_note("1042", "k1", "Referred")
    assert again.created is False
    assert len(posts(c09, "invoice")) == 1
    note = c09.sandbox.get(c09.realm, "Invoice", "1042")["PrivateNote"]
    assert note.count("[CARE:k1]") == 1


def test_stale_sync_token_re_reads_and_resends_only_the_note(c09):
    """C09: the bookkeeper saves between our read and our write; 5010, then retry."""
    connector = c09.connector()
    bodies = spy_writes(connector)
    read = connector.client.read
    edited = []

    def read_then_edit(entity, ledger_id):
        found = read(entity, ledger_id)
        if not edited:
            edited.append(True)
            freight_edit(c09, ledger_id)
        return found

    connector.client.read = read_then_edit
    result = connector.write_note("1042", "C-7781", "Referred 2025-05-01 ref C-7781")

    assert result.created
    assert [e.status for e in posts(c09, "invoice")] == [400, 200]
    assert len(reads(c09, "invoice", "1042")) == 2  # one re-read after the 5010
    assert [b["SyncToken"] for b in bodies] == ["3", "4"]
    assert all("Line" not in b for b in bodies)
    stored = c09.sandbox.get(c09.realm, "Invoice", "1042")
    assert stored["SyncToken"] == "5"
    assert stored["TotalAmt"] == Decimal("1310.00")
    assert any(ln.get("Description") == "Freight" for ln in stored["Line"])
    assert "[CARE:C-7781]" in stored["PrivateNote"]
    assert connector.fresh_read("1042").invoice.amount_due == Decimal("1310.00")


def test_an_invoice_that_keeps_changing_gives_up_after_three_attempts(c09):
    connector = c09.connector()
    read = connector.client.read

    def read_then_edit(entity, ledger_id):
        found = read(entity, ledger_id)
        freight_edit(c09, ledger_id)
        return found

    connector.client.read = read_then_edit
    with pytest.raises(StaleError, match="3 attempts"):
        connector.write_note("1042", "k", "Referred")
    assert [e.status for e in posts(c09, "invoice")] == [400, 400, 400]


def fee(key="CARE-FEE-2025-05-USD", **kw):
    values = {
        "key": key,
        "currency": "USD",
        "amount": Decimal("61.25"),
        "bill_date": date(2025, 5, 31),
        "due_date": date(2025, 6, 14),
        "description": "CARE pre-collections fee, May 2025",
        "lines": (
            ("Fee on invoice 1501 (450.00 collected)", Decimal("11.25")),
            ("Fee on invoice 2044 (2000.00 collected)", Decimal("50.00")),
        ),
    }
    return FeeBill(**(values | kw))


def test_fee_bill_is_payable_to_the_program_vendor_once(env):
    connector = env.connector()
    first = connector.write_fee_bill(fee())
    assert first.created
    bill = env.sandbox.get(env.realm, "Bill", first.ledger_id)
    vendor = env.sandbox.get(env.realm, "Vendor", bill["VendorRef"]["value"])
    assert vendor["DisplayName"] == "CARE Pre-Collections"
    assert bill["DocNumber"] == "CARE-FEE-2025-05-USD"
    assert bill["TotalAmt"] == Decimal("61.25")
    assert [ln["Amount"] for ln in bill["Line"]] == [Decimal("11.25"), Decimal("50.00")]
    account_id = bill["Line"][0]["AccountBasedExpenseLineDetail"]["AccountRef"]["value"]
    account = env.sandbox.get(env.realm, "Account", account_id)
    assert account["Name"] == "Collection fees" and account["AccountType"] == "Expense"

    # A retry from another worker finds it by DocNumber; nothing new is created.
    again = env.connector().write_fee_bill(fee())
    assert again.created is False and again.ledger_id == first.ledger_id
    assert len(posts(env, "bill")) == 1
    assert len(posts(env, "vendor")) == 1
    # The next month's bill reuses the vendor and the account.
    connector.write_fee_bill(fee("CARE-FEE-2025-06-USD"))
    assert len(posts(env, "vendor")) == 1 and len(posts(env, "account")) == 1


def test_fee_bill_lines_must_add_up(env):
    with pytest.raises(FixError, match="add up"):
        env.connector().write_fee_bill(fee(amount=Decimal("61.00")))


@pytest.fixture
def c33(env):
    env.load(
        Customer=[f.customer(64, "Delgado-Whitfield Events"), f.customer(212, "Kiosk")],
        Invoice=[
            f.invoice(1187, 64, "640.00", number="1043"),
            f.invoice(1043, 212, "75.00", number="0977"),
        ],
    )
    return env


def test_payment_links_the_internal_id_not_the_printed_number(c33):
    """C33: the letter said "invoice 1043"; that is Id 1187, not Id 1043."""
    connector = c33.connector()
    [found] = connector.find_invoices("1043")
    assert found.ledger_id == "1187"
    bodies = spy_writes(connector)
    result = connector.write_payment(
        found.ledger_id, "PAY-C33-1", Decimal("640.00"), date(2025, 5, 3)
    )
    assert result.created
    payment = c33.sandbox.get(c33.realm, "Payment", result.ledger_id)
    assert payment["CustomerRef"]["value"] == "64"
    assert payment["TotalAmt"] == Decimal("640.00")
    assert payment["UnappliedAmt"] == Decimal("0.00")
    assert payment["TxnDate"] == "2025-05-03"
    assert payment["Line"][0]["LinkedTxn"] == [{"TxnId": "1187", "TxnType": "Invoice"}]
    assert "ExchangeRate" not in bodies[0]
    assert c33.sandbox.get(c33.realm, "Invoice", "1187")["Balance"] == Decimal("0")
    assert c33.sandbox.get(c33.realm, "Invoice", "1043")["Balance"] == Decimal("75.00")


def test_payment_retried_under_its_key_is_recorded_once(c33):
    connector = c33.connector()
    first = connector.write_payment("1187", "PAY-1", Decimal("40.00"), date(2025, 5, 3))
    again = c33.connector().write_payment(
        "1187", "PAY-1", Decimal("40.00"), date(2025, 5, 3)
    )
    assert again.created is False and again.ledger_id == first.ledger_id
    assert len(posts(c33, "payment")) == 1
    assert c33.sandbox.get(c33.realm, "Invoice", "1187")["Balance"] == Decimal("600.00")


def test_payment_above_the_balance_is_refused(c33):
    """C33 variant: 700.00 against 640.00 is never a silent 60.00 overpayment."""
    with pytest.raises(FixError, match="more than invoice 1187's balance 640.00"):
        c33.connector().write_payment(
            "1187", "PAY-2", Decimal("700.00"), date(2025, 5, 3)
        )
    assert posts(c33, "payment") == []


def test_foreign_payment_uses_the_ledgers_rate_for_the_day(env):
    """C18: EUR 2,000.00 received 2025-05-06 at 1.0920, never at 1."""
    env.load(
        Customer=[f.customer(88, "Brasserie Lindqvist", CurrencyRef={"value": "EUR"})],
        Invoice=[
            f.invoice(
                2044,
                88,
                "2000.00",
                currency="EUR",
                ExchangeRate=Decimal("1.085"),
                HomeTotalAmt=Decimal("2170.00"),
                HomeBalance=Decimal("2170.00"),
            )
        ],
        ExchangeRate=[
            {"SourceCurrencyCode": "EUR", "Rate": "1.0850", "AsOfDate": "2025-03-20"},
            {"SourceCurrencyCode": "EUR", "Rate": "1.0920", "AsOfDate": "2025-05-06"},
        ],
    )
    connector = env.connector()
    assert connector.fresh_read("2044").invoice.home_amount_due == Decimal("2170.00")
    bodies = spy_writes(connector)
    result = connector.write_payment(
        "2044", "PAY-EUR", Decimal("2000.00"), date(2025, 5, 6)
    )
    assert bodies[0]["CurrencyRef"] == {"value": "EUR"}
    assert bodies[0]["ExchangeRate"] == Decimal("1.0920")
    payment = env.sandbox.get(env.realm, "Payment", result.ledger_id)
    assert payment["ExchangeRate"] == Decimal("1.0920")
    assert payment["TotalAmt"] == Decimal("2000.00")


def test_foreign_payment_without_a_known_rate_is_refused(env):
    env.load(
        Customer=[f.customer(88, "Brasserie Lindqvist", CurrencyRef={"value": "EUR"})],
        Invoice=[f.invoice(2044, 88, "2000.00", currency="EUR")],
    )
    with pytest.raises(FixError):
        env.connector().write_payment("2044", "P", Decimal("10.00"), date(2025, 5, 6))
    assert posts(env, "payment") == []


def test_fresh_read_counts_an_unapplied_payment_as_credit(env):
    """C17: 500.00 paid without a link covers the 100.00 invoice."""
    env.load(
        Customer=[f.customer(64, "Delgado-Whitfield Events", Balance=Decimal("-400"))],
        Invoice=[f.invoice(1780, 64, "100.00", due="2025-03-02")],
        Payment=[f.payment(905, 64, "500.00", "500.00", "2025-02-20")],
    )
    fresh = env.connector().fresh_read("1780")
    assert fresh.invoice.amount_due == Decimal("100.00")
    assert fresh.unapplied_credits == Decimal("500.00")
    assert fresh.customer is not None and fresh.customer.balance == Decimal("-400.00")
    pages = list(env.connector().sync(None))
    [payment] = [p for page in pages for p in page.payments]
    assert payment.unapplied == Decimal("500.00") and payment.applied == ()


def test_customer_lookups_escape_apostrophes(env):
    """C07: exact and prefix look-ups with apostrophes, one hostile-looking name."""
    env.load(
        Customer=[
            f.customer(58, "Maeve O'Brien's Bakery & Cafe"),
            f.customer(59, "O'Brien Haulage"),
            f.customer(60, "Test' STARTPOSITION '1"),
            f.customer(61, "Brien Street Motors"),
        ]
    )
    connector = env.connector()

    def ids(name, prefix=False):
        return [c.ledger_id for c in connector.find_customers(name, prefix=prefix)]

    assert ids("Maeve O'Brien's Bakery & Cafe") == ["58"]
    assert ids("O'Brien Haulage") == ["59"]
    assert ids("Test' STARTPOSITION '1") == ["60"]
    assert ids("O'Brien", prefix=True) == ["59"]
    assert all(e.status == 200 for e in env.sandbox.log.entries())


def test_fresh_read_of_a_deleted_invoice_says_it_is_gone(env):
    env.load(Customer=[f.customer(1, "Cool Cars")], Invoice=[f.invoice(5, 1, "9.00")])
    env.load(Invoice=[{"Id": "5", "status": "Deleted"}])
    fresh = env.connector().fresh_read("5")
    assert fresh.invoice.status is InvoiceStatus.DELETED
    assert fresh.invoice.amount_due == Decimal("0.00")
    assert fresh.customer is None
    with pytest.raises(QuickBooksNotFoundError):
        env.connector().write_note("5", "k", "Referred")


def test_foreign_fee_bill_has_its_own_vendor_and_the_days_rate(env):
    env.load(
        ExchangeRate=[
            {"SourceCurrencyCode": "EUR", "Rate": "1.0920", "AsOfDate": "2025-05-06"}
        ]
    )
    bill = fee(
        "CARE-FEE-2025-05-EUR", currency="EUR", amount=Decimal("50.00"), lines=()
    )
    result = env.connector().write_fee_bill(bill)
    stored = env.sandbox.get(env.realm, "Bill", result.ledger_id)
    vendor = env.sandbox.get(env.realm, "Vendor", stored["VendorRef"]["value"])
    assert vendor["DisplayName"] == "CARE Pre-Collections EUR"
    assert vendor["CurrencyRef"]["value"] == "EUR"
    assert stored["CurrencyRef"]["value"] == "EUR"
    assert stored["ExchangeRate"] == Decimal("1.0920")  # the rate on 2025-05-31
    assert stored["TotalAmt"] == Decimal("50.00")


def test_read_invoices_is_one_query_and_reports_a_deleted_one_as_gone(env):
    """The payment gate's read: a paid, an open and a deleted invoice in one call."""
    env.load(
        Customer=[f.customer(1, "Cool Cars")],
        Invoice=[
            f.invoice(5, 1, "9.00"),
            f.invoice(6, 1, "120.00"),
            f.invoice(7, 1, "40.00"),
        ],
    )
    env.load(Invoice=[{"Id": "7", "status": "Deleted"}])
    env.sandbox.pay_invoice(env.realm, "6", Decimal("120.00"), on=date(2025, 5, 1))
    connector = env.connector()
    connector.company()
    before = connector.calls

    read = connector.read_invoices(["5", "6", "7"])

    assert connector.calls - before == 1
    assert read["5"].status is InvoiceStatus.OPEN
    assert read["5"].amount_due == Decimal("9.00")
    assert read["6"].status is InvoiceStatus.PAID
    assert read["6"].amount_due == Decimal("0.00")
    assert read["7"].status is InvoiceStatus.DELETED
    assert read["7"].amount_due == Decimal("0.00")
