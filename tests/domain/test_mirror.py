"""Applying sync pages to the mirror: upserts, applications, deletions, reconciling."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import mirror
from app.clock import SimulatedClock
from app.models import (
    Credit,
    CreditApplication,
    Debtor,
    Invoice,
    LedgerConnection,
    Payment,
    PaymentApplication,
)
from connectors import records
from connectors.records import (
    Address,
    Application,
    Customer,
    Deletion,
    InvoiceStatus,
    SyncPage,
)
from tests.domain import factories

D = Decimal
InvoiceRecord = records.Invoice
PaymentRecord = records.Payment
CreditRecord = records.Credit
T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def conn(session: Session) -> LedgerConnection:
    creditor = factories.creditor(session, home_currency="USD")
    return factories.connection(session, creditor, external_id="9130354426181920")


def _customer(ledger_id: str = "64", **kw: object) -> Customer:
    fields: dict = {"ledger_id": ledger_id, "name": "Delgado-Whitfield Events"}
    fields.update(kw)
    return Customer(**fields)


def _invoice(ledger_id: str, due: str = "100.00", **kw: object) -> InvoiceRecord:
    fields: dict = {
        "ledger_id": ledger_id,
        "number": f"N{ledger_id}",
        "customer_id": "64",
        "issue_date": date(2025, 2, 1),
        "due_date": date(2025, 3, 2),
        "currency": "USD",
        "total": D("100.00"),
        "amount_due": D(due),
        "home_amount_due": None,
        "exchange_rate": None,
        "status": InvoiceStatus.OPEN,
    }
    fields.update(kw)
    return InvoiceRecord(**fields)


def _rows(session: Session, model: type) -> list:
    return list(session.scalars(sa.select(model).order_by(model.id)))


def test_first_page_inserts_customers_and_invoices(session: Session, conn) -> None:  # type: ignore[no-untyped-def]
    page = SyncPage(
        customers=[
            _customer(
                emails=("accounts@brightwater.example", "owner@brightwater.example"),
                address=Address(lines=("1 Quay St",), city="Auckland", country="NZ"),
                tags=("retail",),
                balance=D("-400.00"),
            )
        ],
        invoices=[_invoice("1780"), _invoice("1781", due="40.00")],
        cursor={"since": "2025-05-01T12:00:00Z"},
    )
    result = mirror.apply_page(session, conn, page)

    assert result.inserted == {"customer": 1, "invoice": 2}
    [debtor] = _rows(session, Debtor)
    assert debtor.emails == [
        "accounts@brightwater.example",
        "owner@brightwater.example",
    ]
    assert debtor.address == {
        "lines": ["1 Quay St"],
        "city": "Auckland",
        "region": None,
        "postal_code": None,
        "country": "NZ",
    }
    assert (debtor.country, debtor.tags, debtor.balance) == (
        "NZ",
        ["retail"],
        D("-400.00"),
    )
    invoices = _rows(session, Invoice)
    assert [(i.ledger_id, i.amount_due, i.debtor_id) for i in invoices] == [
        ("1780", D("100.00"), debtor.id),
        ("1781", D("40.00"), debtor.id),
    ]
    # A home-currency invoice owes the same in home currency.
    assert invoices[1].home_amount_due == D("40.00")
    assert conn.sync_cursor == {"since": "2025-05-01T12:00:00Z"}


def test_replaying_a_page_changes_nothing(session: Session, conn) -> None:  # type: ignore[no-untyped-def]
    page = SyncPage(customers=[_customer()], invoices=[_invoice("1780")])
    mirror.apply_page(session, conn, page)
    again = mirror.apply_page(session, conn, page)

    assert again.inserted == {} and again.updated == {}
    assert again.unchanged == {"customer": 1, "invoice": 1}
    assert len(_rows(session, Invoice)) == 1 and len(_rows(session, Debtor)) == 1


def test_partial_payment_updates_the_balance_and_reports_new_money(
    session: Session,
    conn,  # type: ignore[no-untyped-def]
) -> None:
    """C15: a part payment leaves the balance to chase and is new money for fees."""
    mirror.apply_page(
        session, conn, SyncPage(customers=[_customer()], invoices=[_invoice("1780")])
    )
    result = mirror.apply_page(
        session,
        conn,
        SyncPage(invoices=[_invoice("1780", due="35.50"), _invoice("1790")]),
    )

    [paid_down] = result.paid_down
    invoice = session.get(Invoice, paid_down)
    assert invoice is not None and invoice.ledger_id == "1780"
    assert invoice.amount_due == D("35.50") and invoice.total == D("100.00")
    assert result.updated == {"invoice": 1} and result.inserted == {"invoice": 1}


def test_an_older_copy_of_a_record_does_not_overwrite_a_newer_one(
    session: Session,
    conn,  # type: ignore[no-untyped-def]
) -> None:
    newer = _invoice("1780", due="0.00", status=InvoiceStatus.PAID, last_modified=T0)
    older = _invoice("1780", due="100.00", last_modified=T0 - timedelta(minutes=5))
    mirror.apply_page(
        session, conn, SyncPage(customers=[_customer()], invoices=[newer])
    )
    result = mirror.apply_page(session, conn, SyncPage(invoices=[older]))

    assert result.stale == 1
    [invoice] = _rows(session, Invoice)
    assert (invoice.status, invoice.amount_due) == ("paid", D("0.00"))


def test_invoice_before_its_customer_gets_a_placeholder_then_the_real_one(
    session: Session,
    conn,  # type: ignore[no-untyped-def]
) -> None:
    mirror.apply_page(
        session, conn, SyncPage(invoices=[_invoice("1780", customer_id="77")])
    )
    [placeholder] = _rows(session, Debtor)
    assert (placeholder.name, placeholder.placeholder) == ("Customer 77", True)

    mirror.apply_page(
        session, conn, SyncPage(customers=[_customer("77", name="Tui Landscaping Ltd")])
    )
    [debtor] = _rows(session, Debtor)
    assert debtor.id == placeholder.id
    assert (debtor.name, debtor.placeholder) == ("Tui Landscaping Ltd", False)


def test_foreign_currency_invoice_keeps_both_amounts(session: Session, conn) -> None:  # type: ignore[no-untyped-def]
    """C18: EUR 2,000.00 at 1.0850 is USD 2,170.00; AR in USD is 2,170 + 500."""
    page = SyncPage(
        customers=[_customer()],
        invoices=[
            _invoice(
                "2044",
                due="2000.00",
                total=D("2000.00"),
                currency="EUR",
                home_amount_due=D("2170.00"),
                exchange_rate=D("1.0850"),
                due_date=date(2025, 3, 20),
            ),
            _invoice("2045", due="500.00", total=D("500.00")),
        ],
    )
    mirror.apply_page(session, conn, page)

    eur = session.scalar(sa.select(Invoice).where(Invoice.ledger_id == "2044"))
    assert eur is not None
    assert (eur.currency, eur.amount_due) == ("EUR", D("2000.00"))
    assert (eur.home_currency, eur.home_amount_due) == ("USD", D("2170.00"))
    assert eur.exchange_rate == D("1.0850")
    ar = session.scalar(sa.select(sa.func.sum(Invoice.home_amount_due)))
    assert ar == D("2670.00")


def test_unapplied_payment_is_kept_on_the_customer(session: Session, conn) -> None:  # type: ignore[no-untyped-def]
    """C17: Payment 905 of 500.00 is all unapplied; invoice 1780 still owes 100.00."""
    page = SyncPage(
        customers=[_customer(balance=D("-400.00"))],
        invoices=[_invoice("1780")],
        payments=[
            PaymentRecord(
                ledger_id="905",
                customer_id="64",
                date=date(2025, 2, 20),
                currency="USD",
                amount=D("500.00"),
                unapplied=D("500.00"),
            )
        ],
    )
    mirror.apply_page(session, conn, page)

    [payment] = _rows(session, Payment)
    assert (payment.amount, payment.unapplied) == (D("500.00"), D("500.00"))
    assert _rows(session, PaymentApplication) == []
    unapplied = session.scalar(
        sa.select(sa.func.sum(Payment.unapplied)).where(
            Payment.debtor_id == payment.debtor_id
        )
    )
    assert unapplied == D("500.00")


def _payment(applied: tuple[Application, ...], **kw: object) -> PaymentRecord:
    fields: dict = {
        "ledger_id": "877",
        "customer_id": "64",
        "date": date(2025, 5, 3),
        "currency": "USD",
        "amount": D("640.00"),
        "unapplied": D("0.00"),
        "applied": applied,
    }
    fields.update(kw)
    return PaymentRecord(**fields)


def test_payment_applications_follow_the_ledger(session: Session, conn) -> None:  # type: ignore[no-untyped-def]
    base = SyncPage(
        customers=[_customer()], invoices=[_invoice("1187"), _invoice("1043")]
    )
    mirror.apply_page(session, conn, base)
    first = _payment(
        (Application("1187", D("600.00")), Application("1043", D("40.00")))
    )
    mirror.apply_page(session, conn, SyncPage(payments=[first]))
    # The bookkeeper re-applies the whole payment to 1187.
    second = _payment((Application("1187", D("640.00")),))
    mirror.apply_page(session, conn, SyncPage(payments=[second]))

    apps = _rows(session, PaymentApplication)
    invoice_1187 = session.scalar(
        sa.select(Invoice.id).where(Invoice.ledger_id == "1187")
    )
    assert [(a.invoice_ledger_id, a.invoice_id, a.amount) for a in apps] == [
        ("1187", invoice_1187, D("640.00"))
    ]


def test_application_to_an_invoice_not_yet_mirrored_is_linked_later(
    session: Session,
    conn,  # type: ignore[no-untyped-def]
) -> None:
    mirror.apply_page(
        session,
        conn,
        SyncPage(
            customers=[_customer()],
            payments=[_payment((Application("1187", D("640.00")),))],
        ),
    )
    [app] = _rows(session, PaymentApplication)
    assert app.invoice_id is None

    mirror.apply_page(session, conn, SyncPage(invoices=[_invoice("1187", due="0.00")]))
    session.refresh(app)
    invoice_id = session.scalar(
        sa.select(Invoice.id).where(Invoice.ledger_id == "1187")
    )
    assert app.invoice_id == invoice_id is not None


def test_credit_note_and_its_application_are_mirrored(session: Session, conn) -> None:  # type: ignore[no-untyped-def]
    credit = CreditRecord(
        ledger_id="CN-1",
        customer_id="64",
        date=date(2025, 4, 2),
        currency="USD",
        total=D("30.00"),
        remaining=D("10.00"),
        applied=(Application("1780", D("20.00")),),
        number="CN-0001",
    )
    mirror.apply_page(
        session,
        conn,
        SyncPage(
            customers=[_customer()], invoices=[_invoice("1780")], credits=[credit]
        ),
    )
    [row] = _rows(session, Credit)
    assert (row.number, row.total, row.remaining, row.issued_on) == (
        "CN-0001",
        D("30.00"),
        D("10.00"),
        date(2025, 4, 2),
    )
    [app] = _rows(session, CreditApplication)
    assert (app.invoice_ledger_id, app.amount) == ("1780", D("20.00"))
    assert app.invoice_id is not None


def test_deletions_mark_rows_and_drop_deleted_payments_applications(
    session: Session,
    conn,  # type: ignore[no-untyped-def]
) -> None:
    mirror.apply_page(
        session,
        conn,
        SyncPage(
            customers=[_customer()],
            invoices=[_invoice("311"), _invoice("312")],
            payments=[_payment((Application("311", D("20.00")),), amount=D("20.00"))],
        ),
    )
    result = mirror.apply_page(
        session,
        conn,
        SyncPage(
            deletions=[
                Deletion("invoice", "312"),
                Deletion("payment", "877"),
                Deletion("invoice", "999"),  # never mirrored: nothing to do
            ]
        ),
    )

    statuses = {i.ledger_id: i.status for i in _rows(session, Invoice)}
    assert statuses == {"311": "open", "312": "deleted"}
    assert result.deleted == {"invoice": 1, "payment": 1}
    assert [session.get(Invoice, i).ledger_id for i in result.deleted_invoices] == [
        "312"
    ]  # type: ignore[union-attr]
    assert _rows(session, Payment)[0].deleted is True
    assert _rows(session, PaymentApplication) == []


def test_unknown_deletion_entity_is_refused(session: Session, conn) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="unknown entity 'bill'"):
        mirror.apply_page(session, conn, SyncPage(deletions=[Deletion("bill", "1")]))


def test_full_pull_after_the_cdc_window_finds_old_deletions(
    session: Session,
    conn,
    clock: SimulatedClock,  # type: ignore[no-untyped-def]
) -> None:
    """C12: 311 was deleted 43 days ago (outside CDC); 312 inside; 313 is open."""
    clock.set(datetime(2025, 3, 10, tzinfo=UTC))
    mirror.apply_page(
        session,
        conn,
        SyncPage(
            customers=[_customer()],
            invoices=[
                _invoice("311", due="720.00"),
                _invoice("312", due="95.50"),
                _invoice("313", due="500.00"),
            ],
            done=True,
        ),
    )
    clock.set(datetime(2025, 4, 24, 8, 0, tzinfo=UTC))

    # The full pull comes in two pages; only the CDC-window deletion is reported.
    first = mirror.apply_page(
        session, conn, SyncPage(customers=[_customer()], full=True, cursor={"page": 1})
    )
    assert not first.reconciled
    assert conn.full_sync_started_at == datetime(2025, 4, 24, 8, 0, tzinfo=UTC)
    clock.advance(timedelta(minutes=3))
    last = mirror.apply_page(
        session,
        conn,
        reconcile_absent=True,
        page=SyncPage(
            invoices=[_invoice("313", due="500.00")],
            deletions=[Deletion("invoice", "312")],
            full=True,
            done=True,
            cursor={"since": "2025-04-24T08:00:00Z"},
        ),
    )

    statuses = {i.ledger_id: i.status for i in _rows(session, Invoice)}
    assert statuses == {"311": "deleted", "312": "deleted", "313": "open"}
    assert last.reconciled
    ids = {session.get(Invoice, i).ledger_id for i in last.deleted_invoices}  # type: ignore[union-attr]
    assert ids == {"311", "312"}
    assert conn.last_full_sync_at == datetime(2025, 4, 24, 8, 3, tzinfo=UTC)
    assert conn.full_sync_started_at is None
    assert conn.sync_cursor == {"since": "2025-04-24T08:00:00Z"}
    assert conn.sync_progress == {
        "full": True,
        "pages": 2,
        "records": 2,
        "finished": True,
    }


def test_an_empty_full_pull_does_not_delete_the_books(
    session: Session,
    conn,
    clock: SimulatedClock,  # type: ignore[no-untyped-def]
) -> None:
    mirror.apply_page(
        session, conn, SyncPage(customers=[_customer()], invoices=[_invoice("1")])
    )
    clock.advance(timedelta(days=1))
    result = mirror.apply_page(
        session, conn, SyncPage(full=True, done=True), reconcile_absent=True
    )

    assert not result.reconciled
    assert [i.status for i in _rows(session, Invoice)] == ["open"]


def test_a_page_costs_the_same_statements_for_ten_or_five_hundred_rows(
    session: Session,
    conn,
    engine: sa.Engine,  # type: ignore[no-untyped-def]
) -> None:
    """No per-row SELECT: the statement count does not grow with the page."""

    def statements_for(count: int, offset: int) -> int:
        invoices = [_invoice(str(offset + n)) for n in range(count)]
        page = SyncPage(customers=[_customer()], invoices=invoices)
        seen: list[str] = []

        def count_selects(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith("SELECT"):
                seen.append(statement)

        sa.event.listen(engine, "before_cursor_execute", count_selects)
        try:
            mirror.apply_page(session, conn, page)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count_selects)
        return len(seen)

    small = statements_for(10, 10_000)
    large = statements_for(500, 20_000)
    assert large == small
    assert 0 < small <= 8  # measured: 6 (creditor, debtors, invoices, links)


def test_reconciling_judges_only_open_invoices(
    session: Session,
    conn,
    clock: SimulatedClock,  # type: ignore[no-untyped-def]
) -> None:
    """A windowed full pull omits old paid invoices and payments: they stay as held."""
    old_paid = _invoice("10", due="0.00", status=InvoiceStatus.PAID)
    old_payment = _payment((Application("10", D("100.00")),), amount=D("100.00"))
    mirror.apply_page(
        session,
        conn,
        SyncPage(
            customers=[_customer()],
            invoices=[old_paid, _invoice("11")],
            payments=[old_payment],
        ),
    )
    clock.advance(timedelta(days=1))
    result = mirror.apply_page(
        session,
        conn,
        SyncPage(
            customers=[_customer()], invoices=[_invoice("11")], full=True, done=True
        ),
        reconcile_absent=True,
    )

    assert result.reconciled and result.deleted == {}
    assert {i.ledger_id: i.status for i in _rows(session, Invoice)} == {
        "10": "paid",
        "11": "open",
    }
    assert _rows(session, Payment)[0].deleted is False
    assert len(_rows(session, PaymentApplication)) == 1


def test_a_full_pull_without_reconciling_leaves_absent_invoices_alone(
    session: Session,
    conn,
    clock: SimulatedClock,  # type: ignore[no-untyped-def]
) -> None:
    mirror.apply_page(
        session,
        conn,
        SyncPage(customers=[_customer()], invoices=[_invoice("1"), _invoice("2")]),
    )
    clock.advance(timedelta(days=1))
    result = mirror.apply_page(
        session, conn, SyncPage(invoices=[_invoice("2")], full=True, done=True)
    )
    assert not result.reconciled
    assert [i.status for i in _rows(session, Invoice)] == ["open", "open"]
    assert conn.last_full_sync_at == datetime(2025, 5, 2, 12, 0, tzinfo=UTC)


def test_replaying_an_incremental_page_writes_nothing(
    session: Session,
    conn,
    engine: sa.Engine,  # type: ignore[no-untyped-def]
) -> None:
    page = SyncPage(
        customers=[_customer()], invoices=[_invoice(str(n)) for n in range(50)]
    )
    mirror.apply_page(session, conn, page)
    session.flush()
    writes: list[str] = []

    def count_writes(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")):
            writes.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count_writes)
    try:
        mirror.apply_page(session, conn, page)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count_writes)
    # Only the connection's own progress row changes; no mirror row is rewritten.
    assert [w.split()[1] for w in writes] == ["ledger_connections"]


def test_debtor_history_counts_open_and_paid_invoices_in_home_currency(
    session: Session,
    conn,  # type: ignore[no-untyped-def]
) -> None:
    invoices = [
        _invoice("1", due="100.00", total=D("100.00"), issue_date=date(2024, 3, 1)),
        _invoice(
            "2",
            due="0.00",
            total=D("250.00"),
            status=InvoiceStatus.PAID,
            issue_date=date(2023, 6, 10),
        ),
        _invoice(
            "3",
            due="0.00",
            total=D("999.00"),
            status=InvoiceStatus.VOIDED,
            issue_date=date(2020, 1, 1),
        ),
        _invoice(
            "4",
            due="1000.00",
            total=D("1000.00"),
            currency="EUR",
            exchange_rate=D("1.0850"),
            home_amount_due=D("1085.00"),
            issue_date=date(2024, 1, 5),
        ),
    ]
    mirror.apply_page(
        session, conn, SyncPage(customers=[_customer()], invoices=invoices)
    )

    [debtor] = _rows(session, Debtor)
    # 100.00 + 250.00 + 1000.00 x 1.0850; the voided 999.00 (and its date) do not count
    assert debtor.lifetime_revenue == D("1435.00")
    assert debtor.lifetime_revenue_currency == "USD"
    assert debtor.first_invoice_date == date(2023, 6, 10)

    # Voiding invoice 2 later takes it out again.
    voided = _invoice(
        "2",
        due="0.00",
        total=D("250.00"),
        status=InvoiceStatus.VOIDED,
        issue_date=date(2023, 6, 10),
    )
    mirror.apply_page(session, conn, SyncPage(invoices=[voided]))
    assert debtor.lifetime_revenue == D("1185.00")
    assert debtor.first_invoice_date == date(2024, 1, 5)
