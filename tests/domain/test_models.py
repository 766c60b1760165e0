"""Column types, constraints and the append-only audit log, on the real schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.models import AuditEntry, Debtor, Effect, Invoice, User
from app.models.audit import AuditLogError
from tests.domain import factories


def test_money_round_trips_exactly_at_eighteen_digits(session: Session) -> None:
    conn = factories.connection(session, factories.creditor(session))
    debtor = factories.debtor(session, conn)
    big = Decimal("12345678901234.5678")  # 18 digits: a float would lose the tail
    row = factories.invoice(session, debtor, total=big, amount_due=Decimal("0.0001"))
    session.commit()
    session.expunge_all()

    loaded = session.get(Invoice, row.id)
    assert loaded is not None
    assert loaded.total == big and str(loaded.total) == "12345678901234.5678"
    assert loaded.amount_due == Decimal("0.0001")


def test_sum_of_money_stays_an_exact_decimal(session: Session) -> None:
    conn = factories.connection(session, factories.creditor(session))
    debtor = factories.debtor(session, conn)
    for amount in ("0.10", "0.20", "1000000000.05"):
        factories.invoice(session, debtor, amount_due=Decimal(amount))

    total = session.scalar(sa.select(sa.func.sum(Invoice.amount_due)))
    assert total == Decimal("1000000000.35")
    assert isinstance(total, Decimal)


def test_float_money_is_refused(session: Session) -> None:
    conn = factories.connection(session, factories.creditor(session))
    debtor = factories.debtor(session, conn)
    with pytest.raises(sa.exc.StatementError, match="never floats"):
        factories.invoice(session, debtor, amount_due=10.5)


def test_money_with_more_than_four_places_is_refused(session: Session) -> None:
    conn = factories.connection(session, factories.creditor(session))
    debtor = factories.debtor(session, conn)
    with pytest.raises(sa.exc.StatementError, match="more than 4 decimal places"):
        factories.invoice(session, debtor, amount_due=Decimal("1.00005"))


def test_naive_datetime_is_refused(session: Session) -> None:
    conn = factories.connection(session, factories.creditor(session))
    conn.expires_at = datetime(2025, 5, 1, 12, 0)  # noqa: DTZ001 - the point
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        session.flush()


def test_instants_come_back_in_utc(session: Session) -> None:
    conn = factories.connection(session, factories.creditor(session))
    auckland = timezone(timedelta(hours=12))
    conn.expires_at = datetime(2025, 5, 2, 9, 0, tzinfo=auckland)
    session.commit()
    session.expunge_all()

    loaded = session.scalar(sa.select(type(conn)).where(type(conn).id == conn.id))
    assert loaded is not None
    assert loaded.expires_at == datetime(2025, 5, 1, 21, 0, tzinfo=UTC)
    assert loaded.expires_at.utcoffset() == timedelta(0)


def test_created_at_comes_from_the_app_clock(session: Session, clock) -> None:  # type: ignore[no-untyped-def]
    row = factories.creditor(session)
    assert row.created_at == datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def test_foreign_keys_are_enforced(session: Session) -> None:
    conn = factories.connection(session, factories.creditor(session))
    debtor = factories.debtor(session, conn)
    with pytest.raises(sa.exc.IntegrityError):
        factories.invoice(session, debtor, debtor_id=987654)


def test_one_row_per_connection_and_ledger_id(session: Session) -> None:
    conn = factories.connection(session, factories.creditor(session))
    factories.debtor(session, conn, ledger_id="64")
    with pytest.raises(sa.exc.IntegrityError):
        factories.debtor(session, conn, ledger_id="64")


def test_creditor_staff_must_belong_to_a_creditor(session: Session) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        factories.user(session, role="creditor_admin", creditor_id=None)


def test_unknown_role_is_refused(session: Session) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        factories.user(session, role="superuser")


def test_password_is_stored_hashed_and_checked(session: Session) -> None:
    user = factories.user(session, role="program_admin")
    user.set_password("correct horse battery")
    session.flush()
    assert "correct horse" not in user.password_hash
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("correct horse battery")
    assert not user.check_password("wrong horse battery")
    with pytest.raises(ValueError, match="at least 8"):
        User(role="representative", email="x@care.example").set_password("short")


def test_effect_key_names_case_step_channel_and_target() -> None:
    key = Effect.key_for(12, 3, "email", " AP@Tuatara.example ")
    assert key == "case:12:step:3:email:ap@tuatara.example"
    with pytest.raises(ValueError, match="unknown channel"):
        Effect.key_for(12, 3, "fax", "x")


def test_effect_key_is_unique(session: Session) -> None:
    from app.models import ReferralCase

    creditor = factories.creditor(session)
    debtor = factories.debtor(session, factories.connection(session, creditor))
    case = ReferralCase(
        creditor_id=creditor.id,
        debtor_id=debtor.id,
        referred_at=datetime(2025, 5, 1, tzinfo=UTC),
        currency="USD",
    )
    session.add(case)
    session.flush()
    key = Effect.key_for(case.id, 1, "email", "a@b.example")
    for _ in range(2):
        session.add(
            Effect(
                creditor_id=creditor.id,
                case_id=case.id,
                channel="email",
                target="a@b.example",
                idempotency_key=key,
            )
        )
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()


def _entry(session: Session) -> AuditEntry:
    creditor = factories.creditor(session)
    entry = audit.record(
        session,
        who="user:7",
        creditor_id=creditor.id,
        entity="case",
        entity_id=1,
        action="transition",
        from_state="active",
        to_state="promised",
        why="debtor promised to pay on Friday",
    )
    session.commit()
    return entry


def test_audit_entry_records_who_when_and_why(session: Session) -> None:
    entry = _entry(session)
    [loaded] = audit.history(session, "case", 1)
    assert loaded.id == entry.id
    assert (loaded.who, loaded.from_state, loaded.to_state) == (
        "user:7",
        "active",
        "promised",
    )
    assert loaded.at == datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    assert loaded.why == "debtor promised to pay on Friday"


def test_audit_entry_cannot_be_updated_through_the_orm(session: Session) -> None:
    entry = _entry(session)
    entry.why = "rewritten history"
    with pytest.raises(AuditLogError, match="append-only"):
        session.flush()


def test_audit_entry_cannot_be_deleted_through_the_orm(session: Session) -> None:
    entry = _entry(session)
    session.delete(entry)
    with pytest.raises(AuditLogError, match="append-only"):
        session.flush()


@pytest.mark.parametrize(
    "statement",
    [sa.update(AuditEntry).values(why="x"), sa.delete(AuditEntry)],
    ids=["update", "delete"],
)
def test_bulk_changes_to_the_audit_log_are_refused(session: Session, statement) -> None:  # type: ignore[no-untyped-def]
    _entry(session)
    with pytest.raises(AuditLogError, match="append-only"):
        session.execute(statement)


def test_audit_needs_a_why_and_a_well_formed_who(session: Session) -> None:
    with pytest.raises(ValueError, match="needs a why"):
        audit.record(
            session, who="user:1", entity="case", entity_id=1, action="x", why=" "
        )
    with pytest.raises(ValueError, match="who must read"):
        audit.record(
            session, who="bob", entity="case", entity_id=1, action="x", why="y"
        )
    assert audit.actor(user_id=3) == "user:3"
    assert audit.actor(system="tick") == "system:tick"
    with pytest.raises(ValueError):
        audit.actor()


def test_sqlite_connections_run_with_foreign_keys_wal_and_busy_timeout(
    engine: sa.Engine,
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000


def test_sql_sums_differences_and_comparisons_of_money_are_exact(
    session: Session,
) -> None:
    conn = factories.connection(session, factories.creditor(session))
    debtor = factories.debtor(session, conn)
    factories.invoice(
        session, debtor, total=Decimal("100.50"), amount_due=Decimal("0.25")
    )
    factories.invoice(
        session, debtor, total=Decimal("0.05"), amount_due=Decimal("0.05")
    )

    paid = session.scalar(sa.select(sa.func.sum(Invoice.total - Invoice.amount_due)))
    assert paid == Decimal("100.25")  # (100.50 - 0.25) + (0.05 - 0.05)
    over = session.scalar(
        sa.select(sa.func.count()).where(Invoice.amount_due > Decimal("0.10"))
    )
    assert over == 1
    assert session.scalar(sa.select(sa.func.max(Invoice.total))) == Decimal("100.50")


def test_sql_products_of_money_are_refused() -> None:
    with pytest.raises(TypeError, match="use app.money"):
        Invoice.amount_due * Invoice.exchange_rate
    with pytest.raises(TypeError, match="use app.money"):
        Invoice.amount_due / 2


def test_changes_inside_json_columns_are_saved(session: Session) -> None:
    creditor = factories.creditor(session, rules={"min_days": 30})
    conn = factories.connection(session, creditor)
    debtor = factories.debtor(session, conn, tags=["retail"])
    session.commit()

    creditor.rules["min_days"] = 45
    debtor.tags.append("strategic")
    session.commit()
    session.expunge_all()

    assert session.get(type(creditor), creditor.id).rules == {"min_days": 45}  # type: ignore[union-attr]
    assert session.get(Debtor, debtor.id).tags == ["retail", "strategic"]  # type: ignore[union-attr]
