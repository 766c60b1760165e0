"""`care migrate` upgrades to head and steps down with --down."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from cryptography.fernet import Fernet

from app import crypto, db, tokens
from app.cli import main
from app.db_cli import sa_safe
from connectors.base import TokenSet
from tests.domain import factories


@pytest.fixture
def database_migrated() -> bool:
    """An empty database: these tests run the migrations themselves."""
    return False


def _revision(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(
                sa.text("SELECT version_num FROM alembic_version")
            ).scalar()
    finally:
        engine.dispose()


def test_migrate_upgrades_then_downgrades(database_url: str) -> None:
    runner = CliRunner()
    up = runner.invoke(main, ["migrate", "--url", database_url])
    assert up.exit_code == 0, up.output
    assert "upgraded" in up.output and "to head" in up.output
    head = ScriptDirectory.from_config(
        db.alembic_config(database_url)
    ).get_current_head()
    assert _revision(database_url) == head

    down = runner.invoke(main, ["migrate", "--url", database_url, "--down", "0001"])
    assert down.exit_code == 0, down.output
    assert _revision(database_url) == "0001"


def test_printed_url_hides_the_password() -> None:
    masked = sa_safe("postgresql://care:s3cret@db.example/care")
    assert "s3cret" not in masked and "***" in masked


def test_migrate_rotate_keys_re_encrypts_stored_tokens(
    database_url: str,
    monkeypatch,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    previous = crypto.install(crypto.Keyring([old]))
    try:
        db.upgrade(database_url)
        engine = db.make_engine(database_url)
        with db.session_scope(db.session_factory(engine)) as session:
            tokens.connect(
                session,
                creditor_id=factories.creditor(session).id,
                ledger="xero",
                external_id="7d2f0c8a",
                tokens=TokenSet("XA-1", "XR-1", datetime(2025, 5, 1, tzinfo=UTC)),
                who="user:1",
            )
        # The deploy adds the new key first; the process reads keys from settings.
        crypto.install(None)
        monkeypatch.setenv("CARE_ENCRYPTION_KEYS", f"{new},{old}")
        result = CliRunner().invoke(
            main, ["migrate", "--url", database_url, "--rotate-keys"]
        )
        assert result.exit_code == 0, result.output
        assert "re-encrypted 2 stored secrets" in result.output

        crypto.install(crypto.Keyring([new]))  # the old key can now be retired
        with engine.connect() as connection:
            raw = connection.execute(
                sa.text("SELECT refresh_token FROM ledger_connections")
            ).scalar_one()
        assert crypto.keyring().decrypt(raw) == "XR-1"
        engine.dispose()
    finally:
        crypto.install(previous)
