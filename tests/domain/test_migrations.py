"""The migrations: one head, reversible, and in step with the models."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app import db
from app.models import Base


@pytest.fixture
def database_migrated() -> bool:
    """An empty database: these tests run the migrations themselves."""
    return False


def _tables(url: str) -> set[str]:
    engine = db.make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _revision(url: str) -> str | None:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _head() -> str:
    head = ScriptDirectory.from_config(
        db.alembic_config("sqlite://")
    ).get_current_head()
    assert head is not None
    return head


def test_there_is_exactly_one_head() -> None:
    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_every_revision_is_named_titled_and_reversible() -> None:
    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    for revision in script.walk_revisions():
        path = revision.path
        assert path.rsplit("/", 1)[-1].startswith(f"{revision.revision}_")
        assert revision.doc and revision.doc.strip(), f"{path} has no title"
        source = open(path, encoding="utf-8").read()
        assert "def downgrade() -> None:" in source
        assert "from app" not in source and "import app" not in source


def test_upgrade_downgrade_upgrade_round_trip(database_url: str) -> None:
    expected = set(Base.metadata.tables)

    db.upgrade(database_url)
    assert _tables(database_url) == expected
    assert _revision(database_url) == _head()

    db.downgrade(database_url, "base")
    assert _tables(database_url) == set()
    assert _revision(database_url) is None

    db.upgrade(database_url)
    assert _tables(database_url) == expected
    assert _revision(database_url) == _head()


def test_stepping_down_one_revision_keeps_the_rows(database_url: str) -> None:
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    rows = {
        "creditors": "INSERT INTO creditors (id, name, home_currency, timezone, locale,"
        " rules, cadence, fee_rate, active, created_at, updated_at) VALUES (1, 'A',"
        " 'USD', 'UTC', 'en_US', '{}', '{}', 1000000, true, :at, :at)",
        "ledger_connections": "INSERT INTO ledger_connections (id, creditor_id, ledger,"
        " external_id, company_name, status, scopes, sync_state, sync_progress,"
        " api_calls, api_calls_day, created_at, updated_at) VALUES (1, 1, 'xero', 't',"
        " '', 'connected', '[]', 'idle', '{}', 0, 0, :at, :at)",
        "debtors": "INSERT INTO debtors (id, creditor_id, connection_id, ledger_id,"
        " name, emails, phones, tags, strategic, sms_consent, opted_out, active,"
        " deleted, placeholder, created_at, updated_at) VALUES (1, 1, 1, '64', 'D',"
        " '[]', '[]', '[]', false, false, false, true, false, false, :at, :at)",
    }
    try:
        with engine.begin() as connection:
            for statement in rows.values():
                connection.execute(sa.text(statement), {"at": "2025-05-01 12:00:00"})
    finally:
        engine.dispose()

    db.downgrade(database_url, "0001")

    engine = db.make_engine(database_url)
    try:
        with engine.connect() as connection:
            for table in rows:
                count = connection.execute(sa.text(f"SELECT count(*) FROM {table}"))
                assert count.scalar() == 1, table
            columns = {c["name"] for c in sa.inspect(connection).get_columns("debtors")}
            assert "seen_at" not in columns
    finally:
        engine.dispose()


def test_models_match_migrations(database_url: str) -> None:
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True}
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


@pytest.mark.parametrize(
    "verb", ["UPDATE audit_log SET why = 'x'", "DELETE FROM audit_log"]
)
def test_database_refuses_to_change_the_audit_log(database_url: str, verb: str) -> None:
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO audit_log (at, who, entity, entity_id, action, why,"
                    " detail) VALUES (:at, 'user:1', 'case', '1', 'create', '', '{}')"
                ),
                {"at": "2025-05-01 12:00:00.000000"},
            )
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(sa.text(verb))
    finally:
        engine.dispose()
