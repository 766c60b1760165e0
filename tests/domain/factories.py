"""Small builders for domain rows, taking overrides for the fields a test needs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any

from sqlalchemy.orm import Session

from app.models import Creditor, Debtor, Invoice, LedgerConnection, User

_ids = count(1)


def creditor(session: Session, **fields: Any) -> Creditor:
    row = Creditor(
        **{
            "name": f"Creditor {next(_ids)}",
            "home_currency": "USD",
            "timezone": "America/New_York",
            "country": "US",
            **fields,
        }
    )
    session.add(row)
    session.flush()
    return row


def connection(session: Session, creditor: Creditor, **fields: Any) -> LedgerConnection:
    row = LedgerConnection(
        **{
            "creditor_id": creditor.id,
            "ledger": "quickbooks",
            "external_id": f"91303544261{next(_ids):05d}",
            **fields,
        }
    )
    session.add(row)
    session.flush()
    return row


def debtor(session: Session, conn: LedgerConnection, **fields: Any) -> Debtor:
    n = next(_ids)
    row = Debtor(
        **{
            "creditor_id": conn.creditor_id,
            "connection_id": conn.id,
            "ledger_id": str(n),
            "name": f"Debtor {n}",
            **fields,
        }
    )
    session.add(row)
    session.flush()
    return row


def invoice(session: Session, debtor: Debtor, **fields: Any) -> Invoice:
    n = next(_ids)
    row = Invoice(
        **{
            "creditor_id": debtor.creditor_id,
            "connection_id": debtor.connection_id,
            "debtor_id": debtor.id,
            "ledger_id": str(1000 + n),
            "number": f"INV-{n}",
            "issue_date": date(2025, 2, 1),
            "due_date": date(2025, 3, 1),
            "currency": "USD",
            "total": Decimal("100.00"),
            "amount_due": Decimal("100.00"),
            "status": "open",
            **fields,
        }
    )
    session.add(row)
    session.flush()
    return row


def user(session: Session, role: str = "representative", **fields: Any) -> User:
    row = User(**{"email": f"user{next(_ids)}@care.example", "role": role, **fields})
    session.add(row)
    session.flush()
    return row
