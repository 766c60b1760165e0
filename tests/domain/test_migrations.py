"""The migrations: one head, reversible, and in step with the models."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app import db
from app.models import Base


def _tables(url: str) -> set[str]:
    engine = db.make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


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

    db.downgrade(database_url, "base")
    assert _tables(database_url) == set()

    db.upgrade(database_url)
    assert _tables(database_url) == expected


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
