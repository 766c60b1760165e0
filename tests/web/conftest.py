"""Fixtures for the web tests: a migrated database, the app, two creditors' worth of
data, signed-in clients, and a job queue that records what the web layer enqueued."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import generate_password_hash

from app import crypto, db
from app.config import LedgerApp, Settings
from app.models import Creditor, OutreachStep, ReferralCase, User
from app.web import create_app
from tests.domain import factories

QBO_VERIFIER = "TESTONLY-intuit-verifier-token-41aa"
XERO_KEY = "TESTONLY-xero-webhook-key-7f3c9a1e5b"
PASSWORD = "correct-horse-battery"


@functools.cache
def password_hash() -> str:
    """PASSWORD's scrypt hash at a low work factor, made once.

    Sign-in checks the hash with the cost written in it: at the product's (N=32768,
    0.1-0.2 s) every signed-in test paid that again. The check is the same code;
    tests/domain/test_models.py covers the product's own hash.
    """
    return generate_password_hash(PASSWORD, method="scrypt:1024:8:1")


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class RecordingJobs:
    """The job queue seam: remembers each enqueue instead of talking to RQ."""

    syncs: list[tuple[int, bool]] = field(default_factory=list)
    webhooks: list[int] = field(default_factory=list)

    def enqueue_sync(self, connection_id: int, full: bool = False) -> None:
        self.syncs.append((connection_id, full))

    def enqueue_webhook(self, delivery_id: int) -> None:
        self.webhooks.append(delivery_id)


@pytest.fixture
def keyring() -> Iterator[crypto.Keyring]:
    ring = crypto.Keyring([Fernet.generate_key().decode()])
    previous = crypto.install(ring)
    yield ring
    crypto.install(previous)


@pytest.fixture
def database_migrated() -> bool:
    return True


@pytest.fixture
def sessions(
    database_url: str, keyring: crypto.Keyring
) -> Iterator[sessionmaker[Session]]:
    engine = db.make_engine(database_url)
    yield db.session_factory(engine)
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Any) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="TESTONLY-web-secret",
        base_url="http://127.0.0.1:5000",
        quickbooks=LedgerApp(webhook_key=QBO_VERIFIER),
        xero=LedgerApp(webhook_key=XERO_KEY),
        letters_dir=tmp_path / "letters",
    )


@pytest.fixture(autouse=True)
def _fresh_memo() -> Iterator[None]:
    from app.web import memo

    memo.forget()
    yield
    memo.forget()


@pytest.fixture
def jobs() -> RecordingJobs:
    return RecordingJobs()


@pytest.fixture
def app(
    settings: Settings, sessions: sessionmaker[Session], jobs: RecordingJobs, clock: Any
) -> Flask:
    return create_app(settings, sessions=sessions, enqueue=jobs, testing=True)


@dataclass
class Tenant:
    creditor_id: int
    admin: str
    viewer: str
    connection_id: int
    invoice_ids: list[int]
    case_id: int
    letter_step_id: int
    external_id: str


@dataclass
class World:
    a: Tenant
    b: Tenant
    rep: str
    program: str
    rep_id: int


def _tenant(session: Session, name: str, rep: User, letters: Any) -> Tenant:
    creditor = factories.creditor(session, name=name, locale="en_US")
    admin = factories.user(
        session,
        "creditor_admin",
        creditor_id=creditor.id,
        email=f"admin@{name}.example",
        name=f"{name} admin",
    )
    viewer = factories.user(
        session,
        "creditor_viewer",
        creditor_id=creditor.id,
        email=f"viewer@{name}.example",
    )
    for person in (admin, viewer):
        person.password_hash = password_hash()
    conn = factories.connection(session, creditor, company_name=f"{name} Books")
    debtor = factories.debtor(
        session, conn, name=f"{name} Customer", timezone="America/Chicago"
    )
    # The clock fixture says 2025-05-01 12:00 UTC: 2025-05-01 in New York.
    invoices = [
        factories.invoice(
            session,
            debtor,
            due_date=date(2025, 5, 1) - timedelta(days=days),
            amount_due=Decimal(amount),
            total=Decimal(amount),
        )
        for days, amount in ((45, "640.00"), (10, "75.50"), (130, "1200.00"))
    ]
    other = factories.debtor(session, conn, name=f"{name} Other Customer")
    referred = factories.invoice(
        session,
        other,
        due_date=date(2025, 3, 20),
        amount_due=Decimal("410.00"),
        total=Decimal("410.00"),
    )
    from app import cases

    case = cases.refer(
        session, creditor, other, [referred], f"user:{admin.id}", "test referral"
    )
    case.representative_id = rep.id
    letter_path = letters / f"{name}-letter.pdf"
    letter_path.parent.mkdir(parents=True, exist_ok=True)
    letter_path.write_bytes(b"%PDF-1.4\n% " + name.encode() + b" letter\n%%EOF\n")
    step = OutreachStep(
        creditor_id=creditor.id,
        case_id=case.id,
        step_number=1,
        channel="letter",
        due_at=factories_now(),
        state="sent",
        done_at=factories_now(),
        subject="first letter",
        content_path=str(letter_path),
    )
    session.add(step)
    session.flush()
    return Tenant(
        creditor.id,
        admin.email,
        viewer.email,
        conn.id,
        [i.id for i in invoices] + [referred.id],
        case.id,
        step.id,
        conn.external_id,
    )


def factories_now() -> Any:
    from app import clock

    return clock.now()


@pytest.fixture
def world(sessions: sessionmaker[Session], settings: Settings, clock: Any) -> World:
    with sessions.begin() as session:
        rep = factories.user(
            session, "representative", email="rep@care.example", name="Rita Rep"
        )
        rep.password_hash = password_hash()
        program = factories.user(
            session, "program_admin", email="boss@care.example", name="Pat Program"
        )
        program.password_hash = password_hash()
        a = _tenant(session, "alpha", rep, settings.letters_dir)
        b = _tenant(session, "bravo", rep, settings.letters_dir)
        return World(a, b, rep.email, program.email, rep.id)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """A CSRF token for the client's current session, read from a rendered form."""
    page = client.get(path)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no csrf_token field on {path} (status {page.status_code})"
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> FlaskClient:
    token = csrf_token(client)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def choose_creditor(client: FlaskClient, creditor_id: int) -> None:
    token = csrf_token(client, "/admin/creditors")
    response = client.post(
        "/admin/creditors/choose",
        data={"creditor_id": creditor_id, "csrf_token": token},
    )
    assert response.status_code == 302


@pytest.fixture
def as_admin_a(app: Flask, world: World) -> FlaskClient:
    return sign_in(app.test_client(), world.a.admin)


def count(sessions: sessionmaker[Session], model: Any, *where: Any) -> int:
    with sessions() as session:
        return int(
            session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
            or 0
        )


__all__ = ["Creditor", "ReferralCase", "count"]
