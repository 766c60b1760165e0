"""Tokens at rest: encrypted in the columns, readable under rotated keys."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session

from app import crypto
from app.config import Settings
from app.models import LedgerConnection
from tests.domain import factories

ACCESS = "TESTONLY-access-eyJhbGciOiJSUzI1NiJ9-AT1"
REFRESH = "TESTONLY-refresh-RT-A-0001"


def _connection(session: Session) -> LedgerConnection:
    conn = factories.connection(
        session,
        factories.creditor(session),
        access_token=ACCESS,
        refresh_token=REFRESH,
        expires_at=datetime(2025, 5, 1, 13, tzinfo=UTC),
    )
    session.commit()
    return conn


def _raw(session: Session, conn_id: int) -> tuple[str, str]:
    row = session.execute(
        sa.text(
            "SELECT access_token, refresh_token FROM ledger_connections WHERE id = :id"
        ),
        {"id": conn_id},
    ).one()
    return row[0], row[1]


def test_raw_token_columns_hold_no_token_text(session: Session) -> None:
    conn = _connection(session)
    access, refresh = _raw(session, conn.id)
    for raw in (access, refresh):
        assert "TESTONLY" not in raw and "RT-A" not in raw and "eyJhbGci" not in raw
    session.expunge_all()
    loaded = session.get(LedgerConnection, conn.id)
    assert loaded is not None
    assert (loaded.access_token, loaded.refresh_token) == (ACCESS, REFRESH)


def test_same_token_encrypts_differently_each_time(keyring: crypto.Keyring) -> None:
    assert keyring.encrypt(ACCESS) != keyring.encrypt(ACCESS)


def test_rotation_reads_old_rows_and_rewrites_them_under_the_new_key(
    session: Session,
) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    crypto.install(crypto.Keyring([old_key]))
    conn = _connection(session)
    before = _raw(session, conn.id)

    crypto.install(crypto.Keyring([new_key, old_key]))
    session.expunge_all()
    assert session.get(LedgerConnection, conn.id).access_token == ACCESS  # type: ignore[union-attr]
    rewritten = crypto.rotate(session)
    session.commit()

    assert rewritten == 2  # access + refresh; no id_token or PKCE verifier stored
    assert _raw(session, conn.id) != before
    # Only the new key is needed from now on; the old one alone no longer reads.
    crypto.install(crypto.Keyring([new_key]))
    session.expunge_all()
    assert session.get(LedgerConnection, conn.id).refresh_token == REFRESH  # type: ignore[union-attr]
    crypto.install(crypto.Keyring([old_key]))
    session.expunge_all()
    with pytest.raises(crypto.CryptoError, match="cannot be decrypted"):
        session.get(LedgerConnection, conn.id)


def test_newest_key_encrypts() -> None:
    new, old = Fernet.generate_key(), Fernet.generate_key()
    token = crypto.Keyring([new.decode(), old.decode()]).encrypt("secret")
    assert Fernet(new).decrypt(token.encode()) == b"secret"
    with pytest.raises(Exception):  # noqa: B017 - any failure: old key must not read
        Fernet(old).decrypt(token.encode())


def test_a_bad_key_is_named_by_position() -> None:
    with pytest.raises(
        crypto.CryptoError, match="encryption key 2 is not a Fernet key"
    ):
        crypto.Keyring([Fernet.generate_key().decode(), "not-a-key"])


def test_development_derives_a_deterministic_key_and_warns(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(
        data_dir=Path("data"), secret_key="dev-only-secret-key-change-me"
    )
    with caplog.at_level(logging.WARNING, logger="app.crypto"):
        first = crypto.keyring_from(settings)
    second = crypto.keyring_from(settings)
    assert "development key" in caplog.text
    assert second.decrypt(first.encrypt("hello")) == "hello"
    assert crypto.dev_key("a") != crypto.dev_key("b")


def test_production_without_keys_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/care")
    settings = Settings(secret_key="a-real-production-secret")
    with pytest.raises(crypto.CryptoError, match="CARE_ENCRYPTION_KEYS is required"):
        crypto.keyring_from(settings)
