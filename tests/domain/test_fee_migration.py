"""Migration 0004 (fee adjustments) on a database that holds them, down and up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app import db
from app.models.base import Money4
from tests.domain.test_fee_adjustments import _books, _delete, _pay


@pytest.fixture
def database_migrated() -> bool:
    """An empty database: the test runs the migrations itself."""
    return False


def test_downgrade_folds_adjustments_into_the_payments_first_accrual(
    database_url, session
):
    db.upgrade(database_url)
    creditor, (a, b, _) = _books(session)
    payment = _pay(session, a, "p1", "450.00", date(2025, 5, 6))  # 1% = 4.50
    _delete(session, payment, a)  # -4.50
    _pay(session, b, "p2", "230.00", date(2025, 5, 9))  # 2.30
    session.commit()
    session.close()

    db.downgrade(database_url, "0003")

    # The columns as the app reads them (SQLite keeps ten-thousandths as integers).
    table = sa.Table(
        "fee_accruals",
        sa.MetaData(),
        sa.Column("id", sa.Integer),
        sa.Column("invoice_id", sa.Integer),
        sa.Column("collected_amount", Money4()),
        sa.Column("fee_amount", Money4()),
    )
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            columns = {c["name"] for c in inspector.get_columns("fee_accruals")}
            rows = connection.execute(
                sa.select(
                    table.c.invoice_id, table.c.collected_amount, table.c.fee_amount
                ).order_by(table.c.id)
            ).all()
    finally:
        engine.dispose()
    assert "seq" not in columns
    # One row per payment and invoice again: 450.00 - 450.00 and 4.50 - 4.50 fold
    # to zero; 230.00 and its 2.30 stay as they were.
    assert [tuple(r) for r in rows] == [
        (a.id, Decimal("0"), Decimal("0")),
        (b.id, Decimal("230.00"), Decimal("2.30")),
    ]

    db.upgrade(database_url)
