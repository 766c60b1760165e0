"""Main pages at 100,000 invoices: `python benchmarks/bench_pages.py`.

Fills a fresh database (a new PostgreSQL database beside DATABASE_URL's when it is set,
else a SQLite file in a temporary folder) with one creditor's seeded book: invoices
over n/20 customers, 1,000 cases with their audit trail. Then signs in through the
Flask test client and times each page (full request: routing, queries, templates),
printing the median and worst of `--repeat` requests.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet

from app import clock as clock_mod
from app import crypto, db
from app.config import Settings
from app.models import (
    AuditEntry,
    CaseInvoice,
    Creditor,
    Debtor,
    Invoice,
    LedgerConnection,
    ReferralCase,
    User,
)

TODAY = date(2025, 5, 1)
NOW = datetime(2025, 5, 1, 16, 0, tzinfo=UTC)
CASES = 1_000
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway local account


@contextmanager
def database() -> Iterator[str]:
    """A fresh, empty database URL, removed afterwards."""
    admin_url = os.environ.get("DATABASE_URL", "")
    if not admin_url.startswith("postgresql"):
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"care_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def fill(engine: sa.Engine, n: int, seed: int = 7) -> dict[str, Any]:
    """One creditor, its users, n invoices over n/20 debtors, CASES cases."""
    rng = random.Random(seed)
    factory = db.session_factory(engine)
    with factory.begin() as session:
        creditor = Creditor(
            name="Bench Supplies", home_currency="USD", timezone="America/New_York"
        )
        session.add(creditor)
        session.flush()
        admin = User(email="admin@bench.example", role="creditor_admin")
        admin.creditor_id = creditor.id
        admin.set_password(PASSWORD)
        rep = User(email="rep@bench.example", role="representative", name="Rep")
        rep.set_password(PASSWORD)
        session.add_all([admin, rep])
        connection = LedgerConnection(
            creditor_id=creditor.id, ledger="quickbooks", external_id="9130000000000001"
        )
        session.add(connection)
        session.flush()
        ids = {"creditor": creditor.id, "connection": connection.id, "rep": rep.id}

    debtors = max(1, n // 20)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Debtor),
            [
                {
                    "creditor_id": ids["creditor"],
                    "connection_id": ids["connection"],
                    "ledger_id": str(d),
                    "name": f"Customer {d:05d} {rng.choice(['Ltd', 'LLC', 'Inc.'])}",
                    "emails": [f"ap{d}@example.com"],
                    "phones": [],
                    "tags": [],
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for d in range(debtors)
            ],
        )
        first_debtor = conn.scalar(sa.select(sa.func.min(Debtor.id)))
        rows = []
        for i in range(n):
            amount = Decimal(rng.randrange(100, 2_000_000)).scaleb(-2)
            status = rng.choice(["open"] * 6 + ["paid", "voided"])
            due = TODAY - timedelta(days=rng.randrange(-60, 400))
            rows.append(
                {
                    "creditor_id": ids["creditor"],
                    "connection_id": ids["connection"],
                    "debtor_id": first_debtor + rng.randrange(debtors),
                    "ledger_id": str(i + 1),
                    "number": f"INV-{i + 1:06d}",
                    "issue_date": due - timedelta(days=30),
                    "due_date": due,
                    "currency": "USD",
                    "total": amount,
                    "amount_due": amount if status == "open" else Decimal(0),
                    "status": status,
                    "decision": rng.choice(["refer", "wait", "escalate", "skip"]),
                    "reason": "in_window",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            if len(rows) == 5_000:
                conn.execute(sa.insert(Invoice), rows)
                rows = []
        if rows:
            conn.execute(sa.insert(Invoice), rows)
    _cases(engine, ids, rng)
    # Planner statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE keeps them.
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    return ids


def _cases(engine: sa.Engine, ids: dict[str, Any], rng: random.Random) -> None:
    """CASES open cases, each with one referred invoice and three audit entries."""
    with engine.begin() as conn:
        picks = conn.execute(
            sa.select(Invoice.id, Invoice.debtor_id, Invoice.amount_due)
            .where(Invoice.status == "open")
            .order_by(Invoice.id)
            .limit(CASES * 3)
        ).all()
        seen: set[int] = set()
        for invoice_id, debtor_id, amount in picks:
            if debtor_id in seen or len(seen) >= CASES:
                continue
            seen.add(debtor_id)
            case_id = conn.execute(
                sa.insert(ReferralCase).returning(ReferralCase.id),
                {
                    "creditor_id": ids["creditor"],
                    "debtor_id": debtor_id,
                    "state": "active",
                    "referred_at": NOW,
                    "representative_id": ids["rep"],
                    "tier": "first_party",
                    "currency": "USD",
                    "amount_referred": amount,
                    "amount_due": amount,
                    "amount_collected": Decimal(0),
                    "score_breakdown": {},
                    "created_at": NOW,
                    "updated_at": NOW,
                },
            ).scalar_one()
            conn.execute(
                sa.insert(CaseInvoice),
                {
                    "creditor_id": ids["creditor"],
                    "case_id": case_id,
                    "invoice_id": invoice_id,
                    "referred_at": NOW,
                    "currency": "USD",
                    "amount_at_referral": amount,
                },
            )
            conn.execute(
                sa.insert(AuditEntry),
                [
                    {
                        "at": NOW + timedelta(minutes=k),
                        "who": "system:bench",
                        "creditor_id": ids["creditor"],
                        "entity": "case",
                        "entity_id": str(case_id),
                        "action": action,
                        "why": "benchmark",
                        "detail": {},
                    }
                    for k, action in enumerate(("open", "add_invoices", "note"))
                ],
            )
            ids.setdefault("case", case_id)


def timed(client: Any, path: str, repeat: int) -> tuple[float, float, float, int]:
    """Milliseconds of the first GET of `path`, then median and worst of `repeat`."""
    started = time.perf_counter()
    first = client.get(path)
    cold = (time.perf_counter() - started) * 1000
    if first.status_code != 200:
        raise SystemExit(f"{path} answered {first.status_code}")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return cold, statistics.median(times), max(times), len(first.data)


def sign_in(client: Any, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 302, answer.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="invoices in the book")
    parser.add_argument("--repeat", type=int, default=5, help="requests per page")
    args = parser.parse_args()
    crypto.install(crypto.Keyring([Fernet.generate_key().decode()]))
    clock_mod.set_clock(clock_mod.SimulatedClock(NOW))

    with database() as url:
        db.upgrade(url)
        engine = db.make_engine(url)
        started = time.perf_counter()
        ids = fill(engine, args.n)
        filled = time.perf_counter() - started
        print(f"database: {engine.dialect.name}, filled in {filled:.1f} s")

        from app.web import create_app

        class NoJobs:
            def enqueue_sync(self, connection_id: int, full: bool = False) -> None:
                """Nothing runs: the benchmark only reads."""

            def enqueue_webhook(self, delivery_id: int) -> None:
                """Nothing runs: the benchmark only reads."""

        settings = Settings(database_url=url, secret_key="bench-only")
        app = create_app(
            settings, sessions=db.session_factory(engine), enqueue=NoJobs()
        )
        client = app.test_client()
        sign_in(client, "admin@bench.example")
        pages = {
            "invoice list (open, most late first)": "/invoices",
            "invoice list, 31-60 by amount": "/invoices?bucket=31-60&sort=amount",
            "invoice list, search a customer": "/invoices?q=Customer+01234&status=all",
            "invoice list, page 1,000": "/invoices?status=all&page=1000",
            "one invoice": "/invoices/50000",
            "one case with its timeline": f"/cases/{ids['case']}",
            "case list": "/cases",
            "dashboard": "/dashboard",
            "insights": "/insights",
        }
        print(
            f"invoices: {args.n:,}  cases: {CASES:,}  requests per page: {args.repeat}"
        )
        print(
            f"{'page':40} {'first ms':>9} {'median ms':>10} {'worst ms':>9} {'KiB':>6}"
        )
        for name, path in pages.items():
            cold, median, worst, size = timed(client, path, args.repeat)
            print(
                f"{name:40} {cold:9.1f} {median:10.1f} {worst:9.1f} {size / 1024:6.1f}"
            )

        page = client.get("/rules").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        form = {
            "window_start_days": "30",
            "window_end_days": "120",
            "min_amount_due": "0.01",
            "tier": "first_party",
        }
        times = []
        for _ in range(max(1, args.repeat // 2)):
            started = time.perf_counter()
            answer = client.post(
                "/rules/preview", data={**form, "csrf_token": token.group(1)}
            )
            assert "invoices would be referred" in answer.get_data(as_text=True)
            times.append((time.perf_counter() - started) * 1000)
        name = "rules preview (evaluates every invoice)"
        median, worst = statistics.median(times), max(times)
        print(f"{name:40} {times[0]:9.1f} {median:10.1f} {worst:9.1f}")

        rep = app.test_client()
        sign_in(rep, "rep@bench.example")
        cold, median, worst, size = timed(rep, "/queue", args.repeat)
        name = "work queue (1,000 cases, top 100)"
        print(f"{name:40} {cold:9.1f} {median:10.1f} {worst:9.1f} {size / 1024:6.1f}")
        engine.dispose()


if __name__ == "__main__":
    main()
