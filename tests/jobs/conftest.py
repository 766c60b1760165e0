"""A whole CARE back end for job tests: a sandbox ledger, SMTP, a database, workers.

Workers run as separate processes (`care worker --burst`) on the test's Redis, with
the simulated clock kept in Redis so the sandbox, the test and every worker agree.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from app import clock as clock_mod
from connectors.base import TokenSet
from connectors.sandbox.quickbooks import QuickBooksSandbox
from connectors.sandbox.quickbooks.sandbox import DEFAULT_REDIRECT
from connectors.sandbox.smtp import MailSink
from jobs import runtime as runtime_mod

START = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
REALM = "9130354426181920"
VERIFIER = "TESTONLY-intuit-verifier-token-41aa"


@dataclass
class Backend:
    sandbox: QuickBooksSandbox
    url: str
    clock: clock_mod.RedisClock
    inbox: MailSink
    letters: Path
    env: dict[str, str]
    creditor_id: int = 0
    connection_id: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def run_workers(self, timeout: float = 120) -> None:
        """Run one `care worker --burst` process until the queues are empty."""
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", "worker", "--burst"],
            env=self.env,
            capture_output=True,
            timeout=timeout,
            text=True,
        )
        self.extra.setdefault("worker_logs", []).append(done.stderr)
        if done.returncode != 0:
            raise AssertionError(f"worker failed:\n{done.stderr[-4000:]}")

    def advance(self, days: int = 0, hours: int = 0) -> None:
        self.clock.advance(timedelta(days=days, hours=hours))


@pytest.fixture
def database_migrated() -> bool:
    return True


@pytest.fixture
def backend(tmp_path, redis, redis_url, database_url, monkeypatch) -> Iterator[Backend]:
    shared = clock_mod.RedisClock(redis)
    shared.set(START)
    previous = clock_mod.set_clock(shared)

    # Webhooks queue up for the test to deliver (nothing listens on the URL).
    sandbox = QuickBooksSandbox(
        clock=shared,
        seed=0,
        rate_limits=True,
        verifier_token=VERIFIER,
        webhook_url="http://127.0.0.1:9/webhooks/quickbooks",
    )
    sandbox.add_company(
        {"CompanyName": "Harbour Lights Catering", "Country": "US"},
        {"CurrencyPrefs": {"HomeCurrency": {"value": "USD"}}},
        REALM,
        timezone="America/New_York",
    )
    server = sandbox.start(webhooks_in_background=False)
    inbox = MailSink().start()

    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CARE_CLOCK": "redis",
        "CARE_DATA_DIR": str(tmp_path / "data"),
        "CARE_LETTERS_DIR": str(tmp_path / "letters"),
        "CARE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SECRET_KEY": "test-secret-key",
        "QBO_CLIENT_ID": sandbox.client_id,
        "QBO_CLIENT_SECRET": sandbox.client_secret,
        "QBO_REDIRECT_URI": DEFAULT_REDIRECT,
        "QBO_DISCOVERY_URL": f"{server.url}/.well-known/openid_configuration",
        "QBO_API_BASE": f"{server.url}/v3",
        "QBO_WEBHOOK_KEY": VERIFIER,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(inbox.port),
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runtime_mod.runtime.cache_clear()
    from app import crypto

    crypto.install(None)

    yield Backend(
        sandbox=sandbox,
        url=server.url,
        clock=shared,
        inbox=inbox,
        letters=tmp_path / "letters",
        env={**os.environ, **env, "PYTHONPATH": os.getcwd()},
    )
    inbox.stop()
    server.stop()
    runtime_mod.runtime.cache_clear()
    crypto.install(None)
    clock_mod.set_clock(previous)


def connect_creditor(backend: Backend) -> None:
    """A creditor with one representative, connected to the sandbox company."""
    from app import tokens
    from app.models import Creditor, User

    rt = runtime_mod.runtime()
    issued = backend.sandbox.issue_tokens(REALM)
    with rt.sessions.begin() as session:
        creditor = Creditor(
            name="Harbour Lights Catering",
            home_currency="USD",
            timezone="America/New_York",
            country="US",
        )
        session.add(creditor)
        session.flush()
        rep = User(email="ana@care.example", name="Ana Reyes", role="representative")
        session.add(rep)
        row = tokens.connect(
            session,
            creditor_id=creditor.id,
            ledger="quickbooks",
            external_id=REALM,
            tokens=TokenSet(
                access_token=issued["access_token"],
                refresh_token=issued["refresh_token"],
                expires_at=clock_mod.now() + timedelta(seconds=3600),
            ),
            who="system:test",
            company_name="Harbour Lights Catering",
        )
        backend.creditor_id, backend.connection_id = creditor.id, row.id
